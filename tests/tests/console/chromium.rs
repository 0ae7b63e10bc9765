//! Headless Chromium for the browser tests: chromedriver on a free port, a WebDriver
//! session, screenshots into `target/console-screenshots/`, and small waits and clicks.
//! Without the browser a test says SKIPPED, and fails under `CI` or
//! `QUOTE_REQUIRE_CHROMIUM`.

use fantoccini::{Client, ClientBuilder, Locator};
use quote_tests::TestServer;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "chromedriver";

/// chromedriver on a free port, stopped with the test.
pub struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn browser_required() -> bool {
    std::env::var_os("CI").is_some() || std::env::var_os("QUOTE_REQUIRE_CHROMIUM").is_some()
}

pub async fn start_driver() -> Option<Driver> {
    let present = std::path::Path::new(CHROMIUM).exists()
        && Command::new(CHROMEDRIVER)
            .arg("--version")
            .output()
            .is_ok_and(|output| output.status.success());
    if !present {
        assert!(
            !browser_required(),
            "chromium and chromium-driver are required (CI or QUOTE_REQUIRE_CHROMIUM is set): \
             apt-get install -y chromium chromium-driver"
        );
        eprintln!("SKIPPED: chromium or chromedriver is not installed");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let status = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(response) = status.get(format!("{}/status", driver.url)).send().await
            && response.status() == StatusCode::OK
        {
            return Some(driver);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("chromedriver did not answer within 10 s");
}

pub async fn browser(driver: &Driver) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,900", "--lang=en-US"],
        }),
    );
    ClientBuilder::rustls()
        .expect("TLS roots")
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/console-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub async fn screenshot(browser: &Client, name: &str) {
    let png = browser.screenshot().await.expect("a screenshot");
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).unwrap();
}

/// The page's scroll width and the window's inner width, in CSS pixels: the page
/// scrolls sideways when the first is larger.
pub async fn page_and_window_widths(browser: &Client) -> (i64, i64) {
    let sizes = browser
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await
        .expect("the script runs");
    (sizes[0].as_i64().unwrap(), sizes[1].as_i64().unwrap())
}

/// Waits until `script` (a function body returning a value) returns something truthy.
pub async fn wait_for(browser: &Client, what: &str, script: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let value = browser
            .execute(script, vec![])
            .await
            .expect("the script runs");
        let truthy = !matches!(&value, Value::Null | Value::Bool(false))
            && value != json!("")
            && value != json!(0);
        if truthy {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited 30 s for {what}; page: {}",
            browser
                .source()
                .await
                .unwrap_or_default()
                .chars()
                .take(3_000)
                .collect::<String>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn text_of(browser: &Client, selector: &str) -> String {
    browser
        .find(Locator::Css(selector))
        .await
        .unwrap_or_else(|error| panic!("{selector}: {error}"))
        .text()
        .await
        .unwrap()
}

pub async fn fill(browser: &Client, selector: &str, value: &str) {
    let input = browser.find(Locator::Css(selector)).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(value).await.unwrap();
}

pub async fn click(browser: &Client, selector: &str) {
    browser
        .find(Locator::Css(selector))
        .await
        .unwrap_or_else(|error| panic!("{selector}: {error}"))
        .click()
        .await
        .unwrap_or_else(|error| panic!("click {selector}: {error}"));
}

/// Opens `path` of the console and checks that it sent the browser to sign in.
pub async fn assert_sent_to_sign_in(browser: &Client, server: &TestServer, path: &str) {
    browser
        .goto(&format!("{}{path}", server.base_url))
        .await
        .unwrap();
    let url = browser.current_url().await.unwrap();
    assert!(
        url.path().ends_with("/console/login"),
        "{path} went to {url}"
    );
}

pub async fn browser_sign_in(browser: &Client, server: &TestServer, key: &str) {
    assert_sent_to_sign_in(browser, server, "/console").await;
    fill(browser, "#api-key", key).await;
    click(browser, "#sign-in").await;
    wait_for(
        browser,
        "the dashboard",
        "return document.body.dataset.page === 'dashboard';",
    )
    .await;
}
