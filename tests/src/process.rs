//! The real `quote-host serve` binary as a child process: for what only a process of
//! its own shows (a signal's effect, its exit status, its own memory).

use crate::db::TestDatabase;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The server process; killed if the test ends before it stops on its own.
pub struct ServerProcess {
    pub child: Child,
    /// `http://127.0.0.1:<port>`, from the address it logged.
    pub base_url: String,
}

impl ServerProcess {
    /// Starts `bin serve` (the test crate's `CARGO_BIN_EXE_quote-host-under-test`) on a
    /// free port with the test settings, and waits until it logs its address.
    pub fn spawn(bin: &str, database: &TestDatabase, data_dir: &Path) -> Self {
        Self::spawn_with(bin, database, data_dir, &[])
    }

    /// As [`Self::spawn`], with `settings` (`QUOTE_...` variables) set over the test ones.
    pub fn spawn_with(
        bin: &str,
        database: &TestDatabase,
        data_dir: &Path,
        settings: &[(&str, String)],
    ) -> Self {
        let mut child = Command::new(bin)
            .arg("serve")
            .env("QUOTE_LISTEN", "127.0.0.1:0")
            .env("QUOTE_DATA_DIR", data_dir)
            .env("QUOTE_DATABASE__URL", &database.url)
            .env("QUOTE_RATE_LIMITS__ENABLED", "false")
            .env("QUOTE_EXCHANGE_RATES__ENABLED", "false")
            .env("QUOTE_RUNTIME__MAX_CONCURRENT_INSTANCES", "32")
            .env("QUOTE_LOG", "info")
            .envs(settings.iter().map(|(key, value)| (key, value)))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (found, address) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent && line.contains("quote-host listening") {
                    let address = line
                        .split("address=")
                        .nth(1)
                        .and_then(|rest| rest.split_whitespace().next());
                    let _ = found.send(address.unwrap_or_default().to_string());
                    sent = true;
                }
            }
        });
        let mut server = Self {
            child,
            base_url: String::new(),
        };
        let address = address
            .recv_timeout(Duration::from_secs(120))
            .expect("the server logs its address");
        server.base_url = format!("http://{address}");
        server
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Resident memory of the server process, in bytes.
    pub fn rss_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the server process is alive");
        let line = status
            .lines()
            .find(|line| line.starts_with("VmRSS:"))
            .unwrap();
        let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        kib * 1024
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
