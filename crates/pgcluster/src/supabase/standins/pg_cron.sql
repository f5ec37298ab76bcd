-- dbaudit stand-in for pg_cron: the `cron` schema with pg_cron's tables and functions.
-- Scheduling records the job as pg_cron does; no scheduler runs, so jobs never execute.

DO $schema$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = 'cron') THEN
    CREATE SCHEMA cron;
  END IF;
  -- The schema is the extension's when nothing else is in it yet.
  IF obj_description('cron'::regnamespace, 'pg_namespace') IS NULL
     AND NOT EXISTS (SELECT FROM pg_catalog.pg_class WHERE relnamespace = 'cron'::regnamespace)
     AND NOT EXISTS (SELECT FROM pg_catalog.pg_proc WHERE pronamespace = 'cron'::regnamespace)
     AND NOT EXISTS (SELECT FROM pg_catalog.pg_type WHERE typnamespace = 'cron'::regnamespace) THEN
    COMMENT ON SCHEMA cron IS 'dbaudit stand-in for extension pg_cron';
  END IF;
END
$schema$;

CREATE TABLE IF NOT EXISTS cron.job (
  jobid bigserial NOT NULL,
  schedule text NOT NULL,
  command text NOT NULL,
  nodename text NOT NULL DEFAULT 'localhost',
  nodeport integer NOT NULL DEFAULT coalesce(inet_server_port(), 5432),
  database text NOT NULL DEFAULT current_database(),
  username text NOT NULL DEFAULT current_user,
  active boolean NOT NULL DEFAULT true,
  jobname text,
  CONSTRAINT job_pkey PRIMARY KEY (jobid),
  CONSTRAINT jobname_username_uniq UNIQUE (jobname, username)
);
ALTER TABLE cron.job ENABLE ROW LEVEL SECURITY;

CREATE TABLE IF NOT EXISTS cron.job_run_details (
  jobid bigint,
  runid bigserial NOT NULL,
  job_pid integer,
  database text,
  username text,
  command text,
  status text,
  return_message text,
  start_time timestamp with time zone,
  end_time timestamp with time zone,
  CONSTRAINT job_run_details_pkey PRIMARY KEY (runid)
);
ALTER TABLE cron.job_run_details ENABLE ROW LEVEL SECURITY;

DO $policies$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_policies
                 WHERE schemaname = 'cron' AND tablename = 'job' AND policyname = 'cron_job_policy') THEN
    CREATE POLICY cron_job_policy ON cron.job USING (username = CURRENT_USER);
  END IF;
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_policies
                 WHERE schemaname = 'cron' AND tablename = 'job_run_details'
                   AND policyname = 'cron_job_run_details_policy') THEN
    CREATE POLICY cron_job_run_details_policy ON cron.job_run_details USING (username = CURRENT_USER);
  END IF;
END
$policies$;

-- pg_cron's schedule syntax: five cron fields, '[1-59] seconds', or a macro.
CREATE OR REPLACE FUNCTION cron.schedule_is_valid(schedule text) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT
  AS $$
  SELECT btrim(schedule) ~* '^(@(yearly|annually|monthly|weekly|daily|midnight|hourly|reboot)|([1-9]|[1-5][0-9]) seconds?)$'
      OR (array_length(regexp_split_to_array(btrim(schedule), '\s+'), 1) = 5
          AND NOT EXISTS (SELECT FROM unnest(regexp_split_to_array(btrim(schedule), '\s+')) AS f
                          WHERE f !~* '^(\*|\$|[0-9a-z]+(-[0-9a-z]+)?)(/[0-9]+)?(,(\*|\$|[0-9a-z]+(-[0-9a-z]+)?)(/[0-9]+)?)*$'))
$$;

CREATE OR REPLACE FUNCTION cron.schedule(schedule text, command text) RETURNS bigint
  LANGUAGE plpgsql
  AS $$
DECLARE
  id bigint;
BEGIN
  IF NOT cron.schedule_is_valid(schedule) THEN
    RAISE EXCEPTION 'invalid schedule: %', schedule;
  END IF;
  INSERT INTO cron.job (schedule, command) VALUES (schedule, command) RETURNING jobid INTO id;
  RETURN id;
END
$$;

CREATE OR REPLACE FUNCTION cron.schedule(job_name text, schedule text, command text) RETURNS bigint
  LANGUAGE plpgsql
  AS $$
DECLARE
  id bigint;
BEGIN
  IF NOT cron.schedule_is_valid(schedule) THEN
    RAISE EXCEPTION 'invalid schedule: %', schedule;
  END IF;
  INSERT INTO cron.job (jobname, schedule, command) VALUES (job_name, schedule, command)
  ON CONFLICT (jobname, username) DO UPDATE SET schedule = excluded.schedule, command = excluded.command
  RETURNING jobid INTO id;
  RETURN id;
