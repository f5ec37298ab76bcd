//! SQL strings found in code: which tables a statement touches, which columns it filters on
//! (conjunctive equality / IN only: what scopes rows), which it reads and writes.

use crate::model::Op;
use sqlparser::ast::{
    BinaryOperator, Expr, FromTable, ObjectName, SelectItem, SetExpr, Statement, TableFactor,
    TableObject, TableWithJoins,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

#[derive(Debug, Clone)]
pub struct SqlUse {
    pub schema: Option<String>,
    pub table: String,
    pub op: Op,
    /// Columns constrained by `col = …` / `col IN (…)` in the top-level AND of WHERE.
    pub filters: Vec<String>,
    pub columns: Vec<String>,
    pub written: Vec<String>,
    /// The statement touches this one table only (names can be checked, filters attributed).
    pub single_table: bool,
}

/// Statements of `sql`; nothing when it does not parse (a fragment, another dialect).
pub fn analyse(sql: &str) -> Vec<SqlUse> {
    let Ok(stmts) = Parser::parse_sql(&PostgreSqlDialect {}, sql) else {
        return vec![];
    };
    let mut out = vec![];
    for st in stmts {
        match st {
            Statement::Query(q) => {
                if q.with.is_some() {
                    continue;
                }
                if let SetExpr::Select(s) = *q.body {
                    let tables = tables_of(&s.from);
                    let single = tables.len() == 1 && s.from.iter().all(|t| t.joins.is_empty());
                    let filters = s.selection.as_ref().map(conj_columns).unwrap_or_default();
                    let mut columns = vec![];
                    if single {
                        for item in &s.projection {
                            match item {
                                SelectItem::UnnamedExpr(e)
                                | SelectItem::ExprWithAlias { expr: e, .. } => {
                                    if let Some(c) = column_of(e) {
                                        columns.push(c);
                                    }
                                }
                                _ => {}
                            }
                        }
                        columns.extend(filters.iter().cloned());
                    }
                    for (schema, table) in tables {
                        out.push(SqlUse {
                            schema,
                            table,
                            op: Op::Select,
                            filters: filters.clone(),
                            columns: columns.clone(),
                            written: vec![],
                            single_table: single,
                        });
                    }
                }
            }
            Statement::Insert(ins) => {
                let TableObject::TableName(name) = &ins.table else {
                    continue;
                };
                let (schema, table) = split_name(name);
                let upsert = ins.on.is_some();
                out.push(SqlUse {
                    schema,
                    table,
                    op: if upsert { Op::Upsert } else { Op::Insert },
                    filters: vec![],
                    columns: vec![],
                    written: ins.columns.iter().map(|c| c.value.clone()).collect(),
                    single_table: true,
                });
            }
            Statement::Update {
                table,
                assignments,
                from,
                selection,
                ..
            } => {
                let tables = tables_of(std::slice::from_ref(&table));
                let single = from.is_none() && table.joins.is_empty() && tables.len() == 1;
                let filters = selection.as_ref().map(conj_columns).unwrap_or_default();
                for (schema, t) in tables {
                    out.push(SqlUse {
                        schema,
                        table: t,
                        op: Op::Update,
                        filters: filters.clone(),
                        columns: if single { filters.clone() } else { vec![] },
                        written: assignments
                            .iter()
                            .map(|a| {
                                a.target
                                    .to_string()
                                    .rsplit('.')
                                    .next()
                                    .unwrap_or("")
                                    .to_string()
                            })
                            .collect(),
                        single_table: single,
                    });
                }
            }
            Statement::Delete(d) => {
                let from = match &d.from {
                    FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
                };
                let tables = tables_of(from);
                let single = d.using.is_none() && tables.len() == 1;
                let filters = d.selection.as_ref().map(conj_columns).unwrap_or_default();
                for (schema, t) in tables {
                    out.push(SqlUse {
                        schema,
                        table: t,
                        op: Op::Delete,
                        filters: filters.clone(),
                        columns: if single { filters.clone() } else { vec![] },
                        written: vec![],
                        single_table: single,
                    });
                }
            }
            _ => {}
        }
    }
    out
}

fn split_name(n: &ObjectName) -> (Option<String>, String) {
    let s = n.to_string();
    let parts: Vec<String> = s
        .split('.')
        .map(|p| p.trim_matches('"').to_string())
        .collect();
    match parts.len() {
        1 => (None, parts[0].clone()),
        _ => (
            Some(parts[parts.len() - 2].clone()),
            parts[parts.len() - 1].clone(),
        ),
    }
}

fn tables_of(from: &[TableWithJoins]) -> Vec<(Option<String>, String)> {
    let mut out = vec![];
    for t in from {
        for f in std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)) {
            if let TableFactor::Table { name, .. } = f {
                out.push(split_name(name));
            }
        }
    }
    out
}

fn column_of(e: &Expr) -> Option<String> {
    match e {
        Expr::Identifier(i) => Some(i.value.clone()),
        Expr::CompoundIdentifier(parts) => parts.last().map(|i| i.value.clone()),
        Expr::Nested(e) => column_of(e),
        Expr::Cast { expr, .. } => column_of(expr),
        _ => None,
    }
}

/// Columns the top-level conjunction constrains by equality or IN.
fn conj_columns(e: &Expr) -> Vec<String> {
    let mut out = vec![];
    conj(e, &mut out);
    out
}

fn conj(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            conj(left, out);
            conj(right, out);
        }
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } => {
            if let Some(c) = column_of(left) {
                out.push(c);
            } else if let Some(c) = column_of(right) {
                out.push(c);
            }
        }
        Expr::InList {
            expr,
            negated: false,
            ..
        }
        | Expr::InSubquery {
            expr,
            negated: false,
            ..
        }
        | Expr::InUnnest {
            expr,
            negated: false,
            ..
        } => {
            if let Some(c) = column_of(expr) {
                out.push(c);
            }
        }
        Expr::Nested(e) => conj(e, out),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_and_tables() {
        let u = analyse("select id, phone from call_logs where org_id = $1 and status = 'x'");
        assert_eq!(u.len(), 1);
        assert_eq!(u[0].table, "call_logs");
        assert_eq!(u[0].filters, vec!["org_id", "status"]);
        assert!(u[0].single_table);
        let u = analyse("select * from call_logs where org_id = $1 or true");
        assert!(u[0].filters.is_empty());
        let u = analyse("update public.call_logs set status = 'x' where id = $1");
        assert_eq!(u[0].schema.as_deref(), Some("public"));
        assert_eq!(u[0].written, vec!["status"]);
        let u = analyse("insert into leads (org_id, phone) values ($1, $2)");
        assert_eq!(u[0].written, vec!["org_id", "phone"]);
        assert!(analyse("not sql at all").is_empty());
    }
}
