//! Differences between two JSON documents, by path: what verification reports when a
//! re-run does not reproduce a stored result.

use serde::Serialize;
use serde_json::Value;

/// One place where the documents differ.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Difference {
    /// JSON-pointer-like path, e.g. `/items/0/total`.
    pub path: String,
    pub stored: Option<Value>,
    pub recomputed: Option<Value>,
}

/// Up to `limit` differences, depth first; the bool says whether more were cut.
pub fn differences(stored: &Value, recomputed: &Value, limit: usize) -> (Vec<Difference>, bool) {
    let mut found = Vec::new();
    let mut truncated = false;
    walk(
        String::new(),
        Some(stored),
        Some(recomputed),
        limit,
        &mut found,
        &mut truncated,
    );
    (found, truncated)
}

fn walk(
    path: String,
    stored: Option<&Value>,
    recomputed: Option<&Value>,
    limit: usize,
    found: &mut Vec<Difference>,
    truncated: &mut bool,
) {
    if stored == recomputed {
        return;
    }
    match (stored, recomputed) {
        (Some(Value::Object(left)), Some(Value::Object(right))) => {
            let keys = left
                .keys()
                .chain(right.keys().filter(|key| !left.contains_key(*key)));
            for key in keys {
                walk(
                    format!("{path}/{key}"),
                    left.get(key),
                    right.get(key),
                    limit,
                    found,
                    truncated,
                );
            }
        }
        (Some(Value::Array(left)), Some(Value::Array(right))) => {
            for index in 0..left.len().max(right.len()) {
                walk(
                    format!("{path}/{index}"),
                    left.get(index),
                    right.get(index),
                    limit,
                    found,
                    truncated,
                );
            }
        }
        _ if found.len() < limit => found.push(Difference {
            path: if path.is_empty() { "/".into() } else { path },
            stored: stored.cloned(),
            recomputed: recomputed.cloned(),
        }),
        _ => *truncated = true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reports_changed_added_and_removed_values_by_path() {
        let stored = json!({"total": "10.00", "items": [{"total": "10.00"}], "gone": 1});
        let recomputed =
            json!({"total": "11.00", "items": [{"total": "10.00"}, {"total": "1.00"}]});
        let (found, truncated) = differences(&stored, &recomputed, 10);
        let paths: Vec<&str> = found.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(paths, ["/total", "/items/1", "/gone"]);
        assert!(!truncated);
        assert_eq!(differences(&stored, &stored, 10), (vec![], false));
        let (found, truncated) = differences(&stored, &recomputed, 1);
        assert_eq!((found.len(), truncated), (1, true));
    }
}
