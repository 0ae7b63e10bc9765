//! PostgreSQL only: row-level security on every tenant table, checked with raw SQL as
//! the tenant role (no `WHERE organization_id` from the application): SELECT sees only
//! the tenant's rows, UPDATE and DELETE cannot reach another tenant's, and INSERT or
//! UPDATE cannot write a row for another tenant (or for nobody).

use crate::fixtures::{new_org, new_quote, pricing};
use crate::store::{NewActivity, NewApiKey, NewConsoleSession, NewPluginVersion, Role, Store};
use chrono::Utc;
use quote_tests::stores;
use serde_json::json;
use sqlx::{PgPool, Postgres, Transaction};
use std::collections::BTreeSet;
use uuid::Uuid;

/// The tables the migration protects; the test also finds any table with an
/// `organization_id` column and insists it is protected too.
const PROTECTED: [&str; 10] = [
    "activity_logs",
    "api_keys",
    "console_sessions",
    "organization_branding",
    "plugin_activations",
    "plugin_versions",
    "plugins",
    "quote_counters",
    "quote_revisions",
    "quotes",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    quote_tests_without_postgres,
    ignore = "QUOTE_TEST_POSTGRES_URL is unset: this PostgreSQL test did not run"
)]
async fn postgres_row_security_guards_every_tenant_table() {
    let (ctx, _database) = stores::postgres().await;
    let (a, b) = (new_org(&*ctx.store).await, new_org(&*ctx.store).await);
    populate(&*ctx.store, a).await;
    populate(&*ctx.store, b).await;
    let owner = PgPool::connect(&ctx.url).await.unwrap();

    let tables = tenant_tables(&owner).await;
    assert_eq!(
        tables,
        PROTECTED.iter().map(|t| t.to_string()).collect(),
        "every table with an organization_id column is one the migration protects"
    );
    for table in &tables {
        assert_protected(&owner, table).await;
        let before = counts(&owner, table, a, b).await;
        assert!(
            before.0 > 0 && before.1 > 0,
            "{table}: the test needs rows of both tenants, has {before:?}"
        );
        reads_only_own_rows(&owner, table, a, b, before).await;
        cannot_touch_other_rows(&owner, table, a, b).await;
        cannot_write_for_another_tenant(&owner, table, a, b).await;
        assert_eq!(
            counts(&owner, table, a, b).await,
            before,
            "{table}: nothing changed"
        );
    }
    owner.close().await;
    ctx.store.close().await;
}

/// One row of every tenant table for `org`, through the store.
async fn populate(store: &dyn Store, org: Uuid) {
    let key = store
        .create_api_key(NewApiKey {
            organization_id: org,
            name: "k".into(),
            role: Role::Admin,
            prefix: "qh_rls".into(),
            key_hash: format!("{0}{0}", org.simple()),
            max_unrevoked: None,
        })
        .await
        .unwrap();
    let (version, _) = store
        .add_plugin_version(NewPluginVersion {
            organization_id: org,
            name: "p".into(),
            sha256: format!("{0}{0}", org.simple()),
            wasm: vec![0, 97, 115, 109],
            describe: json!({}),
            uploaded_by: Some(key.id),
        })
        .await
        .unwrap();
    store
        .activate_plugin_version(org, "p", version.version)
        .await
        .unwrap();
    let tomorrow = Utc::now() + chrono::Duration::days(1);
    store
        .schedule_plugin_activation(org, "p", version.version, tomorrow)
        .await
        .unwrap();
    let quote = new_quote(store, org, "10.00").await;
    store
        .save_quote_revision(org, quote.id, quote.revision, pricing("RUB", "11.00"))
        .await
        .unwrap();
    store.set_branding(org, Some("footer"), None).await.unwrap();
    store
        .create_console_session(
            NewConsoleSession {
                token_hash: format!("{0}{0}", org.simple()),
                organization_id: org,
                api_key_id: key.id,
                created_at: Utc::now(),
                expires_at: tomorrow,
            },
            50,
        )
        .await
        .unwrap();
    store
        .insert_activity_batch(&[NewActivity {
            organization_id: Some(org),
            api_key_id: Some(key.id),
            action: "quote.create".into(),
            entity_type: "quote".into(),
            entity_id: Some(quote.id.to_string()),
            metadata: json!({}),
            created_at: Utc::now(),
        }])
        .await
        .unwrap();
}

/// Tables of the current schema with an `organization_id` column, except the
/// organizations table itself.
async fn tenant_tables(owner: &PgPool) -> BTreeSet<String> {
    sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND column_name = 'organization_id'",
    )
    .fetch_all(owner)
    .await
    .unwrap()
    .into_iter()
    .collect()
}

