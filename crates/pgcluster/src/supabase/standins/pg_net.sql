-- dbaudit stand-in for pg_net: the `net` schema with pg_net's tables, types and request
-- functions. Requests are queued in net.http_request_queue as pg_net queues them; no
-- background worker runs, so nothing is ever sent and no response ever arrives.

DO $schema$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = 'net') THEN
    CREATE SCHEMA net;
  END IF;
  -- The schema is the extension's when nothing else is in it yet.
  IF obj_description('net'::regnamespace, 'pg_namespace') IS NULL
     AND NOT EXISTS (SELECT FROM pg_catalog.pg_class WHERE relnamespace = 'net'::regnamespace)
     AND NOT EXISTS (SELECT FROM pg_catalog.pg_proc WHERE pronamespace = 'net'::regnamespace)
     AND NOT EXISTS (SELECT FROM pg_catalog.pg_type WHERE typnamespace = 'net'::regnamespace) THEN
    COMMENT ON SCHEMA net IS 'dbaudit stand-in for extension pg_net';
  END IF;
  IF to_regtype('net.request_status') IS NULL THEN
    CREATE TYPE net.request_status AS ENUM ('PENDING', 'SUCCESS', 'ERROR');
  END IF;
  IF to_regtype('net.http_response') IS NULL THEN
    CREATE TYPE net.http_response AS (status_code integer, headers jsonb, body text);
  END IF;
  IF to_regtype('net.http_response_result') IS NULL THEN
    CREATE TYPE net.http_response_result AS (
      status net.request_status, message text, response net.http_response);
  END IF;
  IF to_regtype('net.http_method') IS NULL THEN
    CREATE DOMAIN net.http_method AS text
      CHECK (VALUE ILIKE 'get' OR VALUE ILIKE 'post' OR VALUE ILIKE 'delete');
  END IF;
END
$schema$;

CREATE UNLOGGED TABLE IF NOT EXISTS net.http_request_queue (
  id bigserial NOT NULL,
  method net.http_method NOT NULL,
  url text NOT NULL,
  headers jsonb NOT NULL,
  body bytea,
  timeout_milliseconds integer NOT NULL
);

CREATE UNLOGGED TABLE IF NOT EXISTS net._http_response (
  id bigint,
  status_code integer,
  content_type text,
  headers jsonb,
  content text,
  timed_out boolean,
  error_msg text,
  created timestamp with time zone DEFAULT now() NOT NULL
);
CREATE INDEX IF NOT EXISTS _http_response_created_idx ON net._http_response USING btree (created);

CREATE OR REPLACE FUNCTION net._urlencode_string(string character varying) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$
  SELECT coalesce(string_agg(
    CASE WHEN ch ~ '^[A-Za-z0-9_.~-]$' THEN ch
         ELSE (SELECT string_agg('%' || upper(lpad(to_hex(b), 2, '0')), '')
               FROM (SELECT get_byte(convert_to(ch, 'UTF8'), i) AS b
                     FROM generate_series(0, octet_length(convert_to(ch, 'UTF8')) - 1) AS i) AS bytes)
    END, '' ORDER BY n), '')
  FROM regexp_split_to_table(string::text, '') WITH ORDINALITY AS c(ch, n)
$$;

CREATE OR REPLACE FUNCTION net._encode_url_with_params_array(url text, params_array text[]) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$
  SELECT CASE WHEN coalesce(array_length(params_array, 1), 0) = 0 THEN url
              ELSE url || CASE WHEN url LIKE '%?%' THEN '&' ELSE '?' END
                   || array_to_string(params_array, '&')
         END
$$;

CREATE OR REPLACE FUNCTION net.http_get(
  url text,
  params jsonb DEFAULT '{}'::jsonb,
  headers jsonb DEFAULT '{}'::jsonb,
  timeout_milliseconds integer DEFAULT 5000)
  RETURNS bigint
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path = net
  AS $$
DECLARE
  request_id bigint;
  params_array text[];
BEGIN
  SELECT coalesce(array_agg(net._urlencode_string(key) || '=' || net._urlencode_string(value)), '{}')
    INTO params_array
    FROM jsonb_each_text(params);

  INSERT INTO net.http_request_queue (method, url, headers, timeout_milliseconds)
  VALUES ('GET', net._encode_url_with_params_array(url, params_array), headers, timeout_milliseconds)
  RETURNING id INTO request_id;

  RETURN request_id;
END
$$;

CREATE OR REPLACE FUNCTION net.http_post(
  url text,
  body jsonb DEFAULT '{}'::jsonb,
  params jsonb DEFAULT '{}'::jsonb,
  headers jsonb DEFAULT '{"Content-Type": "application/json"}'::jsonb,
  timeout_milliseconds integer DEFAULT 5000)
  RETURNS bigint
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path = net
  AS $$
DECLARE
  request_id bigint;
  params_array text[];
  content_type text;
BEGIN
  SELECT h.value INTO content_type FROM jsonb_each_text(headers) AS h WHERE lower(h.key) = 'content-type';
  IF content_type IS NULL THEN
    headers = headers || '{"Content-Type": "application/json"}'::jsonb;
  END IF;

  SELECT coalesce(array_agg(net._urlencode_string(key) || '=' || net._urlencode_string(value)), '{}')
    INTO params_array
    FROM jsonb_each_text(params);

  INSERT INTO net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  VALUES ('POST', net._encode_url_with_params_array(url, params_array), headers,
          convert_to(body::text, 'UTF8'), timeout_milliseconds)
  RETURNING id INTO request_id;

  RETURN request_id;
