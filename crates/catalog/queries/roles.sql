-- Roles. The loader leaves the predefined pg_* roles out of the catalog (they still appear in
-- member_of), and uses every role's name for policies' role lists. member_of: the roles this
-- role is a direct member of, sorted, deduplicated (PG 16 can record one membership per
-- grantor).
SELECT
    r.oid,
    r.rolname::text AS name,
    r.rolsuper AS superuser,
    r.rolbypassrls AS bypass_rls,
    r.rolcanlogin AS can_login,
    r.rolinherit AS inherit,
    mo.names AS member_of
FROM pg_catalog.pg_roles r
LEFT JOIN LATERAL (
    SELECT pg_catalog.array_agg(g.name ORDER BY g.name COLLATE "C") AS names
    FROM (
        SELECT DISTINCT gr.rolname::text AS name
        FROM pg_catalog.pg_auth_members m
        JOIN pg_catalog.pg_roles gr ON gr.oid = m.roleid
        WHERE m.member = r.oid
    ) g
) mo ON true
ORDER BY r.rolname
