-- dbaudit stand-in for the http extension (pgsql-http): its types and functions with their
-- signatures. The helpers (http_header, urlencode, text_to_bytea, bytea_to_text, the curl
-- option list) work; functions that would make a request raise feature_not_supported, since
-- the throwaway database never reaches the network.

DO $types$
BEGIN
  IF to_regtype('@extschema@.http_method') IS NULL THEN
    CREATE DOMAIN @extschema@.http_method AS text;
  END IF;
  IF to_regtype('@extschema@.content_type') IS NULL THEN
    CREATE DOMAIN @extschema@.content_type AS text
      CHECK (VALUE ~ '^\S+\/\S+');
  END IF;
  IF to_regtype('@extschema@.http_header') IS NULL THEN
    CREATE TYPE @extschema@.http_header AS (field character varying, value character varying);
  END IF;
  IF to_regtype('@extschema@.http_response') IS NULL THEN
    CREATE TYPE @extschema@.http_response AS (
      status integer, content_type character varying, headers @extschema@.http_header[],
      content character varying);
  END IF;
  IF to_regtype('@extschema@.http_request') IS NULL THEN
    CREATE TYPE @extschema@.http_request AS (
      method @extschema@.http_method, uri character varying, headers @extschema@.http_header[],
      content_type character varying, content character varying);
  END IF;
END
$types$;

CREATE OR REPLACE FUNCTION @extschema@.http_header(field character varying, value character varying)
  RETURNS @extschema@.http_header
  LANGUAGE sql IMMUTABLE
  AS $$ SELECT $1, $2 $$;

CREATE OR REPLACE FUNCTION @extschema@.urlencode(string character varying) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT
  AS $$
  SELECT coalesce(string_agg(
    CASE WHEN ch ~ '^[A-Za-z0-9_.~-]$' THEN ch
         ELSE (SELECT string_agg('%' || upper(lpad(to_hex(b), 2, '0')), '')
               FROM (SELECT get_byte(convert_to(ch, 'UTF8'), i) AS b
                     FROM generate_series(0, octet_length(convert_to(ch, 'UTF8')) - 1) AS i) AS bytes)
    END, '' ORDER BY n), '')
  FROM regexp_split_to_table(string::text, '') WITH ORDINALITY AS c(ch, n)
$$;

CREATE OR REPLACE FUNCTION @extschema@.urlencode(string bytea) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT
  AS $$
  SELECT coalesce(string_agg(
    CASE WHEN chr(b) ~ '^[A-Za-z0-9_.~-]$' AND b < 128 THEN chr(b)
         ELSE '%' || upper(lpad(to_hex(b), 2, '0'))
    END, '' ORDER BY i), '')
  FROM (SELECT i, get_byte(string, i) AS b FROM generate_series(0, length(string) - 1) AS i) AS bytes
$$;

CREATE OR REPLACE FUNCTION @extschema@.urlencode(data jsonb) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT
  AS $$
  SELECT coalesce(string_agg(@extschema@.urlencode(key::character varying) || '='
                             || @extschema@.urlencode(value::character varying), '&' ORDER BY key), '')
  FROM jsonb_each_text(data)
$$;

CREATE OR REPLACE FUNCTION @extschema@.text_to_bytea(data text) RETURNS bytea
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT convert_to(data, 'UTF8') $$;

CREATE OR REPLACE FUNCTION @extschema@.bytea_to_text(data bytea) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT convert_from(data, 'UTF8') $$;

-- Curl options are per session, as in pgsql-http: kept as a JSON object in a session setting.
CREATE OR REPLACE FUNCTION @extschema@.http_set_curlopt(curlopt character varying, value character varying)
  RETURNS boolean
  LANGUAGE sql
  AS $$
  SELECT set_config('http_standin.curlopts',
    (coalesce(nullif(current_setting('http_standin.curlopts', true), ''), '{}')::jsonb
     || jsonb_build_object(upper($1), $2))::text, false) IS NOT NULL
$$;

CREATE OR REPLACE FUNCTION @extschema@.http_reset_curlopt() RETURNS boolean
  LANGUAGE sql
  AS $$ SELECT set_config('http_standin.curlopts', '{}', false) IS NOT NULL $$;

CREATE OR REPLACE FUNCTION @extschema@.http_list_curlopt() RETURNS TABLE(curlopt text, value text)
  LANGUAGE sql
  AS $$
  SELECT o.key, o.value
  FROM jsonb_each_text(coalesce(nullif(current_setting('http_standin.curlopts', true), ''), '{}')::jsonb) AS o
  ORDER BY o.key
$$;

-- The one function every request goes through.
CREATE OR REPLACE FUNCTION @extschema@.http(request @extschema@.http_request) RETURNS @extschema@.http_response
  LANGUAGE plpgsql
  AS $$
BEGIN
  RAISE EXCEPTION 'http % % was not sent: the http extension is stood in for by dbaudit and makes no network requests',
    upper((request).method), (request).uri
    USING ERRCODE = 'feature_not_supported';
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.http_get(uri character varying) RETURNS @extschema@.http_response
  LANGUAGE sql
  AS $$ SELECT @extschema@.http(('GET', $1, NULL, NULL, NULL)::@extschema@.http_request) $$;
