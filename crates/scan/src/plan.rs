//! What the data scan reads: one [`TablePlan`] (one query) per table with at least one check.

use crate::rules::{
    check_violations, cross_tenant_reference, null_tenant_rows, orphan_rows,
    soft_deleted_parent_referenced,
};
use dbaudit_catalog::{Column, ConstraintKind, Oid, Relation};
use dbaudit_findings::RuleMeta;
use dbaudit_rules::analysis::relationships::{
    base_type, type_family, Confidence, Relationship, TypeFamily,
};
use dbaudit_rules::analysis::tenancy::Scope;
use dbaudit_rules::{qualify, quote_ident, Context};

/// How many sample keys a check returns at most.
pub const SAMPLE_KEYS: usize = 3;

/// A parent table joined to the scanned table (`LEFT JOIN parent pN ON ...`). Parent keys are
/// unique (a primary key or unique constraint), so the join never multiplies rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Join {
    /// `p0`, `p1`, ...
    pub alias: String,
    pub schema: String,
    pub name: String,
    /// `(parent expression, child expression)` pairs, ANDed: `p0.id = c.list_id`,
    /// `p0.id::text = c.list_id`.
    pub on: Vec<(String, String)>,
    /// The parent's columns the checks read (the key columns first), so the join reads only
    /// those.
    pub columns: Vec<String>,
    /// The (single-column) key is compared as text with a text column of the child. The parent
    /// is then read through `SELECT DISTINCT ON (key::text) ...`: a no-op on a unique key, but
    /// it tells the planner the text key is unique, so it hashes the parent and probes with
    /// the child (without it, an expression key has no statistics and the planner hashes the
    /// whole child instead).
    pub text_key: bool,
}

impl Join {
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }
}

/// What a check looks for, with what its finding needs to say.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckKind {
    /// DATA001: the reference finds no parent row.
    OrphanRows {
        /// `schema.name` of the parent.
        parent: String,
        parent_columns: Vec<String>,
        /// The constraint, when this is a declared `NOT VALID` foreign key.
        declared: Option<String>,
        /// The key's type when the column is compared through a conversion (a text column
        /// holding uuids): values that do not convert are counted separately.
        converted_to: Option<String>,
        /// The relationship as inferred (`None` for a declared key).
        why: Option<String>,
    },
    /// DATA002: NULL in the tenant column.
    NullTenantRows,
    /// DATA003: the row's tenant differs from its parent's.
    CrossTenantReference {
        parent: String,
        parent_columns: Vec<String>,
        tenant_column: String,
        parent_tenant_column: String,
        declared: Option<String>,
    },
    /// DATA004: a live row references a soft-deleted parent.
    SoftDeletedParentReferenced {
        parent: String,
        parent_columns: Vec<String>,
        /// The row's own `deleted_at` (only live rows are counted).
        child_deleted_at: bool,
    },
    /// DATA005: values a recommended CHECK (INT009) would reject.
    RangeViolation {
        /// The CHECK expression (`price >= 0`).
        expression: String,
        /// `at least 0`, `between 0 and 100`.
        expected: String,
    },
    /// DATA005: values the type conversion INT003 recommends would reject.
    ConversionViolation {
        /// The target type (`uuid`, `integer`).
        to: String,
        /// `schema.name(column)` the column references.
        target: String,
    },
}

/// One check folded into a table's query.
#[derive(Debug, Clone)]
pub struct Check {
    pub rule: &'static RuleMeta,
    /// The scanned table's column(s) the check is about.
    pub columns: Vec<String>,
    pub kind: CheckKind,
    /// The join this check reads (index into [`TablePlan::joins`]).
    pub join: Option<usize>,
    /// `FILTER (WHERE ...)` condition over `c` (the table) and the join aliases.
    pub condition: String,
    /// A second count (values that do not even convert, for type-mismatched references).
    pub invalid_condition: Option<String>,
    /// The condition to use instead when the join cannot be read (the check is dropped with
    /// the join when `None`).
    pub unjoined: Option<String>,
}

impl Check {
    /// `orphan-rows:list_id`.
    pub fn label(&self) -> String {
        format!("{}:{}", self.rule.name, self.columns.join(","))
    }
}

