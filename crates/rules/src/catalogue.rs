//! The rule catalogue of RULES.md: every rule dbaudit has a name and code for, implemented
//! or not. Names and codes are contracts: never rename or reuse one.
//!
//! Generated from RULES.md; `tests::catalogue_matches_rules_md` keeps the two in step.

use dbaudit_findings::{Category, RuleSource, Severity};

#[derive(Debug, Clone, Copy)]
pub struct CatalogueEntry {
    pub code: &'static str,
    pub name: &'static str,
    pub category: Category,
    pub default_severity: Severity,
    pub source: RuleSource,
    pub summary: &'static str,
}

pub const CATALOGUE: &[CatalogueEntry] = &[
    CatalogueEntry { code: "INT001", name: "missing-primary-key", category: Category::Integrity, default_severity: Severity::Moderate, source: RuleSource::Schema, summary: "table without a primary key" },
    CatalogueEntry { code: "INT002", name: "missing-foreign-key", category: Category::Integrity, default_severity: Severity::High, source: RuleSource::Schema, summary: "column that names another table's key (`<thing>_id` to `thing`/`things`, `user_id` to the users or `auth.users` table, tenant column to the tenant root) with no FK; types compatible" },
    CatalogueEntry { code: "INT003", name: "foreign-key-type-mismatch", category: Category::Integrity, default_severity: Severity::High, source: RuleSource::Schema, summary: "referencing column's type differs from the referenced key's (text vs uuid: no FK can exist; int vs bigint: FK exists but overflows)" },
    CatalogueEntry { code: "INT004", name: "foreign-key-not-validated", category: Category::Integrity, default_severity: Severity::Moderate, source: RuleSource::Schema, summary: "FK or CHECK created NOT VALID and never validated" },
    CatalogueEntry { code: "INT005", name: "tenant-column-nullable", category: Category::Integrity, default_severity: Severity::High, source: RuleSource::Schema, summary: "tenant column allows NULL" },
    CatalogueEntry { code: "INT006", name: "tenant-foreign-key-missing", category: Category::Integrity, default_severity: Severity::High, source: RuleSource::Schema, summary: "tenant column with no FK to the tenant root" },
    CatalogueEntry { code: "INT007", name: "cascade-delete-blocked", category: Category::Integrity, default_severity: Severity::High, source: RuleSource::Schema, summary: "FK on the delete path of the tenant root or of a user with NO ACTION/RESTRICT: deleting a tenant or user fails (or needs hand-ordered deletes)" },
    CatalogueEntry { code: "INT008", name: "updated-at-without-trigger", category: Category::Integrity, default_severity: Severity::Low, source: RuleSource::Schema, summary: "`updated_at` column with no trigger that sets it" },
    CatalogueEntry { code: "INT009", name: "missing-check-constraint", category: Category::Integrity, default_severity: Severity::Low, source: RuleSource::Schema, summary: "column whose name implies a range (probability, percent, rate 0–100; amount, price, value, quantity, count >= 0) with no CHECK" },
    CatalogueEntry { code: "INT010", name: "cross-tenant-reference-possible", category: Category::Integrity, default_severity: Severity::Low, source: RuleSource::Schema, summary: "FK between two tenant-scoped tables that does not include the tenant column, so a row can point at another tenant's row" },
    CatalogueEntry { code: "RLS001", name: "rls-disabled", category: Category::Rls, default_severity: Severity::Critical, source: RuleSource::Schema, summary: "API-exposed table with RLS off" },
    CatalogueEntry { code: "RLS002", name: "rls-enabled-no-policy", category: Category::Rls, default_severity: Severity::Info, source: RuleSource::Schema, summary: "RLS on, no policy: every API query is denied" },
    CatalogueEntry { code: "RLS003", name: "policy-exists-rls-disabled", category: Category::Rls, default_severity: Severity::High, source: RuleSource::Schema, summary: "policies written but RLS off, so none applies" },
    CatalogueEntry { code: "RLS004", name: "permissive-policy", category: Category::Rls, default_severity: Severity::Critical, source: RuleSource::Schema, summary: "policy for API roles whose USING or WITH CHECK is always true (or only checks sign-in) on a tenant-scoped table or on INSERT/UPDATE/DELETE of any exposed table; SELECT-true on a global table is fine" },
    CatalogueEntry { code: "RLS005", name: "redundant-policy", category: Category::Rls, default_severity: Severity::Low, source: RuleSource::Schema, summary: "policy whose effect another policy of the same table already grants (FOR ALL covering FOR SELECT with the same USING)" },
    CatalogueEntry { code: "RLS006", name: "tenant-policy-missing-tenant-check", category: Category::Rls, default_severity: Severity::Critical, source: RuleSource::Schema, summary: "tenant-scoped table with a policy that constrains neither the tenant column nor a parent reference nor the row owner" },
    CatalogueEntry { code: "RLS007", name: "inconsistent-tenant-claim", category: Category::Rls, default_severity: Severity::High, source: RuleSource::Schema, summary: "policies derive the tenant from different sources (claim `org_id` here, `organization_id` there, a helper function elsewhere)" },
    CatalogueEntry { code: "RLS008", name: "policy-uses-user-metadata", category: Category::Rls, default_severity: Severity::Critical, source: RuleSource::Schema, summary: "policy reads `user_metadata` / `raw_user_meta_data`, which every user can change for themselves" },
    CatalogueEntry { code: "RLS009", name: "rls-auth-initplan", category: Category::Rls, default_severity: Severity::Moderate, source: RuleSource::Schema, summary: "`auth.uid()`, `auth.jwt()`, `current_setting()` or a STABLE helper evaluated per row instead of once (`(select auth.uid())`)" },
    CatalogueEntry { code: "RLS010", name: "multiple-permissive-policies", category: Category::Rls, default_severity: Severity::Low, source: RuleSource::Schema, summary: "several permissive policies for the same role and command: each is evaluated for every row" },
    CatalogueEntry { code: "RLS011", name: "view-bypasses-rls", category: Category::Rls, default_severity: Severity::Critical, source: RuleSource::Schema, summary: "view over an RLS table, reachable by API roles, without `security_invoker` (runs as its owner)" },
    CatalogueEntry { code: "RLS012", name: "security-definer-function-exposed", category: Category::Rls, default_severity: Severity::High, source: RuleSource::Schema, summary: "SECURITY DEFINER function in an exposed schema, executable by API roles, that reads tenant-scoped tables" },
    CatalogueEntry { code: "RLS013", name: "function-search-path-mutable", category: Category::Rls, default_severity: Severity::Moderate, source: RuleSource::Schema, summary: "function (SECURITY DEFINER ones above all) without a fixed `search_path`; plain SQL functions left unpinned so they can be inlined are `low`" },
    CatalogueEntry { code: "RLS014", name: "auth-users-exposed", category: Category::Rls, default_severity: Severity::Critical, source: RuleSource::Schema, summary: "view or materialized view over `auth.users` readable by API roles" },
    CatalogueEntry { code: "RLS015", name: "policy-null-auth-disjunct", category: Category::Rls, default_severity: Severity::High, source: RuleSource::Schema, summary: "policy of the form `auth.uid() IS NULL OR ...`, which lets anonymous callers through" },
    CatalogueEntry { code: "RLS016", name: "materialized-view-in-api", category: Category::Rls, default_severity: Severity::Moderate, source: RuleSource::Schema, summary: "materialized view (no RLS possible) readable by API roles" },
    CatalogueEntry { code: "SEC001", name: "plaintext-secret-column", category: Category::Security, default_severity: Severity::High, source: RuleSource::Schema, summary: "text column that holds a secret by its name (api_key, secret, token, password, private_key, ...) and is not hashed or encrypted (`*_hash`, `*_encrypted`, bytea, `hashed_*`); ids such as `stripe_customer_id` are not secrets" },
    CatalogueEntry { code: "SEC002", name: "auth-users-link-missing", category: Category::Security, default_severity: Severity::Moderate, source: RuleSource::Schema, summary: "Supabase profile table (`users`/`profiles` keyed by the auth user id) with no FK to `auth.users` ON DELETE CASCADE" },
    CatalogueEntry { code: "SEC003", name: "anon-write-grant", category: Category::Security, default_severity: Severity::High, source: RuleSource::Schema, summary: "INSERT/UPDATE/DELETE granted to anon or PUBLIC on a table without RLS" },
    CatalogueEntry { code: "SEC004", name: "extension-in-public", category: Category::Security, default_severity: Severity::Low, source: RuleSource::Schema, summary: "extension installed in the API-exposed `public` schema" },
    CatalogueEntry { code: "SEC005", name: "public-bucket-allows-listing", category: Category::Security, default_severity: Severity::Moderate, source: RuleSource::Schema, summary: "public storage bucket whose `storage.objects` SELECT policy lets anyone list every file" },
    CatalogueEntry { code: "SEC006", name: "foreign-table-in-api", category: Category::Security, default_severity: Severity::Moderate, source: RuleSource::Schema, summary: "foreign table (no RLS) readable by API roles" },
    CatalogueEntry { code: "PERF001", name: "unindexed-foreign-key", category: Category::Performance, default_severity: Severity::Moderate, source: RuleSource::Schema, summary: "FK columns that are not the leading columns of any valid, non-partial index" },
    CatalogueEntry { code: "PERF002", name: "tenant-column-unindexed", category: Category::Performance, default_severity: Severity::Moderate, source: RuleSource::Schema, summary: "tenant-scoped table whose tenant column leads no index: every RLS-filtered query scans" },
    CatalogueEntry { code: "PERF003", name: "duplicate-index", category: Category::Performance, default_severity: Severity::Low, source: RuleSource::Schema, summary: "index identical to another" },
    CatalogueEntry { code: "PERF004", name: "redundant-index", category: Category::Performance, default_severity: Severity::Low, source: RuleSource::Schema, summary: "index whose columns are a leading prefix of another index with the same predicate" },
    CatalogueEntry { code: "PERF005", name: "unused-index", category: Category::Performance, default_severity: Severity::Info, source: RuleSource::Stats, summary: "index never scanned since statistics reset (not PK/unique)" },
    CatalogueEntry { code: "PERF006", name: "invalid-index", category: Category::Performance, default_severity: Severity::Moderate, source: RuleSource::Schema, summary: "index left invalid by a failed CREATE INDEX CONCURRENTLY" },
    CatalogueEntry { code: "PERF007", name: "sequence-near-overflow", category: Category::Performance, default_severity: Severity::High, source: RuleSource::Stats, summary: "sequence or integer key past 75% of its type's range" },
    CatalogueEntry { code: "DATA001", name: "orphan-rows", category: Category::Data, default_severity: Severity::High, source: RuleSource::Data, summary: "rows whose reference (declared NOT VALID FK, or inferred relation without FK, type-mismatched ones included) matches no parent; count and sample keys" },
    CatalogueEntry { code: "DATA002", name: "null-tenant-rows", category: Category::Data, default_severity: Severity::High, source: RuleSource::Data, summary: "rows with NULL in the tenant column" },
    CatalogueEntry { code: "DATA003", name: "cross-tenant-reference", category: Category::Data, default_severity: Severity::Critical, source: RuleSource::Data, summary: "row whose tenant differs from the tenant of the row it references" },
    CatalogueEntry { code: "DATA004", name: "soft-deleted-parent-referenced", category: Category::Data, default_severity: Severity::Moderate, source: RuleSource::Data, summary: "live row (deleted_at IS NULL) referencing a soft-deleted parent" },
    CatalogueEntry { code: "DATA005", name: "check-violations", category: Category::Data, default_severity: Severity::Moderate, source: RuleSource::Data, summary: "rows that a recommended CHECK (INT009) or type conversion (INT003) would reject: the fix cannot apply before they are cleaned" },
    CatalogueEntry { code: "PROBE001", name: "rls-isolation-leak", category: Category::Probe, default_severity: Severity::Critical, source: RuleSource::Probe, summary: "acting as a member of tenant A (real role, real JWT claims), a row of tenant B was read, inserted, updated, deleted, or a row of A was moved to B; the report carries the SQL that reproduces it" },
    CatalogueEntry { code: "PROBE002", name: "cascade-leftovers", category: Category::Probe, default_severity: Severity::High, source: RuleSource::Probe, summary: "after deleting a tenant (or a user) inside a rolled-back transaction, rows that pointed at it remain, or the delete failed" },
    CatalogueEntry { code: "PROBE003", name: "probe-inconclusive", category: Category::Probe, default_severity: Severity::Info, source: RuleSource::Probe, summary: "a table the probe could not test, with the reason (e.g. could not create rows, own rows not visible)" },
    CatalogueEntry { code: "MIG001", name: "migration-error", category: Category::Migrations, default_severity: Severity::High, source: RuleSource::Apply, summary: "a migration file failed to apply: file, line, statement, Postgres error and SQLSTATE" },
    CatalogueEntry { code: "CODE001", name: "query-missing-tenant-filter", category: Category::Code, default_severity: Severity::Critical, source: RuleSource::Code, summary: "query on a tenant-scoped table through a client that bypasses RLS (service role, direct connection) with no filter on the tenant column" },
    CatalogueEntry { code: "CODE002", name: "service-key-fallback", category: Category::Code, default_severity: Severity::High, source: RuleSource::Code, summary: "service-role key falling back to the anon key (`SERVICE_ROLE_KEY || ANON_KEY`) or to a literal" },
    CatalogueEntry { code: "CODE003", name: "route-missing-auth", category: Category::Code, default_severity: Severity::High, source: RuleSource::Code, summary: "HTTP handler that touches the database without establishing the caller (no auth check, or proceeds when there is no user)" },
    CatalogueEntry { code: "CODE004", name: "webhook-unverified", category: Category::Code, default_severity: Severity::High, source: RuleSource::Code, summary: "webhook handler that writes without verifying a signature" },
    CatalogueEntry { code: "CODE005", name: "unknown-column-reference", category: Category::Code, default_severity: Severity::High, source: RuleSource::Code, summary: "code references a table or column that does not exist in the schema" },
    CatalogueEntry { code: "CODE006", name: "tenant-id-from-request", category: Category::Code, default_severity: Severity::High, source: RuleSource::Code, summary: "tenant id taken from request body, query string or action argument instead of the session" },
    CatalogueEntry { code: "CODE007", name: "duplicate-db-client", category: Category::Code, default_severity: Severity::Low, source: RuleSource::Code, summary: "database client created outside the shared module" },
    CatalogueEntry { code: "CODE008", name: "multi-write-without-transaction", category: Category::Code, default_severity: Severity::Moderate, source: RuleSource::Code, summary: "handler with several dependent writes and no transaction" },
    CatalogueEntry { code: "CODE009", name: "orm-foreign-key-mismatch", category: Category::Code, default_severity: Severity::High, source: RuleSource::Code, summary: "ORM model (SQLAlchemy, Drizzle, Prisma) declares a reference that differs from the database's FK" },
    CatalogueEntry { code: "CODE010", name: "type-check-suppressed", category: Category::Code, default_severity: Severity::Low, source: RuleSource::Code, summary: "`@ts-ignore` / `# type: ignore` on database access" },
];

