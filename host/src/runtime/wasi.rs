//! The deterministic WASI a plugin sees: no files, environment, arguments or network;
//! clocks frozen at the quote date; seeded randomness; stdout and stderr captured
//! up to a cap.

use bytes::Bytes;
use chrono::NaiveDate;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder};

/// Seed of the guest's random streams: fixed, so the same input gives the same output.
const RANDOM_SEED: u64 = 0x7175_6f74_652d_686f; // "quote-ho"

/// Builds the WASI context of one call.
pub(super) fn context(date: NaiveDate, output: &CapturedOutput) -> WasiCtx {
    let midnight = date
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc();
    let since_epoch = Duration::from_secs(u64::try_from(midnight.timestamp()).unwrap_or(0));
    WasiCtxBuilder::new()
        .stdout(output.clone())
        .stderr(output.clone())
        .wall_clock(FrozenWallClock(since_epoch))
        .monotonic_clock(FrozenMonotonicClock)
        .secure_random(StdRng::seed_from_u64(RANDOM_SEED))
        .insecure_random(StdRng::seed_from_u64(!RANDOM_SEED))
        .insecure_random_seed(u128::from(RANDOM_SEED))
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .build()
}

/// The wall clock reads the quote date at 00:00 UTC, whatever the real time.
struct FrozenWallClock(Duration);

impl HostWallClock for FrozenWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        self.0
    }
}

/// The monotonic clock never advances: elapsed time is not an input of a price.
struct FrozenMonotonicClock;

impl HostMonotonicClock for FrozenMonotonicClock {
    fn resolution(&self) -> u64 {
        1
    }
    fn now(&self) -> u64 {
        0
    }
}

/// The guest's stdout and stderr, kept up to `cap` bytes. Writes past the cap succeed
/// and are counted, so a chatty plugin is truncated, never failed.
#[derive(Clone)]
pub(super) struct CapturedOutput(Arc<Mutex<Captured>>);

struct Captured {
    kept: Vec<u8>,
    cap: usize,
    dropped: u64,
}

impl CapturedOutput {
    pub(super) fn new(cap: usize) -> Self {
        Self(Arc::new(Mutex::new(Captured {
            kept: Vec::new(),
            cap,
            dropped: 0,
        })))
    }

    /// The captured text (lossy UTF-8) and whether anything was cut off.
    pub(super) fn take(&self) -> (String, bool) {
        let mut captured = self.lock();
        let text = String::from_utf8_lossy(&captured.kept).into_owned();
        captured.kept.clear();
        (text, captured.dropped > 0)
    }

    fn append(&self, bytes: &[u8]) {
        let mut captured = self.lock();
        let room = captured.cap.saturating_sub(captured.kept.len());
        let kept = bytes.len().min(room);
        captured.kept.extend_from_slice(&bytes[..kept]);
        captured.dropped += (bytes.len() - kept) as u64;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Captured> {
        // A poisoned lock only means a writer panicked mid-append; the bytes are still valid.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Largest write the guest is invited to make at once.
const WRITE_PERMIT: usize = 64 * 1024;

impl OutputStream for CapturedOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.append(&bytes);
        Ok(())
    }
    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }
    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(WRITE_PERMIT)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CapturedOutput {
    async fn ready(&mut self) {}
}

impl AsyncWrite for CapturedOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.append(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl IsTerminal for CapturedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CapturedOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_kept_up_to_the_cap_and_the_rest_counted() {
        let output = CapturedOutput::new(8);
        output.append(b"hello ");
        output.append(b"world");
        assert_eq!(output.take(), ("hello wo".to_string(), true));
        let quiet = CapturedOutput::new(8);
        quiet.append(b"12345678");
        assert_eq!(quiet.take(), ("12345678".to_string(), false));
    }
}
