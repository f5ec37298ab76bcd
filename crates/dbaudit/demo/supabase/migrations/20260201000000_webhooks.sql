-- Outgoing webhooks, delivered with pg_net (stood in for when this machine lacks it).
create extension if not exists pg_net;

-- planted defect: no primary key
create table public.webhook_deliveries (
  org_id uuid not null references public.organizations(id) on delete cascade,
  url text not null,
  status integer,
  delivered_at timestamptz
);
create index webhook_deliveries_org_id_idx on public.webhook_deliveries (org_id);
alter table public.webhook_deliveries enable row level security;
create policy "webhook_deliveries: same organization" on public.webhook_deliveries
  for select to authenticated using (org_id = (select public.current_org_id()));

alter publication supabase_realtime add table public.tasks;
