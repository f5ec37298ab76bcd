//! Python extraction: SQLAlchemy declarative models and `# type: ignore` on database access.

use crate::model::*;
use crate::ts::{line, text, Parsers};
use crate::walk::Lang;
use std::path::Path;
use tree_sitter::Node;

pub fn extract(
    parsers: &mut Parsers,
    display: &str,
    path: &Path,
    src: &str,
) -> Result<FileModel, String> {
    let tree = parsers.parse(Lang::Python, src)?;
    let root = tree.root_node();
    let mut m = FileModel {
        display: display.to_string(),
        path: path.to_path_buf(),
        is_test: crate::ts::is_test_path(display),
        ..Default::default()
    };
    let lines: Vec<&str> = src.lines().collect();
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        match n.kind() {
            "class_definition" => {
                if let Some(model) = model_of(n, src) {
                    m.models.push(model);
                }
            }
            "comment" => {
                let t = text(n, src);
                if t.contains("type: ignore") {
                    let l = line(n);
                    let code = lines.get(l as usize - 1).copied().unwrap_or("");
                    if is_db_line(code) {
                        m.suppressions.push((l, code.trim().to_string()));
                    }
                }
            }
            _ => {}
        }
        let mut c = n.walk();
        stack.extend(n.children(&mut c));
    }
    m.models.sort_by_key(|x| x.line);
    Ok(m)
}

fn is_db_line(code: &str) -> bool {
    let code = code.split('#').next().unwrap_or("");
    [
        "session.",
        ".query(",
        ".execute(",
        "select(",
        "insert(",
        "update(",
        "delete(",
        ".scalars(",
        ".scalar(",
        "db.",
        "Column(",
        "mapped_column(",
        ".commit(",
        ".flush(",
    ]
    .iter()
    .any(|p| code.contains(p))
}

fn string_lit(n: Node, src: &str) -> Option<String> {
    if n.kind() != "string" {
        return None;
    }
    let t = text(n, src);
    let t = t.trim_start_matches(['r', 'b', 'u', 'R', 'B', 'U']);
    let q = t.chars().next()?;
    Some(t.trim_matches(q).to_string())
}

fn callee(call: Node, src: &str) -> String {
    call.child_by_field_name("function")
        .map(|f| {
            let t = text(f, src);
            t.rsplit('.').next().unwrap_or(t).to_string()
        })
        .unwrap_or_default()
}

fn model_of(class: Node, src: &str) -> Option<OrmModel> {
    let name = text(class.child_by_field_name("name")?, src).to_string();
    let body = class.child_by_field_name("body")?;
    let mut table = None;
    let mut columns = vec![];
    let mut c = body.walk();
    for st in body.named_children(&mut c) {
        if st.kind() != "expression_statement" {
            continue;
        }
        let Some(a) = st.named_child(0).filter(|a| a.kind() == "assignment") else {
            continue;
        };
        let (Some(left), Some(right)) = (
            a.child_by_field_name("left"),
            a.child_by_field_name("right"),
        ) else {
            continue;
        };
        let attr = text(left, src).to_string();
        if attr == "__tablename__" {
            table = string_lit(right, src);
            continue;
        }
        if right.kind() != "call"
            || !matches!(callee(right, src).as_str(), "Column" | "mapped_column")
        {
            continue;
        }
        let mut column = attr.clone();
        let mut references = None;
        if let Some(args) = right.child_by_field_name("arguments") {
            let mut c2 = args.walk();
            for (i, arg) in args.named_children(&mut c2).enumerate() {
                if i == 0 {
                    if let Some(s) = string_lit(arg, src) {
                        column = s;
                    }
                }
                if arg.kind() == "call" && callee(arg, src) == "ForeignKey" {
                    let target = arg
                        .child_by_field_name("arguments")
                        .and_then(|a| a.named_child(0))
                        .and_then(|t| string_lit(t, src));
                    if let Some(t) = target {
                        let parts: Vec<&str> = t.split('.').collect();
                        references = match parts.as_slice() {
                            [t, c] => Some((None, t.to_string(), c.to_string())),
                            [s, t, c] => Some((Some(s.to_string()), t.to_string(), c.to_string())),
                            _ => None,
                        };
                    }
                }
            }
        }
        columns.push(OrmColumn {
            attr,
            column,
            line: line(a),
            references,
        });
    }
    Some(OrmModel {
        class: name,
        drizzle: false,
        table: table?,
        line: line(class),
        columns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlalchemy_model() {
        let src = r#"
from sqlalchemy import Column, Integer, ForeignKey, String
class Deal(Base):
    __tablename__ = "deals"
    id = Column(Integer, primary_key=True)
    owner_user_id = Column(Integer, ForeignKey("api_users.id"), nullable=True)
    title: Mapped[str] = mapped_column("name", String)
"#;
        let mut p = Parsers::default();
        let m = extract(&mut p, "m.py", Path::new("m.py"), src).unwrap();
        assert_eq!(m.models.len(), 1);
        let d = &m.models[0];
        assert_eq!(d.table, "deals");
        assert_eq!(d.columns.len(), 3);
        assert_eq!(
            d.columns[1].references,
            Some((None, "api_users".into(), "id".into()))
        );
        assert_eq!(d.columns[2].column, "name");
    }
}
