-- Sent last: puts back what settings.sql changed ($1..$6: the values it returned, in its order).
SELECT
    pg_catalog.set_config('jit', $1::text, true) AS jit,
    pg_catalog.set_config('work_mem', $2::text, true) AS work_mem,
    pg_catalog.set_config('max_parallel_workers_per_gather', $3::text, true) AS max_parallel_workers_per_gather,
    pg_catalog.set_config('parallel_setup_cost', $4::text, true) AS parallel_setup_cost,
    pg_catalog.set_config('parallel_tuple_cost', $5::text, true) AS parallel_tuple_cost,
    pg_catalog.set_config('min_parallel_table_scan_size', $6::text, true) AS min_parallel_table_scan_size
