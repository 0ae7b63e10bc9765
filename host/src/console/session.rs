//! Console sessions: a random 256-bit token in an HttpOnly, SameSite=Strict cookie
//! scoped to `/console`, stored only as its SHA-256; the CSRF token every POST carries
//! (an HMAC of the session token, so any host on the database can check it without a
//! shared secret); and how a request's cookie becomes the API's [`Caller`].

use crate::app::AppState;
use crate::auth::{Caller, hash_key};
use crate::http::error::ApiError;
use crate::store::NewConsoleSession;
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Arc;

/// The cookie's name.
pub const COOKIE: &str = "qh_console";
/// The header the console's scripts send the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The session of a console request, next to its [`Caller`] in the extensions.
#[derive(Clone)]
pub struct Session {
    /// The secret token from the cookie (never stored, never logged).
    token: Arc<str>,
}

impl Session {
    /// The token forms and scripts must echo on every POST.
    pub fn csrf_token(&self) -> String {
        csrf_token(&self.token)
    }

    pub fn token_hash(&self) -> String {
        hash_key(&self.token)
    }
}

/// HMAC-SHA256 keyed by the session token: a page of another site cannot compute it,
/// since it cannot read the HttpOnly cookie.
fn csrf_token(session_token: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(session_token.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(b"quote-host console csrf");
    hex::encode(mac.finalize().into_bytes())
}

/// Compares without stopping at the first differing byte.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Checks a CSRF token sent with a POST of `session`.
pub fn csrf_matches(session: &Session, sent: Option<&str>) -> bool {
    sent.is_some_and(|sent| same_secret(sent, &session.csrf_token()))
}

/// Opens a session for `caller` and returns the `Set-Cookie` value.
pub async fn open(state: &AppState, caller: &Caller) -> Result<String, ApiError> {
    let token = hex::encode(rand::random::<[u8; 32]>());
    let config = &state.config.console;
    let created_at = crate::store::now();
    let ttl = chrono::Duration::seconds(i64::try_from(config.session_ttl_s).unwrap_or(i64::MAX));
    let session = NewConsoleSession {
        token_hash: hash_key(&token),
        organization_id: caller.organization.id,
        api_key_id: caller.key.id,
        created_at,
        expires_at: created_at
            .checked_add_signed(ttl)
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC),
    };
    let ended = state
        .store
        .create_console_session(session, config.max_sessions_per_org)
        .await?;
    if ended > 0 {
        tracing::info!(organization = %caller.organization.id, ended, "console sessions beyond the limit ended");
    }
    Ok(cookie(&token, config.session_ttl_s, config.secure_cookie))
}

/// Ends the session (sign-out) and returns the `Set-Cookie` value that clears it.
pub async fn close(state: &AppState, session: &Session) -> Result<String, ApiError> {
    state
        .store
        .delete_console_session(&session.token_hash())
        .await?;
    Ok(cookie("", 0, state.config.console.secure_cookie))
}

fn cookie(token: &str, max_age_s: u64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{COOKIE}={token}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age_s}{secure}"
    )
}

fn token_from_cookies(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, token)| token)
        .filter(|token| token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The caller and session behind a console request's cookie, if it names a live
/// session of a key that is not revoked.
pub async fn resolve(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(Arc<Caller>, Session)>, ApiError> {
    let Some(token) = token_from_cookies(headers) else {
        return Ok(None);
    };
    let found = state
        .store
        .console_session(&hash_key(token), crate::store::now())
        .await?;
    Ok(found.map(|(key, organization)| {
        let caller = Arc::new(Caller { organization, key });
        let session = Session {
            token: Arc::from(token),
        };
        (caller, session)
    }))
}

/// Middleware on the console's copy of the API: a request that changes something and
/// came with a session must carry its CSRF token in `x-csrf-token`.
pub async fn require_csrf(request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD);
    if let Some(session) = request.extensions().get::<Session>()
        && !safe
    {
        let sent = request
            .headers()
            .get(CSRF_HEADER)
            .and_then(|value| value.to_str().ok());
        if !csrf_matches(session, sent) {
            return csrf_refusal().into_response();
        }
    }
    next.run(request).await
}

/// 403 `csrf_mismatch`.
pub fn csrf_refusal() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "csrf_mismatch",
        "the console's CSRF token is missing or wrong; reload the page and try again",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csrf_token_belongs_to_its_session() {
        let one = Session {
            token: Arc::from("a".repeat(64)),
        };
        let other = Session {
            token: Arc::from("b".repeat(64)),
        };
        assert!(csrf_matches(&one, Some(&one.csrf_token())));
        assert!(!csrf_matches(&one, Some(&other.csrf_token())));
        assert!(!csrf_matches(&one, None));
        assert!(!csrf_matches(&one, Some("")));
    }

    #[test]
    fn only_a_well_formed_cookie_is_read() {
        let mut headers = HeaderMap::new();
        let token = "0123456789abcdef".repeat(4);
        headers.insert(
            header::COOKIE,
            format!("other=1; {COOKIE}={token}").parse().unwrap(),
        );
        assert_eq!(token_from_cookies(&headers), Some(token.as_str()));
        headers.insert(header::COOKIE, format!("{COOKIE}=short").parse().unwrap());
        assert_eq!(token_from_cookies(&headers), None);
    }
}
