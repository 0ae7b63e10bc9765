//! The dashboard's chart in a real Chromium: the empty state, then one row per month of
//! `dashboard.chart_months` with a bar of each month's exact accepted total, at 1280 and
//! at 390 px without sideways scrolling.

use super::chromium::{
    browser, browser_sign_in, page_and_window_widths, screenshot, start_driver, wait_for,
};
use super::support::sample_request;
use chrono::{Duration, Months, Utc};
use quote_host::dashboard::month_window;
use quote_tests::bulk::set_created_at;
use quote_tests::{Backend, Client, TestServer};
use rust_decimal::Decimal;
use serde_json::{Value, json};

const MONTHS: u32 = 6;

/// Prices, sends and accepts a quote; its number and total.
async fn accepted_quote(admin: &Client) -> (String, Decimal) {
    let quote = admin
        .post("/api/quotes", &sample_request())
        .await
        .expect(201)
        .body;
    let id = quote["id"].as_str().unwrap();
    admin.accept_quote(id).await;
    let total = quote["total"].as_str().unwrap().parse().unwrap();
    (quote["number"].as_str().unwrap().to_string(), total)
}

/// The RUB chart's rows once drawn: `[month, count, total, bar width, label]` each.
async fn chart_rows(browser: &fantoccini::Client) -> Vec<Vec<Value>> {
    wait_for(
        browser,
        "the RUB chart",
        "return document.querySelector('svg[data-currency=RUB] .bar');",
    )
    .await;
    let rows = browser
        .execute(
            "const chart = document.querySelector('svg[data-currency=RUB]');
             const labels = [...chart.querySelectorAll('.month-label')];
             const bars = [...chart.querySelectorAll('.bar')];
             return labels.map((label, i) => [label.dataset.month, bars[i].dataset.count,
                 bars[i].dataset.total, Number(bars[i].getAttribute('width')), label.textContent]);",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(rows).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_charts_every_month_at_1280_and_390_px() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let server = TestServer::start_with(Backend::Sqlite, |config| {
        config.dashboard.chart_months = MONTHS
    })
    .await;
    let browser = browser(&driver).await;
    browser_sign_in(&browser, &server, &server.admin_key).await;
    let empty = wait_for(
        &browser,
        "the empty chart",
        "return document.querySelector('#chart-empty')?.textContent;",
    )
    .await;
    assert_eq!(empty, "No quotes were accepted in the last 6 months.");

    let admin = server.admin();
    let (_, first) = accepted_quote(&admin).await;
    let (_, second) = accepted_quote(&admin).await;
    let (older, older_total) = accepted_quote(&admin).await;
    // Behind the API's back, after the acceptances dropped the cached figures.
    let window = month_window(Utc::now(), MONTHS);
    let four_back = window.month_start - Months::new(4);
    let database = &server.database;
    set_created_at(
        database.backend,
        &database.url,
        &older,
        four_back + Duration::days(10),
    )
    .await;
    let this_month = (Decimal::ZERO + first + second).to_string();

    for (width, name) in [(1280, "dashboard-chart-1280"), (390, "dashboard-chart-390")] {
        browser.set_window_size(width, 900).await.unwrap();
        browser
            .goto(&format!("{}/console", server.base_url))
            .await
            .unwrap();
        let rows = chart_rows(&browser).await;
        let months: Vec<String> = (0..MONTHS)
            .rev()
            .map(|back| {
                (window.month_start - Months::new(back))
                    .format("%Y-%m")
                    .to_string()
            })
            .collect();
        assert_eq!(rows.len(), MONTHS as usize, "{rows:?}");
        for (row, month) in rows.iter().zip(&months) {
            assert_eq!(row[0], month.as_str());
            assert!(
                !row[4].as_str().unwrap().is_empty(),
                "a month label: {row:?}"
            );
        }
        assert_eq!(rows[5][1..3], [json!("2"), json!(this_month)], "{rows:?}");
        assert_eq!(
            rows[1][1..3],
            [json!("1"), json!(older_total.to_string())],
            "{rows:?}"
        );
        for index in [0, 2, 3, 4] {
            assert_eq!(rows[index][1..4], [json!("0"), json!("0"), json!(0)]);
        }
        assert!(rows[5][3].as_f64().unwrap() > 0.0);
        let title = browser
            .execute(
                "return document.querySelector('svg[data-currency=RUB] > title').textContent;",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(title, "Accepted RUB totals by month");
        let (scroll, inner) = page_and_window_widths(&browser).await;
        assert!(
            scroll <= inner,
            "{name}: {scroll} px wide in a {inner} px window"
        );
        screenshot(&browser, name).await;
    }
    browser.close().await.unwrap();
}