CREATE OR REPLACE FUNCTION @extschema@.http_get(uri character varying, data jsonb) RETURNS @extschema@.http_response
  LANGUAGE sql
  AS $$ SELECT @extschema@.http(('GET', $1 || '?' || @extschema@.urlencode($2), NULL, NULL, NULL)::@extschema@.http_request) $$;
CREATE OR REPLACE FUNCTION @extschema@.http_post(uri character varying, content character varying, content_type character varying)
  RETURNS @extschema@.http_response
  LANGUAGE sql
  AS $$ SELECT @extschema@.http(('POST', $1, NULL, $3, $2)::@extschema@.http_request) $$;
CREATE OR REPLACE FUNCTION @extschema@.http_post(uri character varying, data jsonb) RETURNS @extschema@.http_response
  LANGUAGE sql
  AS $$ SELECT @extschema@.http(('POST', $1, NULL, 'application/x-www-form-urlencoded', @extschema@.urlencode($2))::@extschema@.http_request) $$;
CREATE OR REPLACE FUNCTION @extschema@.http_put(uri character varying, content character varying, content_type character varying)
  RETURNS @extschema@.http_response
  LANGUAGE sql
  AS $$ SELECT @extschema@.http(('PUT', $1, NULL, $3, $2)::@extschema@.http_request) $$;
CREATE OR REPLACE FUNCTION @extschema@.http_patch(uri character varying, content character varying, content_type character varying)
  RETURNS @extschema@.http_response
  LANGUAGE sql
  AS $$ SELECT @extschema@.http(('PATCH', $1, NULL, $3, $2)::@extschema@.http_request) $$;
CREATE OR REPLACE FUNCTION @extschema@.http_delete(uri character varying) RETURNS @extschema@.http_response
  LANGUAGE sql
  AS $$ SELECT @extschema@.http(('DELETE', $1, NULL, NULL, NULL)::@extschema@.http_request) $$;
CREATE OR REPLACE FUNCTION @extschema@.http_delete(uri character varying, content character varying, content_type character varying)
  RETURNS @extschema@.http_response
  LANGUAGE sql
  AS $$ SELECT @extschema@.http(('DELETE', $1, NULL, $3, $2)::@extschema@.http_request) $$;
CREATE OR REPLACE FUNCTION @extschema@.http_head(uri character varying) RETURNS @extschema@.http_response
  LANGUAGE sql
  AS $$ SELECT @extschema@.http(('HEAD', $1, NULL, NULL, NULL)::@extschema@.http_request) $$;

DO $comments$
DECLARE
  c constant text := 'dbaudit stand-in for extension http';
  o text;
BEGIN
  FOREACH o IN ARRAY ARRAY[
    'DOMAIN @extschema@.http_method', 'DOMAIN @extschema@.content_type',
    'TYPE @extschema@.http_header', 'TYPE @extschema@.http_response', 'TYPE @extschema@.http_request',
    'FUNCTION @extschema@.http_header(character varying, character varying)',
    'FUNCTION @extschema@.urlencode(character varying)',
    'FUNCTION @extschema@.urlencode(bytea)',
    'FUNCTION @extschema@.urlencode(jsonb)',
    'FUNCTION @extschema@.text_to_bytea(text)',
    'FUNCTION @extschema@.bytea_to_text(bytea)',
    'FUNCTION @extschema@.http_set_curlopt(character varying, character varying)',
    'FUNCTION @extschema@.http_reset_curlopt()',
    'FUNCTION @extschema@.http_list_curlopt()',
    'FUNCTION @extschema@.http(@extschema@.http_request)',
    'FUNCTION @extschema@.http_get(character varying)',
    'FUNCTION @extschema@.http_get(character varying, jsonb)',
    'FUNCTION @extschema@.http_post(character varying, character varying, character varying)',
    'FUNCTION @extschema@.http_post(character varying, jsonb)',
    'FUNCTION @extschema@.http_put(character varying, character varying, character varying)',
    'FUNCTION @extschema@.http_patch(character varying, character varying, character varying)',
    'FUNCTION @extschema@.http_delete(character varying)',
    'FUNCTION @extschema@.http_delete(character varying, character varying, character varying)',
    'FUNCTION @extschema@.http_head(character varying)'
  ] LOOP
    EXECUTE format('COMMENT ON %s IS %L', o, c);
  END LOOP;
  FOR o IN
    SELECT a.oid::regtype::text
    FROM pg_catalog.pg_type a
    JOIN pg_catalog.pg_type e ON e.oid = a.typelem AND e.typarray = a.oid
    WHERE a.typnamespace = '@extschema@'::regnamespace
      AND e.typname IN ('http_method', 'content_type', 'http_header', 'http_response', 'http_request')
  LOOP
    EXECUTE format('COMMENT ON TYPE %s IS %L', o, c);
  END LOOP;
END
$comments$;
