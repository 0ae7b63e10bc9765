//! Plugin versions: upload, idempotent re-upload, concurrency, activation, deletion.

use std::collections::BTreeSet;

use crate::store::{NewPluginVersion, StoreError};
use futures::future::join_all;
use serde_json::json;
use uuid::Uuid;

use crate::fixtures::new_org;
use quote_tests::on_both_stores;
use quote_tests::stores::Ctx;
use quote_tests::wait;

fn upload(org: Uuid, name: &str, bytes: Vec<u8>) -> NewPluginVersion {
    // Not a real hash; the store treats it as an opaque key.
    let sha256 = format!(
        "{:064x}",
        bytes
            .iter()
            .fold(0u128, |h, b| h.wrapping_mul(131).wrapping_add(*b as u128))
    );
    NewPluginVersion {
        organization_id: org,
        name: name.into(),
        sha256,
        wasm: bytes,
        describe: json!({"name": name, "inputs": ["items"]}),
        uploaded_by: None,
    }
}

on_both_stores!(plugin_versions, plugin_versions_scenario);
async fn plugin_versions_scenario(ctx: &Ctx) {
    let s = &*ctx.store;
    let org = new_org(s).await;
    let wasm = b"\0asm\x01\0\0\0 first".to_vec();

    let (v1, created) = s
        .add_plugin_version(upload(org, "pricing", wasm.clone()))
        .await
        .unwrap();
    assert!(created);
    assert_eq!((v1.version, v1.size_bytes), (1, wasm.len() as i64));
    let (again, created) = s
        .add_plugin_version(upload(org, "pricing", wasm.clone()))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again, v1);

    // Concurrent uploads of different bytes get distinct consecutive numbers.
    let results = join_all((0..10u8).map(|i| {
        let store = ctx.store.clone();
        async move {
            store
                .add_plugin_version(upload(org, "pricing", vec![i; 100 + i as usize]))
                .await
        }
    }))
    .await;
    let numbers: BTreeSet<i32> = results.into_iter().map(|r| r.unwrap().0.version).collect();
    assert_eq!(numbers, (2..=11).collect());

    let bin = s
        .plugin_version_bytes(org, "pricing", 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((bin.wasm, bin.version), (wasm, v1.clone()));
    assert_eq!(
        s.active_plugin_version(org, Some("pricing")).await.unwrap(),
        None
    );

    assert!(matches!(
        s.activate_plugin_version(org, "pricing", 99).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.activate_plugin_version(org, "nope", 1).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        s.activate_plugin_version(org, "pricing", 1).await.unwrap(),
        v1
    );
    assert_eq!(
        s.active_plugin_version(org, Some("pricing")).await.unwrap(),
        Some(v1.clone())
    );
    assert_eq!(
        s.active_plugin_version(org, None).await.unwrap(),
        Some(v1.clone())
    );

    assert!(matches!(
        s.delete_plugin_version(org, "pricing", 1).await,
        Err(StoreError::Conflict(_))
    ));
    s.delete_plugin_version(org, "pricing", 11).await.unwrap();
    assert!(matches!(
        s.delete_plugin_version(org, "pricing", 11).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.delete_plugin_version(org, "nope", 1).await,
        Err(StoreError::NotFound)
    ));

    // Numbers are never reused after a deletion.
    let (v12, created) = s
        .add_plugin_version(upload(org, "pricing", b"new".to_vec()))
        .await
        .unwrap();
    assert!(created);
    assert_eq!(v12.version, 12);

    let detail = s.plugin(org, "pricing").await.unwrap().unwrap();
    assert_eq!(detail.plugin.active_version, Some(1));
    assert_eq!(
        (detail.plugin.version_count, detail.plugin.last_version),
        (11, 12)
    );
    let listed: Vec<i32> = detail.versions.iter().map(|v| v.version).collect();
    assert_eq!(listed, (1..=10).chain([12]).collect::<Vec<_>>());
    assert_eq!(
        detail.versions[0].describe,
        json!({"name": "pricing", "inputs": ["items"]})
    );

    // A second plugin, activated later, becomes the organization default. Its name sorts
    // after "pricing", so only the activation time can put it first.
    let (other, _) = s
        .add_plugin_version(upload(org, "zulu", b"zulu".to_vec()))
        .await
        .unwrap();
    wait::clock_passes(detail.plugin.activated_at.expect("pricing is active")).await;
    s.activate_plugin_version(org, "zulu", 1).await.unwrap();
    assert_eq!(
        s.active_plugin_version(org, None).await.unwrap(),
        Some(other)
    );
    let names: Vec<String> = s
        .list_plugins(org)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["pricing", "zulu"]);

    // Switching the active version frees the old one for deletion.
    s.activate_plugin_version(org, "pricing", 12).await.unwrap();
    s.delete_plugin_version(org, "pricing", 1).await.unwrap();

    // Uploading for an unknown organization.
    assert!(matches!(
        s.add_plugin_version(upload(Uuid::now_v7(), "x", b"x".to_vec()))
            .await,
        Err(StoreError::NotFound)
    ));
}

