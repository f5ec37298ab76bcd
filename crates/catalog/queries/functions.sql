-- Functions, procedures, aggregates and window functions in scope, leaving out extension members,
-- dbaudit's stand-ins, and functions that implement another object (pg_depend deptype 'i': the
-- constructors PostgreSQL makes for range and multirange types). Grants: a NULL proacl means the default (EXECUTE to PUBLIC and the
-- owner), exploded explicitly. source: prosrc for SQL and PL/pgSQL; a SQL function with a
-- BEGIN ATOMIC body has an empty prosrc, so it gets pg_get_functiondef instead.
SELECT
    p.oid,
    n.nspname::text AS schema,
    p.proname::text AS name,
    pg_catalog.pg_get_function_identity_arguments(p.oid) AS identity_args,
    pg_catalog.pg_get_function_result(p.oid) AS result,
    p.prokind::text AS kind,
    l.lanname::text AS language,
    p.prosecdef AS security_definer,
    p.provolatile::text AS volatility,
    p.proleakproof AS leakproof,
    p.proconfig AS config,
    pg_catalog.pg_get_userbyid(p.proowner)::text AS owner,
    g.grantees AS grant_grantees,
    g.privileges AS grant_privileges,
    g.grantable AS grant_grantable,
    CASE
        WHEN l.lanname = 'sql' AND p.prosrc = '' THEN pg_catalog.pg_get_functiondef(p.oid)
        WHEN l.lanname IN ('sql', 'plpgsql') THEN p.prosrc
    END AS source,
    (SELECT d.description FROM pg_catalog.pg_description d
     WHERE d.objoid = p.oid
       AND d.classoid = 'pg_catalog.pg_proc'::pg_catalog.regclass
       AND d.objsubid = 0) AS comment
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
LEFT JOIN pg_catalog.pg_language l ON l.oid = p.prolang
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
        FROM pg_catalog.aclexplode(COALESCE(p.proacl, pg_catalog.acldefault('f', p.proowner))) x
        GROUP BY 1, 2
    ) e
) g ON true
WHERE n.nspname <> 'pg_catalog'
  AND n.nspname <> 'information_schema'
  AND n.nspname <> 'pg_toast'
  AND n.nspname NOT LIKE 'pg\_temp\_%'
  AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
  AND p.oid NOT IN (
      SELECT ext.objid FROM pg_catalog.pg_depend ext
      WHERE ext.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
        AND ext.deptype = 'e'
        AND ext.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
  )
  AND p.oid NOT IN (
      SELECT dep.objid FROM pg_catalog.pg_depend dep
      WHERE dep.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
        AND dep.deptype = 'i'
  )
  AND p.oid NOT IN (
      SELECT sd.objoid FROM pg_catalog.pg_description sd
      WHERE sd.classoid = 'pg_catalog.pg_proc'::pg_catalog.regclass
        AND sd.objsubid = 0
        AND sd.description LIKE 'dbaudit stand-in%'
  )
ORDER BY n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid) COLLATE "C", p.oid
