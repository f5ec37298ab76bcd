-- Audit trail of what members did.
-- planted defect: row-level security is never enabled, and Supabase grants every new public
-- table to anon and authenticated, so anyone with the anon key reads every organization's log.
create table public.audit_log (
  id bigint generated always as identity primary key,
  org_id uuid not null references public.organizations(id) on delete cascade,
  actor_id uuid references public.members(id) on delete set null,
  action text not null,
  created_at timestamptz not null default now()
);
create index audit_log_org_id_idx on public.audit_log (org_id);
create index audit_log_actor_id_idx on public.audit_log (actor_id);
