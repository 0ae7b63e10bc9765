//! The export stream, shared by the backends: keyset pages of `(created_at, id)`, each
//! read with a connection taken from the pool and returned before the page is handed on,
//! so a consumer that stops reading holds one page of memory and no connection. A page
//! is kept as the rows the database sent (their text) and each quote decoded only when
//! it is taken: decoded JSON documents take several times the memory of their text.

use std::collections::VecDeque;
use std::future::Future;

use futures::StreamExt;
use futures::stream::BoxStream;

use super::cursor::PageCursor;
use super::error::Result;
use super::quote::Quote;
use super::rows;
use super::values::Columns;

/// Largest page an export reads at once.
pub(crate) const MAX_EXPORT_PAGE_ROWS: u32 = 10_000;

/// Where a paged export stands.
struct Pages<F, R> {
    /// Reads the page after a cursor (`None`: the first), at most `rows` long.
    read_page: F,
    rows: u32,
    after: Option<PageCursor>,
    page: VecDeque<R>,
    /// The last page was short (or failed): nothing more to read.
    finished: bool,
}

/// The quotes of the rows `read_page` returns page after page, oldest first, reading the
/// next page only when the consumer has taken every quote of the previous one. A failed
/// read or decode is the stream's last item.
pub(crate) fn paged<R, F, Fut>(page_rows: u32, read_page: F) -> BoxStream<'static, Result<Quote>>
where
    R: Columns + Send + 'static,
    F: FnMut(Option<PageCursor>, u32) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Vec<R>>> + Send + 'static,
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
            let read = (pages.read_page)(pages.after, pages.rows).await;
            let read = read.and_then(|rows| {
                let after = match rows.last() {
                    Some(last) => Some(PageCursor::new(last.time("created_at")?, last.id("id")?)),
                    None => None,
                };
                Ok((rows, after))
            });
            match read {
                Ok((rows, after)) => {
                    pages.finished = rows.len() < pages.rows as usize;
                    pages.after = after;
                    pages.page = rows.into();
                }
                Err(error) => {
                    pages.finished = true;
                    return Some((Err(error), pages));
                }
            }
        }
        let row = pages.page.pop_front()?;
        let quote = rows::quote(&row);
        if quote.is_err() {
            pages.finished = true;
            pages.page.clear();
        }
        Some((quote, pages))
    })
    .boxed()
}
