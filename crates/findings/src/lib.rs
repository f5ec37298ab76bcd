//! The `Finding` every dbaudit check emits, and the metadata that describes a rule.
//!
//! This crate sits between analysis and the writers: rules produce [`Finding`]s, writers render
//! them. Nothing here knows about connections or catalogs.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How bad a finding is. Ordered: `Info < Low < Moderate < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Moderate,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Moderate,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Moderate => "moderate",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Some(Severity::Info),
            "low" => Some(Severity::Low),
            "moderate" | "medium" => Some(Severity::Moderate),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The rule families of RULES.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Integrity,
    Rls,
    Security,
    Performance,
    Data,
    Probe,
    Migrations,
    Code,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Integrity => "integrity",
            Category::Rls => "rls",
            Category::Security => "security",
            Category::Performance => "performance",
            Category::Data => "data",
            Category::Probe => "probe",
            Category::Migrations => "migrations",
            Category::Code => "code",
        }
    }

    /// Human title, as used in reports.
    pub fn title(self) -> &'static str {
        match self {
            Category::Integrity => "Integrity",
            Category::Rls => "Row-level security",
            Category::Security => "Security",
            Category::Performance => "Performance",
            Category::Data => "Data",
            Category::Probe => "Proof",
            Category::Migrations => "Migrations",
            Category::Code => "Code",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a rule needs to run (RULES.md "Source").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleSource {
    /// The catalog alone: works on migrations.
    Schema,
    /// Needs `--scan-data`.
    Data,
    /// Needs `--probe`.
    Probe,
    /// Needs `--code`.
    Code,
    /// Needs a live database's statistics.
    Stats,
    /// Found while applying migrations.
    Apply,
}

impl RuleSource {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleSource::Schema => "schema",
            RuleSource::Data => "data",
            RuleSource::Probe => "probe",
            RuleSource::Code => "code",
            RuleSource::Stats => "stats",
            RuleSource::Apply => "apply",
        }
    }
}

/// Static description of a rule: what `dbaudit rules` lists and `dbaudit explain` prints.
#[derive(Debug, Clone, Copy)]
pub struct RuleMeta {
    /// Stable code, e.g. `RLS001`. Never reused.
    pub code: &'static str,
    /// Stable kebab-case name, e.g. `rls-disabled`. Never renamed.
    pub name: &'static str,
    pub category: Category,
    pub default_severity: Severity,
    pub source: RuleSource,
    /// One line: what the rule finds.
    pub summary: &'static str,
    /// Markdown with the sections `## What it does`, `## Why it matters`, `## Example`, `## Fix`.
    pub docs: &'static str,
}

impl RuleMeta {
    /// Start a finding of this rule at its default severity.
    pub fn finding(&'static self, message: impl Into<String>) -> Finding {
        Finding {
            rule: self.name.to_string(),
            code: self.code.to_string(),
            severity: self.default_severity,
            category: self.category,
            schema: None,
            table: None,
            column: None,
            policy: None,
            function: None,
            object: None,
            file: None,
            line: None,
            message: message.into(),
            impact: String::new(),
            evidence: serde_json::Map::new(),
            fix: None,
            fingerprint: String::new(),
        }
    }

    /// A docs section by its heading (`What it does`, `Why it matters`, `Example`, `Fix`).
    pub fn docs_section(&self, heading: &str) -> Option<&'static str> {
        let marker = format!("## {heading}");
        let start = self.docs.find(&marker)? + marker.len();
        let rest = &self.docs[start..];
        let end = rest.find("\n## ").unwrap_or(rest.len());
        Some(rest[..end].trim())
    }
}

/// Whether applying a fix can change what the application sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FixSafety {
    /// No behaviour change: an index, a validated constraint the data already satisfies.
    Safe,
    /// Changes behaviour or may fail on existing data: read it before applying.
    Review,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    pub sql: String,
    pub safety: FixSafety,
}

/// One thing dbaudit found. The JSON shape is a contract (docs/json-output.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: String,
    pub code: String,
    pub severity: Severity,
    pub category: Category,
    pub schema: Option<String>,
    pub table: Option<String>,
    pub column: Option<String>,
    pub policy: Option<String>,
    pub function: Option<String>,
    /// Another object the finding is about, when the fields above do not name it: an index,
    /// an extension, a sequence, a probed command, a code handler. Part of the fingerprint.
    #[serde(default)]
    pub object: Option<String>,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub message: String,
    pub impact: String,
    pub evidence: serde_json::Map<String, serde_json::Value>,
    pub fix: Option<Fix>,
    pub fingerprint: String,
}

