//! `calculate` allocates 1 MiB chunks filled with nonzero bytes and keeps them all,
//! forever, so linear memory grows past any cap (e.g. 64 MiB).
//! The host must refuse the growth and answer with a memory-limit error.

// The generated export glue flattens quote-request into 10 core parameters.
#![allow(clippy::too_many_arguments)]

wit_bindgen::generate!({ path: "../../../wit", world: "calculator" });

use core::hint::black_box;

const CHUNK: usize = 1 << 20;

struct MemoryHog;

impl Guest for MemoryHog {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "memory-hog".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: env!("CARGO_PKG_DESCRIPTION").into(),
            variables: Vec::new(),
        }
    }

    fn calculate(_request: QuoteRequest) -> Result<QuoteResult, CalcError> {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            // vec![0xA5; n] writes every byte, so each page is really touched.
            hoard.push(vec![0xA5; CHUNK]);
            black_box(&mut hoard);
        }
    }
}

export!(MemoryHog);
