//! Sign-in with an API key (exchanged for a session cookie, refused from another
//! origin) and sign-out.

use super::pages::{LoginPage, render};
use super::session::{self, Session};
use crate::app::AppState;
use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// The sign-in form.
#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    api_key: String,
}

/// The sign-out form.
#[derive(Deserialize)]
pub struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

pub async fn login_page(session: Option<Extension<Session>>) -> Response {
    if session.is_some() {
        return Redirect::to("/console").into_response();
    }
    render(StatusCode::OK, &LoginPage::default())
}

pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<SignInForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    if !same_origin(&headers) {
        return refused(
            StatusCode::FORBIDDEN,
            "cross_origin",
            "sign in from this host's own /console/login page (the request came from another origin)",
        );
    }
    let api_key = form
        .map(|axum::Form(form)| form.api_key)
        .unwrap_or_default();
    let api_key = api_key.trim();
    if api_key.is_empty() {
        return refused(
            StatusCode::BAD_REQUEST,
            "missing_api_key",
            "enter your API key (it starts with qh_)",
        );
    }
    let caller = match state.auth.verify(state.store.as_ref(), api_key).await {
        Ok(Some(caller)) => caller,
        Ok(None) => {
            return refused(
                StatusCode::UNAUTHORIZED,
                "invalid_api_key",
                "this API key is unknown or has been revoked",
            );
        }
        Err(error) => return crate::http::error::ApiError::from(error).into_response(),
    };
    match session::open(&state, &caller).await {
        Ok(cookie) => ([(header::SET_COOKIE, cookie)], Redirect::to("/console")).into_response(),
        Err(error) => error.into_response(),
    }
}

fn refused(status: StatusCode, code: &'static str, message: &str) -> Response {
    let page = LoginPage {
        error_code: code,
        error: Some(message.to_string()),
    };
    render(status, &page)
}

/// The form was posted by a page of this host: its `Origin` (or, without one, its
/// `Referer`) names the `Host` it was sent to. Stops another site from signing a
/// browser in to an account of its choosing.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    source
        .and_then(|source| source.split_once("://"))
        .and_then(|(_, rest)| rest.split('/').next())
        .is_some_and(|authority| authority.eq_ignore_ascii_case(host))
}

pub async fn sign_out(
    State(state): State<AppState>,
    session: Option<Extension<Session>>,
    form: Result<axum::Form<SignOutForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Some(Extension(session)) = session else {
        return Redirect::to("/console/login").into_response();
    };
    let sent = form.ok().map(|axum::Form(form)| form.csrf);
    if !session::csrf_matches(&session, sent.as_deref()) {
        return session::csrf_refusal().into_response();
    }
    match session::close(&state, &session).await {
        Ok(cookie) => (
            [(header::SET_COOKIE, cookie)],
            Redirect::to("/console/login"),
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), value.parse().unwrap());
        }
        map
    }

    #[test]
    fn only_this_hosts_pages_may_sign_in() {
        let host = (header::HOST, "127.0.0.1:8080");
        assert!(same_origin(&headers(&[
            host.clone(),
            (header::ORIGIN, "http://127.0.0.1:8080")
        ])));
        assert!(same_origin(&headers(&[
            host.clone(),
            (header::REFERER, "http://127.0.0.1:8080/console/login")
        ])));
        assert!(!same_origin(&headers(&[
            host.clone(),
            (header::ORIGIN, "https://evil.example")
        ])));
        assert!(!same_origin(&headers(&[
            host.clone(),
            (header::ORIGIN, "null")
        ])));
        assert!(!same_origin(&headers(&[host])));
    }
}