/// The catalogue entry of a rule, by name or code.
pub fn entry(name_or_code: &str) -> Option<&'static CatalogueEntry> {
    CATALOGUE
        .iter()
        .find(|e| e.name == name_or_code || e.code.eq_ignore_ascii_case(name_or_code))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RULES.md lives beside the checkout (`../shared`); when it is there, every row of it must
    /// be in the catalogue with the same code, name, severity and source.
    #[test]
    fn catalogue_matches_rules_md() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/RULES.md");
        let Ok(text) = std::fs::read_to_string(path) else {
            eprintln!("RULES.md not found at {path}; skipping the cross-check");
            return;
        };
        let mut rows = 0;
        for line in text.lines() {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            if cells.len() < 6
                || !cells[1]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_uppercase())
            {
                continue;
            }
            let (code, name, sev, source) = (cells[1], cells[2], cells[3], cells[4]);
            if !code.chars().last().is_some_and(|c| c.is_ascii_digit()) {
                continue;
            }
            rows += 1;
            let e = entry(code).unwrap_or_else(|| panic!("{code} missing from the catalogue"));
            assert_eq!(e.name, name);
            assert_eq!(e.default_severity.as_str(), sev, "{name}");
            assert_eq!(e.source.as_str(), source, "{name}");
        }
        assert_eq!(
            rows,
            CATALOGUE.len(),
            "RULES.md and the catalogue differ in size"
        );
    }
}
