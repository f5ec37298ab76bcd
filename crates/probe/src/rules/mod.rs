//! The PROBE rules: their metadata and documentation (the probe itself emits the findings).

pub mod cascade_leftovers;
pub mod probe_inconclusive;
pub mod rls_isolation_leak;

#[cfg(test)]
mod tests {
    #[test]
    fn every_rule_has_full_docs() {
        for m in super::super::RULES {
            for section in ["What it does", "Why it matters", "Example", "Fix"] {
                assert!(
                    m.docs_section(section).is_some_and(|s| !s.is_empty()),
                    "{} lacks {section}",
                    m.name
                );
            }
            assert_eq!(m.source, dbaudit_findings::RuleSource::Probe);
            assert_eq!(m.category, dbaudit_findings::Category::Probe);
        }
    }
}
