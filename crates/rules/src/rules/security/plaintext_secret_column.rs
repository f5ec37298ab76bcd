//! SEC001 `plaintext-secret-column`: a text or JSON column whose name says it holds a secret
//! (an API key, a password, an access token), stored as is.

use crate::{qualify, quote_ident, Context, Rule};
use dbaudit_catalog::{Column, Relation};
use dbaudit_findings::{Category, Finding, FixSafety, RuleMeta, RuleSource, Severity};

pub static META: RuleMeta = RuleMeta {
    code: "SEC001",
    name: "plaintext-secret-column",
    category: Category::Security,
    default_severity: Severity::High,
    source: RuleSource::Schema,
    summary: "text column that holds a secret by its name (api_key, secret, token, password, private_key, ...) and is not hashed or encrypted (`*_hash`, `*_encrypted`, bytea, `hashed_*`); ids such as `stripe_customer_id` are not secrets",
    docs: r#"## What it does
Reads the name of every text, `varchar`, `json` and `jsonb` column of the audited tables (split at
underscores and camelCase) and reports those whose name ends in a secret: `password`, `secret`
(`client_secret`, `webhook_secret`), `token` (`access_token`, `refresh_token`, `reset_token`),
`api_key`, `private_key`, `secret_key`, `signing_key`, `encryption_key`, `service_role_key`,
`oauth_credentials`; and the `key` column of an `api_keys` table.

It stays quiet when the name says the value is protected (`*_hash`, `*_hashed`, `hashed_*`,
`*_digest`, `*_encrypted`, `encrypted_*`, `*_enc`, `*_ciphertext`, or a column comment that says
it is hashed or encrypted), when the type cannot hold it as text (`bytea`, numbers, booleans,
timestamps), and when the secret word only qualifies another noun: `stripe_customer_id`,
`api_key_id`, `token_count`, `max_tokens`, `token_type`, `token_expires_at`,
`password_changed_at`, `api_key_prefix`. Tokens that are not credentials are left alone too:
`sync_token`, `page_token`, `push_token`, `device_token`, `csrf_token`.

The finding says whether API roles can read the table and whether RLS is on.

## Why it matters
Anyone who can read the row gets the secret: a leaked backup, a log of query results, a support
tool, an SQL injection, a mistaken RLS policy or a `select *` sent to the browser. With a
third-party API key that means running up someone else's bill or reading their customers' data;
with a password or a reset token it means taking over the account. A hash or an encrypted value
is useless to whoever steals it.

## Example
```sql
create table public.company_settings (
  company_id uuid primary key references public.companies(id),
  openai_api_key text   -- the key itself, readable by every member of the company
);
```

## Fix
If the application must read the secret back (a third-party API key, an OAuth refresh token),
keep it in Supabase Vault (or encrypt it with pgsodium / the application's KMS) and store only
a reference:
```sql
alter table public.company_settings add column openai_api_key_secret_id uuid;
update public.company_settings
   set openai_api_key_secret_id = vault.create_secret(openai_api_key)
 where openai_api_key is not null;
-- the server reads it with: select decrypted_secret from vault.decrypted_secrets where id = ...
-- once the application reads from Vault:
alter table public.company_settings drop column openai_api_key;
```
If the application only compares the value (passwords, reset and invite tokens, API keys that your
users send you), store a hash instead: bcrypt or argon2 for passwords, SHA-256 for random tokens.
"#,
};

pub struct PlaintextSecretColumn;

impl Rule for PlaintextSecretColumn {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let vault = ctx.index.schema("vault").is_some();
        let mut out = vec![];
        for rel in ctx.audited_relations() {
            if !rel.kind.is_table() {
                continue;
            }
            let table_words = words(&rel.name);
            for col in &rel.columns {
                if !holds_text(col) || comment_says_protected(col) {
                    continue;
                }
                if let Some(secret) = secret_name(&col.name, &table_words) {
                    out.push(finding(ctx, rel, col, secret, vault));
                }
            }
        }
        out
    }
}

/// What the name says the column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SecretKind {
    Password,
    Token,
    Key,
    Secret,
    Credentials,
}

impl SecretKind {
    fn noun(self) -> &'static str {
        match self {
            SecretKind::Password => "a password",
            SecretKind::Token => "an access token",
            SecretKind::Key => "a secret key",
            SecretKind::Secret => "a secret",
            SecretKind::Credentials => "credentials",
        }
    }
}

