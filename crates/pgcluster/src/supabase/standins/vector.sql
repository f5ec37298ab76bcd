-- dbaudit stand-in for pgvector (extension "vector"), for servers that lack it.
-- The types keep their text form ('[1,2,3]', '{1:0.5,3:2}/5'); the typmod is the number of
-- dimensions and is checked on assignment, as pgvector does. Distances and operators are
-- computed in SQL. The hnsw and ivfflat access methods exist so CREATE INDEX applies, but they
-- are hash indexes underneath: they are never used for nearest-neighbour ordering and they do
-- not accept hnsw/ivfflat options (WITH (m = 16), WITH (lists = 100)).

DO $types$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['vector', 'halfvec', 'sparsevec'] LOOP
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_type
                   WHERE typname = t AND typnamespace = '@extschema@'::regnamespace) THEN
      EXECUTE format('CREATE TYPE @extschema@.%I', t);
    END IF;
  END LOOP;
END
$types$;

CREATE OR REPLACE FUNCTION @extschema@.vector_in(cstring, oid, integer) RETURNS @extschema@.vector
  AS 'textin' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.vector_out(@extschema@.vector) RETURNS cstring
  AS 'textout' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.vector_typmod_in(cstring[]) RETURNS integer
  AS 'bittypmodin' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.vector_typmod_out(integer) RETURNS cstring
  AS 'bittypmodout' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.vector_recv(internal, oid, integer) RETURNS @extschema@.vector
  AS 'textrecv' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.vector_send(@extschema@.vector) RETURNS bytea
  AS 'textsend' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;

CREATE OR REPLACE FUNCTION @extschema@.halfvec_in(cstring, oid, integer) RETURNS @extschema@.halfvec
  AS 'textin' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.halfvec_out(@extschema@.halfvec) RETURNS cstring
  AS 'textout' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.halfvec_typmod_in(cstring[]) RETURNS integer
  AS 'bittypmodin' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.halfvec_recv(internal, oid, integer) RETURNS @extschema@.halfvec
  AS 'textrecv' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.halfvec_send(@extschema@.halfvec) RETURNS bytea
  AS 'textsend' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;

CREATE OR REPLACE FUNCTION @extschema@.sparsevec_in(cstring, oid, integer) RETURNS @extschema@.sparsevec
  AS 'textin' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.sparsevec_out(@extschema@.sparsevec) RETURNS cstring
  AS 'textout' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.sparsevec_typmod_in(cstring[]) RETURNS integer
  AS 'bittypmodin' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.sparsevec_recv(internal, oid, integer) RETURNS @extschema@.sparsevec
  AS 'textrecv' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.sparsevec_send(@extschema@.sparsevec) RETURNS bytea
  AS 'textsend' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;

DO $types$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['vector', 'halfvec', 'sparsevec'] LOOP
    IF EXISTS (SELECT FROM pg_catalog.pg_type
               WHERE typname = t AND typnamespace = '@extschema@'::regnamespace
                 AND NOT typisdefined) THEN
      EXECUTE format(
        'CREATE TYPE @extschema@.%1$I (INPUT = @extschema@.%1$I_in, OUTPUT = @extschema@.%1$I_out, '
        'TYPMOD_IN = @extschema@.%1$I_typmod_in, TYPMOD_OUT = @extschema@.vector_typmod_out, '
        'RECEIVE = @extschema@.%1$I_recv, SEND = @extschema@.%1$I_send, '
        'INTERNALLENGTH = VARIABLE, STORAGE = extended, ALIGNMENT = int4)', t);
    END IF;
  END LOOP;
END
$types$;

-- ---------------------------------------------------------------------------------------
-- Conversions
-- ---------------------------------------------------------------------------------------

-- The elements of a vector, checked as pgvector's input function checks them.
CREATE OR REPLACE FUNCTION @extschema@.vector_to_float4(@extschema@.vector, integer, boolean) RETURNS real[]
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
  AS $$
DECLARE
  t text := btrim($1::text);
  a real[];
BEGIN
  IF left(t, 1) <> '[' OR right(t, 1) <> ']' THEN
    RAISE EXCEPTION 'invalid input syntax for type vector: "%"', t
      USING ERRCODE = '22P02', DETAIL = 'Vector contents must be within "[" and "]".';
  END IF;
  a := string_to_array(substr(t, 2, length(t) - 2), ',')::real[];
  IF coalesce(array_length(a, 1), 0) < 1 THEN
    RAISE EXCEPTION 'vector must have at least 1 dimension' USING ERRCODE = '22000';
  END IF;
  IF 'NaN'::real = ANY (a) THEN
    RAISE EXCEPTION 'NaN not allowed in vector' USING ERRCODE = '22000';
  END IF;
  IF 'Infinity'::real = ANY (a) OR '-Infinity'::real = ANY (a) THEN
    RAISE EXCEPTION 'infinite value not allowed in vector' USING ERRCODE = '22000';
  END IF;
  RETURN a;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.array_to_vector(real[], integer, boolean) RETURNS @extschema@.vector
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
  AS $$
DECLARE
  n integer := coalesce(array_length($1, 1), 0);
