-- What policies' USING / WITH CHECK expressions reference according to pg_depend: functions
-- (pg_proc) and relations (pg_class, whole or a column). Only user objects appear: built-ins are
-- pinned and never recorded. Normal dependencies only: a policy's automatic dependency on its
-- own table is not a reference (column references to its own table still appear; the loader
-- leaves the own table out). The loader names the objects from what it loaded (functions.sql,
-- relations.sql) and asks object_names.sql for the rest, and sorts and deduplicates per policy.
SELECT
    dep.objid AS policy,
    dep.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass AS is_function,
    dep.refobjid AS ref_oid
FROM pg_catalog.pg_depend dep
WHERE dep.classid = 'pg_catalog.pg_policy'::pg_catalog.regclass
  AND dep.refclassid IN ('pg_catalog.pg_proc'::pg_catalog.regclass,
                         'pg_catalog.pg_class'::pg_catalog.regclass)
  AND dep.deptype = 'n'
ORDER BY dep.objid, dep.refclassid, dep.refobjid, dep.refobjsubid
