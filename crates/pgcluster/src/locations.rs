//! Where each object of the schema was created and last altered in the migrations, so a finding
//! about `public.contacts` can point at `20240101_init.sql:12` (SARIF locations, the Markdown
//! report).
//!
//! Read from the statements' leading words, never by running anything: `CREATE TABLE`,
//! `ALTER TABLE`, `CREATE [MATERIALIZED] VIEW`, `CREATE POLICY`/`ALTER POLICY`,
//! `CREATE FUNCTION`/`PROCEDURE`, `CREATE INDEX`, `CREATE TRIGGER`, `CREATE SEQUENCE`,
//! `CREATE TYPE`. Unqualified names are taken to be in `public`, the default `search_path`.

use crate::layout::MigrationSet;
use crate::split::{self, Word};
use std::collections::HashMap;

/// A kind of schema object, as far as locations go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// Tables, views, materialized views, sequences, foreign tables.
    Relation,
    /// A policy, keyed by its table and its name.
    Policy,
    Function,
    Index,
    /// A trigger, keyed by its table and its name.
    Trigger,
    Type,
}

/// A place in a migration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file as shown to users (`MigrationFile::display`).
    pub file: String,
    /// 1-based line of the statement's first token in the real file.
    pub line: u32,
}

/// Where each object was created and last altered.
#[derive(Debug, Clone, Default)]
pub struct ObjectLocations {
    created: HashMap<(ObjectKind, String), Location>,
    altered: HashMap<(ObjectKind, String), Location>,
}

impl ObjectLocations {
    /// Scan every migration file of `set` (seeds included: they may create objects too).
    pub fn scan(set: &MigrationSet) -> Self {
        let mut out = ObjectLocations::default();
        for file in set.files.iter().chain(set.seeds.iter()) {
            for st in split::split(&file.sql) {
                let line = file.first_line.saturating_sub(1).saturating_add(st.line);
                let words = st.words(24);
                if let Some((kind, key, created)) = recognise(&words) {
                    let loc = Location {
                        file: file.display.clone(),
                        line,
                    };
                    if created {
                        // `CREATE OR REPLACE` again: the latest definition is the one in force.
                        out.altered.remove(&(kind, key.clone()));
                        out.created.insert((kind, key), loc);
                    } else {
                        out.altered.insert((kind, key), loc);
                    }
                }
            }
        }
        out
    }

    /// Where the object was created (its latest `CREATE`).
    pub fn created(&self, kind: ObjectKind, key: &str) -> Option<&Location> {
        self.created.get(&(kind, key.to_string()))
    }

    /// Where the object was last altered after its creation, if it was.
    pub fn altered(&self, kind: ObjectKind, key: &str) -> Option<&Location> {
        self.altered.get(&(kind, key.to_string()))
    }

    pub fn is_empty(&self) -> bool {
        self.created.is_empty() && self.altered.is_empty()
    }

    /// Key of a relation, function, index or type: `schema.name`.
    pub fn key(schema: &str, name: &str) -> String {
        format!("{schema}.{name}")
    }

    /// Key of a policy or trigger: `schema.table:name`.
    pub fn table_key(schema: &str, table: &str, name: &str) -> String {
        format!("{schema}.{table}:{name}")
    }
}

