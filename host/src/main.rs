//! The `quote-host` binary: everything it does lives in the library's `cli` module.

/// mimalloc instead of glibc malloc, for Rust and (its `override` feature) for the C code
/// linked in, SQLite above all. One bench/load.sh run each on a quiet machine: calculate
/// 1 item 11,780 req/s with glibc, 15,082 with mimalloc for Rust, 16,142 with the override;
/// 10 items 7,077 / 9,207 / 9,920; the quote list 3,702 / 3,890 / 5,400; import-calc on 93
/// products 515 / 690 / 691. A 93-product call went from 1.61 to 1.42 ms (`plugin bench`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    quote_host::cli::main()
}
