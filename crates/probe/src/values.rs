//! Values for NOT NULL columns the probe has to fill: by type, enum labels, domain and CHECK
//! constraints. Each column gets a list of candidate SQL expressions, tried in order when an
//! insert fails on a CHECK; `{n}` in a candidate is replaced by a serial number (unique keys),
//! `{uuid}` by a fresh uuid and `{tag}` by the run's tag.

use dbaudit_catalog::{CatalogIndex, Column, Constraint, ConstraintKind, UserTypeKind};
use dbaudit_rules::analysis::relationships::base_type;
use regex::Regex;
use std::sync::OnceLock;

/// Candidate SQL expressions for a NOT NULL column, best first. Empty: no idea (the fill fails
/// and says why).
pub fn candidates(
    index: &CatalogIndex<'_>,
    table_checks: &[&Constraint],
    col: &Column,
) -> Vec<String> {
    let ty = col.type_name.clone();
    let cast = |lit: &str| format!("{}::{}", quote_literal(lit), ty);
    let mut out: Vec<String> = vec![];

    // Literals from CHECK constraints on this column alone (`x IN (...)`, `x >= 0`, BETWEEN).
    let mut check_texts: Vec<String> = table_checks
        .iter()
        .filter(|c| {
            c.kind == ConstraintKind::Check && c.columns.len() == 1 && c.columns[0] == col.name
        })
        .map(|c| c.definition.clone())
        .collect();
    // Enum labels and domain checks.
    let user_type = index.catalog.types.iter().find(|t| t.oid == col.type_oid);
    if let Some(t) = user_type {
        match &t.kind {
            UserTypeKind::Enum { labels } => {
                return labels.iter().map(|l| cast(l)).collect();
            }
            UserTypeKind::Domain { checks, .. } => check_texts.extend(checks.iter().cloned()),
            _ => {}
        }
    }
    let base = base_type(col);
    let numeric = is_numeric(&base);
    for text in &check_texts {
        if numeric {
            for n in numbers(text) {
                for v in [n + 1.0, n, n - 1.0] {
                    out.push(cast(&fmt_num(v)));
                }
            }
        } else {
            for s in strings(text) {
                out.push(cast(&s));
            }
        }
    }
    out.extend(by_type(col, &base).into_iter().map(|v| match v {
        Typed::Lit(l) => cast(&l),
        Typed::Expr(e) => e,
    }));
    let mut seen = std::collections::HashSet::new();
    out.retain(|c| seen.insert(c.clone()));
    out
}

enum Typed {
    Lit(String),
    Expr(String),
}

