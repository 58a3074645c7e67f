//! The native side of the browser forecast benchmark (issue 14's speed goal: forecasts for
//! 1,000 streams × 10,000 points in under 1 s in the browser). The streams are the criterion
//! bench's (`benches/forecast.rs`): in control, half with AR(1) noise (φ = 0.3), every fourth
//! drifting over its last 4,000 points 80% of the way to the limit at 6 sigma. Best of 5 (the
//! machines are shared) of:
//! - **predict:** the predictive alert of every stream (degradation, time to limit, alert)
//!   against the limit, with a 100-point horizon;
//! - **analyze:** the engine's individuals chart with Nelson's tests of every stream, the
//!   baseline the browser page times too.
//!
//! With a folder argument it also writes the streams there as `streams.bin` (little-endian
//! f64, stream after stream) for the same computation in headless Chromium through the wasm
//! API `forecast` (spc-wasm/tests/browser/forecast_bench.html). It prints a digest of every
//! prediction (its debug text, every float to its last bit): a change for speed must keep it,
//! or re-run the backtest (`examples/forecast_backtest.rs`).
//!
//! `cargo run --release -p llmscope-spc --example forecast_speed -- [FOLDER]`

use llmscope_spc::forecast::generate::{speed_streams, LIMIT};
use llmscope_spc::forecast::{predict, Settings};
use llmscope_spc::{analyze, ChartSpec, ChartType, Data};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::time::Instant;

const STREAMS: usize = 1_000;
const POINTS: usize = 10_000;
const RUNS: usize = 5;

/// Best wall time in ms of `RUNS` runs of `f`, and its last result.
fn best_ms<T>(mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..RUNS {
        let start = Instant::now();
        let out = f();
        best = best.min(start.elapsed().as_secs_f64() * 1e3);
        last = Some(out);
    }
    (best, last.expect("RUNS > 0"))
}

fn main() -> std::io::Result<()> {
    let data = speed_streams(STREAMS, POINTS);
    if let Some(folder) = std::env::args().nth(1) {
        let bytes: Vec<u8> = data
            .iter()
            .flatten()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        std::fs::write(std::path::Path::new(&folder).join("streams.bin"), bytes)?;
    }
    let settings = Settings {
        horizon: 100,
        upper: Some(LIMIT),
        ..Settings::default()
    };
    let (ms, predictions) = best_ms(|| {
        data.iter()
            .map(|v| predict(v, &settings))
            .collect::<Vec<_>>()
    });
    let alerts = predictions
        .iter()
        .filter(|p| p.as_ref().is_ok_and(|p| p.alert))
        .count();
    let mut digest = DefaultHasher::new();
    format!("{predictions:?}").hash(&mut digest);
    println!(
        "native predict: {ms:.1} ms ({alerts} alerts of {STREAMS}, digest {:016x}, best of {RUNS})",
        digest.finish()
    );
    let spec = ChartSpec::new(ChartType::Individuals);
    let (ms, _) = best_ms(|| {
        data.iter()
            .map(|v| analyze(&spec, &Data::Values(v.clone())).is_ok())
            .filter(|&ok| ok)
            .count()
    });
    println!("native analyze: {ms:.1} ms (best of {RUNS})");
    Ok(())
}
