//! The one `Engine` of the process and the thread that advances its epoch.

use super::RuntimeConfig;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Core wasm instances, memories and tables a component may hold. A Rust `wasm32-wasip2`
/// component has a handful; the headroom is for other languages' toolchains.
const CORE_INSTANCES_PER_COMPONENT: u32 = 16;
const MEMORIES_PER_COMPONENT: u32 = 2;
const TABLES_PER_COMPONENT: u32 = 8;

/// Builds the engine: component model, fuel, epoch interruption, bounded wasm stack
/// and, unless disabled, the pooling allocator.
pub(super) fn build_engine(config: &RuntimeConfig) -> wasmtime::Result<Engine> {
    let mut wasm = Config::new();
    wasm.wasm_component_model(true)
        .consume_fuel(true)
        .epoch_interruption(true)
        .max_wasm_stack(config.max_wasm_stack_kib * 1024)
        .parallel_compilation(true);
    if config.pooling_allocator {
        wasm.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling(config)));
    }
    Engine::new(&wasm)
}

/// Pool sizing. Keeping memory and tables resident and resetting them with
/// `pagemap_scan` avoids the madvise storm that made the default pool scale
/// negatively past one thread on this hardware.
fn pooling(config: &RuntimeConfig) -> PoolingAllocationConfig {
    let instances = config.max_concurrent_instances;
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(instances)
        .total_core_instances(instances * CORE_INSTANCES_PER_COMPONENT)
        .total_memories(instances * MEMORIES_PER_COMPONENT)
        .total_tables(instances * TABLES_PER_COMPONENT)
        .total_stacks(instances)
        .max_core_instances_per_component(CORE_INSTANCES_PER_COMPONENT)
        .max_memories_per_component(MEMORIES_PER_COMPONENT)
        .max_tables_per_component(TABLES_PER_COMPONENT)
        .max_memory_size(config.memory_limit_bytes())
        .linear_memory_keep_resident(config.keep_resident_bytes)
        .table_keep_resident(config.keep_resident_bytes)
        .pagemap_scan(Enabled::Auto);
    pool
}

/// Advances the engine's epoch every `tick` on its own thread. Ticks are scheduled
/// from a monotonic start (tick n is due at start + n * tick), so sleeping late never
/// accumulates into drift. The thread ends when this value is dropped.
pub(super) struct EpochTicker {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl EpochTicker {
    pub(super) fn start(engine: Engine, tick: Duration) -> std::io::Result<Self> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = thread::Builder::new()
            .name("wasm-epoch".into())
            .spawn(move || {
                let mut next = Instant::now();
                loop {
                    next += tick;
                    let wait = next.saturating_duration_since(Instant::now());
                    match stopped.recv_timeout(wait) {
                        Err(mpsc::RecvTimeoutError::Timeout) => engine.increment_epoch(),
                        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
                    }
                }
            })?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
