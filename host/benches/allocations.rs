//! Heap allocations per request through the real router (every middleware, the real
//! store on a temporary SQLite file, the real sandbox), counted by a global allocator.
//!
//! Requests: `GET /api/health`, `GET /api/quotes?limit=20` (20 stored quotes), and
//! `POST /api/quotes/calculate` with 1 and 10 items. Each is sent `--requests` times
//! (default 500) after a warm-up; the figure is every allocation in the process during
//! the run (background work the requests cause included) divided by the requests.
//!
//! Run: `cargo bench --profile dev -p quote-host --bench allocations -- --requests 500`
//! (counts hardly depend on the profile; a release build gives the same order).

use axum::body::Body;
use axum::extract::ConnectInfo;
use quote_host::http::throttle::ThrottleClasses;
use quote_host::{App, AppState, Config};
use std::alloc::{GlobalAlloc, Layout, System};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// Counts allocations (and reallocations, which usually move) before passing them on.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The router of a freshly bootstrapped app, and its admin key.
struct Subject {
    router: axum::Router,
    key: String,
    _data_dir: tempfile::TempDir,
    _stop: tokio_util::sync::DropGuard,
}

async fn subject() -> Subject {
    quote_host::http::metrics::recorder();
    let data_dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        data_dir: data_dir.path().to_path_buf(),
        ..Config::default()
    };
    config.database.url = format!("sqlite://{}/bench.db", data_dir.path().display());
    config.exchange_rates.enabled = false;
    config.rate_limits.enabled = false;
    config.runtime.artifact_dir = Some(data_dir.path().join("plugin-cache"));
    let (app, background) = App::start(config).await.unwrap();
    quote_host::bootstrap::bootstrap_if_empty(&app)
        .await
        .unwrap();
    let key = std::fs::read_to_string(data_dir.path().join("demo-admin-key.txt")).unwrap();
    let stop = CancellationToken::new();
    tokio::spawn(background.activity_writer.run(stop.clone()));
    tokio::spawn(background.key_usage_writer.run(stop.clone()));
    let state = AppState(Arc::new(app));
    let throttle = ThrottleClasses::new(&state.config.rate_limits);
    Subject {
        router: quote_host::router(state, &throttle),
        key: key.trim().to_string(),
        _data_dir: data_dir,
        _stop: stop.drop_guard(),
    }
}

/// What one measured request sends.
struct Call {
    method: &'static str,
    path: &'static str,
    body: Option<String>,
    status: u16,
}

impl Subject {
    async fn send(&self, call: &Call) {
        let mut request = axum::http::Request::builder()
            .method(call.method)
            .uri(call.path)
            .header("authorization", format!("Bearer {}", self.key));
        if call.body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let mut request = request
            .body(call.body.clone().map_or_else(Body::empty, Body::from))
            .unwrap();
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(
            status,
            call.status,
            "{}: {}",
            call.path,
            String::from_utf8_lossy(&body)
        );
    }

    /// Allocations per request over `requests` sends of `call`, after a warm-up.
    async fn allocations(&self, call: &Call, requests: u64) -> f64 {
        for _ in 0..20 {
            self.send(call).await;
        }
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        for _ in 0..requests {
            self.send(call).await;
        }
        (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / requests as f64
    }
}

/// A RUB quote with `items` RUB items (no exchange rate needed), optionally titled.
fn quote(items: usize, title: Option<&str>) -> String {
    let items: Vec<serde_json::Value> = (1..=items)
        .map(|i| {
            serde_json::json!({"sku": format!("SKU-{i}"), "name": format!("Part {i}"),
                "quantity": (i * 3).to_string(), "unit_price": format!("{}.50", 100 + i * 7),
                "currency": "RUB"})
        })
        .collect();
    let mut body = serde_json::json!({"currency": "RUB",
        "variables": {"markup_percent": "10", "discount_tiers": "10:5,100:12"}, "items": items});
    if let Some(title) = title {
        body["title"] = serde_json::json!(title);
    }
    body.to_string()
}

fn requests_from_args() -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|arg| arg == "--requests")
        .and_then(|at| args.get(at + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(500)
}

fn main() {
    let requests = requests_from_args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let subject = subject().await;
        for i in 0..20 {
            let title = format!("Seed {i}");
            let call = Call {
                method: "POST",
                path: "/api/quotes",
                body: Some(quote(3, Some(&title))),
                status: 201,
            };
            subject.send(&call).await;
        }
        let calls = [
            (
                "health",
                Call {
                    method: "GET",
                    path: "/api/health",
                    body: None,
                    status: 200,
                },
            ),
            (
                "list of 20",
                Call {
                    method: "GET",
                    path: "/api/quotes?limit=20",
                    body: None,
                    status: 200,
                },
            ),
            (
                "calculate, 1 item",
                Call {
                    method: "POST",
                    path: "/api/quotes/calculate",
                    body: Some(quote(1, None)),
                    status: 200,
                },
            ),
            (
                "calculate, 10 items",
                Call {
                    method: "POST",
                    path: "/api/quotes/calculate",
                    body: Some(quote(10, None)),
                    status: 200,
                },
            ),
        ];
        println!("| request | allocations per request |\n|---|---|");
        for (name, call) in &calls {
            let per_request = subject.allocations(call, requests).await;
            println!("| {name} | {per_request:.1} |");
        }
        println!("\n({requests} requests each, after 20 to warm up)");
    });
}
