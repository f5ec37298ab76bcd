-- Live statistics only: activity counters of user tables.
SELECT
    s.relid AS table_oid,
    COALESCE(s.n_live_tup, 0)::int8 AS live_rows,
    COALESCE(s.n_dead_tup, 0)::int8 AS dead_rows,
    COALESCE(s.seq_scan, 0)::int8 AS seq_scan,
    COALESCE(s.idx_scan, 0)::int8 AS idx_scan
FROM pg_catalog.pg_stat_user_tables s
ORDER BY s.relid
