-- dbaudit stand-in for pgsodium: the `pgsodium` schema with its key table, views, roles and
-- the commonly used functions under pgsodium's signatures. Symmetric encryption round-trips
-- (what one function encrypts the matching one decrypts, a wrong key or tag is an error) and
-- HMAC-SHA-256/512 are exact, but the ciphers are a SHA-256 keystream rather than libsodium's
-- and keys derive from a fixed seed instead of a server root key: for a throwaway database,
-- not secure. Public-key functions (crypto_box, crypto_sign) raise feature_not_supported.
-- Transparent column encryption (SECURITY LABEL FOR pgsodium) is not available.

DO $schema$
DECLARE
  r text;
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = 'pgsodium') THEN
    CREATE SCHEMA pgsodium;
  END IF;
  -- The schema is the extension's when nothing else is in it yet.
  IF obj_description('pgsodium'::regnamespace, 'pg_namespace') IS NULL
     AND NOT EXISTS (SELECT FROM pg_catalog.pg_class WHERE relnamespace = 'pgsodium'::regnamespace)
     AND NOT EXISTS (SELECT FROM pg_catalog.pg_proc WHERE pronamespace = 'pgsodium'::regnamespace)
     AND NOT EXISTS (SELECT FROM pg_catalog.pg_type WHERE typnamespace = 'pgsodium'::regnamespace) THEN
    COMMENT ON SCHEMA pgsodium IS 'dbaudit stand-in for extension pgsodium';
  END IF;
  FOREACH r IN ARRAY ARRAY['pgsodium_keyiduser', 'pgsodium_keyholder', 'pgsodium_keymaker'] LOOP
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I NOLOGIN', r);
    END IF;
  END LOOP;
  IF to_regtype('pgsodium.key_status') IS NULL THEN
    CREATE TYPE pgsodium.key_status AS ENUM ('default', 'valid', 'invalid', 'expired');
  END IF;
  IF to_regtype('pgsodium.key_type') IS NULL THEN
    CREATE TYPE pgsodium.key_type AS ENUM (
      'aead-ietf', 'aead-det', 'hmacsha512', 'hmacsha256', 'auth', 'shorthash', 'generichash',
      'kdf', 'secretbox', 'secretstream', 'stream_xchacha20');
  END IF;
  IF to_regtype('pgsodium.crypto_box_keypair') IS NULL THEN
    CREATE TYPE pgsodium.crypto_box_keypair AS (public bytea, secret bytea);
  END IF;
  IF to_regtype('pgsodium.crypto_sign_keypair') IS NULL THEN
    CREATE TYPE pgsodium.crypto_sign_keypair AS (public bytea, secret bytea);
  END IF;
  IF to_regtype('pgsodium.crypto_kx_keypair') IS NULL THEN
    CREATE TYPE pgsodium.crypto_kx_keypair AS (public bytea, secret bytea);
  END IF;
END
$schema$;
GRANT pgsodium_keyiduser TO pgsodium_keyholder;
GRANT pgsodium_keyholder TO pgsodium_keymaker;

-- ---------------------------------------------------------------------------------------
-- Randomness and keys
-- ---------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION pgsodium.randombytes_buf(size integer) RETURNS bytea
  LANGUAGE sql VOLATILE STRICT
  AS $$
  SELECT substring(coalesce(string_agg(uuid_send(gen_random_uuid()), ''::bytea), ''::bytea) FROM 1 FOR size)
  FROM generate_series(1, (size + 15) / 16)
$$;
CREATE OR REPLACE FUNCTION pgsodium.randombytes_random() RETURNS integer
  LANGUAGE sql VOLATILE
  AS $$ SELECT ((get_byte(b, 0) << 24) | (get_byte(b, 1) << 16) | (get_byte(b, 2) << 8) | get_byte(b, 3))
        FROM (SELECT pgsodium.randombytes_buf(4) AS b) AS r $$;