BEGIN
  IF array_ndims($1) > 1 THEN
    RAISE EXCEPTION 'array must be 1-D' USING ERRCODE = '22000';
  END IF;
  IF array_position($1, NULL) IS NOT NULL THEN
    RAISE EXCEPTION 'array must not contain nulls' USING ERRCODE = '22004';
  END IF;
  IF n < 1 THEN
    RAISE EXCEPTION 'vector must have at least 1 dimension' USING ERRCODE = '22000';
  END IF;
  IF $2 > 0 AND n <> $2 THEN
    RAISE EXCEPTION 'expected % dimensions, not %', $2, n USING ERRCODE = '22000';
  END IF;
  RETURN ('[' || array_to_string($1, ',') || ']')::@extschema@.vector;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.array_to_vector(double precision[], integer, boolean) RETURNS @extschema@.vector
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT @extschema@.array_to_vector($1::real[], $2, $3) $$;
CREATE OR REPLACE FUNCTION @extschema@.array_to_vector(numeric[], integer, boolean) RETURNS @extschema@.vector
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT @extschema@.array_to_vector($1::real[], $2, $3) $$;
CREATE OR REPLACE FUNCTION @extschema@.array_to_vector(integer[], integer, boolean) RETURNS @extschema@.vector
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT @extschema@.array_to_vector($1::real[], $2, $3) $$;

-- Assignment to vector(n): checks the dimensions and normalises the text.
CREATE OR REPLACE FUNCTION @extschema@.vector(@extschema@.vector, integer, boolean) RETURNS @extschema@.vector
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT @extschema@.array_to_vector(@extschema@.vector_to_float4($1, -1, false), $2, $3) $$;

CREATE OR REPLACE FUNCTION @extschema@.halfvec_to_vector(@extschema@.halfvec, integer, boolean) RETURNS @extschema@.vector
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT @extschema@.array_to_vector(@extschema@.vector_to_float4($1::text::@extschema@.vector, -1, false), $2, $3) $$;
CREATE OR REPLACE FUNCTION @extschema@.vector_to_halfvec(@extschema@.vector, integer, boolean) RETURNS @extschema@.halfvec
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT @extschema@.array_to_vector(@extschema@.vector_to_float4($1, -1, false), $2, $3)::text::@extschema@.halfvec $$;
CREATE OR REPLACE FUNCTION @extschema@.halfvec(@extschema@.halfvec, integer, boolean) RETURNS @extschema@.halfvec
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT @extschema@.vector_to_halfvec($1::text::@extschema@.vector, $2, $3) $$;
CREATE OR REPLACE FUNCTION @extschema@.array_to_halfvec(real[], integer, boolean) RETURNS @extschema@.halfvec
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT @extschema@.array_to_vector($1, $2, $3)::text::@extschema@.halfvec $$;
CREATE OR REPLACE FUNCTION @extschema@.array_to_halfvec(double precision[], integer, boolean) RETURNS @extschema@.halfvec
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT @extschema@.array_to_vector($1::real[], $2, $3)::text::@extschema@.halfvec $$;
CREATE OR REPLACE FUNCTION @extschema@.array_to_halfvec(numeric[], integer, boolean) RETURNS @extschema@.halfvec
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT @extschema@.array_to_vector($1::real[], $2, $3)::text::@extschema@.halfvec $$;
CREATE OR REPLACE FUNCTION @extschema@.array_to_halfvec(integer[], integer, boolean) RETURNS @extschema@.halfvec
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT @extschema@.array_to_vector($1::real[], $2, $3)::text::@extschema@.halfvec $$;
CREATE OR REPLACE FUNCTION @extschema@.halfvec_to_float4(@extschema@.halfvec, integer, boolean) RETURNS real[]
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT @extschema@.vector_to_float4($1::text::@extschema@.vector, -1, false) $$;

-- sparsevec: '{index:value,...}/dimensions', indexes from 1.
CREATE OR REPLACE FUNCTION @extschema@.sparsevec_to_vector(@extschema@.sparsevec, integer, boolean) RETURNS @extschema@.vector
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
  AS $$
DECLARE
  t text := btrim($1::text);
  m text[];
  dims integer;
  a real[];
  e text;
  i integer;
BEGIN
  m := regexp_match(t, '^\{(.*)\}\s*/\s*(\d+)$');
  IF m IS NULL THEN
    RAISE EXCEPTION 'invalid input syntax for type sparsevec: "%"', t USING ERRCODE = '22P02';
  END IF;
  dims := m[2]::integer;
  IF dims < 1 THEN
    RAISE EXCEPTION 'sparsevec must have at least 1 dimension' USING ERRCODE = '22000';
  END IF;
  a := array_fill(0::real, ARRAY[dims]);
  IF btrim(m[1]) <> '' THEN
    FOREACH e IN ARRAY string_to_array(m[1], ',') LOOP
      i := btrim(split_part(e, ':', 1))::integer;
      IF i < 1 OR i > dims THEN
        RAISE EXCEPTION 'index out of bounds' USING ERRCODE = '22000';
      END IF;
      a[i] := btrim(split_part(e, ':', 2))::real;
    END LOOP;
  END IF;
  RETURN @extschema@.array_to_vector(a, $2, $3);
END
$$;
CREATE OR REPLACE FUNCTION @extschema@.vector_to_sparsevec(@extschema@.vector, integer, boolean) RETURNS @extschema@.sparsevec
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
  AS $$
