//! The catalog loader against a real server: one shared throwaway cluster for this test binary
//! (`dbaudit_pgcluster::testing`), a database per test.

use dbaudit_catalog::synthetic::{schema_batches, SyntheticSchema};
use dbaudit_catalog::*;
use dbaudit_pgcluster::testing::{test_db, test_db_supabase};
use tokio_postgres::Client;

/// Loads inside a read-only repeatable-read transaction, as the audit does.
async fn load_ro(client: &Client, statistics: bool) -> Catalog {
    client
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .unwrap();
    let catalog = load(client, &LoadOptions { statistics })
        .await
        .unwrap_or_else(|e| panic!("load failed: {e}"));
    client.batch_execute("COMMIT").await.unwrap();
    catalog
}

/// Roles are cluster-wide and the tests of this binary run concurrently on one cluster: create
/// them idempotently.
const ROLES: &str = r#"
DO $$
BEGIN
  CREATE ROLE catalog_anon NOLOGIN;
  CREATE ROLE catalog_authenticated NOLOGIN;
  CREATE ROLE catalog_service NOLOGIN BYPASSRLS;
  CREATE ROLE catalog_authenticator LOGIN NOINHERIT;
  GRANT catalog_anon, catalog_authenticated TO catalog_authenticator;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
"#;

/// A small schema with every kind of object the loader reads.
const FIXTURE: &str = r#"
CREATE EXTENSION citext;                 -- a type and functions owned by an extension
CREATE EXTENSION pg_buffercache;         -- a view and functions owned by an extension
CREATE SCHEMA app;
CREATE SCHEMA auth;
COMMENT ON SCHEMA app IS 'the application';
GRANT USAGE ON SCHEMA app TO catalog_anon, catalog_authenticated;

CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE
  AS $f$ SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid $f$;

CREATE TYPE app.plan AS ENUM ('free', 'pro', 'enterprise');
ALTER TYPE app.plan ADD VALUE 'starter' BEFORE 'pro';
CREATE DOMAIN app.email AS citext CHECK (VALUE ~ '@');
CREATE DOMAIN app.short_text AS varchar(20) NOT NULL CHECK (length(VALUE) > 0) CHECK (VALUE <> 'x');
CREATE DOMAIN app.tiny AS app.short_text;
CREATE TYPE app.money_pair AS (amount numeric, currency text);
CREATE TYPE app.int_span AS RANGE (subtype = int4);

CREATE TABLE app.orgs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name app.short_text,
  nick app.tiny,
  plan app.plan NOT NULL DEFAULT 'free',
  slug text UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE app.orgs IS 'Tenants';
COMMENT ON COLUMN app.orgs.slug IS 'URL name';
GRANT SELECT ON app.orgs TO catalog_anon;
GRANT SELECT (id, name), UPDATE (name) ON app.orgs TO catalog_authenticated;
GRANT INSERT (slug) ON app.orgs TO catalog_authenticated WITH GRANT OPTION;

CREATE TABLE app.members (
  org_id uuid NOT NULL REFERENCES app.orgs (id) ON DELETE CASCADE,
  user_id uuid NOT NULL,
  email app.email,
  role text NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'member')),
  PRIMARY KEY (org_id, user_id)
);

CREATE TABLE app.projects (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  org_id uuid NOT NULL,
  title text NOT NULL,
  title_lower text GENERATED ALWAYS AS (lower(title)) STORED,
  budget numeric(12,2),
  tags citext[],
  owner_id uuid,
  pair app.money_pair,
  CONSTRAINT projects_org_fk FOREIGN KEY (org_id) REFERENCES app.orgs (id)
    ON DELETE CASCADE ON UPDATE RESTRICT DEFERRABLE INITIALLY DEFERRED,
  CONSTRAINT projects_owner_fk FOREIGN KEY (org_id, owner_id)
    REFERENCES app.members (org_id, user_id) MATCH FULL
);
ALTER TABLE app.projects ADD CONSTRAINT projects_budget_positive CHECK (budget >= 0) NOT VALID;
GRANT SELECT, INSERT ON app.projects TO catalog_authenticated WITH GRANT OPTION;

CREATE SEQUENCE app.ticket_seq;          -- bigint, feeding an integer column
CREATE TABLE app.tasks (
  id serial PRIMARY KEY,
  ticket int DEFAULT nextval('app.ticket_seq'),
  project_id bigint,
  org_id uuid NOT NULL,
  done boolean NOT NULL DEFAULT false,
  title varchar(200),
  during tstzrange,
  EXCLUDE USING gist (during WITH &&)
);
ALTER TABLE app.tasks ADD CONSTRAINT tasks_project_fk
  FOREIGN KEY (project_id) REFERENCES app.projects (id) NOT VALID;
CREATE INDEX tasks_open_idx ON app.tasks (project_id) INCLUDE (title) WHERE NOT done;
CREATE INDEX tasks_lower_title_idx ON app.tasks (org_id, lower(title));
CREATE INDEX tasks_title_idx ON app.tasks (title);
CREATE INDEX tasks_org_desc_idx ON app.tasks (org_id DESC, id);
INSERT INTO app.orgs (id, name, nick, slug) VALUES ('00000000-0000-0000-0000-000000000001', 'acme', 'a', 'acme');
INSERT INTO app.tasks (org_id, title) VALUES
  ('00000000-0000-0000-0000-000000000001', 'same'),
  ('00000000-0000-0000-0000-000000000001', 'same');

CREATE SEQUENCE app.invoice_no AS integer INCREMENT 5 MAXVALUE 100000;
SELECT nextval('app.invoice_no');

CREATE VIEW app.open_tasks WITH (security_invoker = on) AS
  SELECT t.id, t.title, p.title AS project FROM app.tasks t JOIN app.projects p ON p.id = t.project_id
  WHERE NOT t.done;
CREATE VIEW app.org_names WITH (security_barrier) AS SELECT id, name FROM app.orgs;
CREATE VIEW app.plain_view AS SELECT 1 AS one;
CREATE MATERIALIZED VIEW app.project_counts AS
  SELECT org_id, count(*) AS n FROM app.projects GROUP BY org_id;

