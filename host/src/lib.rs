//! quote-host: a multi-tenant B2B quoting platform whose tenants price quotes with
//! their own rule sets, run as sandboxed WebAssembly components.
//!
//! `router(state, throttle)` builds the HTTP application; `run(config, listener,
//! shutdown)` is the whole server, so tests start the real thing on `127.0.0.1:0`.

pub mod activity;
pub mod app;
pub mod auth;
pub mod bootstrap;
pub mod bundled;
pub mod changes;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod console;
pub mod contract;
pub mod dashboard;
pub mod documents;
pub mod executor;
pub mod export_gate;
pub mod fx;
pub mod http;
pub mod jobs;
pub mod quoting;
pub mod runtime;
pub mod store;
pub mod text;

pub use app::{App, AppState};
pub use config::Config;
pub use http::router;

use anyhow::Context;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// How long a running job may finish after shutdown before it is cancelled.
const JOB_STOP_GRACE: Duration = Duration::from_secs(5);

/// Runs the server on `listener` until `shutdown` completes: migrations, first-start
/// bootstrap, background tasks, then HTTP. On shutdown it stops accepting, gives
/// in-flight requests the configured grace, drains the activity log and the keys'
/// last uses, stops the jobs and closes the database.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // Metrics recorded before the recorder exists are lost: install it first.
    http::metrics::recorder();
    let (app, background) = App::start(config).await?;
    bootstrap::bootstrap_if_empty(&app).await?;
    let state = AppState(Arc::new(app));
    let stopping = CancellationToken::new();
    let writer = tokio::spawn(background.activity_writer.run(stopping.clone()));
    let key_usage = tokio::spawn(background.key_usage_writer.run(stopping.clone()));
    let change_listener = background
        .change_listener
        .map(|listener| tokio::spawn(listener.run(stopping.clone())));
    let exchange_rates = match state.config.exchange_rates.enabled {
        true => {
            let fetch_on_start = state.config.exchange_rates.fetch_on_start;
            let scheduler = jobs::RateScheduler::start(
                state.exchange_rate_job.clone(),
                state.exchange_rate_schedule.clone(),
                fetch_on_start,
            )
            .await
            .context("starting the exchange-rate schedule")?;
            Some(tokio::spawn(
                scheduler.run_until(stopping.clone(), JOB_STOP_GRACE),
            ))
        }
        false => None,
    };
    let address = listener.local_addr()?;
    tracing::info!(%address, database = ?state.store.backend(), "quote-host listening");
    http::serve(state.clone(), listener, shutdown).await?;

    stopping.cancel();
    if let Some(exchange_rates) = exchange_rates {
        let _ = exchange_rates.await;
    }
    if let Err(error) = writer.await {
        tracing::error!(%error, "the activity writer failed");
    }
    if let Err(error) = key_usage.await {
        tracing::error!(%error, "the last-used writer failed");
    }
    // The listener and the barrier hold connections of their own: close them before the
    // store, each wait bounded, so nothing they hold can keep the store from closing.
    if let Some(change_listener) = change_listener
        && tokio::time::timeout(JOB_STOP_GRACE, change_listener)
            .await
            .is_err()
    {
        tracing::warn!("the change listener did not stop in time");
    }
    state.cluster.close().await;
    state.store.close().await;
    tracing::info!("quote-host stopped");
    Ok(())
}
