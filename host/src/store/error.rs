//! Store errors: one enum for both backends, mapped from `sqlx` errors.

use sqlx::error::ErrorKind;

/// Result alias used by every store method.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// What went wrong in the store, in terms callers can act on.
///
/// HTTP mapping suggestion: `NotFound` → 404, `Conflict` → 409,
/// `Invalid` → 400, `Unavailable` → 503, the rest → 500.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The addressed row does not exist (or belongs to another organization).
    #[error("not found")]
    NotFound,
    /// The write collides with the current state: duplicate name or hash,
    /// deleting the active plugin version, a status or revision that changed
    /// meanwhile (optimistic check).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The organization already holds as many unrevoked API keys as it may.
    #[error("the organization already holds {0} unrevoked API keys, its limit")]
    KeyLimitReached(u32),
    /// A caller-supplied value is unusable (e.g. a garbled page cursor).
    #[error("invalid input: {0}")]
    Invalid(String),
    /// The database cannot be reached in time: pool acquire timeout, closed
    /// pool, I/O error, SQLite busy, PostgreSQL statement timeout.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A stored value could not be decoded (e.g. a malformed decimal text).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// Applying the embedded migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::PoolTimedOut => {
                Self::Unavailable("timed out acquiring a connection".into())
            }
            sqlx::Error::PoolClosed => Self::Unavailable("connection pool closed".into()),
            sqlx::Error::Io(e) => Self::Unavailable(format!("i/o: {e}")),
            sqlx::Error::Tls(e) => Self::Unavailable(format!("tls: {e}")),
            sqlx::Error::WorkerCrashed => Self::Unavailable("sqlite worker crashed".into()),
            sqlx::Error::Configuration(e) => Self::Invalid(format!("database url: {e}")),
            sqlx::Error::Database(db) => {
                let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
                let sqlite = db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some();
                let unavailable = if sqlite {
                    // SQLITE_BUSY / SQLITE_LOCKED and their extended codes
                    // (busy_timeout exceeded).
                    code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6))
                } else {
                    // PostgreSQL query_canceled (statement_timeout), too many
                    // connections, admin/crash shutdown, cannot connect now.
                    matches!(
                        code.as_str(),
                        "57014" | "53300" | "57P01" | "57P02" | "57P03"
                    )
                };
                if unavailable {
                    Self::Unavailable(db.message().to_owned())
                } else {
                    Self::Database(err)
                }
            }
            _ => Self::Database(err),
        }
    }
}

impl StoreError {
    /// True when this is a unique-constraint violation.
    pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
        matches!(err, sqlx::Error::Database(db) if db.kind() == ErrorKind::UniqueViolation)
    }

    /// True when this is a foreign-key violation.
    pub(crate) fn is_foreign_key_violation(err: &sqlx::Error) -> bool {
        matches!(err, sqlx::Error::Database(db) if db.kind() == ErrorKind::ForeignKeyViolation)
    }

    /// Maps a foreign-key violation to `NotFound` (the row it refers to, e.g. the
    /// organization, does not exist) and anything else as usual.
    pub(crate) fn missing_parent(err: sqlx::Error) -> Self {
        if Self::is_foreign_key_violation(&err) {
            Self::NotFound
        } else {
            err.into()
        }
    }

    /// A new API key's failure: an unknown organization is `NotFound`, a duplicate
    /// hash `Conflict`.
    pub(crate) fn api_key_insert(err: sqlx::Error) -> Self {
        if Self::is_foreign_key_violation(&err) {
            Self::NotFound
        } else {
            Self::unique_as_conflict(err, "api key hash already exists")
        }
    }

    /// Deleting the active version of `name`.
    pub(crate) fn active_version(name: &str, version: i32) -> Self {
        Self::Conflict(format!(
            "version {version} of plugin {name:?} is active; activate another version first"
        ))
    }

    /// A plugin version delete that the active-version foreign key refused.
    pub(crate) fn version_delete(err: sqlx::Error) -> Self {
        if Self::is_foreign_key_violation(&err) {
            Self::Conflict("plugin version is active".into())
        } else {
            err.into()
        }
    }

    /// Maps a unique violation to `Conflict(what)` and anything else as usual.
    pub(crate) fn unique_as_conflict(err: sqlx::Error, what: &str) -> Self {
        if Self::is_unique_violation(&err) {
            Self::Conflict(what.to_owned())
        } else {
            err.into()
        }
    }
}
