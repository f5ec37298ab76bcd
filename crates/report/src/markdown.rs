//! `--format md`: the report an engineer reads to know what to fix first and how, modelled on
//! hand-written audit reports: title, date and scope; executive summary with the health score;
//! what is good; findings grouped CRITICAL / HIGH / MODERATE / LOW (INFO collapsed), each with
//! impact, location, evidence and fix (repetitive findings of one rule grouped into one entry);
//! cascade delete trees; tables summary; relationship map (Mermaid); probe, scan and code
//! results; the fix migration; known (baseline) findings; verification queries.
//!
//! GitHub-flavoured: table cells escape `|`, `<details>` blocks have blank lines around their
//! Markdown, Mermaid entity names are plain identifiers.

use crate::overview::{DeleteNode, Overview};
use crate::Report;
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, Severity};
use dbaudit_rules::analysis::delete_paths::DeleteEffect;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write;

/// A rule with at least this many findings of one severity is reported as one grouped entry
/// (moderate and below); critical and high findings are grouped only past [`GROUP_SEVERE`].
const GROUP_AT: usize = 3;
const GROUP_SEVERE: usize = 5;

pub fn render(report: &Report, rules: &[&'static RuleMeta]) -> String {
    let mut out = String::new();
    let meta = |rule: &str| rules.iter().copied().find(|m| m.name == rule);
    let counted: Vec<Finding> = report.counted().cloned().collect();
    let fixm = dbaudit_fix::build(&counted);
    let ov = report.overview.as_ref();

    header(&mut out, report, rules.len());
    executive_summary(&mut out, report, &fixm);
    good(&mut out, ov);

    // Findings.
    let mut n = 0;
    let mut explained: Vec<String> = vec![];
    for s in Severity::ALL {
        let group: Vec<&Finding> = crate::findings_of(report, s).collect();
        if group.is_empty() && s != Severity::Critical {
            continue;
        }
        let title = match s {
            Severity::Critical => "CRITICAL ISSUES (fix first)",
            Severity::High => "HIGH SEVERITY ISSUES",
            Severity::Moderate => "MODERATE ISSUES",
            Severity::Low => "LOW SEVERITY ISSUES",
            Severity::Info => "INFORMATIONAL",
        };
        if group.is_empty() {
            let _ = writeln!(out, "## {title}\n\nNone.\n\n---\n");
            continue;
        }
        let _ = writeln!(out, "## {title}\n");
        if s == Severity::Info {
            let _ = writeln!(
                out,
                "<details>\n<summary>{} informational finding(s): no risk by themselves, worth knowing</summary>\n",
                group.len()
            );
        }
        for entry in entries(&group, s) {
            n += 1;
            let rule = entry[0].rule.clone();
            let m = meta(&rule);
            match entry.as_slice() {
                [f] => finding(&mut out, n, f, m),
                many => grouped(&mut out, n, many, m),
            }
            if !explained.contains(&rule) {
                about_rule(&mut out, m);
                explained.push(rule);
            }
        }
        if s == Severity::Info {
            let _ = writeln!(out, "</details>\n");
        }
        let _ = writeln!(out, "---\n");
    }

    if let Some(ov) = ov {
        delete_trees(&mut out, ov);
        tables(&mut out, report, ov);
        er_diagram(&mut out, ov);
    }
    probe(&mut out, report);
    scan(&mut out, report);
    code(&mut out, report);
    fix_migration(&mut out, report, &fixm);
    next_steps(&mut out, report);
    known(&mut out, report);
    if let Some(ov) = ov {
        verification(&mut out, ov);
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// The roadmap: what to do first, grouped by rule, and where the fix lives.
fn next_steps(out: &mut String, report: &Report) {
    let counted: Vec<&Finding> = report.counted().collect();
    if counted.is_empty() {
        return;
    }
    let _ = writeln!(out, "## NEXT STEPS\n");
    let buckets: [(&str, &[Severity]); 3] = [
        (
            "Immediately (before the next deploy)",
            &[Severity::Critical, Severity::High],
        ),
        ("Short term", &[Severity::Moderate]),
        ("When convenient", &[Severity::Low]),
    ];
    for (title, severities) in buckets {
        // Rules in report order (most severe first), each with its findings.
        let mut rules: Vec<(&str, Vec<&Finding>)> = vec![];
        for f in counted.iter().filter(|f| severities.contains(&f.severity)) {
            match rules.iter_mut().find(|(r, _)| *r == f.rule) {
                Some((_, v)) => v.push(f),
                None => rules.push((&f.rule, vec![f])),
            }
        }
        if rules.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### {title}\n");
        for (i, (_, fs)) in rules.iter().enumerate() {
            let what = issue_title(fs[0]);
            let what = what.split(": ").next().unwrap_or(&what).to_string();
            let mut places: Vec<String> = fs
                .iter()
                .take(3)
                .map(|f| code_span(&f.location()))
                .collect();
            if fs.len() > 3 {
                places.push(format!("and {} more", fs.len() - 3));
            }
            let how = match (fs[0].category, fs[0].rule.as_str()) {
                (_, "cascade-leftovers") => "add the missing foreign keys with ON DELETE CASCADE (in the fix migration), then re-run with `--probe` to prove it",
                (_, "probe-inconclusive") => "read the reason; give the probe what it lacks (dbaudit.toml tenancy settings)",
                (Category::Code, _) => "change the application code (file and line above)",
                (Category::Data, _) => "clean the rows (the fix migration's phase 1 has the statements, commented out)",
                (Category::Probe, _) => "fix the policies the findings above name, then re-run with `--probe` to prove it",
                (Category::Migrations, _) => "repair the migration so a fresh database builds",
                _ if fs.iter().all(|f| f.fix.is_some()) => "in the fix migration",
                _ if fs.iter().any(|f| f.fix.is_some()) => "partly in the fix migration; the rest by hand",
                _ => "by hand (see the finding)",
            };
            let _ = writeln!(
                out,
                "{}. **{what}** ({}): {}. Fix: {how}.",
                i + 1,
                fs.len(),
                places.join(", ")
            );
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "---\n");
}

// ---------------------------------------------------------------------------------------------
// Helpers.

fn sev_title(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRITICAL",
        Severity::High => "HIGH",
        Severity::Moderate => "MODERATE",
        Severity::Low => "LOW",
        Severity::Info => "INFO",
    }
}

/// Escape a table cell: pipes, newlines.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Inline code that survives backticks in the text.
fn code_span(s: &str) -> String {
    if s.contains('`') {
        format!("`` {} ``", s.replace("``", "` `"))
    } else {
        format!("`{s}`")
    }
}

/// `public.x` → `x` (the usual schema is implied; others stay qualified).
fn short(name: &str) -> &str {
    name.strip_prefix("public.").unwrap_or(name)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The project's name: the last part of the migrations path, or the database name.
fn project(report: &Report) -> String {
    let t = report.source.target.trim_end_matches('/');
    if report.source.kind == "database" {
        return t.rsplit('/').next().unwrap_or(t).to_string();
    }
    let last = t.rsplit('/').next().unwrap_or(t);
    let last = if matches!(
        last,
        "supabase" | "migrations" | "drizzle" | "prisma" | "db" | "sql" | "." | ""
    ) {
        t.trim_end_matches(last)
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .filter(|s| !s.is_empty())
            .unwrap_or(last)
    } else {
        last
    };
    if last.is_empty() || last == "." {
        "Database".into()
    } else {
        let mut c = last.chars();
        c.next()
            .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
            .unwrap_or_default()
    }
}

/// A short title for a finding: what, on what.
fn issue_title(f: &Finding) -> String {
    let what = match f.rule.as_str() {
        "rls-disabled" => "Row-level security disabled",
        "permissive-policy" => "Always-true policy",
        "anon-write-grant" => "Anonymous write access",
        "foreign-key-type-mismatch" => "Type mismatch blocks the foreign key",
        "missing-foreign-key" => "Missing foreign key",
        "migration-error" => "Migration fails",
        "plaintext-secret-column" => "Secret stored in plain text",
        "auth-users-link-missing" => "Users table not linked to auth.users",
        "function-search-path-mutable" => "Function with a mutable search_path",
        "rls-auth-initplan" => "Policy re-evaluates auth per row",
        "unindexed-foreign-key" => "Foreign key without an index",
        "cross-tenant-reference-possible" => "Reference can cross tenants",
        "missing-check-constraint" => "No range check",
        "redundant-index" => "Redundant index",
        "redundant-policy" => "Redundant policy",
        "updated-at-without-trigger" => "`updated_at` never updated",
        "tenant-column-nullable" => "Tenant column allows NULL",
        "tenant-foreign-key-missing" => "Tenant column without a foreign key",
        "cascade-delete-blocked" => "Delete blocked",
        "missing-primary-key" => "No primary key",
        "rls-isolation-leak" => "Tenant isolation leak (proven)",
        "cascade-leftovers" => "Rows left behind after a delete (proven)",
        "probe-inconclusive" => "Isolation not proven",
        "orphan-rows" => "Orphan rows",
        "null-tenant-rows" => "Rows without a tenant",
        "cross-tenant-reference" => "Rows pointing at another tenant",
        "soft-deleted-parent-referenced" => "Live rows under a soft-deleted parent",
        "check-violations" => "Rows the fix would reject",
        "query-missing-tenant-filter" => "Query without a tenant filter",
        "service-key-fallback" => "Service key falls back",
        "route-missing-auth" => "Route without an auth check",
        "webhook-unverified" => "Webhook without a signature check",
        "unknown-column-reference" => "Code references a missing column",
        "tenant-id-from-request" => "Tenant id taken from the request",
        "duplicate-db-client" => "Database client created twice",
        "multi-write-without-transaction" => "Several writes without a transaction",
        "orm-foreign-key-mismatch" => "ORM and database disagree on a foreign key",
        "type-check-suppressed" => "Type check suppressed on database access",
        "rls-enabled-no-policy" => "RLS on, no policy",
        "policy-exists-rls-disabled" => "Policies that never apply",
        "tenant-policy-missing-tenant-check" => "Policy without a tenant check",
        "inconsistent-tenant-claim" => "Tenant read from different claims",
        "policy-uses-user-metadata" => "Policy trusts user_metadata",
        "multiple-permissive-policies" => "Several permissive policies",
        "view-bypasses-rls" => "View bypasses RLS",
        "security-definer-function-exposed" => "SECURITY DEFINER function exposed",
        "auth-users-exposed" => "auth.users exposed",
        "policy-null-auth-disjunct" => "Policy lets anonymous callers through",
        "materialized-view-in-api" => "Materialized view in the API",
        "extension-in-public" => "Extension in public",
        "public-bucket-allows-listing" => "Public bucket can be listed",
        "foreign-table-in-api" => "Foreign table in the API",
        "tenant-column-unindexed" => "Tenant column without an index",
        "duplicate-index" => "Duplicate index",
        "unused-index" => "Unused index",
        "invalid-index" => "Invalid index",
        "sequence-near-overflow" => "Sequence near overflow",
        "foreign-key-not-validated" => "Constraint never validated",
        _ => "",
    };
    let what = if what.is_empty() {
        let mut s = f.rule.replace('-', " ");
        if let Some(c) = s.get(..1) {
            let up = c.to_uppercase();
            s.replace_range(..1, &up);
        }
        s
    } else {
        what.to_string()
    };
    format!("{what}: {}", code_span(&f.location()))
}

fn evidence_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) if a.iter().all(|x| !x.is_object() && !x.is_array()) => a
            .iter()
            .map(|x| match x {
                Value::String(s) => s.clone(),
                o => o.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(m) if m.values().all(|x| !x.is_object()) => m
            .iter()
            .map(|(k, x)| format!("{k}: {}", evidence_value(x)))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

fn evidence(out: &mut String, f: &Finding) {
    if f.evidence.is_empty() {
        return;
    }
    let _ = writeln!(out, "**Evidence:**\n");
    for (k, v) in &f.evidence {
        let mut shown = evidence_value(v);
        if shown.chars().count() > 400 {
            shown = shown.chars().take(400).collect::<String>() + " …";
        }
        let _ = writeln!(out, "- {}: {}", k.replace('_', " "), code_span(&shown));
    }
    let _ = writeln!(out);
}

fn safety_text(s: FixSafety) -> &'static str {
    match s {
        FixSafety::Safe => "safe: no behaviour change",
        FixSafety::Review => {
            "review before applying: changes behaviour or may fail on existing data"
        }
    }
}

fn about_rule(out: &mut String, m: Option<&RuleMeta>) {
    let Some(m) = m else { return };
    let why = m.docs_section("Why it matters").unwrap_or("");
    let fix = m.docs_section("Fix").unwrap_or("");
    if why.is_empty() && fix.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<details>\n<summary>About <code>{}</code>: why it matters, how to fix</summary>\n",
        m.name
    );
    if !why.is_empty() {
        let _ = writeln!(out, "{why}\n");
    }
    if !fix.is_empty() {
        let _ = writeln!(out, "**How to fix.** {fix}\n");
    }
    let _ = writeln!(out, "</details>\n");
}

fn defined_in(f: &Finding) -> Option<String> {
    let d = f.evidence.get("defined_in")?;
    let file = d.get("file")?.as_str()?;
    Some(match d.get("line").and_then(Value::as_u64) {
        Some(l) => format!("{file}:{l}"),
        None => file.to_string(),
    })
}

/// Split one severity's findings into entries: one per finding, or one per rule when the rule
/// repeats enough.
fn entries<'a>(group: &[&'a Finding], s: Severity) -> Vec<Vec<&'a Finding>> {
    let threshold = if s >= Severity::High {
        GROUP_SEVERE
    } else {
        GROUP_AT
    };
    let mut per_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for f in group {
        *per_rule.entry(f.rule.as_str()).or_default() += 1;
    }
    let mut out: Vec<Vec<&Finding>> = vec![];
    let mut placed: BTreeMap<&str, usize> = BTreeMap::new();
    for f in group {
        if per_rule[f.rule.as_str()] >= threshold {
            match placed.get(f.rule.as_str()) {
                Some(&i) => out[i].push(f),
                None => {
                    placed.insert(&f.rule, out.len());
                    out.push(vec![f]);
                }
            }
        } else {
            out.push(vec![f]);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Sections.

fn header(out: &mut String, report: &Report, rules: usize) {
    let src = &report.source;
    let _ = writeln!(out, "# {} — Database Audit Report\n", project(report));
    let date = report
        .generated_at
        .get(..10)
        .unwrap_or(&report.generated_at);
    let _ = writeln!(out, "**Date:** {date}  ");
    let scope = match &src.layout {
        Some(layout) => format!(
            "the database built from {} ({layout} layout, {}{}) in a throwaway PostgreSQL {}{}",
            code_span(&src.target),
            plural(src.files.len(), "migration file", "migration files"),
            if src.seeds.is_empty() {
                String::new()
            } else {
                format!(
                    " and {}",
                    plural(src.seeds.len(), "seed file", "seed files")
                )
            },
            src.server_version,
            if src.supabase_environment {
                ", with the Supabase environment (auth, storage, API roles and default privileges as in production)"
            } else {
                ""
            }
        ),
        None => format!(
            "the live database {} (PostgreSQL {}), read-only",
            code_span(&src.target),
            src.server_version
        ),
    };
    let _ = writeln!(out, "**Scope:** {scope}.  ");
    let mut checks = vec![format!("schema rules ({rules})")];
    checks.push(if report.probe.is_some() {
        "isolation probe".into()
    } else {
        "isolation probe not run".into()
    });
    checks.push(if report.scan.is_some() {
        "data scan".into()
    } else {
        "data scan not run".into()
    });
    let code_ran =
        report.code.is_some() || report.findings.iter().any(|f| f.category == Category::Code);
    checks.push(if code_ran {
        "code checks".into()
    } else {
        "code checks not run".into()
    });
    let _ = writeln!(out, "**Checks:** {}.  ", checks.join(", "));
    if !src.schemas.is_empty() {
        let _ = writeln!(
            out,
            "**Schemas audited:** {}; **API roles:** {} ({}).  ",
            src.schemas
                .iter()
                .map(|s| code_span(s))
                .collect::<Vec<_>>()
                .join(", "),
            if src.api_roles.is_empty() {
                "none".to_string()
            } else {
                src.api_roles
                    .iter()
                    .map(|s| code_span(s))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            src.api_roles_source
        );
    }
    if !src.standins.is_empty() {
        let _ = writeln!(
            out,
            "**Stood in for:** {} (not installed on the audit machine: their schemas, types and function signatures were provided so the migrations apply; their behaviour was not audited).  ",
            src.standins.iter().map(|s| code_span(s)).collect::<Vec<_>>().join(", ")
        );
    }
    if !src.skipped.is_empty() {
        let _ = writeln!(
            out,
            "**Not applied:** {}.  ",
            src.skipped
                .iter()
                .map(|s| format!("{} ({})", code_span(&s.file), s.reason))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let Some(c) = &src.config {
        let _ = writeln!(out, "**Configuration:** {}.  ", code_span(c));
    }
    let _ = writeln!(out, "**Tool:** dbaudit {}\n", report.dbaudit);
    if !src.files.is_empty() {
        let _ = writeln!(
            out,
            "<details>\n<summary>Migration files applied ({})</summary>\n",
            src.files.len() + src.seeds.len()
        );
        for f in src.files.iter().chain(&src.seeds) {
            let _ = writeln!(out, "1. {}", code_span(f));
        }
        let _ = writeln!(out, "\n</details>\n");
    }
    let _ = writeln!(out, "---\n");
}

fn executive_summary(out: &mut String, report: &Report, fixm: &dbaudit_fix::FixMigration) {
    let s = &report.summary;
    let score = &s.score;
    let _ = writeln!(out, "## EXECUTIVE SUMMARY\n");
    let _ = writeln!(
        out,
        "**Health score: {}/100 — grade {}**\n\n<sub>100 × e^(−penalty/100); each rule costs its severity weight (critical 30, high 10, moderate 3, low 1) × √(its findings); a critical finding caps the score at 69. Grades: A ≥ 90, B ≥ 80, C ≥ 70, D ≥ 60.</sub>\n",
        score.score, score.grade
    );
    let cats: Vec<&str> = s.by_category.keys().map(String::as_str).collect();
    if s.findings == 0 {
        let _ = writeln!(
            out,
            "This audit found **no issues** in {} tables and views.\n",
            s.relations
        );
    } else {
        let counts: Vec<String> = Severity::ALL
            .iter()
            .filter(|v| s.count(**v) > 0)
            .map(|v| format!("{} {}", s.count(*v), v.as_str()))
            .collect();
        let _ = writeln!(
            out,
            "This audit found **{}** ({}) across {} in {} tables and views.",
            plural(s.findings, "issue", "issues"),
            counts.join(", "),
            plural(cats.len(), "category", "categories"),
            s.relations
        );
        // The worst problems, one per rule.
        let mut seen = vec![];
        let mut top = vec![];
        for f in report.counted().filter(|f| f.severity >= Severity::High) {
            if seen.contains(&f.rule) {
                continue;
            }
            seen.push(f.rule.clone());
            let n = report.counted().filter(|g| g.rule == f.rule).count();
            top.push(if n > 1 {
                format!("**{}** (and {} more)", issue_title(f), n - 1)
            } else {
                format!("**{}**", issue_title(f))
            });
            if top.len() == 4 {
                break;
            }
        }
        if !top.is_empty() {
            let _ = writeln!(out, "The most urgent: {}.", top.join("; "));
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(
        out,
        "| Category | Score | Grade | Findings |\n|---|---:|:---:|---:|"
    );
    let code_ran =
        report.code.is_some() || report.findings.iter().any(|f| f.category == Category::Code);
    for c in &score.categories {
        let not_run = match c.category {
            Category::Probe => report.probe.is_none() && c.findings == 0,
            Category::Data => report.scan.is_none() && c.findings == 0,
            Category::Code => !code_ran,
            _ => false,
        };
        if not_run {
            let _ = writeln!(out, "| {} | — | — | not run |", c.category.title());
        } else {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                c.category.title(),
                c.score,
                c.grade,
                c.findings
            );
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "| Severity | Findings |\n|---|---:|");
    for v in Severity::ALL {
        let _ = writeln!(out, "| {} | {} |", sev_title(v), s.count(v));
    }
    let _ = writeln!(out, "| **Total** | **{}** |\n", s.findings);
    let known = report.known_findings().count();
    if known > 0 {
        let _ = writeln!(
            out,
            "{} in the baseline {} listed under [Known findings](#known-findings-baseline) and not counted.\n",
            plural(known, "finding", "findings"),
            if known == 1 { "is" } else { "are" }
        );
    }
    if s.ignored > 0 {
        let _ = writeln!(
            out,
            "{} ignored by `[[ignore]]` entries of dbaudit.toml.\n",
            plural(s.ignored, "finding was", "findings were")
        );
    }
    if !fixm.is_empty() {
        let _ = writeln!(
            out,
            "A fix migration covers **{} of these findings** ({} safe, {} to review): see [Fix migration](#fix-migration).{}\n",
            fixm.entries.len(),
            fixm.safe(),
            fixm.review(),
            match Verification::of(report) {
                Some(v) if v.applied => format!(
                    " dbaudit applied it to a fresh build and re-audited: it clears {} of {} ({}%).",
                    v.cleared,
                    v.with_fix,
                    v.percent()
                ),
                Some(_) => " dbaudit could not apply it to a fresh build: see below.".into(),
                None => String::new(),
            }
        );
    }
    let _ = writeln!(
        out,
        "{}\n\n---\n",
        if s.failed {
            format!("**The audit fails** `--fail-on {}`.", s.fail_on_name())
        } else if s.fail_on.is_none() {
            "`--fail-on never`: findings do not change the exit status.".to_string()
        } else {
            format!("Nothing at or above `--fail-on {}`.", s.fail_on_name())
        }
    );
}

fn good(out: &mut String, ov: Option<&Overview>) {
    let Some(ov) = ov else { return };
    if ov.good.is_empty() {
        return;
    }
    let _ = writeln!(out, "## WHAT'S GOOD (Strengths)\n");
    for (i, g) in ov.good.iter().enumerate() {
        let _ = writeln!(out, "{}. {g}\n", i + 1);
    }
    let _ = writeln!(out, "---\n");
}

/// An issue's severity, rule, code and category.
fn severity_line(out: &mut String, f: &Finding) {
    let _ = writeln!(
        out,
        "**Severity:** {} · **Rule:** `{}` ({}, {})  ",
        sev_title(f.severity),
        f.rule,
        f.code,
        f.category.title()
    );
}

fn finding(out: &mut String, n: usize, f: &Finding, meta: Option<&RuleMeta>) {
    let _ = writeln!(out, "### ISSUE {n}: {}\n", issue_title(f));
    severity_line(out, f);
    let _ = writeln!(out, "**Finding:** {}  ", f.message);
    if !f.impact.is_empty() {
        let _ = writeln!(out, "**Impact:** {}  ", f.impact);
    }
    let mut loc = code_span(&f.location());
    if let Some(d) = defined_in(f) {
        let _ = write!(loc, " (defined in {})", code_span(&d));
    }
    let _ = writeln!(out, "**Location:** {loc}\n");
    evidence(out, f);
    match &f.fix {
        Some(fix) => {
            let _ = writeln!(
                out,
                "**Fix** ({}):\n\n```sql\n{}\n```\n",
                safety_text(fix.safety),
                fix.sql.trim_end()
            );
        }
        None => {
            if meta.is_some_and(|m| m.docs_section("Fix").is_some()) {
                let _ = writeln!(out, "**Fix:** no SQL fix: see how to fix below.\n");
            }
        }
    }
}

fn grouped(out: &mut String, n: usize, fs: &[&Finding], meta: Option<&RuleMeta>) {
    let f = fs[0];
    let title = issue_title(f);
    let what = title.split(": ").next().unwrap_or(&title);
    let _ = writeln!(out, "### ISSUE {n}: {what} ({} places)\n", fs.len());
    severity_line(out, f);
    if let Some(m) = meta.filter(|m| !m.summary.is_empty()) {
        let _ = writeln!(out, "**Finding:** {}  ", m.summary);
    }
    if !f.impact.is_empty() {
        let _ = writeln!(
            out,
            "**Impact** (for example, {}): {}  ",
            code_span(&f.location()),
            f.impact
        );
    }
    let _ = writeln!(out, "**Locations:**\n");
    for g in fs {
        let _ = writeln!(out, "- {}: {}", code_span(&g.location()), g.message);
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "<details>\n<summary>Evidence for {}</summary>\n",
        code_span(&f.location()).replace('`', "")
    );
    evidence(out, f);
    let _ = writeln!(out, "</details>\n");
    let with_fix: Vec<&&Finding> = fs.iter().filter(|g| g.fix.is_some()).collect();
    if !with_fix.is_empty() {
        let all_safe = with_fix
            .iter()
            .all(|g| g.fix.as_ref().is_some_and(|x| x.safety == FixSafety::Safe));
        let mut sql = String::new();
        let mut seen = std::collections::HashSet::new();
        for g in &with_fix {
            let s = g.fix.as_ref().map(|x| x.sql.trim_end()).unwrap_or("");
            if seen.insert(s.to_string()) {
                let _ = writeln!(sql, "-- {}\n{s}", g.location());
            }
        }
        let _ = writeln!(
            out,
            "**Fix** ({}; {} statements, all in the [fix migration](#fix-migration)):\n\n<details>\n<summary>SQL for all {}</summary>\n\n```sql\n{}\n```\n\n</details>\n",
            safety_text(if all_safe { FixSafety::Safe } else { FixSafety::Review }),
            with_fix.len(),
            with_fix.len(),
            sql.trim_end()
        );
    }
}

fn tree_lines(out: &mut String, nodes: &[DeleteNode], indent: &str) {
    for node in nodes {
        let (effect, marker) = match node.effect {
            DeleteEffect::Cascade if node.repeated => ("CASCADE, see above".to_string(), ""),
            DeleteEffect::Cascade => ("CASCADE".into(), ""),
            DeleteEffect::SetNull => ("SET NULL".into(), ""),
            DeleteEffect::SetDefault => ("SET DEFAULT".into(), ""),
            DeleteEffect::Blocked => {
                let action = node.action.clone().unwrap_or_else(|| "NO ACTION".into());
                if node.blocks {
                    (action, " [BLOCKS THE DELETE]")
                } else {
                    (format!("{action}; its rows go through another cascade"), "")
                }
            }
            DeleteEffect::Orphaned => ("no foreign key".into(), " [rows left behind]"),
        };
        let _ = writeln!(
            out,
            "{indent}|-- {}.{} ({effect}){marker}",
            short(&node.table),
            node.columns.join(", ")
        );
        if !node.children.is_empty() {
            tree_lines(out, &node.children, &format!("{indent}|     "));
        }
    }
}

fn delete_trees(out: &mut String, ov: &Overview) {
    if ov.delete_trees.is_empty() {
        return;
    }
    let _ = writeln!(out, "## CASCADE DELETE CHAINS\n");
    let _ = writeln!(
        out,
        "What deleting one row does to every table that points at it, directly or through cascades. `[BLOCKS THE DELETE]` marks a foreign key that makes the delete fail; `[rows left behind]` marks a reference with no foreign key.\n"
    );
    for t in &ov.delete_trees {
        let what = match t.kind.as_str() {
            "tenant_root" => "a **tenant**",
            "users_table" => "a **user**",
            "auth_users" => "an **account**",
            _ => "a row",
        };
        let mut status = vec![plural(
            t.deleted_tables,
            "table loses rows",
            "tables lose rows",
        )];
        if t.blocked > 0 {
            status.push(format!(
                "**{} the delete**",
                plural(t.blocked, "foreign key blocks", "foreign keys block")
            ));
        }
        if t.orphaned > 0 {
            status.push(format!(
                "**{} without a foreign key leave rows behind**",
                plural(t.orphaned, "reference", "references")
            ));
        }
        let _ = writeln!(
            out,
            "When deleting {what} (`{}`), {}.\n",
            t.statement,
            status.join(", ")
        );
        let _ = writeln!(out, "```\n{}", short(&t.origin));
        if t.children.is_empty() {
            let _ = writeln!(out, "  (nothing references it)");
        }
        tree_lines(out, &t.children, "  ");
        let _ = writeln!(out, "```\n");
    }
    let _ = writeln!(out, "---\n");
}

fn tables(out: &mut String, report: &Report, ov: &Overview) {
    if ov.tables.is_empty() {
        return;
    }
    let tenant_col = ov
        .tenant_columns
        .first()
        .map(|c| format!("{c} FK"))
        .unwrap_or_else(|| "Tenant FK".into());
    let _ = writeln!(out, "## TABLES SUMMARY\n");
    if let Some(root) = &ov.tenant_root {
        let _ = writeln!(
            out,
            "Tenant root: `{root}`{}.\n",
            ov.users_table
                .as_ref()
                .map(|u| format!("; users table: `{u}`"))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(
        out,
        "| Table | Scope | {} | User FK | RLS | Policies | Cascade OK | Rows |\n|---|---|:---:|:---:|:---:|---:|:---:|---:|",
        cell(&tenant_col)
    );
    let live = report.source.kind == "database";
    for t in &ov.tables {
        let rls = match (t.rls, t.exposed) {
            (true, _) => "YES".to_string(),
            (false, true) => "**NO** (exposed)".into(),
            (false, false) => "no (not exposed)".into(),
        };
        let cascade = match (t.cascade_ok, &t.cascade_issue) {
            (Some(true), _) => "YES".to_string(),
            (Some(false), Some(why)) => format!("**NO**: {why}"),
            (Some(false), None) => "**NO**".into(),
            (None, _) => "n/a".into(),
        };
        let tenant_fk = if t.tenant_fk == "missing" {
            "**missing**".to_string()
        } else {
            t.tenant_fk.clone()
        };
        let user_fk = t.user_fk.replace("missing", "**missing**");
        let rows = match t.rows {
            Some(n) if n >= 0 => n.to_string(),
            _ if live => "not analyzed".into(),
            _ => "—".into(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(short(&t.table)),
            cell(&t.scope_detail),
            cell(&tenant_fk),
            cell(&user_fk),
            rls,
            t.policies,
            cell(&cascade),
            rows
        );
    }
    if !live {
        let _ = writeln!(
            out,
            "\nRow counts are not shown: the database was built from migrations."
        );
    }
    let _ = writeln!(out, "\n---\n");
}

/// A Mermaid entity name: letters, digits and underscores.
fn entity(name: &str) -> String {
    short(name)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn er_diagram(out: &mut String, ov: &Overview) {
    if ov.relationships.is_empty() {
        return;
    }
    let _ = writeln!(out, "## RELATIONSHIP MAP\n");
    let _ = writeln!(
        out,
        "Declared foreign keys are solid lines; references dbaudit inferred without a foreign key are dashed, labelled with the confidence.\n"
    );
    let _ = writeln!(out, "```mermaid\nerDiagram");
    for r in &ov.relationships {
        let parent = entity(&r.to);
        let child = entity(&r.from);
        let left = if r.mandatory { "||" } else { "|o" };
        let line = if r.declared { "--" } else { ".." };
        let label = if r.declared {
            r.from_columns.join(", ")
        } else {
            format!(
                "{} (inferred, {})",
                r.from_columns.join(", "),
                serde_json::to_value(r.confidence)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default()
            )
        };
        let _ = writeln!(
            out,
            "    {parent} {left}{line}o{{ {child} : \"{}\"",
            label.replace('"', "'")
        );
    }
    let _ = writeln!(out, "```\n");
    let inferred: Vec<_> = ov.relationships.iter().filter(|r| !r.declared).collect();
    if !inferred.is_empty() {
        let _ = writeln!(out, "Inferred references (no foreign key):\n");
        let _ = writeln!(out, "| From | To | Confidence | Why |\n|---|---|:---:|---|");
        for r in inferred {
            let _ = writeln!(
                out,
                "| {}.{} | {}({}) | {} | {} |",
                cell(short(&r.from)),
                cell(&r.from_columns.join(", ")),
                cell(short(&r.to)),
                cell(&r.to_columns.join(", ")),
                serde_json::to_value(r.confidence)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default(),
                cell(&r.evidence)
            );
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "---\n");
}

/// The fix verification as the CLI records it in `report.fix.verification`.
struct Verification {
    applied: bool,
    /// It applied only once its commented-out cleanup was enabled (seed rows in the way).
    with_cleanup: bool,
    error: String,
    with_fix: u64,
    cleared: u64,
    remaining: Vec<Value>,
    new: Vec<Value>,
}

impl Verification {
    fn of(report: &Report) -> Option<Verification> {
        let v = report.fix.as_ref()?.get("verification")?;
        if v.is_null() {
            return None;
        }
        let arr = |k: &str| array(v, k);
        let remaining = arr("remaining");
        let cleared = v.get("cleared").and_then(Value::as_u64).unwrap_or(0);
        Some(Verification {
            applied: v.get("applied").and_then(Value::as_bool).unwrap_or(false),
            with_cleanup: v
                .get("with_cleanup")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            error: match v.get("error") {
                Some(Value::Null) | None => "unknown error".into(),
                Some(Value::String(e)) => e.clone(),
                Some(Value::Object(o)) => {
                    let g = |k: &str| {
                        o.get(k)
                            .map(|x| match x {
                                Value::String(s) => s.clone(),
                                o => o.to_string(),
                            })
                            .unwrap_or_default()
                    };
                    format!(
                        "line {}: {} (SQLSTATE {}) in `{}`",
                        g("line"),
                        g("message"),
                        g("sqlstate"),
                        g("statement").replace('`', "'")
                    )
                }
                Some(o) => o.to_string(),
            },
            with_fix: v
                .get("with_fix")
                .and_then(Value::as_u64)
                .unwrap_or(cleared + remaining.len() as u64),
            cleared,
            remaining,
            new: arr("new"),
        })
    }

    fn percent(&self) -> u64 {
        (self.cleared * 100)
            .checked_div(self.with_fix)
            .unwrap_or(100)
    }
}

fn s(v: &Value, k: &str) -> String {
    match v.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(o) => o.to_string(),
    }
}

/// The elements of the array at `k` (none when it is missing or not an array).
fn items<'v>(v: &'v Value, k: &str) -> impl Iterator<Item = &'v Value> {
    v.get(k).and_then(Value::as_array).into_iter().flatten()
}

/// A copy of the array at `k` (empty when it is missing or not an array).
fn array(v: &Value, k: &str) -> Vec<Value> {
    items(v, k).cloned().collect()
}

/// ` (why)`, or nothing when there is no reason.
fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(" ({reason})")
    }
}

/// A section's heading, then its part of the report, or `not_run` (and `None`) when that part
/// is missing.
fn section<'r>(
    out: &mut String,
    heading: &str,
    part: Option<&'r Value>,
    not_run: &str,
) -> Option<&'r Value> {
    let _ = writeln!(out, "## {heading}\n");
    if part.is_none() {
        let _ = writeln!(out, "{not_run}\n\n---\n");
    }
    part
}

fn probe(out: &mut String, report: &Report) {
    let Some(p) = section(
        out,
        "ISOLATION PROOF (probe)",
        report.probe.as_ref(),
        "Not run. With `--probe`, dbaudit acts as a user of tenant A and tries to read, insert, update and delete tenant B's rows in every tenant table, inside a transaction that is rolled back, and deletes a tenant to prove the cascades. Each leak comes with the SQL that reproduces it.",
    ) else {
        return;
    };
    if let Some(c) = p.get("coverage") {
        let _ = writeln!(
            out,
            "Acting as a member of tenant A against tenant B of `{}` ({} ms): **{} tables isolated, {} leaking, {} inconclusive** of {} tenant-scoped tables.\n",
            s(p, "tenant_root"),
            s(p, "elapsed_ms"),
            s(c, "isolated"),
            s(c, "leak"),
            s(c, "inconclusive"),
            s(c, "tenant_scoped"),
        );
    }
    let tables = array(p, "tables");
    if !tables.is_empty() {
        let _ = writeln!(
            out,
            "| Table | Verdict | Leaking or inconclusive commands |\n|---|:---:|---|"
        );
        for t in &tables {
            let cmds: Vec<String> = items(t, "commands")
                .filter(|c| matches!(s(c, "verdict").as_str(), "leak" | "inconclusive"))
                .map(|c| {
                    format!(
                        "{} as {}: {}{}",
                        s(c, "command"),
                        s(c, "role"),
                        s(c, "verdict"),
                        reason_suffix(&s(c, "reason"))
                    )
                })
                .collect();
            let verdict = s(t, "verdict");
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                cell(short(&s(t, "table"))),
                if verdict == "leak" {
                    "**LEAK**".to_string()
                } else {
                    verdict
                },
                cell(&cmds.join("; "))
            );
        }
        let _ = writeln!(out);
        let leaks: Vec<(String, &Value)> = tables
            .iter()
            .flat_map(|t| {
                let name = s(t, "table");
                items(t, "commands")
                    .filter(|c| s(c, "verdict") == "leak" && !s(c, "sql").is_empty())
                    .map(move |c| (name.clone(), c))
            })
            .collect();
        if !leaks.is_empty() {
            let _ = writeln!(
                out,
                "Reproduce the leaks (each runs as tenant A's user; roll back after):\n"
            );
            for (table, c) in leaks {
                let _ = writeln!(
                    out,
                    "- {} {}:\n\n  ```sql\n  {}\n  ```\n",
                    short(&table),
                    s(c, "command"),
                    s(c, "sql").trim().replace('\n', "\n  ")
                );
            }
        }
    }
    let cascades = array(p, "cascades");
    if !cascades.is_empty() {
        let _ = writeln!(
            out,
            "Cascade proof (deleting tenant B and its user as the owner):\n"
        );
        for c in &cascades {
            let err = s(c, "error");
            let left: Vec<String> = items(c, "leftovers")
                .map(|l| {
                    format!(
                        "{}.{}: {} rows",
                        short(&s(l, "table")),
                        s(l, "column"),
                        s(l, "rows")
                    )
                })
                .collect();
            let verdict = if !err.is_empty() {
                format!("**the delete failed**: {err}")
            } else if left.is_empty() {
                "deleted; nothing left pointing at it".to_string()
            } else {
                format!("deleted; **left behind**: {}", left.join(", "))
            };
            let _ = writeln!(out, "- `{}`: {verdict}", s(c, "origin"));
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "---\n");
}

fn scan(out: &mut String, report: &Report) {
    let Some(sc) = section(
        out,
        "DATA SCAN",
        report.scan.as_ref(),
        "Not run. With `--scan-data`, dbaudit reads every table once and counts orphaned references, rows without a tenant, cross-tenant references and values out of range (counts and a few keys, never row contents).",
    ) else {
        return;
    };
    if let Some(t) = sc.get("totals") {
        let sample = s(sc, "sample_percent");
        let _ = writeln!(
            out,
            "Scanned {} of {} tables ({} rows) in {} ms over {} connections{}.{}\n",
            s(t, "scanned"),
            s(t, "tables"),
            s(t, "rows"),
            s(sc, "elapsed_ms"),
            s(sc, "connections"),
            if sample.is_empty() { String::new() } else { format!(", sampling {sample}% of large tables") },
            match t.get("not_scanned").and_then(Value::as_u64) {
                Some(n) if n > 0 => format!(" **{n} tables were not scanned** (listed below): they are not known to be clean."),
                _ => String::new(),
            }
        );
    }
    let tables = array(sc, "tables");
    // Problems come from the data findings (the scan's table entries list the checks run).
    let problems_of = |table: &str| -> Vec<String> {
        report
            .findings
            .iter()
            .filter(|f| f.category == Category::Data)
            .filter(|f| f.qualified_table().as_deref() == Some(table))
            .map(|f| {
                let rows = f
                    .evidence
                    .get("rows")
                    .and_then(Value::as_u64)
                    .map(|n| format!(": {n} row{}", if n == 1 { "" } else { "s" }))
                    .unwrap_or_default();
                match &f.column {
                    Some(c) => format!("{} on {c}{rows}", f.rule),
                    None => format!("{}{rows}", f.rule),
                }
            })
            .collect()
    };
    let interesting: Vec<(&Value, Vec<String>)> = tables
        .iter()
        .map(|t| (t, problems_of(&s(t, "table"))))
        .filter(|(t, problems)| {
            (s(t, "status") != "scanned" && s(t, "status") != "ok") || !problems.is_empty()
        })
        .collect();
    if !interesting.is_empty() {
        let _ = writeln!(
            out,
            "| Table | Status | Rows | Problems |\n|---|:---:|---:|---|"
        );
        for (t, problems) in interesting {
            let _ = writeln!(
                out,
                "| {} | {}{} | {} | {} |",
                cell(short(&s(t, "table"))),
                cell(&s(t, "status")),
                cell(&reason_suffix(&s(t, "reason"))),
                s(t, "rows"),
                cell(&problems.join("; "))
            );
        }
        let _ = writeln!(out);
    } else if !tables.is_empty() {
        let _ = writeln!(out, "Every scanned table passed every check.\n");
    }
    let _ = writeln!(out, "---\n");
}

fn code(out: &mut String, report: &Report) {
    let _ = writeln!(out, "## CODE CHECKS\n");
    let fs: Vec<&Finding> = report
        .counted()
        .filter(|f| f.category == Category::Code)
        .collect();
    if fs.is_empty() {
        if let Some(c) = &report.code {
            let _ = writeln!(
                out,
                "Checked {} source files ({} ms): no problem found{}.\n\n---\n",
                s(c, "files_scanned"),
                s(c, "elapsed_ms"),
                match c.get("skipped").and_then(Value::as_array) {
                    Some(v) if !v.is_empty() =>
                        format!("; {} files could not be parsed and were skipped", v.len()),
                    _ => String::new(),
                }
            );
        } else {
            let _ = writeln!(
                out,
                "Not run (or nothing found). With `--code DIR`, dbaudit checks the application's queries against the schema: tables and columns that do not exist, service-role clients in browser code, tenant filters missing from queries. Findings carry file and line.\n\n---\n"
            );
        }
        return;
    }
    if let Some(c) = &report.code {
        let _ = writeln!(
            out,
            "Checked {} source files ({} ms).\n",
            s(c, "files_scanned"),
            s(c, "elapsed_ms")
        );
    }
    let _ = writeln!(
        out,
        "| Severity | Where | Rule | Finding |\n|---|---|---|---|"
    );
    for f in fs {
        let _ = writeln!(
            out,
            "| {} | {} | `{}` | {} |",
            sev_title(f.severity),
            cell(&code_span(&f.location())),
            f.rule,
            cell(&f.message)
        );
    }
    let _ = writeln!(
        out,
        "\nEach is also listed with its fix among the issues above.\n\n---\n"
    );
}

fn fix_migration(out: &mut String, report: &Report, m: &dbaudit_fix::FixMigration) {
    use dbaudit_fix::Phase;
    let _ = writeln!(out, "## FIX MIGRATION\n");
    if m.is_empty() {
        let _ = writeln!(out, "No finding comes with a fix.\n\n---\n");
        return;
    }
    let _ = writeln!(
        out,
        "`--fix-out FILE` writes one SQL migration that fixes **{} findings** ({} safe, {} to review), ordered so it applies. Every statement is preceded by a comment naming the finding it fixes (rule, location, fingerprint) and whether it is safe.\n",
        m.entries.len(),
        m.safe(),
        m.review()
    );
    let _ = writeln!(out, "**What it does:**\n");
    let mut i = 0;
    for p in Phase::ALL {
        let n = m.statements_in(p);
        if n == 0 {
            continue;
        }
        let mut rules: BTreeMap<&str, usize> = BTreeMap::new();
        for e in m.entries_in(p) {
            *rules.entry(e.rule.as_str()).or_default() += 1;
        }
        let rules: Vec<String> = rules
            .iter()
            .map(|(r, n)| {
                if *n > 1 {
                    format!("`{r}` ×{n}")
                } else {
                    format!("`{r}`")
                }
            })
            .collect();
        i += 1;
        let _ = writeln!(
            out,
            "{i}. **{}**: {} for {}",
            p.title(),
            plural(n, "statement", "statements"),
            rules.join(", ")
        );
    }
    let _ = writeln!(out);
    if let Some(v) = Verification::of(report) {
        if v.applied {
            let _ = writeln!(
                out,
                "**Verified:** dbaudit rebuilt the database, applied the migration and re-audited: it cleared **{} of {} findings with a fix ({}%)**.",
                v.cleared,
                v.with_fix,
                v.percent()
            );
            if v.with_cleanup {
                let _ = writeln!(
                    out,
                    "\nIt applied only with its phase-1 cleanup enabled: as written (cleanup commented out) it stops at {}. Review the cleanup, uncomment it, then apply.",
                    v.error
                );
            }
            if !v.remaining.is_empty() {
                let _ = writeln!(out, "\nStill reported after the fix (their fix needs a decision, data work or a hand-written step):\n");
                for r in &v.remaining {
                    let _ = writeln!(out, "- `{}` {}", s(r, "rule"), code_span(&s(r, "location")));
                }
            }
            if !v.new.is_empty() {
                let _ = writeln!(out, "\nNew after the fix (follow-ups):\n");
                for r in &v.new {
                    let _ = writeln!(out, "- `{}` {}", s(r, "rule"), code_span(&s(r, "location")));
                }
            }
            let _ = writeln!(out);
        } else {
            let _ = writeln!(
                out,
                "**Not verified:** applying it to a fresh build failed: {}\n",
                v.error
            );
        }
    }
    let _ = writeln!(
        out,
        "**How to run:** review every statement marked `[review]`, then\n\n```bash\ndbaudit audit --migrations {} --fix-out fix.sql\n# as a new migration file (Supabase: supabase/migrations/<timestamp>_dbaudit_fixes.sql), or directly:\npsql \"$DATABASE_URL\" -v ON_ERROR_STOP=1 -f fix.sql\n```\n",
        if report.source.kind == "migrations" { report.source.target.as_str() } else { "<path>" }
    );
    let _ = writeln!(
        out,
        "It has no `BEGIN`/`COMMIT`: `CREATE INDEX CONCURRENTLY` cannot run inside a transaction.\n"
    );
    let _ = writeln!(
        out,
        "<details>\n<summary>The migration ({} statements)</summary>\n\n```sql\n{}\n```\n\n</details>\n\n---\n",
        m.statements.values().sum::<usize>(),
        m.sql.trim_end()
    );
}

fn known(out: &mut String, report: &Report) {
    if report.known_findings().next().is_none() {
        return;
    }
    let _ = writeln!(out, "## KNOWN FINDINGS (baseline)\n");
    let _ = writeln!(
        out,
        "In the baseline file, so not counted in the score or `--fail-on`. Fix them or keep them there on purpose.\n"
    );
    let _ = writeln!(
        out,
        "| Severity | Rule | Location | Fingerprint |\n|---|---|---|---|"
    );
    for f in report.known_findings() {
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | `{}` |",
            sev_title(f.severity),
            f.rule,
            cell(&code_span(&f.location())),
            f.fingerprint
        );
    }
    let _ = writeln!(out, "\n---\n");
}

fn verification(out: &mut String, ov: &Overview) {
    if ov.verification.is_empty() {
        return;
    }
    let _ = writeln!(out, "## VERIFICATION QUERIES\n");
    let _ = writeln!(
        out,
        "Run these against the database (read-only) to see the problems for yourself, and again after the fix.\n"
    );
    for (i, q) in ov.verification.iter().enumerate() {
        let _ = writeln!(
            out,
            "{}. **{}** — expected: {}\n\n   ```sql\n   {}\n   ```\n",
            i + 1,
            q.title,
            q.expect,
            q.sql.trim().replace('\n', "\n   ")
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn markdown_report() {
        insta::assert_snapshot!(super::render(
            &crate::sample::report(),
            &crate::sample::rules()
        ));
    }

    #[test]
    fn cells_escape_pipes() {
        assert_eq!(super::cell("a|b\nc"), "a\\|b c");
        assert_eq!(super::code_span("x`y"), "`` x`y ``");
    }
}
