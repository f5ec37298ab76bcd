//! Applying migration sets: transactions, failures with the right line and statement, files
//! that cannot run in a transaction, stand-ins for missing extensions.

use std::path::PathBuf;
use std::time::Instant;

use dbaudit_pgcluster::apply::{apply, ApplyReport, MigrationFailure};
use dbaudit_pgcluster::layout::{LayoutKind, MigrationFile, MigrationSet, TxMode};
use dbaudit_pgcluster::testing::{test_db, TestDb};

fn file(name: &str, sql: &str) -> MigrationFile {
    MigrationFile {
        path: PathBuf::from(name),
        display: name.to_string(),
        sql: sql.to_string(),
        first_line: 1,
        transaction: TxMode::Auto,
    }
}

fn set(files: Vec<MigrationFile>) -> MigrationSet {
    MigrationSet {
        kind: LayoutKind::Plain,
        root: PathBuf::from("migrations"),
        files,
        seeds: Vec::new(),
        skipped: Vec::new(),
    }
}

async fn run(db: &TestDb, files: Vec<MigrationFile>) -> ApplyReport {
    apply(&db.client, &set(files)).await.expect("apply")
}

fn only_failure(r: &ApplyReport) -> &MigrationFailure {
    assert_eq!(r.failures.len(), 1, "{:#?}", r.failures);
    &r.failures[0]
}

async fn exists(db: &TestDb, relation: &str) -> bool {
    let row = db
        .client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&relation])
        .await
        .expect("query");
    row.get(0)
}

#[tokio::test]
async fn good_files_commit() {
    let db = test_db("good_files").await;
    let r = run(
        &db,
        vec![
            file(
                "001_a.sql",
                "CREATE TABLE a (id int PRIMARY KEY);\nINSERT INTO a VALUES (1), (2);",
            ),
            file(
                "002_b.sql",
                "-- only a comment first\nCREATE TABLE b (a_id int REFERENCES a);\nCREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN (SELECT count(*) FROM a);\nEND;\n$$;",
            ),
            file("003_empty.sql", "-- nothing here\n"),
        ],
    )
    .await;
    assert!(r.failures.is_empty(), "{:#?}", r.failures);
    assert_eq!(r.files.len(), 3);
    assert!(r.files.iter().all(|f| f.ok && f.transactional));
    assert_eq!(r.files[1].file, "002_b.sql");
    let n: i32 = db
        .client
        .query_one("SELECT f()", &[])
        .await
        .expect("f")
        .get(0);
    assert_eq!(n, 2);
}

#[tokio::test]
async fn syntax_error_points_at_its_line_and_rolls_back() {
    let db = test_db("syntax_error").await;
    let sql = "-- é ü multi-byte before the error\nCREATE TABLE t1 (id int);\nINSERT INTO t1\n  VALUES (1);\nSELEC 1;\nCREATE TABLE t2 (id int);\n";
    let r = run(&db, vec![file("bad.sql", sql)]).await;
    let f = only_failure(&r);
    assert_eq!(f.file, "bad.sql");
    assert_eq!(f.sqlstate, "42601");
    assert_eq!(f.line, Some(5), "{f:#?}");
    assert_eq!(f.statement, "SELEC 1");
    assert!(f.message.contains("syntax error"), "{}", f.message);
    assert!(!r.files[0].ok);
    assert!(!exists(&db, "t1").await, "the file was rolled back");
    assert!(!exists(&db, "t2").await);
}

#[tokio::test]
async fn error_inside_a_long_statement_points_at_the_token() {
    let db = test_db("token_line").await;
    let sql = "CREATE TABLE t (id int);\nINSERT INTO t (id)\nSELECT id\nFROM no_such_table\nWHERE id > 0;";
    let r = run(&db, vec![file("m.sql", sql)]).await;
    let f = only_failure(&r);
    assert_eq!(f.sqlstate, "42P01");
    assert_eq!(f.line, Some(4), "{f:#?}");
    assert_eq!(
        f.statement,
        "INSERT INTO t (id) SELECT id FROM no_such_table WHERE id > 0"
    );
}

