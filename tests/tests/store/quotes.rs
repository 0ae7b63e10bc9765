//! Quotes: numbering, pagination, status updates, revisions, export, stats.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

use crate::store::{
    NewQuote, PageCursor, QuoteFilter, QuoteStatus, QuoteUpdate, StatsWindow, StatusChange, Store,
    StoreError,
};
use chrono::{Datelike, Duration, Utc};
use futures::StreamExt;
use futures::future::join_all;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::fixtures::{new_org, new_quote, priced_quote, pricing};
use quote_tests::on_both_stores;
use quote_tests::stores::Ctx;

on_both_stores!(numbering, numbering_scenario);
async fn numbering_scenario(ctx: &Ctx) {
    let s = &*ctx.store;
    let a = new_org(s).await;
    let b = new_org(s).await;
    let quotes = join_all((0..20).map(|_| {
        let store = ctx.store.clone();
        async move { new_quote(&*store, a, "1.00").await }
    }))
    .await;
    let year = Utc::now().year();
    let numbers: BTreeSet<String> = quotes.iter().map(|q| q.number.clone()).collect();
    let expected: BTreeSet<String> = (1..=20).map(|n| format!("Q-{year}-{n:06}")).collect();
    assert_eq!(numbers, expected, "gapless, no duplicates");
    assert_eq!(
        new_quote(s, b, "1").await.number,
        format!("Q-{year}-000001")
    );
    assert_eq!(
        new_quote(s, a, "1").await.number,
        format!("Q-{year}-000021")
    );
    assert!(matches!(
        s.create_quote(NewQuote {
            organization_id: Uuid::now_v7(),
            title: None,
            pricing: pricing("RUB", "1")
        })
        .await,
        Err(StoreError::NotFound)
    ));
}

on_both_stores!(pagination, pagination_scenario);
async fn pagination_scenario(ctx: &Ctx) {
    let s = &*ctx.store;
    let org = new_org(s).await;
    let mut original = Vec::new();
    for i in 0..250 {
        let q = new_quote(s, org, &format!("{i}.50")).await;
        if i % 5 == 0 {
            let change = StatusChange {
                from: QuoteStatus::Draft,
                to: QuoteStatus::Sent,
            };
            s.update_quote(
                org,
                q.id,
                QuoteUpdate {
                    title: None,
                    status: Some(change),
                },
            )
            .await
            .unwrap();
        }
        original.push(q.id);
    }
    // Inserts keep coming while we page through.
    let writer = {
        let store: Arc<dyn Store> = ctx.store.clone();
        tokio::spawn(async move {
            for _ in 0..60 {
                new_quote(&*store, org, "7").await;
                tokio::task::yield_now().await;
            }
        })
    };
    let mut seen = Vec::new();
    let mut cursor: Option<PageCursor> = None;
    loop {
        let page = s
            .list_quotes(org, QuoteFilter::default(), 17, cursor)
            .await
            .unwrap();
        assert!(page.items.len() <= 17);
        seen.extend(page.items.iter().map(|q| (q.created_at, q.id)));
        // Cursors survive their text form.
        cursor = page
            .next_cursor
            .map(|c| PageCursor::decode(&c.encode()).unwrap());
        if cursor.is_none() {
            break;
        }
    }
    writer.await.unwrap();
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "strictly newest first: no duplicates"
    );
    let ids: BTreeSet<Uuid> = seen.iter().map(|(_, id)| *id).collect();
    assert!(
        original.iter().all(|id| ids.contains(id)),
        "no gaps among pre-existing rows"
    );

    let mut sent = Vec::new();
    let mut cursor = None;
    loop {
        let filter = QuoteFilter {
            status: Some(QuoteStatus::Sent),
        };
        let page = s.list_quotes(org, filter, 7, cursor).await.unwrap();
        assert!(page.items.iter().all(|q| q.status == QuoteStatus::Sent));
        sent.extend(page.items.into_iter().map(|q| q.id));
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(sent.len(), 50);
    assert!(PageCursor::decode("not-a-cursor").is_err());
}

