//! A browser-like HTTP client of the console: signs in through the form, keeps the
//! session cookie and sends the CSRF token the page carries.

use quote_tests::TestServer;
use reqwest::{Method, StatusCode, header};
use serde_json::Value;

/// A signed-in console session, as a browser holds it.
#[derive(Clone)]
pub struct Console {
    pub base_url: String,
    /// `qh_console=<token>`.
    pub cookie: String,
    /// The token of the page's `csrf-token` meta tag.
    pub csrf: String,
    pub http: reqwest::Client,
}

/// A URL-encoded form body (the workspace's reqwest is built without its `form` feature).
pub trait FormBody {
    fn form_body(self, fields: &[(&str, &str)]) -> Self;
}

impl FormBody for reqwest::RequestBuilder {
    fn form_body(self, fields: &[(&str, &str)]) -> Self {
        let body = fields
            .iter()
            .map(|(name, value)| format!("{}={}", form_encode(name), form_encode(value)))
            .collect::<Vec<_>>()
            .join("&");
        self.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
    }
}

fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                (byte as char).to_string()
            }
            b' ' => "+".to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// A client that does not follow redirects, so a test sees them.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Posts the sign-in form from this host's own page.
pub async fn post_sign_in(base_url: &str, api_key: &str) -> reqwest::Response {
    http()
        .post(format!("{base_url}/console/login"))
        .header(header::ORIGIN, base_url)
        .form_body(&[("api_key", api_key)])
        .send()
        .await
        .unwrap()
}

/// Signs in with `api_key`, checking the cookie's attributes.
pub async fn sign_in(server: &TestServer, api_key: &str) -> Console {
    sign_in_at(&server.base_url, api_key).await
}

pub async fn sign_in_at(base_url: &str, api_key: &str) -> Console {
    let response = post_sign_in(base_url, api_key).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "sign-in redirects"
    );
    assert_eq!(response.headers()[header::LOCATION], "/console");
    let set_cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console", "Max-Age="] {
        assert!(
            set_cookie.contains(attribute),
            "{attribute} in {set_cookie}"
        );
    }
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    let mut console = Console {
        base_url: base_url.to_string(),
        cookie,
        csrf: String::new(),
        http: http(),
    };
    let page = console.page("/console").await;
    assert_eq!(
        page.0,
        StatusCode::OK,
        "the dashboard after sign-in: {}",
        page.1
    );
    console.csrf = meta_csrf(&page.1);
    console
}

fn meta_csrf(html: &str) -> String {
    let start = html
        .find(r#"name="csrf-token" content=""#)
        .unwrap_or_else(|| panic!("no csrf meta tag in {html}"))
        + r#"name="csrf-token" content=""#.len();
    html[start..].split('"').next().unwrap().to_string()
}

/// A console API answer: status and JSON body (`Null` when not JSON).
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl Console {
    /// A page: status and HTML.
    pub async fn page(&self, path: &str) -> (StatusCode, String, reqwest::header::HeaderMap) {
        let response = self
            .http
            .get(format!("{}{path}", self.base_url))
            .header(header::COOKIE, &self.cookie)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        (status, response.text().await.unwrap(), headers)
    }

    /// A call of the console's copy of the API (`/console` + `path`) with the CSRF token.
    pub async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Answer {
        self.call_with_csrf(method, path, body, Some(&self.csrf))
            .await
    }

    pub async fn call_with_csrf(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        csrf: Option<&str>,
    ) -> Answer {
        let mut request = self
            .http
            .request(method, format!("{}/console{path}", self.base_url))
            .header(header::COOKIE, &self.cookie);
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        if let Some(body) = body {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        Answer {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }

    /// Posts the sign-out form with `csrf`.
    pub async fn sign_out_with(&self, csrf: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/console/logout", self.base_url))
            .header(header::COOKIE, &self.cookie)
            .form_body(&[("csrf", csrf)])
            .send()
            .await
            .unwrap()
    }
}

/// A small quote request both the API and the console price.
pub fn sample_request() -> Value {
    serde_json::json!({
        "currency": "RUB",
        "variables": {"markup_percent": "10"},
        "items": [
            {"sku": "A-1", "name": "Bearing", "quantity": "12", "unit_price": "1999.00", "currency": "RUB"},
            {"sku": "B-2", "quantity": "3", "unit_price": "10.50", "currency": "RUB"}
        ]
    })
}
