-- dbaudit stand-in for supabase_vault: the `vault` schema with vault.secrets, the
-- vault.decrypted_secrets view and create_secret/update_secret with Vault's signatures.
-- Secrets are stored encrypted and read back decrypted as in Vault, but with a keystream
-- derived by SHA-256 from a fixed key instead of libsodium and a server root key: secrets in a
-- throwaway database, not secure.

DO $schema$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = 'vault') THEN
    CREATE SCHEMA vault;
  END IF;
  -- The schema is the extension's when nothing else is in it yet.
  IF obj_description('vault'::regnamespace, 'pg_namespace') IS NULL
     AND NOT EXISTS (SELECT FROM pg_catalog.pg_class WHERE relnamespace = 'vault'::regnamespace)
     AND NOT EXISTS (SELECT FROM pg_catalog.pg_proc WHERE pronamespace = 'vault'::regnamespace)
     AND NOT EXISTS (SELECT FROM pg_catalog.pg_type WHERE typnamespace = 'vault'::regnamespace) THEN
    COMMENT ON SCHEMA vault IS 'dbaudit stand-in for extension supabase_vault';
  END IF;
END
$schema$;

-- Deterministic authenticated encryption: message XOR SHA-256 keystream, then a 16-byte tag.
CREATE OR REPLACE FUNCTION vault._crypto_aead_det_encrypt(
  message bytea, additional bytea, key_id bigint, context bytea DEFAULT '\x7067736f6469756d'::bytea,
  nonce bytea DEFAULT NULL::bytea) RETURNS bytea
  LANGUAGE plpgsql IMMUTABLE
  AS $$
DECLARE
  k bytea := sha256('dbaudit stand-in key'::bytea || int8send(key_id) || coalesce(context, ''::bytea));
  n bytea := coalesce(nonce, ''::bytea);
  out bytea := message;
  block bytea;
  i integer;
