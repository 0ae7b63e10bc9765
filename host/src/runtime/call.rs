//! One call into a plugin: a fresh store with memory, fuel and time limits, the call,
//! and the classification of how it ended.

use super::bindings::Calculator;
use super::bindings::quote::pricing::types as wit;
use super::convert;
use super::error::{CallError, CallFailure, CallReport};
use super::wasi::{self, CapturedOutput};
use super::{CallLimits, CompiledPlugin, Outcome, Runtime, RuntimeConfig};
use crate::contract::{PluginInfo, QuoteRequest, QuoteResult};
use chrono::NaiveDate;
use std::time::{Duration, Instant};
use wasmtime::component::{Linker, ResourceTable};
use wasmtime::{Engine, ResourceLimiter, Store, Trap, UpdateDeadline, WasmBacktrace};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// Frames of the guest backtrace kept in a trap report.
const BACKTRACE_FRAMES: usize = 8;
/// Table elements a plugin may hold (function pointers of its indirect calls).
const TABLE_ELEMENTS_LIMIT: usize = 100_000;
/// Fuel between two points where the store's fuel counter is brought up to date.
/// Compiled code keeps its fuel count in a register and writes it back only at calls,
/// returns and refuels, not at the epoch check that stops a timed-out call: without
/// checkpoints a pure loop stopped by its deadline reported the few thousand units
/// burned before the loop. With them, the fuel a timeout reports is at most this much
/// short (a few milliseconds of compute); on success and fuel exhaustion it is exact.
/// Each checkpoint is also a yield to the async runtime (a fiber switch, ~1 µs).
const FUEL_CHECKPOINT: u64 = 10_000_000;
/// What wasmtime's error says when a lift runs out of hostcall fuel (its type is private).
const HOSTCALL_FUEL_EXHAUSTED: &str = "fuel allocated for hostcalls has been exhausted";

/// The data of one call's store.
pub(super) struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: CallLimiter,
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The linker every plugin is instantiated with: WASI preview 2 and nothing else.
pub(super) fn linker(engine: &Engine) -> wasmtime::Result<Linker<CallState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    Ok(linker)
}

/// Memory and table limits that also remember the peak and whether memory hit the cap.
struct CallLimiter {
    memory_limit: usize,
    peak_memory: usize,
    memory_breached: bool,
}

/// The error a memory growth past the cap raises inside the guest.
#[derive(Debug, thiserror::Error)]
#[error("memory limit of {0} bytes exceeded")]
struct MemoryLimitExceeded(usize);

impl ResourceLimiter for CallLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_limit {
            self.memory_breached = true;
            return Err(MemoryLimitExceeded(self.memory_limit).into());
        }
        self.peak_memory = self.peak_memory.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= TABLE_ELEMENTS_LIMIT)
    }
}

/// Which export to call.
enum Export<'r> {
    Describe,
    Calculate(&'r wit::QuoteRequest),
}

/// What the export returned.
enum Returned {
    Describe(wit::PluginInfo),
    Calculate(Result<wit::QuoteResult, wit::CalcError>),
}

pub(super) async fn describe(
    runtime: &Runtime,
    plugin: &CompiledPlugin,
    limits: &CallLimits,
) -> Result<Outcome<PluginInfo>, CallFailure> {
    let today = chrono::Utc::now().date_naive();
    let (returned, report) = run(runtime, plugin, today, limits, Export::Describe).await?;
    let Returned::Describe(info) = returned else {
        unreachable!("describe returns plugin-info")
    };
    match convert::plugin_info(info, runtime.config.max_result_bytes) {
        Ok(value) => Ok(Outcome { value, report }),
        Err(reason) => Err(CallFailure {
            error: CallError::InvalidOutput(reason),
            report,
        }),
    }
}

pub(super) async fn calculate(
    runtime: &Runtime,
    plugin: &CompiledPlugin,
    request: &QuoteRequest,
    limits: &CallLimits,
) -> Result<Outcome<QuoteResult>, CallFailure> {
    let input = convert::request(request);
    let (returned, report) = run(
        runtime,
        plugin,
        request.date,
        limits,
        Export::Calculate(&input),
    )
    .await?;
    let Returned::Calculate(result) = returned else {
        unreachable!("calculate returns a result")
    };
    let checked = match result {
        Ok(result) => convert::quote_result(result, request, runtime.config.max_result_bytes)
            .map_err(CallError::InvalidOutput),
        Err(error) => Err(CallError::Plugin(convert::calc_error(
            error,
            runtime.config.max_plugin_error_bytes,
        ))),
    };
    match checked {
        Ok(value) => Ok(Outcome { value, report }),
        Err(error) => Err(CallFailure { error, report }),
    }
}