impl Finding {
    pub fn severity(mut self, s: Severity) -> Self {
        self.severity = s;
        self
    }
    pub fn table(mut self, schema: &str, table: &str) -> Self {
        self.schema = Some(schema.to_string());
        self.table = Some(table.to_string());
        self
    }
    pub fn column(mut self, column: impl Into<String>) -> Self {
        self.column = Some(column.into());
        self
    }
    pub fn policy(mut self, policy: impl Into<String>) -> Self {
        self.policy = Some(policy.into());
        self
    }
    pub fn function(mut self, function: impl Into<String>) -> Self {
        self.function = Some(function.into());
        self
    }
    pub fn object(mut self, object: impl Into<String>) -> Self {
        self.object = Some(object.into());
        self
    }
    pub fn file(mut self, file: impl Into<String>, line: Option<u32>) -> Self {
        self.file = Some(file.into());
        self.line = line;
        self
    }
    pub fn impact(mut self, impact: impl Into<String>) -> Self {
        self.impact = impact.into();
        self
    }
    pub fn evidence(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.evidence.insert(key.to_string(), value.into());
        self
    }
    pub fn fix(mut self, sql: impl Into<String>, safety: FixSafety) -> Self {
        self.fix = Some(Fix {
            sql: sql.into(),
            safety,
        });
        self
    }

    /// `schema.table` (or just the table), for messages and grouping.
    pub fn qualified_table(&self) -> Option<String> {
        match (&self.schema, &self.table) {
            (Some(s), Some(t)) => Some(format!("{s}.{t}")),
            (None, Some(t)) => Some(t.clone()),
            _ => None,
        }
    }

    /// Where the finding is, for one-line displays: `public.t.col`, `policy "p" on public.t`,
    /// `file:line`.
    pub fn location(&self) -> String {
        if let Some(file) = &self.file {
            return match self.line {
                Some(l) => format!("{file}:{l}"),
                None => file.clone(),
            };
        }
        if let Some(func) = &self.function {
            return match &self.schema {
                Some(s) if !func.contains('.') => format!("{s}.{func}"),
                _ => func.clone(),
            };
        }
        let table = self.qualified_table().unwrap_or_default();
        if table.is_empty() {
            if let Some(o) = &self.object {
                return o.clone();
            }
        }
        if let Some(p) = &self.policy {
            return format!("policy \"{p}\" on {table}");
        }
        match &self.column {
            Some(c) => format!("{table}.{c}"),
            None => table,
        }
    }

    /// Fill `fingerprint` with a stable hash of the rule and the object it is about. Messages,
    /// severities and evidence do not take part, so a baseline survives wording changes.
    pub fn with_fingerprint(mut self) -> Self {
        let mut parts = vec![
            self.rule.as_str(),
            self.schema.as_deref().unwrap_or(""),
            self.table.as_deref().unwrap_or(""),
            self.column.as_deref().unwrap_or(""),
            self.policy.as_deref().unwrap_or(""),
            self.function.as_deref().unwrap_or(""),
            self.file.as_deref().unwrap_or(""),
        ];
        // Only when set, so fingerprints of findings without one stay what they were.
        if let Some(o) = &self.object {
            parts.push(o);
        }
        self.fingerprint = fingerprint(&parts);
        self
    }
}

/// Stable 16-hex-digit hash of the given parts.
pub fn fingerprint(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..8])
}

/// Sort findings for output: most severe first, then by location, then rule.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.location().cmp(&b.location()))
            .then_with(|| a.line.cmp(&b.line))
            .then_with(|| a.message.cmp(&b.message))
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    static META: RuleMeta = RuleMeta {
        code: "TST001",
        name: "test-rule",
        category: Category::Integrity,
        default_severity: Severity::High,
        source: RuleSource::Schema,
        summary: "test",
        docs: "## What it does\nFinds.\n\n## Why it matters\nBecause.\n\n## Fix\nDo it.\n",
    };

    #[test]
    fn fingerprint_ignores_message_and_severity() {
        let a = META.finding("one").table("public", "t").with_fingerprint();
        let b = META
            .finding("two")
            .severity(Severity::Low)
            .table("public", "t")
            .with_fingerprint();
        let c = META.finding("one").table("public", "u").with_fingerprint();
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_ne!(a.fingerprint, c.fingerprint);
        assert_eq!(a.fingerprint.len(), 16);
    }

    #[test]
    fn docs_sections_are_found() {
        assert_eq!(META.docs_section("Why it matters"), Some("Because."));
        assert_eq!(META.docs_section("Fix"), Some("Do it."));
        assert_eq!(META.docs_section("Example"), None);
    }

    #[test]
    fn severity_orders_and_parses() {
        assert!(Severity::Critical > Severity::High);
        assert_eq!(Severity::parse("MEDIUM"), Some(Severity::Moderate));
        assert_eq!(Severity::parse("nope"), None);
    }
}
