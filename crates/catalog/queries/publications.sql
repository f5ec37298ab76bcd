-- Publications and the tables they publish (schema.name, sorted), from pg_publication_tables
-- (which expands FOR ALL TABLES and, on PG 15+, FOR TABLES IN SCHEMA).
WITH published AS (
    SELECT
        pt.pubname,
        pg_catalog.array_agg(pt.schemaname::text || '.' || pt.tablename::text
                             ORDER BY pt.schemaname, pt.tablename) AS tables
    FROM pg_catalog.pg_publication_tables pt
    GROUP BY pt.pubname
)
SELECT
    p.pubname::text AS name,
    p.puballtables AS all_tables,
    pb.tables
FROM pg_catalog.pg_publication p
LEFT JOIN published pb ON pb.pubname = p.pubname
ORDER BY p.pubname
