//! The console's pages: each one the shared shell (navigation, the CSRF token, the
//! caller's role) around the containers its script fills from the API. A page without
//! a session sends the browser to sign in; an admin page refuses a member with 403.

use super::session::Session;
use crate::app::AppState;
use crate::auth::Caller;
use crate::http::error::ApiError;
use crate::jobs::JOB_NAME as RATE_JOB;
use askama::Template;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use std::sync::Arc;
use uuid::Uuid;

/// What every page shows around its content.
pub struct Shell {
    /// Which navigation entry is current, and which script part runs.
    pub page: &'static str,
    pub title: &'static str,
    pub organization: String,
    pub key_name: String,
    pub admin: bool,
    pub csrf: String,
}

/// A signed-in request of a page; without a session, a redirect to the sign-in page.
pub struct SignedIn {
    caller: Arc<Caller>,
    session: Session,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Response> {
        let caller = parts.extensions.get::<Arc<Caller>>().cloned();
        let session = parts.extensions.get::<Session>().cloned();
        match (caller, session) {
            (Some(caller), Some(session)) => Ok(Self { caller, session }),
            _ => Err(Redirect::to("/console/login").into_response()),
        }
    }
}

impl SignedIn {
    fn shell(&self, page: &'static str, title: &'static str) -> Shell {
        Shell {
            page,
            title,
            organization: self.caller.organization.name.clone(),
            key_name: self.caller.key.name.clone(),
            admin: self.caller.is_admin(),
            csrf: self.session.csrf_token(),
        }
    }
}

/// Renders a template as the response body.
pub fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(error) => ApiError::internal(format!("console template: {error}")).into_response(),
    }
}

#[derive(Template, Default)]
#[template(path = "console/login.html")]
pub struct LoginPage {
    pub error_code: &'static str,
    pub error: Option<String>,
}

/// A page whose content the script builds from the API.
#[derive(Template)]
#[template(path = "console/page.html")]
pub struct Page {
    pub shell: Shell,
    /// The quote of the detail page.
    pub quote_id: Option<Uuid>,
}

#[derive(Template)]
#[template(path = "console/rates.html")]
pub struct RatesPage {
    pub shell: Shell,
    /// The last exchange-rate fetch: when, outcome, detail.
    pub last_fetch: Option<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "console/forbidden.html")]
pub struct ForbiddenPage {
    pub shell: Shell,
}

fn page(signed: &SignedIn, name: &'static str, title: &'static str) -> Response {
    let page = Page {
        shell: signed.shell(name, title),
        quote_id: None,
    };
    render(StatusCode::OK, &page)
}

pub async fn dashboard(signed: SignedIn) -> Response {
    page(&signed, "dashboard", "Dashboard")
}

pub async fn plugins(signed: SignedIn) -> Response {
    page(&signed, "plugins", "Plugins")
}

pub async fn price(signed: SignedIn) -> Response {
    page(&signed, "price", "Price a quote")
}

pub async fn quotes(signed: SignedIn) -> Response {
    page(&signed, "quotes", "Quotes")
}

pub async fn quote(
    signed: SignedIn,
    crate::http::AppPath(id): crate::http::AppPath<Uuid>,
) -> Response {
    let page = Page {
        shell: signed.shell("quote", "Quote"),
        quote_id: Some(id),
    };
    render(StatusCode::OK, &page)
}

pub async fn rates(State(state): State<AppState>, signed: SignedIn) -> Response {
    let last_fetch = match state.store.last_job_run(RATE_JOB).await {
        Ok(run) => run.map(|run| {
            (
                run.started_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                run.outcome.as_str().to_string(),
                run.detail,
            )
        }),
        Err(error) => return ApiError::from(error).into_response(),
    };
    let page = RatesPage {
        shell: signed.shell("rates", "Exchange rates"),
        last_fetch,
    };
    render(StatusCode::OK, &page)
}

pub async fn health(signed: SignedIn) -> Response {
    if !signed.caller.is_admin() {
        let page = ForbiddenPage {
            shell: signed.shell("health", "Health"),
        };
        return render(StatusCode::FORBIDDEN, &page);
    }
    page(&signed, "health", "Health")
}
