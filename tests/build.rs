//! Without `QUOTE_TEST_POSTGRES_URL`, builds the PostgreSQL variants of the tests as
//! `#[ignore]`d (cfg `quote_tests_without_postgres`), so the summary counts them as
//! ignored, with the reason, instead of reporting a skip as `ok`. Cargo rebuilds the
//! tests when the variable changes.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(quote_tests_without_postgres)");
    println!("cargo::rerun-if-env-changed=QUOTE_TEST_POSTGRES_URL");
    let unset = std::env::var("QUOTE_TEST_POSTGRES_URL").map_or(true, |url| url.is_empty());
    if unset {
        println!("cargo::rustc-cfg=quote_tests_without_postgres");
    }
}
