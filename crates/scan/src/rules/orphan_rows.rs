//! DATA001 `orphan-rows`: rows whose reference matches no parent.

use super::{rows, sample_note, CheckResult};
use crate::plan::{Check, CheckKind, TablePlan};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};
use dbaudit_rules::{qualify, quote_ident};

pub static META: RuleMeta = RuleMeta {
    code: "DATA001",
    name: "orphan-rows",
    category: Category::Data,
    default_severity: Severity::High,
    source: RuleSource::Data,
    summary: "rows whose reference (declared NOT VALID FK, or inferred relation without FK, type-mismatched ones included) matches no parent; count and sample keys",
    docs: r#"## What it does
With `--scan-data`, counts the rows whose reference points at no parent row, for every reference
the database does not check:

* foreign keys created `NOT VALID` and never validated (rows older than the constraint were never
  checked);
* references the schema rules infer with confidence but that have no foreign key
  (`missing-foreign-key`, `tenant-foreign-key-missing`);
* references stored in the wrong type (`foreign-key-type-mismatch`, a `text` column holding
  uuids): the value is converted the way the fix would convert it, and values that do not even
  convert (`'leads-2025'` in a uuid reference) are counted separately.

NULL references are not orphans. Each finding gives the count and up to three primary keys of the
offending rows (never other columns, and never a key column that looks secret or personal).

## Why it matters
An orphan row is data that no screen shows (joins drop it), no cascade deletes and no report
counts correctly; it usually records a bug or a manual delete. It also blocks the fix:
`VALIDATE CONSTRAINT` fails as long as one orphan remains.

## Example
```sql
-- contacts.list_id is text and holds contact_lists ids; one list was deleted
select count(*) from public.contacts c
left join public.contact_lists l on l.id::text = c.list_id
where c.list_id is not null and l.id is null;   -- 2
```

## Fix
Look at the rows (the finding lists a few keys), then either clear the reference or delete them,
and add (or validate) the foreign key so it cannot happen again:
```sql
update public.contacts c set list_id = null
where list_id is not null
  and not exists (select 1 from public.contact_lists l where l.id::text = c.list_id);
alter table public.contacts validate constraint contacts_list_id_fkey;
```
"#,
};

pub(crate) fn finding(t: &TablePlan, ch: &Check, r: &CheckResult, sample: Option<f64>) -> Finding {
    let CheckKind::OrphanRows {
        parent,
        parent_columns,
        declared,
        converted_to,
        why,
    } = &ch.kind
    else {
        unreachable!("orphan-rows finding of another check")
    };
    let cols = ch.columns.join(", ");
    let mut msg = format!(
        "{} of {} reference no {parent} row through {cols}{}",
        rows(r.count),
        t.qualified(),
        sample_note(sample)
    );
    if let Some(to) = converted_to {
        if r.invalid > 0 {
            msg.push_str(&format!(" ({} of them not even a valid {to})", r.invalid));
        }
    }
    let table = qualify(&t.schema, &t.name);
    let (parent_q, _) = super::parent_name(parent);
    let join = ch.columns.len() == 1 && converted_to.is_none();
    let list = if join {
        format!(
            "SELECT c.* FROM {table} c WHERE c.{col} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {} p WHERE p.{} = c.{col});",
            parent_q,
            quote_ident(&parent_columns[0]),
            col = quote_ident(&ch.columns[0]),
        )
    } else {
        format!("-- the rows: rerun the data scan's query for {table}")
    };
    let fix = match declared {
        Some(name) => format!(
            "-- review, then clear or delete the orphans:\n{list}\nALTER TABLE {table} VALIDATE CONSTRAINT {};",
            quote_ident(name)
        ),
        None => format!(
            "-- review, then clear or delete the orphans before adding the foreign key \
             (see missing-foreign-key / foreign-key-type-mismatch):\n{list}"
        ),
    };
    let mut f = META
        .finding(msg)
        .impact(format!(
            "joins from {} to {parent} silently drop these rows, and {} cannot be validated until they are cleaned",
            t.name,
            if declared.is_some() { "the foreign key" } else { "a foreign key" }
        ))
        .evidence("parent", format!("{parent}({})", parent_columns.join(", ")))
        .fix(fix, FixSafety::Review);
    match declared {
        Some(name) => {
            f = f
                .evidence("constraint", name.clone())
                .evidence("basis", "foreign key NOT VALID")
        }
        None => f = f.evidence("basis", "inferred reference without a foreign key"),
    }
    if let Some(w) = why {
        f = f.evidence("why", w.clone());
    }
    if let Some(to) = converted_to {
        f = f
            .evidence("compared_as", to.clone())
            .evidence(&format!("not_valid_{}", to.replace(' ', "_")), r.invalid)
            .evidence("missing_parent", r.count - r.invalid);
    }
    f
}
