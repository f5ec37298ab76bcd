use super::*;
use dbaudit_findings::{Category, RuleMeta, RuleSource, Severity};

static FK: RuleMeta = RuleMeta {
    code: "INT002",
    name: "missing-foreign-key",
    category: Category::Integrity,
    default_severity: Severity::High,
    source: RuleSource::Schema,
    summary: "",
    docs: "",
};
static TRIGGER: RuleMeta = RuleMeta {
    code: "INT008",
    name: "updated-at-without-trigger",
    category: Category::Integrity,
    default_severity: Severity::Low,
    source: RuleSource::Schema,
    summary: "",
    docs: "",
};

pub(crate) fn callengo() -> Vec<Finding> {
    serde_json::from_str(include_str!("../tests/data/callengo-findings.json")).unwrap()
}

#[test]
fn split_keeps_comments_quotes_and_dollar_bodies() {
    let sql = "-- first\nALTER TABLE t ADD CONSTRAINT c CHECK (a <> ';') NOT VALID;\n\
               CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.x := 1; RETURN NEW; END $$;\n\
               -- trailing\n-- more";
    let c = split(sql);
    assert_eq!(c.len(), 3, "{c:?}");
    assert_eq!(c[0].comments, vec!["-- first"]);
    assert!(c[0].statement.as_deref().unwrap().ends_with("NOT VALID;"));
    assert!(c[1].statement.as_deref().unwrap().ends_with("END $$;"));
    assert_eq!(c[2].statement, None);
    assert_eq!(c[2].comments.len(), 2);
}

#[test]
fn phases_follow_the_statement() {
    assert_eq!(
        classify("x", "ALTER TABLE t ALTER COLUMN c TYPE uuid USING c::uuid").0,
        Phase::Types
    );
    assert_eq!(
        classify(
            "x",
            "ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES p (id) NOT VALID"
        ),
        (Phase::Constraints, 1)
    );
    assert_eq!(
        classify("x", "ALTER TABLE t VALIDATE CONSTRAINT f"),
        (Phase::Constraints, 2)
    );
    assert_eq!(
        classify("x", "ALTER TABLE t ALTER COLUMN c SET NOT NULL").0,
        Phase::NotNull
    );
    assert_eq!(
        classify("x", "ALTER TABLE t ENABLE ROW LEVEL SECURITY").0,
        Phase::Access
    );
    assert_eq!(
        classify("x", "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a)").0,
        Phase::Indexes
    );
    assert_eq!(
        classify("x", "CREATE UNIQUE INDEX CONCURRENTLY i ON t (a, b)").0,
        Phase::Constraints
    );
    assert_eq!(
        classify(
            "updated-at-without-trigger",
            "CREATE TRIGGER x BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION f()"
        )
        .0,
        Phase::Triggers
    );
}

#[test]
fn identical_statements_are_written_once_and_fixes_keep_their_order() {
    let func = "CREATE OR REPLACE FUNCTION public.set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;";
    let f1 = TRIGGER
        .finding("a")
        .table("public", "a")
        .fix(format!("{func}\nCREATE TRIGGER ta BEFORE UPDATE ON public.a FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();"), FixSafety::Review)
        .with_fingerprint();
    let f2 = TRIGGER
        .finding("b")
        .table("public", "b")
        .fix(format!("{func}\nCREATE TRIGGER tb BEFORE UPDATE ON public.b FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();"), FixSafety::Review)
        .with_fingerprint();
    // NOT NULL check dance: its DROP CONSTRAINT must stay after SET NOT NULL.
    let f3 = FK
        .finding("c")
        .table("public", "c")
        .fix("ALTER TABLE public.c ADD CONSTRAINT c_x_not_null CHECK (x IS NOT NULL) NOT VALID;\nALTER TABLE public.c VALIDATE CONSTRAINT c_x_not_null;\nALTER TABLE public.c ALTER COLUMN x SET NOT NULL;\nALTER TABLE public.c DROP CONSTRAINT c_x_not_null;", FixSafety::Review)
        .with_fingerprint();
    let m = build(&[f1, f2, f3]);
    assert_eq!(
        m.sql.matches("CREATE OR REPLACE FUNCTION").count(),
        1,
        "{}",
        m.sql
    );
    let set_nn = m.sql.find("SET NOT NULL;").unwrap();
    let drop = m.sql.find("DROP CONSTRAINT c_x_not_null").unwrap();
    assert!(set_nn < drop, "{}", m.sql);
    assert!(
        m.sql.find("CREATE OR REPLACE FUNCTION").unwrap()
            < m.sql.find("CREATE TRIGGER ta").unwrap()
    );
    assert_eq!(m.entries.len(), 3);
    assert_eq!(
        m.entries[2].phases,
        vec![Phase::Cleanup, Phase::Constraints, Phase::NotNull]
    );
    assert_eq!(m.statements_in(Phase::Triggers), 3);
}

#[test]
fn no_fixes_no_file() {
    let m = build(&[FK.finding("x").with_fingerprint()]);
    assert!(m.is_empty());
    assert_eq!(m.sql, "");
}

#[test]
fn callengo_fix_migration() {
    let findings = callengo();
    let m = build(&findings);
    // Constraints NOT VALID come before their VALIDATE, types before constraints, indexes late.
    let pos = |s: &str| {
        m.sql
            .find(s)
            .unwrap_or_else(|| panic!("{s} missing:\n{}", m.sql))
    };
    assert!(pos("ALTER COLUMN list_id TYPE uuid") < pos("ADD CONSTRAINT contacts_list_id_fkey"));
    assert!(
        pos("ADD CONSTRAINT contacts_list_id_fkey")
            < pos("VALIDATE CONSTRAINT contacts_list_id_fkey")
    );
    assert!(pos("VALIDATE CONSTRAINT") < pos("ENABLE ROW LEVEL SECURITY"));
    assert!(
        pos("ENABLE ROW LEVEL SECURITY")
            < pos("CREATE INDEX CONCURRENTLY IF NOT EXISTS company_subscriptions_plan_id_idx")
    );
    // The unique key a composite FK needs is created once, before the FKs.
    assert_eq!(
        m.sql
            .matches("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS agent_runs_company_id_id_key")
            .count(),
        1
    );
    // The redundant policy is dropped, so the initplan ALTER of it is left out.
    assert!(!m
        .sql
        .contains("ALTER POLICY \"follow_up_queue: company read\""));
    assert_eq!(
        m.entries.len(),
        findings.iter().filter(|f| f.fix.is_some()).count()
    );
    insta::assert_snapshot!(m.sql);
}
