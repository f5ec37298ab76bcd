//! Running a [`ProbePlan`]: one transaction, always rolled back; every step in a savepoint.

use crate::plan::{ArgGen, FillTable, Gen, ProbePlan, RolePlan};
use crate::values::quote_literal;
use crate::{
    CascadeResult, CommandResult, Leftover, ProbeError, ProbeOptions, ProbeOutcome, TableResult,
    Verdict, CASCADE_LEFTOVERS, PROBE_INCONCLUSIVE, RLS_ISOLATION_LEAK,
};
use dbaudit_findings::Finding;
use futures::FutureExt;
use serde_json::{json, Map, Value};
use std::panic::AssertUnwindSafe;
use std::time::Instant;
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

pub async fn probe(
    plan: ProbePlan,
    client: &Client,
    opts: &ProbeOptions,
) -> Result<ProbeOutcome, ProbeError> {
    let started = Instant::now();
    client
        .batch_execute(&format!(
            "BEGIN; SET LOCAL statement_timeout = {}; SET LOCAL lock_timeout = 5000",
            opts.statement_timeout.as_millis().max(1)
        ))
        .await
        .map_err(|e| ProbeError::Db {
            context: "starting the probe transaction".into(),
            source: e,
        })?;
    let mut run = Run::new(&plan, client);
    let result = AssertUnwindSafe(run.all()).catch_unwind().await;
    // Always: whatever happened above.
    let rolled_back = client.batch_execute("ROLLBACK").await;
    let outcome = match result {
        Ok(Ok(())) => run.into_outcome(opts, started),
        Ok(Err(e)) => return Err(e),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            return Err(ProbeError::Panicked(msg));
        }
    };
    rolled_back.map_err(ProbeError::Rollback)?;
    Ok(outcome)
}

/// A row the probe inserted: its values (as `to_jsonb` gives them) and how to find it again.
#[derive(Debug, Clone)]
struct Row {
    values: Map<String, Value>,
    /// `WHERE` condition selecting exactly this row.
    ident: String,
}

/// A database error, reduced to what verdicts need.
#[derive(Debug, Clone)]
struct DbErr {
    code: String,
    message: String,
    constraint: Option<String>,
    table: Option<String>,
}

impl DbErr {
    fn from(e: &tokio_postgres::Error) -> DbErr {
        match e.as_db_error() {
            Some(d) => DbErr {
                code: d.code().code().to_string(),
                message: d.message().to_string(),
                constraint: d.constraint().map(str::to_string),
                table: d.table().map(str::to_string),
            },
            None => DbErr {
                code: String::new(),
                message: e.to_string(),
                constraint: None,
                table: None,
            },
        }
    }
    fn rls(&self) -> bool {
        self.code == SqlState::INSUFFICIENT_PRIVILEGE.code()
            && self.message.contains("row-level security")
    }
    fn no_privilege(&self) -> bool {
        self.code == SqlState::INSUFFICIENT_PRIVILEGE.code() && !self.rls()
    }
    /// Raised by a check Postgres runs after the RLS `WITH CHECK` of an INSERT: the policy
    /// accepted the row.
    fn after_rls(&self) -> bool {
        self.code == SqlState::UNIQUE_VIOLATION.code()
            || self.code == SqlState::FOREIGN_KEY_VIOLATION.code()
            || self.code == SqlState::EXCLUSION_VIOLATION.code()
    }
    fn text(&self) -> String {
        format!("{} (SQLSTATE {})", self.message, self.code)
    }
}

/// Fatal: the connection or the transaction is gone.
fn fatal(e: &tokio_postgres::Error) -> bool {
    e.is_closed()
        || e.as_db_error().is_some_and(|d| {
            d.code() == &SqlState::IN_FAILED_SQL_TRANSACTION
                || d.code() == &SqlState::ADMIN_SHUTDOWN
        })
}

struct Run<'p> {
    plan: &'p ProbePlan,
    client: &'p Client,
    tag: String,
    rng: u64,
    serial: u64,
    /// auth user ids of A and B.
    users: [String; 2],
    /// Per fill: A's and B's rows (a shared row is in both).
    rows: Vec<[Option<Row>; 2]>,
    fill_errors: Vec<Option<String>>,
    tables: Vec<TableResult>,
    cascades: Vec<CascadeResult>,
    findings: Vec<Finding>,
    notes: Vec<String>,
}

const T: [&str; 2] = ["A", "B"];

