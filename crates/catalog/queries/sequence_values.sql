-- Live statistics only: the last value of the in-scope sequences that can run out, computed as
-- pg_sequences.last_value is (NULL when the sequence was never used or the current user lacks
-- SELECT/USAGE on it). Not through the view itself: the planner evaluates the view's last_value
-- for every sequence before this query's filter applies.
--
-- Reading a sequence locks it (RowExclusiveLock) until the transaction ends, and every lock takes
-- a slot of the server's shared lock table (max_locks_per_transaction x max_connections, 6,400
-- by default): on a schema-per-tenant database with tens of thousands of sequences, reading all
-- of them would fail the load with "out of shared memory". So only sequences that can plausibly
-- run out are read: smallint/integer sequences, sequences with a MAXVALUE within the integer
-- range, and sequences that feed a smallint/integer column (a default nextval(...), OWNED BY, or
-- an identity). A bigint sequence feeding bigint columns (bigserial, bigint identity) is left
-- out: it does not run out.
WITH candidates AS (
    SELECT s.seqrelid AS oid
    FROM pg_catalog.pg_sequence s
    WHERE s.seqtypid IN ('pg_catalog.int2'::pg_catalog.regtype, 'pg_catalog.int4'::pg_catalog.regtype)
       OR s.seqmax <= 2147483647
    UNION
    SELECT dep.refobjid
    FROM pg_catalog.pg_depend dep
    JOIN pg_catalog.pg_attrdef ad ON ad.oid = dep.objid
    JOIN pg_catalog.pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
    WHERE dep.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass
      AND dep.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND a.atttypid IN ('pg_catalog.int2'::pg_catalog.regtype, 'pg_catalog.int4'::pg_catalog.regtype)
    UNION
    SELECT dep.objid
    FROM pg_catalog.pg_depend dep
    JOIN pg_catalog.pg_sequence s ON s.seqrelid = dep.objid
    JOIN pg_catalog.pg_attribute a ON a.attrelid = dep.refobjid AND a.attnum = dep.refobjsubid
    WHERE dep.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND dep.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND dep.deptype IN ('a', 'i')
      AND a.atttypid IN ('pg_catalog.int2'::pg_catalog.regtype, 'pg_catalog.int4'::pg_catalog.regtype)
)
SELECT
    c.oid,
    CASE WHEN pg_catalog.has_sequence_privilege(c.oid, 'SELECT,USAGE')
         THEN pg_catalog.pg_sequence_last_value(c.oid::pg_catalog.regclass)
    END AS last_value
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'S'
  AND c.oid IN (SELECT candidates.oid FROM candidates)
  AND n.nspname <> 'pg_catalog'
  AND n.nspname <> 'information_schema'
  AND n.nspname <> 'pg_toast'
  AND n.nspname NOT LIKE 'pg\_temp\_%'
  AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
ORDER BY c.oid
