//! The tenant console at /console: sign-in, sessions, CSRF and the console's copy of
//! the API over real HTTP on SQLite and PostgreSQL, and a real headless Chromium
//! clicking through the pages.

mod browser;
mod chromium;
mod dashboard;
mod sessions;
mod support;

quote_tests::environment_tests!();
