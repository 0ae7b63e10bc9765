//! The `quote-host` command line, built inside the tests crate so black-box tests can
//! run it as a real process (`CARGO_BIN_EXE_quote-host-under-test`).

fn main() -> std::process::ExitCode {
    quote_host::cli::main()
}
