//! The Supabase environment and the extension stand-ins, against a real server: the
//! environment is idempotent, a representative Supabase migration applies unchanged, each
//! stand-in works the way migrations use it, and every stand-in object says what it is.

use std::path::Path;

use dbaudit_pgcluster::supabase::{self, env_sql, standin, standin_names};
use dbaudit_pgcluster::testing::{test_db, test_db_supabase};
use tokio_postgres::{Client, SimpleQueryMessage};

fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!(
            "{} ({}){}{}",
            db.message(),
            db.code().code(),
            db.detail()
                .map(|d| format!("\nDETAIL: {d}"))
                .unwrap_or_default(),
            db.where_()
                .map(|w| format!("\nWHERE: {w}"))
                .unwrap_or_default(),
        ),
        None => e.to_string(),
    }
}

async fn exec(client: &Client, sql: &str) {
    if let Err(e) = client.batch_execute(sql).await {
        panic!("{}\n--- while running:\n{sql}", describe(&e));
    }
}

/// The rows of a query, every value as text (NULL as "NULL").
async fn rows(client: &Client, sql: &str) -> Vec<Vec<String>> {
    let msgs = match client.simple_query(sql).await {
        Ok(m) => m,
        Err(e) => panic!("{}\n--- while running:\n{sql}", describe(&e)),
    };
    msgs.iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some(
                (0..r.len())
                    .map(|i| r.get(i).unwrap_or("NULL").to_string())
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

/// The first column of the last row `sql` returns (its last statement's result).
async fn value(client: &Client, sql: &str) -> String {
    let r = rows(client, sql).await;
    match r.last().and_then(|row| row.first()) {
        Some(v) => v.clone(),
        None => panic!("no rows from: {sql}"),
    }
}

/// SQLSTATE of the error `sql` fails with.
async fn fails_with(client: &Client, sql: &str) -> String {
    match client.batch_execute(sql).await {
        Ok(()) => panic!("expected an error from: {sql}"),
        Err(e) => e
            .as_db_error()
            .map(|d| d.code().code().to_string())
            .unwrap_or_else(|| e.to_string()),
    }
}

/// What the apply engine does for `CREATE EXTENSION name [WITH SCHEMA schema]` when the server
/// lacks the extension.
async fn create_standin(client: &Client, name: &str, schema: &str) {
    let s = standin(name).unwrap_or_else(|| panic!("no stand-in for {name}"));
    exec(client, &s.render(schema)).await;
}

fn data(rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[tokio::test]
async fn env_sql_applies_twice_in_one_database() {
    let db = test_db("env_twice").await;
    exec(&db.client, env_sql()).await;
    exec(&db.client, env_sql()).await;
    for (sql, want) in [
        ("select count(*) from pg_roles where rolname in ('anon', 'authenticated', 'service_role', 'authenticator', 'supabase_admin', 'supabase_auth_admin', 'supabase_storage_admin', 'dashboard_user', 'supabase_realtime_admin', 'pgbouncer', 'supabase_replication_admin', 'supabase_read_only_user', 'supabase_etl_admin', 'supabase_functions_admin')", "14"),
        ("select rolbypassrls::text from pg_roles where rolname = 'service_role'", "true"),
        ("select rolcanlogin::text || rolinherit::text from pg_roles where rolname = 'authenticator'", "truefalse"),
        ("select rolsuper::text from pg_roles where rolname = 'supabase_admin'", "true"),
        ("select count(*) from pg_auth_members m join pg_roles r on r.oid = m.roleid join pg_roles u on u.oid = m.member where u.rolname = 'authenticator' and r.rolname in ('anon', 'authenticated', 'service_role')", "3"),
        ("select count(*) from pg_namespace where nspname in ('auth', 'storage', 'extensions', 'graphql', 'graphql_public', 'realtime', 'vault', 'supabase_functions', 'net')", "9"),
        ("select count(*) from pg_publication where pubname = 'supabase_realtime'", "1"),
        ("select count(*) from pg_extension where extname in ('uuid-ossp', 'pgcrypto', 'pg_stat_statements')", "3"),
    ] {
        assert_eq!(value(&db.client, sql).await, want, "{sql}");
    }
}

#[tokio::test]
async fn auth_storage_realtime_shapes() {
    let db = test_db_supabase("env_shapes").await;
    let c = &db.client;
    let cols = value(
        c,
        "select string_agg(attname, ',' order by attnum) from pg_attribute where attrelid = 'auth.users'::regclass and attnum > 0 and not attisdropped",
    )
    .await;
    assert_eq!(
        cols,
        "instance_id,id,aud,role,email,encrypted_password,email_confirmed_at,invited_at,\
         confirmation_token,confirmation_sent_at,recovery_token,recovery_sent_at,\
         email_change_token_new,email_change,email_change_sent_at,last_sign_in_at,\
         raw_app_meta_data,raw_user_meta_data,is_super_admin,created_at,updated_at,phone,\
         phone_confirmed_at,phone_change,phone_change_token,phone_change_sent_at,confirmed_at,\
         email_change_token_current,email_change_confirm_status,banned_until,\
         reauthentication_token,reauthentication_sent_at,is_sso_user,deleted_at,is_anonymous"
    );
    assert_eq!(
        value(c, "select attgenerated::text from pg_attribute where attrelid = 'auth.users'::regclass and attname = 'confirmed_at'").await,
        "s"
    );
    for t in [
        "auth.identities",
        "auth.sessions",
        "auth.refresh_tokens",
        "auth.audit_log_entries",
        "auth.mfa_factors",
        "auth.mfa_challenges",
        "auth.one_time_tokens",
        "supabase_functions.hooks",
        "net.http_request_queue",
        "vault.secrets",
    ] {
        assert_ne!(
            value(c, &format!("select to_regclass('{t}')::text")).await,
            "NULL",
            "{t}"
        );
    }
    // RLS on the service tables; the API roles may use storage and realtime tables.
    assert_eq!(
        value(c, "select string_agg(oid::regclass::text || '=' || relrowsecurity, ',' order by oid::regclass::text) from pg_class where oid in ('storage.objects'::regclass, 'storage.buckets'::regclass, 'realtime.messages'::regclass, 'auth.users'::regclass)").await,
        "auth.users=true,realtime.messages=true,storage.buckets=true,storage.objects=true"
    );
    for (role, table, privilege) in [
        ("anon", "storage.objects", "insert"),
        ("authenticated", "storage.buckets", "select"),
        ("service_role", "storage.objects", "delete"),
        ("authenticated", "realtime.messages", "select"),
    ] {
        assert_eq!(
            value(
                c,
                &format!("select has_table_privilege('{role}', '{table}', '{privilege}')::text")
            )
            .await,
            "true",
            "{role} {privilege} on {table}"
        );
    }
    assert_eq!(
        value(
            c,
            "select has_table_privilege('anon', 'auth.users', 'select')::text"
        )
        .await,
        "false"
    );
    assert_eq!(
        value(c, "select format_type(atttypid, atttypmod) || ' ' || pg_get_expr(d.adbin, d.adrelid) from pg_attribute a join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum where a.attrelid = 'storage.objects'::regclass and a.attname = 'path_tokens'").await,
        "text[] string_to_array(name, '/'::text)"
    );
    // The helpers policies call, as Supabase defines them.
    assert_eq!(
        rows(
            c,
            "select set_config('request.jwt.claims', '{\"sub\": \"5d0f2d2b-95f3-4f41-9d2c-3a1c0d3a7c11\", \"role\": \"authenticated\", \"email\": \"a@example.com\"}', false), \
             auth.uid()::text, auth.role(), auth.email(), auth.jwt() ->> 'email'"
        )
        .await[0][1..],
        [
            "5d0f2d2b-95f3-4f41-9d2c-3a1c0d3a7c11",
            "authenticated",
            "a@example.com",
            "a@example.com"
        ]
    );
    assert_eq!(
        value(c, "select p.provolatile::text || l.lanname from pg_proc p join pg_language l on l.oid = p.prolang where p.oid = 'auth.uid'::regproc").await,
        "ssql"
    );
    assert_eq!(
        rows(c, "select (storage.foldername('a/b/c.png'))[1], storage.filename('a/b/c.png'), storage.extension('a/b/c.png')").await[0],
        ["a", "c.png", "png"]
    );
    // The search path that makes bare uuid_generate_v4() and crypt() resolve.
    let conn = db.connect().await;
    assert_eq!(
        value(&conn, "show search_path").await,
        "\"$user\", public, extensions"
    );
    assert_eq!(
        value(&conn, "select length(crypt('x', gen_salt('bf')))::text || ',' || (uuid_generate_v4() is not null)::text").await,
        "60,true"
    );
}

#[tokio::test]
async fn new_public_tables_are_exposed_until_rls() {
    let db = test_db_supabase("env_default_privileges").await;
    let c = &db.client;
    exec(
        c,
        "create table public.notes (id bigserial primary key, body text);\
         create function public.f() returns int language sql as $$ select 1 $$;",
    )
    .await;
    for role in ["anon", "authenticated", "service_role"] {
        assert_eq!(
            value(c, &format!("select has_table_privilege('{role}', 'public.notes', 'select,insert,update,delete')::text")).await,
            "true",
            "{role}"
        );
        assert_eq!(
            value(
                c,
                &format!(
                    "select has_sequence_privilege('{role}', 'public.notes_id_seq', 'usage')::text"
                )
            )
            .await,
            "true"
        );
        assert_eq!(
            value(
                c,
                &format!("select has_function_privilege('{role}', 'public.f()', 'execute')::text")
            )
            .await,
            "true"
        );
    }
    exec(c, "insert into public.notes (body) values ('x')").await;
    assert_eq!(
        value(
            c,
            "begin; set local role anon; select count(*)::text from public.notes"
        )
        .await,
        "1"
    );
    exec(
        c,
        "rollback; alter table public.notes enable row level security",
    )
    .await;
    assert_eq!(
        value(
            c,
            "begin; set local role anon; select count(*)::text from public.notes"
        )
        .await,
        "0"
    );
    exec(c, "rollback").await;
}

const MIGRATION: &str = "supabase_project/supabase/migrations/20240101000000_init.sql";

#[tokio::test]
async fn representative_migration_applies_unchanged() {
    let db = test_db_supabase("env_migration").await;
    let c = &db.client;
    exec(c, &format!("begin;\n{}\ncommit;", data(MIGRATION))).await;

    // auth.users → profile trigger, cascades.
    exec(
        c,
        "insert into auth.users (id, email, raw_user_meta_data) values \
           ('11111111-1111-4111-8111-111111111111', 'a@example.com', '{\"username\": \"a\"}'), \
           ('22222222-2222-4222-8222-222222222222', 'b@example.com', '{\"username\": \"b\"}');\
         insert into public.organizations (id, name) values \
           ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'A'), ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'B');\
         insert into public.members values \
           ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', '11111111-1111-4111-8111-111111111111', 'owner'),\
           ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', '22222222-2222-4222-8222-222222222222', 'owner');\
         insert into public.documents (org_id, title) values \
           ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'a1'), ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'b1');",
    )
    .await;
    assert_eq!(
        value(
            c,
            "select string_agg(username, ',' order by username) from public.profiles"
        )
        .await,
        "a,b"
    );

    // The webhook queued its request with pg_net (stand-in) and logged the hook.
    assert_eq!(value(c, "select count(*)::text from supabase_functions.hooks where hook_name = 'notify_document'").await, "2");
    assert_eq!(
        value(
            c,
            "select string_agg(distinct method || ' ' || url, ',') from net.http_request_queue"
        )
        .await,
        "POST https://example.functions.supabase.co/notify"
    );
    // The broadcast trigger stored realtime messages.
    assert_eq!(
        value(c, "select string_agg(topic || ':' || event, ',' order by topic) from realtime.messages").await,
        "org:aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa:INSERT,org:bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb:INSERT"
    );
    assert_eq!(
        value(c, "select string_agg(tablename, ',') from pg_publication_tables where pubname = 'supabase_realtime'").await,
        "documents"
    );

    // RLS as Supabase's API would run it: user a sees org A only.
    let as_a = "begin; set local role authenticated; \
                set local request.jwt.claims = '{\"sub\": \"11111111-1111-4111-8111-111111111111\", \"role\": \"authenticated\"}';";
    assert_eq!(
        value(
            c,
            &format!("{as_a} select string_agg(title, ',') from public.documents")
        )
        .await,
        "a1"
    );
    exec(c, "rollback").await;
    assert_eq!(
        value(
            c,
            &format!("{as_a} select string_agg(name, ',') from public.organizations")
        )
        .await,
        "A"
    );
    exec(c, "rollback").await;
    // Storage: uploads only into one's own folder.
    exec(
        c,
        &format!("{as_a} insert into storage.objects (bucket_id, name) values ('avatars', '11111111-1111-4111-8111-111111111111/me.png'); rollback;"),
    )
    .await;
    exec(c, as_a).await;
    assert_eq!(
        fails_with(c, "insert into storage.objects (bucket_id, name) values ('avatars', '22222222-2222-4222-8222-222222222222/x.png')").await,
        "42501"
    );
    exec(c, "rollback").await;
    // Private broadcast channels: the realtime.messages policy.
    assert_eq!(
        value(
            c,
            &format!("{as_a} set local realtime.topic = 'org:aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa'; select count(*)::text from realtime.messages")
        )
        .await,
        "1"
    );
    exec(c, "rollback").await;
    // anon was granted select on documents, but RLS has no anon policy.
    assert_eq!(
        value(
            c,
            "begin; set local role anon; select count(*)::text from public.documents"
        )
        .await,
        "0"
    );
    exec(c, "rollback").await;

    // Deleting a user cascades to profiles and memberships.
    exec(
        c,
        "delete from auth.users where id = '22222222-2222-4222-8222-222222222222'",
    )
    .await;
    assert_eq!(
        value(c, "select count(*)::text from public.members").await,
        "1"
    );
    assert_eq!(
        value(c, "select count(*)::text from public.profiles").await,
        "1"
    );
}

#[tokio::test]
async fn representative_project_through_detect_and_apply() {
    let db = test_db_supabase("env_apply").await;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/supabase_project");
    let set = dbaudit_pgcluster::detect(&root).expect("the test project is a Supabase project");
    assert!(supabase::needed(&set));
    let report = dbaudit_pgcluster::apply(&db.client, &set)
        .await
        .expect("the connection stays up");
    assert!(report.failures.is_empty(), "{:#?}", report.failures);
    assert_eq!(report.files.len(), set.files.len() + set.seeds.len());
    assert_eq!(
        value(&db.client, "select count(*)::text from storage.buckets").await,
        "1"
    );
}

#[tokio::test]
async fn extension_standins_in_use() {
    let db = test_db_supabase("env_standins").await;
    let c = &db.client;

    // pg_cron
    create_standin(c, "pg_cron", "extensions").await;
    create_standin(c, "pg_cron", "extensions").await;
    assert_eq!(
        value(
            c,
            "select cron.schedule('nightly', '0 3 * * *', 'select 1')::text"
        )
        .await,
        "1"
    );
    assert_eq!(
        value(
            c,
            "select cron.schedule('nightly', '*/5 * * * *', 'select 2')::text"
        )
        .await,
        "1"
    );
    assert_eq!(
        value(c, "select cron.schedule('30 seconds', 'select 3')::text").await,
        "3"
    );
    assert_eq!(
        value(
            c,
            "select schedule || ' ' || command from cron.job where jobname = 'nightly'"
        )
        .await,
        "*/5 * * * * select 2"
    );
    assert_eq!(
        value(c, "select cron.unschedule('nightly')::text").await,
        "true"
    );
    exec(c, "select cron.alter_job(3, active := false)").await;
    assert_eq!(
        fails_with(c, "select cron.schedule('bad', 'every day', 'select 1')").await,
        "P0001"
    );

    // pg_net (part of the environment; CREATE EXTENSION runs it again)
    create_standin(c, "pg_net", "extensions").await;
    let id = value(c, "select net.http_post(url := 'https://example.com/hook', body := '{\"a\": 1}'::jsonb)::text").await;
    assert_eq!(
        value(c, &format!("select method || ' ' || url || ' ' || convert_from(body, 'utf8') from net.http_request_queue where id = {id}")).await,
        "POST https://example.com/hook {\"a\": 1}"
    );
    exec(c, "select net.http_get('https://example.com', params := '{\"q\": \"a b\"}'), net.http_delete('https://example.com/x')").await;
    assert_eq!(
        value(
            c,
            "select url from net.http_request_queue where method = 'GET'"
        )
        .await,
        "https://example.com?q=a%20b"
    );

    // supabase_vault (part of the environment)
    create_standin(c, "supabase_vault", "vault").await;
    exec(
        c,
        "select vault.create_secret('s3cr3t', 'api_key', 'the API key')",
    )
    .await;
    assert_eq!(
        value(
            c,
            "select decrypted_secret from vault.decrypted_secrets where name = 'api_key'"
        )
        .await,
        "s3cr3t"
    );
    assert_ne!(
        value(c, "select secret from vault.secrets where name = 'api_key'").await,
        "s3cr3t"
    );
    exec(
        c,
        "select vault.update_secret(id, 'n3w') from vault.secrets where name = 'api_key'",
    )
    .await;
    assert_eq!(
        value(
            c,
            "select decrypted_secret from vault.decrypted_secrets where name = 'api_key'"
        )
        .await,
        "n3w"
    );
    exec(c, "select vault.create_secret('s')").await;

    // pgjwt: a real implementation over pgcrypto.
    create_standin(c, "pgjwt", "extensions").await;
    assert_eq!(
        value(c, "select extensions.sign('{\"sub\":\"1234567890\",\"name\":\"John Doe\",\"iat\":1516239022}'::json, 'secret')").await,
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.XbPfbIHMI6arZ3Y922BhjWgQzWXcXNrz0ogtVhfEd2o"
    );
    assert_eq!(
        rows(c, "select payload::text, valid::text from extensions.verify(extensions.sign('{}'::json, 'k'), 'k')").await[0],
        ["{}", "true"]
    );
    assert_eq!(
        value(
            c,
            "select valid::text from extensions.verify(extensions.sign('{}'::json, 'k'), 'other')"
        )
        .await,
        "false"
    );

    // pgsodium
    create_standin(c, "pgsodium", "pgsodium").await;
    exec(c, "select pgsodium.create_key(name := 'k')").await;
    assert_eq!(
        value(c, "select convert_from(pgsodium.crypto_aead_det_decrypt(pgsodium.crypto_aead_det_encrypt('msg', 'ad', k.id), 'ad', k.id), 'utf8') from pgsodium.valid_key as k where name = 'k'").await,
        "msg"
    );
    assert_eq!(
        value(c, "select encode(pgsodium.crypto_auth_hmacsha256('The quick brown fox jumps over the lazy dog'::bytea, 'key'::bytea), 'hex')").await,
        "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    );
    assert_eq!(
        fails_with(c, "select pgsodium.crypto_secretbox_open(pgsodium.crypto_secretbox('m', 'n', 'k1'::bytea), 'n', 'k2'::bytea)").await,
        "P0001"
    );
    assert_eq!(
        fails_with(c, "select pgsodium.crypto_box_new_keypair()").await,
        "0A000"
    );

    // pg_jsonschema
    create_standin(c, "pg_jsonschema", "extensions").await;
    exec(
        c,
        "create table public.settings (id int primary key, data jsonb not null check (extensions.jsonb_matches_schema(\
           '{\"type\": \"object\", \"properties\": {\"theme\": {\"enum\": [\"light\", \"dark\"]}, \"size\": {\"type\": \"integer\", \"minimum\": 1}}, \"required\": [\"theme\"], \"additionalProperties\": false}', data)));\
         insert into public.settings values (1, '{\"theme\": \"dark\", \"size\": 3}');",
    )
    .await;
    assert_eq!(
        fails_with(
            c,
            "insert into public.settings values (2, '{\"theme\": \"blue\"}')"
        )
        .await,
        "23514"
    );
    assert_eq!(
        fails_with(c, "insert into public.settings values (3, '{\"size\": 0}')").await,
        "23514"
    );
    assert_eq!(
        value(c, "select extensions.json_matches_schema('{\"type\": \"array\", \"items\": {\"type\": \"string\"}}', '[\"a\", \"b\"]')::text || extensions.jsonschema_is_valid('{\"type\": \"nope\"}')::text").await,
        "truefalse"
    );

    // http: helpers work, requests are refused.
    create_standin(c, "http", "extensions").await;
    assert_eq!(
        value(c, "select extensions.urlencode('a b&c') || ' ' || (extensions.http_header('Authorization', 'Bearer x')).field").await,
        "a%20b%26c Authorization"
    );
    exec(c, "create function public.ping() returns integer language sql as $$ select (extensions.http_get('https://example.com')).status $$").await;
    assert_eq!(fails_with(c, "select public.ping()").await, "0A000");

    // pg_graphql (part of the environment)
    create_standin(c, "pg_graphql", "graphql").await;
    assert_eq!(
        fails_with(
            c,
            "select graphql_public.graphql(query := '{ __typename }')"
        )
        .await,
        "0A000"
    );
    assert_eq!(
        value(
            c,
            "select graphql.comment_directive(e'@graphql({\"name\": \"Account\"})') ->> 'name'"
        )
        .await,
        "Account"
    );
}

#[tokio::test]
async fn vector_standin_embeddings_and_indexes() {
    let db = test_db_supabase("env_vector").await;
    let c = &db.client;
    create_standin(c, "vector", "extensions").await;
    create_standin(c, "vector", "extensions").await;
    exec(
        c,
        "create table public.chunks (id bigserial primary key, content text, embedding extensions.vector(1536), small vector(3));\
         create index on public.chunks using hnsw (embedding vector_cosine_ops);\
         create index on public.chunks using ivfflat (embedding vector_l2_ops);\
         create index on public.chunks using hnsw (small vector_ip_ops);\
         create index on public.chunks using hnsw ((small::halfvec(3)) halfvec_cosine_ops);",
    )
    .await;
    // hnsw/ivfflat options are not accepted by the stand-in's access methods; the helper the
    // apply engine can use blanks them out in place.
    let with_options = "create index on public.chunks using hnsw (embedding vector_cosine_ops) with (m = 16, ef_construction = 64);\n\
                        create index on public.chunks using ivfflat (embedding vector_ip_ops) with (lists = 100);";
    assert_eq!(fails_with(c, with_options).await, "22023");
    let stripped = supabase::strip_vector_index_options(with_options).expect("options found");
    exec(c, &stripped).await;

    exec(
        c,
        "insert into public.chunks (content, embedding, small) \
         select 'c' || i, (select ('[' || string_agg(((i * 31 + d) % 97)::text, ',') || ']') from generate_series(1, 1536) d)::extensions.vector, \
                ('[' || i || ',1,0]')::vector \
         from generate_series(1, 3) i;",
    )
    .await;
    assert_eq!(
        value(
            c,
            "select string_agg(content, ',' order by small <=> '[1,1,0]', id) from public.chunks"
        )
        .await,
        "c1,c2,c3"
    );
    assert_eq!(
        value(c, "select content from public.chunks order by embedding <-> (select embedding from public.chunks where content = 'c2') limit 1").await,
        "c2"
    );
    assert_eq!(
        rows(c, "select vector_dims(embedding)::text, t.typnamespace::regnamespace::text || '.' || t.typname, a.atttypmod::text, format_type(a.atttypid, a.atttypmod) from public.chunks, pg_attribute a join pg_type t on t.oid = a.atttypid where a.attrelid = 'public.chunks'::regclass and a.attname = 'embedding' limit 1").await[0],
        ["1536", "extensions.vector", "1536", "vector(1536)"]
    );
    assert_eq!(
        rows(c, "select ('[3,4,0]'::vector <-> '[0,0,0]')::text, ('[1,0,0]'::vector <=> '[0,1,0]')::text, ('[1,2,3]'::vector <#> '[1,1,1]')::text, ('[1,2,3]'::vector <+> '[1,1,1]')::text").await[0],
        ["5", "1", "-6", "3"]
    );
    // Dimensions and syntax are checked on assignment, as pgvector checks them.
    assert_eq!(
        fails_with(c, "insert into public.chunks (small) values ('[1,2]')").await,
        "22000"
    );
    assert_eq!(
        fails_with(c, "insert into public.chunks (small) values ('1,2,3')").await,
        "22P02"
    );
    exec(
        c,
        "insert into public.chunks (small) values (array[1,2,3]), ('[ 1.5, 2 ,3 ]')",
    )
    .await;
    assert_eq!(
        value(
            c,
            "select small::text from public.chunks where content is null order by id desc limit 1"
        )
        .await,
        "[1.5,2,3]"
    );
    // The function every Supabase vector tutorial creates.
    exec(
        c,
        r#"create or replace function public.match_chunks(query_embedding vector(3), match_threshold float, match_count int)
           returns table (id bigint, content text, similarity float) language sql stable as $$
             select c.id, c.content, 1 - (c.small <=> query_embedding) as similarity
             from public.chunks c
             where 1 - (c.small <=> query_embedding) > match_threshold
             order by c.small <=> query_embedding asc
             limit least(match_count, 200);
           $$;"#,
    )
    .await;
    assert_eq!(
        value(
            c,
            "select content from public.match_chunks('[1,1,0]', 0.5, 1)"
        )
        .await,
        "c1"
    );
    assert_eq!(
        rows(c, "select avg(small)::text, sum(small)::text from public.chunks where content is not null").await[0],
        ["[2,1,0]", "[6,3,0]"]
    );
}

/// Objects in `schema` that do not carry `comment` (extension members left out).
async fn uncommented(c: &Client, schema: &str, comment: &str) -> Vec<Vec<String>> {
    let q = format!(
        "with s as (select '{schema}'::regnamespace as oid),
         ext as (select objid from pg_depend where deptype = 'e'),
         c as (select '{comment}'::text as c)
         select 'function', p.oid::regprocedure::text from pg_proc p, s, c
           where p.pronamespace = s.oid and p.oid not in (select objid from ext)
             and obj_description(p.oid, 'pg_proc') is distinct from c.c
         union all
         select 'type', t.oid::regtype::text from pg_type t, s, c
           where t.typnamespace = s.oid and t.typrelid = 0 and t.oid not in (select objid from ext)
             and not exists (select from pg_type e where e.typarray = t.oid and e.oid in (select objid from ext))
             and obj_description(t.oid, 'pg_type') is distinct from c.c
         union all
         select 'operator', o.oid::regoperator::text from pg_operator o, s, c
           where o.oprnamespace = s.oid and o.oid not in (select objid from ext)
             and obj_description(o.oid, 'pg_operator') is distinct from c.c
         union all
         select 'operator class', oc.opcname from pg_opclass oc, s, c
           where oc.opcnamespace = s.oid and oc.oid not in (select objid from ext)
             and obj_description(oc.oid, 'pg_opclass') is distinct from c.c
         union all
         select 'operator family', f.opfname from pg_opfamily f, s, c
           where f.opfnamespace = s.oid and f.oid not in (select objid from ext)
             and obj_description(f.oid, 'pg_opfamily') is distinct from c.c
         union all
         select 'relation', r.oid::regclass::text from pg_class r, s, c
           where r.relnamespace = s.oid and r.relkind not in ('i', 'I', 'c')
             and r.oid not in (select objid from ext)
             and obj_description(r.oid, 'pg_class') is distinct from c.c
         union all
         select 'cast', format('%s as %s', k.castsource::regtype, k.casttarget::regtype) from pg_cast k, c
           where k.oid >= 16384 and k.oid not in (select objid from ext)
             and obj_description(k.oid, 'pg_cast') is distinct from c.c
         union all
         select 'access method', a.amname from pg_am a, c
           where a.oid >= 16384 and a.oid not in (select objid from ext)
             and obj_description(a.oid, 'pg_am') is distinct from c.c"
    );
    rows(c, &q).await
}

#[tokio::test]
async fn every_standin_object_is_commented_and_standins_are_idempotent() {
    // Fixed-schema stand-ins create their own schema; the others go where they are put.
    let own_schema = [
        ("pg_net", "net"),
        ("pg_cron", "cron"),
        ("pgsodium", "pgsodium"),
        ("supabase_vault", "vault"),
        ("pg_graphql", "graphql"),
    ];
    for name in standin_names() {
        // A plain (non-Supabase) database of its own for each: objects are counted per schema.
        let db = test_db(&format!("standin_{name}")).await;
        let c = &db.client;
        exec(c, "create schema ext").await;
        let s = standin(name).unwrap();
        exec(c, &s.render("ext")).await;
        exec(c, &s.render("ext")).await;
        let schema = own_schema
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("ext", |(_, s)| s);
        let missing = uncommented(c, schema, &s.comment()).await;
        assert!(
            missing.is_empty(),
            "{name}: objects without the stand-in comment: {missing:?}"
        );
        if schema != "ext" {
            assert_eq!(
                value(
                    c,
                    &format!("select obj_description('{schema}'::regnamespace, 'pg_namespace')")
                )
                .await,
                s.comment(),
                "{name}: its schema"
            );
            let stray = uncommented(c, "ext", &s.comment()).await;
            assert!(
                stray.is_empty(),
                "{name} put objects in the target schema: {stray:?}"
            );
        }
    }
}

#[tokio::test]
async fn standin_in_a_schema_that_needs_quotes() {
    let db = test_db("standin_quoted").await;
    let c = &db.client;
    exec(c, "create schema \"Vector Ext\"").await;
    create_standin(c, "vector", "Vector Ext").await;
    create_standin(c, "vector", "Vector Ext").await;
    exec(
        c,
        "set search_path = public, \"Vector Ext\";\
         create table t (e vector(2));\
         create index on t using hnsw (e vector_l2_ops);\
         insert into t values ('[3,4]');",
    )
    .await;
    assert_eq!(value(c, "select (e <-> '[0,0]')::text from t").await, "5");
}
