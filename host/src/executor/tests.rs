use super::*;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

fn executor(threads: usize, max_calls: usize) -> Executor {
    let config = ExecutorConfig {
        threads,
        max_calls,
        demote_after: Duration::from_millis(5),
        nice: 0,
    };
    Executor::start(&config, Box::new(|| {}), 100).unwrap()
}

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(30)
}

/// Burns `slice` of CPU per poll and yields, `slices` times (a guest between epoch
/// ticks), counting its slices in `polls`.
struct Spin {
    slice: Duration,
    slices: usize,
    polls: Arc<AtomicUsize>,
}

impl Spin {
    fn new(slice: Duration, slices: usize) -> Self {
        Self {
            slice,
            slices,
            polls: Arc::new(AtomicUsize::new(0)),
        }
    }
}

impl Future for Spin {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.polls.fetch_add(1, Ordering::Relaxed);
        let until = Instant::now() + self.slice;
        while Instant::now() < until {
            std::hint::spin_loop();
        }
        if self.slices == 0 {
            return Poll::Ready(());
        }
        self.slices -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[tokio::test]
async fn a_call_runs_on_an_executor_thread_and_says_when() {
    let executor = executor(1, 8);
    let before = Instant::now();
    let ran = executor
        .run(Uuid::new_v4(), soon(), async {
            std::thread::current().name().map(str::to_string)
        })
        .await
        .unwrap();
    assert_eq!(ran.value.as_deref(), Some("guest-0"));
    assert!(before <= ran.started && ran.started <= ran.finished);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_organization_does_not_hold_the_thread() {
    let executor = Arc::new(executor(1, 64));
    let flooder = Uuid::new_v4();
    let polls = Arc::new(AtomicUsize::new(0));
    let floods: Vec<_> = (0..8)
        .map(|_| {
            let (executor, polls) = (executor.clone(), polls.clone());
            tokio::spawn(async move {
                let spin = Spin {
                    polls,
                    ..Spin::new(Duration::from_millis(2), 40)
                };
                executor.run(flooder, soon(), spin).await
            })
        })
        .collect();
    while polls.load(Ordering::Relaxed) < 16 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let mut most_slices_waited = 0;
    for _ in 0..10 {
        let asked = polls.load(Ordering::Relaxed);
        let seen = polls.clone();
        let started_after = executor
            .run(Uuid::new_v4(), soon(), async move {
                seen.load(Ordering::Relaxed)
            })
            .await
            .unwrap()
            .value;
        most_slices_waited = most_slices_waited.max(started_after - asked);
    }
    // Counted in slices, not time (the machine may be busy): least CPU first, a fresh
    // call waits for the slice running when it came and at most one more; served in
    // turn, it would wait for all eight flooding calls.
    assert!(
        most_slices_waited <= 2,
        "waited {most_slices_waited} slices"
    );
    for flood in floods {
        flood.await.unwrap().expect("the flooder is served too");
    }
    assert!(executor.report(10).counters.demotions >= 8);
}

#[tokio::test]
async fn past_max_calls_a_call_is_refused() {
    let executor = Arc::new(executor(1, 2));
    let org = Uuid::new_v4();
    let parked: Vec<_> = (0..2)
        .map(|_| {
            let executor = executor.clone();
            tokio::spawn(async move {
                executor
                    .run(org, soon(), std::future::pending::<()>())
                    .await
            })
        })
        .collect();
    while executor.report(10).calls < 2 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let refused = executor.run(org, soon(), async {}).await;
    assert_eq!(refused.unwrap_err(), Refusal::Full(2));
    for call in parked {
        call.abort();
    }
}

#[tokio::test]
async fn a_call_that_cannot_start_in_time_is_refused() {
    let executor = Arc::new(executor(1, 8));
    let org = Uuid::new_v4();
    let hog = {
        let executor = executor.clone();
        tokio::spawn(async move {
            executor
                .run(org, soon(), Spin::new(Duration::from_millis(200), 0))
                .await
        })
    };
    while executor.report(10).organizations.first().map(|o| o.running) != Some(1) {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let start_by = Instant::now() + Duration::from_millis(20);
    let refused = executor.run(Uuid::new_v4(), start_by, async {}).await;
    assert_eq!(refused.unwrap_err(), Refusal::QueueTimeout);
    hog.await.unwrap().unwrap();
    assert_eq!(executor.report(10).counters.expired, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sleeping_call_holds_no_thread() {
    let executor = Arc::new(executor(1, 64));
    let sleepers: Vec<_> = (0..16)
        .map(|_| {
            let executor = executor.clone();
            tokio::spawn(async move {
                // Made on the worker thread, so it registers with the executor's timers.
                let sleep = async { tokio::time::sleep(Duration::from_millis(300)).await };
                executor.run(Uuid::new_v4(), soon(), sleep).await
            })
        })
        .collect();
    while executor
        .report(20)
        .organizations
        .iter()
        .map(|o| o.waiting)
        .sum::<usize>()
        < 16
    {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let asked = Instant::now();
    executor
        .run(Uuid::new_v4(), soon(), async {})
        .await
        .unwrap();
    assert!(asked.elapsed() < Duration::from_millis(100));
    for sleeper in sleepers {
        sleeper
            .await
            .unwrap()
            .expect("the timers fire on the executor's own runtime");
    }
}

#[tokio::test]
async fn a_caller_that_gives_up_cancels_its_call() {
    let executor = Arc::new(executor(1, 8));
    let polls = Arc::new(AtomicUsize::new(0));
    let counted = polls.clone();
    let forever = std::future::poll_fn(move |cx| {
        counted.fetch_add(1, Ordering::Relaxed);
        cx.waker().wake_by_ref();
        Poll::<()>::Pending
    });
    let call = executor.run(Uuid::new_v4(), soon(), forever);
    let _ = tokio::time::timeout(Duration::from_millis(30), call).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while executor.report(10).calls > 0 {
        assert!(
            Instant::now() < deadline,
            "the cancelled call is still alive"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let seen = polls.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        polls.load(Ordering::Relaxed),
        seen,
        "no more slices after the cancel"
    );
}

/// The calling thread's nice value.
#[cfg(target_os = "linux")]
fn nice_now() -> i32 {
    rustix::process::getpriority_process(None).unwrap()
}

/// Spins past `demote_after`, yields once, and reads its thread's nice value before and after.
#[cfg(target_os = "linux")]
async fn nice_fresh_then_demoted(demote_after: Duration) -> (i32, i32) {
    let fresh = nice_now();
    let started = Instant::now();
    while started.elapsed() < demote_after * 2 {
        std::hint::spin_loop();
    }
    tokio::task::yield_now().await;
    (fresh, nice_now())
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_demoted_call_runs_at_the_configured_nice_value_a_fresh_one_at_the_processs() {
    // Relative to this thread's own value: tests may run under `nice` already.
    let own = nice_now();
    let wanted = (own + 2).min(19);
    let demote_after = Duration::from_millis(5);
    let config = ExecutorConfig {
        threads: 1,
        max_calls: 1,
        demote_after,
        nice: wanted,
    };
    let executor = Executor::start(&config, Box::new(|| {}), 1).unwrap();
    let organization = Uuid::new_v4();
    let (fresh, demoted) = executor
        .run(organization, soon(), nice_fresh_then_demoted(demote_after))
        .await
        .unwrap()
        .value;
    assert_eq!(demoted, wanted, "a call past demote_after runs lowered");
    // Raising a priority back needs RLIMIT_NICE room (root has it); without it the
    // thread stays lowered for every call, which the executor logs.
    let may_raise = std::thread::spawn(move || {
        rustix::process::setpriority_process(None, wanted).unwrap();
        rustix::process::setpriority_process(None, own).is_ok()
    })
    .join()
    .unwrap();
    let (next_fresh, _) = executor
        .run(organization, soon(), nice_fresh_then_demoted(demote_after))
        .await
        .unwrap()
        .value;
    assert_eq!(
        fresh, own,
        "the first fresh call runs at the process's value"
    );
    if may_raise {
        assert_eq!(
            next_fresh, own,
            "a fresh call after a demoted one runs at it again"
        );
    }
    assert_eq!(nice_now(), own, "only the executor's threads are lowered");
}
