-- Schemas in scope: everything but the system schemas and other sessions' temp schemas.
-- Grants: a NULL nspacl means the owner's defaults (acldefault), exploded like any ACL.
SELECT
    n.oid,
    n.nspname::text AS name,
    pg_catalog.pg_get_userbyid(n.nspowner)::text AS owner,
    g.grantees AS grant_grantees,
    g.privileges AS grant_privileges,
    g.grantable AS grant_grantable
FROM pg_catalog.pg_namespace n
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
        FROM pg_catalog.aclexplode(COALESCE(n.nspacl, pg_catalog.acldefault('n', n.nspowner))) x
        GROUP BY 1, 2
    ) e
) g ON true
WHERE n.nspname <> 'pg_catalog'
  AND n.nspname <> 'information_schema'
  AND n.nspname <> 'pg_toast'
  AND n.nspname NOT LIKE 'pg\_temp\_%'
  AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
ORDER BY n.nspname
