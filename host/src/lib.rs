//! quote-host: a multi-tenant B2B quoting platform whose tenants price quotes with
//! their own rule sets, run as sandboxed WebAssembly components.
//!
//! `app(state)` builds the router; `run(config, listener, shutdown)` is the whole
//! server, so tests start the real thing on `127.0.0.1:0`.

pub mod activity;
pub mod app;
pub mod auth;
pub mod bootstrap;
pub mod bundled;
pub mod cli;
pub mod config;
pub mod contract;
pub mod dashboard;
pub mod http;
pub mod jobs;
pub mod quoting;
pub mod rates;
pub mod runtime;
pub mod store;

pub use app::{App, AppState};
pub use config::Config;
pub use http::app;

use anyhow::Context;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// How long a running job may finish after shutdown before it is cancelled.
const JOB_STOP_GRACE: Duration = Duration::from_secs(5);

/// How often the rate limiters forget idle clients.
const RATE_LIMIT_PRUNE_INTERVAL: Duration = Duration::from_secs(30);

/// Runs the server on `listener` until `shutdown` completes: migrations, first-start
/// bootstrap, background tasks, then HTTP. On shutdown it stops accepting, gives
/// in-flight requests the configured grace, drains the activity log, stops the jobs
/// and closes the database.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (app, background) = App::start(config).await?;
    bootstrap::bootstrap_if_empty(&app).await?;
    let state = AppState(Arc::new(app));
    let stopping = CancellationToken::new();
    let writer = tokio::spawn(background.activity_writer.run(stopping.clone()));
    let rates = match state.config.exchange_rates.enabled {
        true => {
            let fetch_on_start = state.config.exchange_rates.fetch_on_start;
            let scheduler = jobs::RateScheduler::start(
                state.rate_job.clone(),
                state.rate_schedule.clone(),
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
    let pruner = tokio::spawn(prune_rate_limits(state.clone(), stopping.clone()));

    let address = listener.local_addr()?;
    tracing::info!(%address, database = ?state.store.backend(), "quote-host listening");
    let signalled = CancellationToken::new();
    let on_signal = signalled.clone();
    let server = axum::serve(
        listener,
        http::app(state.clone()).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        on_signal.cancel();
    });
    let grace = Duration::from_millis(state.config.http.shutdown_grace_ms);
    tokio::select! {
        served = server => served?,
        () = async { signalled.cancelled().await; tokio::time::sleep(grace).await } => {
            tracing::warn!(grace_ms = grace.as_millis() as u64, "requests still running after the shutdown grace; stopping anyway");
        }
    }

    stopping.cancel();
    let _ = pruner.await;
    if let Some(rates) = rates {
        let _ = rates.await;
    }
    if let Err(error) = writer.await {
        tracing::error!(%error, "the activity writer failed");
    }
    state.store.close().await;
    tracing::info!("quote-host stopped");
    Ok(())
}

async fn prune_rate_limits(state: AppState, stopping: CancellationToken) {
    let mut ticks = tokio::time::interval(RATE_LIMIT_PRUNE_INTERVAL);
    loop {
        tokio::select! {
            _ = ticks.tick() => state.rate_limits.prune(),
            () = stopping.cancelled() => return,
        }
    }
}
