-- dbaudit stand-in for pgjwt. pgjwt is SQL over pgcrypto's hmac(), so this is a working
-- implementation (HS256, HS384, HS512); pgcrypto is installed first when missing, as
-- CREATE EXTENSION ... CASCADE would.

DO $pgcrypto$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'pgcrypto') THEN
    CREATE EXTENSION pgcrypto SCHEMA @extschema@;
  END IF;
END
$pgcrypto$;

CREATE OR REPLACE FUNCTION @extschema@.url_encode(data bytea) RETURNS text
  LANGUAGE sql IMMUTABLE
  AS $$
    SELECT translate(encode(data, 'base64'), E'+/=\n', '-_');
$$;

CREATE OR REPLACE FUNCTION @extschema@.url_decode(data text) RETURNS bytea
  LANGUAGE sql IMMUTABLE
  AS $$
WITH t AS (SELECT translate(data, '-_', '+/') AS trans),
     rem AS (SELECT length(t.trans) % 4 AS remainder FROM t) -- compute padding size
    SELECT decode(
        t.trans ||
        CASE WHEN rem.remainder > 0
           THEN repeat('=', (4 - rem.remainder))
           ELSE '' END,
    'base64') FROM t, rem;
$$;

-- hmac() lives wherever pgcrypto was installed.
DO $sign$
DECLARE
  crypto text;
BEGIN
  SELECT quote_ident(n.nspname) INTO crypto
  FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
  WHERE e.extname = 'pgcrypto';
  EXECUTE format($f$
CREATE OR REPLACE FUNCTION @extschema@.algorithm_sign(signables text, secret text, algorithm text) RETURNS text
  LANGUAGE sql IMMUTABLE
  AS $body$
WITH
  alg AS (
    SELECT CASE
      WHEN algorithm = 'HS256' THEN 'sha256'
      WHEN algorithm = 'HS384' THEN 'sha384'
      WHEN algorithm = 'HS512' THEN 'sha512'
      ELSE '' END AS id)  -- hmac throws error
SELECT @extschema@.url_encode(%s.hmac(signables, secret, alg.id)) FROM alg;
$body$
$f$, crypto);
END
$sign$;

CREATE OR REPLACE FUNCTION @extschema@.sign(payload json, secret text, algorithm text DEFAULT 'HS256'::text) RETURNS text
  LANGUAGE sql IMMUTABLE
  AS $$
WITH
  header AS (
    SELECT @extschema@.url_encode(convert_to('{"alg":"' || algorithm || '","typ":"JWT"}', 'utf8')) AS data
    ),
  payload AS (
    SELECT @extschema@.url_encode(convert_to(payload::text, 'utf8')) AS data
    ),
  signables AS (
    SELECT header.data || '.' || payload.data AS data FROM header, payload
    )
SELECT
    signables.data || '.' ||
    @extschema@.algorithm_sign(signables.data, secret, algorithm) FROM signables;
$$;

CREATE OR REPLACE FUNCTION @extschema@.try_cast_double(inp text) RETURNS double precision
  LANGUAGE plpgsql IMMUTABLE
  AS $$
  BEGIN
    BEGIN
      RETURN inp::double precision;
    EXCEPTION
      WHEN OTHERS THEN RETURN NULL;
    END;
  END;
$$;

CREATE OR REPLACE FUNCTION @extschema@.verify(token text, secret text, algorithm text DEFAULT 'HS256'::text)
  RETURNS TABLE(header json, payload json, valid boolean)
  LANGUAGE sql IMMUTABLE
  AS $$
  SELECT
    jwt.header AS header,
    jwt.payload AS payload,
    jwt.signature_ok AND tstzrange(
      to_timestamp(@extschema@.try_cast_double(jwt.payload->>'nbf')),
      to_timestamp(@extschema@.try_cast_double(jwt.payload->>'exp'))
    ) @> CURRENT_TIMESTAMP AS valid
  FROM (
    SELECT
      convert_from(@extschema@.url_decode(r[1]), 'utf8')::json AS header,
      convert_from(@extschema@.url_decode(r[2]), 'utf8')::json AS payload,
      r[3] = @extschema@.algorithm_sign(r[1] || '.' || r[2], secret, algorithm) AS signature_ok
    FROM regexp_split_to_array(token, '\.') r
  ) jwt
$$;

DO $comments$
DECLARE
  c constant text := 'dbaudit stand-in for extension pgjwt';
  o text;
BEGIN
  FOREACH o IN ARRAY ARRAY[
    'FUNCTION @extschema@.url_encode(bytea)',
    'FUNCTION @extschema@.url_decode(text)',
    'FUNCTION @extschema@.algorithm_sign(text, text, text)',
    'FUNCTION @extschema@.sign(json, text, text)',
    'FUNCTION @extschema@.try_cast_double(text)',
    'FUNCTION @extschema@.verify(text, text, text)'
  ] LOOP
    EXECUTE format('COMMENT ON %s IS %L', o, c);
  END LOOP;
END
$comments$;
