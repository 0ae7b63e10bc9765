//! The `quote-host` binary: everything it does lives in the library's `cli` module.

fn main() -> std::process::ExitCode {
    quote_host::cli::main()
}
