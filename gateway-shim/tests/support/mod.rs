//! Shared by the integration tests: free ports, the peers' Python, child processes that are
//! killed when the test ends, and waiting for events with a deadline.
#![allow(dead_code)]

use llmscope_shim::source::Event;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::sync::mpsc;

/// A TCP port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// `N` distinct TCP ports that were free a moment ago (all held open until all are picked, so
/// no two are the same).
pub fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<std::net::TcpListener> = (0..N)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("a free port"))
        .collect();
    std::array::from_fn(|i| listeners[i].local_addr().expect("a bound address").port())
}

/// The Python of the peers' virtual environment (`cargo xtask peers` makes it).
pub fn python() -> PathBuf {
    if let Ok(p) = std::env::var("LLMSCOPE_PEERS_PYTHON") {
        return PathBuf::from(p);
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/peers/venv/bin/python");
    assert!(
        p.exists(),
        "{} is missing: run `cargo xtask peers` (or `cargo xtask test`)",
        p.display()
    );
    p
}

/// A peer script in tests/peers/.
pub fn peer_script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/peers")
        .join(name)
}

/// A child process killed (and reaped) when dropped, so a failing test leaves nothing behind.
pub struct Peer(pub Child);

impl Peer {
    /// Starts `cmd` with its output discarded unless LLMSCOPE_PEER_LOGS is set.
    pub fn start(cmd: &mut Command) -> Peer {
        if std::env::var_os("LLMSCOPE_PEER_LOGS").is_none() {
            cmd.stdout(Stdio::null()).stderr(Stdio::null());
        }
        Peer(
            cmd.spawn()
                .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}")),
        )
    }

    /// Stops it now.
    pub fn stop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Waits until something accepts TCP connections on 127.0.0.1:`port`.
pub async fn wait_for_port(port: u16, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "nothing listens on port {port} after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Receives events until `done` says so, failing the test after `within`.
pub async fn events_until(
    rx: &mut mpsc::Receiver<Event>,
    within: Duration,
    mut done: impl FnMut(&[Event]) -> bool,
) -> Vec<Event> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    while !done(&seen) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(e)) => seen.push(e),
            Ok(None) => panic!("the source stopped; events so far: {seen:?}"),
            Err(_) => panic!("timed out after {within:?}; events so far: {seen:?}"),
        }
    }
    seen
}