DECLARE
  a real[] := @extschema@.vector_to_float4($1, -1, false);
  n integer := array_length(a, 1);
BEGIN
  IF $2 > 0 AND n <> $2 THEN
    RAISE EXCEPTION 'expected % dimensions, not %', $2, n USING ERRCODE = '22000';
  END IF;
  RETURN ('{' || coalesce((SELECT string_agg(i || ':' || a[i], ',' ORDER BY i)
                           FROM generate_subscripts(a, 1) AS i WHERE a[i] <> 0), '')
          || '}/' || n)::@extschema@.sparsevec;
END
$$;
CREATE OR REPLACE FUNCTION @extschema@.sparsevec(@extschema@.sparsevec, integer, boolean) RETURNS @extschema@.sparsevec
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT @extschema@.vector_to_sparsevec(@extschema@.sparsevec_to_vector($1, -1, false), $2, $3) $$;

DO $casts$
DECLARE
  c text[];
BEGIN
  FOREACH c SLICE 1 IN ARRAY ARRAY[
    ['integer[]', '@extschema@.vector', '@extschema@.array_to_vector(integer[], integer, boolean)', 'ASSIGNMENT'],
    ['real[]', '@extschema@.vector', '@extschema@.array_to_vector(real[], integer, boolean)', 'ASSIGNMENT'],
    ['double precision[]', '@extschema@.vector', '@extschema@.array_to_vector(double precision[], integer, boolean)', 'ASSIGNMENT'],
    ['numeric[]', '@extschema@.vector', '@extschema@.array_to_vector(numeric[], integer, boolean)', 'ASSIGNMENT'],
    ['@extschema@.vector', 'real[]', '@extschema@.vector_to_float4(@extschema@.vector, integer, boolean)', 'IMPLICIT'],
    ['@extschema@.vector', '@extschema@.vector', '@extschema@.vector(@extschema@.vector, integer, boolean)', 'IMPLICIT'],
    ['integer[]', '@extschema@.halfvec', '@extschema@.array_to_halfvec(integer[], integer, boolean)', 'ASSIGNMENT'],
    ['real[]', '@extschema@.halfvec', '@extschema@.array_to_halfvec(real[], integer, boolean)', 'ASSIGNMENT'],
    ['double precision[]', '@extschema@.halfvec', '@extschema@.array_to_halfvec(double precision[], integer, boolean)', 'ASSIGNMENT'],
    ['numeric[]', '@extschema@.halfvec', '@extschema@.array_to_halfvec(numeric[], integer, boolean)', 'ASSIGNMENT'],
    ['@extschema@.halfvec', 'real[]', '@extschema@.halfvec_to_float4(@extschema@.halfvec, integer, boolean)', 'IMPLICIT'],
    ['@extschema@.halfvec', '@extschema@.halfvec', '@extschema@.halfvec(@extschema@.halfvec, integer, boolean)', 'IMPLICIT'],
    ['@extschema@.halfvec', '@extschema@.vector', '@extschema@.halfvec_to_vector(@extschema@.halfvec, integer, boolean)', 'ASSIGNMENT'],
    ['@extschema@.vector', '@extschema@.halfvec', '@extschema@.vector_to_halfvec(@extschema@.vector, integer, boolean)', 'IMPLICIT'],
    ['@extschema@.sparsevec', '@extschema@.vector', '@extschema@.sparsevec_to_vector(@extschema@.sparsevec, integer, boolean)', 'ASSIGNMENT'],
    ['@extschema@.vector', '@extschema@.sparsevec', '@extschema@.vector_to_sparsevec(@extschema@.vector, integer, boolean)', 'ASSIGNMENT'],
    ['@extschema@.sparsevec', '@extschema@.sparsevec', '@extschema@.sparsevec(@extschema@.sparsevec, integer, boolean)', 'IMPLICIT']
  ] LOOP
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_cast
                   WHERE castsource = c[1]::regtype AND casttarget = c[2]::regtype) THEN
      EXECUTE format('CREATE CAST (%s AS %s) WITH FUNCTION %s AS %s', c[1], c[2], c[3], c[4]);
    END IF;
  END LOOP;
END
$casts$;

-- ---------------------------------------------------------------------------------------
-- Functions
-- ---------------------------------------------------------------------------------------

-- Element pairs of two vectors of the same dimensions.
CREATE OR REPLACE FUNCTION @extschema@.vector_pairs(@extschema@.vector, @extschema@.vector)
  RETURNS TABLE(x double precision, y double precision)
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
  AS $$
DECLARE
  a real[] := @extschema@.vector_to_float4($1, -1, false);
  b real[] := @extschema@.vector_to_float4($2, -1, false);
