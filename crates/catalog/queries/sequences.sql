-- Sequences in scope, leaving out extension members and dbaudit's stand-ins. owner_table /
-- owner_attnum: the column that owns the sequence (OWNED BY / serial: deptype 'a'; identity
-- columns: deptype 'i'); the loader names it from columns.sql.
SELECT
    c.oid,
    n.nspname::text AS schema,
    c.relname::text AS name,
    pg_catalog.format_type(s.seqtypid, NULL) AS data_type,
    s.seqmax AS max_value,
    s.seqincrement AS increment,
    own.refobjid AS owner_table,
    own.refobjsubid::int2 AS owner_attnum
FROM pg_catalog.pg_sequence s
JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN LATERAL (
    SELECT dep.refobjid, dep.refobjsubid
    FROM pg_catalog.pg_depend dep
    WHERE dep.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND dep.objid = c.oid
      AND dep.objsubid = 0
      AND dep.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND dep.refobjsubid > 0
      AND dep.deptype IN ('a', 'i')
    LIMIT 1
) own ON true
WHERE c.relkind = 'S'
  AND n.nspname <> 'pg_catalog'
  AND n.nspname <> 'information_schema'
  AND n.nspname <> 'pg_toast'
  AND n.nspname NOT LIKE 'pg\_temp\_%'
  AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
  AND c.oid NOT IN (
      SELECT ext.objid FROM pg_catalog.pg_depend ext
      WHERE ext.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
        AND ext.deptype = 'e'
        AND ext.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
  )
  AND c.oid NOT IN (
      SELECT sd.objoid FROM pg_catalog.pg_description sd
      WHERE sd.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass
        AND sd.objsubid = 0
        AND sd.description LIKE 'dbaudit stand-in%'
  )
ORDER BY c.oid
