//! What predictive alerts add to a cron run, natively: per target, the forecast of TTFT and
//! total latency ([`llmscope_probes::forecast::evaluate`]) over the 2000-result history the
//! cron reads, against the chart alerts of the same metrics ([`alert::evaluate`]) on the same
//! history in the same run (the baseline). `cargo run --release -p llmscope-probes --example
//! forecast_cost`. Numbers go in docs/benchmarks.md.

use llmscope_probes::alert::{self, Metric};
use llmscope_probes::forecast::{self, Limit};
use llmscope_protocol::probe::ProbeResult;
use std::time::Instant;

/// Results per target the cron reads (`HISTORY` in the runtime).
const HISTORY: usize = 2000;
const ROUNDS: usize = 20;

/// A history flat for three quarters, then drifting up, with deterministic noise.
fn history() -> Vec<ProbeResult> {
    (0..HISTORY)
        .map(|i| {
            let x = (i as u64 + 1).wrapping_mul(6364136223846793005);
            let noise = ((x >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 40.0;
            let drift = i.saturating_sub(HISTORY * 3 / 4) as f64 * 2.0;
            let ttft = 300.0 + drift + noise;
            serde_json::from_value(serde_json::json!({
                "target": "t", "provider": "openai", "model": "m", "t": i as i64 * 300_000,
                "ok": true, "status": 200, "ttft_ms": ttft, "total_ms": ttft + 500.0,
                "input_tokens": null, "output_tokens": null, "cached_input_tokens": null,
                "tokens_per_s": null, "cost_usd": null, "error": null, "quality_pass": null,
            }))
            .expect("a result of the contract")
        })
        .collect()
}

/// The median of `f`'s wall time over [`ROUNDS`] runs, ms.
fn median_ms(mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[ROUNDS / 2]
}

fn main() {
    let h = history();
    let metrics = [Metric::TtftMs, Metric::TotalMs];
    let chart = median_ms(|| {
        for m in metrics {
            let mut state = alert::State::default();
            let _ = alert::evaluate("t", m, &h, &alert::Settings::default(), &mut state);
        }
    });
    let limit = Limit {
        name: "SLO",
        value: 2000.0,
    };
    let predictive = median_ms(|| {
        for m in metrics {
            let mut state = forecast::State::default();
            let _ = forecast::evaluate(
                "t",
                m,
                &h,
                limit,
                &forecast::Settings::default(),
                &mut state,
            );
        }
    });
    println!(
        "per target, {HISTORY} results, TTFT and total latency (median of {ROUNDS}):\n\
         chart alerts (baseline) {chart:.2} ms, forecasts {predictive:.2} ms ({:.2}x)",
        predictive / chart
    );
}