CREATE OR REPLACE FUNCTION pgsodium.randombytes_uniform(upper_bound integer) RETURNS integer
  LANGUAGE sql VOLATILE STRICT
  AS $$ SELECT floor(random() * upper_bound)::integer $$;
CREATE OR REPLACE FUNCTION pgsodium.randombytes_new_seed() RETURNS bytea
  LANGUAGE sql VOLATILE
  AS $$ SELECT pgsodium.randombytes_buf(32) $$;

-- The key a key id names: derived from the id and context (pgsodium derives it from the
-- server root key).
CREATE OR REPLACE FUNCTION pgsodium.derive_key(key_id bigint, key_len integer DEFAULT 32,
  context bytea DEFAULT '\x7067736f6469756d'::bytea) RETURNS bytea
  LANGUAGE plpgsql IMMUTABLE STRICT
  AS $$
DECLARE
  k bytea := ''::bytea;
  i integer := 0;
BEGIN
  IF key_len < 16 OR key_len > 64 THEN
    RAISE EXCEPTION 'crypto_kdf_derive_from_key: invalid key size requested';
  END IF;
  WHILE length(k) < key_len LOOP
    k := k || sha256('dbaudit stand-in key'::bytea || int8send(key_id) || context || int4send(i));
    i := i + 1;
  END LOOP;
  RETURN substring(k FROM 1 FOR key_len);
END
$$;

CREATE OR REPLACE FUNCTION pgsodium._standin_cipher(message bytea, key bytea, nonce bytea, additional bytea)
  RETURNS bytea
  LANGUAGE plpgsql IMMUTABLE
  AS $$
DECLARE
  k bytea := sha256(coalesce(key, ''::bytea));
  n bytea := coalesce(nonce, ''::bytea);
  a bytea := coalesce(additional, ''::bytea);
  out bytea := message;
  block bytea;
  i integer;