on_both_stores!(scheduled_activation, scheduled_activation_scenario);
/// A scheduled activation: the store resolves the active version by time, tells when the
/// next switch is, folds a passed one into the plugin on the next write, refuses to
/// delete the scheduled version and cancels only what is still ahead.
async fn scheduled_activation_scenario(ctx: &Ctx) {
    let s = &*ctx.store;
    let org = new_org(s).await;
    let (v1, _) = s
        .add_plugin_version(upload(org, "pricing", b"one".to_vec()))
        .await
        .unwrap();
    let (v2, _) = s
        .add_plugin_version(upload(org, "pricing", b"two".to_vec()))
        .await
        .unwrap();
    s.activate_plugin_version(org, "pricing", 1).await.unwrap();
    assert_eq!(s.next_plugin_switch(org).await.unwrap(), None);

    // Far ahead: pending, listed as next, cancellable.
    let later = chrono::DateTime::from_timestamp_micros(
        (chrono::Utc::now() + chrono::Duration::hours(1)).timestamp_micros(),
    )
    .unwrap();
    let scheduled = s
        .schedule_plugin_activation(org, "pricing", 2, later)
        .await
        .unwrap();
    assert_eq!(scheduled, v2);
    let plugin = s.plugin(org, "pricing").await.unwrap().unwrap().plugin;
    assert_eq!(
        (
            plugin.active_version,
            plugin.next_version,
            plugin.next_activation_at
        ),
        (Some(1), Some(2), Some(later))
    );
    assert_eq!(s.list_plugins(org).await.unwrap()[0], plugin);
    assert_eq!(s.next_plugin_switch(org).await.unwrap(), Some(later));
    assert_eq!(
        s.active_plugin_version(org, Some("pricing")).await.unwrap(),
        Some(v1.clone())
    );
    assert!(matches!(
        s.delete_plugin_version(org, "pricing", 2).await,
        Err(StoreError::Conflict(_))
    ));
    let cancelled = s.cancel_plugin_activation(org, "pricing").await.unwrap();
    assert_eq!((cancelled.version, cancelled.effective_at), (2, later));
    assert!(matches!(
        s.cancel_plugin_activation(org, "pricing").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.schedule_plugin_activation(org, "pricing", 9, later).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.schedule_plugin_activation(org, "nope", 1, later).await,
        Err(StoreError::NotFound)
    ));

    // Soon: once the instant passes, every read resolves version 2 with no write.
    let soon = chrono::Utc::now() + chrono::Duration::milliseconds(300);
    s.schedule_plugin_activation(org, "pricing", 2, soon)
        .await
        .unwrap();
    assert_eq!(
        s.active_plugin_version(org, None).await.unwrap(),
        Some(v1.clone())
    );
    wait::clock_passes(soon).await;
    assert_eq!(
        s.active_plugin_version(org, Some("pricing")).await.unwrap(),
        Some(v2.clone())
    );
    assert_eq!(
        s.active_plugin_version(org, None).await.unwrap(),
        Some(v2.clone())
    );
    let plugin = s.plugin(org, "pricing").await.unwrap().unwrap().plugin;
    assert_eq!(
        (plugin.active_version, plugin.next_version),
        (Some(2), None)
    );
    assert_eq!(
        plugin.activated_at.map(|at| at.timestamp_micros()),
        Some(soon.timestamp_micros())
    );
    assert_eq!(s.next_plugin_switch(org).await.unwrap(), None);
    // A passed activation cannot be cancelled; the next write folds it in, so version 1,
    // no longer active, can be deleted and version 2 cannot.
    assert!(matches!(
        s.cancel_plugin_activation(org, "pricing").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.delete_plugin_version(org, "pricing", 2).await,
        Err(StoreError::Conflict(_))
    ));
    s.delete_plugin_version(org, "pricing", 1).await.unwrap();
    assert_eq!(
        s.active_plugin_version(org, Some("pricing")).await.unwrap(),
        Some(v2)
    );
}
