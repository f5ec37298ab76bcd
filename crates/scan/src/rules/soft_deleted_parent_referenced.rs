//! DATA004 `soft-deleted-parent-referenced`: a live row that references a soft-deleted parent.

use super::{rows, sample_note, CheckResult};
use crate::plan::{Check, CheckKind, TablePlan};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};
use dbaudit_rules::qualify;

pub static META: RuleMeta = RuleMeta {
    code: "DATA004",
    name: "soft-deleted-parent-referenced",
    category: Category::Data,
    default_severity: Severity::Moderate,
    source: RuleSource::Data,
    summary: "live row (deleted_at IS NULL) referencing a soft-deleted parent",
    docs: r#"## What it does
With `--scan-data`, for every reference (foreign key, or confidently inferred one) to a table with
a `deleted_at` column, counts the rows that point at a parent whose `deleted_at` is set. When the
referencing table has its own `deleted_at`, only its live rows (`deleted_at IS NULL`) count.

## Why it matters
Soft delete hides the parent from the application, not from its children: the live rows keep
showing (or billing, or messaging) something the user deleted, and the screens that list them
break on a parent they can no longer load. It means the soft delete does not cascade the way a
real delete would.

## Example
```sql
select count(*) from public.appointments a
join public.contacts c on c.id = a.contact_id
where c.deleted_at is not null and a.deleted_at is null;
```

## Fix
Cascade the soft delete to the children (in the code path or a trigger), and clean up the rows
already there:
```sql
update public.appointments a set deleted_at = c.deleted_at
from public.contacts c
where c.id = a.contact_id and c.deleted_at is not null and a.deleted_at is null;
```
"#,
};

pub(crate) fn finding(t: &TablePlan, ch: &Check, r: &CheckResult, sample: Option<f64>) -> Finding {
    let CheckKind::SoftDeletedParentReferenced {
        parent,
        parent_columns,
        child_deleted_at,
    } = &ch.kind
    else {
        unreachable!("soft-deleted-parent-referenced finding of another check")
    };
    let cols = ch.columns.join(", ");
    let table = qualify(&t.schema, &t.name);
    let (parent_q, pn) = super::parent_name(parent);
    let on = super::join_on(&ch.columns, parent_columns);
    let live = if *child_deleted_at {
        " AND c.deleted_at IS NULL"
    } else {
        ""
    };
    let (set, what) = if *child_deleted_at {
        (
            format!(
                "UPDATE {table} c SET deleted_at = p.deleted_at FROM {} p WHERE {on} AND p.deleted_at IS NOT NULL{live};",
                parent_q
            ),
            "live ",
        )
    } else {
        (
            format!(
                "-- SELECT c.* FROM {table} c JOIN {} p ON {on} WHERE p.deleted_at IS NOT NULL;",
                parent_q
            ),
            "",
        )
    };
    META.finding(format!(
        "{} {what}of {} reference a soft-deleted {parent} row through {cols}{}",
        rows(r.count),
        t.qualified(),
        sample_note(sample)
    ))
    .impact(format!(
        "these {} rows keep showing something that was deleted, and screens that load their {pn} fail or show a blank",
        t.name
    ))
    .object(parent.clone())
    .evidence("parent", format!("{parent}({})", parent_columns.join(", ")))
    .evidence("only_live_rows", *child_deleted_at)
    .fix(
        format!("-- cascade the soft delete in the code path (or a trigger); for the rows already there:\n{set}"),
        FixSafety::Review,
    )
}