#[tokio::test]
async fn error_without_position_is_found_by_rerunning() {
    let db = test_db("no_position").await;
    let sql = "CREATE TABLE t (id int);\n\nCREATE SEQUENCE s;\nGRANT USAGE\n  ON SEQUENCE missing_seq TO PUBLIC;\nCREATE TABLE after_it (id int);\n";
    let r = run(&db, vec![file("grant.sql", sql)]).await;
    let f = only_failure(&r);
    assert_eq!(f.sqlstate, "42P01", "{f:#?}");
    assert_eq!(f.line, Some(4), "{f:#?}");
    assert_eq!(f.statement, "GRANT USAGE ON SEQUENCE missing_seq TO PUBLIC");
    assert!(f.message.contains("missing_seq"), "{}", f.message);
    assert!(!exists(&db, "t").await, "rolled back");
    assert!(!exists(&db, "s").await, "the re-run was rolled back too");
}

#[tokio::test]
async fn error_raised_in_do_block_is_found() {
    let db = test_db("do_block").await;
    let sql = "CREATE TABLE t (id int);\nDO $$\nBEGIN\n  RAISE EXCEPTION 'boom' USING HINT = 'hint text';\nEND\n$$;\n";
    let r = run(&db, vec![file("do.sql", sql)]).await;
    let f = only_failure(&r);
    assert_eq!(f.sqlstate, "P0001");
    assert_eq!(f.line, Some(2), "{f:#?}");
    assert!(
        f.statement.starts_with("DO $$ BEGIN RAISE EXCEPTION"),
        "{f:#?}"
    );
    assert_eq!(f.hint.as_deref(), Some("hint text"));
}

#[tokio::test]
async fn plpgsql_syntax_error_points_into_the_body() {
    let db = test_db("plpgsql_error").await;
    let sql = "CREATE TABLE t (id int);\nCREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $fn$\nBEGIN\n  PERFORM 1;\n  INSERT INTO t VALUES (1)\n  RETURN;\nEND\n$fn$;\n";
    let r = run(&db, vec![file("fn.sql", sql)]).await;
    let f = only_failure(&r);
    assert_eq!(f.sqlstate, "42601");
    assert_eq!(f.line, Some(6), "{f:#?}");
    assert!(f.statement.starts_with("CREATE FUNCTION f()"), "{f:#?}");
}

#[tokio::test]
async fn later_files_still_run_after_a_failure() {
    let db = test_db("later_files").await;
    let r = run(
        &db,
        vec![
            file("1.sql", "CREATE TABLE one (id int);"),
            file("2.sql", "CREATE TABLE two (id int);\nSELECT * FROM nope;"),
            file("3.sql", "CREATE TABLE three (id int);"),
        ],
    )
    .await;
    assert_eq!(r.failures.len(), 1);
    assert_eq!(r.failures[0].file, "2.sql");
    assert_eq!(r.failures[0].line, Some(2));
    let ok: Vec<bool> = r.files.iter().map(|f| f.ok).collect();
    assert_eq!(ok, [true, false, true]);
    assert!(exists(&db, "one").await);
    assert!(!exists(&db, "two").await);
    assert!(exists(&db, "three").await);
}

#[tokio::test]
async fn create_index_concurrently_runs_outside_a_transaction() {
    let db = test_db("concurrently").await;
    let r = run(
        &db,
        vec![
            file("1.sql", "CREATE TABLE t (id int, v text);"),
            file(
                "2.sql",
                "INSERT INTO t VALUES (1, 'a');\nCREATE INDEX CONCURRENTLY t_v ON t (v);\n",
            ),
        ],
    )
    .await;
    assert!(r.failures.is_empty(), "{:#?}", r.failures);
    assert!(r.files[0].transactional);
    assert!(!r.files[1].transactional);
    assert!(exists(&db, "t_v").await);
}

#[tokio::test]
async fn enum_value_added_and_used_in_one_file() {
    let db = test_db("enum_add").await;
    let sql = "CREATE TYPE mood AS ENUM ('ok');\nALTER TYPE mood ADD VALUE 'great';\nCREATE TABLE m (x mood DEFAULT 'great');\nINSERT INTO m DEFAULT VALUES;";
    let r = run(&db, vec![file("enum.sql", sql)]).await;
    assert!(r.failures.is_empty(), "{:#?}", r.failures);
    assert!(!r.files[0].transactional);
}

