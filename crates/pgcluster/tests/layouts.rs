//! Migration layout detection, one project per test, built in a temp dir.

use std::fs;
use std::path::Path;

use dbaudit_pgcluster::layout::{detect, discover, seed_file, LayoutError, LayoutKind, TxMode};

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn displays(files: &[dbaudit_pgcluster::MigrationFile]) -> Vec<&str> {
    files.iter().map(|f| f.display.as_str()).collect()
}

fn skipped_names(set: &dbaudit_pgcluster::MigrationSet) -> Vec<String> {
    set.skipped
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

fn supabase_project(root: &Path) {
    write(
        root,
        "supabase/migrations/20240102000000_b.sql",
        "select 2;\n",
    );
    write(
        root,
        "supabase/migrations/20240101000000_a.sql",
        "select 1;\n",
    );
    write(root, "supabase/migrations/README.md", "notes\n");
    write(root, "supabase/migrations/draft.sql", "select 0;\n");
    write(root, "supabase/migrations/.gitkeep", "");
    write(root, "supabase/seed.sql", "insert into x values (1);\n");
}

#[test]
fn supabase_project_root() {
    let dir = tempfile::tempdir().unwrap();
    supabase_project(dir.path());
    let set = detect(dir.path()).unwrap();
    assert_eq!(set.kind, LayoutKind::Supabase);
    assert_eq!(
        displays(&set.files),
        [
            "supabase/migrations/20240101000000_a.sql",
            "supabase/migrations/20240102000000_b.sql"
        ]
    );
    assert_eq!(set.files[0].sql, "select 1;\n");
    assert_eq!(set.files[0].first_line, 1);
    assert_eq!(set.files[0].transaction, TxMode::Auto);
    assert_eq!(displays(&set.seeds), ["supabase/seed.sql"]);
    let mut skipped = skipped_names(&set);
    skipped.sort();
    assert_eq!(skipped, ["README.md", "draft.sql"]);
    assert!(set.root.ends_with("supabase/migrations"));
}

#[test]
fn supabase_folder_or_migrations_folder_named_directly() {
    let dir = tempfile::tempdir().unwrap();
    supabase_project(dir.path());
    for named in ["supabase", "supabase/migrations"] {
        let set = detect(&dir.path().join(named)).unwrap();
        assert_eq!(set.kind, LayoutKind::Supabase, "{named}");
        assert_eq!(
            displays(&set.files)[0],
            "supabase/migrations/20240101000000_a.sql",
            "{named}"
        );
        assert_eq!(displays(&set.seeds), ["supabase/seed.sql"], "{named}");
    }
}

#[test]
fn supabase_seed_paths_from_config() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "supabase/migrations/20240101000000_a.sql",
        "select 1;\n",
    );
    write(root, "supabase/seed.sql", "select 'not used';\n");
    write(root, "supabase/seeds/02_more.sql", "select 2;\n");
    write(root, "supabase/seeds/01_users.sql", "select 1;\n");
    write(root, "supabase/seeds/notes.txt", "x\n");
    write(
        root,
        "supabase/config.toml",
        "project_id = \"x\"\n\n[db]\nport = 54322\n\n[db.seed]\nenabled = true\n\
         sql_paths = [\n  './seeds/*.sql', # all of them\n  \"./seeds/01_users.sql\",\n]\n\n\
         [api]\nenabled = true\n",
    );
    let set = detect(root).unwrap();
    assert_eq!(
        displays(&set.seeds),
        ["supabase/seeds/01_users.sql", "supabase/seeds/02_more.sql"]
    );

    write(root, "supabase/config.toml", "[db.seed]\nenabled = false\n");
    assert!(detect(root).unwrap().seeds.is_empty());

    write(root, "supabase/config.toml", "[db]\nport = 54322\n");
    assert_eq!(
        displays(&detect(root).unwrap().seeds),
        ["supabase/seed.sql"]
    );
}

#[test]
fn supabase_empty_migrations_folder() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("supabase/migrations")).unwrap();
    match detect(dir.path()) {
        Err(LayoutError::Empty(p)) => assert!(p.ends_with("supabase/migrations")),
        other => panic!("expected Empty, got {other:?}"),
    }
}

fn drizzle_project(root: &Path) {
    write(
        root,
        "drizzle/meta/_journal.json",
        r#"{
  "version": "7",
  "dialect": "postgresql",
  "entries": [
    { "idx": 1, "version": "7", "when": 1700000001000, "tag": "0001_brave_hulk", "breakpoints": true },
    { "idx": 0, "version": "7", "when": 1700000000000, "tag": "0000_init", "breakpoints": true }
  ]
}"#,
    );
    write(
        root,
        "drizzle/0000_init.sql",
        "CREATE TABLE \"a\" (\"id\" serial PRIMARY KEY);\n--> statement-breakpoint\nCREATE TABLE \"b\" (\"id\" serial);\n",
    );
    write(
        root,
        "drizzle/0001_brave_hulk.sql",
        "ALTER TABLE \"a\" ADD COLUMN \"x\" text;\n",
    );
    write(root, "drizzle/0002_not_generated.sql", "DROP TABLE a;\n");
    write(root, "drizzle/meta/0000_snapshot.json", "{}");
}

