//! The native side of the Compare view's browser benchmark (`cargo xtask bench`): what the
//! comparison's Web Worker computes for 20 targets × 100,000 successful results, the view's
//! default (each target against the best median, 19 pairs) and "All pairs" (190): the
//! per-target table, then the report (the metric's comparison, the speed comparison, cost and
//! recommendation, boxes), best of 3 each. With a folder argument it also writes both requests
//! there (`request.bin`, `request_all.bin`, the bytes the view sends the Worker) for the same
//! computation in headless Chromium (tests/e2e/examples/compare_bench.rs).
//!
//! `cargo run --release -p llmscope-app-lazy --example compare_view -- [FOLDER]`

use llmscope_app_lazy::compare::{table, targets};
use llmscope_app_lazy::wire::Request;
use llmscope_protocol::compare::{Settings, Success, TargetResults};
use std::time::Instant;

const TARGETS: usize = 20;
const RESULTS: usize = 100_000;
const RUNS: usize = 3;

/// Deterministic log-normal latencies and speeds, as in spc-wasm/examples/compare_speed.rs.
fn target(k: usize) -> TargetResults {
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ (k as u64 + 1).wrapping_mul(0xD6E8_FEB8_6659_FD93);
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let median = 300.0 + 10.0 * k as f64;
    let mut t = TargetResults {
        name: format!("target-{k}"),
        requests: RESULTS as u64,
        ..TargetResults::default()
    };
    t.ok = (0..RESULTS)
        .map(|i| {
            let mut lognormal =
                |m: f64| m * (0.6 * ((0..4).map(|_| next()).sum::<f64>() - 2.0)).exp();
            let ttft = lognormal(median);
            Success {
                t: 1_764_201_600_000 + i as i64 * 1000,
                ttft_ms: Some(ttft),
                total_ms: Some(ttft + 800.0),
                tokens_per_s: Some(lognormal(60.0)),
            }
        })
        .collect();
    t
}

/// Best wall times in ms of the table and of table + report.
fn best(request: &[u8]) -> (f64, f64) {
    let (mut first, mut whole) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..RUNS {
        let start = Instant::now();
        let r = Request::decode(request).expect("a request");
        std::hint::black_box(table(&r).expect("a table").len());
        first = first.min(start.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(targets(&r).expect("a report").encode().len());
        whole = whole.min(start.elapsed().as_secs_f64() * 1e3);
    }
    (first, whole)
}

fn main() {
    let folder = std::env::args().nth(1);
    let grouped: Vec<TargetResults> = (0..TARGETS).map(target).collect();
    for (all_pairs, file, label) in [
        (false, "request.bin", "19 pairs"),
        (true, "request_all.bin", "190 pairs"),
    ] {
        let request = Request {
            targets: grouped.clone(),
            settings: Settings::default(),
            all_pairs,
        }
        .encode();
        if let Some(dir) = &folder {
            let path = std::path::Path::new(dir).join(file);
            std::fs::write(&path, &request).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
        let (first, whole) = best(&request);
        println!("native view {label}: table {first:.1} ms, report {whole:.1} ms");
    }
}