BEGIN
  IF array_length(a, 1) <> array_length(b, 1) THEN
    RAISE EXCEPTION 'different vector dimensions % and %', array_length(a, 1), array_length(b, 1)
      USING ERRCODE = '22000';
  END IF;
  RETURN QUERY SELECT u.x::double precision, u.y::double precision FROM unnest(a, b) AS u(x, y);
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.l2_distance(@extschema@.vector, @extschema@.vector) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT sqrt(sum((p.x - p.y) * (p.x - p.y))) FROM @extschema@.vector_pairs($1, $2) AS p $$;
CREATE OR REPLACE FUNCTION @extschema@.vector_l2_squared_distance(@extschema@.vector, @extschema@.vector) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT sum((p.x - p.y) * (p.x - p.y)) FROM @extschema@.vector_pairs($1, $2) AS p $$;
CREATE OR REPLACE FUNCTION @extschema@.inner_product(@extschema@.vector, @extschema@.vector) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT sum(p.x * p.y) FROM @extschema@.vector_pairs($1, $2) AS p $$;
CREATE OR REPLACE FUNCTION @extschema@.vector_negative_inner_product(@extschema@.vector, @extschema@.vector) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT -sum(p.x * p.y) FROM @extschema@.vector_pairs($1, $2) AS p $$;
CREATE OR REPLACE FUNCTION @extschema@.cosine_distance(@extschema@.vector, @extschema@.vector) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$
  SELECT CASE WHEN sum(p.x * p.x) = 0 OR sum(p.y * p.y) = 0 THEN 'NaN'::double precision
              ELSE 1 - greatest(-1, least(1, sum(p.x * p.y) / (sqrt(sum(p.x * p.x)) * sqrt(sum(p.y * p.y)))))
         END
  FROM @extschema@.vector_pairs($1, $2) AS p
$$;
CREATE OR REPLACE FUNCTION @extschema@.l1_distance(@extschema@.vector, @extschema@.vector) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT sum(abs(p.x - p.y)) FROM @extschema@.vector_pairs($1, $2) AS p $$;
CREATE OR REPLACE FUNCTION @extschema@.vector_dims(@extschema@.vector) RETURNS integer
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT array_length(@extschema@.vector_to_float4($1, -1, false), 1) $$;
CREATE OR REPLACE FUNCTION @extschema@.vector_norm(@extschema@.vector) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT sqrt(sum(x::double precision * x)) FROM unnest(@extschema@.vector_to_float4($1, -1, false)) AS x $$;
CREATE OR REPLACE FUNCTION @extschema@.l2_normalize(@extschema@.vector) RETURNS @extschema@.vector
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$
  SELECT @extschema@.array_to_vector(
    array_agg(CASE WHEN n = 0 THEN 0 ELSE x / n END ORDER BY i)::real[], -1, false)
  FROM unnest(@extschema@.vector_to_float4($1, -1, false)) WITH ORDINALITY AS u(x, i),
       (SELECT @extschema@.vector_norm($1) AS n) AS norm
$$;
CREATE OR REPLACE FUNCTION @extschema@.subvector(@extschema@.vector, integer, integer) RETURNS @extschema@.vector
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT @extschema@.array_to_vector((@extschema@.vector_to_float4($1, -1, false))[greatest($2, 1):$2 + $3 - 1], -1, false) $$;
CREATE OR REPLACE FUNCTION @extschema@.binary_quantize(@extschema@.vector) RETURNS bit
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$
  SELECT string_agg(CASE WHEN x > 0 THEN '1' ELSE '0' END, '' ORDER BY i)::varbit
  FROM unnest(@extschema@.vector_to_float4($1, -1, false)) WITH ORDINALITY AS u(x, i)
$$;
CREATE OR REPLACE FUNCTION @extschema@.vector_add(@extschema@.vector, @extschema@.vector) RETURNS @extschema@.vector
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT @extschema@.array_to_vector(array_agg(p.x + p.y)::real[], -1, false) FROM @extschema@.vector_pairs($1, $2) AS p $$;
CREATE OR REPLACE FUNCTION @extschema@.vector_sub(@extschema@.vector, @extschema@.vector) RETURNS @extschema@.vector
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT @extschema@.array_to_vector(array_agg(p.x - p.y)::real[], -1, false) FROM @extschema@.vector_pairs($1, $2) AS p $$;
CREATE OR REPLACE FUNCTION @extschema@.vector_mul(@extschema@.vector, @extschema@.vector) RETURNS @extschema@.vector
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT @extschema@.array_to_vector(array_agg(p.x * p.y)::real[], -1, false) FROM @extschema@.vector_pairs($1, $2) AS p $$;
CREATE OR REPLACE FUNCTION @extschema@.vector_concat(@extschema@.vector, @extschema@.vector) RETURNS @extschema@.vector
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT @extschema@.array_to_vector(@extschema@.vector_to_float4($1, -1, false) || @extschema@.vector_to_float4($2, -1, false), -1, false) $$;
CREATE OR REPLACE FUNCTION @extschema@.vector_cmp(@extschema@.vector, @extschema@.vector) RETURNS integer
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT btarraycmp(@extschema@.vector_to_float4($1, -1, false), @extschema@.vector_to_float4($2, -1, false)) $$;
CREATE OR REPLACE FUNCTION @extschema@.vector_lt(@extschema@.vector, @extschema@.vector) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT @extschema@.vector_cmp($1, $2) < 0 $$;
CREATE OR REPLACE FUNCTION @extschema@.vector_le(@extschema@.vector, @extschema@.vector) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT @extschema@.vector_cmp($1, $2) <= 0 $$;
CREATE OR REPLACE FUNCTION @extschema@.vector_eq(@extschema@.vector, @extschema@.vector) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT @extschema@.vector_cmp($1, $2) = 0 $$;
CREATE OR REPLACE FUNCTION @extschema@.vector_ne(@extschema@.vector, @extschema@.vector) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT @extschema@.vector_cmp($1, $2) <> 0 $$;
CREATE OR REPLACE FUNCTION @extschema@.vector_ge(@extschema@.vector, @extschema@.vector) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT @extschema@.vector_cmp($1, $2) >= 0 $$;
CREATE OR REPLACE FUNCTION @extschema@.vector_gt(@extschema@.vector, @extschema@.vector) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT @extschema@.vector_cmp($1, $2) > 0 $$;

