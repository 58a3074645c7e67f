//! The republisher's publish rate with the disk buffer on and off (docs/benchmarks.md, "Fleet:
//! the shim's publish"): `cargo run --release -p gateway-shim --example publish_rate [-- N]`.
//!
//! A mosquitto of its own on a free port; `[publish]` (json, QoS 1) with the buffer in memory,
//! the same on disk (`buffer_dir`), and QoS 0 in memory for reference. Each run hands N samples
//! to the republisher at once, as a hub burst would, and times until the broker has
//! acknowledged all of them (`/status` `publish.delivered`). The runs alternate, three rounds,
//! and the medians are reported with their ratio to the memory buffer of the same process.

use llmscope_protocol::Sample;
use llmscope_shim::publish::{self, Config, Stats};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

struct Mosquitto(Child);

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Samples per second from handing `n` samples over to the last PUBACK.
async fn rate(port: u16, n: u64, qos: u8, disk: Option<&std::path::Path>) -> f64 {
    let mut config = Config::json(format!("mqtt://127.0.0.1:{port}"), "bench");
    config.qos = qos;
    config.buffer_dir = disk.map(|d| d.to_path_buf());
    config.edge_node_id = Some(format!("bench-{qos}-{}", disk.is_some()));
    if let Some(d) = disk {
        let _ = std::fs::remove_dir_all(d);
    }
    let (tx, rx) = broadcast::channel(n as usize + 1);
    let stats = Arc::new(Stats::default());
    let stop = CancellationToken::new();
    let task = tokio::spawn(publish::run(
        config,
        vec![],
        rx,
        stop.clone(),
        stats.clone(),
    ));
    wait(&stats, "connected", |s| s["connected"] == true).await;
    let started = Instant::now();
    // Times of now: older samples would fall to the buffer's age bound.
    let t0 = llmscope_shim::source::now_ms();
    for seq in 1..=n {
        let sample = Sample {
            stream: format!("press{}/temperature", seq % 20),
            seq,
            t: t0 + seq as i64,
            value: seq as f64 * 0.5,
        };
        let _ = tx.send(Arc::new(sample));
    }
    wait(&stats, "all delivered", |s| {
        s["delivered"].as_u64() >= Some(n)
    })
    .await;
    let seconds = started.elapsed().as_secs_f64();
    stop.cancel();
    let _ = task.await;
    n as f64 / seconds
}

/// Polls the republisher's counters until `done`; gives up after a minute, saying where.
async fn wait(stats: &Stats, what: &str, done: impl Fn(&serde_json::Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done(&stats.to_json()) {
        assert!(
            Instant::now() < deadline,
            "not {what} after a minute: {}",
            stats.to_json()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let dir = std::env::temp_dir().join(format!("llmscope-publish-rate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp folder");
    let conf = dir.join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!("allow_anonymous true\npersistence false\nlistener {port} 127.0.0.1\n"),
    )
    .expect("write the mosquitto config");
    let _broker = Mosquitto(
        Command::new("/usr/sbin/mosquitto")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto runs"),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let disk = dir.join("buffer");
    let (mut memory, mut on_disk, mut qos0) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..3 {
        memory.push(rate(port, n, 1, None).await);
        on_disk.push(rate(port, n, 1, Some(&disk)).await);
        qos0.push(rate(port, n, 0, None).await);
    }
    let base = median(memory.clone());
    println!("{n} samples to mosquitto, json, medians of 3 alternating runs:");
    for (name, runs) in [
        ("QoS 1, memory buffer", memory),
        ("QoS 1, disk buffer", on_disk),
        ("QoS 0, memory buffer", qos0),
    ] {
        let m = median(runs.clone());
        println!(
            "  {name:22} {m:>9.0} samples/s  ratio {:.2}  (runs: {})",
            m / base,
            runs.iter()
                .map(|r| format!("{r:.0}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
