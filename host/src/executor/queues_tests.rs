use super::*;

const DEMOTE: Duration = Duration::from_millis(5);

fn queues(max_calls: usize) -> FairQueues {
    FairQueues::new(Policy {
        max_calls,
        demote_after: DEMOTE,
    })
}

fn far(now: Instant) -> Instant {
    now + Duration::from_secs(3600)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Picks the next call and runs it for `ran`, yielding (woken) at the end.
fn run_slice(queues: &mut FairQueues, now: &mut Instant, ran: Duration) -> TaskId {
    let id = queues.pick(*now).expect("something to run");
    queues.wake(id);
    *now += ran;
    queues.end_slice(id, *now, false);
    id
}

#[test]
fn the_organization_that_used_least_is_served_first() {
    let mut now = Instant::now();
    let mut q = queues(16);
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let a1 = q.admit(a, far(now)).unwrap();
    let b1 = q.admit(b, far(now)).unwrap();
    // Whoever goes first, the other goes next: it has used less.
    let first = run_slice(&mut q, &mut now, ms(3));
    let second = run_slice(&mut q, &mut now, ms(1));
    assert_ne!(first, second);
    assert!([a1, b1].contains(&first) && [a1, b1].contains(&second));
    // Now the one that ran 1 ms is behind: it runs again, until it passes 3 ms.
    assert_eq!(run_slice(&mut q, &mut now, ms(1)), second);
    assert_eq!(run_slice(&mut q, &mut now, ms(2)), second);
    assert_eq!(q.pick(now), Some(first));
}

#[test]
fn an_idle_organization_cannot_bank_credit() {
    let mut now = Instant::now();
    let mut q = queues(16);
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    q.admit(a, far(now)).unwrap();
    for _ in 0..100 {
        run_slice(&mut q, &mut now, ms(10));
    }
    // B was idle for A's whole second: it starts level with A, not 1 s ahead.
    let b1 = q.admit(b, far(now)).unwrap();
    assert_eq!(q.pick(now), Some(b1), "a fresh call goes first on a tie");
    q.wake(b1);
    now += ms(20);
    q.end_slice(b1, now, false);
    let next = q.pick(now).unwrap();
    assert_ne!(next, b1, "after 20 ms B is behind A again");
}

#[test]
fn a_long_call_drops_a_level_at_5_and_at_50_ms_and_fresh_calls_go_first() {
    let mut now = Instant::now();
    let mut q = queues(16);
    let a = Uuid::new_v4();
    let long = q.admit(a, far(now)).unwrap();
    let id = q.pick(now).unwrap();
    q.wake(id);
    now += ms(6);
    let end = q.end_slice(id, now, false).unwrap();
    assert_eq!(end.demoted, 1..2);
    assert_eq!(end.ran, ms(6));
    let fresh = q.admit(a, far(now)).unwrap();
    assert_eq!(q.pick(now), Some(fresh), "level 0 before level 1");
    q.end_slice(fresh, now + ms(1), true);
    now += ms(1);
    assert_eq!(q.pick(now), Some(long));
    q.wake(long);
    now += ms(44);
    assert_eq!(q.end_slice(long, now, false).unwrap().demoted, 2..3);
    let report = q.report(10);
    assert_eq!(report[0].queued_by_level, [0, 0, 1]);
}

#[test]
fn a_fresh_call_of_another_organization_preempts_long_ones() {
    let mut now = Instant::now();
    let mut q = queues(16);
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    for _ in 0..3 {
        q.admit(a, far(now)).unwrap();
    }
    // Two threads run A's calls for a while; A's third call waits.
    for _ in 0..10 {
        run_slice(&mut q, &mut now, ms(10));
    }
    q.pick(now).unwrap();
    q.pick(now).unwrap();
    now += ms(1);
    assert!(
        !q.should_preempt(now),
        "A's own call of the same level waits its turn"
    );
    q.admit(b, far(now)).unwrap();
    assert!(q.should_preempt(now), "B outranks A's running calls");
}

#[test]
fn at_most_max_calls_are_alive() {
    let now = Instant::now();
    let mut q = queues(2);
    let org = Uuid::new_v4();
    let first = q.admit(org, far(now)).unwrap();
    q.admit(org, far(now)).unwrap();
    assert_eq!(q.admit(org, far(now)), None);
    assert_eq!(q.alive(), 2);
    let id = q.pick(now).unwrap();
    q.end_slice(id, now, true);
    assert_eq!(id, first);
    assert!(
        q.admit(org, far(now)).is_some(),
        "a finished call frees its place"
    );
}

#[test]
fn calls_that_did_not_start_in_time_expire_and_started_ones_do_not() {
    let mut now = Instant::now();
    let mut q = queues(16);
    let org = Uuid::new_v4();
    let started = q.admit(org, now + ms(10)).unwrap();
    let waiting = q.admit(org, now + ms(10)).unwrap();
    assert_eq!(q.pick(now), Some(started));
    now += ms(20);
    assert_eq!(q.take_expired(now), vec![waiting]);
    assert_eq!(q.alive(), 1);
    q.end_slice(started, now, true);
    assert_eq!(q.alive(), 0);
    assert!(
        q.report(10).is_empty(),
        "an organization with no calls is forgotten"
    );
}

#[test]
fn a_parked_call_holds_no_thread_until_woken() {
    let mut now = Instant::now();
    let mut q = queues(16);
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let sleeper = q.admit(a, far(now)).unwrap();
    assert_eq!(q.pick(now), Some(sleeper));
    now += ms(1);
    q.end_slice(sleeper, now, false); // not woken: waits on its timer
    assert_eq!(q.pick(now), None);
    let other = q.admit(b, far(now)).unwrap();
    assert_eq!(q.pick(now), Some(other));
    assert_eq!(
        q.report(10).iter().map(|line| line.waiting).sum::<usize>(),
        1
    );
    assert!(q.wake(sleeper));
    assert!(!q.wake(sleeper), "a second wake changes nothing");
    assert_eq!(q.pick(now), Some(sleeper));
}

#[test]
fn a_cancelled_call_leaves_its_queue_or_ends_with_its_slice() {
    let now = Instant::now();
    let mut q = queues(16);
    let org = Uuid::new_v4();
    let running = q.admit(org, far(now)).unwrap();
    let queued = q.admit(org, far(now)).unwrap();
    q.pick(now).unwrap();
    assert_eq!(q.cancel(queued), Cancelled::Removed);
    assert_eq!(q.cancel(running), Cancelled::Running);
    assert_eq!(q.cancel(12345), Cancelled::Unknown);
    q.end_slice(running, now, true);
    assert_eq!(q.alive(), 0);
}

#[test]
fn the_report_lists_the_busiest_organizations_first_up_to_top() {
    let now = Instant::now();
    let mut q = queues(64);
    let orgs: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
    for (n, org) in orgs.iter().enumerate() {
        for _ in 0..=n {
            q.admit(*org, far(now)).unwrap();
        }
    }
    let report = q.report(3);
    assert_eq!(report.len(), 3);
    assert_eq!(report[0].organization_id, orgs[4]);
    assert_eq!(report[0].queued, 5);
    assert_eq!(report[2].organization_id, orgs[2]);
}