CREATE TABLE app.events (org_id uuid NOT NULL, at timestamptz NOT NULL, payload jsonb,
  PRIMARY KEY (org_id, at)) PARTITION BY RANGE (at);
CREATE TABLE app.events_2024 PARTITION OF app.events
  FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE INDEX events_payload_idx ON app.events USING gin (payload);
CREATE TABLE app.event_refs (org_id uuid, at timestamptz,
  CONSTRAINT event_refs_event_fk FOREIGN KEY (org_id, at) REFERENCES app.events (org_id, at));

CREATE FOREIGN DATA WRAPPER catalog_fdw;
CREATE SERVER catalog_srv FOREIGN DATA WRAPPER catalog_fdw;
CREATE FOREIGN TABLE app.remote_things (id int) SERVER catalog_srv;

CREATE FUNCTION app.user_org_ids() RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = '' AS $f$ SELECT m.org_id FROM app.members m WHERE m.user_id = auth.uid() $f$;
REVOKE EXECUTE ON FUNCTION app.user_org_ids() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.user_org_ids() TO catalog_authenticated;
COMMENT ON FUNCTION app.user_org_ids() IS 'orgs of the current user';

CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN NEW.title := trim(NEW.title); RETURN NEW; END $f$;
CREATE TRIGGER tasks_touch BEFORE INSERT OR UPDATE OF title, done ON app.tasks
  FOR EACH ROW EXECUTE FUNCTION app.touch();
CREATE TRIGGER tasks_audit AFTER DELETE OR TRUNCATE ON app.tasks
  FOR EACH STATEMENT EXECUTE FUNCTION app.touch();
ALTER TABLE app.tasks DISABLE TRIGGER tasks_audit;
CREATE FUNCTION app.open_tasks_insert() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN RETURN NEW; END $f$;
CREATE TRIGGER open_tasks_insert INSTEAD OF INSERT ON app.open_tasks
  FOR EACH ROW EXECUTE FUNCTION app.open_tasks_insert();

CREATE FUNCTION app.add(a int, b int DEFAULT 1) RETURNS int LANGUAGE sql IMMUTABLE LEAKPROOF
  BEGIN ATOMIC SELECT a + b; END;
CREATE PROCEDURE app.cleanup() LANGUAGE plpgsql AS $f$ BEGIN DELETE FROM app.tasks WHERE done; END $f$;
CREATE AGGREGATE app.total(int) (SFUNC = int4pl, STYPE = int);

ALTER TABLE app.projects ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.projects FORCE ROW LEVEL SECURITY;
ALTER TABLE app.members ENABLE ROW LEVEL SECURITY;
CREATE POLICY projects_select ON app.projects FOR SELECT TO catalog_authenticated, catalog_anon
  USING (org_id IN (SELECT app.user_org_ids()));
CREATE POLICY projects_insert ON app.projects AS RESTRICTIVE FOR INSERT TO catalog_authenticated
  WITH CHECK (EXISTS (SELECT 1 FROM app.members m
                      WHERE m.org_id = projects.org_id AND m.user_id = auth.uid()
                        AND m.role = 'owner'));
CREATE POLICY members_all ON app.members USING (user_id = (SELECT auth.uid()));

ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO catalog_anon;
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
CREATE PUBLICATION catalog_pub FOR TABLE app.orgs, app.projects;

-- dbaudit's stand-ins: left out, with what hangs off them.
CREATE TABLE app.standin_tbl (id serial PRIMARY KEY, x int);
CREATE INDEX standin_tbl_x ON app.standin_tbl (x);
ALTER TABLE app.standin_tbl ENABLE ROW LEVEL SECURITY;
CREATE POLICY standin_policy ON app.standin_tbl USING (true);
COMMENT ON TABLE app.standin_tbl IS 'dbaudit stand-in for extension something';
CREATE FUNCTION app.standin_fn() RETURNS int LANGUAGE sql AS 'SELECT 1';
COMMENT ON FUNCTION app.standin_fn() IS 'dbaudit stand-in for extension something';
CREATE TYPE app.standin_type AS ENUM ('a');
COMMENT ON TYPE app.standin_type IS 'dbaudit stand-in for extension something';
-- A foreign key to a table that is not loaded.
CREATE TABLE app.uses_standin (standin_id int REFERENCES app.standin_tbl (id));
"#;

async fn fixture_db(name: &str) -> dbaudit_pgcluster::testing::TestDb {
    let db = test_db(name).await;
    db.client.batch_execute(ROLES).await.unwrap();
    db.client.batch_execute(FIXTURE).await.unwrap();
    // An invalid index: a unique index built concurrently over duplicates fails and stays.
    let err = db
        .client
        .batch_execute("CREATE UNIQUE INDEX CONCURRENTLY tasks_title_uniq ON app.tasks (title)")
        .await;
    assert!(err.is_err(), "the concurrent unique index should fail");
    db.client.batch_execute("ANALYZE app.orgs").await.unwrap();
    db
}

