-- Comments on columns (COMMENT ON COLUMN). Rows of relations out of scope are ignored by the
-- loader, which matches them to the columns it loaded.
SELECT
    d.objoid AS table_oid,
    d.objsubid::int2 AS num,
    d.description AS comment
FROM pg_catalog.pg_description d
WHERE d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass
  AND d.objsubid > 0
ORDER BY d.objoid, d.objsubid
