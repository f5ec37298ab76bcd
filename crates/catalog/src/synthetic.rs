//! Large synthetic multi-tenant schemas, for benchmarks of the catalog load and the schema rules.
//!
//! [`schema_sql`] returns the SQL text of a schema shaped like a SaaS backend's: an
//! `organizations` tenant root, a `memberships` table (`org_id`, `user_id`), and numbered tenant
//! tables (`t_00001`, ...) each with an `org_id` foreign key to `organizations` and, while the
//! foreign-key budget lasts, references to earlier tables; some foreign keys are indexed and some
//! are not; row-level security policies in the Supabase style resolve the tenant through
//! `memberships` and `auth.uid()` (which reads `request.jwt.claim.sub` / `request.jwt.claims`
//! with `current_setting`), some through a `SECURITY DEFINER` helper. The output is deterministic.
//!
//! The text is split into transactions of [`SyntheticSchema::batch_tables`] tables (explicit
//! `BEGIN`/`COMMIT`): creating thousands of tables in one transaction would exhaust the lock
//! table. It can be sent whole with `batch_execute` or `psql -f`, or piece by piece with
//! [`schema_batches`].
//!
//! ```
//! use dbaudit_catalog::synthetic::{schema_sql, SyntheticSchema};
//! let sql = schema_sql(&SyntheticSchema { tables: 10, foreign_keys: 12, policies: 20, ..Default::default() });
//! assert!(sql.contains("CREATE TABLE public.organizations"));
//! ```

use crate::quote_ident;
use std::fmt::Write;

/// Parameters of a synthetic schema. The defaults are the benchmark of the design: 5,000 tables,
/// 20,000 columns, 8,000 foreign keys, 10,000 policies.
#[derive(Debug, Clone)]
pub struct SyntheticSchema {
    /// Tables in all, `organizations` and `memberships` included (at least 2).
    pub tables: usize,
    /// Columns per table (at least `id` and `org_id`; a table with more foreign keys than fit
    /// gets the extra columns it needs).
    pub columns_per_table: usize,
    /// Foreign keys in all: `memberships.org_id`, then each tenant table's `org_id`, then
    /// references between tenant tables, spread over the tables.
    pub foreign_keys: usize,
    /// Policies in all, spread over `memberships` and the tenant tables.
    pub policies: usize,
    /// Schema of the tables (created if missing).
    pub schema: String,
    /// Create schema `auth` and `auth.uid()` (`CREATE OR REPLACE`). Turn off on a cluster that
    /// already has Supabase's.
    pub define_auth: bool,
    /// The role policies apply to (created `NOLOGIN` if missing); `None` for `PUBLIC`.
    pub policy_role: Option<String>,
    /// Tables per transaction.
    pub batch_tables: usize,
}

impl Default for SyntheticSchema {
    fn default() -> Self {
        SyntheticSchema {
            tables: 5_000,
            columns_per_table: 4,
            foreign_keys: 8_000,
            policies: 10_000,
            schema: "public".to_string(),
            define_auth: true,
            policy_role: Some("authenticated".to_string()),
            batch_tables: 100,
        }
    }
}

/// Filler columns, cycled after `id`, `org_id` and the reference columns.
const FILLER: &[(&str, &str)] = &[
    ("name", "text NOT NULL DEFAULT ''"),
    ("created_at", "timestamptz NOT NULL DEFAULT now()"),
    ("status", "text NOT NULL DEFAULT 'active'"),
    ("amount", "numeric(12,2)"),
    ("payload", "jsonb"),
    ("is_active", "boolean NOT NULL DEFAULT true"),
    ("updated_at", "timestamptz"),
    ("quantity", "integer"),
    ("notes", "text"),
    ("external_ref", "varchar(64)"),
];

/// Deterministic pseudo-random mixing (splitmix64 finaliser).
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn table_name(i: usize) -> String {
    format!("t_{i:05}")
}

/// The schema as one SQL text (transactions of `batch_tables` tables).
pub fn schema_sql(p: &SyntheticSchema) -> String {
    schema_batches(p).concat()
}

