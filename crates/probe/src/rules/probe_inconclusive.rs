//! PROBE003 `probe-inconclusive`: a table the probe could not test, with the reason.

use dbaudit_findings::{Category, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "PROBE003",
    name: "probe-inconclusive",
    category: Category::Probe,
    default_severity: Severity::Info,
    source: RuleSource::Probe,
    summary: "a table the probe could not test, with the reason (e.g. could not create rows, own rows not visible)",
    docs: r#"## What it does
Lists the tenant-scoped tables (and views, functions) for which the probe could prove neither a
leak nor isolation: it could not create rows for them (a NOT NULL column of an unsupported type, a
CHECK it could not satisfy, a trigger that failed), or the member of tenant A could not see their
own row, so an empty answer for tenant B would prove nothing.

## Why it matters
dbaudit only calls a table *isolated* when it proved it: the member saw their own row and not the
other tenant's. An inconclusive table is not known to be safe; it is a gap in the proof.

## Example
```text
public.invoices: own row not visible (0 rows of tenant A as authenticated): the policies may read
a claim or a setting the probe does not know about
```

## Fix
Read the reason. When the policies resolve the tenant in a way dbaudit does not recognise, name it
in `dbaudit.toml` (`tenant_root`, `tenant_columns`); when a table cannot be filled, a default or a
simpler CHECK usually helps. Otherwise test the table by hand with the reproducer pattern of
`rls-isolation-leak`.
"#,
};
