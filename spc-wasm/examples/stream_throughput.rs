//! Native baseline for the Node.js wasm benchmark (`cargo xtask bench`): streams the same
//! deterministic series through an individuals chart with all eight tests, via the same
//! batch-push path the wasm API uses, and prints points per second. Its sink does what the wasm
//! API's does, less the JavaScript objects: it keeps every signal and each chart's latest point.

use llmscope_spc::{
    Baseline, ChartSpec, ChartType, Monitor, Observation, Point, Signal, Sink, Which,
};
use std::time::Instant;

#[derive(Default)]
struct Collect {
    signals: Vec<(Which, Signal)>,
    latest: [Option<Point>; 2],
}
impl Sink for Collect {
    fn point(&mut self, which: Which, point: Point) {
        self.latest[usize::from(which == Which::Companion)] = Some(point);
    }
    fn signal(&mut self, which: Which, signal: Signal) {
        self.signals.push((which, signal));
    }
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2_000_000);
    // Same formula as spc-wasm/tests/node/bench.mjs.
    let values: Vec<f64> = (0..n)
        .map(|i| 10.0 + (i as f64 * 1.7).sin() + ((i * 7919) % 13) as f64 * 0.05)
        .collect();
    let mut best = f64::INFINITY;
    let mut signals = 0;
    for _ in 0..10 {
        let spec = ChartSpec {
            baseline: Baseline::FirstN { n: 100 },
            ..ChartSpec::new(ChartType::Individuals)
        };
        let mut monitor = Monitor::streaming(spec).expect("valid spec");
        let mut sink = Collect::default();
        let start = Instant::now();
        for &x in &values {
            if monitor.push(Observation::Value(x), &mut sink).is_err() {
                break;
            }
        }
        best = best.min(start.elapsed().as_secs_f64());
        signals = sink.signals.len();
        std::hint::black_box(sink.latest);
    }
    println!(
        "native: {n} points in {best:.4} s = {:.1} M points/s ({signals} signals)",
        n as f64 / best / 1e6
    );
}
