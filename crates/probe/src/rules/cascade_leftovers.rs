//! PROBE002 `cascade-leftovers`: after deleting a tenant (or a user) inside the probe's
//! rolled-back transaction, rows that pointed at it remain, or the delete failed.

use dbaudit_findings::{Category, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "PROBE002",
    name: "cascade-leftovers",
    category: Category::Probe,
    default_severity: Severity::High,
    source: RuleSource::Probe,
    summary: "after deleting a tenant (or a user) inside a rolled-back transaction, rows that pointed at it remain, or the delete failed",
    docs: r#"## What it does
After the isolation checks, still inside the rolled-back transaction and as the owner, the probe
deletes tenant B from the tenant root, then B's user (the profile row and the `auth.users` row),
and counts the rows that still point at what was deleted, through declared foreign keys and
through references dbaudit infers (a `company_id` or `user_id` column without a constraint). A
delete that fails is reported with the foreign key that blocked it.

## Why it matters
Offboarding a customer or honouring an account deletion request must remove their data. Rows
left behind are personal data you promised to delete, orphans that break joins, and, when ids are
reused or re-linked, data that can surface in another tenant. A delete that fails means the
offboarding job fails in production.

## Example
```sql
create table public.atomic_appointments (
  id uuid primary key,
  org_id uuid not null          -- no foreign key: survives the organization's deletion
);
-- delete from public.organizations where id = '<B>';  -- 1 row of atomic_appointments remains
```

## Fix
Declare the reference with the delete behaviour you want (`on delete cascade` for tenant data,
`set null` for optional links), cleaning existing orphans first:
```sql
delete from public.atomic_appointments a
 where not exists (select 1 from public.organizations o where o.id = a.org_id);
alter table public.atomic_appointments
  add constraint atomic_appointments_org_id_fkey foreign key (org_id)
  references public.organizations (id) on delete cascade not valid;
alter table public.atomic_appointments validate constraint atomic_appointments_org_id_fkey;
```
"#,
};
