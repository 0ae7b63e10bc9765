//! The console's settings (`[console]` in the config file, `QUOTE_CONSOLE__*`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleConfig {
    /// How long a console session lasts after sign-in, in seconds. Default 28800 (8 h).
    pub session_ttl_s: u64,
    /// Sessions an organization keeps at once; signing in past it ends the oldest.
    /// Default 50.
    pub max_sessions_per_org: u32,
    /// Mark the session cookie `Secure` (send it over HTTPS only). Turn it on when the
    /// host is served over HTTPS; default false, so `http://127.0.0.1` works.
    pub secure_cookie: bool,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            session_ttl_s: 8 * 3600,
            max_sessions_per_org: 50,
            secure_cookie: false,
        }
    }
}