BEGIN
  FOR i IN 0 .. length(message) - 1 LOOP
    IF i % 32 = 0 THEN
      block := sha256(k || n || a || int4send(i / 32));
    END IF;
    out := set_byte(out, i, get_byte(message, i) # get_byte(block, i % 32));
  END LOOP;
  RETURN out;
END
$$;

-- Encrypt then append a 16-byte tag over key, nonce, additional data and ciphertext.
CREATE OR REPLACE FUNCTION pgsodium._standin_seal(message bytea, key bytea, nonce bytea, additional bytea)
  RETURNS bytea
  LANGUAGE sql IMMUTABLE
  AS $$
  SELECT c || substring(sha256(sha256(coalesce(key, ''::bytea)) || coalesce(nonce, ''::bytea)
                               || coalesce(additional, ''::bytea) || c) FROM 1 FOR 16)
  FROM (SELECT pgsodium._standin_cipher(message, key, nonce, additional) AS c) AS e
$$;

CREATE OR REPLACE FUNCTION pgsodium._standin_open(ciphertext bytea, key bytea, nonce bytea, additional bytea, fn text)
  RETURNS bytea
  LANGUAGE plpgsql IMMUTABLE
  AS $$
DECLARE
  body bytea;
BEGIN
  IF length(ciphertext) < 16 THEN
    RAISE EXCEPTION '%: invalid message', fn;
  END IF;
  body := substring(ciphertext FROM 1 FOR length(ciphertext) - 16);
  IF substring(ciphertext FROM length(ciphertext) - 15)
     <> substring(sha256(sha256(coalesce(key, ''::bytea)) || coalesce(nonce, ''::bytea)
                         || coalesce(additional, ''::bytea) || body) FROM 1 FOR 16) THEN
    RAISE EXCEPTION '%: invalid ciphertext', fn;
  END IF;
  RETURN pgsodium._standin_cipher(body, key, nonce, additional);
END
$$;

CREATE SEQUENCE IF NOT EXISTS pgsodium.key_key_id_seq;

CREATE TABLE IF NOT EXISTS pgsodium.key (
  id uuid DEFAULT gen_random_uuid() NOT NULL,
  status pgsodium.key_status DEFAULT 'valid'::pgsodium.key_status,
  created timestamp with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
  expires timestamp with time zone,
  key_type pgsodium.key_type,
  key_id bigint DEFAULT nextval('pgsodium.key_key_id_seq'::regclass),
  key_context bytea DEFAULT '\x7067736f6469756d'::bytea,
  name text,
  associated_data text DEFAULT 'associated'::text,
  raw_key bytea,
  raw_key_nonce bytea,
  parent_key uuid,
  comment text,
  user_data text,
  CONSTRAINT key_pkey PRIMARY KEY (id),
  CONSTRAINT key_name_key UNIQUE (name),
  CONSTRAINT key_parent_key_fkey FOREIGN KEY (parent_key) REFERENCES pgsodium.key(id),
  CONSTRAINT key_key_context_check CHECK (length(key_context) = 8),
  CONSTRAINT pgsodium_raw CHECK (
    CASE WHEN raw_key IS NOT NULL
         THEN key_id IS NULL AND key_context IS NULL AND parent_key IS NOT NULL
         ELSE key_id IS NOT NULL AND key_context IS NOT NULL AND parent_key IS NULL
    END)
);
ALTER SEQUENCE pgsodium.key_key_id_seq OWNED BY pgsodium.key.key_id;
COMMENT ON TABLE pgsodium.key IS 'dbaudit stand-in for extension pgsodium';

CREATE OR REPLACE VIEW pgsodium.valid_key AS
SELECT key.id, key.name, key.status, key.key_type, key.key_id, key.key_context, key.created,
       key.expires, key.associated_data
FROM pgsodium.key
WHERE key.status IN ('valid', 'default')
  AND CASE WHEN key.expires IS NULL THEN true ELSE key.expires > now() END;

-- The key bytes a key row stands for: derived from key_id and key_context, or its raw key
-- decrypted with the parent key.
CREATE OR REPLACE FUNCTION pgsodium._standin_key_bytes(key_uuid uuid) RETURNS bytea
  LANGUAGE plpgsql STABLE STRICT
  AS $$
DECLARE
  k pgsodium.key;
BEGIN
  SELECT * INTO k FROM pgsodium.key WHERE id = key_uuid;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'key % not found', key_uuid USING ERRCODE = 'no_data_found';
  END IF;
  IF k.raw_key IS NOT NULL THEN
    RETURN pgsodium._standin_open(k.raw_key, pgsodium._standin_key_bytes(k.parent_key), k.raw_key_nonce,
                                  convert_to(k.id::text || k.associated_data, 'utf8'), 'pgsodium key');
  END IF;
  RETURN pgsodium.derive_key(k.key_id, 32, k.key_context);
END
$$;

CREATE OR REPLACE VIEW pgsodium.decrypted_key AS
SELECT key.id, key.status, key.created, key.expires, key.key_type, key.key_id, key.key_context,
       key.name, key.associated_data, key.raw_key,
       CASE WHEN key.raw_key IS NULL THEN NULL::bytea
            ELSE pgsodium._standin_key_bytes(key.id) END AS decrypted_raw_key,
       key.raw_key_nonce, key.parent_key, key.comment
FROM pgsodium.key;

CREATE OR REPLACE FUNCTION pgsodium.create_key(
  key_type pgsodium.key_type DEFAULT 'aead-det'::pgsodium.key_type,
  name text DEFAULT NULL::text,
  raw_key bytea DEFAULT NULL::bytea,
  raw_key_nonce bytea DEFAULT NULL::bytea,
  parent_key uuid DEFAULT NULL::uuid,
  key_context bytea DEFAULT '\x7067736f6469756d'::bytea,
  expires timestamp with time zone DEFAULT NULL::timestamp with time zone,
  associated_data text DEFAULT ''::text)
  RETURNS pgsodium.valid_key
  LANGUAGE plpgsql
  SET search_path = ''
  AS $$
DECLARE
  new_id uuid := gen_random_uuid();
  nonce bytea;
  result pgsodium.valid_key;
BEGIN
  IF raw_key IS NULL THEN
    INSERT INTO pgsodium.key (id, key_type, name, key_context, expires, associated_data)
    VALUES (new_id, create_key.key_type, create_key.name, create_key.key_context,
            create_key.expires, create_key.associated_data);
  ELSE
    IF parent_key IS NULL THEN
      RAISE EXCEPTION 'a raw key needs a parent key to encrypt it';
    END IF;
    nonce := coalesce(raw_key_nonce, pgsodium.randombytes_buf(16));
    INSERT INTO pgsodium.key (id, key_type, name, raw_key, raw_key_nonce, parent_key, key_id,
                              key_context, expires, associated_data)
    VALUES (new_id, create_key.key_type, create_key.name,
            pgsodium._standin_seal(raw_key, pgsodium._standin_key_bytes(parent_key), nonce,
                                   convert_to(new_id::text || create_key.associated_data, 'utf8')),
            nonce, parent_key, NULL, NULL, create_key.expires, create_key.associated_data);
  END IF;
  SELECT * INTO result FROM pgsodium.valid_key WHERE id = new_id;
  RETURN result;
END
$$;

-- ---------------------------------------------------------------------------------------
-- Symmetric encryption
-- ---------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION pgsodium.crypto_secretbox_keygen() RETURNS bytea
  LANGUAGE sql VOLATILE AS $$ SELECT pgsodium.randombytes_buf(32) $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_secretbox_noncegen() RETURNS bytea
  LANGUAGE sql VOLATILE AS $$ SELECT pgsodium.randombytes_buf(24) $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_secretbox(message bytea, nonce bytea, key bytea) RETURNS bytea
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT pgsodium._standin_seal(message, key, nonce, NULL) $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_secretbox(message bytea, nonce bytea, key_id bigint,
  context bytea DEFAULT '\x7067736f6469756d'::bytea) RETURNS bytea
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT pgsodium._standin_seal(message, pgsodium.derive_key(key_id, 32, context), nonce, NULL) $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_secretbox(message bytea, nonce bytea, key_uuid uuid) RETURNS bytea
  LANGUAGE sql STABLE STRICT AS $$ SELECT pgsodium._standin_seal(message, pgsodium._standin_key_bytes(key_uuid), nonce, NULL) $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_secretbox_open(ciphertext bytea, nonce bytea, key bytea) RETURNS bytea
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT pgsodium._standin_open(ciphertext, key, nonce, NULL, 'pgsodium_crypto_secretbox_open') $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_secretbox_open(message bytea, nonce bytea, key_id bigint,
  context bytea DEFAULT '\x7067736f6469756d'::bytea) RETURNS bytea
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT pgsodium._standin_open(message, pgsodium.derive_key(key_id, 32, context), nonce, NULL, 'pgsodium_crypto_secretbox_open') $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_secretbox_open(message bytea, nonce bytea, key_uuid uuid) RETURNS bytea
  LANGUAGE sql STABLE STRICT AS $$ SELECT pgsodium._standin_open(message, pgsodium._standin_key_bytes(key_uuid), nonce, NULL, 'pgsodium_crypto_secretbox_open') $$;

CREATE OR REPLACE FUNCTION pgsodium.crypto_aead_det_keygen() RETURNS bytea
  LANGUAGE sql VOLATILE AS $$ SELECT pgsodium.randombytes_buf(32) $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_aead_det_noncegen() RETURNS bytea
  LANGUAGE sql VOLATILE AS $$ SELECT pgsodium.randombytes_buf(16) $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_aead_det_encrypt(message bytea, additional bytea, key bytea,
  nonce bytea DEFAULT NULL::bytea) RETURNS bytea
  LANGUAGE sql IMMUTABLE AS $$ SELECT pgsodium._standin_seal(message, key, nonce, additional) $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_aead_det_encrypt(message bytea, additional bytea, key_id bigint,
  context bytea DEFAULT '\x7067736f6469756d'::bytea, nonce bytea DEFAULT NULL::bytea) RETURNS bytea
  LANGUAGE sql IMMUTABLE AS $$ SELECT pgsodium._standin_seal(message, pgsodium.derive_key(key_id, 32, context), nonce, additional) $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_aead_det_encrypt(message bytea, additional bytea, key_uuid uuid,
  nonce bytea DEFAULT NULL::bytea) RETURNS bytea
  LANGUAGE sql STABLE AS $$ SELECT pgsodium._standin_seal(message, pgsodium._standin_key_bytes(key_uuid), nonce, additional) $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_aead_det_decrypt(message bytea, additional bytea, key bytea,
  nonce bytea DEFAULT NULL::bytea) RETURNS bytea
  LANGUAGE sql IMMUTABLE AS $$ SELECT pgsodium._standin_open(message, key, nonce, additional, 'pgsodium_crypto_aead_det_decrypt') $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_aead_det_decrypt(message bytea, additional bytea, key_id bigint,
  context bytea DEFAULT '\x7067736f6469756d'::bytea, nonce bytea DEFAULT NULL::bytea) RETURNS bytea
  LANGUAGE sql IMMUTABLE AS $$ SELECT pgsodium._standin_open(message, pgsodium.derive_key(key_id, 32, context), nonce, additional, 'pgsodium_crypto_aead_det_decrypt_by_id') $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_aead_det_decrypt(message bytea, additional bytea, key_uuid uuid,
  nonce bytea DEFAULT NULL::bytea) RETURNS bytea
  LANGUAGE sql STABLE AS $$ SELECT pgsodium._standin_open(message, pgsodium._standin_key_bytes(key_uuid), nonce, additional, 'pgsodium_crypto_aead_det_decrypt_by_id') $$;

CREATE OR REPLACE FUNCTION pgsodium.crypto_aead_ietf_keygen() RETURNS bytea
  LANGUAGE sql VOLATILE AS $$ SELECT pgsodium.randombytes_buf(32) $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_aead_ietf_noncegen() RETURNS bytea
  LANGUAGE sql VOLATILE AS $$ SELECT pgsodium.randombytes_buf(12) $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_aead_ietf_encrypt(message bytea, additional bytea, nonce bytea, key bytea) RETURNS bytea
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT pgsodium._standin_seal(message, key, nonce, additional) $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_aead_ietf_encrypt(message bytea, additional bytea, nonce bytea, key_id bigint,
  context bytea DEFAULT '\x7067736f6469756d'::bytea) RETURNS bytea
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT pgsodium._standin_seal(message, pgsodium.derive_key(key_id, 32, context), nonce, additional) $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_aead_ietf_decrypt(message bytea, additional bytea, nonce bytea, key bytea) RETURNS bytea
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT pgsodium._standin_open(message, key, nonce, additional, 'pgsodium_crypto_aead_ietf_decrypt') $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_aead_ietf_decrypt(message bytea, additional bytea, nonce bytea, key_id bigint,
  context bytea DEFAULT '\x7067736f6469756d'::bytea) RETURNS bytea
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT pgsodium._standin_open(message, pgsodium.derive_key(key_id, 32, context), nonce, additional, 'pgsodium_crypto_aead_ietf_decrypt_by_id') $$;

-- ---------------------------------------------------------------------------------------
-- HMAC (exact: HMAC-SHA-256 and HMAC-SHA-512 over the built-in digests)
-- ---------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION pgsodium._standin_hmac(message bytea, secret bytea, bits integer) RETURNS bytea
  LANGUAGE plpgsql IMMUTABLE STRICT
  AS $$
DECLARE
  block integer := CASE WHEN bits = 512 THEN 128 ELSE 64 END;
  k bytea := secret;
  ipad bytea;
  opad bytea;
  i integer;
BEGIN
  IF length(k) > block THEN
    k := CASE WHEN bits = 512 THEN sha512(k) ELSE sha256(k) END;
  END IF;
  k := k || decode(repeat('00', block - length(k)), 'hex');
  ipad := k;
  opad := k;
  FOR i IN 0 .. block - 1 LOOP
    ipad := set_byte(ipad, i, get_byte(k, i) # 54);
    opad := set_byte(opad, i, get_byte(k, i) # 92);
  END LOOP;
  IF bits = 512 THEN
    RETURN sha512(opad || sha512(ipad || message));
  END IF;
  RETURN sha256(opad || sha256(ipad || message));
END
$$;

CREATE OR REPLACE FUNCTION pgsodium.crypto_auth_hmacsha256_keygen() RETURNS bytea
  LANGUAGE sql VOLATILE AS $$ SELECT pgsodium.randombytes_buf(32) $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_auth_hmacsha256(message bytea, secret bytea) RETURNS bytea
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT pgsodium._standin_hmac(message, secret, 256) $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_auth_hmacsha256(message bytea, key_id bigint,
  context bytea DEFAULT '\x7067736f6469756d'::bytea) RETURNS bytea
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT pgsodium._standin_hmac(message, pgsodium.derive_key(key_id, 32, context), 256) $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_auth_hmacsha256_verify(hash bytea, message bytea, secret bytea) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT pgsodium._standin_hmac(message, secret, 256) = hash $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_auth_hmacsha512_keygen() RETURNS bytea
  LANGUAGE sql VOLATILE AS $$ SELECT pgsodium.randombytes_buf(32) $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_auth_hmacsha512(message bytea, secret bytea) RETURNS bytea
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT pgsodium._standin_hmac(message, secret, 512) $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_auth_hmacsha512(message bytea, key_id bigint,
  context bytea DEFAULT '\x7067736f6469756d'::bytea) RETURNS bytea
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT pgsodium._standin_hmac(message, pgsodium.derive_key(key_id, 32, context), 512) $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_auth_hmacsha512_verify(hash bytea, message bytea, secret bytea) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT pgsodium._standin_hmac(message, secret, 512) = hash $$;

-- ---------------------------------------------------------------------------------------
-- Public-key cryptography: signatures only.
-- ---------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION pgsodium._standin_unsupported(fn text) RETURNS void
  LANGUAGE plpgsql
  AS $$
BEGIN
  RAISE EXCEPTION 'pgsodium.% is not available: pgsodium is stood in for by dbaudit', fn
    USING ERRCODE = 'feature_not_supported';
END
$$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_box_new_keypair() RETURNS pgsodium.crypto_box_keypair
  LANGUAGE plpgsql AS $$ BEGIN PERFORM pgsodium._standin_unsupported('crypto_box_new_keypair'); RETURN NULL; END $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_box_noncegen() RETURNS bytea
  LANGUAGE sql VOLATILE AS $$ SELECT pgsodium.randombytes_buf(24) $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_box(message bytea, nonce bytea, public bytea, secret bytea) RETURNS bytea
  LANGUAGE plpgsql AS $$ BEGIN PERFORM pgsodium._standin_unsupported('crypto_box'); RETURN NULL; END $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_box_open(ciphertext bytea, nonce bytea, public bytea, secret bytea) RETURNS bytea
  LANGUAGE plpgsql AS $$ BEGIN PERFORM pgsodium._standin_unsupported('crypto_box_open'); RETURN NULL; END $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_sign_new_keypair() RETURNS pgsodium.crypto_sign_keypair
  LANGUAGE plpgsql AS $$ BEGIN PERFORM pgsodium._standin_unsupported('crypto_sign_new_keypair'); RETURN NULL; END $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_sign(message bytea, key bytea) RETURNS bytea
  LANGUAGE plpgsql AS $$ BEGIN PERFORM pgsodium._standin_unsupported('crypto_sign'); RETURN NULL; END $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_sign_open(signed_message bytea, key bytea) RETURNS bytea
  LANGUAGE plpgsql AS $$ BEGIN PERFORM pgsodium._standin_unsupported('crypto_sign_open'); RETURN NULL; END $$;
CREATE OR REPLACE FUNCTION pgsodium.crypto_kx_new_keypair() RETURNS pgsodium.crypto_kx_keypair
  LANGUAGE plpgsql AS $$ BEGIN PERFORM pgsodium._standin_unsupported('crypto_kx_new_keypair'); RETURN NULL; END $$;

-- ---------------------------------------------------------------------------------------
-- Privileges and comments
-- ---------------------------------------------------------------------------------------

GRANT USAGE ON SCHEMA pgsodium TO pgsodium_keyiduser;
GRANT SELECT ON pgsodium.valid_key TO pgsodium_keyiduser;
GRANT SELECT, INSERT, UPDATE, DELETE ON pgsodium.key TO pgsodium_keymaker;
GRANT SELECT ON pgsodium.decrypted_key TO pgsodium_keymaker;
GRANT USAGE ON SEQUENCE pgsodium.key_key_id_seq TO pgsodium_keymaker;

DO $comments$
DECLARE
  c constant text := 'dbaudit stand-in for extension pgsodium';
  r record;
BEGIN
  FOR r IN
    SELECT 'TYPE' AS kind, t.oid::regtype::text AS name
    FROM pg_catalog.pg_type t
    WHERE t.typnamespace = 'pgsodium'::regnamespace
      AND t.typname IN ('key_status', 'key_type', 'crypto_box_keypair', 'crypto_sign_keypair', 'crypto_kx_keypair')
    UNION ALL
    SELECT 'FUNCTION', p.oid::regprocedure::text
    FROM pg_catalog.pg_proc p
    WHERE p.pronamespace = 'pgsodium'::regnamespace
      AND p.proname IN (
        'randombytes_buf', 'randombytes_random', 'randombytes_uniform', 'randombytes_new_seed',
        'derive_key', '_standin_cipher', '_standin_seal', '_standin_open', '_standin_key_bytes',
        'create_key', 'crypto_secretbox_keygen', 'crypto_secretbox_noncegen', 'crypto_secretbox',
        'crypto_secretbox_open', 'crypto_aead_det_keygen', 'crypto_aead_det_noncegen',
        'crypto_aead_det_encrypt', 'crypto_aead_det_decrypt', 'crypto_aead_ietf_keygen',
        'crypto_aead_ietf_noncegen', 'crypto_aead_ietf_encrypt', 'crypto_aead_ietf_decrypt',
        '_standin_hmac', 'crypto_auth_hmacsha256_keygen', 'crypto_auth_hmacsha256',
        'crypto_auth_hmacsha256_verify', 'crypto_auth_hmacsha512_keygen', 'crypto_auth_hmacsha512',
        'crypto_auth_hmacsha512_verify', '_standin_unsupported', 'crypto_box_new_keypair',
        'crypto_box_noncegen', 'crypto_box', 'crypto_box_open', 'crypto_sign_new_keypair',
        'crypto_sign', 'crypto_sign_open', 'crypto_kx_new_keypair')
    UNION ALL
    SELECT 'SEQUENCE', 'pgsodium.key_key_id_seq'
    UNION ALL
    SELECT 'VIEW', unnest(ARRAY['pgsodium.valid_key', 'pgsodium.decrypted_key'])
  LOOP
    EXECUTE format('COMMENT ON %s %s IS %L', r.kind, r.name, c);
  END LOOP;
  FOR r IN
    SELECT a.oid::regtype::text AS name
    FROM pg_catalog.pg_type a
    JOIN pg_catalog.pg_type e ON e.oid = a.typelem AND e.typarray = a.oid
    WHERE a.typnamespace = 'pgsodium'::regnamespace
      AND (obj_description(e.oid, 'pg_type') = c OR obj_description(e.typrelid, 'pg_class') = c)
  LOOP
    EXECUTE format('COMMENT ON TYPE %s IS %L', r.name, c);
  END LOOP;
END
$comments$;
