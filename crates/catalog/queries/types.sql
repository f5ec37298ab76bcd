-- User-defined types in scope: enums (labels in enumsortorder), domains (base type, NOT NULL, CHECK
-- definitions by constraint name), standalone composite types (not tables' row types), ranges and
-- base types. Array types, multiranges and pseudo-types are left out, and so are extension
-- members and dbaudit's stand-ins.
SELECT
    t.oid,
    n.nspname::text AS schema,
    t.typname::text AS name,
    t.typtype::text AS typtype,
    CASE WHEN t.typtype = 'e' THEN
        ARRAY(SELECT e.enumlabel::text FROM pg_catalog.pg_enum e
              WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
    END AS labels,
    CASE WHEN t.typtype = 'd' THEN pg_catalog.format_type(t.typbasetype, t.typtypmod) END AS base_type,
    t.typnotnull AS not_null,
    CASE WHEN t.typtype = 'd' THEN
        ARRAY(SELECT pg_catalog.pg_get_constraintdef(con.oid) FROM pg_catalog.pg_constraint con
              WHERE con.contypid = t.oid AND con.contype = 'c' ORDER BY con.conname, con.oid)
    END AS checks
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype IN ('e', 'd', 'c', 'r', 'b')
  -- composite: only standalone ones (CREATE TYPE ... AS), not tables' row types
  AND (t.typtype <> 'c'
       OR t.typrelid IN (SELECT rc.oid FROM pg_catalog.pg_class rc WHERE rc.relkind = 'c'))
  -- not an array type (some type's typarray)
  AND t.oid NOT IN (SELECT elem.typarray FROM pg_catalog.pg_type elem WHERE elem.typarray <> 0)
  AND n.nspname <> 'pg_catalog'
  AND n.nspname <> 'information_schema'
  AND n.nspname <> 'pg_toast'
  AND n.nspname NOT LIKE 'pg\_temp\_%'
  AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
  AND t.oid NOT IN (
      SELECT ext.objid FROM pg_catalog.pg_depend ext
      WHERE ext.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
        AND ext.deptype = 'e'
        AND ext.classid = 'pg_catalog.pg_type'::pg_catalog.regclass
  )
  AND t.oid NOT IN (
      SELECT sd.objoid FROM pg_catalog.pg_description sd
      WHERE sd.classoid = 'pg_catalog.pg_type'::pg_catalog.regclass
        AND sd.objsubid = 0
        AND sd.description LIKE 'dbaudit stand-in%'
  )
ORDER BY t.oid
