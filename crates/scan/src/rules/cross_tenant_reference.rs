//! DATA003 `cross-tenant-reference`: a row whose tenant differs from its parent's.

use super::{rows, sample_note, CheckResult};
use crate::plan::{Check, CheckKind, TablePlan};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};
use dbaudit_rules::{qualify, quote_ident};

pub static META: RuleMeta = RuleMeta {
    code: "DATA003",
    name: "cross-tenant-reference",
    category: Category::Data,
    default_severity: Severity::Critical,
    source: RuleSource::Data,
    summary: "row whose tenant differs from the tenant of the row it references",
    docs: r#"## What it does
With `--scan-data`, for every reference (foreign key, or confidently inferred one) between two
tables that both carry the tenant column, counts the rows whose tenant differs from the tenant of
the row they point at: a call log of company A whose contact belongs to company B. References
that already pair the tenant columns (a composite key `(company_id, contact_id)`) cannot differ
and are not checked; rows whose tenant or parent is missing are left to `null-tenant-rows` and
`orphan-rows`.

## Why it matters
This is tenant isolation already broken in the data. The row shows B's contact in A's screens
(embedded selects and joins follow the reference, and RLS on the parent is often bypassed by
views, functions or the service role), and deleting B's contact changes A's data. It comes from
an API that trusted an id from the request, or a backend job that mixed tenants.

## Example
```sql
select count(*) from public.call_logs l
join public.contacts c on c.id = l.contact_id
where l.company_id <> c.company_id;   -- should be 0
```

## Fix
Find how the rows were written and fix that path first; then repair or delete the rows, and make
the database refuse it with a composite foreign key (see `cross-tenant-reference-possible`):
```sql
alter table public.call_logs
  add constraint call_logs_contact_fkey foreign key (company_id, contact_id)
  references public.contacts (company_id, id) not valid;
```
"#,
};

pub(crate) fn finding(t: &TablePlan, ch: &Check, r: &CheckResult, sample: Option<f64>) -> Finding {
    let CheckKind::CrossTenantReference {
        parent,
        parent_columns,
        tenant_column,
        parent_tenant_column,
        declared,
    } = &ch.kind
    else {
        unreachable!("cross-tenant-reference finding of another check")
    };
    let cols = ch.columns.join(", ");
    let table = qualify(&t.schema, &t.name);
    let (parent_q, pn) = super::parent_name(parent);
    let on = super::join_on(&ch.columns, parent_columns);
    let mut f = META
        .finding(format!(
            "{} of {} reference a {parent} row of another tenant through {cols}{}",
            rows(r.count),
            t.qualified(),
            sample_note(sample)
        ))
        .impact(format!(
            "tenant isolation is already broken in the data: these {} rows show and change another \
             tenant's {} rows",
            t.name, pn
        ))
        .object(parent.clone())
        .evidence("parent", format!("{parent}({})", parent_columns.join(", ")))
        .evidence("tenant_column", tenant_column.clone())
        .evidence("parent_tenant_column", parent_tenant_column.clone())
        .fix(
            format!(
                "-- find out which code path wrote them, then repair or delete:\n\
                 SELECT c.* FROM {table} c JOIN {} p ON {on} WHERE c.{} <> p.{};\n\
                 -- and pair the tenant columns in the foreign key (cross-tenant-reference-possible)",
                parent_q,
                quote_ident(tenant_column),
                quote_ident(parent_tenant_column)
            ),
            FixSafety::Review,
        );
    if let Some(d) = declared {
        f = f.evidence("constraint", d.clone());
    }
    f
}
