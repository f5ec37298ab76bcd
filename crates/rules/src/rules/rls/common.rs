//! What the RLS rules share: which API roles a policy applies to, which expressions a command
//! checks, which policies another one already covers, what a function body touches.

use crate::analysis::exposure::{ApiRolesSource, RelationExposure};
use crate::analysis::policy::{wrap_calls_in_select, ExprFacts, PolicyFacts};
use crate::analysis::tenancy::Scope;
use crate::{qualify, Context};
use dbaudit_catalog::{Function, Oid, Policy, PolicyCommand, Relation};
use std::collections::{HashMap, HashSet};

/// The API roles and, for each, the roles whose grants and policies reach it (itself, the roles
/// it inherits from, `PUBLIC`).
pub struct ApiRoles {
    pub roles: Vec<(String, Vec<String>)>,
}

impl ApiRoles {
    pub fn new(ctx: &Context<'_>) -> ApiRoles {
        ApiRoles {
            roles: ctx
                .exposure
                .api_roles
                .iter()
                .map(|r| (r.clone(), ctx.index.effective_roles(r)))
                .collect(),
        }
    }

    /// The API roles a policy applies to.
    pub fn of_policy(&self, p: &Policy) -> Vec<&str> {
        self.roles
            .iter()
            .filter(|(_, eff)| p.roles.iter().any(|pr| pr == "PUBLIC" || eff.contains(pr)))
            .map(|(r, _)| r.as_str())
            .collect()
    }

    /// The API roles a policy applies to that hold a privilege its command needs on the table:
    /// the callers for whom it decides something.
    pub fn reaching(&self, p: &Policy, exposure: &RelationExposure) -> Vec<String> {
        let needed = command_privileges(p.command);
        self.of_policy(p)
            .into_iter()
            .filter(|r| {
                exposure
                    .roles
                    .get(*r)
                    .is_some_and(|privs| privs.iter().any(|x| needed.contains(&x.as_str())))
            })
            .map(str::to_string)
            .collect()
    }

    /// Roles (API roles, or `PUBLIC`) that can execute a function.
    pub fn executing(&self, f: &Function) -> Vec<String> {
        let mut out: Vec<String> = self
            .roles
            .iter()
            .filter(|(_, eff)| {
                f.grants
                    .iter()
                    .any(|g| g.privilege == "EXECUTE" && eff.contains(&g.grantee))
            })
            .map(|(r, _)| r.clone())
            .collect();
        out.sort();
        out
    }

    /// API roles with USAGE on a schema.
    pub fn using_schema(&self, ctx: &Context<'_>, schema: &str) -> Vec<String> {
        let Some(s) = ctx.index.schema(schema) else {
            return vec![];
        };
        self.roles
            .iter()
            .filter(|(_, eff)| {
                s.grants
                    .iter()
                    .any(|g| g.privilege == "USAGE" && eff.contains(&g.grantee))
            })
            .map(|(r, _)| r.clone())
            .collect()
    }
}

/// Whether the project has API roles at all: without them (a backend that connects with a
/// trusted role and filters tenants in code), RLS is not what isolates tenants.
pub fn has_api_roles(ctx: &Context<'_>) -> bool {
    ctx.exposure.source != ApiRolesSource::None
}

/// Table privileges a policy's command needs.
pub fn command_privileges(c: PolicyCommand) -> &'static [&'static str] {
    match c {
        PolicyCommand::Select => &["SELECT"],
        PolicyCommand::Insert => &["INSERT"],
        PolicyCommand::Update => &["UPDATE"],
        PolicyCommand::Delete => &["DELETE"],
        PolicyCommand::All => &["SELECT", "INSERT", "UPDATE", "DELETE"],
    }
}

/// One clause a command evaluates.
pub struct Clause<'a> {
    /// `USING` or `WITH CHECK`.
    pub name: &'static str,
    pub text: &'a str,
    pub facts: &'a ExprFacts,
}

