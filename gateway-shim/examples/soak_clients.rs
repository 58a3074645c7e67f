//! The clients of the soak test (`cargo xtask soak`, docs/benchmarks.md): N WebSocket clients
//! that connect to a running shim, stay a random while, sometimes stop reading for up to four
//! minutes (so the server must resynchronise them), and drop, over and over until the time is up. The
//! random choices come from one seed, so a run can be repeated.
//!
//! Each client keeps the last seq it received across its connections and resumes with
//! `?since=` (or, one time in four, connects afresh). It checks the protocol's promise: every
//! seq after the last one arrives, or a `gap` frame counts it first. A seq that skips ahead
//! without a gap is a hole; one at or below the last is a duplicate. Both must stay 0.
//!
//! `cargo run --release -p gateway-shim --example soak_clients -- URL SECONDS CLIENTS SEED`
//! prints one line of JSON with the totals.

use futures_util::StreamExt;
use llmscope_protocol::ServerFrame;
use llmscope_spc::Rng;
use std::time::Duration;
use tokio::time::{sleep, sleep_until, timeout_at, Instant};
use tokio_tungstenite::tungstenite::Message;

/// Uniform in `from..to` (to > from), from the engine's seeded generator: the soak needs
/// repeatable choices, not cryptographic ones.
fn between(rng: &mut Rng, from: u64, to: u64) -> u64 {
    from + rng.below(to - from)
}

/// One client's account over all its connections.
#[derive(Default, Debug, Clone, Copy)]
struct Account {
    connections: u64,
    refused: u64,
    paused: u64,
    samples: u64,
    gap_frames: u64,
    missed: u64,
    holes: u64,
    duplicates: u64,
}

impl Account {
    fn add(&mut self, o: &Account) {
        self.connections += o.connections;
        self.refused += o.refused;
        self.paused += o.paused;
        self.samples += o.samples;
        self.gap_frames += o.gap_frames;
        self.missed += o.missed;
        self.holes += o.holes;
        self.duplicates += o.duplicates;
    }

    /// A sample with `seq` arrived after `last`.
    fn sample(&mut self, last: &mut Option<u64>, seq: u64) {
        match *last {
            Some(l) if seq <= l => self.duplicates += 1,
            Some(l) if seq > l + 1 => self.holes += 1,
            _ => {}
        }
        self.samples += 1;
        *last = Some(seq);
    }
}

async fn client(url: String, deadline: Instant, seed: u64) -> Account {
    let mut rng = Rng::new(seed);
    let mut account = Account::default();
    let mut last: Option<u64> = None;
    while Instant::now() < deadline {
        if between(&mut rng, 0, 4) == 0 {
            last = None;
        }
        let target = match last {
            Some(s) => format!("{url}?since={s}"),
            None => url.clone(),
        };
        let mut ws = match tokio_tungstenite::connect_async(target.as_str()).await {
            Ok((ws, _)) => ws,
            Err(_) => {
                account.refused += 1;
                sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        account.connections += 1;
        let stay = Duration::from_millis(between(&mut rng, 100, 20_000));
        // One connection in ten stops reading for a while: its socket fills; after a long
        // pause (half of them, 2.5 to 4 minutes) the server's live queue for it overflows and
        // the replay buffer moves on, so the server must resynchronise it and report a gap.
        if between(&mut rng, 0, 10) == 0 {
            account.paused += 1;
            let pause = Duration::from_millis(if between(&mut rng, 0, 2) == 0 {
                between(&mut rng, 20_000, 40_000)
            } else {
                between(&mut rng, 150_000, 240_000)
            });
            sleep_until((Instant::now() + pause).min(deadline)).await;
        }
        // After a pause the client reads again, and sees how the server caught it up.
        let until = (Instant::now() + stay).min(deadline);
        while let Ok(Some(Ok(message))) = timeout_at(until, ws.next()).await {
            let Message::Text(text) = message else {
                continue;
            };
            match ServerFrame::parse(&text) {
                Ok(ServerFrame::Sample(s)) => account.sample(&mut last, s.seq),
                Ok(ServerFrame::Batch { samples }) => {
                    for s in samples {
                        account.sample(&mut last, s.seq);
                    }
                }
                Ok(ServerFrame::Gap { missed }) => {
                    account.gap_frames += 1;
                    account.missed += missed;
                    last = last.map(|l| l + missed);
                }
                Ok(_) => {}
                Err(e) => eprintln!("soak: invalid frame: {e}"),
            }
        }
        // Half the clients say goodbye, half just vanish.
        if between(&mut rng, 0, 2) == 0 {
            let _ = ws.close(None).await;
        }
        drop(ws);
    }
    account
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, seconds, clients, seed] = args.as_slice() else {
        eprintln!("usage: soak_clients URL SECONDS CLIENTS SEED");
        std::process::exit(2);
    };
    let number = |s: &str, what: &str| -> u64 {
        s.parse().unwrap_or_else(|_| {
            eprintln!("soak_clients: {what} '{s}' is not a whole number");
            std::process::exit(2)
        })
    };
    let (seconds, clients, seed) = (
        number(seconds, "SECONDS"),
        number(clients, "CLIENTS"),
        number(seed, "SEED"),
    );
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..clients)
        .map(|i| {
            let seed = Rng::new(seed ^ i.wrapping_mul(0x2545_F491_4F6C_DD1D)).next_u64();
            tokio::spawn(client(url.clone(), deadline, seed))
        })
        .collect();
    let mut total = Account::default();
    for task in tasks {
        if let Ok(a) = task.await {
            total.add(&a);
        }
    }
    println!(
        "{}",
        serde_json::json!({
            "clients": clients, "seconds": seconds, "seed": seed,
            "connections": total.connections, "refused": total.refused, "paused": total.paused,
            "samples": total.samples, "gap_frames": total.gap_frames, "missed": total.missed,
            "holes": total.holes, "duplicates": total.duplicates,
        })
    );
}
