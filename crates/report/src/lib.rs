//! dbaudit's writers. They only render: the [`Report`] document is assembled by the caller from
//! the findings and what the sources said; a writer never looks anything up.
//!
//! The JSON shape is a contract, documented in `docs/json-output.md`.

pub mod baseline;
pub mod json;
pub mod markdown;
pub mod overview;
pub mod sarif;
pub mod score;
pub mod text;

use dbaudit_findings::{Category, Finding, Severity};
use serde::Serialize;
use std::collections::BTreeMap;

/// The whole result of an audit. Serialised as is for `--format json`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// dbaudit's version.
    pub dbaudit: String,
    /// When the audit ran, RFC 3339 (UTC).
    pub generated_at: String,
    pub source: SourceInfo,
    pub summary: Summary,
    /// The tenancy model, when inferred (not yet: `null`).
    pub tenancy: Option<serde_json::Value>,
    pub findings: Vec<Finding>,
    /// Isolation proof results (`--probe`; not yet: `null`).
    pub probe: Option<serde_json::Value>,
    /// Data scan results (`--scan-data`; not yet: `null`).
    pub scan: Option<serde_json::Value>,
    /// Code checks (`--code`): `{files_scanned, findings, skipped: [{file, reason}], elapsed_ms}`;
    /// `null` when not run.
    pub code: Option<serde_json::Value>,
    /// The fix migration (`--fix-out`): `{file, statements, verification}`, where
    /// `verification` is `null` or `{applied, error, with_fix, cleared, remaining: [{rule,
    /// location, fingerprint}], new: [...]}` (dbaudit applied the fix to a fresh build and
    /// re-audited). `null` without `--fix-out`.
    pub fix: Option<serde_json::Value>,
    /// What the schema looks like beyond the findings: tables summary, delete trees, the
    /// relationship map, what is good, verification queries. `null` when not computed.
    pub overview: Option<overview::Overview>,
    /// Fingerprints of the findings that are in the `--baseline` file. They stay in
    /// `findings` but are shown apart as known and left out of the summary counts, the score
    /// and `--fail-on`.
    pub known: Vec<String>,
}

impl Report {
    /// Whether a finding is in the baseline.
    pub fn is_known(&self, f: &Finding) -> bool {
        self.known.contains(&f.fingerprint)
    }

    /// The findings that count (not in the baseline), in report order.
    pub fn counted(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| !self.is_known(f))
    }

    /// The findings in the baseline, in report order.
    pub fn known_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| self.is_known(f))
    }
}

/// What was audited.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SourceInfo {
    /// `migrations` or `database`.
    pub kind: String,
    /// The migrations path, or the connection target without its password.
    pub target: String,
    /// Migration layout (`supabase`, `drizzle`, ...); `null` for a live database.
    pub layout: Option<String>,
    /// Migration files applied, in order (display paths).
    pub files: Vec<String>,
    /// Seed files loaded after the migrations.
    pub seeds: Vec<String>,
    /// Files seen but not run, with the reason.
    pub skipped: Vec<SkippedFile>,
    /// `server_version` of the audited server.
    pub server_version: String,
    /// The Supabase environment was provided (throwaway cluster only).
    pub supabase_environment: bool,
    /// Extensions this machine lacks that were replaced by stand-ins.
    pub standins: Vec<String>,
    /// Schemas whose objects were audited.
    pub schemas: Vec<String>,
    /// Roles treated as untrusted API roles, and where that came from.
    pub api_roles: Vec<String>,
    pub api_roles_source: String,
    /// Wall-clock timings in milliseconds (`build`, `catalog`, `rules`, ...).
    pub timings_ms: BTreeMap<String, u64>,
    /// The dbaudit.toml that was read, if any.
    pub config: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SkippedFile {
    pub file: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub findings: usize,
    /// Count per severity, every severity present (zeros included), most severe first.
    pub by_severity: BTreeMap<String, usize>,
    /// Count per category, categories with findings only.
    pub by_category: BTreeMap<String, usize>,
    /// Rules that ran.
    pub rules_run: usize,
    /// Tables and views audited.
    pub relations: usize,
    /// The `--fail-on` threshold (`never`: None) and whether the audit fails it.
    #[serde(serialize_with = "fail_on_name")]
    pub fail_on: Option<Severity>,
    pub failed: bool,
    /// Findings removed by `[[ignore]]` entries of dbaudit.toml.
    pub ignored: usize,
    /// Health score of the counted findings (see `docs/scoring.md`).
    pub score: score::Score,
}