/// The clauses of a policy, as Postgres applies them: SELECT and DELETE check USING, INSERT
/// checks WITH CHECK, UPDATE and ALL check USING for the old row and WITH CHECK (or USING when
/// there is none) for the new one.
pub fn clauses<'a>(p: &'a Policy, f: &'a PolicyFacts) -> Vec<Clause<'a>> {
    let mut out = vec![];
    let using = p.using.as_deref().zip(f.using.as_ref());
    let check = p.with_check.as_deref().zip(f.with_check.as_ref());
    if !matches!(p.command, PolicyCommand::Insert) {
        if let Some((text, facts)) = using {
            out.push(Clause {
                name: "USING",
                text,
                facts,
            });
        }
    }
    if !matches!(p.command, PolicyCommand::Select | PolicyCommand::Delete) {
        if let Some((text, facts)) = check {
            out.push(Clause {
                name: "WITH CHECK",
                text,
                facts,
            });
        }
    }
    out
}

/// A tenant-owned table: directly scoped, scoped via a parent, or the tenant root.
pub fn is_tenant_data(ctx: &Context<'_>, rel: Oid) -> bool {
    matches!(
        ctx.tenancy.scope(rel),
        Some(Scope::Root | Scope::Direct { .. } | Scope::ViaParent { .. })
    )
}

/// The project's own way of checking a tenant column, for fixes: the most common policy clause
/// that is exactly one comparison of `column` with a claim, a helper or a sub-query
/// (`(company_id = current_company_id())`), with its per-row calls wrapped in `(SELECT ...)`.
/// `prefer` (the table at hand) wins ties.
pub fn tenant_pattern(ctx: &Context<'_>, column: &str, prefer: Oid) -> Option<String> {
    use crate::analysis::policy::{Against, Gate};
    let mut counts: HashMap<String, (usize, bool, String)> = HashMap::new();
    for p in &ctx.catalog.policies {
        let Some(f) = ctx.policies.of(p.oid) else {
            continue;
        };
        for (text, facts) in [(&p.using, &f.using), (&p.with_check, &f.with_check)] {
            let (Some(text), Some(facts)) = (text, facts) else {
                continue;
            };
            let [c] = facts.comparisons.as_slice() else {
                continue;
            };
            if c.column != column
                || facts.gate != Gate::Rows
                || facts.columns.len() != 1
                || !matches!(
                    c.against,
                    Against::Claim { .. } | Against::Function { .. } | Against::Subquery { .. }
                )
                || c.against
                    == (Against::Function {
                        name: "auth.uid".into(),
                    })
                || facts.reads_user_metadata
            {
                continue;
            }
            let key = normalise(Some(text)).unwrap_or_default();
            let e = counts.entry(key).or_insert_with(|| {
                // Suggest it evaluated once per statement.
                let calls: Vec<String> = facts
                    .per_row_calls
                    .iter()
                    .chain(facts.per_row_helpers.iter())
                    .cloned()
                    .collect();
                let text = wrap_calls_in_select(text, &calls).unwrap_or_else(|| text.clone());
                (0, false, text)
            });
            e.0 += 1;
            e.1 |= p.table == prefer;
        }
    }
    counts
        .into_values()
        .max_by(|a, b| (a.0, a.1, &b.2).cmp(&(b.0, b.1, &a.2)))
        .map(|(_, _, text)| text)
}

/// Expression text normalised for comparison: Postgres prints expressions canonically
/// (`pg_get_expr`), so collapsing whitespace (and dropping it next to parentheses and commas)
/// outside string literals is enough; hand-written text compares the same way.
pub fn normalise(text: Option<&str>) -> Option<String> {
    let t = text?;
    let mut out = String::with_capacity(t.len());
    let mut in_quote = false;
    let mut pending_space = false;
    for ch in t.trim().chars() {
        if in_quote {
            out.push(ch);
            if ch == '\'' {
                in_quote = false;
            }
            continue;
        }
        if ch.is_whitespace() {
            pending_space = true;
            continue;
        }
        if pending_space
            && !matches!(ch, '(' | ')' | ',')
            && !out.ends_with(['(', ')', ','])
            && !out.is_empty()
        {
            out.push(' ');
        }
        pending_space = false;
        if ch == '\'' {
            in_quote = true;
        }
        out.push(ch);
    }
    Some(out)
}

