-- Taskboard: a multi-tenant project tracker on Supabase. Tenants are organizations; every
-- tenant-owned row carries org_id, and policies resolve the caller's organization through
-- public.current_org_id().
create extension if not exists pgcrypto;

create table public.organizations (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  created_at timestamptz not null default now()
);

create table public.members (
  id uuid primary key references auth.users(id) on delete cascade,
  org_id uuid not null references public.organizations(id) on delete cascade,
  role text not null default 'member' check (role in ('owner', 'admin', 'member')),
  created_at timestamptz not null default now()
);
create index members_org_id_idx on public.members (org_id);

create function public.current_org_id() returns uuid
language sql stable security definer set search_path = ''
as $$
  select org_id from public.members where id = (select auth.uid())
$$;

create table public.projects (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.organizations(id) on delete cascade,
  name text not null,
  created_at timestamptz not null default now()
);
create index projects_org_id_idx on public.projects (org_id);

create table public.tasks (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.organizations(id) on delete cascade,
  project_id uuid not null references public.projects(id) on delete cascade,
  -- planted defect: no index on assignee_id
  assignee_id uuid references public.members(id) on delete set null,
  title text not null,
  due_date date,
  created_at timestamptz not null default now()
);
create index tasks_org_id_idx on public.tasks (org_id);
-- the composite index covers the project_id foreign key
create index tasks_project_created_idx on public.tasks (project_id, created_at desc);

alter table public.organizations enable row level security;
alter table public.members enable row level security;
alter table public.projects enable row level security;
alter table public.tasks enable row level security;

create policy "organizations: members read their own" on public.organizations
  for select to authenticated using (id = (select public.current_org_id()));
create policy "members: same organization" on public.members
  for select to authenticated using (org_id = (select public.current_org_id()));
create policy "projects: same organization" on public.projects
  for all to authenticated
  using (org_id = (select public.current_org_id()))
  with check (org_id = (select public.current_org_id()));
create policy "tasks: same organization" on public.tasks
  for all to authenticated
  using (org_id = (select public.current_org_id()))
  with check (org_id = (select public.current_org_id()));
