-- Live statistics only: each in-scope sequence's last value, from pg_sequences (NULL when the
-- sequence was never used or the current user lacks SELECT/USAGE on it).
SELECT
    c.oid,
    ps.last_value
FROM pg_catalog.pg_sequences ps
JOIN pg_catalog.pg_namespace n ON n.nspname = ps.schemaname
JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = ps.sequencename
WHERE n.nspname <> 'pg_catalog'
  AND n.nspname <> 'information_schema'
  AND n.nspname <> 'pg_toast'
  AND n.nspname NOT LIKE 'pg\_temp\_%'
  AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
ORDER BY c.oid