/// Words a name is made of, lower case: `openaiApiKey` and `openai_api_key` are both
/// `["openai", "api", "key"]`.
fn words(name: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Text or JSON: a type that holds the secret as readable characters.
fn holds_text(col: &Column) -> bool {
    if col.generated {
        return false;
    }
    let base = col.base_type_name.to_ascii_lowercase();
    col.type_category == 'S' || base == "json" || base == "jsonb"
}

/// Words that say the value is hashed or encrypted.
const PROTECTED: &[&str] = &[
    "hash",
    "hashed",
    "digest",
    "encrypted",
    "encrypt",
    "enc",
    "ciphertext",
    "cipher",
    "crypted",
    "bcrypt",
    "scrypt",
    "argon2",
    "sha1",
    "sha256",
    "sha512",
    "hmac",
    "sealed",
    "vault",
];

/// Trailing words that do not change what the column holds (`api_key_value`).
const VALUE_WORDS: &[&str] = &["value", "plain", "plaintext", "raw", "cleartext"];

/// Words before `token` that make it something other than a credential.
const NOT_CREDENTIAL_TOKENS: &[&str] = &[
    "sync",
    "page",
    "next",
    "prev",
    "previous",
    "continuation",
    "pagination",
    "cursor",
    "push",
    "device",
    "fcm",
    "apns",
    "expo",
    "notification",
    "notifications",
    "idempotency",
    "csrf",
    "xsrf",
    "design",
    "cancellation",
    "resume",
    "delta",
    "change",
    "watermark",
];

/// Words before `key` that make it a secret key (`api_key`, `private_key`).
const SECRET_KEYS: &[&str] = &[
    "api",
    "private",
    "secret",
    "signing",
    "encryption",
    "master",
];

/// Words before `credentials` that make them login credentials rather than, say, a doctor's.
const CREDENTIAL_SYSTEMS: &[&str] = &[
    "oauth", "api", "smtp", "imap", "aws", "gcp", "azure", "ftp", "sftp", "ssh", "db", "database",
];

/// What a column's name says it holds, unless the name also says it is hashed or encrypted.
fn secret_name(name: &str, table: &[String]) -> Option<SecretKind> {
    let w = words(name);
    if w.iter().any(|w| PROTECTED.contains(&w.as_str())) {
        return None;
    }
    secret_kind(&w, table)
}

fn comment_says_protected(col: &Column) -> bool {
    col.comment.as_deref().is_some_and(|c| {
        let c = c.to_ascii_lowercase();
        c.contains("encrypt") || c.contains("hashed") || c.contains("vault")
    })
}

/// Whether the column's name ends in a secret (after any `_value`-like word), and which.
fn secret_kind(col: &[String], table: &[String]) -> Option<SecretKind> {
    let mut w: Vec<&str> = col.iter().map(String::as_str).collect();
    while w.len() > 1 && VALUE_WORDS.contains(w.last()?) {
        w.pop();
    }
    let last = *w.last()?;
    let prev = w.len().checked_sub(2).map(|i| w[i]);
    let before = w.len().checked_sub(3).map(|i| w[i]);
    match last {
        "password" | "passwd" | "passphrase" => Some(SecretKind::Password),
        "secret" | "clientsecret" | "webhooksecret" => Some(SecretKind::Secret),
        "apikey" | "privatekey" | "secretkey" => Some(SecretKind::Key),
        "accesstoken" | "refreshtoken" | "authtoken" => Some(SecretKind::Token),
        "token" => match prev {
            Some(p) if NOT_CREDENTIAL_TOKENS.contains(&p) => None,
            _ => Some(SecretKind::Token),
        },
        "tokens" => match prev {
            Some("oauth" | "access" | "refresh" | "auth" | "api") => Some(SecretKind::Token),
            _ => None,
        },
        "key" => match (before, prev) {
            (_, Some(p)) if SECRET_KEYS.contains(&p) => Some(SecretKind::Key),
            (Some("service"), Some("role")) | (Some("secret"), Some("access")) => {
                Some(SecretKind::Key)
            }
            // `api_keys.key`: the key of an API-keys table.
            (_, None) if table_is(table, &[&["api", "keys"], &["apikeys"], &["api", "key"]]) => {
                Some(SecretKind::Key)
            }
            _ => None,
        },
        "credentials" | "credential" | "creds" => match prev {
            Some(p) if CREDENTIAL_SYSTEMS.contains(&p) => Some(SecretKind::Credentials),
            _ => None,
        },
        _ => None,
    }
}

/// Whether the table's name ends in one of the word sequences.
fn table_is(table: &[String], tails: &[&[&str]]) -> bool {
    tails.iter().any(|tail| {
        table.len() >= tail.len()
            && table[table.len() - tail.len()..]
                .iter()
                .zip(tail.iter())
                .all(|(a, b)| a == b)
    })
}

fn finding(
    ctx: &Context<'_>,
    rel: &Relation,
    col: &Column,
    secret: SecretKind,
    vault: bool,
) -> Finding {
    let exposure = ctx.exposure.of(rel.oid);
    let readers: Vec<&str> = exposure
        .roles
        .iter()
        .filter(|(_, p)| p.iter().any(|p| p == "SELECT"))
        .map(|(r, _)| r.as_str())
        .collect();
    let why = if words(&col.name).len() == 1 && words(&col.name)[0] == "key" {
        format!("it is the key column of {}", rel.name)
    } else {
        format!("its name ends in \"{}\"", matched_words(&col.name))
    };
    let mut message = format!(
        "{}.{} looks like it holds {} ({why}) and stores it as plain {}",
        rel.qualified(),
        col.name,
        secret.noun(),
        col.type_name
    );
    if !readers.is_empty() && !rel.rls_enabled {
        message.push_str(&format!(
            "; the table has RLS off and {} can read it through the API",
            readers.join(", ")
        ));
    }
    let impact = if readers.is_empty() {
        "whoever can read this table (a backup, a log, a support tool, an injection) gets the \
         secret itself"
            .to_string()
    } else if rel.rls_enabled {
        "whoever can read the row gets the secret itself: through the API, every user the \
         table's policies let read it; outside it, backups, logs and support tools"
            .to_string()
    } else {
        format!(
            "anyone with the API key ({}) can read the secret of every row; backups and logs \
             hold it too",
            readers.join(", ")
        )
    };
    let mut f = META
        .finding(message)
        .table(&rel.schema, &rel.name)
        .column(col.name.clone())
        .impact(impact)
        .evidence("matched", why.replacen("its name", "column name", 1))
        .evidence("holds", secret.noun())
        .evidence("type", col.type_name.clone())
        .evidence(
            "not_protected",
            "no hash/encrypted marker in the name or comment, and the type is not bytea",
        )
        .evidence("rls_enabled", rel.rls_enabled)
        .evidence("readable_by_api_roles", readers.clone())
        .fix(fix_sql(rel, col, secret, vault), FixSafety::Review);
    if !readers.is_empty() && !rel.rls_enabled {
        f = f.evidence(
            "exposed_without_rls",
            "severity kept at high; rls-disabled reports the table itself",
        );
    }
    f
}

/// The words of the name from the secret word on, as written (`api_key`).
fn matched_words(name: &str) -> String {
    let w = words(name);
    let mut n = w.len();
    while n > 1 && VALUE_WORDS.contains(&w[n - 1].as_str()) {
        n -= 1;
    }
    let start = match w[n - 1].as_str() {
        "key" | "tokens" | "credentials" | "credential" | "creds" if n >= 2 => {
            if n >= 3
                && matches!(
                    (w[n - 3].as_str(), w[n - 2].as_str()),
                    ("service", "role") | ("secret", "access")
                )
            {
                n - 3
            } else {
                n - 2
            }
        }
        "token" if n >= 2 => n - 2,
        _ => n - 1,
    };
    w[start..n].join("_")
}

fn fix_sql(rel: &Relation, col: &Column, secret: SecretKind, vault: bool) -> String {
    let table = qualify(&rel.schema, &rel.name);
    let c = quote_ident(&col.name);
    if secret == SecretKind::Password {
        return format!(
            "-- Store a hash, never the password. Hash in the application (argon2 or bcrypt), or with\n\
             -- pgcrypto: crypt(password, gen_salt('bf')), checked with crypt(attempt, stored) = stored.\n\
             UPDATE {table} SET {c} = crypt({c}, gen_salt('bf'))\n \
             WHERE {c} IS NOT NULL;\n\
             ALTER TABLE {table} RENAME COLUMN {c} TO {};",
            quote_ident(&format!("{}_hash", col.name))
        );
    }
    let ref_col = quote_ident(&format!("{}_secret_id", col.name));
    let value = if col.base_type_name.starts_with("json") {
        format!("{c}::text")
    } else {
        c.clone()
    };
    let keep = if vault {
        format!(
            "-- If the application must read it back: keep it in Supabase Vault, store only its id.\n\
             ALTER TABLE {table} ADD COLUMN {ref_col} uuid;\n\
             UPDATE {table} SET {ref_col} = vault.create_secret({value}) WHERE {c} IS NOT NULL;\n\
             -- the server reads it with: SELECT decrypted_secret FROM vault.decrypted_secrets WHERE id = ...\n\
             -- once the application reads from Vault:\n\
             -- ALTER TABLE {table} DROP COLUMN {c};"
        )
    } else {
        format!(
            "-- If the application must read it back: encrypt it with a key the database does not\n\
             -- hold (application-side encryption or a KMS), e.g. pgcrypto with a key passed in:\n\
             -- ALTER TABLE {table} ADD COLUMN {} bytea;\n\
             -- UPDATE {table} SET {} = pgp_sym_encrypt({value}, :key) WHERE {c} IS NOT NULL;\n\
             -- ALTER TABLE {table} DROP COLUMN {c};",
            quote_ident(&format!("{}_encrypted", col.name)),
            quote_ident(&format!("{}_encrypted", col.name)),
        )
    };
    format!(
        "{keep}\n\
         -- If it only compares the value (a token or API key your users present): store a hash.\n\
         -- ALTER TABLE {table} ADD COLUMN {} text;\n\
         -- UPDATE {table} SET {} = encode(digest({value}, 'sha256'), 'hex');\n\
         -- ALTER TABLE {table} DROP COLUMN {c};",
        quote_ident(&format!("{}_hash", col.name)),
        quote_ident(&format!("{}_hash", col.name)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::run;
    use dbaudit_catalog::builder::CatalogBuilder;

    fn cols(names: &[&str]) -> Vec<String> {
        let w = words("t");
        names
            .iter()
            .filter(|n| secret_name(n, &w).is_some())
            .map(|n| n.to_string())
            .collect()
    }

    #[test]
    fn callengo_api_keys_are_reported() {
        let cat = CatalogBuilder::supabase()
            .schema("vault")
            .table(
                "public.company_settings",
                &[
                    "id uuid not null",
                    "company_id uuid not null",
                    "bland_api_key text",
                    "openai_api_key text",
                    "default_voice text",
                ],
            )
            .pk("public.company_settings", &["id"])
            .rls("public.company_settings", true)
            .supabase_grants("public.company_settings")
            .build();
        let f = run(&PlaintextSecretColumn, &cat);
        let cols: Vec<_> = f.iter().map(|f| f.column.as_deref().unwrap()).collect();
        assert_eq!(cols, vec!["bland_api_key", "openai_api_key"]);
        assert_eq!(f[0].severity, Severity::High);
        assert_eq!(f[0].evidence["matched"], "column name ends in \"api_key\"");
        assert!(f[0]
            .fix
            .as_ref()
            .unwrap()
            .sql
            .contains("vault.create_secret(bland_api_key)"));
        insta::assert_json_snapshot!(f[0]);
    }

    #[test]
    fn encrypted_bytea_and_named_encrypted_are_not_reported() {
        // callengo calendar_integrations and clinic calendar_connections.
        let cat = CatalogBuilder::supabase()
            .table(
                "public.calendar_integrations",
                &[
                    "access_token_encrypted bytea not null",
                    "refresh_token_encrypted bytea",
                    "sync_token text",
                ],
            )
            .table(
                "public.calendar_connections",
                &["refresh_token_encrypted text not null"],
            )
            .build();
        assert!(run(&PlaintextSecretColumn, &cat).is_empty());
    }

    #[test]
    fn ids_counts_times_and_qualifiers_are_not_secrets() {
        let not_secrets = [
            "stripe_customer_id",
            "stripe_subscription_id",
            "api_key_id",
            "token_count",
            "tokens_used",
            "max_tokens",
            "input_tokens",
            "token_type",
            "token_expires_at",
            "refresh_token_expires_at",
            "password_changed_at",
            "password_hint",
            "api_key_prefix",
            "api_key_last4",
            "secret_name",
            "secret_question",
            "sync_token",
            "next_page_token",
            "push_token",
            "expo_push_token",
            "device_token",
            "csrf_token",
            "password_hash",
            "hashed_password",
            "encrypted_password",
            "client_secret_hash",
            "token_hash",
            "refresh_token_hash",
            "api_key_digest",
            "api_key_enc",
            "secret_ciphertext",
            "stripe_publishable_key",
            "public_key",
            "anon_key",
            "sort_key",
            "idempotency_key",
            "s3_key",
            "key",
            "credentials",
            "provider_credentials",
            "client_id",
            "tokens",
        ];
        assert_eq!(cols(&not_secrets), Vec::<String>::new());
    }

    #[test]
    fn secret_names_are_recognised() {
        let secrets = [
            "password",
            "smtp_password",
            "secret",
            "client_secret",
            "webhook_secret",
            "otp_secret",
            "token",
            "access_token",
            "refresh_token",
            "password_reset_token",
            "accessToken",
            "api_key",
            "apiKey",
            "apikey",
            "private_key",
            "stripe_secret_key",
            "aws_secret_access_key",
            "supabase_service_role_key",
            "signing_key",
            "api_key_value",
            "oauth_tokens",
            "oauth_credentials",
        ];
        assert_eq!(cols(&secrets), secrets.to_vec());
    }

    #[test]
    fn key_column_of_api_keys_table_is_reported() {
        let cat = CatalogBuilder::new()
            .table(
                "public.api_keys",
                &["id uuid", "key text", "key_prefix text"],
            )
            .build();
        let f = run(&PlaintextSecretColumn, &cat);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.contains("(it is the key column of api_keys)"),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].evidence["matched"], "it is the key column of api_keys");
        assert_eq!(
            secret_kind(&words("key"), &words("api_keys")),
            Some(SecretKind::Key)
        );
        assert_eq!(secret_kind(&words("key"), &words("settings")), None);
    }

    #[test]
    fn non_text_types_are_not_reported() {
        let cat = CatalogBuilder::new()
            .table(
                "public.t",
                &[
                    "password_reset_required boolean",
                    "api_key bytea",
                    "token integer",
                    "secret timestamptz",
                    "api_keys text[]",
                ],
            )
            .build();
        assert!(run(&PlaintextSecretColumn, &cat).is_empty());
    }

    #[test]
    fn jsonb_and_varchar_are_reported() {
        let cat = CatalogBuilder::new()
            .table(
                "public.integrations",
                &["oauth_tokens jsonb", "client_secret character varying(255)"],
            )
            .build();
        let f = run(&PlaintextSecretColumn, &cat);
        assert_eq!(f.len(), 2);
        assert!(f[0].fix.as_ref().unwrap().sql.contains("pgp_sym_encrypt"));
    }

    #[test]
    fn comment_saying_encrypted_silences() {
        let cat = CatalogBuilder::new()
            .table("public.t", &["api_key text"])
            .with(|c| {
                c.relations[0].columns[0].comment =
                    Some("Encrypted by the application (AES-GCM)".into())
            })
            .build();
        assert!(run(&PlaintextSecretColumn, &cat).is_empty());
    }

    #[test]
    fn exposed_table_without_rls_is_said_so() {
        let cat = CatalogBuilder::supabase()
            .table("public.integrations", &["id uuid", "webhook_secret text"])
            .supabase_grants("public.integrations")
            .build();
        let f = run(&PlaintextSecretColumn, &cat);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::High);
        assert!(
            f[0].message
                .contains("RLS off and anon, authenticated can read it"),
            "{}",
            f[0].message
        );
        assert!(f[0].evidence.contains_key("exposed_without_rls"));
    }

    #[test]
    fn passwords_get_a_hash_fix_and_views_are_skipped() {
        let cat = CatalogBuilder::new()
            .table("public.accounts", &["id int", "password text"])
            .view("public.v", &["password text"], &["public.accounts"])
            .build();
        let f = run(&PlaintextSecretColumn, &cat);
        assert_eq!(f.len(), 1);
        let fix = &f[0].fix.as_ref().unwrap().sql;
        assert!(fix.contains("gen_salt('bf')"), "{fix}");
        assert!(f[0].message.contains("a password"));
    }

    #[test]
    fn managed_schemas_are_not_audited() {
        let cat = CatalogBuilder::supabase()
            .table("auth.sessions", &["refresh_token text"])
            .build();
        assert!(run(&PlaintextSecretColumn, &cat).is_empty());
    }
}
