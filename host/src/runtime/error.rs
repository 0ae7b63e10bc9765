//! Typed outcomes of loading and calling a plugin.

use crate::contract::CalcError;
use serde::Serialize;
use std::time::Duration;

/// What one call cost, reported on success and on failure alike.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CallReport {
    /// Fuel the guest burned (roughly one unit per wasm instruction): exact when the call
    /// returns or runs out of fuel; after a timeout, counted to the last fuel checkpoint,
    /// so at most 10^7 units short, never over.
    pub fuel_used: u64,
    /// Largest linear memory the guest reached, in bytes.
    pub peak_memory_bytes: u64,
    /// Wall-clock time of instantiation plus the call.
    #[serde(serialize_with = "as_micros", rename = "duration_us")]
    pub duration: Duration,
    /// The part of `duration` before the export call, in µs: the store, its WASI context
    /// and the instantiation (zero when instantiation failed). A `u32` (saturating, over an
    /// hour) keeps the report, which every call failure carries, within one cache line.
    pub instantiate_us: u32,
    /// The guest's stdout and stderr, cut at the capture cap.
    pub stderr: String,
    /// Whether the guest wrote more than the cap.
    pub stderr_truncated: bool,
}

fn as_micros<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(u64::try_from(duration.as_micros()).unwrap_or(u64::MAX))
}

/// Why a call produced no result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    #[error("the calculation ran past its time limit of {limit_ms} ms")]
    Timeout { limit_ms: u64 },
    #[error("the calculation used up its fuel budget of {budget} units")]
    FuelExhausted { budget: u64 },
    #[error("the plugin tried to grow its memory past the limit of {limit_bytes} bytes")]
    MemoryLimit { limit_bytes: u64 },
    #[error("the plugin trapped: {message}{}", backtrace_suffix(.backtrace))]
    Trap {
        message: String,
        backtrace: Vec<String>,
    },
    #[error("the plugin refused the request: {0}")]
    Plugin(CalcError),
    #[error("the plugin returned an invalid result: {0}")]
    InvalidOutput(String),
    #[error("no sandbox slot is free: {0}")]
    Capacity(String),
}

fn backtrace_suffix(frames: &[String]) -> String {
    match frames.is_empty() {
        true => String::new(),
        false => format!(" (in {})", frames.join(" <- ")),
    }
}

impl CallError {
    /// A stable machine-readable name, the same one the HTTP API uses as its error code.
    pub fn code(&self) -> &'static str {
        match self {
            CallError::Timeout { .. } => "calculation_timeout",
            CallError::FuelExhausted { .. } => "fuel_exhausted",
            CallError::MemoryLimit { .. } => "memory_limit",
            CallError::Trap { .. } => "plugin_trap",
            CallError::Plugin(_) => "plugin_error",
            CallError::InvalidOutput(_) => "invalid_plugin_output",
            CallError::Capacity(_) => "sandbox_busy",
        }
    }
}

/// A failed call and what it cost.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{error}")]
pub struct CallFailure {
    pub error: CallError,
    pub report: CallReport,
}

/// Why a component cannot be used as a plugin.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LoadError {
    #[error("not a WebAssembly component: {0}")]
    NotAComponent(String),
    #[error("the component does not implement the quote:pricing/calculator@1.0.0 world: {0}")]
    WrongWorld(String),
    #[error(
        "compiling the plugin took longer than the limit of {limit_ms} ms; make it smaller \
         (fewer or simpler functions) and upload it again"
    )]
    CompileTimeout { limit_ms: u64 },
    #[error("all {slots} compile slots stayed busy for {waited_ms} ms; retry in a moment")]
    CompileBusy { slots: usize, waited_ms: u64 },
    #[error("the plugin bytes do not match their SHA-256 {expected}")]
    HashMismatch { expected: String },
    #[error("describe failed: {0}")]
    Describe(CallFailure),
    #[error("the plugin bytes could not be fetched: {0}")]
    Fetch(String),
    #[error("internal error while loading the plugin: {0}")]
    Internal(String),
}

impl LoadError {
    /// A stable machine-readable name of the failure.
    pub fn code(&self) -> &'static str {
        match self {
            LoadError::NotAComponent(_) => "not_a_component",
            LoadError::WrongWorld(_) => "wrong_world",
            LoadError::CompileTimeout { .. } => "compile_timeout",
            LoadError::CompileBusy { .. } => "compile_busy",
            LoadError::HashMismatch { .. } => "hash_mismatch",
            LoadError::Describe(failure) => failure.error.code(),
            LoadError::Fetch(_) => "plugin_unavailable",
            LoadError::Internal(_) => "internal",
        }
    }
}