-- Aggregates: state is {count, sum_1, ..., sum_n}.
CREATE OR REPLACE FUNCTION @extschema@.vector_accum(double precision[], @extschema@.vector) RETURNS double precision[]
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
  AS $$
DECLARE
  a real[] := @extschema@.vector_to_float4($2, -1, false);
  s double precision[] := $1;
  i integer;
BEGIN
  IF coalesce(array_length(s, 1), 0) = 0 THEN
    s := array_fill(0::double precision, ARRAY[array_length(a, 1) + 1]);
  ELSIF array_length(s, 1) - 1 <> array_length(a, 1) THEN
    RAISE EXCEPTION 'expected % dimensions, not %', array_length(s, 1) - 1, array_length(a, 1)
      USING ERRCODE = '22000';
  END IF;
  s[1] := s[1] + 1;
  FOR i IN 1 .. array_length(a, 1) LOOP
    s[i + 1] := s[i + 1] + a[i];
  END LOOP;
  RETURN s;
END
$$;
CREATE OR REPLACE FUNCTION @extschema@.vector_combine(double precision[], double precision[]) RETURNS double precision[]
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$
  SELECT CASE WHEN coalesce(array_length($1, 1), 0) = 0 THEN $2
              WHEN coalesce(array_length($2, 1), 0) = 0 THEN $1
              ELSE (SELECT array_agg(u.x + u.y ORDER BY u.i) FROM unnest($1, $2) WITH ORDINALITY AS u(x, y, i))
         END
$$;
CREATE OR REPLACE FUNCTION @extschema@.vector_avg(double precision[]) RETURNS @extschema@.vector
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$
  SELECT CASE WHEN coalesce(array_length($1, 1), 0) = 0 THEN NULL
              ELSE @extschema@.array_to_vector((SELECT array_agg(x / $1[1] ORDER BY i) FROM unnest($1[2:]) WITH ORDINALITY AS u(x, i))::real[], -1, false)
         END
$$;
CREATE OR REPLACE FUNCTION @extschema@.vector_sum_final(double precision[]) RETURNS @extschema@.vector
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$
  SELECT CASE WHEN coalesce(array_length($1, 1), 0) = 0 THEN NULL
              ELSE @extschema@.array_to_vector($1[2:]::real[], -1, false)
         END