fn grant(grantee: &str, privilege: &str, grantable: bool) -> Grant {
    Grant {
        grantee: grantee.to_string(),
        privilege: privilege.to_string(),
        grantable,
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn loads_every_object_kind() {
    let db = fixture_db("loads_every_object_kind").await;
    let cat = load_ro(&db.client, false).await;
    let ix = CatalogIndex::new(&cat);

    assert!(
        cat.server_version_num >= 130000,
        "{}",
        cat.server_version_num
    );
    assert!(!cat.server_version.is_empty());
    assert_eq!(cat.database, db.dbname);
    assert_eq!(cat.current_user, "postgres");
    assert!(cat.stats.is_none());

    // Schemas: system ones left out, managed ones flagged, grants exploded.
    let names: Vec<&str> = cat.schemas.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["app", "auth", "public"]);
    assert!(ix.schema("auth").unwrap().managed);
    assert!(!ix.schema("app").unwrap().managed);
    let app = ix.schema("app").unwrap();
    assert_eq!(app.owner, "postgres");
    assert!(app.grants.contains(&grant("catalog_anon", "USAGE", false)));
    assert!(app.grants.contains(&grant("postgres", "CREATE", false)));

    // Relations: kinds, order, extension members and stand-ins left out.
    let rels: Vec<String> = cat.relations.iter().map(|r| r.qualified()).collect();
    assert_eq!(
        rels,
        [
            "app.event_refs",
            "app.events",
            "app.events_2024",
            "app.members",
            "app.open_tasks",
            "app.org_names",
            "app.orgs",
            "app.plain_view",
            "app.project_counts",
            "app.projects",
            "app.remote_things",
            "app.tasks",
            "app.uses_standin",
        ]
    );
    let kind = |n: &str| ix.relation_named("app", n).unwrap().kind;
    assert_eq!(kind("orgs"), RelationKind::Table);
    assert_eq!(kind("events"), RelationKind::PartitionedTable);
    assert_eq!(kind("open_tasks"), RelationKind::View);
    assert_eq!(kind("project_counts"), RelationKind::MaterializedView);
    assert_eq!(kind("remote_things"), RelationKind::ForeignTable);

    let orgs = ix.relation_named("app", "orgs").unwrap();
    assert_eq!(orgs.owner, "postgres");
    assert_eq!(orgs.comment.as_deref(), Some("Tenants"));
    assert_eq!(orgs.row_estimate, Some(1));
    assert!(orgs.size_bytes > 0, "analyzed table with a row and indexes");
    assert!(!orgs.rls_enabled);
    assert!(orgs
        .grants
        .contains(&grant("catalog_anon", "SELECT", false)));
    assert!(orgs.grants.contains(&grant("postgres", "TRUNCATE", false)));
    assert!(!orgs
        .grants
        .iter()
        .any(|g| g.grantee == "catalog_authenticated"));
    let projects = ix.relation_named("app", "projects").unwrap();
    assert!(projects.rls_enabled && projects.rls_forced);
    assert_eq!(projects.row_estimate, None, "never analyzed");
    assert!(projects
        .grants
        .contains(&grant("catalog_authenticated", "INSERT", true)));

    // Columns: order, types, domains, defaults, identity, generated, grants, comments.
    let cols: Vec<&str> = orgs.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(cols, ["id", "name", "nick", "plan", "slug", "created_at"]);
    let id = orgs.column("id").unwrap();
    assert_eq!(id.num, 1);
    assert_eq!(id.type_name, "uuid");
    assert_eq!(id.base_type_name, "uuid");
    assert_eq!(id.type_category, 'U');
    assert!(id.not_null);
    assert_eq!(id.default.as_deref(), Some("gen_random_uuid()"));
    assert_eq!(
        id.grants,
        vec![grant("catalog_authenticated", "SELECT", false)]
    );
    assert!(orgs.column("created_at").unwrap().grants.is_empty());
    let name = orgs.column("name").unwrap();
    assert_eq!(name.type_name, "app.short_text");
    assert_eq!(name.base_type_name, "character varying(20)");
    assert_eq!(name.type_category, 'S');
    assert!(!name.not_null, "the domain is NOT NULL, the column is not");
    assert_eq!(
        name.grants,
        vec![
            grant("catalog_authenticated", "SELECT", false),
            grant("catalog_authenticated", "UPDATE", false),
        ]
    );
    let nick = orgs.column("nick").unwrap();
    assert_eq!(nick.type_name, "app.tiny");
    assert_eq!(
        nick.base_type_name, "character varying(20)",
        "domain over domain"
    );
    let plan = orgs.column("plan").unwrap();
    assert_eq!(plan.type_name, "app.plan");
    assert_eq!(plan.type_category, 'E');
    assert_eq!(plan.default.as_deref(), Some("'free'::app.plan"));
    let slug = orgs.column("slug").unwrap();
    assert_eq!(slug.comment.as_deref(), Some("URL name"));
    assert_eq!(
        slug.grants,
        vec![grant("catalog_authenticated", "INSERT", true)]
    );
    assert_eq!(
        orgs.column("created_at").unwrap().type_name,
        "timestamp with time zone"
    );
    let email = ix
        .relation_named("app", "members")
        .unwrap()
        .column("email")
        .unwrap();
    assert_eq!(email.type_name, "app.email");
    assert_eq!(email.base_type_name, "citext");
    assert_eq!(email.type_category, 'S');
    let pid = projects.column("id").unwrap();
    assert_eq!(pid.identity, Some('a'));
    assert_eq!(pid.default, None);
    let lower = projects.column("title_lower").unwrap();
    assert!(lower.generated);
    assert_eq!(lower.default.as_deref(), Some("lower(title)"));
    assert_eq!(
        projects.column("budget").unwrap().type_name,
        "numeric(12,2)"
    );
    assert_eq!(projects.column("tags").unwrap().type_name, "citext[]");
    assert_eq!(projects.column("tags").unwrap().type_category, 'A');
    let tasks = ix.relation_named("app", "tasks").unwrap();
    assert_eq!(
        tasks.column("id").unwrap().default.as_deref(),
        Some("nextval('app.tasks_id_seq'::regclass)")
    );
    assert_eq!(tasks.column("id").unwrap().identity, None);

    // Views.
    let open = ix.relation_named("app", "open_tasks").unwrap();
    assert!(open.security_invoker);
    assert!(!open.security_barrier);
    assert!(open
        .view_definition
        .as_deref()
        .unwrap()
        .contains("FROM app.tasks t"));
    let mut deps = open.depends_on.clone();
    deps.sort();
    let mut expected = vec![tasks.oid, projects.oid];
    expected.sort();
    assert_eq!(deps, expected);
    let org_names = ix.relation_named("app", "org_names").unwrap();
    assert!(org_names.security_barrier && !org_names.security_invoker);
    assert_eq!(org_names.depends_on, vec![orgs.oid]);
    assert!(ix
        .relation_named("app", "plain_view")
        .unwrap()
        .depends_on
        .is_empty());
    let counts = ix.relation_named("app", "project_counts").unwrap();
    assert_eq!(counts.depends_on, vec![projects.oid]);
    assert!(counts.view_definition.is_some());
    assert!(orgs.view_definition.is_none());

    // Partitions.
    let events = ix.relation_named("app", "events").unwrap();
    let e2024 = ix.relation_named("app", "events_2024").unwrap();
    assert_eq!(e2024.partition_of, Some(events.oid));
    assert_eq!(events.partition_of, None);

    // Constraints.
    let con = |table: &Relation, name: &str| -> Constraint {
        ix.constraints(table.oid)
            .iter()
            .find(|c| c.name == name)
            .map(|c| (*c).clone())
            .unwrap_or_else(|| panic!("no constraint {name} on {}", table.name))
    };
    let pk = ix.primary_key(orgs.oid).unwrap();
    assert_eq!(pk.name, "orgs_pkey");
    assert_eq!(pk.columns, ["id"]);
    assert_eq!(pk.definition, "PRIMARY KEY (id)");
    assert_eq!(pk.schema, "app");
    let members = ix.relation_named("app", "members").unwrap();
    assert_eq!(
        ix.primary_key(members.oid).unwrap().columns,
        ["org_id", "user_id"]
    );
    let fk = con(projects, "projects_org_fk");
    assert_eq!(fk.kind, ConstraintKind::ForeignKey);
    assert!(fk.deferrable && fk.deferred && fk.validated);
    let f = fk.foreign_key.as_ref().unwrap();
    assert_eq!(
        (f.ref_table, f.ref_schema.as_str(), f.ref_name.as_str()),
        (orgs.oid, "app", "orgs")
    );
    assert_eq!(f.ref_columns, ["id"]);
    assert_eq!(f.on_delete, FkAction::Cascade);
    assert_eq!(f.on_update, FkAction::Restrict);
    assert_eq!(f.match_type, 's');
    assert_eq!(
        fk.definition,
        "FOREIGN KEY (org_id) REFERENCES app.orgs(id) ON UPDATE RESTRICT ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED"
    );
    let owner_fk = con(projects, "projects_owner_fk");
    let f = owner_fk.foreign_key.as_ref().unwrap();
    assert_eq!(owner_fk.columns, ["org_id", "owner_id"]);
    assert_eq!(f.ref_columns, ["org_id", "user_id"]);
    assert_eq!(f.match_type, 'f');
    assert_eq!(f.on_delete, FkAction::NoAction);
    let check = con(projects, "projects_budget_positive");
    assert_eq!(check.kind, ConstraintKind::Check);
    assert!(!check.validated);
    assert_eq!(check.columns, ["budget"]);
    assert_eq!(
        check.definition,
        "CHECK ((budget >= (0)::numeric)) NOT VALID"
    );
    let not_valid = con(tasks, "tasks_project_fk");
    assert!(!not_valid.validated);
    assert!(not_valid.definition.ends_with(" NOT VALID"));
    let excl = ix
        .constraints(tasks.oid)
        .iter()
        .find(|c| c.kind == ConstraintKind::Exclusion)
        .unwrap();
    assert_eq!(excl.columns, ["during"]);
    assert_eq!(excl.definition, "EXCLUDE USING gist (during WITH &&)");
    let unique = con(orgs, "orgs_slug_key");
    assert_eq!(unique.kind, ConstraintKind::Unique);
    assert_eq!(unique.definition, "UNIQUE (slug)");
    // A foreign key to a partitioned table is one constraint (the per-partition clones are
    // left out).
    let event_refs = ix.relation_named("app", "event_refs").unwrap();
    let fks: Vec<&Constraint> = ix.foreign_keys(event_refs.oid).collect();
    assert_eq!(fks.len(), 1, "{fks:#?}");
    assert_eq!(fks[0].foreign_key.as_ref().unwrap().ref_table, events.oid);
    assert_eq!(ix.referenced_by(orgs.oid).len(), 2);
    // A foreign key to a table that was not loaded (a stand-in) still names it.
    let uses = ix.relation_named("app", "uses_standin").unwrap();
    let fk = ix.foreign_keys(uses.oid).next().unwrap();
    let f = fk.foreign_key.as_ref().unwrap();
    assert_eq!(
        (f.ref_schema.as_str(), f.ref_name.as_str()),
        ("app", "standin_tbl")
    );
    assert_eq!(f.ref_columns, ["id"]);
    assert_eq!(
        fk.definition,
        "FOREIGN KEY (standin_id) REFERENCES app.standin_tbl(id)"
    );

    // Indexes.
    let index = |name: &str| -> Index {
        cat.indexes
            .iter()
            .find(|i| i.name == name)
            .cloned()
            .unwrap_or_else(|| panic!("no index {name}"))
    };
    let pkey = index("orgs_pkey");
    assert!(pkey.primary && pkey.unique && pkey.valid && pkey.ready);
    assert_eq!(pkey.constraint.as_deref(), Some("orgs_pkey"));
    assert_eq!(pkey.method, "btree");
    assert_eq!(pkey.schema, "app");
    assert_eq!(pkey.table, orgs.oid);
    assert_eq!(
        pkey.definition,
        "CREATE UNIQUE INDEX orgs_pkey ON app.orgs USING btree (id)"
    );
    assert!(pkey.size_bytes > 0);
    assert_eq!(
        index("orgs_slug_key").constraint.as_deref(),
        Some("orgs_slug_key")
    );
    let open_idx = index("tasks_open_idx");
    assert_eq!(open_idx.key_columns, [Some("project_id".to_string())]);
    assert_eq!(open_idx.include_columns, ["title"]);
    assert_eq!(open_idx.predicate.as_deref(), Some("(NOT done)"));
    assert_eq!(open_idx.constraint, None);
    assert_eq!(
        open_idx.definition,
        "CREATE INDEX tasks_open_idx ON app.tasks USING btree (project_id) INCLUDE (title) WHERE (NOT done)"
    );
    let expr_idx = index("tasks_lower_title_idx");
    assert_eq!(expr_idx.key_columns, [Some("org_id".to_string()), None]);
    assert_eq!(
        expr_idx.expressions.as_deref(),
        Some("lower((title)::text)")
    );
    let invalid = index("tasks_title_uniq");
    assert!(!invalid.valid);
    assert!(invalid.unique);
    assert_eq!(index("events_payload_idx").method, "gin");
    let excl_idx = cat
        .indexes
        .iter()
        .find(|i| i.method == "gist" && i.table == tasks.oid)
        .unwrap();
    assert_eq!(excl_idx.constraint.as_deref(), Some(excl.name.as_str()));
    assert!(
        cat.indexes.iter().all(|i| ix.relation(i.table).is_some()),
        "indexes of skipped relations are left out"
    );
    assert!(!cat.indexes.iter().any(|i| i.name == "standin_tbl_x"));
    assert!(tasks.size_bytes >= index("tasks_pkey").size_bytes);

    // Policies.
    let pols: Vec<(&str, &str)> = cat
        .policies
        .iter()
        .map(|p| (p.table_name.as_str(), p.name.as_str()))
        .collect();
    assert_eq!(
        pols,
        [
            ("members", "members_all"),
            ("projects", "projects_insert"),
            ("projects", "projects_select"),
        ]
    );
    let sel = ix
        .policies(projects.oid)
        .iter()
        .find(|p| p.name == "projects_select")
        .unwrap();
    assert_eq!(sel.schema, "app");
    assert_eq!(sel.command, PolicyCommand::Select);
    assert!(sel.permissive);
    assert_eq!(sel.roles, ["catalog_anon", "catalog_authenticated"]);
    assert_eq!(
        sel.using.as_deref(),
        Some("(org_id IN ( SELECT app.user_org_ids() AS user_org_ids))")
    );
    assert_eq!(sel.with_check, None);
    assert_eq!(sel.functions, ["app.user_org_ids"]);
    assert!(sel.relations.is_empty(), "its own table is left out");
    let ins = ix
        .policies(projects.oid)
        .iter()
        .find(|p| p.name == "projects_insert")
        .unwrap();
    assert_eq!(ins.command, PolicyCommand::Insert);
    assert!(!ins.permissive);
    assert_eq!(ins.using, None);
    assert!(ins.with_check.as_deref().unwrap().contains("auth.uid()"));
    assert_eq!(ins.functions, ["auth.uid"]);
    assert_eq!(ins.relations, ["app.members"]);
    let all = &ix.policies(members.oid)[0];
    assert_eq!(all.command, PolicyCommand::All);
    assert_eq!(all.roles, ["PUBLIC"]);
    assert_eq!(all.functions, ["auth.uid"]);
    assert!(all.relations.is_empty());

    // Triggers.
    let trig: Vec<&str> = ix
        .triggers(tasks.oid)
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(
        trig,
        ["tasks_audit", "tasks_touch"],
        "FK triggers are internal"
    );
    let touch = ix
        .triggers(tasks.oid)
        .iter()
        .find(|t| t.name == "tasks_touch")
        .unwrap();
    assert_eq!(touch.timing, "before");
    assert_eq!(touch.events, ["insert", "update"]);
    assert!(touch.row_level && touch.enabled);
    assert_eq!(touch.update_columns, ["title", "done"]);
    assert_eq!(touch.function, "app.touch");
    assert!(touch.definition.starts_with(
        "CREATE TRIGGER tasks_touch BEFORE INSERT OR UPDATE OF title, done ON app.tasks"
    ));
    let audit = ix
        .triggers(tasks.oid)
        .iter()
        .find(|t| t.name == "tasks_audit")
        .unwrap();
    assert_eq!(audit.timing, "after");
    assert_eq!(audit.events, ["delete", "truncate"]);
    assert!(!audit.row_level && !audit.enabled);
    assert!(audit.update_columns.is_empty());
    let instead = &ix.triggers(open.oid)[0];
    assert_eq!(instead.timing, "instead_of");
    assert_eq!(instead.events, ["insert"]);
    let touch_fn = cat.functions.iter().find(|f| f.name == "touch").unwrap();
    assert_eq!(touch.function_oid, touch_fn.oid);

    // Functions: extension members and stand-ins left out.
    let fns: Vec<String> = cat.functions.iter().map(|f| f.signature()).collect();
    assert_eq!(
        fns,
        [
            "app.add(a integer, b integer)",
            "app.cleanup()",
            "app.open_tasks_insert()",
            "app.total(integer)",
            "app.touch()",
            "app.user_org_ids()",
            "auth.uid()",
        ]
    );
    let f = |name: &str| cat.functions.iter().find(|f| f.name == name).unwrap();
    let uoi = f("user_org_ids");
    assert!(uoi.security_definer);
    assert_eq!(uoi.search_path(), Some("\"\""));
    assert_eq!(uoi.volatility, 's');
    assert_eq!(uoi.language, "sql");
    assert_eq!(uoi.kind, 'f');
    assert_eq!(uoi.result, "SETOF uuid");
    assert_eq!(uoi.owner, "postgres");
    assert_eq!(uoi.comment.as_deref(), Some("orgs of the current user"));
    assert!(uoi
        .source
        .as_deref()
        .unwrap()
        .contains("FROM app.members m"));
    assert_eq!(
        uoi.grants,
        vec![
            grant("catalog_authenticated", "EXECUTE", false),
            grant("postgres", "EXECUTE", false),
        ]
    );
    let touch_fn = f("touch");
    assert!(touch_fn.grants.contains(&grant("PUBLIC", "EXECUTE", false)));
    assert_eq!(touch_fn.language, "plpgsql");
    assert_eq!(touch_fn.result, "trigger");
    assert!(!touch_fn.security_definer);
    assert!(touch_fn.config.is_empty());
    let add = f("add");
    assert!(add.leakproof);
    assert_eq!(add.volatility, 'i');
    assert!(
        add.source.as_deref().unwrap().contains("BEGIN ATOMIC"),
        "{:?}",
        add.source
    );
    assert_eq!(f("cleanup").kind, 'p');
    assert_eq!(f("cleanup").result, "");
    assert_eq!(f("total").kind, 'a');
    assert_eq!(f("total").language, "internal");
    assert_eq!(f("total").source, None);

    // Sequences.
    let seqs: Vec<(&str, Option<&str>)> = cat
        .sequences
        .iter()
        .map(|s| (s.name.as_str(), s.owned_by.as_deref()))
        .collect();
    assert_eq!(
        seqs,
        [
            ("invoice_no", None),
            ("projects_id_seq", Some("app.projects.id")),
            ("tasks_id_seq", Some("app.tasks.id")),
            ("ticket_seq", None),
        ],
        "the stand-in table's sequence goes with it"
    );
    let inv = &cat.sequences[0];
    assert_eq!(inv.data_type, "integer");
    assert_eq!(inv.max_value, 100000);
    assert_eq!(inv.increment, 5);
    assert_eq!(inv.last_value, None, "only with statistics");

    // Types.
    let types: Vec<(&str, &UserTypeKind)> = cat
        .types
        .iter()
        .map(|t| (t.name.as_str(), &t.kind))
        .collect();
    let names: Vec<&str> = types.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "email",
            "int_span",
            "money_pair",
            "plan",
            "short_text",
            "tiny"
        ]
    );
    for (name, kind) in types {
        match (name, kind) {
            ("plan", UserTypeKind::Enum { labels }) => {
                assert_eq!(labels, &strings(&["free", "starter", "pro", "enterprise"]))
            }
            (
                "short_text",
                UserTypeKind::Domain {
                    base_type,
                    not_null,
                    checks,
                },
            ) => {
                assert_eq!(base_type, "character varying(20)");
                assert!(*not_null);
                assert_eq!(checks.len(), 2);
                assert!(checks.iter().any(|c| c.contains("length")), "{checks:?}");
            }
            ("tiny", UserTypeKind::Domain { base_type, .. }) => {
                assert_eq!(base_type, "app.short_text")
            }
            ("email", UserTypeKind::Domain { base_type, .. }) => assert_eq!(base_type, "citext"),
            ("money_pair", UserTypeKind::Composite) | ("int_span", UserTypeKind::Range) => {}
            other => panic!("unexpected type {other:?}"),
        }
    }

    // Roles.
    let role = |n: &str| ix.role(n).unwrap_or_else(|| panic!("no role {n}"));
    assert!(role("postgres").superuser && role("postgres").bypass_rls);
    assert!(role("catalog_service").bypass_rls);
    let authenticator = role("catalog_authenticator");
    assert!(authenticator.can_login && !authenticator.inherit);
    assert_eq!(
        authenticator.member_of,
        ["catalog_anon", "catalog_authenticated"]
    );
    assert!(!cat.roles.iter().any(|r| r.name.starts_with("pg_")));

    // Extensions, default privileges, publications.
    let exts: Vec<&str> = cat.extensions.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(exts, ["citext", "pg_buffercache", "plpgsql"]);
    assert_eq!(cat.extensions[0].schema, "public");
    assert!(!cat.extensions[0].version.is_empty());
    let dp: Vec<(Option<&str>, char)> = cat
        .default_privileges
        .iter()
        .map(|d| (d.schema.as_deref(), d.object_type))
        .collect();
    assert_eq!(dp, [(None, 'f'), (Some("app"), 'r')]);
    assert_eq!(cat.default_privileges[0].role, "postgres");
    assert_eq!(
        cat.default_privileges[0].grants,
        vec![grant("postgres", "EXECUTE", false)],
        "EXECUTE revoked from PUBLIC"
    );
    assert_eq!(
        cat.default_privileges[1].grants,
        vec![grant("catalog_anon", "SELECT", false)]
    );
    assert_eq!(cat.publications.len(), 1);
    assert_eq!(cat.publications[0].name, "catalog_pub");
    assert!(!cat.publications[0].all_tables);
    assert_eq!(cat.publications[0].tables, ["app.orgs", "app.projects"]);

    // Nothing from the stand-ins, nothing owned by extensions.
    assert!(!cat.relations.iter().any(|r| r.name.starts_with("standin")));
    assert!(!cat.policies.iter().any(|p| p.name == "standin_policy"));
    assert!(!cat.types.iter().any(|t| t.name == "citext"));
    assert!(!cat.functions.iter().any(|f| f.name.starts_with("citext")));
    assert!(!cat.relations.iter().any(|r| r.name == "pg_buffercache"));

    // The model serializes.
    serde_json::to_string(&cat).unwrap();
}

