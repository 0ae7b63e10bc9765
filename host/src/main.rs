//! The `quote-host` binary: everything it does lives in the library's `cli` module.

/// mimalloc instead of glibc malloc: in one bench/load.sh run each on a quiet machine,
/// calculate went from 11,780 to 15,082 req/s (1 item), 7,077 to 9,207 (10 items) and
/// 515 to 690 (import-calc, 93 products); a call of the 93-product rule set from 1.61 to
/// 1.42 ms (`plugin bench`). The allocation-heavy part is lifting and checking results.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    quote_host::cli::main()
}