$$;
CREATE OR REPLACE AGGREGATE @extschema@.avg(@extschema@.vector) (
  SFUNC = @extschema@.vector_accum, STYPE = double precision[], FINALFUNC = @extschema@.vector_avg,
  COMBINEFUNC = @extschema@.vector_combine, INITCOND = '{}', PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE @extschema@.sum(@extschema@.vector) (
  SFUNC = @extschema@.vector_accum, STYPE = double precision[], FINALFUNC = @extschema@.vector_sum_final,
  COMBINEFUNC = @extschema@.vector_combine, INITCOND = '{}', PARALLEL = SAFE);

-- halfvec and sparsevec: the same distances, through vector.
CREATE OR REPLACE FUNCTION @extschema@.l2_distance(@extschema@.halfvec, @extschema@.halfvec) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT @extschema@.l2_distance($1::@extschema@.vector, $2::@extschema@.vector) $$;
CREATE OR REPLACE FUNCTION @extschema@.inner_product(@extschema@.halfvec, @extschema@.halfvec) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT @extschema@.inner_product($1::@extschema@.vector, $2::@extschema@.vector) $$;
CREATE OR REPLACE FUNCTION @extschema@.halfvec_negative_inner_product(@extschema@.halfvec, @extschema@.halfvec) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT -@extschema@.inner_product($1::@extschema@.vector, $2::@extschema@.vector) $$;
CREATE OR REPLACE FUNCTION @extschema@.cosine_distance(@extschema@.halfvec, @extschema@.halfvec) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT @extschema@.cosine_distance($1::@extschema@.vector, $2::@extschema@.vector) $$;
CREATE OR REPLACE FUNCTION @extschema@.l1_distance(@extschema@.halfvec, @extschema@.halfvec) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT @extschema@.l1_distance($1::@extschema@.vector, $2::@extschema@.vector) $$;
CREATE OR REPLACE FUNCTION @extschema@.vector_dims(@extschema@.halfvec) RETURNS integer
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT @extschema@.vector_dims($1::@extschema@.vector) $$;
CREATE OR REPLACE FUNCTION @extschema@.l2_distance(@extschema@.sparsevec, @extschema@.sparsevec) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT @extschema@.l2_distance($1::@extschema@.vector, $2::@extschema@.vector) $$;
CREATE OR REPLACE FUNCTION @extschema@.inner_product(@extschema@.sparsevec, @extschema@.sparsevec) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT @extschema@.inner_product($1::@extschema@.vector, $2::@extschema@.vector) $$;
CREATE OR REPLACE FUNCTION @extschema@.sparsevec_negative_inner_product(@extschema@.sparsevec, @extschema@.sparsevec) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT -@extschema@.inner_product($1::@extschema@.vector, $2::@extschema@.vector) $$;
CREATE OR REPLACE FUNCTION @extschema@.cosine_distance(@extschema@.sparsevec, @extschema@.sparsevec) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT @extschema@.cosine_distance($1::@extschema@.vector, $2::@extschema@.vector) $$;
CREATE OR REPLACE FUNCTION @extschema@.l1_distance(@extschema@.sparsevec, @extschema@.sparsevec) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT @extschema@.l1_distance($1::@extschema@.vector, $2::@extschema@.vector) $$;

-- bit: Hamming and Jaccard distances.
CREATE OR REPLACE FUNCTION @extschema@.hamming_distance(bit, bit) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT length(replace(($1 # $2)::text, '0', ''))::double precision $$;
CREATE OR REPLACE FUNCTION @extschema@.jaccard_distance(bit, bit) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$
  SELECT CASE WHEN length(replace(($1 | $2)::text, '0', '')) = 0 THEN 0::double precision
              ELSE 1 - length(replace(($1 & $2)::text, '0', ''))::double precision
                       / length(replace(($1 | $2)::text, '0', ''))
         END
$$;

-- ---------------------------------------------------------------------------------------
-- Operators
-- ---------------------------------------------------------------------------------------

DO $ops$
DECLARE
  o text[];
BEGIN
  FOREACH o SLICE 1 IN ARRAY ARRAY[
    -- name, left, right, function, commutator
    ['<->', '@extschema@.vector', '@extschema@.vector', '@extschema@.l2_distance', '<->'],
    ['<#>', '@extschema@.vector', '@extschema@.vector', '@extschema@.vector_negative_inner_product', '<#>'],
    ['<=>', '@extschema@.vector', '@extschema@.vector', '@extschema@.cosine_distance', '<=>'],
    ['<+>', '@extschema@.vector', '@extschema@.vector', '@extschema@.l1_distance', '<+>'],
    ['+', '@extschema@.vector', '@extschema@.vector', '@extschema@.vector_add', '+'],
    ['-', '@extschema@.vector', '@extschema@.vector', '@extschema@.vector_sub', ''],
    ['*', '@extschema@.vector', '@extschema@.vector', '@extschema@.vector_mul', '*'],
    ['||', '@extschema@.vector', '@extschema@.vector', '@extschema@.vector_concat', ''],
    ['<', '@extschema@.vector', '@extschema@.vector', '@extschema@.vector_lt', '>'],
    ['<=', '@extschema@.vector', '@extschema@.vector', '@extschema@.vector_le', '>='],
    ['=', '@extschema@.vector', '@extschema@.vector', '@extschema@.vector_eq', '='],
    ['<>', '@extschema@.vector', '@extschema@.vector', '@extschema@.vector_ne', '<>'],
    ['>=', '@extschema@.vector', '@extschema@.vector', '@extschema@.vector_ge', '<='],
    ['>', '@extschema@.vector', '@extschema@.vector', '@extschema@.vector_gt', '<'],
    ['<->', '@extschema@.halfvec', '@extschema@.halfvec', '@extschema@.l2_distance', '<->'],
    ['<#>', '@extschema@.halfvec', '@extschema@.halfvec', '@extschema@.halfvec_negative_inner_product', '<#>'],
    ['<=>', '@extschema@.halfvec', '@extschema@.halfvec', '@extschema@.cosine_distance', '<=>'],
    ['<+>', '@extschema@.halfvec', '@extschema@.halfvec', '@extschema@.l1_distance', '<+>'],
    ['<->', '@extschema@.sparsevec', '@extschema@.sparsevec', '@extschema@.l2_distance', '<->'],
    ['<#>', '@extschema@.sparsevec', '@extschema@.sparsevec', '@extschema@.sparsevec_negative_inner_product', '<#>'],
    ['<=>', '@extschema@.sparsevec', '@extschema@.sparsevec', '@extschema@.cosine_distance', '<=>'],
    ['<+>', '@extschema@.sparsevec', '@extschema@.sparsevec', '@extschema@.l1_distance', '<+>'],
    ['<~>', 'bit', 'bit', '@extschema@.hamming_distance', '<~>'],
    ['<%>', 'bit', 'bit', '@extschema@.jaccard_distance', '<%>']
  ] LOOP
    -- A commutator named earlier exists as a shell until it is defined.
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_operator
                   WHERE oid = to_regoperator(format('@extschema@.%s(%s,%s)', o[1], o[2], o[3]))
                     AND oprcode <> 0) THEN
      EXECUTE format('CREATE OPERATOR @extschema@.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = %s%s)',
        o[1], o[2], o[3], o[4],
        CASE WHEN o[5] = '' THEN '' ELSE format(', COMMUTATOR = OPERATOR(@extschema@.%s)', o[5]) END);
    END IF;
  END LOOP;
END
$ops$;

-- ---------------------------------------------------------------------------------------
-- Index support: hnsw and ivfflat accept the operator classes pgvector has (built as hash
-- indexes, so they hold any vector and are never chosen for ORDER BY <->).
-- ---------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION @extschema@.vector_hash(@extschema@.vector) RETURNS integer
  AS 'hashvarlena' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.halfvec_hash(@extschema@.halfvec) RETURNS integer
  AS 'hashvarlena' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.sparsevec_hash(@extschema@.sparsevec) RETURNS integer
  AS 'hashvarlena' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.bit_hash(bit) RETURNS integer
  AS 'hashvarlena' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;

DO $am$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_am WHERE amname = 'hnsw') THEN
    CREATE ACCESS METHOD hnsw TYPE INDEX HANDLER hashhandler;
    COMMENT ON ACCESS METHOD hnsw IS 'dbaudit stand-in for extension vector';
  END IF;
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_am WHERE amname = 'ivfflat') THEN
    CREATE ACCESS METHOD ivfflat TYPE INDEX HANDLER hashhandler;
    COMMENT ON ACCESS METHOD ivfflat IS 'dbaudit stand-in for extension vector';
  END IF;
END
$am$;

DO $opclasses$
DECLARE
  c text[];
BEGIN
  FOREACH c SLICE 1 IN ARRAY ARRAY[
    -- name, access method, type, hash function, default
    ['vector_l2_ops', 'hnsw', '@extschema@.vector', '@extschema@.vector_hash(@extschema@.vector)', 'DEFAULT'],
    ['vector_ip_ops', 'hnsw', '@extschema@.vector', '@extschema@.vector_hash(@extschema@.vector)', ''],
    ['vector_cosine_ops', 'hnsw', '@extschema@.vector', '@extschema@.vector_hash(@extschema@.vector)', ''],
    ['vector_l1_ops', 'hnsw', '@extschema@.vector', '@extschema@.vector_hash(@extschema@.vector)', ''],
    ['halfvec_l2_ops', 'hnsw', '@extschema@.halfvec', '@extschema@.halfvec_hash(@extschema@.halfvec)', 'DEFAULT'],
    ['halfvec_ip_ops', 'hnsw', '@extschema@.halfvec', '@extschema@.halfvec_hash(@extschema@.halfvec)', ''],
    ['halfvec_cosine_ops', 'hnsw', '@extschema@.halfvec', '@extschema@.halfvec_hash(@extschema@.halfvec)', ''],
    ['halfvec_l1_ops', 'hnsw', '@extschema@.halfvec', '@extschema@.halfvec_hash(@extschema@.halfvec)', ''],
    ['sparsevec_l2_ops', 'hnsw', '@extschema@.sparsevec', '@extschema@.sparsevec_hash(@extschema@.sparsevec)', 'DEFAULT'],
    ['sparsevec_ip_ops', 'hnsw', '@extschema@.sparsevec', '@extschema@.sparsevec_hash(@extschema@.sparsevec)', ''],
    ['sparsevec_cosine_ops', 'hnsw', '@extschema@.sparsevec', '@extschema@.sparsevec_hash(@extschema@.sparsevec)', ''],
    ['sparsevec_l1_ops', 'hnsw', '@extschema@.sparsevec', '@extschema@.sparsevec_hash(@extschema@.sparsevec)', ''],
    ['bit_hamming_ops', 'hnsw', 'bit', '@extschema@.bit_hash(bit)', ''],
    ['bit_jaccard_ops', 'hnsw', 'bit', '@extschema@.bit_hash(bit)', ''],
    ['vector_l2_ops', 'ivfflat', '@extschema@.vector', '@extschema@.vector_hash(@extschema@.vector)', 'DEFAULT'],
    ['vector_ip_ops', 'ivfflat', '@extschema@.vector', '@extschema@.vector_hash(@extschema@.vector)', ''],
    ['vector_cosine_ops', 'ivfflat', '@extschema@.vector', '@extschema@.vector_hash(@extschema@.vector)', ''],
    ['halfvec_l2_ops', 'ivfflat', '@extschema@.halfvec', '@extschema@.halfvec_hash(@extschema@.halfvec)', 'DEFAULT'],
    ['halfvec_ip_ops', 'ivfflat', '@extschema@.halfvec', '@extschema@.halfvec_hash(@extschema@.halfvec)', ''],
    ['halfvec_cosine_ops', 'ivfflat', '@extschema@.halfvec', '@extschema@.halfvec_hash(@extschema@.halfvec)', ''],
    ['bit_hamming_ops', 'ivfflat', 'bit', '@extschema@.bit_hash(bit)', '']
  ] LOOP
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_opclass oc JOIN pg_catalog.pg_am am ON am.oid = oc.opcmethod
                   WHERE oc.opcname = c[1] AND am.amname = c[2]
                     AND oc.opcnamespace = '@extschema@'::regnamespace) THEN
      EXECUTE format('CREATE OPERATOR CLASS @extschema@.%I %s FOR TYPE %s USING %I AS FUNCTION 1 %s',
        c[1], c[5], c[3], c[2], c[4]);
    END IF;
    EXECUTE format('COMMENT ON OPERATOR CLASS @extschema@.%I USING %I IS %L',
      c[1], c[2], 'dbaudit stand-in for extension vector');
    EXECUTE format('COMMENT ON OPERATOR FAMILY @extschema@.%I USING %I IS %L',
      c[1], c[2], 'dbaudit stand-in for extension vector');
  END LOOP;
