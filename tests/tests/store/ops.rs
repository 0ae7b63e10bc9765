//! Exchange rates, activity log, job runs and job locks.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::store::{
    self, ActivityFilter, Backend, JobOutcome, NewActivity, NewRate, PageCursor, StoreError,
};
use chrono::{NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::json;
use uuid::Uuid;

use crate::fixtures::new_org;
use quote_tests::on_both_stores;
use quote_tests::stores::{self, Ctx};
use quote_tests::wait;

fn rate(from: &str, rate: &str) -> NewRate {
    NewRate {
        from_currency: from.into(),
        to_currency: "RUB".into(),
        rate: rate.parse().unwrap(),
        nominal: 1,
    }
}

on_both_stores!(exchange_rates, exchange_rates_scenario);
async fn exchange_rates_scenario(ctx: &Ctx) {
    let s = &*ctx.store;
    assert_eq!(s.newest_rate_fetch().await.unwrap(), None);
    assert!(s.latest_rates(None).await.unwrap().is_empty());
    let d1 = NaiveDate::from_ymd_opt(2026, 5, 5).unwrap();
    let d2 = NaiveDate::from_ymd_opt(2026, 5, 6).unwrap();
    let t1 = Utc::now() - chrono::Duration::hours(30);
    let t2 = Utc::now();
    let day1 = [
        rate("USD", "81.2345"),
        rate("EUR", "92.5"),
        rate("JPY", "0.0123456789"),
    ];
    assert_eq!(s.store_rates("cbr", d1, &day1, t1).await.unwrap(), 3);
    assert_eq!(
        s.store_rates("cbr", d1, &day1, t2).await.unwrap(),
        0,
        "same day twice: nothing new"
    );
    let day2 = [rate("USD", "12345678901234.5678"), rate("EUR", "93.0000")];
    assert_eq!(s.store_rates("cbr", d2, &day2, t2).await.unwrap(), 2);

    let latest = s.latest_rates(None).await.unwrap();
    let view: Vec<(String, String, NaiveDate)> = latest
        .iter()
        .map(|r| (r.from_currency.clone(), r.rate.to_string(), r.rate_date))
        .collect();
    assert_eq!(
        view,
        [
            ("EUR".into(), "93.0000".into(), d2),
            ("JPY".into(), "0.0123456789".into(), d1),
            ("USD".into(), "12345678901234.5678".into(), d2),
        ]
    );
    let on_d1 = s.latest_rates(Some(d1)).await.unwrap();
    assert_eq!(on_d1.len(), 3);
    assert!(on_d1.iter().all(|r| r.rate_date == d1));

    let usd = s.rate("USD", "RUB", None).await.unwrap().unwrap();
    assert_eq!(usd.rate, "12345678901234.5678".parse::<Decimal>().unwrap());
    let jpy = s.rate("JPY", "RUB", Some(d2)).await.unwrap().unwrap();
    assert_eq!(
        (jpy.rate.to_string().as_str(), jpy.rate_date),
        ("0.0123456789", d1)
    );
    assert_eq!(jpy.rate.scale(), 10);
    assert_eq!(
        s.rate("USD", "RUB", Some(d1.pred_opt().unwrap()))
            .await
            .unwrap(),
        None
    );
    assert_eq!(s.rate("GBP", "RUB", None).await.unwrap(), None);
    let newest = s.newest_rate_fetch().await.unwrap().unwrap();
    assert_eq!(newest.timestamp_micros(), t2.timestamp_micros());
}

on_both_stores!(activity_log, activity_log_scenario);
async fn activity_log_scenario(ctx: &Ctx) {
    let s = &*ctx.store;
    let a = new_org(s).await;
    let b = new_org(s).await;
    let base = Utc::now() - chrono::Duration::hours(1);
    let entry = |i: usize| NewActivity {
        organization_id: match i % 3 {
            0 => Some(a),
            1 => Some(b),
            _ => None,
        },
        api_key_id: None,
        action: if i.is_multiple_of(2) {
            "quote.create".into()
        } else {
            "plugin.upload".into()
        },
        entity_type: if i.is_multiple_of(2) {
            "quote".into()
        } else {
            "plugin".into()
        },
        entity_id: Some(format!("e{i}")),
        metadata: json!({"i": i}),
        // Many entries share a timestamp: the id breaks ties.
        created_at: base + chrono::Duration::milliseconds((i / 7) as i64),
    };
    let batch: Vec<NewActivity> = (0..1200).map(entry).collect();
    assert_eq!(s.insert_activity_batch(&batch).await.unwrap(), 1200);
    assert_eq!(s.insert_activity_batch(&[]).await.unwrap(), 0);
    assert_eq!(s.count_activity(a).await.unwrap(), 400);
    assert_eq!(s.count_activity(b).await.unwrap(), 400);

    let mut seen = Vec::new();
    let mut cursor: Option<PageCursor> = None;
    loop {
        let page = s
            .list_activity(a, ActivityFilter::default(), 64, cursor)
            .await
            .unwrap();
        seen.extend(
            page.items
                .iter()
                .map(|e| (e.created_at, e.id, e.entity_id.clone().unwrap())),
        );
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen.len(), 400);
    assert!(seen.windows(2).all(|w| (w[0].0, w[0].1) > (w[1].0, w[1].1)));
    let distinct: BTreeSet<&String> = seen.iter().map(|e| &e.2).collect();
    assert_eq!(distinct.len(), 400);

    let filter = ActivityFilter {
        action: Some("quote.create".into()),
        entity_type: None,
    };
    let page = s.list_activity(a, filter, 1000, None).await.unwrap();
    assert_eq!(page.items.len(), 200);
    assert!(page.next_cursor.is_none());
    assert!(
        page.items
            .iter()
            .all(|e| e.action == "quote.create" && e.organization_id == Some(a))
    );
    let filter = ActivityFilter {
        action: None,
        entity_type: Some("plugin".into()),
    };
    assert_eq!(
        s.list_activity(a, filter, 1000, None)
            .await
            .unwrap()
            .items
            .len(),
        200
    );
    assert_eq!(page.items.last().unwrap().metadata, json!({"i": 0}));

    // Larger than one multi-row statement on either backend: chunked, atomic.
    let big: Vec<NewActivity> = (0..9000)
        .map(|i| NewActivity {
            organization_id: Some(b),
            ..entry(i)
        })
        .collect();
    assert_eq!(s.insert_activity_batch(&big).await.unwrap(), 9000);
    assert_eq!(s.count_activity(b).await.unwrap(), 9400);
}

on_both_stores!(job_runs, job_runs_scenario);
async fn job_runs_scenario(ctx: &Ctx) {
    let s = &*ctx.store;
    assert_eq!(s.last_job_run("cbr_rates").await.unwrap(), None);
    let id = s.start_job_run("cbr_rates").await.unwrap();
    let run = s.last_job_run("cbr_rates").await.unwrap().unwrap();
    assert_eq!(
        (run.id, run.outcome, run.finished_at),
        (id, JobOutcome::Running, None)
    );
    s.finish_job_run(id, JobOutcome::Success, "stored 42 rates", 42)
        .await
        .unwrap();
    let run = s.last_job_run("cbr_rates").await.unwrap().unwrap();
    assert_eq!(
        (run.outcome, run.items, run.detail.as_str()),
        (JobOutcome::Success, 42, "stored 42 rates")
    );
    assert!(run.finished_at.unwrap() >= run.started_at);
    assert!(matches!(
        s.finish_job_run(Uuid::now_v7(), JobOutcome::Failed, "", 0)
            .await,
        Err(StoreError::NotFound)
    ));
    // The skipped run must start strictly later to be the last one.
    wait::clock_passes(run.started_at).await;
    let skipped = s
        .record_skipped("cbr_rates", "lock held by another host")
        .await
        .unwrap();
    let run = s.last_job_run("cbr_rates").await.unwrap().unwrap();
    assert_eq!((run.id, run.outcome), (skipped, JobOutcome::Skipped));
    s.start_job_run("cleanup").await.unwrap();
    assert_eq!(
        s.list_job_runs(Some("cbr_rates"), 10).await.unwrap().len(),
        2
    );
    assert_eq!(s.list_job_runs(None, 10).await.unwrap().len(), 3);
}

on_both_stores!(job_lock, job_lock_scenario);
async fn job_lock_scenario(ctx: &Ctx) {
    let first = &*ctx.store;
    // On PostgreSQL the contender is another store (another "host"); on SQLite
    // the lock is in-process, so the same store contends with itself.
    let second_store = match ctx.backend {
        Backend::Postgres => Some(store::connect(&ctx.url, &stores::options()).await.unwrap()),
        Backend::Sqlite => None,
    };
    let second = second_store.as_deref().unwrap_or(first);
    let key = store::job_lock_key("cbr_rates");
    assert_eq!(key, store::job_lock_key("cbr_rates"));
    assert_ne!(key, store::job_lock_key("cleanup"));

    let guard = first.try_job_lock(key).await.unwrap().expect("free lock");
    assert_eq!(guard.key(), key);
    assert!(
        second.try_job_lock(key).await.unwrap().is_none(),
        "held elsewhere"
    );
    let other_key = second
        .try_job_lock(key.wrapping_add(1))
        .await
        .unwrap()
        .expect("other keys are independent");
    other_key.release().await.unwrap();
    guard.release().await.unwrap();

    let guard = second.try_job_lock(key).await.unwrap().expect("released");
    assert!(first.try_job_lock(key).await.unwrap().is_none());
    // Simulated crash: the guard (and on PostgreSQL its connection) is dropped
    // without release.
    drop(guard);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let regained = loop {
        if let Some(g) = first.try_job_lock(key).await.unwrap() {
            break g;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "lock not freed by dropping its connection"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    regained.release().await.unwrap();
    if let Some(s) = second_store {
        s.close().await;
    }
}
