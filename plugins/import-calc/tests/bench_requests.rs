//! The request files `quote-host plugin bench` is run on (`bench/<products>.request.json`)
//! are the golden scenarios' requests, so the figures in README are for checked answers.
//! `QUOTE_WRITE_BENCH_REQUESTS=1 cargo test --test bench_requests` rewrites them.

mod golden_map;

use golden_map::load_scenario;
use std::path::Path;

/// Bench file stem (the number of products) → the golden scenario it is made from.
const BENCH_REQUESTS: &[(&str, &str)] = &[
    ("5", "test_raschet_multi_currency.json"),
    ("93", "test_raschet.json"),
];

#[test]
fn bench_requests_are_the_golden_requests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rewrite = std::env::var_os("QUOTE_WRITE_BENCH_REQUESTS").is_some();
    for (products, golden) in BENCH_REQUESTS {
        let scenario = load_scenario(&root.join("golden").join(golden));
        let items = scenario.request["items"].as_array().map(Vec::len);
        assert_eq!(items, products.parse().ok(), "{golden}");
        let expected = serde_json::to_string_pretty(&scenario.request).unwrap() + "\n";
        let path = root.join("bench").join(format!("{products}.request.json"));
        if rewrite {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &expected).unwrap();
        }
        let committed = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        assert!(
            committed == expected,
            "{} is not the request of {golden}; rewrite it with QUOTE_WRITE_BENCH_REQUESTS=1",
            path.display()
        );
    }
}
