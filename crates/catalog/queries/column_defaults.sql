-- Column defaults and generation expressions (pg_attrdef). The loader attaches them to the
-- columns it loaded.
--
-- pg_get_expr needs the table only to name columns, and with a table it opens it (building its
-- relcache entry: on thousands of tables, most of the cost). A default that references no column
-- (nearly all: now(), nextval(...), constants) is deparsed without it, to the same text. The
-- node-tree text of an expression that references a column contains a {VAR node.
SELECT
    ad.adrelid AS table_oid,
    ad.adnum AS num,
    CASE WHEN ad.adbin::text LIKE '%{VAR %'
         THEN pg_catalog.pg_get_expr(ad.adbin, ad.adrelid)
         ELSE pg_catalog.pg_get_expr(ad.adbin, 0)
    END AS default_expr
FROM pg_catalog.pg_attrdef ad
ORDER BY ad.adrelid, ad.adnum