END
$$;

CREATE OR REPLACE FUNCTION net.http_delete(
  url text,
  params jsonb DEFAULT '{}'::jsonb,
  headers jsonb DEFAULT '{}'::jsonb,
  timeout_milliseconds integer DEFAULT 5000,
  body jsonb DEFAULT NULL::jsonb)
  RETURNS bigint
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path = net
  AS $$
DECLARE
  request_id bigint;
  params_array text[];
BEGIN
  SELECT coalesce(array_agg(net._urlencode_string(key) || '=' || net._urlencode_string(value)), '{}')
    INTO params_array
    FROM jsonb_each_text(params);

  INSERT INTO net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  VALUES ('DELETE', net._encode_url_with_params_array(url, params_array), headers,
          convert_to(body::text, 'UTF8'), timeout_milliseconds)
  RETURNING id INTO request_id;

  RETURN request_id;
END
$$;

-- Without the background worker no response is ever collected.
CREATE OR REPLACE FUNCTION net._await_response(request_id bigint) RETURNS boolean
  LANGUAGE plpgsql PARALLEL SAFE
  AS $$
BEGIN
  RAISE EXCEPTION 'pg_net is stood in for by dbaudit: requests are queued, never sent, so no response arrives'
    USING ERRCODE = 'feature_not_supported';
END
$$;

CREATE OR REPLACE FUNCTION net.http_collect_response(request_id bigint, async boolean DEFAULT true)
  RETURNS net.http_response_result
  LANGUAGE plpgsql PARALLEL SAFE
  AS $$
BEGIN
  IF NOT async THEN
    PERFORM net._await_response(request_id);
  END IF;
  IF EXISTS (SELECT FROM net.http_request_queue WHERE id = request_id) THEN
    RETURN ROW('PENDING', 'request is pending processing', NULL)::net.http_response_result;
  END IF;
  RETURN ROW('ERROR', 'request matching request_id not found', NULL)::net.http_response_result;
END
$$;

CREATE OR REPLACE FUNCTION net.check_worker_is_up() RETURNS void
  LANGUAGE plpgsql
  AS $$
BEGIN
  RAISE EXCEPTION 'the pg_net background worker is not up'
    USING HINT = 'pg_net is stood in for by dbaudit: requests are queued, never sent';
END
$$;

CREATE OR REPLACE FUNCTION net.worker_restart() RETURNS boolean
  LANGUAGE sql
  AS $$ SELECT false $$;

DO $grants$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['supabase_functions_admin', 'postgres', 'anon', 'authenticated', 'service_role'] LOOP
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r) THEN
      EXECUTE format('GRANT USAGE ON SCHEMA net TO %I', r);
      EXECUTE format('GRANT EXECUTE ON FUNCTION net.http_get(text, jsonb, jsonb, integer), '
                     'net.http_post(text, jsonb, jsonb, jsonb, integer), '
                     'net.http_delete(text, jsonb, jsonb, integer, jsonb) TO %I', r);
    END IF;
  END LOOP;
END
$grants$;
REVOKE ALL ON FUNCTION net.http_get(text, jsonb, jsonb, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION net.http_post(text, jsonb, jsonb, jsonb, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION net.http_delete(text, jsonb, jsonb, integer, jsonb) FROM PUBLIC;

DO $comments$
DECLARE
  c constant text := 'dbaudit stand-in for extension pg_net';
  o text;
BEGIN
  FOREACH o IN ARRAY ARRAY[
    'TYPE net.request_status', 'TYPE net.http_response', 'TYPE net.http_response_result',
    'DOMAIN net.http_method',
    'TABLE net.http_request_queue', 'SEQUENCE net.http_request_queue_id_seq',
    'TABLE net._http_response',
    'FUNCTION net._urlencode_string(character varying)',
    'FUNCTION net._encode_url_with_params_array(text, text[])',
    'FUNCTION net.http_get(text, jsonb, jsonb, integer)',
    'FUNCTION net.http_post(text, jsonb, jsonb, jsonb, integer)',
    'FUNCTION net.http_delete(text, jsonb, jsonb, integer, jsonb)',
    'FUNCTION net._await_response(bigint)',
    'FUNCTION net.http_collect_response(bigint, boolean)',
    'FUNCTION net.check_worker_is_up()',
    'FUNCTION net.worker_restart()'
  ] LOOP
    EXECUTE format('COMMENT ON %s IS %L', o, c);
  END LOOP;
  -- Array types of the types and tables above.
  FOR o IN
    SELECT a.oid::regtype::text
    FROM pg_catalog.pg_type a
    JOIN pg_catalog.pg_type e ON e.oid = a.typelem AND e.typarray = a.oid
    WHERE a.typnamespace = 'net'::regnamespace
      AND (obj_description(e.oid, 'pg_type') = c OR obj_description(e.typrelid, 'pg_class') = c)
  LOOP
    EXECUTE format('COMMENT ON TYPE %s IS %L', o, c);
  END LOOP;
END
$comments$;
