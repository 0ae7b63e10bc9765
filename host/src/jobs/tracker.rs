//! Runs in flight of the scheduler: admission (none once stopping), a count to wait
//! on at shutdown, and the signal that cancels their fetch.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

/// Runs in flight, and whether new ones may start.
#[derive(Debug, Clone, Copy, Default)]
struct RunState {
    stopped: bool,
    cancelled: bool,
    in_flight: usize,
}

/// Admission and cancellation of runs, on a `watch` channel so that waiting for
/// "no run in flight" or "cancelled" needs no polling loop.
pub(crate) struct Tracker {
    state: watch::Sender<RunState>,
}

impl Default for Tracker {
    fn default() -> Self {
        Self {
            state: watch::Sender::new(RunState::default()),
        }
    }
}

/// One admitted run; counted until dropped (also when the run panics).
pub(crate) struct Ticket(Arc<Tracker>);

impl Drop for Ticket {
    fn drop(&mut self) {
        self.0.state.send_modify(|state| state.in_flight -= 1);
    }
}

impl Tracker {
    /// A ticket for a new run, or `None` once stopping.
    pub(crate) fn admit(self: &Arc<Self>) -> Option<Ticket> {
        let mut admitted = false;
        self.state.send_if_modified(|state| {
            admitted = !state.stopped;
            if admitted {
                state.in_flight += 1;
            }
            admitted
        });
        admitted.then(|| Ticket(self.clone()))
    }

    /// Runs admitted and not finished.
    pub(crate) fn in_flight(&self) -> usize {
        self.state.borrow().in_flight
    }

    /// Admits no run from now on.
    pub(crate) fn stop(&self) {
        self.state
            .send_if_modified(|state| !std::mem::replace(&mut state.stopped, true));
    }

    /// Tells the runs in flight to abandon their fetch.
    pub(crate) fn cancel(&self) {
        self.state
            .send_if_modified(|state| !std::mem::replace(&mut state.cancelled, true));
    }

    /// Completes when runs are told to stop.
    pub(crate) fn cancelled(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut state = self.state.subscribe();
        async move {
            let _ = state.wait_for(|state| state.cancelled).await;
        }
    }

    /// Whether no run was left in flight within `limit`.
    pub(crate) async fn wait_idle(&self, limit: Duration) -> bool {
        let mut state = self.state.subscribe();
        let idle = async move { state.wait_for(|state| state.in_flight == 0).await.is_ok() };
        tokio::time::timeout(limit, idle).await.unwrap_or(false)
    }
}
