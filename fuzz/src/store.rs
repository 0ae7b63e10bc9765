//! `host/src/store`: the page cursor, with a stand-in for the store's error type (the
//! host's wraps sqlx errors; the cursor uses only `Invalid`).

#[path = "../../host/src/store/cursor.rs"]
#[allow(dead_code)] // the page helpers the host's backends use
mod cursor;

pub use cursor::PageCursor;

pub mod error {
    //! The variants of the host's `StoreError` that the cursor can return.

    pub type Result<T, E = StoreError> = std::result::Result<T, E>;

    #[derive(Debug, thiserror::Error)]
    pub enum StoreError {
        #[error("invalid input: {0}")]
        Invalid(String),
    }
}
