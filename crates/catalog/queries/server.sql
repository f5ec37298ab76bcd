-- The server and session the catalog was read from.
SELECT
    pg_catalog.current_setting('server_version') AS server_version,
    pg_catalog.current_setting('server_version_num')::int4 AS server_version_num,
    pg_catalog.current_database()::text AS database,
    CURRENT_USER::text AS current_user,
    pg_catalog.current_setting('quote_all_identifiers')::bool AS quote_all_identifiers,
    pg_catalog.current_setting('block_size')::int8 AS block_size
