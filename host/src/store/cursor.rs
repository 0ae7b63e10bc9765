//! Keyset pagination: an opaque cursor over `(created_at, id)` and a page type.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::error::{Result, StoreError};

/// Position after the last row of a page, for lists ordered newest first by
/// `(created_at DESC, id DESC)`. The next page holds the rows strictly older
/// than this key, so rows inserted meanwhile never shift a page (no duplicates,
/// no gaps among rows that existed when listing started).
///
/// Text form (see [`encode`](Self::encode)): 48 lowercase hex digits, the 64-bit
/// microsecond timestamp then the 128-bit id; url-safe and opaque to clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageCursor {
    /// `created_at` of the last row returned (microsecond precision).
    pub created_at: DateTime<Utc>,
    /// `id` of the last row returned.
    pub id: Uuid,
}

/// Cursor of quote listings.
pub type QuoteCursor = PageCursor;
/// Cursor of activity listings.
pub type ActivityCursor = PageCursor;

const ENCODED_LEN: usize = 48;

impl PageCursor {
    /// The cursor pointing after `(created_at, id)`.
    pub fn new(created_at: DateTime<Utc>, id: Uuid) -> Self {
        Self { created_at, id }
    }

    /// Opaque url-safe text for a `cursor` query parameter.
    pub fn encode(&self) -> String {
        let micros = self.created_at.timestamp_micros() as u64;
        format!("{micros:016x}{:032x}", self.id.as_u128())
    }

    /// Parses [`encode`](Self::encode)'s output; anything else is
    /// `StoreError::Invalid`.
    pub fn decode(text: &str) -> Result<Self> {
        let bad = || StoreError::Invalid("malformed page cursor".into());
        if text.len() != ENCODED_LEN
            || !text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(bad());
        }
        let micros = u64::from_str_radix(&text[..16], 16).map_err(|_| bad())? as i64;
        let id = u128::from_str_radix(&text[16..], 16).map_err(|_| bad())?;
        let created_at = DateTime::<Utc>::from_timestamp_micros(micros).ok_or_else(bad)?;
        Ok(Self {
            created_at,
            id: Uuid::from_u128(id),
        })
    }
}

/// One page of a keyset-paginated listing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    /// Rows, newest first.
    pub items: Vec<T>,
    /// Cursor for the next page; `None` on the last page.
    #[serde(serialize_with = "serialize_cursor")]
    pub next_cursor: Option<PageCursor>,
}

fn serialize_cursor<S: serde::Serializer>(
    cursor: &Option<PageCursor>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match cursor {
        Some(c) => s.serialize_some(&c.encode()),
        None => s.serialize_none(),
    }
}

/// Clamps a requested page size to `1..=1000`.
pub(crate) fn clamp_limit(limit: u32) -> u32 {
    limit.clamp(1, 1000)
}

/// Builds a page from `limit + 1` fetched rows: the extra row only tells
/// whether another page exists.
pub(crate) fn make_page<T>(
    mut rows: Vec<T>,
    limit: u32,
    key: impl Fn(&T) -> PageCursor,
) -> Page<T> {
    let limit = limit as usize;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = if more { rows.last().map(key) } else { None };
    Page {
        items: rows,
        next_cursor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        let c = PageCursor::new(
            DateTime::<Utc>::from_timestamp_micros(1_780_000_000_123_456).unwrap(),
            Uuid::now_v7(),
        );
        let text = c.encode();
        assert_eq!(text.len(), ENCODED_LEN);
        assert_eq!(PageCursor::decode(&text).unwrap(), c);
        for garbage in [
            "",
            "abc",
            &text.to_uppercase(),
            &format!("{text}0"),
            &text.replace('0', "g"),
        ] {
            assert!(PageCursor::decode(garbage).is_err(), "{garbage:?}");
        }
    }
}
