-- Second round, only when needed: pg_get_constraintdef of the constraints the loader could not
-- spell itself (see constraints.sql). $1: the constraint oids.
SELECT
    x.oid,
    pg_catalog.pg_get_constraintdef(x.oid) AS definition
FROM pg_catalog.unnest($1::pg_catalog.oid[]) AS x(oid)
ORDER BY x.oid
