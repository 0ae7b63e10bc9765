//! The cap on an organization's unrevoked keys holds against concurrent creations.

use crate::fixtures::new_org;
use crate::store::{NewApiKey, Role, StoreError};
use quote_tests::on_both_stores;
use quote_tests::stores::Ctx;
use uuid::Uuid;

fn capped_key(organization_id: Uuid, max_unrevoked: u32) -> NewApiKey {
    NewApiKey {
        organization_id,
        name: "app".into(),
        role: Role::Member,
        prefix: "qh_ab12cd34".into(),
        key_hash: format!("{:0>64}", Uuid::new_v4().simple()),
        max_unrevoked: Some(max_unrevoked),
    }
}

on_both_stores!(key_cap, key_cap_scenario);
/// 12 creations at once against a cap of 5 (one key held already): exactly 4 succeed,
/// the rest are refused; a revoked key frees a place; another organization is apart.
async fn key_cap_scenario(ctx: &Ctx) {
    let s = ctx.store.clone();
    let org = new_org(s.as_ref()).await;
    let first = s.create_api_key(capped_key(org, 5)).await.unwrap();
    let creations = (0..12).map(|_| {
        let s = s.clone();
        tokio::spawn(async move { s.create_api_key(capped_key(org, 5)).await })
    });
    let results = futures::future::join_all(creations).await;
    let (mut created, mut refused) = (0, 0);
    for result in results {
        match result.unwrap() {
            Ok(_) => created += 1,
            Err(StoreError::KeyLimitReached(5)) => refused += 1,
            Err(other) => panic!("unexpected {other}"),
        }
    }
    assert_eq!((created, refused), (4, 8));
    let listed = s.list_api_keys(org).await.unwrap();
    assert_eq!(listed.len(), 5);

    s.revoke_api_key(org, first.id).await.unwrap();
    s.create_api_key(capped_key(org, 5)).await.unwrap();
    assert!(matches!(
        s.create_api_key(capped_key(org, 5)).await,
        Err(StoreError::KeyLimitReached(5))
    ));
    let other = new_org(s.as_ref()).await;
    s.create_api_key(capped_key(other, 5)).await.unwrap();
}