fn is_numeric(base: &str) -> bool {
    matches!(
        base,
        "smallint"
            | "integer"
            | "bigint"
            | "numeric"
            | "real"
            | "double precision"
            | "decimal"
            | "money"
    )
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Length limit of `character varying(n)` / `character(n)`.
fn length_limit(type_name: &str) -> Option<usize> {
    let t = type_name.to_ascii_lowercase();
    if !(t.starts_with("character") || t.starts_with("varchar") || t.starts_with("bit")) {
        return None;
    }
    let i = t.find('(')?;
    let j = t[i..].find(')')? + i;
    t[i + 1..j].trim().parse().ok()
}

fn by_type(col: &Column, base: &str) -> Vec<Typed> {
    use Typed::*;
    let name = col.name.to_ascii_lowercase();
    if col.type_name.ends_with("[]") {
        return vec![Lit("{}".into())];
    }
    match base {
        "uuid" => vec![Lit("{uuid}".into())],
        "text" | "character varying" | "character" | "citext" | "name" => {
            let mut s = if name.contains("email") {
                "probe{n}.{tag}@example.test".to_string()
            } else if name.contains("url") || name.contains("website") || name.contains("link") {
                "https://example.test/{tag}/{n}".to_string()
            } else if name.contains("phone") {
                "+1555{n}".to_string()
            } else {
                "probe-{tag}-{n}".to_string()
            };
            if let Some(n) = length_limit(&col.type_name) {
                if n < 24 {
                    s = "{n}".into();
                }
            }
            vec![Lit(s), Lit("x".into())]
        }
        "smallint" | "integer" | "bigint" | "numeric" | "real" | "double precision" | "money" => {
            vec![Lit("{n}".into()), Lit("0".into()), Lit("1".into())]
        }
        "boolean" => vec![Lit("false".into()), Lit("true".into())],
        "date" => vec![Lit(format!(
            "2030-01-{:02}",
            1 + (col.num.rem_euclid(27)) as u32
        ))],
        "timestamp with time zone" | "timestamp without time zone" => {
            // Later columns get later times: `ends_at > starts_at` holds.
            vec![Expr(format!(
                "(timestamptz '2030-01-01 00:00:00+00' + interval '{} hours')::{}",
                col.num, col.type_name
            ))]
        }
        "time without time zone" | "time with time zone" => {
            vec![Lit(format!("{:02}:00", (col.num % 24)))]
        }
        "interval" => vec![Lit("1 hour".into())],
        "json" | "jsonb" => vec![Lit("{}".into()), Lit("[]".into())],
        "bytea" => vec![Lit("\\x00".into())],
        "inet" | "cidr" => vec![Lit("127.0.0.1".into())],
        "macaddr" => vec![Lit("08:00:2b:01:02:03".into())],
        "tsvector" => vec![Lit("probe".into())],
        "tsquery" => vec![Lit("probe".into())],
        "point" => vec![Lit("(0,0)".into())],
        "int4range" | "int8range" | "numrange" => vec![Lit("[1,2)".into())],
        "tstzrange" | "tsrange" => vec![Lit("[2030-01-01,2030-01-02)".into())],
        "daterange" => vec![Lit("[2030-01-01,2030-01-02)".into())],
        "bit" | "bit varying" => vec![Lit("0".into())],
        "xml" => vec![Lit("<probe/>".into())],
        "oid" => vec![Lit("0".into())],
        "vector" | "halfvec" => {
            let dims = col
                .type_name
                .find('(')
                .and_then(|i| {
                    col.type_name[i + 1..]
                        .trim_end_matches(')')
                        .parse::<usize>()
                        .ok()
                })
                .unwrap_or(3);
            vec![Lit(format!("[{}]", vec!["0"; dims].join(",")))]
        }
        _ => vec![],
    }
}

/// `'it''s'`
pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// String literals in a constraint definition (`'owner'::text` → `owner`).
fn strings(text: &str) -> Vec<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r"'((?:[^']|'')*)'").unwrap());
    re.captures_iter(text)
        .map(|c| c[1].replace("''", "'"))
        .collect()
}

/// Numeric literals in a constraint definition, not part of identifiers.
fn numbers(text: &str) -> Vec<f64> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r"(^|[^A-Za-z0-9_.])(-?\d+(?:\.\d+)?)").unwrap());
    // Strip string literals first: digits inside them are not bounds.
    let stripped = {
        static S: OnceLock<Regex> = OnceLock::new();
        S.get_or_init(|| Regex::new(r"'(?:[^']|'')*'").unwrap())
            .replace_all(text, "''")
            .to_string()
    };
    re.captures_iter(&stripped)
        .filter_map(|c| c[2].parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_from_checks() {
        assert_eq!(
            strings("CHECK ((role = ANY (ARRAY['owner'::text, 'admin'::text, 'it''s'::text])))"),
            vec!["owner", "admin", "it's"]
        );
        assert_eq!(
            numbers("CHECK (((discount_percent >= 0) AND (discount_percent <= 100)))"),
            vec![0.0, 100.0]
        );
        assert_eq!(numbers("CHECK ((x2 > -1.5))"), vec![-1.5]);
        assert_eq!(numbers("CHECK ((name <> '42'::text))"), Vec::<f64>::new());
        assert_eq!(length_limit("character varying(10)"), Some(10));
        assert_eq!(length_limit("text"), None);
    }
}
