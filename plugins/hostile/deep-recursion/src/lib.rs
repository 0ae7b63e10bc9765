//! `calculate` recurses without bound (not a tail call) until the wasm call stack is
//! exhausted. The frames live on the engine's native stack, not in linear memory, so
//! this hits the engine's max wasm stack rather than a shadow-stack memory fault.
//! The host must answer with a trap error (stack overflow) with a backtrace, and must
//! not crash or overflow its own stack.

// The generated export glue flattens quote-request into 10 core parameters.
#![allow(clippy::too_many_arguments)]

wit_bindgen::generate!({ path: "../../../wit", world: "calculator" });

use core::ptr::read_volatile;

/// Never reached as a depth; read volatile so the optimizer cannot prove that.
static STOP_AT: u64 = u64::MAX;

#[inline(never)]
fn dive(depth: u64) -> u64 {
    // SAFETY: a volatile read of an initialised static.
    let stop = unsafe { read_volatile(&STOP_AT) };
    if depth == stop {
        return stop;
    }
    let spread = depth.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let below = dive(depth + 1);
    // Work after the call, including a volatile read, so it is never a tail call
    // and never turned into a loop.
    // SAFETY: as above.
    let salt = unsafe { read_volatile(&STOP_AT) };
    below.rotate_left((depth & 63) as u32) ^ spread ^ salt
}

struct DeepRecursion;

impl Guest for DeepRecursion {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "deep-recursion".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: env!("CARGO_PKG_DESCRIPTION").into(),
            variables: Vec::new(),
        }
    }

    fn calculate(_request: QuoteRequest) -> Result<QuoteResult, CalcError> {
        let depth = dive(0);
        Err(CalcError::Internal(format!(
            "deep-recursion came back from depth {depth}"
        )))
    }
}

export!(DeepRecursion);
