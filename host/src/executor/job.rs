//! A call as the executor holds it: a boxed future, the channel its answer goes back on,
//! and the waker that puts it back in its queue.

use super::Shared;
use super::queues::TaskId;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Wake};
use std::time::Instant;
use tokio::sync::oneshot;

/// Why the executor gave no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{0} calls are alive in the executor already")]
    Full(usize),
    #[error("the call did not start within its queue wait")]
    QueueTimeout,
    #[error("the executor is shutting down")]
    ShuttingDown,
    #[error("the call was lost (its future panicked)")]
    Lost,
}

/// A finished call and when it ran.
#[derive(Debug)]
pub struct Ran<T> {
    pub value: T,
    /// Its first slice began.
    pub started: Instant,
    pub finished: Instant,
}

/// What a worker thread does with a call, whatever its output type.
pub(super) trait Job: Send {
    /// Runs one slice: until the call yields, waits or ends.
    fn poll_slice(&mut self, cx: &mut Context<'_>) -> Poll<()>;
    /// Answers the caller with a refusal instead of a value.
    fn refuse(self: Box<Self>, why: Refusal);
}

type Reply<T> = oneshot::Sender<Result<Ran<T>, Refusal>>;

pub(super) struct Call<F: Future> {
    future: Pin<Box<F>>,
    reply: Option<Reply<F::Output>>,
    started: Option<Instant>,
}

impl<F: Future> Call<F> {
    pub(super) fn new(future: F, reply: Reply<F::Output>) -> Self {
        Self {
            future: Box::pin(future),
            reply: Some(reply),
            started: None,
        }
    }
}

impl<F> Job for Call<F>
where
    F: Future + Send,
    F::Output: Send,
{
    fn poll_slice(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let started = *self.started.get_or_insert_with(Instant::now);
        let value = std::task::ready!(self.future.as_mut().poll(cx));
        if let Some(reply) = self.reply.take() {
            let _ = reply.send(Ok(Ran {
                value,
                started,
                finished: Instant::now(),
            }));
        }
        Poll::Ready(())
    }

    fn refuse(mut self: Box<Self>, why: Refusal) {
        if let Some(reply) = self.reply.take() {
            let _ = reply.send(Err(why));
        }
    }
}

impl<F: Future> Drop for Call<F> {
    fn drop(&mut self) {
        // Dropped unanswered: it panicked, or the executor stopped.
        if let Some(reply) = self.reply.take() {
            let _ = reply.send(Err(Refusal::Lost));
        }
    }
}

/// Puts its call back in its organization's queue. Holds the executor weakly: a call's
/// future keeps its waker, and the executor keeps the call.
pub(super) struct TaskWaker {
    pub(super) id: TaskId,
    pub(super) shared: Weak<Shared>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(shared) = self.shared.upgrade() {
            shared.wake(self.id);
        }
    }
}
