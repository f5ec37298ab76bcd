-- Live statistics only: scans per user index.
SELECT
    s.indexrelid AS index_oid,
    COALESCE(s.idx_scan, 0)::int8 AS idx_scan
FROM pg_catalog.pg_stat_user_indexes s
ORDER BY s.indexrelid
