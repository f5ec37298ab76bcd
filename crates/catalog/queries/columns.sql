-- Columns of the relations in scope (user columns only, dropped ones left out), in attnum order.
-- The loader keeps the columns of the relations relations.sql returned, so extension members and
-- stand-ins drop out with their relation; it also uses every row to turn the attnum arrays of
-- constraints, indexes and triggers into names. Defaults and comments come from
-- column_defaults.sql and column_comments.sql (a per-column lookup here would cost more than
-- those whole queries).
--
-- grants: column-level grants (attacl; NULL means none) as a JSON array of
-- [grantee, privilege, grantable], grantee PUBLIC for 0, one entry per grantee and privilege.
--
-- domain_base: for a domain, its ultimate base type (domains over domains followed to the end,
-- with the typmod of the innermost domain) as {format_type, typcategory}.
SELECT
    a.attrelid AS table_oid,
    a.attnum AS num,
    a.attname::text AS name,
    pg_catalog.format_type(a.atttypid, a.atttypmod) AS type_name,
    a.atttypid AS type_oid,
    a.attcollation AS collation_oid,
    t.typcategory::text AS type_category,
    CASE WHEN t.typtype = 'd' THEN (
        WITH RECURSIVE chain(base, basemod, depth) AS (
            SELECT t.typbasetype, t.typtypmod, 1
            UNION ALL
            SELECT b.typbasetype, b.typtypmod, chain.depth + 1
            FROM chain
            JOIN pg_catalog.pg_type b ON b.oid = chain.base AND b.typtype = 'd'
        )
        SELECT ARRAY[pg_catalog.format_type(chain.base, chain.basemod), bt.typcategory::text]
        FROM chain
        JOIN pg_catalog.pg_type bt ON bt.oid = chain.base
        ORDER BY chain.depth DESC
        LIMIT 1
    ) END AS domain_base,
    a.attnotnull AS not_null,
    a.attidentity::text AS identity,
    a.attgenerated::text AS generated,
    CASE WHEN a.attacl IS NOT NULL THEN (
        SELECT pg_catalog.json_agg(pg_catalog.json_build_array(e.grantee, e.privilege, e.grantable)
                                   ORDER BY e.grantee COLLATE "C", e.privilege COLLATE "C")
        FROM (
            SELECT
                CASE WHEN x.grantee = 0 THEN 'PUBLIC'
                     ELSE pg_catalog.pg_get_userbyid(x.grantee)::text END AS grantee,
                x.privilege_type AS privilege,
                pg_catalog.bool_or(x.is_grantable) AS grantable
            FROM pg_catalog.aclexplode(a.attacl) x
            GROUP BY 1, 2
        ) e
    ) END AS grants
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
WHERE a.attnum > 0
  AND NOT a.attisdropped
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname <> 'pg_catalog'
  AND n.nspname <> 'information_schema'
  AND n.nspname <> 'pg_toast'
  AND n.nspname NOT LIKE 'pg\_temp\_%'
  AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
ORDER BY a.attrelid, a.attnum
