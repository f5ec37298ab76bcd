//! What an index is made of, read from its `pg_get_indexdef` text: the key items as Postgres
//! spells them (column or expression, with any non-default operator class, collation and sort
//! order), the INCLUDE columns and `NULLS NOT DISTINCT`. Shared by `duplicate-index` and
//! `redundant-index`, which compare indexes of one table with each other.

use dbaudit_catalog::Index;

/// The parts of an index that decide which queries it can serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexShape {
    /// Key items as spelled in the definition: `company_id`, `created_at DESC`,
    /// `lower(email)`, `name COLLATE "C"`, `name text_pattern_ops`.
    pub keys: Vec<String>,
    /// INCLUDE columns, sorted (their order does not matter).
    pub include: Vec<String>,
    /// `NULLS NOT DISTINCT` (PG 15+): changes what a unique index enforces.
    pub nulls_not_distinct: bool,
}

impl IndexShape {
    /// Read the shape from the index definition; `None` when the text is not what
    /// `pg_get_indexdef` writes (then the index is left alone: better silent than wrong).
    pub fn of(index: &Index) -> Option<IndexShape> {
        let marker = format!(" USING {} (", index.method);
        let start = index.definition.find(&marker)? + marker.len();
        let (keys, rest) = split_list(&index.definition[start..])?;
        if keys.is_empty() || keys.len() != index.key_columns.len() {
            return None;
        }
        let mut include = vec![];
        let mut rest = rest;
        if let Some(after) = rest.strip_prefix(" INCLUDE (") {
            let (cols, r) = split_list(after)?;
            include = cols;
            rest = r;
        }
        include.sort();
        // The predicate comes last; what precedes it are options.
        let options = match rest.find(" WHERE ") {
            Some(p) => &rest[..p],
            None => rest,
        };
        Some(IndexShape {
            keys,
            include,
            nulls_not_distinct: options.contains("NULLS NOT DISTINCT"),
        })
    }
}

/// Whether two indexes are the same kind of index over the same rows: valid, same method, same
/// predicate. Only such indexes can stand in for each other.
pub fn comparable(a: &Index, b: &Index) -> bool {
    usable(a) && usable(b) && a.method == b.method && a.predicate == b.predicate
}

/// Valid and ready: a failed `CREATE INDEX CONCURRENTLY` is `invalid-index`'s business.
pub fn usable(i: &Index) -> bool {
    i.valid && i.ready
}

/// The constraint (primary key, unique, exclusion) an index backs, if any.
pub fn backing(i: &Index) -> Option<&str> {
    i.constraint.as_deref()
}

/// The key columns, comma-separated (`<expression>` for expression keys): a finding's `column`,
/// as for other multi-column findings. The index name goes into the evidence.
pub fn key_columns(i: &Index) -> String {
    i.key_columns
        .iter()
        .map(|c| c.clone().unwrap_or_else(|| "<expression>".into()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `text` starts just after an opening parenthesis: split the comma-separated items up to the
/// matching closing one, minding nested parentheses and quotes. Returns the items, trimmed, and
/// what follows the closing parenthesis.
fn split_list(text: &str) -> Option<(Vec<String>, &str)> {
    let mut items = vec![];
    let mut depth = 0usize;
    let mut item_start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' | '\'' => {
                // Skip to the closing quote; a doubled quote is an escaped one.
                loop {
                    match chars.next() {
                        Some((_, q)) if q == c => {
                            if chars.peek().is_some_and(|(_, n)| *n == c) {
                                chars.next();
                            } else {
                                break;
                            }
                        }
                        Some(_) => {}
                        None => return None,
                    }
                }
            }
            '(' | '[' => depth += 1,
            ')' | ']' if depth > 0 => depth -= 1,
            ')' => {
                items.push(text[item_start..i].trim().to_string());
                return Some((items, &text[i + 1..]));
            }
            ',' if depth == 0 => {
                items.push(text[item_start..i].trim().to_string());
                item_start = i + 1;
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(def: &str, keys: usize) -> Index {
        Index {
            oid: 1,
            schema: "public".into(),
            name: "i".into(),
            table: 2,
            key_columns: vec![None; keys],
            include_columns: vec![],
            expressions: None,
            predicate: None,
            unique: false,
            primary: false,
            valid: true,
            ready: true,
            method: "btree".into(),
            definition: def.into(),
            constraint: None,
            size_bytes: 0,
        }
    }

    #[test]
    fn reads_keys_includes_and_options() {
        let s = IndexShape::of(&index(
            "CREATE UNIQUE INDEX i ON public.t USING btree (a, lower((b)::text), \"C,d\" DESC NULLS LAST) \
             INCLUDE (z, y) NULLS NOT DISTINCT WITH (fillfactor='70') WHERE (x = 'a,b)'::text)",
            3,
        ))
        .unwrap();
        assert_eq!(
            s.keys,
            vec!["a", "lower((b)::text)", "\"C,d\" DESC NULLS LAST"]
        );
        assert_eq!(s.include, vec!["y", "z"]);
        assert!(s.nulls_not_distinct);
    }

    #[test]
    fn predicate_mentioning_nulls_not_distinct_is_not_an_option() {
        let s = IndexShape::of(&index(
            "CREATE INDEX i ON public.t USING btree (a) WHERE (note <> 'NULLS NOT DISTINCT'::text)",
            1,
        ))
        .unwrap();
        assert!(!s.nulls_not_distinct);
    }

    #[test]
    fn unexpected_text_gives_none() {
        assert!(IndexShape::of(&index("", 1)).is_none());
        assert!(IndexShape::of(&index("CREATE INDEX i ON t USING btree (a", 1)).is_none());
        assert!(IndexShape::of(&index("CREATE INDEX i ON t USING btree (a, b)", 1)).is_none());
    }
}
