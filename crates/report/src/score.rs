//! The health score: 0–100 with a grade A–F, overall and per category. A pure function of the
//! findings, so it is testable and explainable; the formula is documented in `docs/scoring.md`.
//!
//! 1. Each finding's severity has a weight: critical 30, high 10, moderate 3, low 1, info 0.
//! 2. Findings are grouped by rule. A rule costs its heaviest weight × √(number of findings): the
//!    first finding costs the full weight, 4 findings of one rule cost 2×, 25 cost 5×. One mistake
//!    repeated on many tables (a policy pattern copied 24 times) is one problem, not 24.
//! 3. The penalty is the sum over rules; the score is `round(100 × e^(−penalty / 100))`, so it
//!    never goes below 0 and every further problem still lowers it a little.
//! 4. A database with a critical finding scores at most 69 (grade D).
//! 5. Grades: A ≥ 90, B ≥ 80, C ≥ 70, D ≥ 60, F below.
//!
//! Category scores apply steps 2–5 to the findings of one category.

use dbaudit_findings::{Category, Finding, Severity};
use serde::Serialize;
use std::collections::BTreeMap;

/// The weight of one finding of this severity.
pub fn weight(s: Severity) -> f64 {
    match s {
        Severity::Critical => 30.0,
        Severity::High => 10.0,
        Severity::Moderate => 3.0,
        Severity::Low => 1.0,
        Severity::Info => 0.0,
    }
}

/// The highest score a database with a critical finding can get.
pub const CRITICAL_CAP: u8 = 69;

/// Every category, in report order.
pub const CATEGORIES: [Category; 8] = [
    Category::Rls,
    Category::Security,
    Category::Integrity,
    Category::Performance,
    Category::Migrations,
    Category::Data,
    Category::Probe,
    Category::Code,
];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    /// 0–100.
    pub score: u8,
    /// `A`–`F`.
    pub grade: char,
    /// The penalty the score was computed from (sum over rules, see the module docs).
    pub penalty: f64,
    /// One entry per category, in [`CATEGORIES`] order, categories without findings included
    /// (score 100).
    pub categories: Vec<CategoryScore>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryScore {
    pub category: Category,
    pub score: u8,
    pub grade: char,
    pub penalty: f64,
    /// Findings of this category.
    pub findings: usize,
}

/// The grade of a score.
pub fn grade(score: u8) -> char {
    match score {
        90.. => 'A',
        80..=89 => 'B',
        70..=79 => 'C',
        60..=69 => 'D',
        _ => 'F',
    }
}

/// The penalty of a set of findings: per rule, the heaviest weight × √count, summed.
pub fn penalty<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> f64 {
    let mut per_rule: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
    for f in findings {
        let e = per_rule.entry(f.rule.as_str()).or_insert((0.0, 0));
        e.0 = e.0.max(weight(f.severity));
        e.1 += 1;
    }
    let p: f64 = per_rule.values().map(|(w, n)| w * (*n as f64).sqrt()).sum();
    // Rounded so the JSON is stable across platforms.
    (p * 100.0).round() / 100.0
}

fn from_penalty<'a>(findings: impl IntoIterator<Item = &'a Finding> + Clone) -> (u8, f64) {
    let p = penalty(findings.clone());
    let mut s = (100.0 * (-p / 100.0).exp()).round() as u8;
    if findings
        .into_iter()
        .any(|f| f.severity == Severity::Critical)
    {
        s = s.min(CRITICAL_CAP);
    }
    (s, p)
}

/// Score a set of findings (the counted ones: baseline and ignored findings left out).
pub fn compute(findings: &[Finding]) -> Score {
    let (score, penalty) = from_penalty(findings.iter());
    let categories = CATEGORIES
        .iter()
        .map(|&c| {
            let of = findings.iter().filter(move |f| f.category == c);
            let (score, penalty) = from_penalty(of.clone());
            CategoryScore {
                category: c,
                score,
                grade: grade(score),
                penalty,
                findings: of.count(),
            }
        })
        .collect();
    Score {
        score,
        grade: grade(score),
        penalty,
        categories,
    }
}

impl Score {
    pub fn category(&self, c: Category) -> Option<&CategoryScore> {
        self.categories.iter().find(|s| s.category == c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::RLS as CRIT;
    use dbaudit_findings::{RuleMeta, RuleSource};

    static MODERATE: RuleMeta = RuleMeta {
        code: "RLS009",
        name: "rls-auth-initplan",
        category: Category::Rls,
        default_severity: Severity::Moderate,
        source: RuleSource::Schema,
        summary: "",
        docs: "",
    };
    static LOW: RuleMeta = RuleMeta {
        code: "INT008",
        name: "updated-at-without-trigger",
        category: Category::Integrity,
        default_severity: Severity::Low,
        source: RuleSource::Schema,
        summary: "",
        docs: "",
    };

    fn many(meta: &'static RuleMeta, n: usize) -> Vec<Finding> {
        (0..n)
            .map(|i| meta.finding("x").table("public", &format!("t{i}")))
            .collect()
    }

    #[test]
    fn no_findings_is_a_perfect_a() {
        let s = compute(&[]);
        assert_eq!((s.score, s.grade), (100, 'A'));
        assert!(s.categories.iter().all(|c| c.score == 100));
        assert_eq!(s.categories.len(), CATEGORIES.len());
    }

    #[test]
    fn repeats_of_one_rule_have_diminishing_cost() {
        // 4 moderate findings of one rule: 3 × √4 = 6 → 100·e^(−0.06) = 94.
        let s = compute(&many(&MODERATE, 4));
        assert_eq!(s.penalty, 6.0);
        assert_eq!((s.score, s.grade), (94, 'A'));
        // 25 of them cost 5×, not 25×.
        let s = compute(&many(&MODERATE, 25));
        assert_eq!(s.penalty, 15.0);
        assert_eq!(s.score, 86);
    }

    #[test]
    fn a_critical_caps_the_grade_at_d() {
        let s = compute(&many(&CRIT, 1));
        // 100·e^(−0.3) = 74, capped to 69.
        assert_eq!((s.score, s.grade), (69, 'D'));
        assert_eq!(s.category(Category::Rls).unwrap().score, 69);
        assert_eq!(s.category(Category::Integrity).unwrap().score, 100);
    }

    #[test]
    fn categories_score_their_own_findings() {
        let mut f = many(&LOW, 9);
        f.extend(many(&MODERATE, 1));
        let s = compute(&f);
        assert_eq!(s.category(Category::Integrity).unwrap().penalty, 3.0);
        assert_eq!(s.category(Category::Integrity).unwrap().findings, 9);
        assert_eq!(s.category(Category::Rls).unwrap().penalty, 3.0);
        assert_eq!(s.penalty, 6.0);
        assert_eq!(grade(59), 'F');
        assert_eq!(grade(60), 'D');
        assert_eq!(grade(90), 'A');
    }
}
