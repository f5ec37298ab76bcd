-- Constraints of tables in scope (domain constraints are in types.sql). The loader keeps those
-- of the relations it loaded, names the attnum arrays (conkey / confkey, in key order) and the
-- referenced table from what it loaded, and orders them by table and name. index_oid: the index
-- a PRIMARY KEY / UNIQUE / EXCLUDE constraint is backed by (for a foreign key, conindid is the
-- referenced table's index; the loader ignores it).
--
-- definition: NULL for primary keys, and for foreign keys without ON DELETE SET NULL / SET
-- DEFAULT (which may name columns on PG 15+), on PG 13-17: the loader spells those exactly as
-- pg_get_constraintdef does (ref_visible: whether the referenced table is visible in the search
-- path, which decides whether pg_get_constraintdef qualifies its name). They are nearly all
-- constraints, and pg_get_constraintdef costs several microseconds each. The loader's tests
-- compare the two on every constraint they create.
--
-- Left out: the clones PostgreSQL adds on the referencing table for each partition of a
-- referenced partitioned table (conparentid pointing at a constraint of the same table); they
-- duplicate the declared foreign key. Partitions' own clones of their parent's constraints stay.
SELECT
    con.oid,
    con.conname::text AS name,
    con.conrelid AS table_oid,
    con.contype::text AS kind,
    con.conkey AS key_attnums,
    CASE WHEN (con.contype = 'p' OR (con.contype = 'f' AND con.confdeltype NOT IN ('n', 'd')))
              AND (SELECT pg_catalog.current_setting('server_version_num')::int4) BETWEEN 130000 AND 179999
         THEN NULL
         ELSE pg_catalog.pg_get_constraintdef(con.oid)
    END AS definition,
    con.convalidated AS validated,
    con.condeferrable AS deferrable,
    con.condeferred AS deferred,
    con.conindid AS index_oid,
    CASE WHEN con.contype = 'f' THEN con.confrelid END AS ref_table,
    CASE WHEN con.contype = 'f' THEN pg_catalog.pg_table_is_visible(con.confrelid) END AS ref_visible,
    con.confkey AS ref_attnums,
    con.confdeltype::text AS on_delete,
    con.confupdtype::text AS on_update,
    con.confmatchtype::text AS match_type
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_namespace n ON n.oid = con.connamespace
WHERE con.conrelid <> 0
  AND n.nspname <> 'pg_catalog'
  AND n.nspname <> 'information_schema'
  AND n.nspname <> 'pg_toast'
  AND n.nspname NOT LIKE 'pg\_temp\_%'
  AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
  AND (con.contype <> 'f'
       OR con.conparentid = 0
       OR (SELECT parent.conrelid FROM pg_catalog.pg_constraint parent
           WHERE parent.oid = con.conparentid) <> con.conrelid)
ORDER BY con.conrelid, con.oid
