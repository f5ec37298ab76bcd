-- Tables, partitioned tables, views, materialized views and foreign tables in scope, leaving out
-- extension members (pg_depend deptype 'e') and dbaudit's stand-ins (comment 'dbaudit stand-in...').
--
-- Shape: one pass over pg_class; everything per row is an index lookup (scalar sub-selects) and
-- the exclusions are hashed sub-plans, so the plan stays linear even when the catalogs' own
-- statistics are stale (right after thousands of CREATE TABLEs, when join estimates are off by
-- orders of magnitude).
--
-- Sizes are estimates from relpages times the block size (pages: table + TOAST table; the
-- loader adds the relation's indexes from indexes.sql): pg_total_relation_size opens every table,
-- index and TOAST relation, which is slow on thousands of tables and waits behind any
-- ACCESS EXCLUSIVE lock (a running migration). relpages is what VACUUM, ANALYZE and CREATE INDEX
-- last recorded.
SELECT
    c.oid,
    n.nspname::text AS schema,
    c.relname::text AS name,
    c.relkind::text AS kind,
    pg_catalog.pg_get_userbyid(c.relowner)::text AS owner,
    c.relrowsecurity AS rls_enabled,
    c.relforcerowsecurity AS rls_forced,
    c.reltuples::float8 AS reltuples,
    -- Table and TOAST pages; the loader adds the relation's indexes (indexes.sql) and
    -- multiplies by the block size (server.sql).
    GREATEST(c.relpages, 0)::int8
        + COALESCE((SELECT GREATEST(t.relpages, 0)::int8
                    FROM pg_catalog.pg_class t
                    WHERE t.oid = c.reltoastrelid), 0) AS pages,
    c.reloptions::text[] AS reloptions,
    CASE WHEN c.relispartition THEN
        (SELECT inh.inhparent FROM pg_catalog.pg_inherits inh
         WHERE inh.inhrelid = c.oid ORDER BY inh.inhseqno LIMIT 1)
    END AS partition_of,
    CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid, true) END AS view_definition,
    CASE WHEN c.relkind IN ('v', 'm') THEN
        ARRAY(
            SELECT DISTINCT dep.refobjid
            FROM pg_catalog.pg_rewrite rw
            JOIN pg_catalog.pg_depend dep
              ON dep.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
             AND dep.objid = rw.oid
             AND dep.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
             AND dep.refobjid <> c.oid
            JOIN pg_catalog.pg_class rc ON rc.oid = dep.refobjid
            WHERE rw.ev_class = c.oid
              AND rw.rulename = '_RETURN'
              AND rc.relkind IN ('r', 'p', 'v', 'm', 'f')
            ORDER BY dep.refobjid
        )
    END AS depends_on,
    g.grantees AS grant_grantees,
    g.privileges AS grant_privileges,
    g.grantable AS grant_grantable,
    (SELECT d.description FROM pg_catalog.pg_description d
     WHERE d.objoid = c.oid
       AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass
       AND d.objsubid = 0) AS comment
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN LATERAL (
    SELECT
        pg_catalog.array_agg(e.grantee ORDER BY e.grantee COLLATE "C", e.privilege COLLATE "C") AS grantees,
        pg_catalog.array_agg(e.privilege ORDER BY e.grantee COLLATE "C", e.privilege COLLATE "C") AS privileges,
        pg_catalog.array_agg(e.grantable ORDER BY e.grantee COLLATE "C", e.privilege COLLATE "C") AS grantable
    FROM (
        SELECT
            CASE WHEN x.grantee = 0 THEN 'PUBLIC'
                 ELSE pg_catalog.pg_get_userbyid(x.grantee)::text END AS grantee,
            x.privilege_type AS privilege,
            pg_catalog.bool_or(x.is_grantable) AS grantable
        FROM pg_catalog.aclexplode(COALESCE(c.relacl, pg_catalog.acldefault('r', c.relowner))) x
        GROUP BY 1, 2
    ) e
) g ON true
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
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
      SELECT s.objoid FROM pg_catalog.pg_description s
      WHERE s.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass
        AND s.objsubid = 0
        AND s.description LIKE 'dbaudit stand-in%'
  )
ORDER BY c.oid
