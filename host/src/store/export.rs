//! The export stream, shared by the backends: keyset pages of `(created_at, id)`, each
//! read with a connection taken from the pool and returned before the page is handed on,
//! so a consumer that stops reading holds one page of memory and no connection.

use std::collections::VecDeque;
use std::future::Future;

use futures::StreamExt;
use futures::stream::BoxStream;

use super::cursor::PageCursor;
use super::error::Result;
use super::quote::Quote;

/// Largest page an export reads at once.
pub(crate) const MAX_EXPORT_PAGE_ROWS: u32 = 10_000;

/// Where a paged export stands.
struct Pages<F> {
    /// Reads the page after a cursor (`None`: the first), at most `rows` long.
    read_page: F,
    rows: u32,
    after: Option<PageCursor>,
    page: VecDeque<Quote>,
    /// The last page was short (or failed): nothing more to read.
    finished: bool,
}

/// The quotes `read_page` returns page after page, oldest first, reading the next page only
/// when the consumer has taken every quote of the previous one. A failed read is the
/// stream's last item.
pub(crate) fn paged<F, Fut>(page_rows: u32, read_page: F) -> BoxStream<'static, Result<Quote>>
where
    F: FnMut(Option<PageCursor>, u32) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Vec<Quote>>> + Send + 'static,
{
    let pages = Pages {
        read_page,
        rows: page_rows.clamp(1, MAX_EXPORT_PAGE_ROWS),
        after: None,
        page: VecDeque::new(),
        finished: false,
    };
    futures::stream::unfold(pages, |mut pages| async move {
        if pages.page.is_empty() && !pages.finished {
            match (pages.read_page)(pages.after, pages.rows).await {
                Ok(quotes) => {
                    pages.finished = quotes.len() < pages.rows as usize;
                    pages.after = quotes.last().map(|q| PageCursor::new(q.created_at, q.id));
                    pages.page = quotes.into();
                }
                Err(error) => {
                    pages.finished = true;
                    return Some((Err(error), pages));
                }
            }
        }
        let quote = pages.page.pop_front()?;
        Some((Ok(quote), pages))
    })
    .boxed()
}