impl<'p> Run<'p> {
    fn new(plan: &'p ProbePlan, client: &'p Client) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(42)
            ^ (std::process::id() as u64) << 32;
        let mut r = Run {
            plan,
            client,
            tag: String::new(),
            rng: seed | 1,
            serial: 0,
            users: [String::new(), String::new()],
            rows: vec![[None, None]; plan.fills.len()],
            fill_errors: vec![None; plan.fills.len()],
            tables: vec![],
            cascades: vec![],
            findings: vec![],
            notes: vec![],
        };
        r.tag = format!("{:06x}", r.next() & 0xff_ffff);
        r.users = [r.uuid(), r.uuid()];
        r
    }

    fn next(&mut self) -> u64 {
        // splitmix64
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        let a = (a & 0xffff_ffff_ffff_0fff) | 0x4000;
        let b = (b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xffff,
            b >> 48,
            b & 0xffff_ffff_ffff
        )
    }

    fn into_outcome(self, opts: &ProbeOptions, started: Instant) -> ProbeOutcome {
        let mut findings: Vec<Finding> = self
            .findings
            .into_iter()
            .map(Finding::with_fingerprint)
            .collect();
        dbaudit_findings::sort_findings(&mut findings);
        let mut notes = self.notes;
        if opts.live {
            notes.push(
                "live database: every row the probe wrote was rolled back, but sequences it used advanced and triggers with side effects outside the transaction (notifications, HTTP calls, queues) may have acted"
                    .into(),
            );
        }
        ProbeOutcome {
            live: opts.live,
            tenant_root: self.plan.tenant_root.clone(),
            elapsed_ms: started.elapsed().as_millis() as u64,
            tables: self.tables,
            cascades: self.cascades,
            findings,
            notes,
        }
    }

    // ---- statements ----------------------------------------------------------------------

    async fn batch(&self, sql: &str, context: &str) -> Result<(), ProbeError> {
        self.client
            .batch_execute(sql)
            .await
            .map_err(|e| ProbeError::Db {
                context: context.into(),
                source: e,
            })
    }

    /// Run `sql` in a savepoint; keep its effects when `keep` and it worked.
    async fn step_exec(&self, sql: &str, keep: bool) -> Result<Result<u64, DbErr>, ProbeError> {
        self.batch("SAVEPOINT probe_step", "savepoint").await?;
        let r = self.client.execute(sql, &[]).await;
        self.end_step(r, keep).await
    }

    /// `SELECT count(*) ...` (or any one-bigint query) in a savepoint, always rolled back.
    async fn step_count(&self, sql: &str) -> Result<Result<i64, DbErr>, ProbeError> {
        self.batch("SAVEPOINT probe_step", "savepoint").await?;
        let r = self.client.query_one(sql, &[]).await;
        Ok(self
            .end_step(r, false)
            .await?
            .map(|row| row.get::<_, i64>(0)))
    }

    async fn step_rows(
        &self,
        sql: &str,
        keep: bool,
    ) -> Result<Result<Vec<tokio_postgres::Row>, DbErr>, ProbeError> {
        self.batch("SAVEPOINT probe_step", "savepoint").await?;
        let r = self.client.query(sql, &[]).await;
        self.end_step(r, keep).await
    }

    async fn end_step<X>(
        &self,
        r: Result<X, tokio_postgres::Error>,
        keep: bool,
    ) -> Result<Result<X, DbErr>, ProbeError> {
        match r {
            Ok(x) => {
                let sql = if keep {
                    "RELEASE SAVEPOINT probe_step"
                } else {
                    "ROLLBACK TO SAVEPOINT probe_step; RELEASE SAVEPOINT probe_step"
                };
                self.batch(sql, "ending a savepoint").await?;
                Ok(Ok(x))
            }
            Err(e) if fatal(&e) => Err(ProbeError::Db {
                context: "the probe's connection or transaction failed".into(),
                source: e,
            }),
            Err(e) => {
                let d = DbErr::from(&e);
                self.batch(
                    "ROLLBACK TO SAVEPOINT probe_step; RELEASE SAVEPOINT probe_step",
                    "rolling back a savepoint",
                )
                .await?;
                Ok(Err(d))
            }
        }
    }

    // ---- values ---------------------------------------------------------------------------

    fn tenant_key(&self, t: usize) -> Option<String> {
        let root = self.plan.root?;
        let rf = &self.plan.fills[root];
        let row = self.rows[root][t].as_ref()?;
        let key = rf.key.first()?;
        row.values.get(key).map(json_text)
    }

    /// The SQL expression for one column of tenant `t`'s row, with candidate `choice`.
    fn render(
        &mut self,
        col: &crate::plan::ColumnFill,
        t: usize,
        choice: usize,
        n: u64,
    ) -> Result<String, String> {
        Ok(match &col.gen {
            Gen::TenantKey => {
                let k = self.tenant_key(t).ok_or("the tenant root row is missing")?;
                format!("{}::{}", quote_literal(&k), col.sql_type)
            }
            Gen::User => format!("{}::{}", quote_literal(&self.users[t]), col.sql_type),
            Gen::Ref { fill, column } => {
                let parent = &self.plan.fills[*fill];
                let row = self.rows[*fill][t]
                    .as_ref()
                    .ok_or_else(|| format!("its parent {} could not be filled", parent.name))?;
                match row.values.get(column) {
                    Some(Value::Null) | None => format!("NULL::{}", col.sql_type),
                    Some(v) => format!("{}::{}", quote_literal(&json_text(v)), col.sql_type),
                }
            }
            Gen::Literal { candidates } => {
                let c = candidates
                    .get(choice)
                    .or(candidates.last())
                    .cloned()
                    .unwrap_or_default();
                let mut s = c
                    .replace("{n}", &n.to_string())
                    .replace("{tag}", &self.tag)
                    .replace("{t}", &T[t].to_ascii_lowercase());
                while s.contains("{uuid}") {
                    let u = self.uuid();
                    s = s.replacen("{uuid}", &u, 1);
                }
                s
            }
        })
    }

    fn insert_sql(
        &mut self,
        fi: usize,
        t: usize,
        choices: &[usize],
        n: u64,
        returning: bool,
    ) -> Result<String, String> {
        let f = &self.plan.fills[fi];
        let mut cols = vec![];
        let mut vals = vec![];
        for (i, c) in f.columns.iter().enumerate() {
            cols.push(dbaudit_rules::quote_ident(&c.name));
            vals.push(self.render(c, t, choices[i], n)?);
        }
        let ret = if returning {
            " RETURNING to_jsonb(probe_row.*)::text, probe_row.ctid::text"
        } else {
            ""
        };
        Ok(if cols.is_empty() {
            format!("INSERT INTO {} AS probe_row DEFAULT VALUES{ret}", f.sql)
        } else {
            format!(
                "INSERT INTO {} AS probe_row ({}) VALUES ({}){ret}",
                f.sql,
                cols.join(", "),
                vals.join(", ")
            )
        })
    }

    fn ident(&self, f: &FillTable, values: &Map<String, Value>, ctid: &str) -> String {
        if f.key.is_empty()
            || f.key
                .iter()
                .any(|k| values.get(k).is_none_or(Value::is_null))
        {
            return format!("ctid = {}::tid", quote_literal(ctid));
        }
        f.key
            .iter()
            .zip(&f.key_types)
            .map(|(k, ty)| {
                format!(
                    "{} = {}::{}",
                    dbaudit_rules::quote_ident(k),
                    quote_literal(&json_text(&values[k])),
                    ty
                )
            })
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    fn claims(&self, role: &RolePlan, t: usize) -> Value {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        if !role.signed_in {
            return json!({"role": role.name, "iss": "supabase", "iat": now, "exp": now + 3600});
        }
        let mut c = json!({
            "sub": self.users[t],
            "role": role.name,
            "aud": "authenticated",
            "email": format!("probe-{}-{}@example.test", self.tag, T[t].to_ascii_lowercase()),
            "phone": "",
            "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": {},
            "iss": "supabase",
            "iat": now,
            "exp": now + 3600,
            "aal": "aal1",
            "is_anonymous": false,
        });
        if let Some(k) = self.tenant_key(t) {
            for path in &self.plan.claims {
                set_path(&mut c, path, Value::String(k.clone()));
            }
        }
        c
    }

    /// `SET LOCAL ROLE` + claims + settings, as statements (also for reproducers).
    fn impersonation(&self, role: &RolePlan, t: usize) -> String {
        let mut s = format!(
            "SET LOCAL ROLE {};\nSELECT set_config('request.jwt.claims', {}, true);",
            dbaudit_rules::quote_ident(&role.name),
            quote_literal(&self.claims(role, t).to_string())
        );
        if role.signed_in {
            if let Some(k) = self.tenant_key(t) {
                for g in &self.plan.settings {
                    s.push_str(&format!(
                        "\nSELECT set_config({}, {}, true);",
                        quote_literal(g),
                        quote_literal(&k)
                    ));
                }
            }
        }
        s
    }

    // ---- phases ---------------------------------------------------------------------------

    async fn all(&mut self) -> Result<(), ProbeError> {
        if let Some(why) = &self.plan.skipped {
            self.notes.push(format!("probe skipped: {why}"));
            self.findings.push(
                PROBE_INCONCLUSIVE
                    .finding(format!("The isolation probe could not run: {why}"))
                    .object("probe")
                    .impact("No table was proven isolated."),
            );
            return Ok(());
        }
        self.fill().await?;
        let roles = self.plan.roles.clone();
        for role in &roles {
            let imp = self.impersonation(role, 0);
            self.batch(&imp, "impersonating the member of tenant A")
                .await?;
            for fi in 0..self.plan.fills.len() {
                if self.plan.fills[fi].probe {
                    let cmds = self.test_table(fi, role).await?;
                    self.record_table(fi, cmds);
                }
            }
            self.test_views(role).await?;
            self.test_functions(role).await?;
            self.batch("RESET ROLE", "reset role").await?;
        }
        self.finish_tables();
        self.cascade().await?;
        Ok(())
    }

    async fn fill(&mut self) -> Result<(), ProbeError> {
        let member = RolePlan {
            name: "authenticated".into(),
            signed_in: true,
        };
        for fi in 0..self.plan.fills.len() {
            let f = &self.plan.fills[fi];
            if let Some(why) = &f.unfillable {
                self.fill_errors[fi] = Some(why.clone());
                continue;
            }
            let tenants: &[usize] = if f.per_tenant { &[0, 1] } else { &[0] };
            for &t in tenants {
                // Triggers that read the caller (auth.uid()) see the row's own user.
                let claims = self.claims(&member, t).to_string();
                self.batch(
                    &format!(
                        "SELECT set_config('request.jwt.claims', {}, true)",
                        quote_literal(&claims)
                    ),
                    "setting claims",
                )
                .await?;
                match self.insert_row(fi, t).await? {
                    Ok(row) => {
                        if !self.plan.fills[fi].per_tenant {
                            self.rows[fi][1] = Some(row.clone());
                        }
                        self.rows[fi][t] = Some(row);
                    }
                    Err(why) => {
                        self.fill_errors[fi] =
                            Some(format!("could not create tenant {}'s row: {why}", T[t]));
                        break;
                    }
                }
            }
        }
        self.batch(
            "SELECT set_config('request.jwt.claims', '', true)",
            "clearing claims",
        )
        .await?;
        // The auth users carry their tenant in app_metadata / user_metadata too.
        if let Some(a) = self.plan.auth_users {
            for t in 0..2 {
                let c = self.claims(&member, t);
                if self.rows[a][t].is_none() {
                    continue;
                }
                let sql = format!(
                    "UPDATE auth.users SET raw_app_meta_data = {}::jsonb, raw_user_meta_data = {}::jsonb WHERE id = {}::uuid",
                    quote_literal(&c["app_metadata"].to_string()),
                    quote_literal(&c["user_metadata"].to_string()),
                    quote_literal(&self.users[t])
                );
                if let Err(e) = self.step_exec(&sql, true).await? {
                    self.notes
                        .push(format!("auth.users metadata not set: {}", e.text()));
                }
            }
        }
        Ok(())
    }

    /// Insert one row of fill `fi` for tenant `t` as the owner, trying other CHECK candidates
    /// and other unique values on failure.
    async fn insert_row(&mut self, fi: usize, t: usize) -> Result<Result<Row, String>, ProbeError> {
        let ncols = self.plan.fills[fi].columns.len();
        let mut choices = vec![0usize; ncols];
        let mut last = String::new();
        for _attempt in 0..12 {
            self.serial += 1;
            let n = self.serial;
            let sql = match self.insert_sql(fi, t, &choices, n, true) {
                Ok(s) => s,
                Err(why) => return Ok(Err(why)),
            };
            match self.step_rows(&sql, true).await? {
                Ok(rows) => {
                    let Some(r) = rows.first() else {
                        return Ok(Err(
                            "the insert returned no row (a trigger discarded it)".into()
                        ));
                    };
                    let text: String = r.get(0);
                    let ctid: String = r.get(1);
                    let values: Map<String, Value> =
                        serde_json::from_str(&text).unwrap_or_default();
                    let ident = self.ident(&self.plan.fills[fi], &values, &ctid);
                    return Ok(Ok(Row { values, ident }));
                }
                Err(e) => {
                    last = e.text();
                    let f = &self.plan.fills[fi];
                    if e.code == SqlState::CHECK_VIOLATION.code() {
                        let cols: Vec<String> = e
                            .constraint
                            .as_ref()
                            .and_then(|c| f.checks.iter().find(|(n, _)| n == c))
                            .map(|(_, cols)| cols.clone())
                            .unwrap_or_else(|| f.columns.iter().map(|c| c.name.clone()).collect());
                        // Advance the first column of the constraint that has another candidate.
                        let mut advanced = false;
                        for (i, c) in f.columns.iter().enumerate() {
                            if let Gen::Literal { candidates } = &c.gen {
                                if cols.contains(&c.name) && choices[i] + 1 < candidates.len() {
                                    choices[i] += 1;
                                    advanced = true;
                                    break;
                                }
                            }
                        }
                        if !advanced {
                            break;
                        }
                    } else if e.code == SqlState::UNIQUE_VIOLATION.code() {
                        self.serial += 1000;
                    } else {
                        break;
                    }
                }
            }
        }
        Ok(Err(last))
    }

    fn reproducer(&self, role: &RolePlan, stmt: &str) -> String {
        let keys = match (self.tenant_key(0), self.tenant_key(1)) {
            (Some(a), Some(b)) => format!(
                "-- tenant A = {a}, tenant B = {b}; the member is {}\n",
                self.users[0]
            ),
            _ => String::new(),
        };
        format!(
            "{keys}-- rows created by the probe exist only inside its rolled-back transaction\nBEGIN;\n{}\n{stmt};\nROLLBACK;",
            self.impersonation(role, 0)
        )
    }

    async fn test_table(
        &mut self,
        fi: usize,
        role: &RolePlan,
    ) -> Result<Vec<CommandResult>, ProbeError> {
        let f = self.plan.fills[fi].clone();
        let mut out = vec![];
        let (Some(a), Some(b)) = (self.rows[fi][0].clone(), self.rows[fi][1].clone()) else {
            return Ok(out);
        };
        let cmd = |c: &str, v: Verdict, reason: String, sql: Option<String>| CommandResult {
            command: c.into(),
            role: role.name.clone(),
            verdict: v,
            reason,
            sql,
        };
        let signed = role.signed_in;

        // Sanity: A's row visible.
        let sanity = self
            .step_count(&format!("SELECT count(*) FROM {} WHERE {}", f.sql, a.ident))
            .await?;
        let sees_own = matches!(sanity, Ok(n) if n > 0);
        let own_note = match &sanity {
            Ok(0) => "tenant A's own row is not visible either, so the claims the probe sends may not be what the policies expect".to_string(),
            Ok(_) => String::new(),
            Err(e) if e.no_privilege() => format!("no SELECT privilege: {}", e.message),
            Err(e) => format!("reading A's own row failed: {}", e.text()),
        };

        // SELECT B.
        let sql = format!("SELECT count(*) FROM {} WHERE {}", f.sql, b.ident);
        out.push(match self.step_count(&sql).await? {
            Ok(n) if n > 0 => cmd(
                "select",
                Verdict::Leak,
                format!("read tenant B's row ({})", b.ident),
                Some(self.reproducer(role, &sql)),
            ),
            Ok(_) if sees_own || !signed => cmd(
                "select",
                Verdict::Isolated,
                if signed {
                    "sees A's row, not B's".into()
                } else {
                    "B's row not visible".into()
                },
                Some(sql),
            ),
            Ok(_) => cmd(
                "select",
                Verdict::Inconclusive,
                format!("B's row not visible, but {own_note}"),
                Some(sql),
            ),
            Err(e) if e.no_privilege() => cmd(
                "select",
                Verdict::NotApplicable,
                format!("no SELECT privilege: {}", e.message),
                Some(sql),
            ),
            Err(e) => cmd(
                "select",
                Verdict::Inconclusive,
                format!("the query failed: {}", e.text()),
                Some(sql),
            ),
        });

        // INSERT a row for B (control: a row for A).
        let writable_cols: Vec<usize> = (0..f.columns.len()).collect();
        let choices = vec![0usize; writable_cols.len()];
        self.serial += 1;
        let n = self.serial + 500_000;
        if !f.is_root {
            let ins_a = self.insert_sql(fi, 0, &choices, n, false);
            let ins_b = self.insert_sql(fi, 1, &choices, n + 1, false);
            self.serial += 2;
            match (ins_a, ins_b) {
                (Ok(ins_a), Ok(ins_b)) => {
                    let ctrl = if signed {
                        Some(self.step_exec(&ins_a, false).await?)
                    } else {
                        None
                    };
                    let mut res = self.step_exec(&ins_b, false).await?;
                    let mut sql_b = ins_b.clone();
                    if matches!(&res, Err(e) if e.code == SqlState::UNIQUE_VIOLATION.code()) {
                        // The key the row repeats is B's existing row: remove it (as the owner,
                        // inside the savepoint) and try again.
                        let retry = format!(
                            "RESET ROLE; DELETE FROM {} WHERE {}; {}",
                            f.sql,
                            b.ident,
                            self.impersonation(role, 0)
                        );
                        self.batch("SAVEPOINT probe_retry", "savepoint").await?;
                        if self.client.batch_execute(&retry).await.is_ok() {
                            res = self.step_exec(&ins_b, false).await?;
                            sql_b = format!(
                                "-- as the owner first: DELETE FROM {} WHERE {};\n{}",
                                f.sql, b.ident, ins_b
                            );
                        }
                        self.batch(
                            "ROLLBACK TO SAVEPOINT probe_retry; RELEASE SAVEPOINT probe_retry",
                            "rollback",
                        )
                        .await?;
                        let imp = self.impersonation(role, 0);
                        self.batch(&imp, "impersonating").await?;
                    }
                    out.push(match res {
                        Ok(_) => cmd("insert", Verdict::Leak, "inserted a row for tenant B".into(), Some(self.reproducer(role, &sql_b))),
                        Err(e) if e.after_rls() => cmd(
                            "insert",
                            Verdict::Leak,
                            format!("the policy accepted a row for tenant B; only a constraint checked after RLS stopped this one: {}", e.message),
                            Some(self.reproducer(role, &sql_b)),
                        ),
                        Err(e) if e.rls() => {
                            let why = match &ctrl {
                                Some(Ok(_)) => "a row for A is accepted, a row for B is rejected by RLS".to_string(),
                                Some(Err(c)) if c.rls() => "RLS rejects rows for B (and for A: no insert is allowed)".to_string(),
                                Some(Err(c)) => format!("RLS rejects rows for B (A's control failed: {})", c.message),
                                None => "RLS rejects the row".to_string(),
                            };
                            cmd("insert", Verdict::Isolated, why, Some(ins_b))
                        }
                        Err(e) if e.no_privilege() => cmd("insert", Verdict::NotApplicable, format!("no INSERT privilege: {}", e.message), Some(ins_b)),
                        Err(e) => cmd("insert", Verdict::Inconclusive, format!("the insert failed before RLS could decide: {}", e.text()), Some(ins_b)),
                    });
                }
                (_, Err(why)) | (Err(why), _) => {
                    out.push(cmd("insert", Verdict::Inconclusive, why, None))
                }
            }
        } else {
            out.push(cmd(
                "insert",
                Verdict::NotApplicable,
                "a new tenant is not another tenant's row".into(),
                None,
            ));
        }

        // UPDATE and DELETE B's row (controls on A's).
        let upd_col = f
            .update_column
            .clone()
            .unwrap_or_else(|| f.key.first().cloned().unwrap_or_default());
        let qc = dbaudit_rules::quote_ident(&upd_col);
        for (command, b_sql, a_sql) in [
            (
                "update",
                format!("UPDATE {} SET {qc} = {qc} WHERE {}", f.sql, b.ident),
                format!("UPDATE {} SET {qc} = {qc} WHERE {}", f.sql, a.ident),
            ),
            (
                "delete",
                format!("DELETE FROM {} WHERE {}", f.sql, b.ident),
                format!("DELETE FROM {} WHERE {}", f.sql, a.ident),
            ),
        ] {
            let ctrl = if signed {
                Some(self.step_exec(&a_sql, false).await?)
            } else {
                None
            };
            let res = self.step_exec(&b_sql, false).await?;
            let own_ok = matches!(ctrl, Some(Ok(n)) if n > 0);
            out.push(match res {
                Ok(n) if n > 0 => cmd(command, Verdict::Leak, format!("{command}d tenant B's row ({})", b.ident), Some(self.reproducer(role, &b_sql))),
                Ok(_) if !signed || own_ok || sees_own => cmd(
                    command,
                    Verdict::Isolated,
                    if own_ok { format!("{command} reaches A's row, not B's") } else if signed { format!("B's row not reached (0 rows); A's row is visible but not {command}able either") } else { "B's row not reached (0 rows)".into() },
                    Some(b_sql),
                ),
                Ok(_) => cmd(command, Verdict::Inconclusive, format!("0 rows, but {own_note}"), Some(b_sql)),
                Err(e) if e.no_privilege() => cmd(command, Verdict::NotApplicable, format!("no {} privilege: {}", command.to_uppercase(), e.message), Some(b_sql)),
                Err(e) if e.rls() => cmd(command, Verdict::Isolated, format!("B's row is visible to {command} but RLS rejects the result: {}", e.message), Some(b_sql)),
                Err(e) if e.code == SqlState::FOREIGN_KEY_VIOLATION.code() => cmd(
                    command,
                    Verdict::Leak,
                    format!("RLS let the {} reach tenant B's row ({}); only a foreign key stopped this one (a row without dependants goes through): {}", command.to_uppercase(), b.ident, e.message),
                    Some(self.reproducer(role, &b_sql)),
                ),
                Err(e) => cmd(command, Verdict::Inconclusive, format!("the statement failed: {}", e.text()), Some(b_sql)),
            });
        }

        // Move A's row to B.
        if signed && !f.is_root && !f.tenant_columns.is_empty() {
            let mut sets = vec![];
            let mut missing = None;
            for tc in &f.tenant_columns {
                match f.column(tc).cloned() {
                    Some(c) => match self.render(&c, 1, 0, 0) {
                        Ok(v) => sets.push(format!("{} = {v}", dbaudit_rules::quote_ident(tc))),
                        Err(e) => missing = Some(e),
                    },
                    None => missing = Some(format!("no value for {tc}")),
                }
            }
            if let Some(why) = missing {
                out.push(cmd("move", Verdict::Inconclusive, why, None));
            } else {
                let sql = format!("UPDATE {} SET {} WHERE {}", f.sql, sets.join(", "), a.ident);
                // Without a WHERE the statement reads no column, so Postgres checks the new row
                // against the UPDATE policy only, not the SELECT ones: what a filterless API
                // PATCH does.
                let blind = format!("UPDATE {} SET {}", f.sql, sets.join(", "));
                let own = format!("UPDATE {} SET {qc} = {qc} WHERE {}", f.sql, a.ident);
                let own_ok = matches!(self.step_exec(&own, false).await?, Ok(n) if n > 0);
                let precise = self.step_exec(&sql, false).await?;
                let blind_res = if matches!(precise, Ok(n) if n > 0) {
                    None
                } else {
                    Some(self.step_exec(&blind, false).await?)
                };
                out.push(match (precise, blind_res) {
                    (Ok(n), _) if n > 0 => cmd("move", Verdict::Leak, "moved tenant A's row to tenant B (the UPDATE policy's WITH CHECK does not pin the tenant)".into(), Some(self.reproducer(role, &sql))),
                    (_, Some(Ok(n))) if n > 0 => cmd("move", Verdict::Leak, format!("moved {n} row(s) of tenant A to tenant B with an UPDATE without WHERE (the UPDATE policy's WITH CHECK does not pin the tenant; SELECT policies only guard statements that read columns)"), Some(self.reproducer(role, &blind))),
                    (Ok(_), _) if own_ok => cmd("move", Verdict::Isolated, "A's row can be updated but not moved (0 rows)".into(), Some(sql)),
                    (Ok(_), _) => cmd("move", Verdict::NotApplicable, "A's own row cannot be updated at all".into(), Some(sql)),
                    (Err(e), _) if e.rls() => cmd("move", Verdict::Isolated, "RLS rejects the moved row (WITH CHECK)".into(), Some(sql)),
                    (Err(e), _) if e.no_privilege() => cmd("move", Verdict::NotApplicable, format!("no UPDATE privilege on the tenant column: {}", e.message), Some(sql)),
                    (Err(e), _) if e.code == SqlState::FOREIGN_KEY_VIOLATION.code() => cmd("move", Verdict::Isolated, format!("a foreign key keeps the row with its tenant: {}", e.message), Some(sql)),
                    (Err(e), _) => cmd("move", Verdict::Inconclusive, format!("the statement failed: {}", e.text()), Some(sql)),
                });
            }
        }
        Ok(out)
    }

    fn record_table(&mut self, fi: usize, cmds: Vec<CommandResult>) {
        let f = &self.plan.fills[fi];
        // One finding per table and role, listing every command that leaked: a table with RLS
        // off leaks all five, and five findings would say the same thing five times.
        let mut roles: Vec<&str> = vec![];
        for c in cmds.iter().filter(|c| c.verdict == Verdict::Leak) {
            if !roles.contains(&c.role.as_str()) {
                roles.push(&c.role);
            }
        }
        for role in roles {
            let leaks: Vec<&CommandResult> = cmds
                .iter()
                .filter(|c| c.verdict == Verdict::Leak && c.role == role)
                .collect();
            self.findings
                .push(table_leak_finding(&f.schema, &f.table, role, &leaks));
        }
        match self
            .tables
            .iter_mut()
            .find(|t| t.table == f.name && t.kind == "table")
        {
            Some(t) => t.commands.extend(cmds),
            None => self.tables.push(TableResult {
                table: f.name.clone(),
                kind: "table".into(),
                verdict: Verdict::Inconclusive,
                reason: None,
                commands: cmds,
            }),
        }
    }

    /// Table verdicts, and the tables that could not be tested at all.
    fn finish_tables(&mut self) {
        for (fi, f) in self.plan.fills.iter().enumerate() {
            if !f.probe {
                continue;
            }
            let reason = if self.rows[fi][0].is_none() || self.rows[fi][1].is_none() {
                Some(
                    self.fill_errors[fi]
                        .clone()
                        .unwrap_or_else(|| "no rows could be created".into()),
                )
            } else {
                None
            };
            if !self
                .tables
                .iter()
                .any(|t| t.table == f.name && t.kind == "table")
            {
                self.tables.push(TableResult {
                    table: f.name.clone(),
                    kind: "table".into(),
                    verdict: Verdict::Inconclusive,
                    reason: None,
                    commands: vec![],
                });
            }
            let t = self
                .tables
                .iter_mut()
                .find(|t| t.table == f.name && t.kind == "table")
                .unwrap();
            t.reason = reason.clone();
            let signed_in = |c: &&CommandResult| {
                self.plan
                    .roles
                    .iter()
                    .any(|r| r.name == c.role && r.signed_in)
            };
            t.verdict = if t.commands.iter().any(|c| c.verdict == Verdict::Leak) {
                Verdict::Leak
            } else if reason.is_some()
                || t.commands
                    .iter()
                    .filter(signed_in)
                    .any(|c| c.verdict == Verdict::Inconclusive)
                || !t
                    .commands
                    .iter()
                    .filter(signed_in)
                    .any(|c| c.verdict == Verdict::Isolated)
            {
                Verdict::Inconclusive
            } else {
                Verdict::Isolated
            };
            if t.verdict == Verdict::Inconclusive {
                let why = reason.clone().unwrap_or_else(|| {
                    t.commands
                        .iter()
                        .filter(|c| c.verdict == Verdict::Inconclusive)
                        .map(|c| format!("{} as {}: {}", c.command, c.role, c.reason))
                        .collect::<Vec<_>>()
                        .join("; ")
                });
                let why = if why.is_empty() {
                    "nothing could be proven for this table".to_string()
                } else {
                    why
                };
                if t.reason.is_none() {
                    t.reason = Some(why.clone());
                }
                self.findings.push(
                    PROBE_INCONCLUSIVE
                        .finding(format!(
                            "{}: the probe could not prove isolation: {why}",
                            f.name
                        ))
                        .table(&f.schema, &f.table)
                        .impact("This table is not known to be isolated between tenants.")
                        .evidence("reason", why),
                );
            }
        }
        // Tables first, in fill order; views and functions after.
        let order = |name: &str, kind: &str| {
            let k = match kind {
                "table" => 0,
                "view" => 1,
                _ => 2,
            };
            (
                k,
                self.plan
                    .fills
                    .iter()
                    .position(|f| f.name == name)
                    .unwrap_or(usize::MAX),
            )
        };
        self.tables.sort_by_key(|t| order(&t.table, &t.kind));
    }

    /// Distinctive values (uuids, generated text) of tenant `t`'s rows in `fills`, minus the
    /// other tenant's.
    fn markers(&self, fills: &[usize], t: usize) -> Vec<String> {
        let collect = |t: usize| -> std::collections::BTreeSet<String> {
            let mut s = std::collections::BTreeSet::new();
            for &fi in fills {
                if let Some(r) = &self.rows[fi][t] {
                    for v in r.values.values() {
                        if let Value::String(x) = v {
                            if is_uuid(x) || x.contains(&self.tag) {
                                s.insert(x.clone());
                            }
                        }
                    }
                }
            }
            s
        };
        let mine = collect(t);
        let other = collect(1 - t);
        let mut out: Vec<String> = mine.difference(&other).cloned().collect();
        if let Some(k) = self.tenant_key(t) {
            if is_uuid(&k) && !out.contains(&k) {
                out.push(k);
            }
        }
        if is_uuid(&self.users[t]) && !out.contains(&self.users[t]) {
            out.push(self.users[t].clone());
        }
        out
    }

    async fn test_views(&mut self, role: &RolePlan) -> Result<(), ProbeError> {
        for v in self.plan.views.clone() {
            let like = |m: Vec<String>| -> String {
                let arr: Vec<String> = m.iter().map(|x| quote_literal(&format!("%{x}%"))).collect();
                format!("ARRAY[{}]::text[]", arr.join(", "))
            };
            let (ma, mb) = (self.markers(&v.reads, 0), self.markers(&v.reads, 1));
            if mb.is_empty() {
                continue;
            }
            let q = |m: String| {
                format!("SELECT count(*) FROM {} AS probe_v WHERE to_jsonb(probe_v)::text LIKE ANY ({m})", v.sql)
            };
            let a = if ma.is_empty() {
                Ok(0)
            } else {
                self.step_count(&q(like(ma))).await?
            };
            let sql = q(like(mb));
            let b = self.step_count(&sql).await?;
            let invoker = if v.security_invoker {
                "security_invoker view"
            } else {
                "view without security_invoker (runs with its owner's rights, bypassing RLS)"
            };
            let c = match b {
                Ok(n) if n > 0 => CommandResult {
                    command: "select".into(),
                    role: role.name.clone(),
                    verdict: Verdict::Leak,
                    reason: format!("{n} row(s) of tenant B through the {invoker}"),
                    sql: Some(self.reproducer(role, &sql)),
                },
                Ok(_) if matches!(a, Ok(n) if n > 0) || !role.signed_in => CommandResult {
                    command: "select".into(),
                    role: role.name.clone(),
                    verdict: Verdict::Isolated,
                    reason: "B's rows not visible through the view".into(),
                    sql: Some(sql),
                },
                Ok(_) => CommandResult {
                    command: "select".into(),
                    role: role.name.clone(),
                    verdict: Verdict::Inconclusive,
                    reason: "neither A's nor B's rows show through the view".into(),
                    sql: Some(sql),
                },
                Err(e) if e.no_privilege() => CommandResult {
                    command: "select".into(),
                    role: role.name.clone(),
                    verdict: Verdict::NotApplicable,
                    reason: format!("no SELECT privilege: {}", e.message),
                    sql: Some(sql),
                },
                Err(e) => CommandResult {
                    command: "select".into(),
                    role: role.name.clone(),
                    verdict: Verdict::Inconclusive,
                    reason: e.text(),
                    sql: Some(sql),
                },
            };
            self.record_other(&v.name, "view", c);
        }
        Ok(())
    }

    async fn test_functions(&mut self, role: &RolePlan) -> Result<(), ProbeError> {
        let all: Vec<usize> = (0..self.plan.fills.len()).collect();
        let (ma, mb) = (self.markers(&all, 0), self.markers(&all, 1));
        for f in self.plan.functions.clone() {
            let args = |run: &Self, t: usize| -> Option<String> {
                let mut out = vec![];
                for a in &f.args {
                    out.push(match a {
                        ArgGen::TenantKey { sql_type } => {
                            format!("{}::{sql_type}", quote_literal(&run.tenant_key(t)?))
                        }
                        ArgGen::Ref {
                            fill,
                            column,
                            sql_type,
                        } => {
                            let v = run.rows[*fill][t].as_ref()?.values.get(column)?;
                            format!("{}::{sql_type}", quote_literal(&json_text(v)))
                        }
                    });
                }
                Some(out.join(", "))
            };
            let (Some(args_a), Some(args_b)) = (args(self, 0), args(self, 1)) else {
                continue;
            };
            let like = |m: &[String]| -> String {
                let arr: Vec<String> = m.iter().map(|x| quote_literal(&format!("%{x}%"))).collect();
                format!("ARRAY[{}]::text[]", arr.join(", "))
            };
            let q = |args: &str, m: &[String]| {
                format!(
                    "SELECT count(*) FROM (SELECT to_jsonb(probe_r)::text AS j FROM {}({args}) AS probe_r) probe_x WHERE j LIKE ANY ({})",
                    f.sql,
                    like(m)
                )
            };
            let a = self.step_count(&q(&args_a, &ma)).await?;
            let sql = q(&args_b, &mb);
            let b = self.step_count(&sql).await?;
            let call = format!("SELECT * FROM {}({args_b})", f.sql);
            let mk = |v: Verdict, reason: String, sql: Option<String>| CommandResult {
                command: "execute".into(),
                role: role.name.clone(),
                verdict: v,
                reason,
                sql,
            };
            let c = match b {
                Ok(n) if n > 0 => mk(
                    Verdict::Leak,
                    format!(
                        "the SECURITY DEFINER function returned {n} row(s) with tenant B's data"
                    ),
                    Some(self.reproducer(role, &call)),
                ),
                Ok(_) if matches!(a, Ok(n) if n > 0) || !role.signed_in => mk(
                    Verdict::Isolated,
                    "returns A's data, not B's".into(),
                    Some(call),
                ),
                Err(_) if matches!(a, Ok(n) if n > 0) => mk(
                    Verdict::Isolated,
                    "returns A's data and refuses B's".into(),
                    Some(call),
                ),
                Err(e) if e.no_privilege() => mk(
                    Verdict::NotApplicable,
                    format!("no EXECUTE privilege: {}", e.message),
                    Some(call),
                ),
                Ok(_) => mk(
                    Verdict::Inconclusive,
                    "the result holds neither A's nor B's data".into(),
                    Some(call),
                ),
                Err(e) => mk(Verdict::Inconclusive, e.text(), Some(call)),
            };
            self.record_other(&f.signature, "function", c);
        }
        Ok(())
    }

    fn record_other(&mut self, name: &str, kind: &str, c: CommandResult) {
        if c.verdict == Verdict::Leak {
            let (schema, rest) = name.split_once('.').unwrap_or(("public", name));
            let mut fnd = leak_finding(schema, rest, &c);
            if kind == "function" {
                fnd.table = None;
                fnd = fnd.function(name.to_string());
            }
            self.findings.push(fnd);
        }
        let idx = match self
            .tables
            .iter()
            .position(|t| t.table == name && t.kind == kind)
        {
            Some(i) => i,
            None => {
                self.tables.push(TableResult {
                    table: name.into(),
                    kind: kind.into(),
                    verdict: Verdict::Inconclusive,
                    reason: None,
                    commands: vec![],
                });
                self.tables.len() - 1
            }
        };
        let t = &mut self.tables[idx];
        t.commands.push(c);
        t.verdict = if t.commands.iter().any(|c| c.verdict == Verdict::Leak) {
            Verdict::Leak
        } else if t.commands.iter().any(|c| c.verdict == Verdict::Isolated)
            && !t
                .commands
                .iter()
                .any(|c| c.verdict == Verdict::Inconclusive)
        {
            Verdict::Isolated
        } else {
            Verdict::Inconclusive
        };
    }

    async fn cascade(&mut self) -> Result<(), ProbeError> {
        self.batch(
            "RESET ROLE; SELECT set_config('request.jwt.claims', '', true)",
            "reset role",
        )
        .await?;
        for &o in &self.plan.cascade_origins.clone() {
            let f = self.plan.fills[o].clone();
            let Some(b) = self.rows[o][1].clone() else {
                continue;
            };
            if !f.per_tenant {
                continue;
            }
            self.batch("SAVEPOINT probe_cascade", "savepoint").await?;
            let del = format!("DELETE FROM {} WHERE {}", f.sql, b.ident);
            let r = self.client.execute(&del, &[]).await;
            let mut result = CascadeResult {
                origin: f.name.clone(),
                deleted: false,
                error: None,
                blocked_by: None,
                leftovers: vec![],
            };
            match r {
                Err(e) => {
                    if fatal(&e) {
                        return Err(ProbeError::Db {
                            context: "cascade delete".into(),
                            source: e,
                        });
                    }
                    let d = DbErr::from(&e);
                    result.blocked_by = d.constraint.clone().map(|c| match &d.table {
                        Some(t) => format!("{c} on {t}"),
                        None => c,
                    });
                    result.error = Some(d.text());
                    self.findings.push(
                        CASCADE_LEFTOVERS
                            .finding(format!(
                                "Deleting tenant B's row from {} failed{}: {}",
                                f.name,
                                result.blocked_by.as_deref().map(|b| format!(" (blocked by {b})")).unwrap_or_default(),
                                d.message
                            ))
                            .table(&f.schema, &f.table)
                            .object("delete")
                            .impact("Offboarding a tenant or deleting an account fails while such rows exist.")
                            .evidence("sql", del.clone())
                            .evidence("error", d.text())
                            .evidence("constraint", d.constraint.clone().unwrap_or_default()),
                    );
                    self.batch(
                        "ROLLBACK TO SAVEPOINT probe_cascade; RELEASE SAVEPOINT probe_cascade",
                        "rollback",
                    )
                    .await?;
                }
                Ok(_) => {
                    result.deleted = true;
                    for r in self.plan.references.clone() {
                        let to = &self.plan.fills[r.to];
                        let from = &self.plan.fills[r.from];
                        if !to.per_tenant {
                            continue;
                        }
                        let Some(v) = self.rows[r.to][1]
                            .as_ref()
                            .and_then(|row| row.values.get(&r.to_column))
                            .filter(|v| !v.is_null())
                            .map(json_text)
                        else {
                            continue;
                        };
                        let sql = format!(
                            "SELECT count(*) FROM {} AS probe_f WHERE {} = {}::{} AND NOT EXISTS (SELECT 1 FROM {} AS probe_t WHERE probe_t.{}::text = {})",
                            from.sql,
                            dbaudit_rules::quote_ident(&r.column),
                            quote_literal(&v),
                            r.column_type,
                            to.sql,
                            dbaudit_rules::quote_ident(&r.to_column),
                            quote_literal(&v)
                        );
                        let n = match self.client.query_one(&sql, &[]).await {
                            Ok(row) => row.get::<_, i64>(0),
                            Err(e) => {
                                if fatal(&e) {
                                    return Err(ProbeError::Db {
                                        context: "counting leftovers".into(),
                                        source: e,
                                    });
                                }
                                self.notes.push(format!(
                                    "leftovers of {}.{} not counted: {}",
                                    from.name,
                                    r.column,
                                    DbErr::from(&e).text()
                                ));
                                self.batch(
                                    "ROLLBACK TO SAVEPOINT probe_cascade; SAVEPOINT probe_cascade",
                                    "rollback",
                                )
                                .await?;
                                break;
                            }
                        };
                        if n > 0 {
                            let refs = format!("{}.{}", to.name, r.to_column);
                            self.findings.push(
                                CASCADE_LEFTOVERS
                                    .finding(format!(
                                        "After deleting tenant B's row from {}, {n} row(s) of {} still point at the deleted {refs} through {}",
                                        f.name,
                                        from.name,
                                        r.column
                                    ))
                                    .table(&from.schema, &from.table)
                                    .column(r.column.clone())
                                    .object(format!("after deleting {}", f.name))
                                    .impact("Deleted tenants and users leave data behind that points at nothing.")
                                    .evidence("origin", f.name.clone())
                                    .evidence("references", refs.clone())
                                    .evidence("constraint", r.constraint.clone().unwrap_or_else(|| "none (inferred reference)".into()))
                                    .evidence("rows", n)
                                    .evidence("sql", sql.clone()),
                            );
                            result.leftovers.push(Leftover {
                                table: from.name.clone(),
                                column: r.column.clone(),
                                rows: n,
                                references: refs,
                                constraint: r.constraint.clone(),
                            });
                        }
                    }
                    self.batch(
                        "ROLLBACK TO SAVEPOINT probe_cascade; RELEASE SAVEPOINT probe_cascade",
                        "rollback",
                    )
                    .await?;
                }
            }
            self.cascades.push(result);
        }
        Ok(())
    }
}