END
$$;

CREATE OR REPLACE FUNCTION cron.schedule_in_database(
  job_name text, schedule text, command text, database text,
  username text DEFAULT NULL::text, active boolean DEFAULT true) RETURNS bigint
  LANGUAGE plpgsql
  AS $$
DECLARE
  id bigint;
BEGIN
  IF NOT cron.schedule_is_valid(schedule) THEN
    RAISE EXCEPTION 'invalid schedule: %', schedule;
  END IF;
  INSERT INTO cron.job (jobname, schedule, command, database, username, active)
  VALUES (job_name, schedule, command, database, coalesce(username, current_user), active)
  ON CONFLICT (jobname, username) DO UPDATE
    SET schedule = excluded.schedule, command = excluded.command,
        database = excluded.database, active = excluded.active
  RETURNING jobid INTO id;
  RETURN id;
END
$$;

CREATE OR REPLACE FUNCTION cron.unschedule(job_id bigint) RETURNS boolean
  LANGUAGE plpgsql
  AS $$
BEGIN
  DELETE FROM cron.job WHERE jobid = job_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'could not find valid entry for job %', job_id;
  END IF;
  RETURN true;
END
$$;

CREATE OR REPLACE FUNCTION cron.unschedule(job_name text) RETURNS boolean
  LANGUAGE plpgsql
  AS $$
BEGIN
  DELETE FROM cron.job WHERE jobname = job_name AND username = current_user;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'could not find valid entry for job ''%''', job_name;
  END IF;
  RETURN true;
END
$$;

CREATE OR REPLACE FUNCTION cron.alter_job(
  job_id bigint, schedule text DEFAULT NULL::text, command text DEFAULT NULL::text,
  database text DEFAULT NULL::text, username text DEFAULT NULL::text,
  active boolean DEFAULT NULL::boolean) RETURNS void
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF schedule IS NOT NULL AND NOT cron.schedule_is_valid(schedule) THEN
    RAISE EXCEPTION 'invalid schedule: %', schedule;
  END IF;
  UPDATE cron.job j
     SET schedule = coalesce(alter_job.schedule, j.schedule),
         command = coalesce(alter_job.command, j.command),
         database = coalesce(alter_job.database, j.database),
         username = coalesce(alter_job.username, j.username),
         active = coalesce(alter_job.active, j.active)
   WHERE j.jobid = job_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Job % does not exist or you don''t own it', job_id;
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION cron.job_cache_invalidate() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER cron_job_cache_invalidate AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE
  ON cron.job FOR EACH STATEMENT EXECUTE FUNCTION cron.job_cache_invalidate();

DO $grants$
BEGIN
  IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'postgres') THEN
    GRANT USAGE ON SCHEMA cron TO postgres WITH GRANT OPTION;
    GRANT SELECT ON cron.job TO postgres WITH GRANT OPTION;
    GRANT ALL ON cron.job_run_details TO postgres WITH GRANT OPTION;
  END IF;
END
$grants$;
GRANT SELECT ON cron.job TO PUBLIC;
GRANT SELECT, DELETE ON cron.job_run_details TO PUBLIC;

DO $comments$
DECLARE
  c constant text := 'dbaudit stand-in for extension pg_cron';
  o text;
BEGIN
  FOREACH o IN ARRAY ARRAY[
    'TABLE cron.job', 'SEQUENCE cron.job_jobid_seq',
    'TABLE cron.job_run_details', 'SEQUENCE cron.job_run_details_runid_seq',
    'FUNCTION cron.schedule_is_valid(text)',
    'FUNCTION cron.schedule(text, text)',
    'FUNCTION cron.schedule(text, text, text)',
    'FUNCTION cron.schedule_in_database(text, text, text, text, text, boolean)',
    'FUNCTION cron.unschedule(bigint)',
    'FUNCTION cron.unschedule(text)',
    'FUNCTION cron.alter_job(bigint, text, text, text, text, boolean)',
    'FUNCTION cron.job_cache_invalidate()'
  ] LOOP
    EXECUTE format('COMMENT ON %s IS %L', o, c);
  END LOOP;
  FOR o IN
    SELECT a.oid::regtype::text
    FROM pg_catalog.pg_type a
    JOIN pg_catalog.pg_type e ON e.oid = a.typelem AND e.typarray = a.oid
    WHERE a.typnamespace = 'cron'::regnamespace
      AND (obj_description(e.oid, 'pg_type') = c OR obj_description(e.typrelid, 'pg_class') = c)
  LOOP
    EXECUTE format('COMMENT ON TYPE %s IS %L', o, c);
  END LOOP;
END
$comments$;