/// Every index and constraint definition the loader spells itself is the server's own.
async fn assert_definitions_match(client: &Client, cat: &Catalog) {
    let rows = client
        .query(
            "SELECT i.indexrelid, pg_catalog.pg_get_indexdef(i.indexrelid) FROM pg_catalog.pg_index i",
            &[],
        )
        .await
        .unwrap();
    let server: std::collections::HashMap<u32, String> =
        rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert!(!cat.indexes.is_empty());
    for i in &cat.indexes {
        assert_eq!(i.definition, server[&i.oid], "index {}", i.name);
    }
    let rows = client
        .query(
            "SELECT c.oid, pg_catalog.pg_get_constraintdef(c.oid) FROM pg_catalog.pg_constraint c",
            &[],
        )
        .await
        .unwrap();
    let server: std::collections::HashMap<u32, String> =
        rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert!(!cat.constraints.is_empty());
    for c in &cat.constraints {
        assert_eq!(c.definition, server[&c.oid], "constraint {}", c.name);
    }
}

/// Names that need quoting, keywords, collations, operator classes, DESC, INCLUDE, foreign keys
/// of every shape, tables on and off the search path.
const TRICKY: &str = r#"
CREATE SCHEMA "Other Schema";
CREATE SCHEMA offpath;
CREATE TABLE "Other Schema"."Order" ("ID" int PRIMARY KEY, "user" text, "select" int UNIQUE);
CREATE TABLE offpath.parent (id int PRIMARY KEY, code varchar(10) UNIQUE, a int, b int,
  UNIQUE (a, b));
