//! The bound on an organization's console sessions holds against concurrent sign-ins.

use crate::fixtures::new_org;
use crate::store::{NewApiKey, NewConsoleSession, Role, Store};
use chrono::{Duration, Utc};
use quote_tests::on_both_stores;
use quote_tests::stores::Ctx;
use std::sync::Arc;
use uuid::Uuid;

const MAX_SESSIONS: u32 = 5;

/// A key of `organization` to open sessions with.
async fn key_of(s: &dyn Store, organization_id: Uuid) -> Uuid {
    s.create_api_key(NewApiKey {
        organization_id,
        name: "console".into(),
        role: Role::Member,
        prefix: "qh_ab12cd34".into(),
        key_hash: format!("{:0>64}", Uuid::new_v4().simple()),
        max_unrevoked: None,
    })
    .await
    .unwrap()
    .id
}

async fn sign_in(s: Arc<dyn Store>, organization_id: Uuid, api_key_id: Uuid) -> u64 {
    let created_at = Utc::now();
    let session = NewConsoleSession {
        token_hash: format!("{0}{0}", Uuid::new_v4().simple()),
        organization_id,
        api_key_id,
        created_at,
        expires_at: created_at + Duration::hours(1),
    };
    s.create_console_session(session, MAX_SESSIONS)
        .await
        .unwrap()
}

/// Opens the pool's connections first: otherwise each sign-in may finish before the
/// pool has opened the next one, and none of them overlap.
async fn warm_up(s: &Arc<dyn Store>, org: Uuid) {
    let counts = (0..16).map(|_| {
        let s = s.clone();
        tokio::spawn(async move { s.count_console_sessions(org).await.unwrap() })
    });
    futures::future::join_all(counts).await;
}

on_both_stores!(session_cap, session_cap_scenario);
/// Rounds of 12 sign-ins at once against a bound of 5 (two sessions held before the
/// first): after each, exactly 5 remain and the sign-ins ended exactly the ones beyond
/// it between them; another organization's session is untouched.
async fn session_cap_scenario(ctx: &Ctx) {
    let s = ctx.store.clone();
    let org = new_org(s.as_ref()).await;
    let key = key_of(s.as_ref(), org).await;
    let other = new_org(s.as_ref()).await;
    let other_key = key_of(s.as_ref(), other).await;
    sign_in(s.clone(), other, other_key).await;
    for _ in 0..2 {
        sign_in(s.clone(), org, key).await;
    }
    let mut held = 2;
    for round in 0..5 {
        warm_up(&s, org).await;
        let sign_ins = (0..12).map(|_| tokio::spawn(sign_in(s.clone(), org, key)));
        let ended: u64 = futures::future::join_all(sign_ins)
            .await
            .into_iter()
            .map(Result::unwrap)
            .sum();
        let count = s.count_console_sessions(org).await.unwrap();
        assert_eq!(count, 5, "round {round}");
        assert_eq!(ended, held + 12 - 5, "round {round}");
        held = 5;
    }
    assert_eq!(s.count_console_sessions(other).await.unwrap(), 1);
}
