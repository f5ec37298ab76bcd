-- User triggers (NOT tgisinternal: the triggers that enforce foreign keys are left out) of the
-- relations in scope. tgtype is decoded by the loader; update_attnums (tgattr, the columns of
-- UPDATE OF) are named from columns.sql.
SELECT
    t.oid,
    t.tgname::text AS name,
    t.tgrelid AS table_oid,
    fn.nspname::text || '.' || f.proname::text AS function,
    t.tgfoid AS function_oid,
    t.tgtype::int4 AS tgtype,
    t.tgenabled::text AS enabled,
    t.tgattr::pg_catalog.int2[] AS update_attnums,
    pg_catalog.pg_get_triggerdef(t.oid) AS definition
FROM pg_catalog.pg_trigger t
JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_proc f ON f.oid = t.tgfoid
JOIN pg_catalog.pg_namespace fn ON fn.oid = f.pronamespace
WHERE NOT t.tgisinternal
  AND n.nspname <> 'pg_catalog'
  AND n.nspname <> 'information_schema'
  AND n.nspname <> 'pg_toast'
  AND n.nspname NOT LIKE 'pg\_temp\_%'
  AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
ORDER BY n.nspname, c.relname, t.tgname
