//! Lifecycle, organizations, API keys, tenant isolation, RLS wall.

use std::time::Duration;

use crate::store::{
    self, ActivityFilter, Backend, KeyRevocation, NewActivity, NewApiKey, NewPluginVersion,
    PostgresStore, QuoteFilter, QuoteUpdate, Role, StatsWindow, StatusChange, Store, StoreError,
};
use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use crate::fixtures::{new_org, new_quote, pricing};
use quote_tests::on_both_stores;
use quote_tests::stores::{self, Ctx};

on_both_stores!(lifecycle, lifecycle_scenario);
async fn lifecycle_scenario(ctx: &Ctx) {
    let s = &*ctx.store;
    assert_eq!(s.backend(), ctx.backend);
    // The harness migrated once already: twice more changes nothing.
    s.migrate().await.unwrap();
    s.migrate().await.unwrap();
    s.ping(Duration::from_secs(2)).await.unwrap();
    let state = s.pool_state();
    assert!(state.size >= 1 && state.max == 8, "{state:?}");
    assert_eq!(s.count_organizations().await.unwrap(), 0);
    let err = store::connect("mysql://x", &stores::options())
        .await
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
}

on_both_stores!(orgs_and_keys, orgs_and_keys_scenario);
async fn orgs_and_keys_scenario(ctx: &Ctx) {
    let s = &*ctx.store;
    let acme = s.create_organization("acme").await.unwrap();
    assert!(matches!(
        s.create_organization("acme").await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        s.organization_by_name("acme").await.unwrap(),
        Some(acme.clone())
    );
    assert_eq!(
        s.organization_by_id(acme.id).await.unwrap(),
        Some(acme.clone())
    );
    assert_eq!(s.organization_by_name("nope").await.unwrap(), None);
    assert_eq!(s.count_organizations().await.unwrap(), 1);

    let new_key = |org: Uuid, hash: &str| NewApiKey {
        organization_id: org,
        name: "ci".into(),
        role: Role::Admin,
        prefix: "qh_ab12cd34".into(),
        key_hash: hash.into(),
        max_unrevoked: None,
    };
    let key = s
        .create_api_key(new_key(acme.id, &"1".repeat(64)))
        .await
        .unwrap();
    assert!(matches!(
        s.create_api_key(new_key(acme.id, &"1".repeat(64))).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.create_api_key(new_key(Uuid::now_v7(), &"2".repeat(64)))
            .await,
        Err(StoreError::NotFound)
    ));
    let (found, org) = s.api_key_by_hash(&"1".repeat(64)).await.unwrap().unwrap();
    assert_eq!((found.clone(), org), (key.clone(), acme.clone()));
    assert_eq!(s.api_key_by_hash(&"f".repeat(64)).await.unwrap(), None);

    let at = Utc::now();
    let minute = Duration::from_secs(60);
    s.touch_api_key_last_used(key.id, at, minute).await.unwrap();
    let listed = s.list_api_keys(acme.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_used_at, Some(truncate_micros(at)));
    // Within the gap: no write; past a shorter gap: written.
    let later = at + chrono::Duration::seconds(10);
    s.touch_api_key_last_used(key.id, later, minute)
        .await
        .unwrap();
    assert_eq!(
        s.list_api_keys(acme.id).await.unwrap()[0].last_used_at,
        Some(truncate_micros(at))
    );
    s.touch_api_key_last_used(key.id, later, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(
        s.list_api_keys(acme.id).await.unwrap()[0].last_used_at,
        Some(truncate_micros(later))
    );

    let other = new_org(s).await;
    assert!(matches!(
        s.revoke_api_key(other, key.id).await,
        Err(StoreError::NotFound)
    ));
    // The only admin key stays.
    assert_eq!(
        s.revoke_api_key(acme.id, key.id).await.unwrap(),
        KeyRevocation::LastAdminKey
    );
    assert!(s.api_key_by_hash(&"1".repeat(64)).await.unwrap().is_some());
    let second = s
        .create_api_key(new_key(acme.id, &"3".repeat(64)))
        .await
        .unwrap();
    let KeyRevocation::Revoked(revoked) = s.revoke_api_key(acme.id, key.id).await.unwrap() else {
        panic!("another admin key exists");
    };
    assert_eq!(revoked.id, key.id);
    assert!(revoked.revoked_at.is_some());
    assert!(matches!(
        s.revoke_api_key(acme.id, key.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(s.api_key_by_hash(&"1".repeat(64)).await.unwrap(), None);
    assert_eq!(
        s.revoke_api_key(acme.id, second.id).await.unwrap(),
        KeyRevocation::LastAdminKey
    );
    assert_eq!(s.list_api_keys(acme.id).await.unwrap().len(), 2);
}

fn truncate_micros(t: chrono::DateTime<Utc>) -> chrono::DateTime<Utc> {
    chrono::DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap()
}

on_both_stores!(tenant_isolation, tenant_isolation_scenario);
async fn tenant_isolation_scenario(ctx: &Ctx) {
    let s = &*ctx.store;
    let a = new_org(s).await;
    let b = new_org(s).await;
    let key = s
        .create_api_key(NewApiKey {
            organization_id: a,
            name: "k".into(),
            role: Role::Member,
            prefix: "qh_x".into(),
            key_hash: "9".repeat(64),
            max_unrevoked: None,
        })
        .await
        .unwrap();
    let (pv, _) = s
        .add_plugin_version(NewPluginVersion {
            organization_id: a,
            name: "p".into(),
            sha256: "c".repeat(64),
            wasm: vec![0, 97, 115, 109],
            describe: json!({}),
            uploaded_by: Some(key.id),
        })
        .await
        .unwrap();
    s.activate_plugin_version(a, "p", pv.version).await.unwrap();
    let q = new_quote(s, a, "10.00").await;
    s.insert_activity_batch(&[NewActivity {
        organization_id: Some(a),
        api_key_id: Some(key.id),
        action: "quote.create".into(),
        entity_type: "quote".into(),
        entity_id: Some(q.id.to_string()),
        metadata: json!({}),
        created_at: Utc::now(),
    }])
    .await
    .unwrap();

    // Organization B sees none of it.
    assert_eq!(s.quote(b, q.id).await.unwrap(), None);
    let upd = QuoteUpdate {
        title: Some(None),
        status: Some(StatusChange {
            from: store::QuoteStatus::Draft,
            to: store::QuoteStatus::Sent,
        }),
    };
    assert!(matches!(
        s.update_quote(b, q.id, upd.clone()).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.delete_quote(b, q.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.save_quote_revision(b, q.id, 1, pricing("RUB", "1")).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.quote_revisions(b, q.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        s.list_quotes(b, QuoteFilter::default(), 50, None)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let exported: Vec<_> =
        futures::StreamExt::collect(s.export_quotes(b, QuoteFilter::default(), 100)).await;
    assert!(exported.is_empty());
    let now = Utc::now();
    let window = StatsWindow {
        prev_month_start: now - chrono::Duration::hours(2),
        month_start: now - chrono::Duration::hours(1),
        next_month_start: now + chrono::Duration::hours(1),
        recent: 5,
        chart_months: 2,
    };
    let stats = s.quote_stats(b, window).await.unwrap();
    assert!(stats.by_status.values().all(|n| *n == 0) && stats.recent.is_empty());
    assert_eq!(stats.accepted_by_month.len(), 2);
    assert!(s.list_plugins(b).await.unwrap().is_empty());
    assert_eq!(s.plugin(b, "p").await.unwrap(), None);
    assert!(
        s.plugin_version_bytes(b, "p", pv.version)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(s.active_plugin_version(b, Some("p")).await.unwrap(), None);
    assert_eq!(s.active_plugin_version(b, None).await.unwrap(), None);
    assert!(matches!(
        s.activate_plugin_version(b, "p", pv.version).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.delete_plugin_version(b, "p", pv.version).await,
        Err(StoreError::NotFound)
    ));
    assert!(s.list_api_keys(b).await.unwrap().is_empty());
    assert!(matches!(
        s.revoke_api_key(b, key.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        s.list_activity(b, ActivityFilter::default(), 50, None)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(s.count_activity(b).await.unwrap(), 0);

    // And A still has everything.
    assert_eq!(s.quote(a, q.id).await.unwrap().unwrap().id, q.id);
    assert_eq!(
        s.active_plugin_version(a, None)
            .await
            .unwrap()
            .unwrap()
            .version,
        pv.version
    );
    assert_eq!(s.count_activity(a).await.unwrap(), 1);
    assert!(s.api_key_by_hash(&"9".repeat(64)).await.unwrap().is_some());
}

/// PostgreSQL only: inside a tenant transaction RLS hides other tenants' rows
/// even from SQL without any WHERE clause, and rejects writes for them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    quote_tests_without_postgres,
    ignore = "QUOTE_TEST_POSTGRES_URL is unset: this PostgreSQL test did not run"
)]
async fn postgres_rls_wall() {
    let (ctx, _database) = stores::postgres().await;
    assert_eq!(ctx.backend, Backend::Postgres);
    let s = &*ctx.store;
    let a = new_org(s).await;
    let b = new_org(s).await;
    for _ in 0..3 {
        new_quote(s, a, "1").await;
    }
    for _ in 0..5 {
        new_quote(s, b, "1").await;
    }
    let pg = PostgresStore::connect(&ctx.url, &stores::options())
        .await
        .unwrap();

    let mut tx = pg.tenant_tx(a).await.unwrap();
    let user: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(user, store::TENANT_ROLE);
    let seen: i64 = sqlx::query_scalar("SELECT count(*) FROM quotes")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(seen, 3, "RLS must confine a raw SELECT to tenant A");
    let counters: i64 = sqlx::query_scalar("SELECT count(*) FROM quote_counters")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(counters, 1);
    let touched = sqlx::query("UPDATE quotes SET title = 'x' WHERE organization_id = $1")
        .bind(b)
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(touched.rows_affected(), 0);
    tx.rollback().await.unwrap();

    // Writing a row for B from A's transaction violates the policy.
    let mut tx = pg.tenant_tx(a).await.unwrap();
    let err = sqlx::query(
        "INSERT INTO quote_counters (organization_id, year, last) VALUES ($1, 1999, 1)",
    )
    .bind(b)
    .execute(&mut *tx)
    .await
    .unwrap_err();
    assert!(err.to_string().contains("row-level security"), "{err}");
    tx.rollback().await.unwrap();

    // The setting and the role end with the transaction.
    let all: i64 = sqlx::query_scalar("SELECT count(*) FROM quotes")
        .fetch_one(pg.pool())
        .await
        .unwrap();
    assert_eq!(all, 8);
    pg.close().await;
    ctx.store.close().await;
}
