//! `--format json`: the [`Report`] as one pretty-printed JSON document.

use crate::Report;

pub fn render(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("report serialises: plain data");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn json_shape() {
        let out = super::render(&crate::sample::report());
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        for key in [
            "dbaudit", "source", "summary", "tenancy", "findings", "probe", "scan",
        ] {
            assert!(v.get(key).is_some(), "missing top-level key {key}");
        }
        insta::assert_snapshot!(out);
    }
}