/// (kind, key, whether this creates the object) for one statement.
fn recognise(words: &[Word]) -> Option<(ObjectKind, String, bool)> {
    let mut i = 0;
    let kw = |i: usize, k: &str| words.get(i).is_some_and(|w| w.is(k));
    let create = kw(0, "create");
    let alter = kw(0, "alter");
    if !create && !alter {
        return None;
    }
    i += 1;
    if create && kw(i, "or") && kw(i + 1, "replace") {
        i += 2;
    }
    // Modifiers before the object kind.
    while [
        "temp",
        "temporary",
        "unlogged",
        "global",
        "local",
        "unique",
        "materialized",
        "recursive",
        "constraint",
        "foreign",
        "trusted",
        "procedural",
    ]
    .iter()
    .any(|m| kw(i, m))
    {
        i += 1;
    }
    let kind_word = words.get(i)?.ident()?.to_string();
    i += 1;
    let skip_if_exists = |i: &mut usize| {
        if kw(*i, "if") && kw(*i + 1, "not") && kw(*i + 2, "exists") {
            *i += 3;
        } else if kw(*i, "if") && kw(*i + 1, "exists") {
            *i += 2;
        }
    };
    match kind_word.as_str() {
        "table" | "view" | "sequence" => {
            skip_if_exists(&mut i);
            if kw(i, "only") {
                i += 1;
            }
            let (schema, name, _) = qualified(words, i)?;
            Some((
                ObjectKind::Relation,
                ObjectLocations::key(&schema, &name),
                create,
            ))
        }
        "type" | "domain" => {
            skip_if_exists(&mut i);
            let (schema, name, _) = qualified(words, i)?;
            Some((
                ObjectKind::Type,
                ObjectLocations::key(&schema, &name),
                create,
            ))
        }
        "function" | "procedure" => {
            let (schema, name, _) = qualified(words, i)?;
            Some((
                ObjectKind::Function,
                ObjectLocations::key(&schema, &name),
                create,
            ))
        }
        "policy" | "trigger" => {
            skip_if_exists(&mut i);
            let name = words.get(i)?.ident()?.to_string();
            // The table follows the first ON.
            let on = (i + 1..words.len()).find(|&j| kw(j, "on"))?;
            let (schema, table, _) = qualified(words, on + 1)?;
            let kind = if kind_word == "policy" {
                ObjectKind::Policy
            } else {
                ObjectKind::Trigger
            };
            Some((
                kind,
                ObjectLocations::table_key(&schema, &table, &name),
                create,
            ))
        }
        "index" => {
            if kw(i, "concurrently") {
                i += 1;
            }
            skip_if_exists(&mut i);
            if create {
                // CREATE INDEX [name] ON [ONLY] table: the index lives in its table's schema.
                let name = if kw(i, "on") {
                    return None; // unnamed: the server picks the name
                } else {
                    let n = words.get(i)?.ident()?.to_string();
                    i += 1;
                    n
                };
                if !kw(i, "on") {
                    return None;
                }
                i += 1;
                if kw(i, "only") {
                    i += 1;
                }
                let (schema, _, _) = qualified(words, i)?;
                Some((
                    ObjectKind::Index,
                    ObjectLocations::key(&schema, &name),
                    true,
                ))
            } else {
                let (schema, name, _) = qualified(words, i)?;
                Some((
                    ObjectKind::Index,
                    ObjectLocations::key(&schema, &name),
                    false,
                ))
            }
        }
        _ => None,
    }
}

/// `name` or `schema.name` starting at `i`: (schema, name, next index).
fn qualified(words: &[Word], i: usize) -> Option<(String, String, usize)> {
    let first = words.get(i)?.ident()?.to_string();
    if matches!(words.get(i + 1), Some(Word::Other(p)) if p == ".") {
        let second = words.get(i + 2)?.ident()?.to_string();
        Some((first, second, i + 3))
    } else {
        Some(("public".to_string(), first, i + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{LayoutKind, MigrationFile, TxMode};
    use std::path::PathBuf;

    fn set(files: &[(&str, &str)]) -> MigrationSet {
        MigrationSet {
            kind: LayoutKind::Plain,
            root: PathBuf::from("."),
            files: files
                .iter()
                .map(|(name, sql)| MigrationFile {
                    path: PathBuf::from(name),
                    display: name.to_string(),
                    sql: sql.to_string(),
                    first_line: 1,
                    transaction: TxMode::Auto,
                })
                .collect(),
            seeds: vec![],
            skipped: vec![],
        }
    }

    #[test]
    fn finds_creations_and_alterations() {
        let s = set(&[
            (
                "001_init.sql",
                "-- init\ncreate table if not exists public.contacts (id uuid);\n\nCREATE TABLE \"Odd\" (x int);\ncreate or replace function app.current_company_id() returns uuid language sql as $$ select null::uuid $$;\n",
            ),
            (
                "002_rls.sql",
                "alter table contacts enable row level security;\ncreate policy \"Read own\" on public.contacts for select using (true);\ncreate unique index concurrently if not exists contacts_idx on only public.contacts (id);\ncreate trigger t_upd before update on contacts for each row execute function f();\ncreate materialized view stats as select 1;\n",
            ),
        ]);
        let l = ObjectLocations::scan(&s);
        let c = l.created(ObjectKind::Relation, "public.contacts").unwrap();
        assert_eq!((c.file.as_str(), c.line), ("001_init.sql", 2));
        assert_eq!(
            l.created(ObjectKind::Relation, "public.Odd").unwrap().line,
            4
        );
        assert_eq!(
            l.created(ObjectKind::Function, "app.current_company_id")
                .unwrap()
                .line,
            5
        );
        let a = l.altered(ObjectKind::Relation, "public.contacts").unwrap();
        assert_eq!((a.file.as_str(), a.line), ("002_rls.sql", 1));
        assert_eq!(
            l.created(ObjectKind::Policy, "public.contacts:Read own")
                .unwrap()
                .line,
            2
        );
        assert_eq!(
            l.created(ObjectKind::Index, "public.contacts_idx")
                .unwrap()
                .line,
            3
        );
        assert_eq!(
            l.created(ObjectKind::Trigger, "public.contacts:t_upd")
                .unwrap()
                .line,
            4
        );
        assert_eq!(
            l.created(ObjectKind::Relation, "public.stats")
                .unwrap()
                .line,
            5
        );
    }

    #[test]
    fn ignores_what_it_does_not_know() {
        let l = ObjectLocations::scan(&set(&[(
            "a.sql",
            "select 1; insert into t values (1); create index on t (x); grant select on t to anon;",
        )]));
        assert!(l.is_empty());
    }
}