/// The schema as SQL texts to run in order, each one transaction (`BEGIN` ... `COMMIT`).
pub fn schema_batches(p: &SyntheticSchema) -> Vec<String> {
    let tables = p.tables.max(2);
    let tenant_tables = tables - 2;
    let s = quote_ident(&p.schema);
    let role = p
        .policy_role
        .as_deref()
        .map(quote_ident)
        .unwrap_or_else(|| "PUBLIC".to_string());

    // Foreign keys: memberships.org_id, then each tenant table's org_id, then references.
    let mut fk_budget = p.foreign_keys;
    let memberships_fk = fk_budget > 0;
    fk_budget = fk_budget.saturating_sub(1);
    let org_fks = fk_budget.min(tenant_tables);
    fk_budget -= org_fks;
    // refs[i] = earlier tenant tables that tenant table i (1-based) references.
    let mut refs: Vec<Vec<usize>> = vec![Vec::new(); tenant_tables + 1];
    if tenant_tables >= 2 {
        let mut i = 2;
        while fk_budget > 0 {
            let parent = 1 + (mix(i as u64 ^ ((refs[i].len() as u64) << 32)) as usize) % (i - 1);
            refs[i].push(parent);
            fk_budget -= 1;
            i = if i == tenant_tables { 2 } else { i + 1 };
        }
    }
    // Policies: one on memberships, the rest round-robin over the tenant tables.
    let mut policies_per_table = vec![0usize; tenant_tables + 1];
    let mut membership_policies = 0;
    if p.policies > 0 {
        membership_policies = 1;
        let rest = p.policies - 1;
        if tenant_tables == 0 {
            membership_policies += rest;
        } else {
            for k in 0..rest {
                policies_per_table[1 + k % tenant_tables] += 1;
            }
        }
    }

    let mut batches = Vec::new();
    let mut out = String::new();
    out.push_str("BEGIN;\n");
    let _ = writeln!(out, "CREATE SCHEMA IF NOT EXISTS {s};");
    if p.define_auth {
        out.push_str(
            "CREATE SCHEMA IF NOT EXISTS auth;\n\
             CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$\n  \
             SELECT nullif(coalesce(current_setting('request.jwt.claim.sub', true),\n    \
             (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')), '')::uuid\n$$;\n",
        );
    }
    if let Some(r) = &p.policy_role {
        let lit = r.replace('\'', "''");
        let _ = writeln!(
            out,
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '{lit}') \
             THEN CREATE ROLE {role} NOLOGIN; END IF; END $$;"
        );
    }
    let filler = |out: &mut String, have: usize| {
        for k in have..p.columns_per_table {
            let (name, ty) = FILLER[(k - have) % FILLER.len()];
            let round = (k - have) / FILLER.len();
            if round == 0 {
                let _ = write!(out, ",\n  {name} {ty}");
            } else {
                let _ = write!(out, ",\n  {name}_{round} {ty}");
            }
        }
    };

    // organizations
    let _ = write!(
        out,
        "CREATE TABLE {s}.organizations (\n  id uuid PRIMARY KEY DEFAULT gen_random_uuid()"
    );
    filler(&mut out, 1);
    out.push_str("\n);\n");
    let _ = writeln!(
        out,
        "COMMENT ON TABLE {s}.organizations IS 'Tenants: every other table hangs off one.';"
    );
    // memberships
    let _ = write!(
        out,
        "CREATE TABLE {s}.memberships (\n  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,\n  \
         org_id uuid NOT NULL{},\n  user_id uuid NOT NULL,\n  role text NOT NULL DEFAULT 'member'",
        if memberships_fk {
            format!(" REFERENCES {s}.organizations (id) ON DELETE CASCADE")
        } else {
            String::new()
        }
    );
    filler(&mut out, 4);
    out.push_str(",\n  UNIQUE (org_id, user_id)\n);\n");
    let _ = writeln!(
        out,
        "CREATE INDEX memberships_user_id_idx ON {s}.memberships (user_id);"
    );
    let _ = writeln!(
        out,
        "ALTER TABLE {s}.memberships ENABLE ROW LEVEL SECURITY;"
    );
    for k in 0..membership_policies {
        let _ = writeln!(
            out,
            "CREATE POLICY memberships_own_{k} ON {s}.memberships FOR SELECT TO {role} \
             USING (user_id = (SELECT auth.uid()));"
        );
    }
    // The SECURITY DEFINER helper some policies use instead of a sub-select.
    let _ = writeln!(
        out,
        "CREATE OR REPLACE FUNCTION {s}.user_org_ids() RETURNS SETOF uuid LANGUAGE sql STABLE \
         SECURITY DEFINER SET search_path = '' AS $$\n  \
         SELECT m.org_id FROM {s}.memberships m WHERE m.user_id = auth.uid()\n$$;"
    );

    for i in 1..=tenant_tables {
        let t = table_name(i);
        let _ = write!(
            out,
            "CREATE TABLE {s}.{t} (\n  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,\n  \
             org_id uuid NOT NULL"
        );
        if i <= org_fks {
            let _ = write!(out, " REFERENCES {s}.organizations (id) ON DELETE CASCADE");
        }
        let mut ref_cols = Vec::new();
        for (k, &parent) in refs[i].iter().enumerate() {
            let base = format!("{}_id", table_name(parent));
            let col = if refs[i][..k].contains(&parent) {
                format!("{base}_{k}")
            } else {
                base
            };
            let action = match mix(i as u64 * 31 + k as u64) % 3 {
                0 => " ON DELETE CASCADE",
                1 => " ON DELETE SET NULL",
                _ => "",
            };
            let _ = write!(
                out,
                ",\n  {col} bigint REFERENCES {s}.{} (id){action}",
                table_name(parent)
            );
            ref_cols.push(col);
        }
        filler(&mut out, 2 + ref_cols.len());
        out.push_str("\n);\n");
        // Every other org_id is indexed; two references in three.
        if i % 2 == 0 {
            let _ = writeln!(out, "CREATE INDEX {t}_org_id_idx ON {s}.{t} (org_id);");
        }
        for (k, col) in ref_cols.iter().enumerate() {
            if (i + k) % 3 != 0 {
                let _ = writeln!(out, "CREATE INDEX {t}_{col}_idx ON {s}.{t} ({col});");
            }
        }
        if i % 10 == 0 {
            let _ = writeln!(
                out,
                "COMMENT ON TABLE {s}.{t} IS 'Synthetic tenant table {i}.';"
            );
        }
        // Most tables have RLS; a few are left without (what audits look for).
        if i % 97 != 0 {
            let _ = writeln!(out, "ALTER TABLE {s}.{t} ENABLE ROW LEVEL SECURITY;");
        }
        let via_subselect = format!(
            "org_id IN (SELECT m.org_id FROM {s}.memberships m WHERE m.user_id = (SELECT auth.uid()))"
        );
        let via_helper = format!("org_id IN (SELECT {s}.user_org_ids())");
        for k in 0..policies_per_table[i] {
            let expr = if (i + k) % 2 == 0 {
                &via_subselect
            } else {
                &via_helper
            };
            let (cmd, clause) = match k % 5 {
                0 => ("SELECT", format!("USING ({expr})")),
                1 => ("INSERT", format!("WITH CHECK ({expr})")),
                2 => ("UPDATE", format!("USING ({expr}) WITH CHECK ({expr})")),
                3 => ("DELETE", format!("USING ({expr})")),
                _ => ("ALL", format!("USING ({expr})")),
            };
            let _ = writeln!(
                out,
                "CREATE POLICY {t}_{}_{k} ON {s}.{t} FOR {cmd} TO {role} {clause};",
                cmd.to_ascii_lowercase()
            );
        }
        if i % p.batch_tables.max(1) == 0 {
            out.push_str("COMMIT;\n");
            batches.push(std::mem::take(&mut out));
            out.push_str("BEGIN;\n");
        }
    }
    out.push_str("COMMIT;\n");
    batches.push(out);
    batches
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(sql: &str, needle: &str) -> usize {
        sql.matches(needle).count()
    }

    #[test]
    fn counts_match_the_parameters() {
        let p = SyntheticSchema {
            tables: 50,
            columns_per_table: 5,
            foreign_keys: 80,
            policies: 100,
            batch_tables: 10,
            ..Default::default()
        };
        let sql = schema_sql(&p);
        assert_eq!(count(&sql, "CREATE TABLE "), 50);
        assert_eq!(count(&sql, " REFERENCES "), 80);
        assert_eq!(count(&sql, "CREATE POLICY "), 100);
        assert_eq!(count(&sql, "BEGIN;"), count(&sql, "COMMIT;"));
        assert_eq!(schema_batches(&p).len(), 5);
        assert_eq!(sql, schema_sql(&p), "deterministic");
    }

    #[test]
    fn default_is_the_benchmark() {
        let p = SyntheticSchema::default();
        let sql = schema_sql(&p);
        assert_eq!(count(&sql, "CREATE TABLE "), 5_000);
        assert_eq!(count(&sql, " REFERENCES "), 8_000);
        assert_eq!(count(&sql, "CREATE POLICY "), 10_000);
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("public"), "public");
        assert_eq!(quote_ident("My Schema"), "\"My Schema\"");
    }
}
