-- Second round, only when needed: pg_get_indexdef of the plain-candidate indexes the loader
-- could not spell itself (a key column whose operator class or collation is not its own type's
-- default, e.g. a varchar column under text_ops). $1: the index oids.
SELECT
    x.oid,
    pg_catalog.pg_get_indexdef(x.oid) AS definition
FROM pg_catalog.unnest($1::pg_catalog.oid[]) AS x(oid)
ORDER BY x.oid
