-- The default btree operator class of each type (what pg_get_indexdef leaves unsaid), for the
-- loader's spelling of plain indexes (see indexes.sql).
SELECT
    oc.oid,
    oc.opcintype AS type_oid
FROM pg_catalog.pg_opclass oc
JOIN pg_catalog.pg_am am ON am.oid = oc.opcmethod
WHERE am.amname = 'btree'
  AND oc.opcdefault
ORDER BY oc.oid
