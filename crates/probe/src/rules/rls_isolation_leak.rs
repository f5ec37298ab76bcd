//! PROBE001 `rls-isolation-leak`: acting as a member of tenant A, a row of tenant B was read,
//! inserted, updated or deleted, or a row of A was moved to B.

use dbaudit_findings::{Category, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "PROBE001",
    name: "rls-isolation-leak",
    category: Category::Probe,
    default_severity: Severity::Critical,
    source: RuleSource::Probe,
    summary: "acting as a member of tenant A (real role, real JWT claims), a row of tenant B was read, inserted, updated, deleted, or a row of A was moved to B; the report carries the SQL that reproduces it",
    docs: r#"## What it does
With `--probe`, dbaudit opens one transaction that is always rolled back, creates two tenants A
and B with a row of each in every tenant-scoped table, and then acts as a signed-in member of A
exactly as Supabase's API does (`SET LOCAL ROLE authenticated` and `request.jwt.claims` with
`sub`, `role`, `aud`, `email`, `app_metadata`, `user_metadata` and every claim the policies read,
set to A), and as `anon`. For each table it tries, each in a savepoint: reading B's row, inserting
a row for B, updating and deleting B's row, and updating A's row so that it belongs to B. Views
and exposed `SECURITY DEFINER` functions over tenant tables are read the same way.

A finding means the database *did* it: it names the command, the row it reached and carries the
exact SQL (role, claims, statement) that reproduces it inside a transaction.

## Why it matters
This is not a static guess about a policy: any signed-in user of your application can do what the
reproducer does with the public API key, reading or writing another customer's data.

## Example
```sql
create policy "System can insert voicemail logs" on public.voicemail_logs
  for insert to authenticated with check (true);
-- the probe, as a member of Acme:
-- insert into public.voicemail_logs (company_id, call_id) values ('<Globex>', '<Globex call>');
-- INSERT 0 1
```

## Fix
Make every policy compare the tenant column with the caller's tenant, in `USING` *and*
`WITH CHECK` (an `UPDATE` policy without `WITH CHECK` lets a row be moved to another tenant):
```sql
drop policy "System can insert voicemail logs" on public.voicemail_logs;
create policy "voicemail_logs: company insert" on public.voicemail_logs
  for insert to authenticated
  with check (company_id = (select public.current_company_id()));
```
Writes that only the backend performs belong to the `service_role`, which bypasses RLS: they need
no policy for `authenticated` at all. Views over tenant tables need `security_invoker = true`;
`SECURITY DEFINER` functions must check the caller's tenant themselves (or be revoked from
`anon` and `authenticated`).
"#,
};
