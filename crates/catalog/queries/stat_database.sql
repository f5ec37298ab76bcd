-- Live statistics only: when this database's statistics were last reset (NULL if never).
SELECT
    s.stats_reset::text AS stats_reset
FROM pg_catalog.pg_stat_database s
WHERE s.datname = pg_catalog.current_database()
ORDER BY s.datid
