-- Row-level security policies. Three statements, sent as one simple query (so they run in this
-- order, and the settings apply to the second only; results come back as text).
--
-- Deparsing policy expressions is the costliest part of a catalog load: pg_get_expr opens each
-- policy's table (building its relcache entry, which parses all its policies) and parses and
-- deparses each expression; tens of microseconds a policy. It is the one query that parallel
-- workers help (the deparsing happens in the workers: every function here is parallel safe), so
-- on catalogs with many policies it may use up to two of them (PostgreSQL's default
-- max_parallel_workers_per_gather); settings.sql has made a parallel plan the cheaper one.
--
-- The loader keeps the policies of the relations it loaded (which gives them their schema and
-- table name), names role_oids (0 is PUBLIC), and orders them by table and name. What the
-- expressions reference comes from policy_references.sql.
SELECT pg_catalog.set_config(
    'max_parallel_workers_per_gather',
    CASE WHEN (SELECT pg_catalog.count(*) FROM pg_catalog.pg_policy) >= 1000 THEN '2' ELSE '0' END,
    true) AS parallel_workers;

SELECT
    pol.oid,
    pol.polrelid AS table_oid,
    pol.polname AS name,
    pol.polcmd AS command,
    pol.polpermissive AS permissive,
    pol.polroles AS role_oids,
    pg_catalog.pg_get_expr(pol.polqual, pol.polrelid) AS using_expr,
    pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid) AS with_check_expr
FROM pg_catalog.pg_policy pol
ORDER BY pol.polrelid, pol.oid;

SELECT pg_catalog.set_config('max_parallel_workers_per_gather', '0', true) AS parallel_workers;
