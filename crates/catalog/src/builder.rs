//! Build a [`Catalog`] by hand, for rule tests that need no database.
//!
//! ```
//! use dbaudit_catalog::builder::CatalogBuilder;
//! use dbaudit_catalog::FkAction;
//! let cat = CatalogBuilder::supabase()
//!     .table("public.orgs", &["id uuid not null"])
//!     .pk("public.orgs", &["id"])
//!     .table("public.projects", &["id uuid not null", "org_id uuid not null"])
//!     .fk("public.projects", &["org_id"], "public.orgs", &["id"], FkAction::Cascade)
//!     .index("public.projects", "projects_org_id_idx", &["org_id"])
//!     .build();
//! assert_eq!(cat.relations.len(), 3); // auth.users comes with the Supabase preset
//! ```

use crate::model::*;

pub struct CatalogBuilder {
    cat: Catalog,
    next_oid: Oid,
}

fn split_name(qualified: &str) -> (String, String) {
    match qualified.split_once('.') {
        Some((s, t)) => (s.to_string(), t.to_string()),
        None => ("public".to_string(), qualified.to_string()),
    }
}

fn type_category(t: &str) -> char {
    let t = t.to_ascii_lowercase();
    if t.starts_with("text") || t.starts_with("character") || t.starts_with("varchar") {
        'S'
    } else if t.starts_with("int")
        || t.starts_with("bigint")
        || t.starts_with("smallint")
        || t.starts_with("numeric")
        || t.starts_with("real")
        || t.starts_with("double")
    {
        'N'
    } else if t.starts_with("bool") {
        'B'
    } else if t.starts_with("timestamp") || t.starts_with("date") || t.starts_with("time") {
        'D'
    } else if t.ends_with("[]") {
        'A'
    } else {
        'U'
    }
}

fn grant(grantee: &str, privilege: &str) -> Grant {
    Grant {
        grantee: grantee.to_string(),
        privilege: privilege.to_ascii_uppercase(),
        grantable: false,
    }
}

impl Default for CatalogBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl CatalogBuilder {
    /// A bare PostgreSQL 15 database: superuser `postgres`, schema `public`, no API roles.
    pub fn new() -> Self {
        let mut b = CatalogBuilder {
            cat: Catalog {
                server_version: "15.0".into(),
                server_version_num: 150000,
                database: "test".into(),
                current_user: "postgres".into(),
                ..Catalog::default()
            },
            next_oid: 16384,
        };
        b = b.role_with("postgres", true, true, &[]);
        b.schema_with("public", &[("PUBLIC", "USAGE")])
    }

    /// Supabase preset: API roles, `service_role` with BYPASSRLS, `auth.users`, and USAGE on
    /// `public` for the API roles. Tables added later get no grants unless asked for
    /// ([`Self::supabase_grants`] mimics Supabase's default privileges).
    pub fn supabase() -> Self {
        let mut b = Self::new()
            .role_with("anon", false, false, &[])
            .role_with("authenticated", false, false, &[])
            .role_with("service_role", false, true, &[])
            .role_with(
                "authenticator",
                false,
                false,
                &["anon", "authenticated", "service_role"],
            )
            .schema_with("auth", &[("anon", "USAGE"), ("authenticated", "USAGE")]);
        for role in ["anon", "authenticated", "service_role"] {
            b.cat
                .schemas
                .iter_mut()
                .find(|s| s.name == "public")
                .expect("public exists")
                .grants
                .push(grant(role, "USAGE"));
        }
        b.table(
            "auth.users",
            &[
                "id uuid not null",
                "email character varying(255)",
                "raw_app_meta_data jsonb",
                "raw_user_meta_data jsonb",
            ],
        )
        .pk("auth.users", &["id"])
    }

    fn oid(&mut self) -> Oid {
        self.next_oid += 1;
        self.next_oid
    }

    pub fn role_with(
        mut self,
        name: &str,
        superuser: bool,
        bypass_rls: bool,
        member_of: &[&str],
    ) -> Self {
        let oid = self.oid();
        self.cat.roles.push(Role {
            oid,
            name: name.into(),
            superuser,
            bypass_rls: bypass_rls || superuser,
            can_login: false,
            inherit: true,
            member_of: member_of.iter().map(|s| s.to_string()).collect(),
        });
        self
    }

