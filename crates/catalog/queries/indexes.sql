-- Indexes in scope. The loader keeps those of the relations it loaded, orders them by table and
-- name, and names the attnum arrays from columns.sql: the first key_count entries of attnums are
-- the key (0 where the key is an expression), the rest are INCLUDE columns. The size is relpages
-- (pages) times the block size (see relations.sql for why not pg_relation_size). The constraint
-- an index backs comes from constraints.sql (conindid).
--
-- definition: pg_get_indexdef is the costliest catalog function there is (for every key column
-- it scans pg_opclass for the type's default operator class, and it opens the table): about
-- 40 us an index, most of a second on 10,000 indexes. So it is called here only for indexes
-- that are not plain candidates, and definition is NULL for the candidates: a btree (not a
-- partitioned table's, whose definition says ON ONLY) on plain columns, ASC NULLS LAST, with no
-- predicate, no storage options, the default tablespace, and not a non-primary UNIQUE index
-- (which may carry NULLS NOT DISTINCT on PG 15+). The loader spells a candidate exactly as
-- pg_get_indexdef does when each key column also has its own type's default operator class
-- (opclasses, checked against default_opclasses.sql) and the column's collation (collations);
-- for the rest it asks index_definitions.sql. The loader's tests compare the two on every
-- index they create.
SELECT
    i.indexrelid AS oid,
    ic.relname::text AS name,
    i.indrelid AS table_oid,
    i.indnkeyatts::int4 AS key_count,
    i.indkey::pg_catalog.int2[] AS attnums,
    i.indclass::pg_catalog.oid[] AS opclasses,
    i.indcollation::pg_catalog.oid[] AS collations,
    pg_catalog.pg_get_expr(i.indexprs, i.indrelid) AS expressions,
    pg_catalog.pg_get_expr(i.indpred, i.indrelid) AS predicate,
    i.indisunique AS is_unique,
    i.indisprimary AS is_primary,
    i.indisvalid AS is_valid,
    i.indisready AS is_ready,
    am.amname::text AS method,
    CASE WHEN am.amname = 'btree'
              AND ic.relkind = 'i'
              AND i.indexprs IS NULL
              AND i.indpred IS NULL
              AND ic.reloptions IS NULL
              AND ic.reltablespace = 0
              AND (NOT i.indisunique OR i.indisprimary)
              AND i.indoption::pg_catalog.int2[] OPERATOR(pg_catalog.<@) '{0}'::pg_catalog.int2[]
         THEN NULL
         ELSE pg_catalog.pg_get_indexdef(i.indexrelid)
    END AS definition,
    GREATEST(ic.relpages, 0)::int8 AS pages
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace
LEFT JOIN pg_catalog.pg_am am ON am.oid = ic.relam
WHERE n.nspname <> 'pg_catalog'
  AND n.nspname <> 'information_schema'
  AND n.nspname <> 'pg_toast'
  AND n.nspname NOT LIKE 'pg\_temp\_%'
  AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
ORDER BY i.indrelid, i.indexrelid
