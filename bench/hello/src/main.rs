//! The baseline server for bench/load.sh: `GET /` answers "hello" and nothing else.
//! Runs on the same tokio runtime flavour as quote-host (multi-thread, default worker
//! count: one per core) so the ratio compares the application, not the runtime.
//!
//! Usage: bench-hello [ADDRESS] (default 127.0.0.1:0); prints `listening on ADDRESS`.

use axum::{Router, routing::get};

fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_string());
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let listener = tokio::net::TcpListener::bind(&address).await?;
            eprintln!("listening on {}", listener.local_addr()?);
            let app = Router::new().route("/", get(|| async { "hello" }));
            axum::serve(listener, app).await
        })
}