#[test]
fn drizzle_follows_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    drizzle_project(dir.path());
    for named in [dir.path().to_path_buf(), dir.path().join("drizzle")] {
        let set = detect(&named).unwrap();
        assert_eq!(set.kind, LayoutKind::Drizzle);
        assert_eq!(
            displays(&set.files),
            ["drizzle/0000_init.sql", "drizzle/0001_brave_hulk.sql"]
        );
        // The breakpoint separators are SQL comments: the text is left as it is.
        assert!(set.files[0].sql.contains("--> statement-breakpoint\n"));
        assert_eq!(skipped_names(&set), ["0002_not_generated.sql"]);
        assert!(set.skipped[0].1.contains("_journal.json"));
    }
}

#[test]
fn drizzle_journal_entry_without_its_file() {
    let dir = tempfile::tempdir().unwrap();
    drizzle_project(dir.path());
    fs::remove_file(dir.path().join("drizzle/0001_brave_hulk.sql")).unwrap();
    match detect(dir.path()) {
        Err(LayoutError::Invalid { path, reason }) => {
            assert!(path.ends_with("meta/_journal.json"));
            assert!(reason.contains("0001_brave_hulk"), "{reason}");
            assert!(reason.contains("entry 1"), "{reason}");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn drizzle_other_dialect_and_broken_journal() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "drizzle/meta/_journal.json",
        r#"{"version":"7","dialect":"mysql","entries":[]}"#,
    );
    match detect(dir.path()) {
        Err(LayoutError::Invalid { reason, .. }) => assert!(reason.contains("mysql"), "{reason}"),
        other => panic!("expected Invalid, got {other:?}"),
    }
    write(dir.path(), "drizzle/meta/_journal.json", "{ not json");
    assert!(matches!(
        detect(dir.path()),
        Err(LayoutError::Invalid { .. })
    ));
}

#[test]
fn prisma_folders_in_name_order() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "prisma/schema.prisma", "datasource db {}\n");
    write(
        root,
        "prisma/migrations/migration_lock.toml",
        "provider = \"postgresql\"\n",
    );
    write(
        root,
        "prisma/migrations/20240102000000_add users table/migration.sql",
        "CREATE TABLE \"User\" (id int);\n",
    );
    write(
        root,
        "prisma/migrations/20240101000000_init/migration.sql",
        "CREATE TABLE \"Org\" (id int);\n",
    );
    for named in ["", "prisma", "prisma/migrations"] {
        let set = detect(&root.join(named)).unwrap();
        assert_eq!(set.kind, LayoutKind::Prisma, "{named:?}");
        assert_eq!(
            displays(&set.files),
            [
                "prisma/migrations/20240101000000_init/migration.sql",
                "prisma/migrations/20240102000000_add users table/migration.sql"
            ],
            "{named:?}"
        );
        assert!(set.skipped.is_empty(), "{:?}", set.skipped);
    }
}

#[test]
fn flyway_numeric_version_order_then_repeatables() {
    let dir = tempfile::tempdir().unwrap();
    let mig = dir.path().join("src/main/resources/db/migration");
    for name in [
        "V10__ten.sql",
        "V2__two.sql",
        "V1.1__one_one.sql",
        "V1__one.sql",
        "V1_10__one_ten.sql",
        "V1.9__one_nine.sql",
        "R__b_views.sql",
        "R__a_functions.sql",
        "U2__undo_two.sql",
    ] {
        write(&mig, name, &format!("-- {name}\n"));
    }
    write(
        &mig,
        "V3__no_tx.sql",
        "create index concurrently i on t (x);\n",
    );
    write(&mig, "V3__no_tx.sql.conf", "executeInTransaction=false\n");
    let set = detect(dir.path()).unwrap();
    assert_eq!(set.kind, LayoutKind::Flyway);
    let names: Vec<&str> = set
        .files
        .iter()
        .map(|f| f.display.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "V1__one.sql",
            "V1.1__one_one.sql",
            "V1.9__one_nine.sql",
            "V1_10__one_ten.sql",
            "V2__two.sql",
            "V3__no_tx.sql",
            "V10__ten.sql",
            "R__a_functions.sql",
            "R__b_views.sql"
        ]
    );
    assert_eq!(
        set.files[0].display,
        "src/main/resources/db/migration/V1__one.sql"
    );
    let no_tx = set
        .files
        .iter()
        .find(|f| f.display.ends_with("V3__no_tx.sql"))
        .unwrap();
    assert_eq!(no_tx.transaction, TxMode::None);
    assert_eq!(skipped_names(&set), ["U2__undo_two.sql"]);
}