    pub fn role(self, name: &str) -> Self {
        self.role_with(name, false, false, &[])
    }

    pub fn schema_with(mut self, name: &str, grants: &[(&str, &str)]) -> Self {
        let oid = self.oid();
        self.cat.schemas.push(Schema {
            oid,
            name: name.into(),
            owner: "postgres".into(),
            managed: MANAGED_SCHEMAS.contains(&name),
            grants: grants.iter().map(|(g, p)| grant(g, p)).collect(),
        });
        self
    }

    pub fn schema(self, name: &str) -> Self {
        self.schema_with(name, &[])
    }

    fn add_relation(mut self, qualified: &str, kind: RelationKind, columns: &[&str]) -> Self {
        let (schema, name) = split_name(qualified);
        if !self.cat.schemas.iter().any(|s| s.name == schema) {
            self = self.schema(&schema);
        }
        let oid = self.oid();
        let columns = columns
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let (col, rest) = spec.split_once(' ').unwrap_or((spec, "text"));
                let lower = rest.to_ascii_lowercase();
                let not_null = lower.contains("not null");
                let type_name = lower.replace("not null", "").trim().to_string();
                Column {
                    num: i as i16 + 1,
                    name: col.to_string(),
                    type_category: type_category(&type_name),
                    base_type_name: type_name.clone(),
                    type_name,
                    type_oid: 0,
                    not_null,
                    default: None,
                    identity: None,
                    generated: false,
                    grants: vec![],
                    comment: None,
                }
            })
            .collect();
        self.cat.relations.push(Relation {
            oid,
            schema,
            name,
            kind,
            owner: "postgres".into(),
            rls_enabled: false,
            rls_forced: false,
            row_estimate: None,
            size_bytes: 0,
            columns,
            grants: vec![],
            partition_of: None,
            view_definition: None,
            security_invoker: false,
            security_barrier: false,
            depends_on: vec![],
            comment: None,
        });
        self
    }

    /// A table; each column is `"name type [not null]"`.
    pub fn table(self, qualified: &str, columns: &[&str]) -> Self {
        self.add_relation(qualified, RelationKind::Table, columns)
    }

    pub fn view(self, qualified: &str, columns: &[&str], reads: &[&str]) -> Self {
        let mut b = self.add_relation(qualified, RelationKind::View, columns);
        let deps: Vec<Oid> = reads.iter().map(|r| b.oid_of(r)).collect();
        let rel = b.cat.relations.last_mut().expect("just added");
        rel.depends_on = deps;
        rel.view_definition = Some(format!("SELECT * FROM {}", reads.join(", ")));
        b
    }

    pub fn oid_of(&self, qualified: &str) -> Oid {
        let (schema, name) = split_name(qualified);
        self.cat
            .relations
            .iter()
            .find(|r| r.schema == schema && r.name == name)
            .unwrap_or_else(|| panic!("builder: no relation {qualified}"))
            .oid
    }

    fn rel_mut(&mut self, qualified: &str) -> &mut Relation {
        let oid = self.oid_of(qualified);
        self.cat
            .relations
            .iter_mut()
            .find(|r| r.oid == oid)
            .expect("found by oid")
    }

    pub fn rls(mut self, qualified: &str, enabled: bool) -> Self {
        self.rel_mut(qualified).rls_enabled = enabled;
        self
    }

    pub fn rows(mut self, qualified: &str, rows: i64) -> Self {
        self.rel_mut(qualified).row_estimate = Some(rows);
        self
    }

    pub fn grant(mut self, qualified: &str, role: &str, privileges: &[&str]) -> Self {
        let rel = self.rel_mut(qualified);
        for p in privileges {
            rel.grants.push(grant(role, p));
        }
        self
    }

    /// What Supabase's default privileges give every new public table: ALL to the API roles.
    pub fn supabase_grants(mut self, qualified: &str) -> Self {
        for role in ["anon", "authenticated", "service_role"] {
            self = self.grant(
                qualified,
                role,
                &[
                    "SELECT",
                    "INSERT",
                    "UPDATE",
                    "DELETE",
                    "TRUNCATE",
                    "REFERENCES",
                    "TRIGGER",
                ],
            );
        }
        self
    }

    pub fn column_default(mut self, qualified: &str, column: &str, default: &str) -> Self {
        let rel = self.rel_mut(qualified);
        if let Some(c) = rel.columns.iter_mut().find(|c| c.name == column) {
            c.default = Some(default.to_string());
        }
        self
    }

    fn add_constraint(
        mut self,
        qualified: &str,
        name: &str,
        kind: ConstraintKind,
        columns: &[&str],
        definition: String,
        foreign_key: Option<ForeignKey>,
    ) -> Self {
        let table = self.oid_of(qualified);
        let (schema, _) = split_name(qualified);
        let oid = self.oid();
        self.cat.constraints.push(Constraint {
            oid,
            name: name.into(),
            schema,
            table,
            kind,
            columns: columns.iter().map(|s| s.to_string()).collect(),
            definition,
            validated: true,
            deferrable: false,
            deferred: false,
            foreign_key,
        });
        self
    }

    /// Primary key, with its backing unique index.
    pub fn pk(self, qualified: &str, columns: &[&str]) -> Self {
        let (_, t) = split_name(qualified);
        let name = format!("{t}_pkey");
        let def = format!("PRIMARY KEY ({})", columns.join(", "));
        let b = self.add_constraint(
            qualified,
            &name,
            ConstraintKind::PrimaryKey,
            columns,
            def,
            None,
        );
        b.index_full(qualified, &name, columns, true, true, true, None)
    }

    /// Unique constraint, with its backing index.
    pub fn unique(self, qualified: &str, columns: &[&str]) -> Self {
        let (_, t) = split_name(qualified);
        let name = format!("{t}_{}_key", columns.join("_"));
        let def = format!("UNIQUE ({})", columns.join(", "));
        let b = self.add_constraint(qualified, &name, ConstraintKind::Unique, columns, def, None);
        b.index_full(qualified, &name, columns, true, false, true, None)
    }

    pub fn fk(
        self,
        qualified: &str,
        columns: &[&str],
        ref_table: &str,
        ref_columns: &[&str],
        on_delete: FkAction,
    ) -> Self {
        let (_, t) = split_name(qualified);
        let (ref_schema, ref_name) = split_name(ref_table);
        let name = format!("{t}_{}_fkey", columns.join("_"));
        let def = format!(
            "FOREIGN KEY ({}) REFERENCES {ref_table}({}) ON DELETE {}",
            columns.join(", "),
            ref_columns.join(", "),
            on_delete.sql()
        );
        let fk = ForeignKey {
            ref_table: self.oid_of(ref_table),
            ref_schema,
            ref_name,
            ref_columns: ref_columns.iter().map(|s| s.to_string()).collect(),
            on_delete,
            on_update: FkAction::NoAction,
            match_type: 's',
        };
        self.add_constraint(
            qualified,
            &name,
            ConstraintKind::ForeignKey,
            columns,
            def,
            Some(fk),
        )
    }

    /// Mark the most recently added constraint NOT VALID.
    pub fn not_valid(mut self) -> Self {
        if let Some(c) = self.cat.constraints.last_mut() {
            c.validated = false;
        }
        self
    }

    /// A plain, valid, non-unique btree index.
    pub fn index(self, qualified: &str, name: &str, columns: &[&str]) -> Self {
        self.index_full(qualified, name, columns, false, false, true, None)
    }

    /// Any index. A column spelled `(expr)` is an expression key.
    #[allow(clippy::too_many_arguments)]
    pub fn index_full(
        mut self,
        qualified: &str,
        name: &str,
        columns: &[&str],
        unique: bool,
        primary: bool,
        valid: bool,
        predicate: Option<&str>,
    ) -> Self {
        let table = self.oid_of(qualified);
        let (schema, _) = split_name(qualified);
        let oid = self.oid();
        let key_columns: Vec<Option<String>> = columns
            .iter()
            .map(|c| (!c.starts_with('(')).then(|| c.to_string()))
            .collect();
        let expressions = columns
            .iter()
            .filter(|c| c.starts_with('('))
            .map(|c| c.to_string())
            .collect::<Vec<_>>();
        let mut definition = format!(
            "CREATE {}INDEX {name} ON {qualified} USING btree ({})",
            if unique { "UNIQUE " } else { "" },
            columns.join(", ")
        );
        if let Some(p) = predicate {
            definition.push_str(&format!(" WHERE {p}"));
        }
        self.cat.indexes.push(Index {
            oid,
            schema,
            name: name.into(),
            table,
            key_columns,
            include_columns: vec![],
            expressions: (!expressions.is_empty()).then(|| expressions.join(", ")),
            predicate: predicate.map(str::to_string),
            unique,
            primary,
            valid,
            ready: valid,
            method: "btree".into(),
            definition,
            constraint: (unique || primary).then(|| name.to_string()),
            size_bytes: 8192,
        });
        self
    }

    pub fn policy(
        mut self,
        qualified: &str,
        name: &str,
        command: PolicyCommand,
        roles: &[&str],
        using: Option<&str>,
        with_check: Option<&str>,
    ) -> Self {
        let table = self.oid_of(qualified);
        let (schema, table_name) = split_name(qualified);
        let oid = self.oid();
        self.cat.policies.push(Policy {
            oid,
            schema,
            table_name,
            table,
            name: name.into(),
            command,
            permissive: true,
            roles: if roles.is_empty() {
                vec!["PUBLIC".into()]
            } else {
                roles.iter().map(|s| s.to_string()).collect()
            },
            using: using.map(str::to_string),
            with_check: with_check.map(str::to_string),
            functions: vec![],
            relations: vec![],
        });
        self
    }

    pub fn extension(mut self, name: &str, schema: &str) -> Self {
        self.cat.extensions.push(Extension {
            name: name.into(),
            schema: schema.into(),
            version: "1.0".into(),
        });
        self
    }

    /// A function (`schema.name`) with its body, e.g. a trigger function:
    /// `.function("public.set_updated_at", "trigger", "plpgsql", "begin new.updated_at = now(); return new; end")`.
    pub fn function(mut self, qualified: &str, result: &str, language: &str, source: &str) -> Self {
        let (schema, name) = split_name(qualified);
        let oid = self.oid();
        self.cat.functions.push(Function {
            oid,
            schema,
            name,
            identity_args: String::new(),
            result: result.into(),
            kind: 'f',
            language: language.into(),
            security_definer: false,
            volatility: 'v',
            leakproof: false,
            config: vec![],
            owner: "postgres".into(),
            grants: vec![grant("PUBLIC", "EXECUTE")],
            source: Some(source.into()),
            comment: None,
        });
        self
    }

    /// A row-level, enabled trigger on `table` calling `function` (`schema.name`, added with
    /// [`Self::function`] or not); `timing` is `before` / `after` / `instead_of`, `events` any of
    /// `insert`, `update`, `delete`, `truncate`.
    pub fn trigger(
        mut self,
        table: &str,
        name: &str,
        function: &str,
        timing: &str,
        events: &[&str],
    ) -> Self {
        let table_oid = self.oid_of(table);
        let (fs, fname) = split_name(function);
        let function_oid = self
            .cat
            .functions
            .iter()
            .find(|f| f.schema == fs && f.name == fname)
            .map(|f| f.oid)
            .unwrap_or(0);
        let oid = self.oid();
        self.cat.triggers.push(Trigger {
            oid,
            name: name.into(),
            table: table_oid,
            function: format!("{fs}.{fname}"),
            function_oid,
            timing: timing.into(),
            events: events.iter().map(|e| e.to_string()).collect(),
            row_level: true,
            enabled: true,
            update_columns: vec![],
            definition: format!(
                "CREATE TRIGGER {name} {} {} ON {table} FOR EACH ROW EXECUTE FUNCTION {fs}.{fname}()",
                timing.to_ascii_uppercase(),
                events.join(" OR ").to_ascii_uppercase()
            ),
        });
        self
    }

    /// A CHECK constraint over `columns`, e.g. `.check("public.deals", "deals_value_check", &["value"], "value >= 0")`.
    pub fn check(self, qualified: &str, name: &str, columns: &[&str], expr: &str) -> Self {
        let def = format!("CHECK ({expr})");
        self.add_constraint(qualified, name, ConstraintKind::Check, columns, def, None)
    }

    /// Escape hatch for anything the helpers don't cover.
    pub fn with(mut self, f: impl FnOnce(&mut Catalog)) -> Self {
        f(&mut self.cat);
        self
    }

    pub fn build(self) -> Catalog {
        self.cat
    }
}
