//! The page cursor a client sends back (`?cursor=`): decoding any text never panics,
//! a text that decodes re-encodes to exactly itself (one cursor, one spelling), and
//! every cursor the server can hand out decodes to itself.
#![no_main]

use chrono::{DateTime, Utc};
use host_code::store::PageCursor;
use libfuzzer_sys::fuzz_target;
use uuid::Uuid;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(text) = std::str::from_utf8(bytes)
        && let Ok(cursor) = PageCursor::decode(text)
    {
        assert_eq!(
            cursor.encode(),
            text,
            "a decoded cursor re-encodes differently"
        );
    }
    // The same bytes as a row key: 8 bytes of microseconds, then up to 16 of id.
    let Some((micros, id)) = bytes.split_first_chunk::<8>() else {
        return;
    };
    let Some(created_at) = DateTime::<Utc>::from_timestamp_micros(i64::from_le_bytes(*micros))
    else {
        return;
    };
    let mut id_bytes = [0u8; 16];
    let n = id.len().min(16);
    id_bytes[..n].copy_from_slice(&id[..n]);
    let cursor = PageCursor::new(created_at, Uuid::from_bytes(id_bytes));
    let text = cursor.encode();
    let lower_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    assert!(text.len() == 48 && text.bytes().all(lower_hex), "{text}");
    assert_eq!(
        PageCursor::decode(&text).ok(),
        Some(cursor),
        "{text} does not decode to its cursor"
    );
});