#[tokio::test]
async fn file_with_its_own_transaction() {
    let db = test_db("own_tx").await;
    let r = run(
        &db,
        vec![
            file(
                "1.sql",
                "BEGIN;\nCREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\nCOMMIT;\n",
            ),
            file(
                "2.sql",
                "BEGIN;\nCREATE TABLE b (id int);\nINSERT INTO b VALUES ('x');\nCOMMIT;\n",
            ),
            // The session is usable again (no transaction left open or aborted).
            file("3.sql", "CREATE TABLE c (id int);"),
            // A file that never commits is committed for it when its statements all succeed.
            file("4.sql", "START TRANSACTION;\nCREATE TABLE d (id int);\n"),
        ],
    )
    .await;
    let f = only_failure(&r);
    assert_eq!(f.file, "2.sql");
    assert_eq!(f.line, Some(3), "{f:#?}");
    assert_eq!(f.sqlstate, "22P02");
    assert!(!r.files[0].transactional && !r.files[1].transactional);
    assert!(exists(&db, "a").await);
    assert!(
        !exists(&db, "b").await,
        "the file's transaction was rolled back"
    );
    assert!(exists(&db, "c").await);
    assert!(exists(&db, "d").await);
}

#[tokio::test]
async fn dbmate_no_transaction_runs_statement_by_statement() {
    let db = test_db("dbmate_none").await;
    let mut f = file(
        "20240101_x.sql",
        "CREATE TABLE kept (id int);\nCREATE TABLE broken (id int,);\n",
    );
    f.transaction = TxMode::None;
    // dbmate: the up section starts after the `-- migrate:up` line.
    f.first_line = 2;
    let r = run(&db, vec![f]).await;
    let fail = only_failure(&r);
    assert_eq!(fail.line, Some(3), "{fail:#?}");
    assert_eq!(fail.statement, "CREATE TABLE broken (id int,)");
    assert!(!r.files[0].transactional);
    assert!(
        exists(&db, "kept").await,
        "autocommit: earlier statements stay"
    );
}

#[tokio::test]
async fn first_line_offset_is_honoured() {
    let db = test_db("first_line").await;
    let mut f = file(
        "offset.sql",
        "CREATE TABLE x (id int);\nSELECT nope FROM x;",
    );
    f.first_line = 10;
    let r = run(&db, vec![f]).await;
    assert_eq!(only_failure(&r).line, Some(11));
    // And for an error found by re-running.
    let mut g = file(
        "offset2.sql",
        "SELECT 1;\n\nGRANT SELECT ON SEQUENCE nope TO PUBLIC;",
    );
    g.first_line = 7;
    let r = run(&db, vec![g]).await;
    assert_eq!(only_failure(&r).line, Some(9));
}

#[tokio::test]
async fn seeds_run_after_migrations() {
    let db = test_db("seeds").await;
    let mut s = set(vec![file("1.sql", "CREATE TABLE t (id int);")]);
    s.seeds.push(file("seed.sql", "INSERT INTO t VALUES (42);"));
    let r = apply(&db.client, &s).await.expect("apply");
    assert!(r.failures.is_empty(), "{:#?}", r.failures);
    assert_eq!(r.files.len(), 2);
    assert_eq!(r.files[1].file, "seed.sql");
    let n: i32 = db
        .client
        .query_one("SELECT id FROM t", &[])
        .await
        .expect("row")
        .get(0);
    assert_eq!(n, 42);
}

#[tokio::test]
async fn session_settings_do_not_leak_between_files() {
    let db = test_db("reset_all").await;
    let r = run(
        &db,
        vec![
            file(
                "dump.sql",
                "SELECT pg_catalog.set_config('search_path', '', false);\nCREATE TABLE public.a (id int);",
            ),
            file("next.sql", "CREATE TABLE b (id int);"),
        ],
    )
    .await;
    assert!(r.failures.is_empty(), "{:#?}", r.failures);
}

#[tokio::test]
async fn deferred_constraint_fails_at_commit() {
    let db = test_db("deferred").await;
    let sql = "CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE c (p int REFERENCES p DEFERRABLE INITIALLY DEFERRED);\nINSERT INTO c VALUES (1);";
    let r = run(&db, vec![file("d.sql", sql)]).await;
    let f = only_failure(&r);
    assert_eq!(f.sqlstate, "23503");
    assert_eq!(f.statement, "COMMIT");
    assert_eq!(f.line, None);
    assert!(!exists(&db, "p").await);
}