BEGIN
  FOR i IN 0 .. length(message) - 1 LOOP
    IF i % 32 = 0 THEN
      block := sha256(k || n || coalesce(additional, ''::bytea) || int4send(i / 32));
    END IF;
    out := set_byte(out, i, get_byte(message, i) # get_byte(block, i % 32));
  END LOOP;
  RETURN out || substring(sha256(k || n || coalesce(additional, ''::bytea) || out) FROM 1 FOR 16);
END
$$;

CREATE OR REPLACE FUNCTION vault._crypto_aead_det_decrypt(
  message bytea, additional bytea, key_id bigint, context bytea DEFAULT '\x7067736f6469756d'::bytea,
  nonce bytea DEFAULT NULL::bytea) RETURNS bytea
  LANGUAGE plpgsql IMMUTABLE
  AS $$
DECLARE
  k bytea := sha256('dbaudit stand-in key'::bytea || int8send(key_id) || coalesce(context, ''::bytea));
  n bytea := coalesce(nonce, ''::bytea);
  body bytea;
  out bytea;
  block bytea;
  i integer;
BEGIN
  IF length(message) < 16 THEN
    RAISE EXCEPTION 'pgsodium_crypto_aead_det_decrypt_by_id: invalid message';
  END IF;
  body := substring(message FROM 1 FOR length(message) - 16);
  IF substring(message FROM length(message) - 15) <> substring(sha256(k || n || coalesce(additional, ''::bytea) || body) FROM 1 FOR 16) THEN
    RAISE EXCEPTION 'pgsodium_crypto_aead_det_decrypt_by_id: invalid ciphertext';
  END IF;
  out := body;
  FOR i IN 0 .. length(body) - 1 LOOP
    IF i % 32 = 0 THEN
      block := sha256(k || n || coalesce(additional, ''::bytea) || int4send(i / 32));
    END IF;
    out := set_byte(out, i, get_byte(body, i) # get_byte(block, i % 32));
  END LOOP;
  RETURN out;
END
$$;

CREATE OR REPLACE FUNCTION vault._crypto_aead_det_noncegen() RETURNS bytea
  LANGUAGE sql VOLATILE
  AS $$ SELECT uuid_send(gen_random_uuid()) $$;

CREATE TABLE IF NOT EXISTS vault.secrets (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text,
  description text NOT NULL DEFAULT '',
  secret text NOT NULL,
  key_id uuid,
  nonce bytea DEFAULT vault._crypto_aead_det_noncegen(),
  created_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX IF NOT EXISTS secrets_name_idx ON vault.secrets USING btree (name) WHERE name IS NOT NULL;

CREATE OR REPLACE VIEW vault.decrypted_secrets AS
SELECT s.id,
  s.name,
  s.description,
  s.secret,
  convert_from(
    vault._crypto_aead_det_decrypt(
      message := decode(s.secret, 'base64'::text),
      additional := convert_to(s.id::text, 'utf8'),
      key_id := 0,
      context := 'pgsodium'::bytea,
      nonce := s.nonce
    ),
    'utf8'::name
  ) AS decrypted_secret,
  s.key_id,
  s.nonce,
  s.created_at,
  s.updated_at
FROM vault.secrets s;

CREATE OR REPLACE FUNCTION vault.create_secret(
  new_secret text,
  new_name text DEFAULT NULL::text,
  new_description text DEFAULT ''::text,
  new_key_id uuid DEFAULT NULL::uuid)
  RETURNS uuid
  LANGUAGE plpgsql
  SET search_path = ''
  AS $$
DECLARE
  rec record;
BEGIN
  INSERT INTO vault.secrets (secret, name, description)
  VALUES (
    new_secret,
    new_name,
    new_description
  )
  RETURNING * INTO rec;
  UPDATE vault.secrets s
  SET secret = encode(vault._crypto_aead_det_encrypt(
    message := convert_to(rec.secret, 'utf8'),
    additional := convert_to(s.id::text, 'utf8'),
    key_id := 0,
    context := 'pgsodium'::bytea,
    nonce := rec.nonce
  ), 'base64')
  WHERE id = rec.id;
  RETURN rec.id;
END
$$;

CREATE OR REPLACE FUNCTION vault.update_secret(
  secret_id uuid,
  new_secret text DEFAULT NULL::text,
  new_name text DEFAULT NULL::text,
  new_description text DEFAULT NULL::text,
  new_key_id uuid DEFAULT NULL::uuid)
  RETURNS void
  LANGUAGE plpgsql
  SET search_path = ''
  AS $$
BEGIN
  UPDATE vault.secrets s
  SET
    secret = CASE WHEN new_secret IS NULL THEN s.secret
                  ELSE encode(vault._crypto_aead_det_encrypt(
                    message := convert_to(new_secret, 'utf8'),
                    additional := convert_to(s.id::text, 'utf8'),
                    key_id := 0,
                    context := 'pgsodium'::bytea,
                    nonce := s.nonce
                  ), 'base64') END,
    name = coalesce(new_name, s.name),
    description = coalesce(new_description, s.description),
    updated_at = now()
  WHERE s.id = secret_id;
END
$$;

REVOKE ALL ON TABLE vault.secrets, vault.decrypted_secrets FROM PUBLIC;

DO $comments$
DECLARE
  c constant text := 'dbaudit stand-in for extension supabase_vault';
  o text;
BEGIN
  FOREACH o IN ARRAY ARRAY[
    'FUNCTION vault._crypto_aead_det_encrypt(bytea, bytea, bigint, bytea, bytea)',
    'FUNCTION vault._crypto_aead_det_decrypt(bytea, bytea, bigint, bytea, bytea)',
    'FUNCTION vault._crypto_aead_det_noncegen()',
    'TABLE vault.secrets',
    'VIEW vault.decrypted_secrets',
    'FUNCTION vault.create_secret(text, text, text, uuid)',
    'FUNCTION vault.update_secret(uuid, text, text, text, uuid)'
  ] LOOP
    EXECUTE format('COMMENT ON %s IS %L', o, c);
  END LOOP;
  FOR o IN
    SELECT a.oid::regtype::text
    FROM pg_catalog.pg_type a
    JOIN pg_catalog.pg_type e ON e.oid = a.typelem AND e.typarray = a.oid
    WHERE a.typnamespace = 'vault'::regnamespace
      AND (obj_description(e.oid, 'pg_type') = c OR obj_description(e.typrelid, 'pg_class') = c)
  LOOP
    EXECUTE format('COMMENT ON TYPE %s IS %L', o, c);
  END LOOP;
END
$comments$;
