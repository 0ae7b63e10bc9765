//! Cross-host invalidation: each write a cache depends on announces its [`Change`] with
//! `pg_notify` inside the write's own transaction, so other hosts hear of it exactly
//! when (and only if) it commits. `cluster::listener` receives these.

use sqlx::{Postgres, Transaction};

use super::super::error::Result;
use crate::changes::Change;

/// The one channel every host listens on for changes.
pub const CHANGES_CHANNEL: &str = "quote_host_changes";

/// Announces `change` to every host once `tx` commits.
pub async fn announce(tx: &mut Transaction<'static, Postgres>, change: &Change) -> Result<()> {
    let payload = serde_json::to_string(change).unwrap_or_else(|_| "{}".into());
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANGES_CHANNEL)
        .bind(payload)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    /// PostgreSQL's limit on a notification payload, in bytes.
    const MAX_PAYLOAD_BYTES: usize = 8000;

    #[test]
    fn the_largest_payload_fits_a_notification() {
        let change = Change::ApiKey {
            organization: Uuid::max(),
            key: Uuid::max(),
        };
        let payload = serde_json::to_string(&change).unwrap();
        assert!(payload.len() < MAX_PAYLOAD_BYTES, "{payload}");
    }
}
