//! `cargo xtask soak [--minutes N]`: the shim's soak test (docs/benchmarks.md, not in CI).
//! Runs the real `llmscope-shim simulate` (release) polling its plant every 5 ms, so its
//! 100,000-sample replay buffer is full after about three minutes, while 20 seeded clients
//! (gateway-shim/examples/soak_clients.rs) connect, pause, resume and drop at random. Samples
//! the shim's RSS every 10 s and fails if any client saw a seq hole without a gap frame or a
//! duplicate.

use crate::util::{self, say};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Default length: the 30 minutes.
pub const DEFAULT_MINUTES: u64 = 30;
const CLIENTS: u64 = 20;
const SEED: u64 = 10;
const POLL_MS: &str = "5";
const RSS_EVERY: Duration = Duration::from_secs(10);

/// Kills and reaps the shim however the task ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn run(minutes: u64) -> Result<(), String> {
    say("building llmscope-shim and the soak clients (release)");
    util::run(util::cargo().args([
        "build",
        "--release",
        "-p",
        "gateway-shim",
        "--bin",
        "llmscope-shim",
        "--example",
        "soak_clients",
    ]))?;
    let release = util::root().join("target/release");
    let addr = free_address()?;
    say(&format!(
        "llmscope-shim simulate on {addr}, polling every {POLL_MS} ms, for {minutes} min with {CLIENTS} clients (seed {SEED})"
    ));
    let shim = Running(
        Command::new(release.join("llmscope-shim"))
            .args(["simulate", "--listen", &addr, "--interval-ms", POLL_MS])
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start llmscope-shim: {e}"))?,
    );
    wait_for(&addr)?;
    let started = Instant::now();
    let mut clients = Command::new(release.join("examples/soak_clients"))
        .args([
            format!("ws://{addr}/ws"),
            (minutes * 60).to_string(),
            CLIENTS.to_string(),
            SEED.to_string(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the soak clients: {e}"))?;
    let mut rss = Vec::new();
    let mut next = Instant::now();
    while clients.try_wait().map_err(|e| e.to_string())?.is_none() {
        if Instant::now() >= next {
            let kib = rss_kib(shim.0.id())
                .ok_or("llmscope-shim stopped during the soak (no /proc entry)")?;
            let at = started.elapsed().as_secs();
            println!("  {:>5} s  RSS {:>7.1} MB", at, kib as f64 / 1024.0);
            rss.push((at, kib));
            next += RSS_EVERY;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let output = clients
        .wait_with_output()
        .map_err(|e| format!("soak clients: {e}"))?;
    let summary = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let status = http_get(&addr, "/status").unwrap_or_default();
    report(&rss, &summary, &status)
}

fn report(rss: &[(u64, u64)], summary: &str, status: &str) -> Result<(), String> {
    if rss.is_empty() {
        return Err("no RSS samples: the soak ended at once".into());
    }
    let mb = |kib: u64| kib as f64 / 1024.0;
    let at = |fraction: f64| rss[((rss.len() - 1) as f64 * fraction) as usize].1;
    let peak = rss.iter().map(|r| r.1).max().unwrap_or(0);
    println!();
    println!("soak summary");
    println!("  clients: {summary}");
    let samples = field(status, "samples").unwrap_or_default();
    println!("  shim: {samples} samples numbered");
    println!(
        "  RSS: {:.1} MB at start, {:.1} MB at half time, {:.1} MB at the end, {:.1} MB peak",
        mb(rss[0].1),
        mb(at(0.5)),
        mb(at(1.0)),
        mb(peak)
    );
    let holes = field(summary, "holes");
    let duplicates = field(summary, "duplicates");
    match (holes, duplicates) {
        (Some(0), Some(0)) => {
            println!("  every seq arrived once or was counted by a gap frame");
            Ok(())
        }
        (Some(h), Some(d)) => Err(format!(
            "{h} seq holes without a gap frame and {d} duplicates"
        )),
        _ => Err(format!("the soak clients gave no summary: '{summary}'")),
    }
}

/// A whole-number field of a one-line JSON object, without a JSON parser in xtask.
fn field(json: &str, name: &str) -> Option<u64> {
    let key = format!("\"{name}\":");
    let rest = &json[json.find(&key)? + key.len()..];
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Resident set size of a process, in KiB (Linux /proc).
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A bare HTTP/1.1 GET on loopback (xtask has no HTTP client).
fn http_get(addr: &str, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

fn free_address() -> Result<String, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("no free port on 127.0.0.1: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.to_string())
        .map_err(|e| e.to_string())
}

fn wait_for(addr: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(addr).is_err() {
        if Instant::now() > deadline {
            return Err(format!(
                "llmscope-shim did not listen on {addr} within 30 s"
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}