CREATE TABLE public.parent (id int, note text, PRIMARY KEY (id) INCLUDE (note));
CREATE TABLE public.child (
  id int,
  "Parent" int REFERENCES public.parent (id) ON UPDATE CASCADE ON DELETE RESTRICT,
  off int REFERENCES offpath.parent (id) DEFERRABLE,
  ord int REFERENCES "Other Schema"."Order" ("ID") ON DELETE SET NULL,
  ord2 int REFERENCES "Other Schema"."Order" ("select") ON DELETE SET DEFAULT,
  a int, b int,
  code varchar(10),
  label text COLLATE "C",
  FOREIGN KEY (a, b) REFERENCES offpath.parent (a, b) MATCH FULL ON UPDATE SET NULL,
  PRIMARY KEY (id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX ON public.child ("Parent");
CREATE INDEX ON public.child (code);
CREATE INDEX ON public.child (code text_pattern_ops);
CREATE INDEX ON public.child (label);
CREATE INDEX ON public.child (label COLLATE "POSIX");
CREATE INDEX ON public.child (a DESC NULLS LAST, b NULLS FIRST);
CREATE INDEX ON public.child (a) INCLUDE (b, "Parent");
CREATE INDEX ON public.child USING hash (a);
CREATE INDEX ON public.child (a) WITH (fillfactor = 70);
CREATE UNIQUE INDEX ON public.child (b, a);
CREATE INDEX "Weird ""Index""" ON "Other Schema"."Order" ("user", "select");
CREATE TABLE public.parts (k int, v int, PRIMARY KEY (k)) PARTITION BY HASH (k);
CREATE TABLE public.parts_0 PARTITION OF public.parts FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE public.parts_1 PARTITION OF public.parts FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE INDEX ON public.parts (v);
CREATE TABLE public.part_refs (k int REFERENCES public.parts (k));
"#;

#[tokio::test]
async fn definitions_match_the_server() {
    let db = fixture_db("definitions_match_the_server").await;
    db.client.batch_execute(TRICKY).await.unwrap();
    let cat = load_ro(&db.client, false).await;
    assert_definitions_match(&db.client, &cat).await;
    // Qualification follows the search path, as pg_get_constraintdef's does.
    let child = cat
        .relations
        .iter()
        .find(|r| r.name == "child")
        .unwrap()
        .oid;
    let defs: Vec<&str> = cat
        .constraints
        .iter()
        .filter(|c| c.table == child)
        .map(|c| c.definition.as_str())
        .collect();
    assert!(
        defs.contains(
            &"FOREIGN KEY (\"Parent\") REFERENCES parent(id) ON UPDATE CASCADE ON DELETE RESTRICT"
        ),
        "{defs:#?}"
    );
    assert!(
        defs.contains(&"FOREIGN KEY (off) REFERENCES offpath.parent(id) DEFERRABLE"),
        "{defs:#?}"
    );
    let parts_fks = cat
        .constraints
        .iter()
        .filter(|c| c.foreign_key.is_some() && c.name.starts_with("part_refs"))
        .count();
    assert_eq!(parts_fks, 1);

    // With another search path, other names are qualified, and still match.
    db.client
        .batch_execute("SET search_path = offpath, \"Other Schema\"")
        .await
        .unwrap();
    let cat = load_ro(&db.client, false).await;
    assert_definitions_match(&db.client, &cat).await;

    // A synthetic schema too.
    let syn = test_db("definitions_match_synthetic").await;
    let p = SyntheticSchema {
        tables: 60,
        columns_per_table: 5,
        foreign_keys: 100,
        policies: 120,
        policy_role: None,
        batch_tables: 25,
        ..Default::default()
    };
    for batch in schema_batches(&p) {
        syn.client.batch_execute(&batch).await.unwrap();
    }
    let cat = load_ro(&syn.client, false).await;
    assert_definitions_match(&syn.client, &cat).await;
}

#[tokio::test]
async fn synthetic_schema_counts() {
    let db = test_db("synthetic_schema_counts").await;
    let p = SyntheticSchema {
        tables: 120,
        columns_per_table: 4,
        foreign_keys: 190,
        // Over the 1,000 from which policies.sql deparses in parallel workers.
        policies: 1_100,
        policy_role: Some("catalog_authenticated".to_string()),
        batch_tables: 50,
        ..Default::default()
    };
    db.client.batch_execute(ROLES).await.unwrap();
    for batch in schema_batches(&p) {
        db.client.batch_execute(&batch).await.unwrap();
    }
    let cat = load_ro(&db.client, false).await;
    let ix = CatalogIndex::new(&cat);
    let tables: Vec<&Relation> = cat
        .relations
        .iter()
        .filter(|r| r.schema == "public")
        .collect();
    assert_eq!(tables.len(), 120);
    assert_eq!(
        tables.iter().map(|r| r.columns.len()).sum::<usize>(),
        120 * 4
    );
    let fks = cat
        .constraints
        .iter()
        .filter(|c| c.kind == ConstraintKind::ForeignKey)
        .count();
    assert_eq!(fks, 190);
    assert_eq!(cat.policies.len(), 1_100);
    let orgs = ix.relation_named("public", "organizations").unwrap();
    assert_eq!(ix.referenced_by(orgs.oid).len(), 119);
    let with_helper = cat
        .policies
        .iter()
        .filter(|p| p.functions == ["public.user_org_ids"])
        .count();
    let with_subselect = cat
        .policies
        .iter()
        .filter(|p| p.relations == ["public.memberships"] && p.functions == ["auth.uid"])
        .count();
    assert!(with_helper > 0 && with_subselect > 0);
    assert_eq!(with_helper + with_subselect + 1, 1_100);
    assert!(cat
        .policies
        .iter()
        .all(|p| p.roles == ["catalog_authenticated"]));
    let uoi = cat
        .functions
        .iter()
        .find(|f| f.name == "user_org_ids")
        .unwrap();
    assert!(uoi.security_definer);
    // The expressions are the server's own, wherever they were deparsed.
    let rows = db
        .client
        .query(
            "SELECT schemaname::text, tablename::text, policyname::text, qual, with_check \
             FROM pg_catalog.pg_policies",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 1_100);
    for row in rows {
        let (schema, table, name): (String, String, String) = (row.get(0), row.get(1), row.get(2));
        let p = cat
            .policies
            .iter()
            .find(|p| p.schema == schema && p.table_name == table && p.name == name)
            .unwrap_or_else(|| panic!("policy {name} on {table} not loaded"));
        assert_eq!(p.using, row.get::<_, Option<String>>(3), "{name}");
        assert_eq!(p.with_check, row.get::<_, Option<String>>(4), "{name}");
    }
}

#[tokio::test]
async fn statistics_when_asked() {
    let db = fixture_db("statistics_when_asked").await;
    let cat = load_ro(&db.client, true).await;
    let stats = cat.stats.as_ref().expect("statistics");
    let ix = CatalogIndex::new(&cat);
    let orgs = ix.relation_named("app", "orgs").unwrap();
    assert!(stats.tables.iter().any(|t| t.table == orgs.oid));
    assert!(stats.tables.iter().all(|t| ix.relation(t.table).is_some()));
    let index_oids: Vec<u32> = cat.indexes.iter().map(|i| i.oid).collect();
    assert!(stats.indexes.iter().all(|i| index_oids.contains(&i.index)));
    assert!(!stats.indexes.is_empty());
    let inv = cat
        .sequences
        .iter()
        .find(|s| s.name == "invoice_no")
        .unwrap();
    assert_eq!(inv.last_value, Some(1));
    let tasks_seq = cat
        .sequences
        .iter()
        .find(|s| s.name == "tasks_id_seq")
        .unwrap();
    assert_eq!(tasks_seq.last_value, Some(2));
    let projects_seq = cat
        .sequences
        .iter()
        .find(|s| s.name == "projects_id_seq")
        .unwrap();
    assert_eq!(
        projects_seq.last_value, None,
        "a bigint sequence feeding a bigint column is not read"
    );
    let ticket_seq = cat
        .sequences
        .iter()
        .find(|s| s.name == "ticket_seq")
        .unwrap();
    assert_eq!(
        ticket_seq.last_value,
        Some(2),
        "a bigint sequence feeding an integer column is read"
    );
}

#[tokio::test]
async fn errors_name_the_query_and_the_server_message() {
    let db = test_db("errors_name_the_query").await;
    db.client.batch_execute("BEGIN").await.unwrap();
    let _ = db.client.batch_execute("SELECT 1/0").await;
    let err = load(&db.client, &LoadOptions::default())
        .await
        .expect_err("an aborted transaction fails every query");
    let msg = err.to_string();
    assert!(msg.contains(".sql"), "{msg}");
    assert!(msg.contains("current transaction is aborted"), "{msg}");
    assert!(msg.contains("25P02"), "{msg}");
    db.client.batch_execute("ROLLBACK").await.unwrap();
}

#[tokio::test]
async fn settings_are_put_back() {
    let db = test_db("settings_are_put_back").await;
    db.client
        .batch_execute("BEGIN READ ONLY; SET LOCAL work_mem = '5MB'")
        .await
        .unwrap();
    load(&db.client, &LoadOptions::default()).await.unwrap();
    let row = db
        .client
        .query_one(
            "SELECT current_setting('work_mem'), current_setting('jit'), \
             current_setting('max_parallel_workers_per_gather')",
            &[],
        )
        .await
        .unwrap();
    let (work_mem, jit, workers): (String, String, String) = (row.get(0), row.get(1), row.get(2));
    assert_eq!(work_mem, "5MB");
    db.client.batch_execute("COMMIT").await.unwrap();
    let row = db
        .client
        .query_one(
            "SELECT current_setting('jit'), current_setting('max_parallel_workers_per_gather')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!((jit, workers), (row.get(0), row.get(1)));
    // Outside a transaction block it works too (the settings last one statement each).
    load(&db.client, &LoadOptions::default()).await.unwrap();
}

#[tokio::test]
async fn supabase_environment() {
    let db = test_db_supabase("catalog_supabase_environment").await;
    let cat = load_ro(&db.client, false).await;
    let ix = CatalogIndex::new(&cat);
    assert!(ix.schema("auth").unwrap().managed);
    assert!(ix.schema("storage").unwrap().managed);
    assert!(!ix.schema("public").unwrap().managed);
    assert!(ix.relation_named("auth", "users").is_some());
    assert!(cat
        .functions
        .iter()
        .any(|f| f.schema == "auth" && f.name == "uid"));
    for r in ["anon", "authenticated", "service_role"] {
        assert!(ix.role(r).is_some(), "role {r}");
    }
    assert!(ix.role("service_role").unwrap().bypass_rls);
    assert!(cat
        .publications
        .iter()
        .any(|p| p.name == "supabase_realtime"));
    // The stand-ins are in the database, and not in the catalog.
    let standins: i64 = db
        .client
        .query_one(
            "SELECT count(*) FROM pg_catalog.pg_description \
             WHERE description LIKE 'dbaudit stand-in%' \
               AND classoid IN ('pg_catalog.pg_class'::regclass, 'pg_catalog.pg_proc'::regclass, \
                                'pg_catalog.pg_type'::regclass)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let standin_oids: Vec<u32> = db
        .client
        .query(
            "SELECT objoid FROM pg_catalog.pg_description WHERE description LIKE 'dbaudit stand-in%'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    if standins == 0 {
        eprintln!("no stand-ins in this Supabase environment: nothing to leave out");
    }
    for oid in &standin_oids {
        assert!(
            ix.relation(*oid).is_none(),
            "stand-in relation {oid} loaded"
        );
        assert!(!cat.functions.iter().any(|f| f.oid == *oid));
        assert!(!cat.types.iter().any(|t| t.oid == *oid));
        assert!(!cat.sequences.iter().any(|s| s.oid == *oid));
    }
    assert!(!cat
        .relations
        .iter()
        .filter_map(|r| r.comment.as_deref())
        .any(|c| c.starts_with("dbaudit stand-in")));
    assert!(!cat
        .functions
        .iter()
        .filter_map(|f| f.comment.as_deref())
        .any(|c| c.starts_with("dbaudit stand-in")));
}

/// The benchmark of the design: 5,000 tables, 20,000 columns, 8,000 foreign keys, 10,000
/// policies. Prints the load time (cold connection, then warm); not a timed test.
/// `cargo test -p dbaudit-catalog --release --test load -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn synthetic_5000_tables_load_time() {
    let db = test_db("synthetic_5000_tables").await;
    let started = std::time::Instant::now();
    for batch in schema_batches(&SyntheticSchema::default()) {
        db.client.batch_execute(&batch).await.unwrap();
    }
    eprintln!("generated in {:?}", started.elapsed());
    for round in 0..3 {
        let client = db.connect().await;
        for pass in ["cold", "warm"] {
            let t = std::time::Instant::now();
            let cat = load_ro(&client, false).await;
            eprintln!(
                "round {round} {pass}: {:?} ({} relations, {} constraints, {} indexes, {} policies)",
                t.elapsed(),
                cat.relations.len(),
                cat.constraints.len(),
                cat.indexes.len(),
                cat.policies.len()
            );
        }
    }
}
