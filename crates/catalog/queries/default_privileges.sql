-- ALTER DEFAULT PRIVILEGES entries, exploded. schema is NULL for entries that apply to every
-- schema (defaclnamespace 0).
SELECT
    pg_catalog.pg_get_userbyid(da.defaclrole)::text AS role,
    n.nspname::text AS schema,
    da.defaclobjtype::text AS object_type,
    g.grantees AS grant_grantees,
    g.privileges AS grant_privileges,
    g.grantable AS grant_grantable
FROM pg_catalog.pg_default_acl da
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = da.defaclnamespace
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
        FROM pg_catalog.aclexplode(da.defaclacl) x
        GROUP BY 1, 2
    ) e
) g ON true
WHERE da.defaclnamespace = 0
   OR (n.nspname <> 'pg_catalog'
       AND n.nspname <> 'information_schema'
       AND n.nspname <> 'pg_toast'
       AND n.nspname NOT LIKE 'pg\_temp\_%'
       AND n.nspname NOT LIKE 'pg\_toast\_temp\_%')
ORDER BY pg_catalog.pg_get_userbyid(da.defaclrole)::text COLLATE "C", n.nspname NULLS FIRST, da.defaclobjtype