END
$opclasses$;

DO $btree$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_opclass oc JOIN pg_catalog.pg_am am ON am.oid = oc.opcmethod
                 WHERE oc.opcname = 'vector_ops' AND am.amname = 'btree'
                   AND oc.opcnamespace = '@extschema@'::regnamespace) THEN
    CREATE OPERATOR CLASS @extschema@.vector_ops DEFAULT FOR TYPE @extschema@.vector USING btree AS
      OPERATOR 1 @extschema@.< (@extschema@.vector, @extschema@.vector),
      OPERATOR 2 @extschema@.<= (@extschema@.vector, @extschema@.vector),
      OPERATOR 3 @extschema@.= (@extschema@.vector, @extschema@.vector),
      OPERATOR 4 @extschema@.>= (@extschema@.vector, @extschema@.vector),
      OPERATOR 5 @extschema@.> (@extschema@.vector, @extschema@.vector),
      FUNCTION 1 @extschema@.vector_cmp(@extschema@.vector, @extschema@.vector);
  END IF;
  COMMENT ON OPERATOR CLASS @extschema@.vector_ops USING btree IS 'dbaudit stand-in for extension vector';
  COMMENT ON OPERATOR FAMILY @extschema@.vector_ops USING btree IS 'dbaudit stand-in for extension vector';
