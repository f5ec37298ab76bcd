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
    Audit(AuditArgs),
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

    #[command(flatten)]
    pub output: OutputArgs,
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
