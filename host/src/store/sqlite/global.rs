//! Process-wide SQLite settings, applied once before the first connection opens.

use std::sync::Once;

/// Turns off SQLite's memory statistics before SQLite initializes.
///
/// With them on (SQLite's default) every allocation SQLite makes takes one process-wide
/// mutex to count itself, and the pool's connections, each on its own worker thread,
/// queue on it: under a list load a fifth of the server's samples were threads waiting
/// for or waking each other on that lock. Nothing here reads the statistics.
///
/// `sqlite3_config` may only run before `sqlite3_initialize`, by one thread. Every
/// connection of the process opens through [`SqliteStore::connect`](super::SqliteStore),
/// which calls this first, and the `Once` holds other callers until it is done. Had
/// SQLite been initialized already, the call is refused (`SQLITE_MISUSE`) and changes
/// nothing, which is only slower.
pub(super) fn configure_once() {
    static CONFIGURED: Once = Once::new();
    CONFIGURED.call_once(|| {
        // SAFETY: the variadic call passes the one `int` that SQLITE_CONFIG_MEMSTATUS
        // takes, and runs before any connection exists (see above).
        let status = unsafe {
            libsqlite3_sys::sqlite3_config(
                libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS,
                std::ffi::c_int::from(0u8),
            )
        };
        if status != libsqlite3_sys::SQLITE_OK {
            tracing::debug!(
                status,
                "SQLite was initialized already; memory statistics stay on"
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use super::configure_once;

    #[test]
    fn after_configuring_sqlite_counts_no_memory() {
        configure_once();
        // SAFETY: plain reads of SQLite's counters.
        let used = unsafe {
            let probe = libsqlite3_sys::sqlite3_malloc(1024);
            let used = libsqlite3_sys::sqlite3_memory_used();
            libsqlite3_sys::sqlite3_free(probe);
            used
        };
        assert_eq!(used, 0, "SQLite still counts its allocations");
    }
}
