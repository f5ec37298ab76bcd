//! Baselines (`--baseline FILE`, `--write-baseline FILE`): the findings a team has accepted for
//! now, keyed by fingerprint. Findings in the baseline are reported as *known*
//! ([`Report::known`](crate::Report::known)), apart from the others, and do not count towards the
//! score or `--fail-on`.
//!
//! The file is JSON, sorted by fingerprint so it diffs well; `rule`, `location` and `message`
//! are there for the humans reviewing it and are ignored when matching:
//!
//! ```json
//! {
//!   "dbaudit_baseline": 1,
//!   "findings": {
//!     "464f3ae830662a1c": { "rule": "rls-disabled", "location": "public.stripe_events", "message": "..." }
//!   }
//! }
//! ```

use dbaudit_findings::Finding;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file format version written and understood.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineEntry {
    pub rule: String,
    pub location: String,
    #[serde(default)]
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    #[serde(rename = "dbaudit_baseline")]
    pub version: u32,
    pub findings: BTreeMap<String, BaselineEntry>,
}

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read baseline {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write baseline {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a dbaudit baseline: {source}", path.display())]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{} is a version {found} baseline; this dbaudit reads version {VERSION}", path.display())]
    Version { path: PathBuf, found: u32 },
}

impl Baseline {
    /// A baseline of these findings.
    pub fn of(findings: &[Finding]) -> Baseline {
        Baseline {
            version: VERSION,
            findings: findings
                .iter()
                .map(|f| {
                    (
                        f.fingerprint.clone(),
                        BaselineEntry {
                            rule: f.rule.clone(),
                            location: f.location(),
                            message: f.message.clone(),
                        },
                    )
                })
                .collect(),
        }
    }

    pub fn parse(text: &str, path: &Path) -> Result<Baseline, BaselineError> {
        let b: Baseline = serde_json::from_str(text).map_err(|source| BaselineError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
        if b.version != VERSION {
            return Err(BaselineError::Version {
                path: path.to_path_buf(),
                found: b.version,
            });
        }
        Ok(b)
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("plain data serialises");
        s.push('\n');
        s
    }

    pub fn contains(&self, fingerprint: &str) -> bool {
        self.findings.contains_key(fingerprint)
    }

    pub fn len(&self) -> usize {
        self.findings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.findings.is_empty()
    }

    /// Split findings into (new, known), each keeping its order.
    pub fn partition(&self, findings: Vec<Finding>) -> (Vec<Finding>, Vec<Finding>) {
        findings
            .into_iter()
            .partition(|f| !self.contains(&f.fingerprint))
    }

    /// Fingerprints of the baseline that matched none of these findings (fixed since).
    pub fn stale<'a>(&'a self, findings: &[Finding]) -> Vec<(&'a String, &'a BaselineEntry)> {
        let seen: std::collections::HashSet<&str> =
            findings.iter().map(|f| f.fingerprint.as_str()).collect();
        self.findings
            .iter()
            .filter(|(fp, _)| !seen.contains(fp.as_str()))
            .collect()
    }
}

impl Baseline {
    /// Read a baseline file.
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        load(path)
    }

    /// Write a baseline of these findings.
    pub fn write(path: &Path, findings: &[Finding]) -> Result<(), BaselineError> {
        write(path, findings)
    }
}

/// Read a baseline file.
pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
    let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Baseline::parse(&text, path)
}

/// Write a baseline of these findings (pass the new and the known ones to keep both).
pub fn write(path: &Path, findings: &[Finding]) -> Result<(), BaselineError> {
    std::fs::write(path, Baseline::of(findings).to_json()).map_err(|source| BaselineError::Write {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_partition() {
        let report = crate::sample::report();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("baseline.json");
        write(&path, &report.findings[..1]).unwrap();
        let b = load(&path).unwrap();
        assert_eq!(b.len(), 1);
        assert!(b.contains(&report.findings[0].fingerprint));
        assert!(!b.contains(&report.findings[1].fingerprint));
        let (new, known) = b.partition(report.findings.clone());
        assert_eq!(new.len(), report.findings.len() - 1);
        assert_eq!(known.len(), 1);
        assert!(b.stale(&report.findings).is_empty());
        assert_eq!(b.stale(&report.findings[1..]).len(), 1);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"dbaudit_baseline\": 1"), "{text}");
        assert!(text.contains("\"rule\": \"rls-disabled\""), "{text}");
    }

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.json");
        std::fs::write(&path, "{\"nope\": 1}").unwrap();
        let e = load(&path).unwrap_err().to_string();
        assert!(e.contains("is not a dbaudit baseline"), "{e}");
        std::fs::write(&path, "{\"dbaudit_baseline\": 9, \"findings\": {}}").unwrap();
        let e = load(&path).unwrap_err().to_string();
        assert!(e.contains("version 9"), "{e}");
        let e = load(&dir.path().join("missing.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot read baseline"), "{e}");
    }
}
