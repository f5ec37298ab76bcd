//! One file per rule, grouped by category. Each file holds the rule's metadata and docs
//! (`META`), its check, and its tests.

pub mod integrity;
pub mod migrations;
pub mod performance;
pub mod rls;
pub mod security;

use crate::Rule;
use std::sync::OnceLock;

/// Every implemented rule, sorted by code. Each category's `mod.rs` lists its own in `RULES`.
pub fn all() -> &'static [&'static dyn Rule] {
    static ALL: OnceLock<Vec<&'static dyn Rule>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut v: Vec<&'static dyn Rule> = [
            integrity::RULES,
            rls::RULES,
            security::RULES,
            performance::RULES,
            migrations::RULES,
        ]
        .concat();
        v.sort_by_key(|r| {
            let code = r.meta().code;
            let split = code
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(code.len());
            let order = ["INT", "RLS", "SEC", "PERF", "DATA", "PROBE", "MIG", "CODE"]
                .iter()
                .position(|p| *p == &code[..split])
                .unwrap_or(99);
            (order, code)
        });
        v
    })
}

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