on_both_stores!(status_and_revisions, status_and_revisions_scenario);
async fn status_and_revisions_scenario(ctx: &Ctx) {
    let s = &*ctx.store;
    let org = new_org(s).await;
    let q = new_quote(s, org, "100.00").await;
    assert_eq!((q.status, q.revision), (QuoteStatus::Draft, 1));
    assert_eq!(s.quote(org, q.id).await.unwrap(), Some(q.clone()));

    // JSON documents come back verbatim, object key order included.
    let mut ordered = pricing("RUB", "1");
    ordered.result = serde_json::from_str(r#"{"z":1,"a":{"y":[3,1],"b":null},"m":"x"}"#).unwrap();
    let oq = s
        .create_quote(NewQuote {
            organization_id: org,
            title: None,
            pricing: ordered,
        })
        .await
        .unwrap();
    let back = s.quote(org, oq.id).await.unwrap().unwrap();
    assert_eq!(
        back.result.to_string(),
        r#"{"z":1,"a":{"y":[3,1],"b":null},"m":"x"}"#
    );

    let send = StatusChange {
        from: QuoteStatus::Draft,
        to: QuoteStatus::Sent,
    };
    let sent = s
        .update_quote(
            org,
            q.id,
            QuoteUpdate {
                title: None,
                status: Some(send),
            },
        )
        .await
        .unwrap();
    assert_eq!(sent.status, QuoteStatus::Sent);
    assert!(sent.updated_at >= q.updated_at);
    // A second writer that still believes the quote is a draft loses.
    let cancel = StatusChange {
        from: QuoteStatus::Draft,
        to: QuoteStatus::Cancelled,
    };
    let lost = s
        .update_quote(
            org,
            q.id,
            QuoteUpdate {
                title: None,
                status: Some(cancel),
            },
        )
        .await;
    assert!(matches!(lost, Err(StoreError::Conflict(_))), "{lost:?}");
    let titled = s
        .update_quote(
            org,
            q.id,
            QuoteUpdate {
                title: Some(Some("Big order".into())),
                status: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (titled.title.as_deref(), titled.status),
        (Some("Big order"), QuoteStatus::Sent)
    );
    let cleared = s
        .update_quote(
            org,
            q.id,
            QuoteUpdate {
                title: Some(None),
                status: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(cleared.title, None);
    let missing = s
        .update_quote(org, Uuid::now_v7(), QuoteUpdate::default())
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)));

    // A sent quote is not recalculated: its result and revision stay as they were.
    let refused = s
        .save_quote_revision(org, q.id, 1, pricing("RUB", "1"))
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    let kept = s.quote(org, q.id).await.unwrap().unwrap();
    assert_eq!((kept.revision, kept.total), (1, q.total));
    assert!(s.quote_revisions(org, q.id).await.unwrap().is_empty());

    // Recalculation of a draft keeps the previous result.
    let q = new_quote(s, org, "100.00").await;
    let mut repriced = pricing("USD", "123.4500");
    repriced.plugin_version = 2;
    let r2 = s
        .save_quote_revision(org, q.id, 1, repriced.clone())
        .await
        .unwrap();
    assert_eq!(
        (r2.revision, r2.total, r2.currency.as_str()),
        (2, repriced.total, "USD")
    );
    assert_eq!(r2.total.to_string(), "123.4500");
    assert_eq!(
        (r2.number.as_str(), r2.status),
        (q.number.as_str(), QuoteStatus::Draft)
    );
    let stale = s.save_quote_revision(org, q.id, 1, repriced.clone()).await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    let r3 = s
        .save_quote_revision(org, q.id, 2, pricing("RUB", "99"))
        .await
        .unwrap();
    assert_eq!(r3.revision, 3);
    let revs = s.quote_revisions(org, q.id).await.unwrap();
    assert_eq!(revs.iter().map(|r| r.revision).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(
        (revs[0].total, revs[0].created_at, revs[0].plugin_version),
        (q.total, q.priced_at, 1)
    );
    assert_eq!(
        (
            revs[1].total,
            revs[1].currency.as_str(),
            revs[1].plugin_version
        ),
        (repriced.total, "USD", 2)
    );
    assert_eq!(revs[0].request, q.request);
    assert!(matches!(
        s.save_quote_revision(org, Uuid::now_v7(), 1, repriced)
            .await,
        Err(StoreError::NotFound)
    ));

    // Concurrent status changes from the same state: exactly one wins.
    let fresh = new_quote(s, org, "5").await;
    let results = join_all((0..6).map(|_| {
        let store = ctx.store.clone();
        let change = StatusChange {
            from: QuoteStatus::Draft,
            to: QuoteStatus::Sent,
        };
        async move {
            store
                .update_quote(
                    org,
                    fresh.id,
                    QuoteUpdate {
                        title: None,
                        status: Some(change),
                    },
                )
                .await
        }
    }))
    .await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .all(|r| r.is_ok() || matches!(r, Err(StoreError::Conflict(_))))
    );

    // Concurrent recalculations from the same revision: exactly one wins.
    let results = join_all((0..6).map(|i| {
        let store = ctx.store.clone();
        let id = q.id;
        async move {
            store
                .save_quote_revision(org, id, 3, pricing("RUB", &format!("{i}")))
                .await
        }
    }))
    .await;
    let wins = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(wins, 1, "{results:?}");
    assert!(
        results
            .iter()
            .all(|r| r.is_ok() || matches!(r, Err(StoreError::Conflict(_))))
    );
    assert_eq!(s.quote_revisions(org, q.id).await.unwrap().len(), 3);

    s.delete_quote(org, q.id).await.unwrap();
    assert_eq!(s.quote(org, q.id).await.unwrap(), None);
    assert!(matches!(
        s.delete_quote(org, q.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.quote_revisions(org, q.id).await,
        Err(StoreError::NotFound)
    ));
}

on_both_stores!(stats, stats_scenario);
async fn stats_scenario(ctx: &Ctx) {
    let s = &*ctx.store;
    let org = new_org(s).await;
    for (currency, total, accepted) in [
        ("RUB", "0.10", true),
        ("RUB", "0.20", true),
        ("USD", "5", true),
        ("RUB", "1000", false),
    ] {
        priced_quote(s, org, currency, total, accepted).await;
    }
    let now = Utc::now();
    let window = StatsWindow {
        prev_month_start: now - Duration::days(60),
        month_start: now - Duration::hours(1),
        next_month_start: now + Duration::hours(1),
        recent: 3,
        chart_months: 1,
    };
    let stats = s.quote_stats(org, window).await.unwrap();
    assert_eq!(stats.by_status[&QuoteStatus::Accepted], 3);
    assert_eq!(stats.by_status[&QuoteStatus::Draft], 1);
    assert_eq!(stats.by_status[&QuoteStatus::Sent], 0);
    assert_eq!(stats.current_month.created, 4);
    let by_cur: HashMap<_, _> = stats
        .current_month
        .accepted
        .iter()
        .map(|c| (c.currency.as_str(), c))
        .collect();
    assert_eq!(by_cur["RUB"].accepted_count, 2);
    assert_eq!(
        by_cur["RUB"].accepted_total,
        "0.30".parse::<Decimal>().unwrap()
    );
    assert_eq!(
        by_cur["RUB"].average_total,
        "0.15".parse::<Decimal>().unwrap()
    );
    assert_eq!(by_cur["USD"].accepted_total, Decimal::from(5));
    assert_eq!(stats.previous_month.created, 0);
    assert!(stats.previous_month.accepted.is_empty());
    assert_eq!(stats.recent.len(), 3);
    assert!(
        stats
            .recent
            .windows(2)
            .all(|w| (w[0].created_at, w[0].id) > (w[1].created_at, w[1].id))
    );
    serde_json::to_string(&stats).unwrap();
}

on_both_stores!(export, export_scenario);
async fn export_scenario(ctx: &Ctx) {
    const ROWS: usize = 20_000;
    const WORKERS: usize = 8;
    let s = &*ctx.store;
    let org = new_org(s).await;
    let other = new_org(s).await;
    new_quote(s, other, "1").await;
    let started = Instant::now();
    join_all((0..WORKERS).map(|w| {
        let store = ctx.store.clone();
        async move {
            for i in 0..ROWS / WORKERS {
                let total = format!("{w}{i}.01");
                new_quote(&*store, org, &total).await;
            }
        }
    }))
    .await;
    eprintln!(
        "{:?}: created {ROWS} quotes in {:?}",
        ctx.backend,
        started.elapsed()
    );

    let started = Instant::now();
    // Pages of 97 rows: many page boundaries, and a last page that is short.
    let mut stream = s.export_quotes(org, QuoteFilter::default(), 97);
    let mut count = 0;
    let mut last: Option<(chrono::DateTime<Utc>, Uuid)> = None;
    let mut numbers = BTreeSet::new();
    while let Some(q) = stream.next().await {
        let q = q.unwrap();
        assert_eq!(q.organization_id, org);
        let key = (q.created_at, q.id);
        assert!(last.is_none_or(|l| l < key), "oldest first, no duplicates");
        last = Some(key);
        numbers.insert(q.number);
        count += 1;
    }
    eprintln!(
        "{:?}: exported {count} quotes in {:?}",
        ctx.backend,
        started.elapsed()
    );
    assert_eq!(count, ROWS);
    assert_eq!(numbers.len(), ROWS);

    // Filtered export, and abandoning a stream midway frees its connection.
    let none: Vec<_> = s
        .export_quotes(
            org,
            QuoteFilter {
                status: Some(QuoteStatus::Sent),
            },
            100,
        )
        .collect()
        .await;
    assert!(none.is_empty());
    for _ in 0..12 {
        let mut partial = s.export_quotes(org, QuoteFilter::default(), 100);
        partial.next().await.unwrap().unwrap();
    }
    assert!(s.quote(org, Uuid::now_v7()).await.unwrap().is_none());
}
