//! A real headless Chromium (Debian's `chromium` and `chromium-driver`) driven through
//! the console by WebDriver: what a seller's admin and a member do, with a screenshot of
//! each page.

use super::chromium::{
    assert_sent_to_sign_in, browser, browser_sign_in, click, fill, page_and_window_widths,
    screenshot, start_driver, text_of, wait_for,
};
use super::support::{Console, sign_in_at};
use fantoccini::Locator;
use quote_tests::{Backend, TestServer};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_uploads_prices_saves_sends_verifies_and_signs_out() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let server = TestServer::start(Backend::Sqlite).await;
    let browser = browser(&driver).await;
    browser
        .goto(&format!("{}/console", server.base_url))
        .await
        .unwrap();
    screenshot(&browser, "login").await;
    browser_sign_in(&browser, &server, &server.admin_key).await;
    wait_for(
        &browser,
        "the status counts",
        "return document.querySelector('#status-counts table');",
    )
    .await;
    screenshot(&browser, "dashboard").await;

    // Upload through the file input, then activate the new plugin.
    browser
        .goto(&format!("{}/console/plugins", server.base_url))
        .await
        .unwrap();
    fill(&browser, "#plugin-name", "markup").await;
    let wasm = quote_host::bundled::plugin_path("standard-markup");
    browser
        .find(Locator::Css("#plugin-file"))
        .await
        .unwrap()
        .send_keys(wasm.to_str().unwrap())
        .await
        .unwrap();
    click(&browser, "#upload-button").await;
    wait_for(&browser, "the upload", "return document.querySelector('#upload-result').textContent.startsWith('Uploaded markup version 1');").await;
    wait_for(
        &browser,
        "the new plugin",
        "return document.querySelector('#plugin-markup .activate');",
    )
    .await;
    click(&browser, "#plugin-markup .activate").await;
    wait_for(
        &browser,
        "the activation",
        "return document.querySelector('#plugin-markup .active-version')?.textContent === '1';",
    )
    .await;
    screenshot(&browser, "plugins").await;

    // Price two lines through the form: one typed, one pasted from a spreadsheet.
    browser
        .goto(&format!("{}/console/price", server.base_url))
        .await
        .unwrap();
    wait_for(
        &browser,
        "the line table",
        "return document.querySelector('#plugin-used').textContent.includes('markup');",
    )
    .await;
    fill(
        &browser,
        "#lines tbody tr:first-child [data-column=sku]",
        "A-1",
    )
    .await;
    fill(
        &browser,
        "#lines tbody tr:first-child [data-column=quantity]",
        "12",
    )
    .await;
    fill(
        &browser,
        "#lines tbody tr:first-child [data-column=unit_price]",
        "1999.00",
    )
    .await;
    click(&browser, "#add-line").await;
    browser
        .execute(
            "const cell = document.querySelector('#lines tbody tr:nth-child(2) [data-column=sku]');
             const data = new DataTransfer();
             data.setData('text/plain', 'B-2\\tWidget\\t3\\t10.50\\tRUB\\n');
             cell.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));",
            vec![],
        )
        .await
        .unwrap();
    let pasted = browser
        .execute("return [...document.querySelectorAll('#lines tbody tr:nth-child(2) [data-column]')].slice(0, 5).map((i) => i.value);", vec![])
        .await
        .unwrap();
    assert_eq!(pasted, json!(["B-2", "Widget", "3", "10.50", "RUB"]));
    fill(&browser, "#q-title", "Bearings for ACME").await;
    click(&browser, "#calculate").await;
    let total = wait_for(
        &browser,
        "the result",
        "return document.querySelector('#result-total')?.dataset.total;",
    )
    .await;
    screenshot(&browser, "price").await;

    // The API gives the same total for the same input.
    let request = browser
        .execute("return priceRequest();", vec![])
        .await
        .unwrap();
    assert_eq!(request["items"][0]["quantity"], "12");
    assert_eq!(request["items"][1]["unit_price"], "10.50");
    let from_api = server
        .admin()
        .post("/api/quotes/calculate", &request)
        .await
        .expect(200);
    assert_eq!(total, from_api.body["result"]["total"]);
    assert_eq!(from_api.body["plugin"]["name"], "markup");

    // Save as a draft, send it, verify it.
    click(&browser, "#save-draft").await;
    wait_for(
        &browser,
        "the saved quote",
        "return document.querySelector('#saved a');",
    )
    .await;
    click(&browser, "#saved a").await;
    wait_for(
        &browser,
        "the quote page",
        "return document.querySelector('#quote-number');",
    )
    .await;
    browser
        .find(Locator::Css("#status-change"))
        .await
        .unwrap()
        .select_by_value("sent")
        .await
        .unwrap();
    click(&browser, "#change-status").await;
    wait_for(
        &browser,
        "the status change",
        "return document.querySelector('#quote-status').textContent === 'sent';",
    )
    .await;
    click(&browser, "#verify").await;
    let identical = wait_for(
        &browser,
        "the verification",
        "return document.querySelector('#verify-outcome')?.dataset.identical;",
    )
    .await;
    assert_eq!(identical, "true");
    assert_eq!(
        text_of(&browser, "#quote-total").await,
        format!("{} RUB", total.as_str().unwrap())
    );
    screenshot(&browser, "quote").await;
    let stored = server
        .admin()
        .get("/api/quotes?status=sent")
        .await
        .expect(200);
    assert_eq!(stored.body["items"][0]["title"], "Bearings for ACME");

    for page in ["quotes", "rates", "health"] {
        browser
            .goto(&format!("{}/console/{page}", server.base_url))
            .await
            .unwrap();
        wait_for(
            &browser,
            page,
            "return !document.querySelector('main').textContent.includes('Loading');",
        )
        .await;
        screenshot(&browser, page).await;
    }

    // Sign out: the console and the old cookie are refused.
    let cookie = browser
        .get_named_cookie("qh_console")
        .await
        .expect("the session cookie");
    assert_eq!(cookie.http_only(), Some(true));
    let old = Console {
        base_url: server.base_url.clone(),
        cookie: format!("qh_console={}", cookie.value()),
        csrf: String::new(),
        http: super::support::http(),
    };
    assert_eq!(old.get("/api/me").await.status, StatusCode::OK);
    click(&browser, "#sign-out").await;
    wait_for(
        &browser,
        "the sign-in page",
        "return document.body.dataset.page === 'login';",
    )
    .await;
    assert_sent_to_sign_in(&browser, &server, "/console/quotes").await;
    assert_eq!(old.get("/api/me").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(old.page("/console").await.0, StatusCode::SEE_OTHER);
    browser.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_sees_no_admin_controls_and_no_page_scrolls_sideways_at_390_px() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let server = TestServer::start(Backend::Sqlite).await;
    let created = server
        .admin()
        .post("/api/api-keys", &json!({"name": "sales", "role": "member"}))
        .await
        .expect(201);
    let member_key = created.body["key_secret"].as_str().unwrap().to_string();
    // A quote to show on the pages.
    let console = sign_in_at(&server.base_url, &server.admin_key).await;
    assert_eq!(
        console
            .post("/api/quotes", &super::support::sample_request())
            .await
            .status,
        StatusCode::CREATED
    );

    let browser = browser(&driver).await;
    browser.set_window_size(390, 900).await.unwrap();
    browser_sign_in(&browser, &server, &member_key).await;
    let pages = ["", "/plugins", "/price", "/quotes", "/rates"];
    for page in pages {
        browser
            .goto(&format!("{}/console{page}", server.base_url))
            .await
            .unwrap();
        wait_for(
            &browser,
            page,
            "return !document.querySelector('main').textContent.includes('Loading')
                && (document.body.dataset.page !== 'price' || document.querySelector('#lines tbody tr'));",
        )
        .await;
        let (scroll, inner) = page_and_window_widths(&browser).await;
        assert!(inner <= 400, "the window is {inner} px wide, not 390");
        assert!(
            scroll <= inner,
            "{page}: {scroll} px wide in a {inner} px window"
        );
        let name = if page.is_empty() {
            "dashboard"
        } else {
            &page[1..]
        };
        screenshot(&browser, &format!("member-390-{name}")).await;
    }
    browser
        .goto(&format!("{}/console/plugins", server.base_url))
        .await
        .unwrap();
    wait_for(
        &browser,
        "the plugin list",
        "return document.querySelector('#plugin-standard');",
    )
    .await;
    let admin_controls = browser
        .execute(
            "return document.querySelectorAll('#upload-form, .activate, .schedule, .replay, a[href=\"/console/health\"]').length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(admin_controls, json!(0));
    browser
        .goto(&format!("{}/console/health", server.base_url))
        .await
        .unwrap();
    assert_eq!(
        browser
            .find(Locator::Css("[data-code=forbidden]"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "This page needs an admin API key; you are signed in with a member key."
    );
    browser.close().await.unwrap();
}
