//! `dbaudit.toml`: overrides for what dbaudit detects, and findings to ignore.
//!
//! ```toml
//! [tenancy]
//! root = "public.organizations"    # the tenant root table
//! columns = ["org_id"]             # tenant column names
//!
//! [api]
//! roles = ["anon", "authenticated"]  # roles untrusted clients act as
//!
//! [audit]
//! schemas = ["public"]             # schemas to audit
//!
//! [[ignore]]
//! rule = "rls-disabled"            # name or code
//! object = "public.stripe_events"  # schema.table, schema.table.column, a policy name, a file
//! reason = "server-only table: the API roles' grants are revoked in production"
//! ```
//!
//! Found by walking up from the audited path (or the current directory), or given with
//! `--config FILE`. Unknown keys are errors, so a typo never silently does nothing.

use anyhow::{bail, Context, Result};
use dbaudit_findings::Finding;
use dbaudit_rules::Settings;
use serde::Deserialize;
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "dbaudit.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub tenancy: Tenancy,
    #[serde(default)]
    pub api: Api,
    #[serde(default)]
    pub audit: Audit,
    #[serde(default)]
    pub ignore: Vec<Ignore>,
    /// Where it was read from (not a key of the file).
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tenancy {
    pub root: Option<String>,
    pub columns: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Api {
    pub roles: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Audit {
    pub schemas: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Ignore {
    pub rule: String,
    pub object: String,
    pub reason: String,
}

impl Config {
    /// `--config FILE` when given, else the first `dbaudit.toml` walking up from `start`.
    pub fn find(explicit: Option<&Path>, start: &Path) -> Result<Config> {
        if let Some(p) = explicit {
            return Config::read(p);
        }
        let start = start.canonicalize().unwrap_or_else(|_| start.to_path_buf());
        let mut dir = if start.is_file() {
            start.parent().map(Path::to_path_buf)
        } else {
            Some(start)
        };
        while let Some(d) = dir {
            let candidate = d.join(FILE_NAME);
            if candidate.is_file() {
                return Config::read(&candidate);
            }
            dir = d.parent().map(Path::to_path_buf);
        }
        Ok(Config::default())
    }

    pub fn read(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the configuration {}", path.display()))?;
        Config::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let mut cfg: Config = toml::from_str(text)
            .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.to_string().trim_end()))?;
        for (i, ig) in cfg.ignore.iter().enumerate() {
            if ig.reason.trim().is_empty() {
                bail!(
                    "{}: [[ignore]] #{} ({} on {}) has an empty reason: say why it is safe to ignore",
                    path.display(),
                    i + 1,
                    ig.rule,
                    ig.object
                );
            }
            if dbaudit_rules::catalogue::entry(&ig.rule).is_none() {
                bail!(
                    "{}: [[ignore]] #{} names rule {:?}, which does not exist (`dbaudit rules` lists them)",
                    path.display(),
                    i + 1,
                    ig.rule
                );
            }
        }
        cfg.path = Some(path.to_path_buf());
        Ok(cfg)
    }

    /// Settings from the file, with command-line values taking precedence.
    pub fn settings(&self, api_roles: &[String], schemas: &[String]) -> Settings {
        Settings {
            api_roles: if api_roles.is_empty() {
                self.api.roles.clone()
            } else {
                Some(api_roles.to_vec())
            },
            schemas: if schemas.is_empty() {
                self.audit.schemas.clone()
            } else {
                Some(schemas.to_vec())
            },
            tenant_root: self.tenancy.root.clone(),
            tenant_columns: self.tenancy.columns.clone(),
        }
    }
}

/// The names a finding's object goes by, for matching `[[ignore]] object`.
fn object_names(f: &Finding) -> Vec<String> {
    let mut out = vec![];
    if let Some(t) = f.qualified_table() {
        out.push(t.clone());
        if let Some(c) = &f.column {
            out.push(format!("{t}.{c}"));
        }
        if let Some(p) = &f.policy {
            out.push(format!("{t}.{p}"));
            out.push(p.clone());
        }
    }
    if let Some(func) = &f.function {
        out.push(func.clone());
        out.push(func.split('(').next().unwrap_or(func).to_string());
    }
    if let Some(o) = &f.object {
        out.push(o.clone());
        // `index contacts_idx` is also `contacts_idx`.
        if let Some((_, name)) = o.split_once(' ') {
            out.push(name.to_string());
        }
    }
    if let Some(file) = &f.file {
        out.push(file.clone());
    }
    out
}

fn ignore_matches(ig: &Ignore, f: &Finding) -> bool {
    let rule_ok = ig.rule == f.rule || ig.rule.eq_ignore_ascii_case(&f.code);
    rule_ok
        && object_names(f).iter().any(|n| {
            n == &ig.object || (f.file.as_deref() == Some(n.as_str()) && n.ends_with(&ig.object))
        })
}

/// Remove ignored findings. Returns what was removed (with the reason) and the ignore entries
/// that matched nothing (stale).
pub fn apply_ignores(
    findings: &mut Vec<Finding>,
    ignores: &[Ignore],
) -> (Vec<(Finding, Ignore)>, Vec<Ignore>) {
    let mut removed = vec![];
    let mut used = vec![false; ignores.len()];
    findings.retain(
        |f| match ignores.iter().position(|ig| ignore_matches(ig, f)) {
            Some(i) => {
                used[i] = true;
                removed.push((f.clone(), ignores[i].clone()));
                false
            }
            None => true,
        },
    );
    let stale = ignores
        .iter()
        .zip(used)
        .filter(|(_, u)| !u)
        .map(|(ig, _)| ig.clone())
        .collect();
    (removed, stale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dbaudit_findings::{Category, RuleMeta, RuleSource, Severity};

    static META: RuleMeta = RuleMeta {
        code: "RLS001",
        name: "rls-disabled",
        category: Category::Rls,
        default_severity: Severity::Critical,
        source: RuleSource::Schema,
        summary: "",
        docs: "",
    };

    #[test]
    fn parses_every_section() {
        let cfg = Config::parse(
            r#"
[tenancy]
root = "public.organizations"
columns = ["org_id"]
[api]
roles = ["web_anon"]
[audit]
schemas = ["public", "app"]
[[ignore]]
rule = "rls-disabled"
object = "public.stripe_events"
reason = "server only"
"#,
            Path::new("dbaudit.toml"),
        )
        .unwrap();
        let s = cfg.settings(&[], &["public".into()]);
        assert_eq!(s.tenant_root.as_deref(), Some("public.organizations"));
        assert_eq!(s.api_roles, Some(vec!["web_anon".to_string()]));
        assert_eq!(s.schemas, Some(vec!["public".to_string()]), "the flag wins");
        assert_eq!(cfg.ignore.len(), 1);
    }

    #[test]
    fn typos_and_missing_reasons_are_errors() {
        let e = Config::parse("[tenacy]\nroot = \"x\"\n", Path::new("/p/dbaudit.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/p/dbaudit.toml") && e.contains("tenacy"), "{e}");
        let e = Config::parse(
            "[[ignore]]\nrule = \"rls-disabled\"\nobject = \"public.t\"\n",
            Path::new("dbaudit.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("reason"), "{e}");
        let e = Config::parse(
            "[[ignore]]\nrule = \"rls-disabled\"\nobject = \"public.t\"\nreason = \" \"\n",
            Path::new("dbaudit.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("empty reason"), "{e}");
        let e = Config::parse(
            "[[ignore]]\nrule = \"no-such\"\nobject = \"public.t\"\nreason = \"x\"\n",
            Path::new("dbaudit.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("does not exist"), "{e}");
    }

    #[test]
    fn ignores_match_by_rule_and_object() {
        let mut findings = vec![
            META.finding("a").table("public", "stripe_events"),
            META.finding("b").table("public", "orders"),
        ];
        let ignores = vec![
            Ignore {
                rule: "RLS001".into(),
                object: "public.stripe_events".into(),
                reason: "server only".into(),
            },
            Ignore {
                rule: "rls-disabled".into(),
                object: "public.gone".into(),
                reason: "old".into(),
            },
        ];
        let (removed, stale) = apply_ignores(&mut findings, &ignores);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].table.as_deref(), Some("orders"));
        assert_eq!(removed.len(), 1);
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0].object, "public.gone");
    }

    #[test]
    fn found_by_walking_up() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), "[api]\nroles = [\"x\"]\n").unwrap();
        let deep = dir.path().join("supabase/migrations");
        std::fs::create_dir_all(&deep).unwrap();
        let cfg = Config::find(None, &deep).unwrap();
        assert_eq!(cfg.api.roles, Some(vec!["x".to_string()]));
        let none = tempfile::tempdir().unwrap();
        assert!(Config::find(None, none.path()).unwrap().path.is_none());
    }
}
