//! Load on loopback for docs/benchmarks.md: samples per second through the WebSocket to 1 and to
//! 10 clients, latency from a source event to a client at 1,000 samples/s, and RSS.
//!
//! `cargo run --release -p gateway-shim --example ws_load [-- --quick]`
//!
//! The hub and server are the shim's own; clients are tokio-tungstenite in the same process (so
//! they share its two cores), reading and parsing every frame as the dashboard does. The baseline,
//! measured first in the same process, is the hub alone with no client.

use futures_util::StreamExt;
use llmscope_protocol::ServerFrame;
use llmscope_shim::hub::Hub;
use llmscope_shim::server::{self, Options};
use llmscope_shim::source::Event;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

fn reading(i: u64) -> Event {
    Event::Reading {
        stream: format!("line{}/vibration", i % 8),
        t: 1_764_201_600_000 + i as i64,
        value: i as f64 * 0.5,
    }
}

async fn start(buffer: usize) -> (Arc<Hub>, u16, CancellationToken) {
    let hub = Hub::new(buffer, vec![]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let stop = CancellationToken::new();
    tokio::spawn(server::serve(
        listener,
        hub.clone(),
        Options::default(),
        stop.clone(),
    ));
    (hub, port, stop)
}

/// A client that counts samples until it has seen `until`, recording each sample's latency
/// against `sent` (nanoseconds since `epoch`, by seq) when given.
async fn client(
    port: u16,
    until: u64,
    sent: Option<(Arc<Vec<AtomicU64>>, Instant)>,
) -> (u64, Duration, Vec<u64>) {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws?since=0"))
        .await
        .expect("connect");
    let (mut count, mut first, mut latencies, mut last) = (0u64, None, Vec::new(), 0);
    while last < until {
        let Some(Ok(Message::Text(text))) = ws.next().await else {
            break;
        };
        let samples = match ServerFrame::parse(&text) {
            Ok(ServerFrame::Sample(s)) => vec![s],
            Ok(ServerFrame::Batch { samples }) => samples,
            _ => continue,
        };
        let now = Instant::now();
        first.get_or_insert(now);
        for s in samples {
            count += 1;
            last = s.seq;
            if let Some((sent, epoch)) = &sent {
                let at = sent[s.seq as usize].load(Ordering::Relaxed);
                latencies.push((now - *epoch).as_nanos() as u64 - at);
            }
        }
    }
    (
        count,
        first.map_or(Duration::ZERO, |f| f.elapsed()),
        latencies,
    )
}

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn percentile(sorted: &[u64], q: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 - 1.0) * q) as usize)
        .map_or(f64::NAN, |&ns| ns as f64 / 1e6)
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let n: u64 = if quick { 100_000 } else { 500_000 };

    // First, in a fresh process: RSS with a full default replay buffer and one client caught up.
    let (hub, port, stop) = start(100_000).await;
    for i in 0..100_000 {
        hub.apply(reading(i));
    }
    let (count, _, _) = client(port, 100_000, None).await;
    println!("RSS with a full 100,000-sample replay buffer, one client caught up ({count} samples): {:.1} MB", rss_mb());
    stop.cancel();
    drop(hub);

    let (hub, _, stop) = start(n as usize).await;
    let t = Instant::now();
    for i in 0..n {
        hub.apply(reading(i));
    }
    let baseline = n as f64 / t.elapsed().as_secs_f64();
    stop.cancel();
    println!(
        "baseline: hub alone, {n} samples: {:.0} samples/s",
        baseline
    );

    for clients in [1usize, 10] {
        let (hub, port, stop) = start(n as usize).await;
        let readers: Vec<_> = (0..clients)
            .map(|_| tokio::spawn(client(port, n, None)))
            .collect();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let t = Instant::now();
        for i in 0..n {
            hub.apply(reading(i));
            if i % 1024 == 0 {
                tokio::task::yield_now().await;
            }
        }
        for r in readers {
            let (count, _, _) = r.await.expect("client");
            assert_eq!(count, n, "every client gets every sample");
        }
        let rate = n as f64 / t.elapsed().as_secs_f64();
        println!(
            "{clients} client(s): {n} samples each, {:.0} samples/s per client ({:.0} delivered/s in all; {:.2}x the baseline's rate)",
            rate,
            rate * clients as f64,
            rate / baseline
        );
        stop.cancel();
    }

    let seconds = if quick { 3 } else { 10 };
    let total = 1000 * seconds;
    let (hub, port, stop) = start(100_000).await;
    let sent: Arc<Vec<AtomicU64>> = Arc::new((0..=total + 1).map(|_| AtomicU64::new(0)).collect());
    let epoch = Instant::now();
    let reader = tokio::spawn(client(port, total, Some((sent.clone(), epoch))));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let start_at = tokio::time::Instant::now();
    for i in 0..total {
        tokio::time::sleep_until(start_at + Duration::from_micros(i * 1000)).await;
        sent[(i + 1) as usize].store(
            (Instant::now() - epoch).as_nanos() as u64,
            Ordering::Relaxed,
        );
        hub.apply(reading(i));
    }
    let (_, _, mut latencies) = reader.await.expect("client");
    latencies.sort_unstable();
    println!(
        "latency at 1000 samples/s for {seconds} s, source event to client: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0)
    );
    stop.cancel();
}
