-- dbaudit stand-in for pg_graphql: the `graphql` schema with graphql.resolve and the helpers
-- migrations call. Comment directives are parsed as pg_graphql parses them; resolving a
-- GraphQL query is not available and raises feature_not_supported.

DO $schema$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = 'graphql') THEN
    CREATE SCHEMA graphql;
  END IF;
  -- The schema is the extension's when nothing else is in it yet.
  IF obj_description('graphql'::regnamespace, 'pg_namespace') IS NULL
     AND NOT EXISTS (SELECT FROM pg_catalog.pg_class WHERE relnamespace = 'graphql'::regnamespace)
     AND NOT EXISTS (SELECT FROM pg_catalog.pg_proc WHERE pronamespace = 'graphql'::regnamespace)
     AND NOT EXISTS (SELECT FROM pg_catalog.pg_type WHERE typnamespace = 'graphql'::regnamespace) THEN
    COMMENT ON SCHEMA graphql IS 'dbaudit stand-in for extension pg_graphql';
  END IF;
END
$schema$;

CREATE SEQUENCE IF NOT EXISTS graphql.seq_schema_version AS integer CYCLE;

CREATE OR REPLACE FUNCTION graphql.get_schema_version() RETURNS integer
  LANGUAGE sql SECURITY DEFINER
  AS $$ SELECT last_value FROM graphql.seq_schema_version $$;

CREATE OR REPLACE FUNCTION graphql.increment_schema_version() RETURNS event_trigger
  LANGUAGE plpgsql SECURITY DEFINER
  AS $$
BEGIN
  PERFORM pg_catalog.nextval('graphql.seq_schema_version');
END
$$;

-- The JSON inside @graphql(...) in a comment (COMMENT ON TABLE x IS e'@graphql({"name": "X"})').
CREATE OR REPLACE FUNCTION graphql.comment_directive(comment_ text) RETURNS jsonb
  LANGUAGE sql IMMUTABLE
  AS $$
  SELECT CASE WHEN comment_ ~ '@graphql\(' THEN
      (regexp_match(comment_, '@graphql\((.+)\)', 's'))[1]::jsonb
  END
$$;

CREATE OR REPLACE FUNCTION graphql.exception(message text) RETURNS text
  LANGUAGE plpgsql
  AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '22000', MESSAGE = message;
END
$$;

CREATE OR REPLACE FUNCTION graphql.resolve(
  query text,
  variables jsonb DEFAULT '{}'::jsonb,
  "operationName" text DEFAULT NULL::text,
  extensions jsonb DEFAULT NULL::jsonb)
  RETURNS jsonb
  LANGUAGE plpgsql
  AS $$
BEGIN
  RAISE EXCEPTION 'GraphQL queries are not resolved: pg_graphql is stood in for by dbaudit'
    USING ERRCODE = 'feature_not_supported';
END
$$;

GRANT USAGE ON SCHEMA graphql TO PUBLIC;
GRANT EXECUTE ON FUNCTION graphql.resolve(text, jsonb, text, jsonb) TO PUBLIC;

DO $comments$
DECLARE
  c constant text := 'dbaudit stand-in for extension pg_graphql';
  o text;
BEGIN
  FOREACH o IN ARRAY ARRAY[
    'SEQUENCE graphql.seq_schema_version',
    'FUNCTION graphql.get_schema_version()',
    'FUNCTION graphql.increment_schema_version()',
    'FUNCTION graphql.comment_directive(text)',
    'FUNCTION graphql.exception(text)',
    'FUNCTION graphql.resolve(text, jsonb, text, jsonb)'
  ] LOOP
    EXECUTE format('COMMENT ON %s IS %L', o, c);
  END LOOP;
END
$comments$;
