-- Second round, only when needed: schema and name of functions ($1) and relations ($2) that the
-- loader did not load (extension members, stand-ins) but policies or foreign keys reference.
SELECT
    true AS is_function,
    f.oid,
    fn.nspname::text AS schema,
    f.proname::text AS name
FROM pg_catalog.pg_proc f
JOIN pg_catalog.pg_namespace fn ON fn.oid = f.pronamespace
WHERE f.oid = ANY ($1::pg_catalog.oid[])
UNION ALL
SELECT
    false,
    r.oid,
    rn.nspname::text,
    r.relname::text
FROM pg_catalog.pg_class r
JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace
WHERE r.oid = ANY ($2::pg_catalog.oid[])
ORDER BY 1, 2
