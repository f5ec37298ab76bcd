//! One file per rule, grouped by category. Each file holds the rule's metadata and docs
//! (`META`), its check, and its tests.

pub mod integrity;
pub mod migrations;
pub mod performance;
pub mod rls;

use crate::Rule;

/// Every implemented rule, in code order.
pub static ALL: &[&dyn Rule] = &[
    &integrity::missing_primary_key::MissingPrimaryKey,
    &rls::rls_disabled::RlsDisabled,
    &performance::unindexed_foreign_key::UnindexedForeignKey,
    &migrations::migration_error::MigrationError,
];

#[cfg(test)]
pub(crate) mod test_support {
    use crate::{Context, MigrationFailure, Rule, Settings};
    use dbaudit_catalog::Catalog;
    use dbaudit_findings::Finding;

    pub fn run(rule: &dyn Rule, catalog: &Catalog) -> Vec<Finding> {
        run_with(rule, catalog, &Settings::default(), &[])
    }

    pub fn run_with(
        rule: &dyn Rule,
        catalog: &Catalog,
        settings: &Settings,
        failures: &[MigrationFailure],
    ) -> Vec<Finding> {
        let ctx = Context::new(catalog, settings, failures);
        rule.check(&ctx)
            .into_iter()
            .map(Finding::with_fingerprint)
            .collect()
    }
}
