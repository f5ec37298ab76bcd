-- Sent first: settings for the rest of the transaction (set_config(..., true) is SET LOCAL),
-- returning the previous values, which settings_restore.sql puts back when the load is done.
--  * jit off: the catalog queries' cost estimates (sums of per-row sub-plans over thousands of
--    rows) cross jit_above_cost on large schemas, and compiling them costs far more than
--    running them.
--  * work_mem 64MB: sorting 10,000+ wide rows (definitions, expressions) in the default 4MB
--    spills to disk, which costs more than the rest of such a query.
--  * no parallel workers, except where policies.sql asks for them: starting workers costs more
--    than these scans, and sub-plans keep most of them in the leader anyway. The cost settings
--    make a parallel plan the planner's choice when policies.sql allows one.
SELECT
    pg_catalog.current_setting('jit') AS jit,
    pg_catalog.current_setting('work_mem') AS work_mem,
    pg_catalog.current_setting('max_parallel_workers_per_gather') AS max_parallel_workers_per_gather,
    pg_catalog.current_setting('parallel_setup_cost') AS parallel_setup_cost,
    pg_catalog.current_setting('parallel_tuple_cost') AS parallel_tuple_cost,
    pg_catalog.current_setting('min_parallel_table_scan_size') AS min_parallel_table_scan_size,
    pg_catalog.set_config('jit', 'off', true) AS new_jit,
    pg_catalog.set_config('work_mem', '64MB', true) AS new_work_mem,
    pg_catalog.set_config('max_parallel_workers_per_gather', '0', true) AS new_max_parallel_workers_per_gather,
    pg_catalog.set_config('parallel_setup_cost', '0', true) AS new_parallel_setup_cost,
    pg_catalog.set_config('parallel_tuple_cost', '0', true) AS new_parallel_tuple_cost,
    pg_catalog.set_config('min_parallel_table_scan_size', '0', true) AS new_min_parallel_table_scan_size