#[tokio::test]
async fn unsupported_input_fails_cleanly() {
    let db = test_db("unsupported").await;
    let r = run(
        &db,
        vec![
            file("nul.sql", "SELECT 1;\nSELECT '\0';"),
            file(
                "copy.sql",
                "CREATE TABLE t (id int);\nCOPY t (id) FROM stdin;\n1\n\\.\n",
            ),
            file("after.sql", "CREATE TABLE after_them (id int);"),
        ],
    )
    .await;
    assert_eq!(r.failures.len(), 2, "{:#?}", r.failures);
    assert_eq!(r.failures[0].line, Some(2));
    assert_eq!(r.failures[1].file, "copy.sql");
    assert_eq!(r.failures[1].line, Some(2));
    assert_eq!(r.failures[1].sqlstate, "0A000");
    assert!(!exists(&db, "t").await);
    assert!(exists(&db, "after_them").await);
}

#[tokio::test]
async fn byte_order_mark_is_ignored() {
    let db = test_db("bom").await;
    let r = run(
        &db,
        vec![
            file("bom_ok.sql", "\u{feff}CREATE TABLE bom_ok (id int);"),
            file(
                "bom_bad.sql",
                "\u{feff}CREATE TABLE bom_bad (id int);\nINSERT INTO bom_bad VALUES ('é', nope);",
            ),
        ],
    )
    .await;
    let f = only_failure(&r);
    assert_eq!(f.file, "bom_bad.sql");
    assert_eq!(f.line, Some(2), "{f:#?}");
    assert_eq!(f.sqlstate, "42703");
    assert!(exists(&db, "bom_ok").await);
}

#[tokio::test]
async fn available_extension_runs_for_real() {
    let db = test_db("real_extension").await;
    let r = run(
        &db,
        vec![file(
            "ext.sql",
            "CREATE SCHEMA extensions;\nCREATE EXTENSION IF NOT EXISTS \"uuid-ossp\" WITH SCHEMA extensions;\nSELECT extensions.uuid_generate_v4();",
        )],
    )
    .await;
    assert!(r.failures.is_empty(), "{:#?}", r.failures);
    assert!(r.standins.is_empty());
    let n: i64 = db
        .client
        .query_one(
            "SELECT count(*) FROM pg_extension WHERE extname = 'uuid-ossp'",
            &[],
        )
        .await
        .expect("query")
        .get(0);
    assert_eq!(n, 1);
}

/// An extension this server lacks, with a Supabase stand-in: the stand-in runs, the original
/// statement is skipped, and the line numbers of later errors are unchanged.
#[tokio::test]
async fn missing_extension_gets_its_standin() {
    const CANDIDATES: &[&str] = &[
        "pg_graphql",
        "pgsodium",
        "supabase_vault",
        "pg_net",
        "pgjwt",
        "vector",
        "pg_cron",
    ];
    let db = test_db("standin").await;
    let available: Vec<String> = db
        .client
        .query("SELECT name FROM pg_available_extensions", &[])
        .await
        .expect("query")
        .iter()
        .map(|r| r.get(0))
        .collect();
    let Some(name) = CANDIDATES.iter().copied().find(|n| {
        !available.iter().any(|a| a == n) && dbaudit_pgcluster::supabase::standin(n).is_some()
    }) else {
        panic!("no stand-in for any of {CANDIDATES:?} among the unavailable ones");
    };
    let sql = format!(
        "CREATE SCHEMA IF NOT EXISTS extensions;\nCREATE EXTENSION IF NOT EXISTS \"{name}\"\n  WITH SCHEMA extensions;\nCOMMENT ON EXTENSION \"{name}\" IS 'x';\nCREATE TABLE ok_table (id int);\nSELEC 1;\n"
    );
    let r = run(
        &db,
        vec![
            file("ext.sql", &sql),
            file(
                "again.sql",
                &format!("CREATE EXTENSION IF NOT EXISTS {name} WITH SCHEMA extensions;"),
            ),
        ],
    )
    .await;
    // The first file failed and was rolled back; the second one's stand-in stayed.
    assert_eq!(r.standins, [name]);
    let f = only_failure(&r);
    assert_eq!(f.file, "ext.sql");
    assert_eq!(f.line, Some(6), "{f:#?}");
    assert_eq!(f.statement, "SELEC 1");
    assert!(r.files[1].ok, "a second CREATE EXTENSION is fine too");

    // Statement by statement (outside a transaction) too.
    let mut g = file(
        "none.sql",
        &format!("CREATE EXTENSION IF NOT EXISTS {name};\nVACUUM;\nSELECT * FROM nope;"),
    );
    g.transaction = TxMode::None;
    let r = run(&db, vec![g]).await;
    assert_eq!(r.standins, [name]);
    assert_eq!(only_failure(&r).line, Some(3));
}

