//! Redis for the many-hosts tests: the shared one named by `QUOTE_TEST_REDIS_URL`
//! (each test uses a key prefix of its own, never FLUSHALL), or a private
//! `redis-server` on a free port that a test may stop.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `QUOTE_TEST_REDIS_URL`, if set and not empty.
pub fn redis_url() -> Option<String> {
    std::env::var("QUOTE_TEST_REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

/// A key prefix no other test uses.
pub fn test_prefix() -> String {
    format!("quote-test:{}:", uuid::Uuid::new_v4().simple())
}

/// Whether a Redis at `host:port` answers PING within `bound`.
pub fn answers(address: &str, bound: Duration) -> bool {
    let Ok(address) = address.parse() else {
        return false;
    };
    let Ok(mut stream) = TcpStream::connect_timeout(&address, bound) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(bound));
    let mut reply = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut reply).is_ok()
        && &reply == b"+PONG\r\n"
}

/// `host:port` of a `redis://host:port[/db]` URL.
pub fn address_of(url: &str) -> String {
    let rest = url.trim_start_matches("redis://");
    let rest = rest.rsplit('@').next().unwrap_or(rest);
    let host_port = rest.split('/').next().unwrap_or(rest);
    match host_port.contains(':') {
        true => host_port.to_string(),
        false => format!("{host_port}:6379"),
    }
}

/// A `redis-server` of the test's own, on a free port; stopped on drop.
pub struct PrivateRedis {
    child: Option<Child>,
    pub port: u16,
}

impl PrivateRedis {
    /// Starts `redis-server` (no persistence) and waits until it answers.
    pub fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (.ci/run installs it)");
        let redis = Self {
            child: Some(child),
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !answers(&redis.address(), Duration::from_millis(200)) {
            assert!(
                Instant::now() < deadline,
                "the private redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        redis
    }

    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn url(&self) -> String {
        format!("redis://{}", self.address())
    }

    /// Kills this server (and only this one) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}
