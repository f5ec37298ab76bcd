-- dbaudit stand-in for pg_jsonschema: json_matches_schema, jsonb_matches_schema,
-- jsonschema_is_valid and jsonschema_validation_errors with pg_jsonschema's signatures,
-- validating in PL/pgSQL. Keywords checked: type, enum, const, properties, required,
-- additionalProperties, patternProperties, minProperties, maxProperties, items (schema or
-- tuple), prefixItems, additionalItems, minItems, maxItems, uniqueItems, contains, minLength,
-- maxLength, pattern, minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf,
-- allOf, anyOf, oneOf, not, if/then/else, and $ref to "#" and "#/$defs|definitions/...".
-- Other keywords (format, dependentSchemas, unevaluated*, remote $ref) are not checked.

CREATE OR REPLACE FUNCTION @extschema@.jsonschema_standin_errors(
  schema jsonb, instance jsonb, path text, root jsonb) RETURNS text[]
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
  AS $$
DECLARE
  errs text[] := '{}';
  itype text;
  t jsonb;
  k text;
  v jsonb;
  sub jsonb;
  i integer;
  n integer;
  matched integer;
  ref text;
  allowed boolean;
  num numeric;
  p text := CASE WHEN path = '' THEN '/' ELSE path END;
BEGIN
  IF schema IS NULL OR schema = 'true'::jsonb OR schema = '{}'::jsonb THEN
    RETURN errs;
  END IF;
  IF schema = 'false'::jsonb THEN
    RETURN ARRAY[format('%s: no value is allowed here', p)];
  END IF;
  IF jsonb_typeof(schema) <> 'object' THEN
    RETURN ARRAY[format('%s: the schema is not an object or boolean', p)];
  END IF;

  itype := jsonb_typeof(instance);

  IF schema ? '$ref' THEN
    ref := schema ->> '$ref';
    IF ref = '#' THEN
      errs := errs || @extschema@.jsonschema_standin_errors(root, instance, path, root);
    ELSIF ref LIKE '#/%' THEN
      sub := root #> string_to_array(replace(replace(substr(ref, 3), '~1', '/'), '~0', '~'), '/');
      IF sub IS NULL THEN
        errs := errs || format('%s: unresolvable $ref %s', p, ref);
      ELSE
        errs := errs || @extschema@.jsonschema_standin_errors(sub, instance, path, root);
      END IF;
    END IF;
  END IF;

  IF schema ? 'type' THEN
    t := CASE WHEN jsonb_typeof(schema -> 'type') = 'array' THEN schema -> 'type'
              ELSE jsonb_build_array(schema -> 'type') END;
    allowed := EXISTS (
      SELECT FROM jsonb_array_elements_text(t) AS x(name)
      WHERE x.name = itype
         OR (x.name = 'integer'
             AND CASE WHEN itype = 'number' THEN (instance #>> '{}')::numeric % 1 = 0 ELSE false END)
         OR (x.name = 'number' AND itype = 'number'));
    IF NOT allowed THEN
      errs := errs || format('%s: %s is not of type %s', p, instance::text, t::text);
      RETURN errs;
    END IF;
  END IF;

  IF schema ? 'enum' AND NOT EXISTS (SELECT FROM jsonb_array_elements(schema -> 'enum') AS e(x) WHERE e.x = instance) THEN
    errs := errs || format('%s: %s is not one of %s', p, instance::text, (schema -> 'enum')::text);
  END IF;
  IF schema ? 'const' AND schema -> 'const' <> instance THEN
    errs := errs || format('%s: %s was expected', p, (schema -> 'const')::text);
  END IF;

  IF itype = 'object' THEN
    IF schema ? 'required' THEN
      FOR k IN SELECT jsonb_array_elements_text(schema -> 'required') LOOP
        IF NOT instance ? k THEN
          errs := errs || format('%s: "%s" is a required property', p, k);
        END IF;
      END LOOP;
    END IF;
    n := (SELECT count(*) FROM jsonb_object_keys(instance));
    IF schema ? 'minProperties' AND n < (schema ->> 'minProperties')::numeric THEN
      errs := errs || format('%s: has fewer than %s properties', p, schema ->> 'minProperties');
    END IF;
    IF schema ? 'maxProperties' AND n > (schema ->> 'maxProperties')::numeric THEN
      errs := errs || format('%s: has more than %s properties', p, schema ->> 'maxProperties');
    END IF;
    FOR k, v IN SELECT * FROM jsonb_each(instance) LOOP
      allowed := false;
      IF jsonb_typeof(schema -> 'properties') = 'object' AND schema -> 'properties' ? k THEN
        allowed := true;
        errs := errs || @extschema@.jsonschema_standin_errors(schema -> 'properties' -> k, v, path || '/' || k, root);
      END IF;
      IF jsonb_typeof(schema -> 'patternProperties') = 'object' THEN
        FOR ref, sub IN SELECT * FROM jsonb_each(schema -> 'patternProperties') LOOP
          IF k ~ ref THEN
            allowed := true;
            errs := errs || @extschema@.jsonschema_standin_errors(sub, v, path || '/' || k, root);
          END IF;
        END LOOP;
      END IF;
      IF NOT allowed AND schema ? 'additionalProperties' THEN
        IF schema -> 'additionalProperties' = 'false'::jsonb THEN
          errs := errs || format('%s: additional property "%s" is not allowed', p, k);
        ELSE
          errs := errs || @extschema@.jsonschema_standin_errors(schema -> 'additionalProperties', v, path || '/' || k, root);
        END IF;
      END IF;
    END LOOP;
  END IF;

  IF itype = 'array' THEN
    n := jsonb_array_length(instance);
    IF schema ? 'minItems' AND n < (schema ->> 'minItems')::numeric THEN
      errs := errs || format('%s: has fewer than %s items', p, schema ->> 'minItems');
    END IF;
    IF schema ? 'maxItems' AND n > (schema ->> 'maxItems')::numeric THEN
      errs := errs || format('%s: has more than %s items', p, schema ->> 'maxItems');
    END IF;
    IF (schema -> 'uniqueItems') = 'true'::jsonb
       AND (SELECT count(DISTINCT x) FROM jsonb_array_elements(instance) AS e(x)) < n THEN
      errs := errs || format('%s: has non-unique elements', p);
    END IF;
    -- Tuple validation: prefixItems (2020-12) or an items array (draft 7).
    t := coalesce(schema -> 'prefixItems',
                  CASE WHEN jsonb_typeof(schema -> 'items') = 'array' THEN schema -> 'items' END);
    FOR i IN 0 .. n - 1 LOOP
      IF t IS NOT NULL AND i < jsonb_array_length(t) THEN
        errs := errs || @extschema@.jsonschema_standin_errors(t -> i, instance -> i, path || '/' || i, root);
      ELSIF t IS NOT NULL THEN
        sub := CASE WHEN schema ? 'prefixItems' THEN schema -> 'items' ELSE schema -> 'additionalItems' END;
        IF sub IS NOT NULL THEN
          errs := errs || @extschema@.jsonschema_standin_errors(sub, instance -> i, path || '/' || i, root);
        END IF;
      ELSIF schema ? 'items' THEN
        errs := errs || @extschema@.jsonschema_standin_errors(schema -> 'items', instance -> i, path || '/' || i, root);
      END IF;
    END LOOP;
    IF schema ? 'contains' AND NOT EXISTS (
         SELECT FROM jsonb_array_elements(instance) AS e(x)
         WHERE cardinality(@extschema@.jsonschema_standin_errors(schema -> 'contains', e.x, path, root)) = 0) THEN
      errs := errs || format('%s: no item matches the "contains" schema', p);
    END IF;
  END IF;

  IF itype = 'string' THEN
    n := char_length(instance #>> '{}');
    IF schema ? 'minLength' AND n < (schema ->> 'minLength')::numeric THEN
      errs := errs || format('%s: %s is shorter than %s characters', p, instance::text, schema ->> 'minLength');
    END IF;
    IF schema ? 'maxLength' AND n > (schema ->> 'maxLength')::numeric THEN
      errs := errs || format('%s: %s is longer than %s characters', p, instance::text, schema ->> 'maxLength');
    END IF;
    IF schema ? 'pattern' AND NOT (instance #>> '{}') ~ (schema ->> 'pattern') THEN
      errs := errs || format('%s: %s does not match %s', p, instance::text, (schema -> 'pattern')::text);
    END IF;
  END IF;

  IF itype = 'number' THEN
    num := (instance #>> '{}')::numeric;
    IF schema ? 'minimum' AND num < (schema ->> 'minimum')::numeric THEN
      errs := errs || format('%s: %s is less than the minimum of %s', p, num, schema ->> 'minimum');
    END IF;
    IF schema ? 'maximum' AND num > (schema ->> 'maximum')::numeric THEN
      errs := errs || format('%s: %s is greater than the maximum of %s', p, num, schema ->> 'maximum');
    END IF;
    IF jsonb_typeof(schema -> 'exclusiveMinimum') = 'number' AND num <= (schema ->> 'exclusiveMinimum')::numeric THEN
      errs := errs || format('%s: %s is less than or equal to %s', p, num, schema ->> 'exclusiveMinimum');
    END IF;
    IF jsonb_typeof(schema -> 'exclusiveMaximum') = 'number' AND num >= (schema ->> 'exclusiveMaximum')::numeric THEN
      errs := errs || format('%s: %s is greater than or equal to %s', p, num, schema ->> 'exclusiveMaximum');
    END IF;
    IF schema ? 'multipleOf' AND (schema ->> 'multipleOf')::numeric <> 0
       AND num % (schema ->> 'multipleOf')::numeric <> 0 THEN
      errs := errs || format('%s: %s is not a multiple of %s', p, num, schema ->> 'multipleOf');
    END IF;
  END IF;

  IF jsonb_typeof(schema -> 'allOf') = 'array' THEN
    FOR sub IN SELECT jsonb_array_elements(schema -> 'allOf') LOOP
      errs := errs || @extschema@.jsonschema_standin_errors(sub, instance, path, root);
    END LOOP;
  END IF;
  IF jsonb_typeof(schema -> 'anyOf') = 'array' THEN
    matched := (SELECT count(*) FROM jsonb_array_elements(schema -> 'anyOf') AS s(x)
                WHERE cardinality(@extschema@.jsonschema_standin_errors(s.x, instance, path, root)) = 0);
    IF matched = 0 THEN
      errs := errs || format('%s: %s is not valid under any of the given schemas', p, instance::text);
    END IF;
  END IF;
  IF jsonb_typeof(schema -> 'oneOf') = 'array' THEN
    matched := (SELECT count(*) FROM jsonb_array_elements(schema -> 'oneOf') AS s(x)
                WHERE cardinality(@extschema@.jsonschema_standin_errors(s.x, instance, path, root)) = 0);
    IF matched <> 1 THEN
      errs := errs || format('%s: %s is valid under %s of the oneOf schemas, not exactly one', p, instance::text, matched);
    END IF;
  END IF;
  IF schema ? 'not'
     AND cardinality(@extschema@.jsonschema_standin_errors(schema -> 'not', instance, path, root)) = 0 THEN
    errs := errs || format('%s: %s should not be valid under %s', p, instance::text, (schema -> 'not')::text);
  END IF;
  IF schema ? 'if' THEN
    IF cardinality(@extschema@.jsonschema_standin_errors(schema -> 'if', instance, path, root)) = 0 THEN
      IF schema ? 'then' THEN
        errs := errs || @extschema@.jsonschema_standin_errors(schema -> 'then', instance, path, root);
      END IF;
    ELSIF schema ? 'else' THEN
      errs := errs || @extschema@.jsonschema_standin_errors(schema -> 'else', instance, path, root);
    END IF;
  END IF;

  RETURN errs;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.jsonschema_validation_errors(schema json, instance json) RETURNS text[]
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT @extschema@.jsonschema_standin_errors(schema::jsonb, instance::jsonb, '', schema::jsonb) $$;

CREATE OR REPLACE FUNCTION @extschema@.json_matches_schema(schema json, instance json) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT cardinality(@extschema@.jsonschema_standin_errors(schema::jsonb, instance::jsonb, '', schema::jsonb)) = 0 $$;

CREATE OR REPLACE FUNCTION @extschema@.jsonb_matches_schema(schema json, instance jsonb) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT cardinality(@extschema@.jsonschema_standin_errors(schema::jsonb, instance, '', schema::jsonb)) = 0 $$;

-- A schema is valid when it is a boolean or an object whose keywords have the right shapes.
CREATE OR REPLACE FUNCTION @extschema@.jsonschema_is_valid(schema json) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$
  SELECT CASE jsonb_typeof(s)
    WHEN 'boolean' THEN true
    WHEN 'object' THEN
      (NOT s ? 'type' OR (jsonb_typeof(s -> 'type') = 'string'
                          AND s ->> 'type' IN ('null', 'boolean', 'object', 'array', 'number', 'string', 'integer'))
                      OR (jsonb_typeof(s -> 'type') = 'array'
                          AND NOT EXISTS (SELECT FROM jsonb_array_elements(s -> 'type') AS e(x)
                                          WHERE jsonb_typeof(e.x) <> 'string'
                                             OR e.x #>> '{}' NOT IN ('null', 'boolean', 'object', 'array', 'number', 'string', 'integer'))))
      AND (NOT s ? 'properties' OR jsonb_typeof(s -> 'properties') = 'object')
      AND (NOT s ? 'required' OR jsonb_typeof(s -> 'required') = 'array')
      AND (NOT s ? 'enum' OR jsonb_typeof(s -> 'enum') = 'array')
      AND NOT EXISTS (SELECT FROM unnest(ARRAY['minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties']) AS kw(k)
                      WHERE s ? kw.k AND (jsonb_typeof(s -> kw.k) <> 'number' OR (s ->> kw.k)::numeric < 0))
      AND NOT EXISTS (SELECT FROM unnest(ARRAY['minimum', 'maximum', 'multipleOf']) AS kw(k)
                      WHERE s ? kw.k AND jsonb_typeof(s -> kw.k) <> 'number')
      AND NOT EXISTS (SELECT FROM unnest(ARRAY['allOf', 'anyOf', 'oneOf']) AS kw(k)
                      WHERE s ? kw.k AND jsonb_typeof(s -> kw.k) <> 'array')
      AND NOT EXISTS (SELECT FROM jsonb_each(coalesce(s -> 'properties', '{}'::jsonb)) AS p(k, v)
                      WHERE jsonb_typeof(p.v) NOT IN ('object', 'boolean'))
    ELSE false
  END
  FROM (SELECT schema::jsonb AS s) AS x
$$;

DO $comments$
DECLARE
  c constant text := 'dbaudit stand-in for extension pg_jsonschema';
  o text;
BEGIN
  FOREACH o IN ARRAY ARRAY[
    'FUNCTION @extschema@.jsonschema_standin_errors(jsonb, jsonb, text, jsonb)',
    'FUNCTION @extschema@.jsonschema_validation_errors(json, json)',
    'FUNCTION @extschema@.json_matches_schema(json, json)',
    'FUNCTION @extschema@.jsonb_matches_schema(json, jsonb)',
    'FUNCTION @extschema@.jsonschema_is_valid(json)'
  ] LOOP
    EXECUTE format('COMMENT ON %s IS %L', o, c);
  END LOOP;
END
$comments$;
