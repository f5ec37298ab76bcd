//! Command-line interface.

use clap::{Args, Parser, Subcommand, ValueEnum};
use dbaudit_findings::Severity;
use std::path::PathBuf;

/// Audits the PostgreSQL database behind a multi-tenant SaaS backend: tenant isolation, RLS,
/// foreign keys, indexes, secrets.
///
/// Point it at a migrations folder (it builds the database in a throwaway PostgreSQL) or at a
/// live database (read-only). Run with no flags inside a repository to find the migrations.
#[derive(Debug, Parser)]
#[command(
    name = "dbaudit",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit migrations or a live database and print the report.
    #[command(after_help = AUDIT_EXAMPLES)]
    Audit(Box<AuditArgs>),
    /// List every rule: code, name, category, default severity, what it needs.
    Rules {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Show a rule's documentation: what it does, why it matters, an example and the fix.
    Explain {
        /// Rule name (`rls-disabled`) or code (`RLS001`).
        rule: String,
    },
    /// Build and audit a bundled example project with planted defects. Nothing to set up.
    Demo {
        #[command(flatten)]
        output: OutputArgs,
    },
}

const AUDIT_EXAMPLES: &str = "\
Examples:
  dbaudit audit                                  find supabase/migrations, drizzle/, prisma/migrations, ... here
  dbaudit audit --migrations supabase/           build from migrations in a throwaway PostgreSQL
  dbaudit audit --db \"$DATABASE_URL\"             audit a live database, read-only
  dbaudit audit --format md --out audit.md       write the Markdown report
  dbaudit audit --format json --fail-on critical CI: exit 1 only on critical findings
  dbaudit audit --scan-data --probe              also scan rows and prove tenant isolation
  dbaudit audit --code src/ --fix-out fix.sql    check app code; write (and verify) a fix migration
  dbaudit audit --format sarif --out dbaudit.sarif --baseline .dbaudit-baseline.json

Exit status: 0 nothing at or above --fail-on, 1 findings at or above it, 2 the audit could not run.";

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Migrations to build the database from: a project root or a migrations folder (Supabase,
    /// Drizzle, Prisma, Flyway, dbmate, golang-migrate/sqlx, or plain ordered .sql files).
    #[arg(long, value_name = "PATH", conflicts_with = "db")]
    pub migrations: Option<PathBuf>,

    /// Live database to audit, read-only: a URL (postgres://user@host/db?sslmode=require) or
    /// key=value string. Defaults to $DATABASE_URL when neither --db nor --migrations is given.
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,

    /// SQL file loaded after the migrations (repeatable).
    #[arg(long, value_name = "FILE")]
    pub seed: Vec<PathBuf>,

    /// Provide the Supabase environment even if the migrations do not seem to need it.
    #[arg(long)]
    pub supabase: bool,

    /// Audit only these schemas (repeatable). Default: every schema not managed by
    /// Supabase or PostgreSQL.
    #[arg(long = "schema", value_name = "NAME")]
    pub schemas: Vec<String>,

    /// Roles untrusted clients act as (repeatable). Default: Supabase's anon and authenticated
    /// when they exist.
    #[arg(long = "api-role", value_name = "ROLE")]
    pub api_roles: Vec<String>,

    /// Configuration file (default: the first dbaudit.toml found walking up from the audited
    /// path or the current directory).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Seconds to wait for a live database to accept the connection.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub connect_timeout: u64,

    /// Seconds any one catalog query may run on a live database.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub statement_timeout: u64,

    /// Also scan the rows: orphans, NULL tenants, cross-tenant references, soft-deleted
    /// parents, values a recommended constraint would reject. Read-only; counts and sample keys
    /// only, never row contents.
    #[arg(long, help_heading = "Data scan")]
    pub scan_data: bool,

    /// Scan only about PERCENT of the rows of tables above a million rows (TABLESAMPLE
    /// SYSTEM); the report says which tables were sampled.
    #[arg(long, value_name = "PERCENT", requires = "scan_data", value_parser = parse_percent, help_heading = "Data scan")]
    pub sample: Option<f64>,

    /// Seconds one table's scan may run before it is reported as not scanned.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 60,
        help_heading = "Data scan"
    )]
    pub scan_timeout: u64,

    /// Prove tenant isolation: act as a member of tenant A (real role, real JWT claims) and try
    /// to read and write tenant B's rows, then delete a tenant and a user and count what is left.
    /// Everything runs in one transaction that is rolled back.
    #[arg(long, help_heading = "Isolation probe")]
    pub probe: bool,

    /// Allow --probe on a live database (--db). The probe's transaction is rolled back, but
    /// sequences still advance and triggers may act outside it (HTTP calls, NOTIFY, ...):
    /// use a staging copy when you can.
    #[arg(long, requires = "probe", help_heading = "Isolation probe")]
    pub allow_live_probe: bool,

    /// Application code to check against the schema (repeatable): TypeScript, JavaScript and
    /// Python. Default when auditing a repository found from the current directory: its
    /// source folders (src/, app/, backend/, ...).
    #[arg(long = "code", value_name = "DIR", help_heading = "Code")]
    pub code: Vec<PathBuf>,

    /// Do not check application code, even the folders found automatically.
    #[arg(long, conflicts_with = "code", help_heading = "Code")]
    pub no_code: bool,

    /// Write a SQL migration that fixes what can be fixed. With --migrations, dbaudit rebuilds
    /// the database, applies the fix, audits again and reports what it cleared.
    #[arg(long, value_name = "FILE", help_heading = "Fixes and CI")]
    pub fix_out: Option<PathBuf>,

    /// Findings listed in this baseline file are shown as known and do not count for --fail-on.
    #[arg(long, value_name = "FILE", help_heading = "Fixes and CI")]
    pub baseline: Option<PathBuf>,

    /// Write every finding of this run to a baseline file (for --baseline in later runs).
    #[arg(long, value_name = "FILE", help_heading = "Fixes and CI")]
    pub write_baseline: Option<PathBuf>,

    #[command(flatten)]
    pub output: OutputArgs,
}

fn parse_percent(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("{s:?} is not a number"))?;
    if v > 0.0 && v <= 100.0 {
        Ok(v)
    } else {
        Err(format!(
            "{v} is not a percentage between 0 (excluded) and 100"
        ))
    }
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Write the report to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Exit with status 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = FailOn::High)]
    pub fail_on: FailOn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Short coloured summary for a terminal.
    Text,
    /// The JSON document (docs/json-output.md).
    Json,
    /// Markdown report.
    Md,
    /// SARIF 2.1.0, for code-scanning uploads.
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Critical,
    High,
    Moderate,
    Low,
    Info,
    /// Never fail on findings.
    Never,
}

impl FailOn {
    /// The threshold severity; `None` for never.
    pub fn severity(self) -> Option<Severity> {
        match self {
            FailOn::Critical => Some(Severity::Critical),
            FailOn::High => Some(Severity::High),
            FailOn::Moderate => Some(Severity::Moderate),
            FailOn::Low => Some(Severity::Low),
            FailOn::Info => Some(Severity::Info),
            FailOn::Never => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn migrations_and_db_conflict() {
        let r = Cli::try_parse_from([
            "dbaudit",
            "audit",
            "--migrations",
            "x",
            "--db",
            "postgres://h/d",
        ]);
        assert!(r.is_err());
    }
}