/// 100 small generated files: the normal path has no round trip per statement.
#[tokio::test]
async fn hundred_files_apply_quickly() {
    let db = test_db("hundred").await;
    let files: Vec<MigrationFile> = (0..100)
        .map(|i| {
            file(
                &format!("{i:03}_m.sql"),
                &format!(
                    "-- migration {i}\nCREATE TABLE t{i} (\n  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n  name text NOT NULL,\n  created_at timestamptz DEFAULT now()\n);\nCREATE INDEX t{i}_name ON t{i} (name);\nALTER TABLE t{i} ENABLE ROW LEVEL SECURITY;\nCREATE POLICY p{i} ON t{i} FOR SELECT USING (true);\nINSERT INTO t{i} (name) VALUES ('a'), ('b');\nCREATE FUNCTION f{i}() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM t{i} $$;\n"
                ),
            )
        })
        .collect();
    let t = Instant::now();
    let r = run(&db, files).await;
    let wall = t.elapsed();
    assert!(r.failures.is_empty(), "{:#?}", r.failures);
    assert_eq!(r.files.len(), 100);
    eprintln!(
        "TIMING 100 files applied in {} ms (report: {} ms)",
        wall.as_millis(),
        r.elapsed_ms
    );
}

/// Garbage in: failures, never a panic or a broken session.
#[tokio::test]
async fn arbitrary_text_never_breaks_the_session() {
    const PIECES: &[&str] = &[
        "'",
        "\"",
        "$$",
        "$a$",
        "--",
        "/*",
        "*/",
        "\n",
        ";",
        " ",
        "(",
        ")",
        "E'",
        "\\",
        "begin",
        "commit",
        "end",
        "create table",
        "select",
        "1",
        "é",
        "日",
        "x",
        "vacuum",
        "rollback",
        "do",
        "create extension",
        "pg_net",
        "comment on extension",
        "is",
        "values",
    ];
    let db = test_db("arbitrary").await;
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let files: Vec<MigrationFile> = (0..150)
        .map(|i| {
            let n = (next() % 25) as usize;
            let sql: String = (0..n)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            file(&format!("{i}.sql"), &sql)
        })
        .collect();
    let r = run(&db, files).await;
    assert_eq!(r.files.len(), 150);
    for f in &r.failures {
        if let Some(line) = f.line {
            assert!(line >= 1);
        }
    }
    // The session is still usable and not inside a transaction.
    let r = run(
        &db,
        vec![file("after.sql", "CREATE TABLE after_garbage (id int);")],
    )
    .await;
    assert!(r.failures.is_empty(), "{:#?}", r.failures);
    let err = db
        .client
        .batch_execute("SAVEPOINT probe")
        .await
        .expect_err("no transaction block is open");
    assert_eq!(err.code().map(|c| c.code()), Some("25P01"), "{err}");
}

#[tokio::test]
async fn vector_indexes_with_options_apply_on_the_standin() {
    let db = test_db("vector_opts").await;
    let available: bool = db
        .client
        .query_one(
            "SELECT count(*) > 0 FROM pg_available_extensions WHERE name = 'vector'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let sql = "create extension if not exists vector with schema extensions;\n\
               create table docs (id int primary key, embedding extensions.vector(3));\n\
               create index docs_hnsw on docs using hnsw (embedding extensions.vector_cosine_ops)\n  with (m = 16, ef_construction = 64);\n\
               create index docs_ivf on docs using ivfflat (embedding extensions.vector_l2_ops) with (lists = 100);\n\
               select 1/0;\n";
    let r = run(&db, vec![file("001_vec.sql", sql)]).await;
    // The only failure is the planted one, on its own line: blanking kept the positions.
    let f = only_failure(&r);
    assert_eq!(f.sqlstate, "22012", "{f:?}");
    assert_eq!(f.line, Some(6));
    if !available {
        let fixed = sql.replace("select 1/0;\n", "");
        let db2 = test_db("vector_opts_ok").await;
        let r = run(&db2, vec![file("001_vec.sql", &fixed)]).await;
        assert!(r.failures.is_empty(), "{:?}", r.failures);
        assert_eq!(r.standins, ["vector"]);
        assert!(exists(&db2, "docs_hnsw").await);
    }
}