#[test]
fn flyway_duplicate_version_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "V1__a.sql", "select 1;\n");
    write(dir.path(), "V1.0__b.sql", "select 2;\n");
    match detect(dir.path()) {
        Err(LayoutError::Invalid { reason, .. }) => {
            assert!(reason.contains("more than one migration"), "{reason}")
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn golang_migrate_runs_up_files_in_version_order() {
    let dir = tempfile::tempdir().unwrap();
    let mig = dir.path().join("migrations");
    write(&mig, "000010_ten.up.sql", "select 10;\n");
    write(&mig, "000010_ten.down.sql", "select -10;\n");
    write(&mig, "000002_two.up.sql", "select 2;\n");
    write(&mig, "000002_two.down.sql", "select -2;\n");
    write(&mig, "000001_one.up.sql", "select 1;\n");
    let set = detect(&mig).unwrap();
    assert_eq!(set.kind, LayoutKind::GolangMigrate);
    assert_eq!(
        displays(&set.files),
        [
            "migrations/000001_one.up.sql",
            "migrations/000002_two.up.sql",
            "migrations/000010_ten.up.sql"
        ]
    );
    let mut skipped = skipped_names(&set);
    skipped.sort();
    assert_eq!(skipped, ["000002_two.down.sql", "000010_ten.down.sql"]);
    assert!(set.skipped.iter().all(|(_, why)| why.contains("down")));
}

#[test]
fn dbmate_up_sections_and_transaction_false() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "db/migrations/20240101000000_create_users.sql",
        "-- migrate:up\ncreate table users (id bigint primary key);\n\n-- migrate:down\ndrop table users;\n",
    );
    write(
        root,
        "db/migrations/20240102000000_index.sql",
        "-- migrate:up transaction:false\ncreate index concurrently users_id on users (id);\n\n-- migrate:down\ndrop index users_id;\n",
    );
    write(root, "db/schema.sql", "-- dumped by dbmate\n");
    let set = detect(root).unwrap();
    assert_eq!(set.kind, LayoutKind::Dbmate);
    assert_eq!(
        displays(&set.files),
        [
            "db/migrations/20240101000000_create_users.sql",
            "db/migrations/20240102000000_index.sql"
        ]
    );
    assert_eq!(
        set.files[0].sql,
        "create table users (id bigint primary key);\n\n"
    );
    assert_eq!(set.files[0].first_line, 2);
    assert_eq!(set.files[0].transaction, TxMode::Auto);
    assert!(!set.files[0].sql.contains("drop table"));
    assert_eq!(set.files[1].transaction, TxMode::None);
    assert_eq!(
        set.files[1].sql,
        "create index concurrently users_id on users (id);\n\n"
    );
}

#[test]
fn plain_folder_in_natural_order() {
    let dir = tempfile::tempdir().unwrap();
    let mig = dir.path().join("schema");
    write(&mig, "10_views.sql", "select 10;\n");
    write(&mig, "2_tables.sql", "select 2;\n");
    write(&mig, "1_extensions.sql", "select 1;\n");
    write(&mig, "README.md", "docs\n");
    let set = detect(&mig).unwrap();
    assert_eq!(set.kind, LayoutKind::Plain);
    assert_eq!(
        displays(&set.files),
        [
            "schema/1_extensions.sql",
            "schema/2_tables.sql",
            "schema/10_views.sql"
        ]
    );
    assert!(set.files.iter().all(|f| f.first_line == 1));
}

#[test]
fn non_ascii_names() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "2_données.sql", "select 2;\n");
    write(dir.path(), "1_schéma.sql", "select 1;\n");
    write(dir.path(), "notes€€", "x\n");
    let set = detect(dir.path()).unwrap();
    let names: Vec<&str> = set
        .files
        .iter()
        .map(|f| f.display.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(names, ["1_schéma.sql", "2_données.sql"]);
}

#[test]
fn single_sql_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "schema.sql", "create table t (id int);\n");
    let set = detect(&dir.path().join("schema.sql")).unwrap();
    assert_eq!(set.kind, LayoutKind::Plain);
    assert_eq!(displays(&set.files), ["schema.sql"]);
    assert_eq!(set.files[0].sql, "create table t (id int);\n");

    write(dir.path(), "notes.txt", "x\n");
    assert!(matches!(
        detect(&dir.path().join("notes.txt")),
        Err(LayoutError::Invalid { .. })
    ));
}

#[test]
fn byte_order_mark_is_stripped() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "1_a.sql", "\u{feff}create table t (id int);\n");
    let set = detect(dir.path()).unwrap();
    assert_eq!(set.files[0].sql, "create table t (id int);\n");
}

