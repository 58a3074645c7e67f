//! Share-link sizes against the raw data, natively (`cargo xtask bench`): a 100,000-point
//! session of latency-like values at 0.001 resolution (the browser benchmark's data), and a
//! 1,000-point one as the baseline, encoded as `#s=` fragment text and as the Worker's sealed
//! blob, with encode and decode times.

use llmscope_app::export::share::{self, Shared, View};
use llmscope_app::model::{Origin, Sample, Session, Stream};
use std::time::Instant;

fn session(points: usize) -> Session {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut s = Stream::new("bench/latency", "ms", Origin::Simulator);
    s.samples = (0..points)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let v = 420.0 + 80.0 * ((state >> 40) as f64 / (1u64 << 24) as f64);
            Sample {
                t: 1_764_201_600_000.0 + i as f64 * 100.0,
                value: (v * 1000.0).round() / 1000.0,
            }
        })
        .collect();
    Session {
        streams: vec![s],
        ..Session::default()
    }
}

fn main() {
    println!("| points | raw (16 B/point) | CSV | session JSON | #s= link | sealed for the Worker | encode | decode |");
    println!("|---|---|---|---|---|---|---|---|");
    for points in [1_000, 100_000] {
        let session = session(points);
        let csv: usize = session.streams[0]
            .samples
            .iter()
            .map(|s| format!("{},{}\n", s.t, s.value).len())
            .sum();
        let json = serde_json::to_string(&session).map_or(0, |j| j.len());
        let shared = Shared {
            session,
            view: View::default(),
            created_ms: 0.0,
        };
        let started = Instant::now();
        let bytes = share::to_bytes(&shared, &share::Native);
        let encode = started.elapsed();
        let text_len = bytes.len().div_ceil(3) * 4;
        let started = Instant::now();
        let back = share::from_bytes(&bytes, &share::Native).expect("round trip");
        let decode = started.elapsed();
        assert_eq!(back, shared);
        let sealed = share::seal(&shared, &[1; 32], &[2; 12], &share::Native).len();
        println!(
            "| {points} | {} KB | {} KB | {} KB | {} KB ({:.0}% of raw){} | {} KB | {:.1} ms | {:.1} ms |",
            points * 16 / 1024,
            csv / 1024,
            json / 1024,
            text_len / 1024,
            100.0 * text_len as f64 / (points * 16) as f64,
            if text_len > share::FRAGMENT_LIMIT { ", over the 64 KiB limit: goes through the Worker" } else { "" },
            sealed / 1024,
            encode.as_secs_f64() * 1e3,
            decode.as_secs_f64() * 1e3,
        );
    }
}