END
$btree$;

-- ---------------------------------------------------------------------------------------
-- Every object above says what it is, so the catalog loader can leave it out.
-- ---------------------------------------------------------------------------------------

DO $comments$
DECLARE
  c constant text := 'dbaudit stand-in for extension vector';
  r record;
BEGIN
  FOR r IN
    SELECT t.oid::regtype AS t, t.typarray::regtype AS arr
    FROM pg_catalog.pg_type t
    WHERE t.typnamespace = '@extschema@'::regnamespace AND t.typname IN ('vector', 'halfvec', 'sparsevec')
  LOOP
    EXECUTE format('COMMENT ON TYPE %s IS %L', r.t, c);
    EXECUTE format('COMMENT ON TYPE %s IS %L', r.arr, c);
  END LOOP;
  FOR r IN
    SELECT p.oid::regprocedure AS f, p.prokind
    FROM pg_catalog.pg_proc p
    WHERE p.pronamespace = '@extschema@'::regnamespace
      AND p.proname = ANY (ARRAY['array_to_halfvec',
        'array_to_vector',
        'avg',
        'binary_quantize',
        'bit_hash',
        'cosine_distance',
        'halfvec',
        'halfvec_hash',
        'halfvec_in',
        'halfvec_negative_inner_product',
        'halfvec_out',
        'halfvec_recv',
        'halfvec_send',
        'halfvec_to_float4',
        'halfvec_to_vector',
        'halfvec_typmod_in',
        'hamming_distance',
        'inner_product',
        'jaccard_distance',
        'l1_distance',
        'l2_distance',
        'l2_normalize',
        'sparsevec',
        'sparsevec_hash',
        'sparsevec_in',
        'sparsevec_negative_inner_product',
        'sparsevec_out',
        'sparsevec_recv',
        'sparsevec_send',
        'sparsevec_to_vector',
        'sparsevec_typmod_in',
        'subvector',
        'sum',
        'vector',
        'vector_accum',
        'vector_add',
        'vector_avg',
        'vector_cmp',
        'vector_combine',
        'vector_concat',
        'vector_dims',
        'vector_eq',
        'vector_ge',
        'vector_gt',
        'vector_hash',
        'vector_in',
        'vector_l2_squared_distance',
        'vector_le',
        'vector_lt',
        'vector_mul',
        'vector_ne',
        'vector_negative_inner_product',
        'vector_norm',
        'vector_out',
        'vector_pairs',
        'vector_recv',
        'vector_send',
        'vector_sub',
        'vector_sum_final',
        'vector_to_float4',
        'vector_to_halfvec',
        'vector_to_sparsevec',
        'vector_typmod_in',
        'vector_typmod_out'])
      AND (p.prokind <> 'a'
           OR p.proargtypes[0] = (SELECT oid FROM pg_catalog.pg_type
                                  WHERE typnamespace = '@extschema@'::regnamespace AND typname = 'vector'))
  LOOP
    EXECUTE format('COMMENT ON %s %s IS %L',
      CASE r.prokind WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END, r.f, c);
  END LOOP;
  FOR r IN
    SELECT o.oid::regoperator AS o
    FROM pg_catalog.pg_operator o
    WHERE o.oprnamespace = '@extschema@'::regnamespace
      AND o.oprcode::oid IN (SELECT p.oid FROM pg_catalog.pg_proc p
                             JOIN pg_catalog.pg_description d
                               ON d.objoid = p.oid AND d.classoid = 'pg_catalog.pg_proc'::regclass
                             WHERE d.description = c)
  LOOP
    EXECUTE format('COMMENT ON OPERATOR %s IS %L', r.o, c);
  END LOOP;
  FOR r IN
    SELECT format_type(k.castsource, NULL) AS s, format_type(k.casttarget, NULL) AS t
    FROM pg_catalog.pg_cast k
    JOIN pg_catalog.pg_description d ON d.objoid = k.castfunc AND d.classoid = 'pg_catalog.pg_proc'::regclass
    WHERE d.description = c
  LOOP
    EXECUTE format('COMMENT ON CAST (%s AS %s) IS %L', r.s, r.t, c);
  END LOOP;
END
$comments$;