impl Summary {
    pub fn new(
        findings: &[Finding],
        rules_run: usize,
        relations: usize,
        fail_on: Option<Severity>,
    ) -> Summary {
        let mut by_severity = BTreeMap::new();
        for s in Severity::ALL {
            by_severity.insert(s.as_str().to_string(), 0);
        }
        let mut by_category = BTreeMap::new();
        for f in findings {
            *by_severity
                .entry(f.severity.as_str().to_string())
                .or_insert(0) += 1;
            *by_category
                .entry(f.category.as_str().to_string())
                .or_insert(0) += 1;
        }
        Summary {
            findings: findings.len(),
            by_severity,
            by_category,
            rules_run,
            relations,
            fail_on,
            failed: fail_on.is_some_and(|t| findings.iter().any(|f| f.severity >= t)),
            ignored: 0,
            score: score::compute(findings),
        }
    }

    /// `critical` … `info`, or `never`.
    pub fn fail_on_name(&self) -> &'static str {
        self.fail_on.map(Severity::as_str).unwrap_or("never")
    }

    pub fn count(&self, s: Severity) -> usize {
        self.by_severity.get(s.as_str()).copied().unwrap_or(0)
    }
}

fn fail_on_name<S: serde::Serializer>(v: &Option<Severity>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.map(Severity::as_str).unwrap_or("never"))
}

/// Counted findings (baseline ones left out) of one severity, in report order.
pub fn findings_of(report: &Report, s: Severity) -> impl Iterator<Item = &Finding> {
    report.counted().filter(move |f| f.severity == s)
}

/// The category title used in headings.
pub fn category_title(c: Category) -> &'static str {
    c.title()
}

#[cfg(test)]
pub(crate) mod sample {
    use super::*;
    use dbaudit_findings::{Category, FixSafety, RuleMeta, RuleSource};

    pub static RLS: RuleMeta = RuleMeta {
        code: "RLS001",
        name: "rls-disabled",
        category: Category::Rls,
        default_severity: Severity::Critical,
        source: RuleSource::Schema,
        summary: "",
        docs: "",
    };
    static PERF: RuleMeta = RuleMeta {
        code: "PERF001",
        name: "unindexed-foreign-key",
        category: Category::Performance,
        default_severity: Severity::Moderate,
        source: RuleSource::Schema,
        summary: "",
        docs: "",
    };
    static MIG: RuleMeta = RuleMeta {
        code: "MIG001",
        name: "migration-error",
        category: Category::Migrations,
        default_severity: Severity::High,
        source: RuleSource::Apply,
        summary: "",
        docs: "",
    };

    /// The sample rules' metadata.
    pub fn rules() -> Vec<&'static RuleMeta> {
        vec![&RLS, &PERF, &MIG]
    }

    /// A small, fixed report for snapshot tests.
    pub fn report() -> Report {
        let findings = vec![
            RLS.finding("public.stripe_events has row-level security disabled and anon, authenticated can SELECT, INSERT it")
                .table("public", "stripe_events")
                .impact("anyone with the API key can read and change every tenant's rows in this table")
                .evidence("rls_enabled", false)
                .fix("ALTER TABLE public.stripe_events ENABLE ROW LEVEL SECURITY;", FixSafety::Review)
                .with_fingerprint(),
            MIG.finding("supabase/migrations/2_grants.sql failed at line 2: relation \"s\" does not exist (SQLSTATE 42P01)")
                .file("supabase/migrations/2_grants.sql", Some(2))
                .impact("the rest of this file was rolled back")
                .evidence("statement", "grant usage on sequence s to authenticated")
                .with_fingerprint(),
            PERF.finding("foreign key subs_plan_id_fkey on public.subs(plan_id) → public.plans has no index leading with (plan_id)")
                .table("public", "subs")
                .column("plan_id")
                .impact("every delete on public.plans scans public.subs")
                .fix("CREATE INDEX CONCURRENTLY IF NOT EXISTS subs_plan_id_idx ON public.subs (plan_id);", FixSafety::Safe)
                .with_fingerprint(),
        ];
        let summary = Summary::new(&findings, 4, 12, Some(Severity::High));
        Report {
            dbaudit: "0.1.0".into(),
            generated_at: "2026-11-22T10:00:00Z".into(),
            source: SourceInfo {
                kind: "migrations".into(),
                target: "demo/supabase".into(),
                layout: Some("supabase".into()),
                files: vec![
                    "supabase/migrations/1_init.sql".into(),
                    "supabase/migrations/2_grants.sql".into(),
                ],
                seeds: vec!["supabase/seed.sql".into()],
                skipped: vec![],
                server_version: "15.18".into(),
                supabase_environment: true,
                standins: vec!["pg_net".into()],
                schemas: vec!["public".into()],
                api_roles: vec!["anon".into(), "authenticated".into()],
                api_roles_source: "detected".into(),
                timings_ms: BTreeMap::new(),
                config: None,
            },
            summary,
            tenancy: None,
            findings,
            probe: None,
            scan: None,
            code: None,
            fix: None,
            overview: None,
            known: vec![],
        }
    }
}
