-- Speed up the "due this week" view.
-- planted defect: the column is due_date, not due_at, so this migration fails on a fresh database.
create index tasks_due_idx
  on public.tasks (org_id, due_at);