#[test]
fn nonexistent_path_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    match detect(&missing) {
        Err(LayoutError::NotFound(p)) => assert_eq!(p, missing),
        other => panic!("expected NotFound, got {other:?}"),
    }
    assert!(matches!(
        seed_file(&missing, dir.path()),
        Err(LayoutError::NotFound(_))
    ));
}

#[test]
fn empty_folder_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".gitkeep", "");
    match detect(dir.path()) {
        Err(LayoutError::Empty(p)) => assert_eq!(p, dir.path()),
        other => panic!("expected Empty, got {other:?}"),
    }
}

#[test]
fn folder_without_migrations_is_unrecognized() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "README.md", "# project\n");
    match detect(dir.path()) {
        Err(e @ LayoutError::Unrecognized { .. }) => {
            let LayoutError::Unrecognized { looked_for, .. } = &e else {
                unreachable!()
            };
            for layout in [
                "Supabase",
                "Drizzle",
                "Prisma",
                "Flyway",
                "golang-migrate",
                "dbmate",
            ] {
                assert!(looked_for.contains(layout), "{looked_for}");
            }
            assert!(e.to_string().contains("no migrations found"));
        }
        other => panic!("expected Unrecognized, got {other:?}"),
    }
}

#[test]
fn invalid_utf8_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "1_ok.sql", "select 1;\n");
    let bad = dir.path().join("2_bad.sql");
    fs::write(&bad, b"select 1;\nselect '\xff\xfe';\n").unwrap();
    match detect(dir.path()) {
        Err(LayoutError::Invalid { path, reason }) => {
            assert!(path.ends_with("2_bad.sql"), "{path:?}");
            assert!(reason.contains("UTF-8"), "{reason}");
            assert!(reason.contains("line 2"), "{reason}");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[cfg(target_os = "linux")]
#[test]
fn unreadable_file_is_an_io_error_with_its_path() {
    // Root reads files whatever their mode; /proc/self/mem is a regular file that fails to
    // read at offset 0 for everyone.
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/proc/self/mem", dir.path().join("1_mem.sql")).unwrap();
    match detect(dir.path()) {
        Err(LayoutError::Io { path, .. }) => assert!(path.ends_with("1_mem.sql"), "{path:?}"),
        other => panic!("expected Io, got {other:?}"),
    }
}

#[test]
fn all_files_skipped_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "supabase/migrations/schema.sql", "select 1;\n");
    match detect(dir.path()) {
        Err(LayoutError::Invalid { reason, .. }) => {
            assert!(reason.contains("schema.sql"), "{reason}")
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn discover_finds_known_folders() {
    let dir = tempfile::tempdir().unwrap();
    supabase_project(dir.path());
    write(dir.path(), "sql/1_other.sql", "select 1;\n");
    let set = discover(dir.path()).unwrap();
    assert_eq!(set.kind, LayoutKind::Supabase);
    assert_eq!(set.files.len(), 2);

    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "db/migrations/20240101000000_a.sql",
        "-- migrate:up\nselect 1;\n-- migrate:down\n",
    );
    assert_eq!(discover(dir.path()).unwrap().kind, LayoutKind::Dbmate);

    let dir = tempfile::tempdir().unwrap();
    drizzle_project(dir.path());
    assert_eq!(discover(dir.path()).unwrap().kind, LayoutKind::Drizzle);

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "migrations/001_init.sql", "select 1;\n");
    let set = discover(dir.path()).unwrap();
    assert_eq!(set.kind, LayoutKind::Plain);
    assert_eq!(displays(&set.files), ["migrations/001_init.sql"]);
}

#[test]
fn discover_without_migrations_says_where_it_looked() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "src/index.ts", "export {}\n");
    fs::create_dir_all(dir.path().join("sql")).unwrap();
    match discover(dir.path()) {
        Err(LayoutError::Unrecognized { looked_for, .. }) => {
            for needle in [
                "supabase/migrations",
                "prisma/migrations",
                "db/migrations",
                "--migrations PATH",
                "--db URL",
                "sql/ held no migrations",
            ] {
                assert!(looked_for.contains(needle), "{needle}: {looked_for}");
            }
        }
        other => panic!("expected Unrecognized, got {other:?}"),
    }
}

#[test]
fn seed_file_display_is_relative_to_base() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "data/seed.sql",
        "\u{feff}insert into t values (1);\n",
    );
    let f = seed_file(&dir.path().join("data/seed.sql"), dir.path()).unwrap();
    assert_eq!(f.display, "data/seed.sql");
    assert_eq!(f.sql, "insert into t values (1);\n");
    assert_eq!(f.first_line, 1);
    assert!(matches!(
        seed_file(&dir.path().join("data"), dir.path()),
        Err(LayoutError::Invalid { .. })
    ));
}