/// A policy that another policy of the same table already covers: same kind (permissive or
/// restrictive), the broader one applies to every role the narrower one does, and it checks the
/// same expressions for the narrower one's command (a FOR ALL policy covers FOR SELECT with the
/// same USING). Exact duplicates: the later one (by name) is the redundant one.
pub struct Redundancy<'c> {
    pub redundant: &'c Policy,
    pub covered_by: &'c Policy,
}

pub fn redundancies<'c>(policies: &[&'c Policy]) -> Vec<Redundancy<'c>> {
    let norm: HashMap<Oid, (Option<String>, Option<String>)> = policies
        .iter()
        .map(|p| {
            (
                p.oid,
                (
                    normalise(p.using.as_deref()),
                    normalise(p.with_check.as_deref()),
                ),
            )
        })
        .collect();
    let roles_cover = |broad: &Policy, narrow: &Policy| {
        broad.roles.iter().any(|r| r == "PUBLIC")
            || narrow.roles.iter().all(|r| broad.roles.contains(r))
    };
    let mut out: Vec<Redundancy<'c>> = vec![];
    let mut taken: HashSet<Oid> = HashSet::new();
    let mut sorted: Vec<&'c Policy> = policies.to_vec();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for narrow in &sorted {
        for broad in &sorted {
            if narrow.oid == broad.oid
                || narrow.permissive != broad.permissive
                || taken.contains(&broad.oid)
                || !roles_cover(broad, narrow)
            {
                continue;
            }
            let (nu, nc) = &norm[&narrow.oid];
            let (bu, bc) = &norm[&broad.oid];
            // The new-row check of commands that have one.
            let b_check = bc.as_ref().or(bu.as_ref());
            let n_check = nc.as_ref().or(nu.as_ref());
            let same_command = narrow.command == broad.command;
            let covers = match (broad.command, narrow.command) {
                (PolicyCommand::All, PolicyCommand::Select | PolicyCommand::Delete) => {
                    nu.is_some() && nu == bu
                }
                (PolicyCommand::All, PolicyCommand::Insert) => {
                    nc.is_some() && nc.as_ref() == b_check
                }
                (PolicyCommand::All, PolicyCommand::Update) => {
                    nu.is_some() && nu == bu && n_check == b_check
                }
                _ if same_command => {
                    // A duplicate: same roles both ways, same expressions; keep the first.
                    roles_cover(narrow, broad) && nu == bu && nc == bc && broad.name < narrow.name
                }
                _ => false,
            };
            if covers {
                taken.insert(narrow.oid);
                out.push(Redundancy {
                    redundant: narrow,
                    covered_by: broad,
                });
                break;
            }
        }
    }
    out
}

/// `"a", "b"` for messages.
pub fn quoted_list<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(|s| format!("\"{}\"", s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `ON schema.table` target of a policy statement.
pub fn policy_target(p: &Policy) -> String {
    format!(
        "{} ON {}",
        crate::quote_ident(&p.name),
        qualify(&p.schema, &p.table_name)
    )
}

/// Relations a view or materialized view reads, through other views and materialized views,
/// down to tables.
pub fn base_relations<'c>(ctx: &Context<'c>, view: &Relation) -> Vec<&'c Relation> {
    let mut out: Vec<&'c Relation> = vec![];
    let mut seen: HashSet<Oid> = HashSet::new();
    let mut stack: Vec<Oid> = view.depends_on.clone();
    while let Some(oid) = stack.pop() {
        if !seen.insert(oid) || oid == view.oid {
            continue;
        }
        let Some(r) = ctx.index.relation(oid) else {
            continue;
        };
        if matches!(
            r.kind,
            dbaudit_catalog::RelationKind::View | dbaudit_catalog::RelationKind::MaterializedView
        ) {
            stack.extend(r.depends_on.iter().copied());
        } else {
            out.push(r);
        }
    }
    out.sort_by_key(|r| (r.schema.clone(), r.name.clone()));
    out
}

