//! Quotes behind the API's back: copies of a stored quote made in the database, for
//! tests that need volume (exports) without pricing every one, and statements run on a
//! test's database (a quote moved to another month).

use crate::db::Backend;
use crate::server::TestServer;

/// Copies the quote `id` `copies` times in the database, with new ids and numbers
/// (`X-1`, `X-2`, ...) and everything else as it is.
pub async fn clone_quote(server: &TestServer, id: &str, copies: i64) {
    let id = uuid::Uuid::parse_str(id).unwrap();
    match server.database.backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&server.database.url)
                .await
                .unwrap();
            let sql = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) \
                INSERT INTO quotes (id, organization_id, number, title, status, currency, subtotal, tax, total, \
                request, result, plugin_name, plugin_version, plugin_sha256, rates, fuel_used, revision, \
                priced_at, created_at, updated_at) \
                SELECT randomblob(16), organization_id, 'X-' || i, title, status, currency, subtotal, tax, total, \
                request, result, plugin_name, plugin_version, plugin_sha256, rates, fuel_used, revision, \
                priced_at, created_at, updated_at FROM quotes, n WHERE id = ?";
            sqlx::query(sql)
                .bind(copies)
                .bind(id.as_bytes().to_vec())
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&server.database.url).await.unwrap();
            let sql = "INSERT INTO quotes (id, organization_id, number, title, status, currency, subtotal, tax, \
                total, request, result, plugin_name, plugin_version, plugin_sha256, rates, fuel_used, revision, \
                priced_at, created_at, updated_at) \
                SELECT gen_random_uuid(), organization_id, 'X-' || i, title, status, currency, subtotal, tax, total, \
                request, result, plugin_name, plugin_version, plugin_sha256, rates, fuel_used, revision, \
                priced_at, created_at, updated_at FROM quotes, generate_series(1, $1) AS i WHERE id = $2";
            sqlx::query(sql)
                .bind(copies)
                .bind(id)
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
    }
}

/// Runs one statement on the server's database (tests that set up what the API would
/// refuse); `?` placeholders on SQLite, `$n` on PostgreSQL, no values bound.
pub async fn execute(server: &TestServer, sql: &str) {
    execute_at(server.database.backend, &server.database.url, sql).await;
}

/// [`execute`] on the database at `url` (a store test's).
pub async fn execute_at(backend: Backend, url: &str, sql: &str) {
    match backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
    }
}

/// `at` as a literal of a timestamp column (SQLite keeps the store's fixed-width UTC
/// text, PostgreSQL casts RFC 3339), quotes included.
pub fn time_literal(backend: Backend, at: chrono::DateTime<chrono::Utc>) -> String {
    match backend {
        Backend::Sqlite => format!("'{}'", at.format("%Y-%m-%dT%H:%M:%S%.6fZ")),
        Backend::Postgres => format!(
            "'{}'",
            at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        ),
    }
}

/// Moves the quote numbered `number` to `created_at` (the only organization's, in a
/// database with one).
pub async fn set_created_at(
    backend: Backend,
    url: &str,
    number: &str,
    created_at: chrono::DateTime<chrono::Utc>,
) {
    let at = time_literal(backend, created_at);
    execute_at(
        backend,
        url,
        &format!("UPDATE quotes SET created_at = {at} WHERE number = '{number}'"),
    )
    .await;
}
