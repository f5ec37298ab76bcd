//! dbaudit's analysis and rules.
//!
//! Rules take the [`Catalog`](dbaudit_catalog::Catalog) (through a [`Context`]) and the
//! settings, never a connection. Each rule lives in its own file under `rules/<category>/`, named
//! after the rule, with its documentation (`What it does / Why it matters / Example / Fix`) beside
//! it; that text feeds `dbaudit explain` and SARIF help.

pub mod analysis;
pub mod catalogue;
pub mod rules;
pub mod settings;

use analysis::delete_paths::DeletePaths;
use analysis::exposure::Exposure;
use analysis::policy::PolicyAnalysis;
use analysis::relationships::Relationships;
use analysis::tenancy::Tenancy;
use dbaudit_catalog::{Catalog, CatalogIndex, Relation};
use dbaudit_findings::{Finding, RuleMeta};
pub use settings::Settings;

/// A failed migration file, as the apply step reports it (the source crate's type is mapped to
/// this one so rules do not depend on how the database was built).
#[derive(Debug, Clone, serde::Serialize)]
pub struct MigrationFailure {
    pub file: String,
    pub line: Option<u32>,
    pub statement: String,
    pub sqlstate: String,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

/// Everything a rule may look at.
pub struct Context<'a> {
    pub catalog: &'a Catalog,
    pub index: CatalogIndex<'a>,
    pub exposure: Exposure,
    pub policies: PolicyAnalysis,
    pub tenancy: Tenancy,
    pub relationships: Relationships,
    pub delete_paths: DeletePaths,
    pub settings: &'a Settings,
    pub migration_failures: &'a [MigrationFailure],
}

impl<'a> Context<'a> {
    pub fn new(
        catalog: &'a Catalog,
        settings: &'a Settings,
        migration_failures: &'a [MigrationFailure],
    ) -> Self {
        let index = CatalogIndex::new(catalog);
        let exposure = Exposure::analyse(&index, settings);
        let policies = PolicyAnalysis::analyse(&index);
        let mut tenancy = Tenancy::analyse(&index, settings, &policies);
        let users: Vec<_> = tenancy
            .users_table
            .into_iter()
            .chain(index.relation_named("auth", "users").map(|r| r.oid))
            .collect();
        // Scope detection already computed them with the same inputs when there is a root.
        let relationships = tenancy.take_relationships().unwrap_or_else(|| {
            Relationships::analyse(&index, &users, tenancy.root, &tenancy.tenant_columns)
        });
        let origins: Vec<_> = tenancy
            .root
            .into_iter()
            .chain(users.iter().copied())
            .collect();
        let delete_paths = DeletePaths::analyse(&index, &relationships, &origins);
        Context {
            catalog,
            index,
            exposure,
            policies,
            tenancy,
            relationships,
            delete_paths,
            settings,
            migration_failures,
        }
    }

    /// Relations of the schemas under audit (the project's own, not Supabase's or Postgres').
    pub fn audited_relations(&self) -> impl Iterator<Item = &'a Relation> + '_ {
        self.catalog
            .relations
            .iter()
            .filter(|r| self.settings.audits_schema(&r.schema, &self.index))
    }

    /// Audited tables with row-level security enabled: the ones whose policies apply.
    pub fn rls_tables(&self) -> impl Iterator<Item = &'a Relation> + '_ {
        self.audited_relations()
            .filter(|r| r.kind.is_table() && r.rls_enabled)
    }
}

/// A check over the catalog.
pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, ctx: &Context<'_>) -> Vec<Finding>;
}

/// Every implemented rule, in code order.
pub fn registry() -> &'static [&'static dyn Rule] {
    rules::all()
}

/// Find an implemented rule by name (`rls-disabled`) or code (`RLS001`).
pub fn find_rule(name_or_code: &str) -> Option<&'static dyn Rule> {
    registry().iter().copied().find(|r| {
        let m = r.meta();
        m.name == name_or_code || m.code.eq_ignore_ascii_case(name_or_code)
    })
}

/// Run every implemented rule and return the findings, fingerprinted and sorted.
///
/// The rules run on every core: each is independent and reads the shared context only.
pub fn run_all(ctx: &Context<'_>) -> Vec<Finding> {
    let rules = registry();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let run = |part: usize| -> Vec<Finding> {
        rules
            .iter()
            .skip(part)
            .step_by(threads)
            .flat_map(|r| r.check(ctx))
            .map(Finding::with_fingerprint)
            .collect()
    };
    let mut out: Vec<Finding> = if threads == 1 {
        run(0)
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (1..threads)
                .map(|part| scope.spawn(move || run(part)))
                .collect();
            let mut all = run(0);
            for h in handles {
                // A rule that panics is a bug: surface it rather than drop its findings.
                all.extend(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
            }
            all
        })
    };
    dbaudit_findings::sort_findings(&mut out);
    out
}

pub use dbaudit_catalog::quote_ident;

/// `schema.table` with each part quoted as needed.
pub fn qualify(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("call_logs"), "call_logs");
        assert_eq!(quote_ident("Users"), "\"Users\"");
        assert_eq!(quote_ident("user"), "\"user\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(qualify("public", "order"), "public.\"order\"");
    }

    #[test]
    fn every_implemented_rule_is_in_the_catalogue_with_full_docs() {
        for r in registry() {
            let m = r.meta();
            let entry = catalogue::entry(m.name).expect("rule listed in the catalogue");
            assert_eq!(entry.code, m.code, "{}", m.name);
            assert_eq!(entry.category, m.category, "{}", m.name);
            for section in ["What it does", "Why it matters", "Example", "Fix"] {
                assert!(
                    m.docs_section(section).is_some_and(|s| !s.is_empty()),
                    "{} lacks docs section {section}",
                    m.name
                );
            }
        }
    }

    #[test]
    fn codes_and_names_are_unique() {
        let mut names: Vec<_> = catalogue::CATALOGUE.iter().map(|e| e.name).collect();
        let mut codes: Vec<_> = catalogue::CATALOGUE.iter().map(|e| e.code).collect();
        names.sort();
        codes.sort();
        let n = names.len();
        names.dedup();
        codes.dedup();
        assert_eq!(names.len(), n);
        assert_eq!(codes.len(), n);
    }
}