/// One table, one query.
#[derive(Debug, Clone)]
pub struct TablePlan {
    pub oid: Oid,
    pub schema: String,
    pub name: String,
    /// `pg_class.reltuples` when analyzed.
    pub row_estimate: Option<i64>,
    /// Primary key columns whose values are returned as sample keys; empty when the table has
    /// no primary key or a key column looks secret or personal.
    pub key_columns: Vec<String>,
    /// Why there are no sample keys, if there are none.
    pub no_samples: Option<String>,
    pub joins: Vec<Join>,
    pub checks: Vec<Check>,
}

impl TablePlan {
    /// `schema.name`, unquoted.
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    /// Whether a scan with `--sample sample_percent` reads this table through `TABLESAMPLE`.
    pub fn sampled(&self, sample_percent: Option<f64>, sample_min_rows: u64) -> bool {
        sample_percent.is_some_and(|p| p > 0.0 && p < 100.0)
            && self
                .row_estimate
                .is_some_and(|r| r >= 0 && r as u64 >= sample_min_rows)
    }

    /// The one query: `count(*)`, then three columns per check (count, sample keys, count of
    /// values that do not convert).
    ///
    /// The inner query joins the table to its parents (hash joins reading only the parents'
    /// key, tenant and `deleted_at` columns) and evaluates each check's condition once per row
    /// into a boolean; the outer one aggregates them. The inner query carries a volatile but
    /// parallel-safe column (`pg_is_in_recovery()`, never read): a subquery with a volatile
    /// output is not pulled up, so the planner cannot inline the conditions back into every
    /// aggregate that reads them, and unlike an `OFFSET 0` fence it keeps the query eligible for
    /// a parallel plan (partial aggregates under a Gather). Conditions test the join's NULLs
    /// first, so their costly parts only run on the rows that failed it. Sample keys are the
    /// smallest, the largest and the one with the smallest hash (a pseudo-random pick), computed
    /// on the matching rows only: unlike `array_agg` they keep constant memory.
    pub fn sql(&self, sample_percent: Option<f64>) -> String {
        let mut inner: Vec<String> = self
            .key_columns
            .iter()
            .enumerate()
            .map(|(i, k)| format!("c.{} AS k{i}", quote_ident(k)))
            .collect();
        let key = match self.key_columns.len() {
            0 => None,
            1 => Some("s.k0::text".to_string()),
            n => Some(format!(
                "format('(%s)', concat_ws(', ', {}))",
                (0..n)
                    .map(|i| format!("s.k{i}::text"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        };
        let mut outer = vec!["count(*)".to_string()];
        for (i, ch) in self.checks.iter().enumerate() {
            inner.push(format!("({}) AS d{i}", ch.condition));
            outer.push(format!("count(*) FILTER (WHERE s.d{i})"));
            outer.push(match &key {
                Some(k) => format!(
                    "ARRAY[min({k}) FILTER (WHERE s.d{i}), max({k}) FILTER (WHERE s.d{i}), \
                     substr(min(lpad(to_hex(hashtext({k})), 8, '0') || {k}) FILTER (WHERE s.d{i}), 9)]"
                ),
                None => "NULL::text[]".to_string(),
            });
            match &ch.invalid_condition {
                Some(c) => {
                    inner.push(format!("({c}) AS x{i}"));
                    outer.push(format!("count(*) FILTER (WHERE s.x{i})"));
                }
                None => outer.push("0::int8".to_string()),
            }
        }
        inner.push("pg_is_in_recovery() AS dbaudit_fence".to_string());
        let mut from = format!("{} AS c", qualify(&self.schema, &self.name));
        if let Some(p) = sample_percent {
            from.push_str(&format!(" TABLESAMPLE SYSTEM ({p})"));
        }
        for (i, j) in self.joins.iter().enumerate() {
            if !self.checks.iter().any(|c| c.join == Some(i)) {
                continue;
            }
            let parent = qualify(&j.schema, &j.name);
            if j.text_key && j.on.len() == 1 && !j.columns.is_empty() {
                let k = quote_ident(&j.columns[0]);
                let read: Vec<String> = j
                    .columns
                    .iter()
                    .map(|c| format!("x.{}", quote_ident(c)))
                    .collect();
                from.push_str(&format!(
                    "\n  LEFT JOIN (SELECT DISTINCT ON (x.{k}::text) x.{k}::text AS dbaudit_key, {} \
                     FROM {parent} AS x) AS {a} ON {a}.dbaudit_key = {}",
                    read.join(", "),
                    j.on[0].1,
                    a = j.alias,
                ));
                continue;
            }
            let on: Vec<String> =
                j.on.iter()
                    .map(|(pe, expr)| format!("{pe} = {expr}"))
                    .collect();
            from.push_str(&format!(
                "\n  LEFT JOIN {parent} AS {} ON {}",
                j.alias,
                on.join(" AND ")
            ));
        }
        format!(
            "SELECT {}\nFROM (SELECT {}\n  FROM {from}) AS s",
            outer.join(",\n  "),
            inner.join(",\n    "),
        )
    }

    /// Drop the checks that read `join` (its parent cannot be read); returns their labels.
    pub(crate) fn drop_join(&mut self, join: usize) -> Vec<String> {
        let (gone, mut kept): (Vec<Check>, Vec<Check>) = std::mem::take(&mut self.checks)
            .into_iter()
            .partition(|c| c.join == Some(join) && c.unjoined.is_none());
        for c in kept.iter_mut().filter(|c| c.join == Some(join)) {
            c.condition = c.unjoined.take().unwrap_or_default();
            c.join = None;
        }
        self.checks = kept;
        gone.iter().map(Check::label).collect()
    }
}

/// How a reference column is compared with the parent key.
#[derive(Debug, Clone)]
struct Conversion {
    /// The value as the conversion sees it (`NULLIF(btrim(c.list_id), '')`).
    value: String,
    /// True when `value` converts (`value ~* '^[0-9a-f]{8}-...$'`).
    valid: String,
    /// The child expression joined with the key's text: the raw column, so the join costs no
    /// more than a plain one. Values that match are valid by definition, so `valid` only runs
    /// on the rows that match nothing, and those that convert (spelled in upper case, with
    /// spaces, without hyphens) get a second look through the conversion.
    joined: String,
    /// The key's type.
    to: String,
}

/// A reference from the scanned table to a parent.
struct Ref<'a> {
    columns: Vec<String>,
    parent: &'a Relation,
    parent_columns: Vec<String>,
    declared: Option<String>,
    validated: bool,
    /// Child expressions, one per column, joined with the parent's columns.
    exprs: Vec<String>,
    conversion: Option<Conversion>,
    why: Option<String>,
}

/// Build the scan plan: every table of the audited schemas with at least one data check.
pub fn plan(ctx: &Context<'_>) -> Vec<TablePlan> {
    let pg16 = ctx.catalog.server_version_num >= 160000;
    let mut out = vec![];
    let mut rels: Vec<&Relation> = ctx
        .audited_relations()
        .filter(|r| r.kind.is_table() && r.partition_of.is_none())
        .collect();
    rels.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
    let ranges = check_violations::recommended_checks(ctx);
    for rel in rels {
        let key = (rel.schema.clone(), rel.name.clone());
        let p = table_plan(
            ctx,
            rel,
            pg16,
            ranges.get(&key).map(Vec::as_slice).unwrap_or(&[]),
        );
        if !p.checks.is_empty() {
            out.push(p);
        }
    }
    out
}

fn table_plan(
    ctx: &Context<'_>,
    rel: &Relation,
    pg16: bool,
    ranges: &[(String, String, String)],
) -> TablePlan {
    let (key_columns, no_samples) = sample_keys(ctx, rel);
    let mut plan = TablePlan {
        oid: rel.oid,
        schema: rel.schema.clone(),
        name: rel.name.clone(),
        row_estimate: rel.row_estimate,
        key_columns,
        no_samples,
        joins: vec![],
        checks: vec![],
    };
    let tenant = match ctx.tenancy.scope(rel.oid) {
        Some(Scope::Direct { column }) => rel.column(column),
        _ => None,
    };
    let refs = references(ctx, rel, pg16);

    let mut orphans = vec![];
    let mut join_of: Vec<Option<usize>> = vec![];
    let mut cross = vec![];
    let mut soft = vec![];
    for r in &refs {
        let alias = format!("p{}", plan.joins.len());
        let mut used = false;
        let parent = r.parent.qualified();
        let first_key = format!("{alias}.{}", quote_ident(&r.parent_columns[0]));
        // Orphans: a NOT VALID foreign key, or an inferred reference with none.
        if r.declared.is_none() || !r.validated {
            let condition = match &r.conversion {
                // Compared as text; a value that converts but is spelled otherwise (upper case,
                // spaces, 32 digits without hyphens) gets a second look. An uncorrelated `IN`
                // (a hashed subplan, built only when a row first gets there) rather than a
                // correlated `EXISTS`, which would keep the query from running in parallel.
                Some(conv) => format!(
                    "{first_key} IS NULL AND {v} IS NOT NULL AND NOT (CASE WHEN {valid} THEN \
                     ({v})::{to} IN (SELECT x.{key} FROM {parent_q} AS x WHERE x.{key} IS NOT NULL) \
                     ELSE false END)",
                    v = conv.value,
                    valid = conv.valid,
                    parent_q = qualify(&r.parent.schema, &r.parent.name),
                    key = quote_ident(&r.parent_columns[0]),
                    to = conv.to,
                ),
                None => format!(
                    "{} AND {first_key} IS NULL",
                    r.columns
                        .iter()
                        .map(|c| format!("c.{} IS NOT NULL", quote_ident(c)))
                        .collect::<Vec<_>>()
                        .join(" AND ")
                ),
            };
            orphans.push(Check {
                rule: &orphan_rows::META,
                columns: r.columns.clone(),
                kind: CheckKind::OrphanRows {
                    parent: parent.clone(),
                    parent_columns: r.parent_columns.clone(),
                    declared: r.declared.clone(),
                    converted_to: r.conversion.as_ref().map(|c| c.to.clone()),
                    why: r.why.clone(),
                },
                join: Some(plan.joins.len()),
                condition,
                invalid_condition: r.conversion.as_ref().map(|c| {
                    format!(
                        "{first_key} IS NULL AND {} IS NOT NULL AND NOT ({})",
                        c.value, c.valid
                    )
                }),
                unjoined: None,
            });
            used = true;
        }
        // Cross-tenant: both tables carry the tenant column and the reference does not pair
        // them (a composite key with the tenant column already makes them equal).
        if let (Some(tc), Some(ptc)) = (tenant, parent_tenant(ctx, r.parent)) {
            if Some(r.parent.oid) != ctx.tenancy.root && !r.columns.contains(&tc.name) {
                let (a, b) = (
                    format!("c.{}", quote_ident(&tc.name)),
                    format!("{alias}.{}", quote_ident(&ptc.name)),
                );
                let differs = if base_type(tc) == base_type(ptc) {
                    format!("{a} <> {b}")
                } else {
                    format!("{a}::text <> {b}::text")
                };
                cross.push(Check {
                    rule: &cross_tenant_reference::META,
                    columns: r.columns.clone(),
                    kind: CheckKind::CrossTenantReference {
                        parent: parent.clone(),
                        parent_columns: r.parent_columns.clone(),
                        tenant_column: tc.name.clone(),
                        parent_tenant_column: ptc.name.clone(),
                        declared: r.declared.clone(),
                    },
                    join: Some(plan.joins.len()),
                    condition: format!("{first_key} IS NOT NULL AND {differs}"),
                    invalid_condition: None,
                    unjoined: None,
                });
                used = true;
            }
        }
        // Soft-deleted parent.
        if r.parent.column("deleted_at").is_some() {
            let child_live = rel.column("deleted_at").is_some();
            let mut cond = format!("{alias}.deleted_at IS NOT NULL");
            if child_live {
                cond.push_str(" AND c.deleted_at IS NULL");
            }
            soft.push(Check {
                rule: &soft_deleted_parent_referenced::META,
                columns: r.columns.clone(),
                kind: CheckKind::SoftDeletedParentReferenced {
                    parent: parent.clone(),
                    parent_columns: r.parent_columns.clone(),
                    child_deleted_at: child_live,
                },
                join: Some(plan.joins.len()),
                condition: cond,
                invalid_condition: None,
                unjoined: None,
            });
            used = true;
        }
        if used {
            join_of.push(Some(plan.joins.len()));
            let mut columns = r.parent_columns.clone();
            for ch in cross.iter().chain(&soft) {
                if ch.join != Some(plan.joins.len()) {
                    continue;
                }
                let read = match &ch.kind {
                    CheckKind::CrossTenantReference {
                        parent_tenant_column,
                        ..
                    } => parent_tenant_column.clone(),
                    _ => "deleted_at".to_string(),
                };
                if !columns.contains(&read) {
                    columns.push(read);
                }
            }
            plan.joins.push(Join {
                alias: alias.clone(),
                schema: r.parent.schema.clone(),
                name: r.parent.name.clone(),
                columns,
                text_key: r.conversion.is_some() && r.parent_columns.len() == 1,
                on: r
                    .parent_columns
                    .iter()
                    .map(|pc| match &r.conversion {
                        Some(_) => format!("{alias}.{}::text", quote_ident(pc)),
                        None => format!("{alias}.{}", quote_ident(pc)),
                    })
                    .zip(r.exprs.iter().cloned())
                    .collect(),
            });
        } else {
            join_of.push(None);
        }
    }
    plan.checks.extend(orphans);
    if let Some(tc) = tenant.filter(|c| !c.not_null) {
        plan.checks.push(Check {
            rule: &null_tenant_rows::META,
            columns: vec![tc.name.clone()],
            kind: CheckKind::NullTenantRows,
            join: None,
            condition: format!("c.{} IS NULL", quote_ident(&tc.name)),
            invalid_condition: None,
            unjoined: None,
        });
    }
    plan.checks.extend(cross);
    plan.checks.extend(soft);
    // Check violations: recommended CHECKs, then conversions.
    for (col, expr, expected) in ranges {
        plan.checks.push(Check {
            rule: &check_violations::META,
            columns: vec![col.clone()],
            condition: format!("NOT ({})", qualify_expr(expr)),
            kind: CheckKind::RangeViolation {
                expression: expr.clone(),
                expected: expected.clone(),
            },
            join: None,
            invalid_condition: None,
            unjoined: None,
        });
    }
    for (n, r) in refs.iter().enumerate() {
        let Some(conv) = &r.conversion else { continue };
        if r.declared.is_some() {
            continue;
        }
        let unjoined = format!("{} IS NOT NULL AND NOT ({})", conv.value, conv.valid);
        plan.checks.push(Check {
            rule: &check_violations::META,
            columns: r.columns.clone(),
            kind: CheckKind::ConversionViolation {
                to: conv.to.clone(),
                target: format!("{}({})", r.parent.qualified(), r.parent_columns.join(", ")),
            },
            // Rows that found their parent hold valid values: test only the others.
            join: join_of[n],
            condition: match join_of[n] {
                Some(j) => format!(
                    "{}.{} IS NULL AND {} IS NOT NULL AND NOT ({})",
                    plan.joins[j].alias,
                    quote_ident(&r.parent_columns[0]),
                    conv.value,
                    conv.valid
                ),
                None => unjoined.clone(),
            },
            unjoined: Some(unjoined),
            invalid_condition: None,
        });
    }
    plan
}

/// `price >= 0` → `c.price >= 0` (the expressions only name one column, quoted or bare).
fn qualify_expr(expr: &str) -> String {
    // The recommended expressions are built as `<col> op n [AND <col> op n]` with the column
    // quoted by quote_ident; prefix every occurrence of it.
    let mut out = String::new();
    for (i, part) in expr.split(" AND ").enumerate() {
        if i > 0 {
            out.push_str(" AND ");
        }
        out.push_str("c.");
        out.push_str(part);
    }
    out
}

/// The parent's tenant column, when the parent is directly tenant-scoped.
fn parent_tenant<'a>(ctx: &Context<'_>, parent: &'a Relation) -> Option<&'a Column> {
    match ctx.tenancy.scope(parent.oid) {
        Some(Scope::Direct { column }) => parent.column(column),
        _ => None,
    }
}

/// Declared foreign keys and confident inferred references of `rel`, each with how its columns
/// compare with the parent's key.
fn references<'a>(ctx: &Context<'a>, rel: &'a Relation, pg16: bool) -> Vec<Ref<'a>> {
    let mut out = vec![];
    for fk in ctx.index.foreign_keys(rel.oid) {
        let Some(k) = &fk.foreign_key else { continue };
        let Some(parent) = ctx
            .index
            .relation(k.ref_table)
            .filter(|p| p.kind.is_table())
        else {
            continue;
        };
        if fk.columns.is_empty() || fk.columns.len() != k.ref_columns.len() {
            continue;
        }
        out.push(Ref {
            columns: fk.columns.clone(),
            parent,
            parent_columns: k.ref_columns.clone(),
            declared: Some(fk.name.clone()),
            validated: fk.validated,
            exprs: fk
                .columns
                .iter()
                .map(|c| format!("c.{}", quote_ident(c)))
                .collect(),
            conversion: None,
            why: None,
        });
    }
    let mut inferred: Vec<&Relationship> = ctx
        .relationships
        .inferred()
        .filter(|r| r.from == rel.oid && r.confidence == Confidence::High)
        .filter(|r| r.from_columns.len() == 1 && r.to_columns.len() == 1)
        .collect();
    inferred.sort_by(|a, b| a.from_columns.cmp(&b.from_columns));
    for r in inferred {
        let name = &r.from_columns[0];
        // A column that has a foreign key of its own is the declared one's.
        if out.iter().any(|d| d.columns.contains(name)) {
            continue;
        }
        let Some(parent) = ctx.index.relation(r.to).filter(|p| p.kind.is_table()) else {
            continue;
        };
        let (Some(col), Some(key)) = (rel.column(name), parent.column(&r.to_columns[0])) else {
            continue;
        };
        let c = format!("c.{}", quote_ident(name));
        let (expr, conversion) = if r.types_compatible {
            (c, None)
        } else {
            match (type_family(col), type_family(key)) {
                (TypeFamily::Str, TypeFamily::Uuid) | (TypeFamily::Str, TypeFamily::Int(_)) => {
                    let conv = conversion(&c, key, pg16);
                    (conv.joined.clone(), Some(conv))
                }
                (TypeFamily::Uuid | TypeFamily::Int(_), TypeFamily::Str) => {
                    (format!("{c}::text"), None)
                }
                _ => continue,
            }
        };
        out.push(Ref {
            columns: vec![name.clone()],
            parent,
            parent_columns: r.to_columns.clone(),
            declared: None,
            validated: false,
            exprs: vec![expr],
            conversion,
            why: Some(r.evidence.clone()),
        });
    }
    out
}

/// True when the text `v` (trimmed, not empty) is a uuid in one of the spellings `uuid_in`
/// accepts: canonical (`8-4-4-4-12` hex digits) or 32 hex digits. `translate` rather than a
/// regular expression: counted repetitions make Postgres's regex engine ~10 µs a row.
fn uuid_valid(v: &str) -> String {
    const HEX: &str = "'0123456789abcdefABCDEF'";
    format!(
        "((length({v}) = 36 AND translate({v}, {HEX}, '') = '----' AND substr({v}, 9, 1) = '-' \
         AND substr({v}, 14, 1) = '-' AND substr({v}, 19, 1) = '-' AND substr({v}, 24, 1) = '-') \
         OR (length({v}) = 32 AND translate({v}, {HEX}, '') = ''))"
    )
}

/// True when the text `v` (trimmed, not empty) is an integer literal within `lo..=hi`.
fn int_valid(v: &str, lo: &str, hi: &str) -> String {
    format!(
        "CASE WHEN length({v}) <= 20 AND translate(substr({v}, 2), '0123456789', '') = '' \
         AND translate(left({v}, 1), '+-0123456789', '') = '' AND {v} NOT IN ('+', '-') \
         THEN {v}::numeric BETWEEN {lo} AND {hi} ELSE false END"
    )
}

/// How a text column converts to the key's type, as `foreign-key-type-mismatch`'s fix does it
/// (`NULLIF(btrim(col), '')::type`): the value, its validity, and the safe expression to join.
fn conversion(c: &str, key: &Column, pg16: bool) -> Conversion {
    let value = format!("NULLIF(btrim({c}), '')");
    let to = base_type(key);
    match type_family(key) {
        TypeFamily::Uuid => {
            let valid = if pg16 {
                format!("pg_input_is_valid({value}, 'uuid')")
            } else {
                uuid_valid(&value)
            };
            Conversion {
                joined: c.to_string(),
                value,
                valid,
                to,
            }
        }
        _ => {
            let (lo, hi) = match type_family(key) {
                TypeFamily::Int(2) => ("-32768", "32767"),
                TypeFamily::Int(4) => ("-2147483648", "2147483647"),
                _ => ("-9223372036854775808", "9223372036854775807"),
            };
            let valid = if pg16 {
                format!("pg_input_is_valid({value}, '{to}')")
            } else {
                int_valid(&value, lo, hi)
            };
            Conversion {
                joined: c.to_string(),
                value,
                valid,
                to,
            }
        }
    }
}

/// Words of column names whose values are never printed, even as sample keys.
const SECRET_WORDS: &[&str] = &[
    "secret",
    "token",
    "password",
    "passwd",
    "pwd",
    "apikey",
    "credential",
    "credentials",
    "otp",
    "pin",
    "ssn",
    "email",
    "phone",
    "iban",
];

/// Whether a column's name says it holds a secret (or personal data): `api_key`, `token`,
/// `password_hash`, `email`.
pub fn looks_secret(name: &str) -> bool {
    let snake = dbaudit_rules::analysis::relationships::snake(name).to_ascii_lowercase();
    let words: Vec<&str> = snake
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    words.iter().any(|w| SECRET_WORDS.contains(w))
        || words.windows(2).any(|p| {
            p[1] == "key"
                && matches!(
                    p[0],
                    "api" | "private" | "secret" | "signing" | "encryption" | "access" | "master"
                )
        })
}

fn sample_keys(ctx: &Context<'_>, rel: &Relation) -> (Vec<String>, Option<String>) {
    let Some(pk) = ctx
        .index
        .constraints(rel.oid)
        .iter()
        .find(|c| c.kind == ConstraintKind::PrimaryKey)
    else {
        return (vec![], Some("the table has no primary key".into()));
    };
    if let Some(c) = pk.columns.iter().find(|c| looks_secret(c)) {
        return (
            vec![],
            Some(format!(
                "the primary key column {c} looks secret or personal: its values are never printed"
            )),
        );
    }
    (pk.columns.clone(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        for n in [
            "api_key",
            "token",
            "apiKey",
            "user_email",
            "password_hash",
            "pin",
        ] {
            assert!(looks_secret(n), "{n}");
        }
        for n in ["id", "list_id", "key", "pinned_at_id", "slug", "monkey"] {
            assert!(!looks_secret(n), "{n}");
        }
    }

    #[test]
    fn qualify_expressions() {
        assert_eq!(qualify_expr("price >= 0"), "c.price >= 0");
        assert_eq!(
            qualify_expr("\"Pct\" >= 0 AND \"Pct\" <= 100"),
            "c.\"Pct\" >= 0 AND c.\"Pct\" <= 100"
        );
    }

    #[test]
    fn one_plain_aggregate_with_text_keys_read_as_unique() {
        let orphan = Check {
            rule: &orphan_rows::META,
            columns: vec!["list_id".into()],
            kind: CheckKind::NullTenantRows,
            join: Some(0),
            condition: "p0.id IS NULL AND c.list_id IS NOT NULL".into(),
            invalid_condition: None,
            unjoined: None,
        };
        let t = TablePlan {
            oid: 1,
            schema: "public".into(),
            name: "calls".into(),
            row_estimate: None,
            key_columns: vec!["id".into()],
            no_samples: None,
            joins: vec![Join {
                alias: "p0".into(),
                schema: "public".into(),
                name: "call_lists".into(),
                on: vec![("p0.id::text".into(), "c.list_id".into())],
                columns: vec!["id".into(), "org_id".into()],
                text_key: true,
            }],
            checks: vec![orphan],
        };
        let sql = t.sql(None);
        // No OFFSET fence (it would keep the aggregate from running in parallel), no md5.
        assert!(!sql.contains("OFFSET"), "{sql}");
        assert!(
            sql.contains("pg_is_in_recovery() AS dbaudit_fence"),
            "{sql}"
        );
        assert!(!sql.contains("md5"), "{sql}");
        assert!(
            sql.contains(
                "LEFT JOIN (SELECT DISTINCT ON (x.id::text) x.id::text AS dbaudit_key, x.id, \
                 x.org_id FROM public.call_lists AS x) AS p0 ON p0.dbaudit_key = c.list_id"
            ),
            "{sql}"
        );
        assert!(
            sql.contains("(p0.id IS NULL AND c.list_id IS NOT NULL) AS d0"),
            "{sql}"
        );
        assert!(sql.contains("count(*) FILTER (WHERE s.d0)"), "{sql}");
    }
}