/// Does the role bypass row-level security on this table (superuser, BYPASSRLS, or its owner
/// when RLS is not forced)? Unknown roles are assumed to (the owner of a migration-built
/// database is a superuser).
pub fn bypasses_rls(ctx: &Context<'_>, role: &str, table: &Relation) -> bool {
    if table.owner == role && !table.rls_forced {
        return true;
    }
    match ctx.index.role(role) {
        Some(r) => r.superuser || r.bypass_rls,
        None => true,
    }
}

/// Source text with comments and string literals blanked out, lower case.
fn code_only(source: &str) -> String {
    let b = source.as_bytes();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'-' && b.get(i + 1) == Some(&b'-') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
            out.push(' ');
            continue;
        }
        if c == b'\'' {
            i += 1;
            while i < b.len() {
                if b[i] == b'\'' {
                    if b.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i += 1;
            out.push_str(" '' ");
            continue;
        }
        out.push((c as char).to_ascii_lowercase());
        i += 1;
    }
    out
}

/// The words of a source text: identifiers (dotted names kept whole, quotes dropped).
fn words(code: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    for ch in code.chars() {
        if ch.is_ascii_alphanumeric() || ch == '_' || ch == '.' || ch == '$' {
            cur.push(ch);
        } else if ch == '"' {
            continue;
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Tables of `candidates` a function body reads or writes: a name (or `schema.name`) right
/// after FROM, JOIN, UPDATE or INTO, outside comments and string literals.
pub fn tables_in_source<'c>(
    source: &str,
    default_schema: &str,
    candidates: &[&'c Relation],
) -> Vec<&'c Relation> {
    let code = code_only(source);
    let w = words(&code);
    let mut out: Vec<&'c Relation> = vec![];
    for pair in w.windows(2) {
        if !matches!(
            pair[0].as_str(),
            "from" | "join" | "update" | "into" | "only"
        ) {
            continue;
        }
        let name = pair[1].as_str();
        let (schema, table) = match name.split_once('.') {
            Some((s, t)) => (s, t),
            None => (default_schema, name),
        };
        let hit = candidates.iter().find(|r| {
            r.name.eq_ignore_ascii_case(table)
                && (r.schema.eq_ignore_ascii_case(schema)
                    || (!name.contains('.') && r.schema == "public"))
        });
        if let Some(r) = hit {
            if !out.iter().any(|o| o.oid == r.oid) {
                out.push(r);
            }
        }
    }
    out
}

/// Does a function body identify the caller (`auth.uid()`, `auth.jwt()`, the JWT claims)?
pub fn source_identifies_caller(source: &str) -> bool {
    let code = code_only(source);
    let compact: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    ["auth.uid(", "auth.jwt(", "auth.email(", "auth.role("]
        .iter()
        .any(|k| compact.contains(k))
        || source.contains("request.jwt.claim")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_strings_are_not_code() {
        let c = code_only("select 1 -- from users\n/* from orgs */ from t where x = 'from users'");
        assert!(!c.contains("users"));
        assert!(!c.contains("orgs"));
        assert!(c.contains("from t"));
    }

    #[test]
    fn normalisation_ignores_spacing_but_not_literals() {
        assert_eq!(
            normalise(Some("( company_id = current_company_id() )")),
            normalise(Some("(company_id = current_company_id())"))
        );
        assert_ne!(
            normalise(Some("(a = 'x  y')")),
            normalise(Some("(a = 'x y')"))
        );
        assert_eq!(
            normalise(Some("(EXISTS ( SELECT 1\n   FROM m\n  WHERE (m.a = t.b)))")).unwrap(),
            "(EXISTS(SELECT 1 FROM m WHERE(m.a = t.b)))"
        );
    }

    #[test]
    fn caller_identification() {
        assert!(source_identifies_caller(
            "select company_id from public.users where id = auth.uid ()"
        ));
        assert!(!source_identifies_caller("select 1 -- auth.uid()"));
    }
}