fn leak_finding(schema: &str, table: &str, c: &CommandResult) -> Finding {
    let object = if c.role == "authenticated" {
        c.command.clone()
    } else {
        format!("{} as {}", c.command, c.role)
    };
    let who = if c.role == "anon" {
        "An anonymous visitor".to_string()
    } else {
        format!("A member of tenant A (role {})", c.role)
    };
    let what = match c.command.as_str() {
        "select" => "read a row of tenant B",
        "insert" => "inserted a row into tenant B",
        "update" => "updated a row of tenant B",
        "delete" => "deleted a row of tenant B",
        "move" => "moved a row of tenant A into tenant B",
        _ => "reached tenant B's data",
    };
    RLS_ISOLATION_LEAK
        .finding(format!(
            "{who} {what} in {schema}.{table} ({}): {}",
            c.command.to_uppercase(),
            c.reason
        ))
        .table(schema, table)
        .object(object)
        .impact("Any user of the application can do this with the public API key.")
        .evidence("command", c.command.clone())
        .evidence("role", c.role.clone())
        .evidence("reason", c.reason.clone())
        .evidence("sql", c.sql.clone().unwrap_or_default())
}

/// The leaks of one role on one table, as one finding.
fn table_leak_finding(schema: &str, table: &str, role: &str, leaks: &[&CommandResult]) -> Finding {
    if let [only] = leaks {
        return leak_finding(schema, table, only);
    }
    let who = if role == "anon" {
        "An anonymous visitor".to_string()
    } else {
        format!("A member of tenant A (role {role})")
    };
    let verbs: Vec<&str> = leaks
        .iter()
        .filter_map(|c| match c.command.as_str() {
            "select" => Some("read"),
            "insert" => Some("insert"),
            "update" => Some("update"),
            "delete" => Some("delete"),
            _ => None,
        })
        .collect();
    let joined = match verbs.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => verbs.join(""),
    };
    let moves = leaks.iter().any(|c| c.command == "move");
    let list = match (joined.is_empty(), moves) {
        (false, true) => format!(
            "{joined} tenant B's rows in {schema}.{table}, and move tenant A's rows into tenant B"
        ),
        (false, false) => format!("{joined} tenant B's rows in {schema}.{table}"),
        _ => format!("move tenant A's rows of {schema}.{table} into tenant B"),
    };
    let commands: Vec<String> = leaks.iter().map(|c| c.command.clone()).collect();
    // `sql` and `reason` stay strings, as in a single-command finding: one reproducer per
    // command, each headed by the command.
    let sql = leaks
        .iter()
        .map(|c| {
            format!(
                "-- {}\n{}",
                c.command.to_uppercase(),
                c.sql.clone().unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("\n\n");
    let reasons = leaks
        .iter()
        .map(|c| format!("{}: {}", c.command, c.reason))
        .collect::<Vec<_>>()
        .join("; ");
    RLS_ISOLATION_LEAK
        .finding(format!(
            "{who} can {list} ({})",
            commands
                .iter()
                .map(|c| c.to_uppercase())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .table(schema, table)
        .object(if role == "authenticated" {
            "all commands".to_string()
        } else {
            format!("all commands as {role}")
        })
        .impact("Any user of the application can do this with the public API key.")
        .evidence("commands", commands)
        .evidence("role", role.to_string())
        .evidence("reason", reasons)
        .evidence("sql", sql)
}

fn set_path(v: &mut Value, path: &[String], val: Value) {
    let mut cur = v;
    for (i, p) in path.iter().enumerate() {
        if !cur.is_object() {
            *cur = json!({});
        }
        let m = cur.as_object_mut().unwrap();
        if i + 1 == path.len() {
            m.insert(p.clone(), val);
            return;
        }
        cur = m.entry(p.clone()).or_insert_with(|| json!({}));
    }
}

fn json_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.chars().enumerate().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_paths_nest() {
        let mut v = json!({"app_metadata": {"provider": "email"}});
        set_path(
            &mut v,
            &["app_metadata".into(), "org_id".into()],
            json!("x"),
        );
        set_path(&mut v, &["organization_id".into()], json!("y"));
        assert_eq!(v["app_metadata"]["org_id"], "x");
        assert_eq!(v["app_metadata"]["provider"], "email");
        assert_eq!(v["organization_id"], "y");
    }

    #[test]
    fn uuids() {
        assert!(is_uuid("0a000000-0000-4000-8000-000000000001"));
        assert!(!is_uuid("probe-abc"));
    }
}
