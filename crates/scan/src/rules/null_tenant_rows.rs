//! DATA002 `null-tenant-rows`: rows with NULL in the tenant column.

use super::{rows, sample_note, CheckResult};
use crate::plan::{Check, TablePlan};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};
use dbaudit_rules::{qualify, quote_ident};

pub static META: RuleMeta = RuleMeta {
    code: "DATA002",
    name: "null-tenant-rows",
    category: Category::Data,
    default_severity: Severity::High,
    source: RuleSource::Data,
    summary: "rows with NULL in the tenant column",
    docs: r#"## What it does
With `--scan-data`, counts the rows of each tenant-scoped table whose tenant column
(`company_id`, `org_id`, ... as the tenancy model detects it) is NULL, with up to three of their
primary keys. Only nullable tenant columns are checked (`tenant-column-nullable` reports the
schema side).

## Why it matters
A row without a tenant belongs to nobody: tenant-filtered policies hide it from everyone (so it
is invisible data that still counts in totals and exports), and any policy or query written as
`tenant_id = x OR tenant_id IS NULL` shows it to every tenant. It usually comes from a code path
that forgot to set the tenant, which keeps producing them.

## Example
```sql
select count(*) from public.cold_call_logs where org_id is null;   -- 1
```

## Fix
Give the rows their tenant (from their parent) or delete them, then forbid NULLs:
```sql
update public.cold_call_logs l set org_id = c.org_id
from public.contacts c where c.id = l.contact_id and l.org_id is null;
alter table public.cold_call_logs alter column org_id set not null;
```
"#,
};

pub(crate) fn finding(t: &TablePlan, ch: &Check, r: &CheckResult, sample: Option<f64>) -> Finding {
    let col = &ch.columns[0];
    let table = qualify(&t.schema, &t.name);
    META.finding(format!(
        "{} of {} have no tenant ({col} IS NULL){}",
        rows(r.count),
        t.qualified(),
        sample_note(sample)
    ))
    .impact(format!(
        "these {} rows belong to no tenant: tenant-filtered policies hide them from everyone, and any \
         `{col} IS NULL` branch shows them to every tenant",
        t.name
    ))
    .evidence("tenant_column", col.clone())
    .fix(
        format!(
            "-- give each row its tenant (from its parent) or delete it, then:\n\
             -- SELECT count(*) FROM {table} WHERE {c} IS NULL;\n\
             ALTER TABLE {table} ALTER COLUMN {c} SET NOT NULL;",
            c = quote_ident(col)
        ),
        FixSafety::Review,
    )
}
