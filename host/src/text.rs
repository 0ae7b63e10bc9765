//! Bounding text the host repeats back (error messages, activity entries) when that
//! text came from a user or a plugin: cut on a character boundary, marked as cut.

use serde_json::Value;
use std::borrow::Cow;

/// Longest user or plugin text repeated in an error message or an activity entry, by
/// default (`http.max_echoed_text_bytes`).
pub const DEFAULT_MAX_ECHOED_TEXT_BYTES: usize = 512;

/// `text` if it fits in `max_bytes`, else its first `max_bytes` at most (never splitting
/// a character) followed by an ellipsis and how much was cut: `abc… (4194301 more bytes cut)`.
pub fn truncate(text: &str, max_bytes: usize) -> Cow<'_, str> {
    if text.len() <= max_bytes {
        return Cow::Borrowed(text);
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!(
        "{}… ({} more bytes cut)",
        &text[..end],
        text.len() - end
    ))
}

/// Truncates every string in `value` (object keys included) to `max_bytes`, except the
/// values of the fields named in `keep` (already bounded elsewhere). Whether it cut any.
pub fn truncate_json(value: &mut Value, max_bytes: usize, keep: &[&str]) -> bool {
    match value {
        Value::String(text) => match truncate(text, max_bytes) {
            Cow::Owned(short) => {
                *text = short;
                true
            }
            Cow::Borrowed(_) => false,
        },
        Value::Array(values) => values.iter_mut().fold(false, |cut, value| {
            truncate_json(value, max_bytes, keep) | cut
        }),
        Value::Object(fields) => {
            let long_key = fields.keys().any(|key| key.len() > max_bytes);
            if long_key {
                let entries = std::mem::take(fields);
                *fields = entries
                    .into_iter()
                    .map(|(key, value)| (truncate(&key, max_bytes).into_owned(), value))
                    .collect();
            }
            fields
                .iter_mut()
                .filter(|(key, _)| !keep.contains(&key.as_str()))
                .fold(long_key, |cut, (_, value)| {
                    truncate_json(value, max_bytes, keep) | cut
                })
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_text_is_kept_and_long_text_is_cut_on_a_char_boundary() {
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abcd", 3), "abc… (1 more bytes cut)");
        // "é" is two bytes: a cut at byte 2 of "aé" would split it, so it is left out.
        assert_eq!(truncate("aéz", 2), "a… (3 more bytes cut)");
        assert_eq!(truncate("ééé", 0), "… (6 more bytes cut)");
        let long = "x".repeat(4 << 20);
        assert!(truncate(&long, 512).len() < 512 + 30);
    }

    #[test]
    fn json_strings_are_cut_except_the_kept_fields() {
        let mut value = json!({"error": "x".repeat(10), "stderr": "y".repeat(10),
                               "list": ["z".repeat(10)], "k".repeat(10): 1});
        assert!(truncate_json(&mut value, 6, &["stderr"]));
        assert!(!truncate_json(&mut value.clone(), 40, &[]));
        assert_eq!(value["error"], "xxxxxx… (4 more bytes cut)");
        assert_eq!(value["stderr"], "y".repeat(10));
        assert_eq!(value["list"][0], "zzzzzz… (4 more bytes cut)");
        assert_eq!(value["kkkkkk… (4 more bytes cut)"], 1);
    }
}