/// Instantiates the plugin in a fresh store and calls one export under the limits.
async fn run(
    runtime: &Runtime,
    plugin: &CompiledPlugin,
    date: NaiveDate,
    limits: &CallLimits,
    export: Export<'_>,
) -> Result<(Returned, CallReport), CallFailure> {
    let started = Instant::now();
    let deadline = started + limits.timeout;
    let output = CapturedOutput::new(runtime.config.stderr_cap_bytes);
    let memory_limit = usize::try_from(limits.memory_bytes).unwrap_or(usize::MAX);
    let state = CallState {
        wasi: wasi::context(date, &output),
        table: ResourceTable::new(),
        limiter: CallLimiter {
            memory_limit,
            peak_memory: 0,
            memory_breached: false,
        },
    };
    let mut store = Store::new(&runtime.engine, state);
    store.limiter(|state| &mut state.limiter);
    store
        .fuel_async_yield_interval(Some(FUEL_CHECKPOINT))
        .expect("fuel is enabled on the engine");
    store
        .set_fuel(limits.fuel)
        .expect("fuel is enabled on the engine");
    // What one lift may copy out of the guest: an oversized result fails inside the
    // lift instead of being copied whole into the host first.
    store.set_hostcall_fuel(runtime.config.hostcall_fuel());
    // Wake at every epoch tick: stop once the deadline has passed, otherwise yield to
    // the async runtime so a long calculation never holds a worker thread. tokio's own
    // `yield_now` puts the task at the back of the queue and lets the worker poll its
    // timers and sockets; a plain self-wake would be rescheduled first.
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| match Instant::now() >= deadline {
        true => Ok(UpdateDeadline::Interrupt),
        false => Ok(UpdateDeadline::YieldCustom(
            1,
            Box::pin(tokio::task::yield_now()),
        )),
    });

    let mut instantiate = Duration::ZERO;
    let call = async {
        let instance: Calculator = plugin.pre.instantiate_async(&mut store).await?;
        instantiate = started.elapsed();
        Ok::<_, wasmtime::Error>(match export {
            Export::Describe => Returned::Describe(instance.call_describe(&mut store).await?),
            Export::Calculate(input) => {
                Returned::Calculate(instance.call_calculate(&mut store, input).await?)
            }
        })
    };
    // A guest blocked inside a host call (a WASI sleep) sees no epoch checks: the
    // deadline on the future stops it there, dropping the suspended call.
    let finished = tokio::time::timeout_at(deadline.into(), call).await;

    let (stderr, stderr_truncated) = output.take();
    let report = CallReport {
        fuel_used: limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0)),
        peak_memory_bytes: store.data().limiter.peak_memory as u64,
        duration: started.elapsed(),
        instantiate_us: u32::try_from(instantiate.as_micros()).unwrap_or(u32::MAX),
        stderr,
        stderr_truncated,
    };
    let error = match finished {
        Ok(Ok(returned)) => return Ok((returned, report)),
        Ok(Err(error)) => classify(
            &error,
            store.data().limiter.memory_breached,
            limits,
            &runtime.config,
        ),
        Err(_elapsed) => timeout(limits),
    };
    Err(CallFailure { error, report })
}

fn timeout(limits: &CallLimits) -> CallError {
    CallError::Timeout {
        limit_ms: u64::try_from(limits.timeout.as_millis()).unwrap_or(u64::MAX),
    }
}

/// Names what stopped the guest. A memory-limit breach surfaces as our own error
/// (not a `Trap`) from the limiter, and a Rust guest may instead abort on the failed
/// allocation: the limiter's flag decides either way.
fn classify(
    error: &wasmtime::Error,
    memory_breached: bool,
    limits: &CallLimits,
    config: &RuntimeConfig,
) -> CallError {
    if memory_breached || error.downcast_ref::<MemoryLimitExceeded>().is_some() {
        return CallError::MemoryLimit {
            limit_bytes: limits.memory_bytes,
        };
    }
    if format!("{error:#}").contains(HOSTCALL_FUEL_EXHAUSTED) {
        return CallError::InvalidOutput(format!(
            "the plugin tried to pass more than {} bytes to the host at once (its result, \
             or the arguments of one host call); a result may be at most {} bytes",
            config.hostcall_fuel(),
            config.max_result_bytes
        ));
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => CallError::FuelExhausted {
            budget: limits.fuel,
        },
        Some(Trap::Interrupt) => timeout(limits),
        trap => {
            let message = match trap {
                Some(trap) => trap.to_string(),
                None => format!("{error:#}"),
            };
            if is_pool_exhausted(&message) {
                return CallError::Capacity(message);
            }
            CallError::Trap {
                message,
                backtrace: backtrace_summary(error),
            }
        }
    }
}

fn is_pool_exhausted(message: &str) -> bool {
    message.contains("concurrent") && message.contains("limit")
}

/// The innermost guest frames, as "module!function".
fn backtrace_summary(error: &wasmtime::Error) -> Vec<String> {
    let Some(backtrace) = error.downcast_ref::<WasmBacktrace>() else {
        return Vec::new();
    };
    backtrace
        .frames()
        .iter()
        .take(BACKTRACE_FRAMES)
        .map(|frame| {
            let function = frame
                .func_name()
                .map(|name| name.to_string())
                .unwrap_or_else(|| format!("func[{}]", frame.func_index()));
            match frame.module().name() {
                Some(module) => format!("{module}!{function}"),
                None => function,
            }
        })
        .collect()
}
