//! Many quotes at once, behind the API's back: copies of a stored quote made in the
//! database, for tests that need volume (exports) without pricing every one.

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
    match server.database.backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&server.database.url)
                .await
                .unwrap();
            sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&server.database.url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
    }
}