/// RLS is enabled on `table` and a policy for the tenant role exists.
async fn assert_protected(owner: &PgPool, table: &str) {
    let enabled: bool =
        sqlx::query_scalar("SELECT relrowsecurity FROM pg_class WHERE oid = to_regclass($1)")
            .bind(table)
            .fetch_one(owner)
            .await
            .unwrap();
    assert!(enabled, "{table}: row-level security is not enabled");
    let policies: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_policies WHERE schemaname = current_schema() \
         AND tablename = $1 AND 'quote_tenant' = ANY(roles)",
    )
    .bind(table)
    .fetch_one(owner)
    .await
    .unwrap();
    assert!(policies > 0, "{table}: no policy for quote_tenant");
}

/// Rows of `a` and of `b` in `table`, counted as the owner (who bypasses RLS).
async fn counts(owner: &PgPool, table: &str, a: Uuid, b: Uuid) -> (i64, i64) {
    let sql = format!("SELECT count(*) FROM \"{table}\" WHERE organization_id = $1");
    let mut counted = Vec::new();
    for org in [a, b] {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
            .bind(org)
            .fetch_one(owner)
            .await
            .unwrap();
        counted.push(n);
    }
    (counted[0], counted[1])
}

/// A transaction as the tenant role, with `app.organization_id` set to `org` (or
/// left unset), written out here rather than borrowed from the store.
async fn as_tenant(owner: &PgPool, org: Option<Uuid>) -> Transaction<'static, Postgres> {
    let mut tx = owner.begin().await.unwrap();
    sqlx::query("SET LOCAL ROLE quote_tenant")
        .execute(&mut *tx)
        .await
        .unwrap();
    if let Some(org) = org {
        sqlx::query("SELECT set_config('app.organization_id', $1, true)")
            .bind(org.to_string())
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx
}

async fn count_in(tx: &mut Transaction<'static, Postgres>, sql: String, bind: Option<Uuid>) -> i64 {
    let query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
    let query = match bind {
        Some(org) => query.bind(org),
        None => query,
    };
    query.fetch_one(&mut **tx).await.unwrap()
}

async fn reads_only_own_rows(owner: &PgPool, table: &str, a: Uuid, b: Uuid, rows: (i64, i64)) {
    let mut tx = as_tenant(owner, Some(a)).await;
    let all = count_in(&mut tx, format!("SELECT count(*) FROM \"{table}\""), None).await;
    assert_eq!(all, rows.0, "{table}: a bare SELECT sees exactly A's rows");
    let other = format!("SELECT count(*) FROM \"{table}\" WHERE organization_id = $1");
    assert_eq!(
        count_in(&mut tx, other.clone(), Some(b)).await,
        0,
        "{table}: A reads none of B's rows"
    );
    tx.rollback().await.unwrap();

    let mut tx = as_tenant(owner, None).await;
    let all = count_in(&mut tx, format!("SELECT count(*) FROM \"{table}\""), None).await;
    assert_eq!(
        all, 0,
        "{table}: without a tenant setting nothing is visible"
    );
    tx.rollback().await.unwrap();
}

async fn cannot_touch_other_rows(owner: &PgPool, table: &str, a: Uuid, b: Uuid) {
    let mut tx = as_tenant(owner, Some(a)).await;
    let sql = format!(
        "UPDATE \"{table}\" SET organization_id = organization_id WHERE organization_id = $1"
    );
    let updated = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(b)
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(updated.rows_affected(), 0, "{table}: A updated B's rows");
    let sql = format!("DELETE FROM \"{table}\" WHERE organization_id = $1");
    let deleted = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(b)
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(deleted.rows_affected(), 0, "{table}: A deleted B's rows");
    tx.commit().await.unwrap();
}

/// A copy of one of A's own rows with `organization_id` changed, inserted as A, and
/// A's rows moved over by UPDATE: both violate the policy's WITH CHECK (which runs
/// before any other constraint, so a duplicate key cannot hide a missing policy).
async fn cannot_write_for_another_tenant(owner: &PgPool, table: &str, a: Uuid, b: Uuid) {
    for target in [Some(b), None] {
        let mut tx = as_tenant(owner, Some(a)).await;
        let sql = format!(
            "INSERT INTO \"{table}\" SELECT * FROM json_populate_record(NULL::\"{table}\", \
             (SELECT (to_jsonb(t) || jsonb_build_object('organization_id', $1::uuid))::json \
              FROM \"{table}\" t LIMIT 1))"
        );
        let error = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(target)
            .execute(&mut *tx)
            .await
            .expect_err(&format!("{table}: A inserted a row for {target:?}"));
        assert!(
            error.to_string().contains("row-level security"),
            "{table}: inserting for {target:?} failed for another reason: {error}"
        );
        tx.rollback().await.unwrap();
    }

    let mut tx = as_tenant(owner, Some(a)).await;
    let sql = format!("UPDATE \"{table}\" SET organization_id = $1");
    let error = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(b)
        .execute(&mut *tx)
        .await
        .expect_err(&format!("{table}: A moved its rows to B"));
    assert!(
        error.to_string().contains("row-level security"),
        "{table}: moving rows to B failed for another reason: {error}"
    );
    tx.rollback().await.unwrap();
}
