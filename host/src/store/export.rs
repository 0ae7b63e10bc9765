//! The export stream, shared by the backends: a task reads the database cursor and hands
//! quotes through a bounded channel, so memory stays flat however many rows match and a
//! slow consumer slows the cursor down instead of filling memory.

use futures::stream::BoxStream;
use futures::{Stream, StreamExt, TryStreamExt};
use tokio::sync::mpsc;

use super::error::Result;
use super::quote::Quote;
use super::rows;
use super::values::Columns;

/// Rows handed to an export stream consumer ahead of it.
const EXPORT_BUFFER: usize = 256;

/// The two ends of an export: the task sends into the first, the caller reads the second.
pub(crate) fn channel() -> (
    mpsc::Sender<Result<Quote>>,
    BoxStream<'static, Result<Quote>>,
) {
    let (sender, receiver) = mpsc::channel(EXPORT_BUFFER);
    let stream = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    })
    .boxed();
    (sender, stream)
}

/// Decodes `rows` into `sender` until they end, one fails (sent, then stop) or the
/// consumer is gone.
pub(crate) async fn forward<R: Columns>(
    rows: impl Stream<Item = std::result::Result<R, sqlx::Error>>,
    sender: mpsc::Sender<Result<Quote>>,
) {
    let mut rows = std::pin::pin!(rows);
    loop {
        let item = match rows.try_next().await {
            Ok(Some(row)) => rows::quote(&row),
            Ok(None) => break,
            Err(error) => Err(error.into()),
        };
        let failed = item.is_err();
        if sender.send(item).await.is_err() || failed {
            break;
        }
    }
}
