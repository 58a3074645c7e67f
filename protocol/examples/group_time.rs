//! How long `compare::group` takes over 20 targets × 100,000 results (the issue's comparison
//! size), against a plain scan of the same results in the same run (docs/benchmarks.md,
//! "Grouping with cost sums"). `cargo run --release -p llmscope-protocol --example group_time`.

use llmscope_protocol::compare::group;
use llmscope_protocol::probe::ProbeResult;
use std::time::Instant;

fn main() {
    let base: ProbeResult = serde_json::from_str(
        r#"{"target": "t", "provider": "openai", "model": "gpt-4o-mini-2024-07-18", "t": 0,
            "ok": true, "status": 200, "ttft_ms": 100.0, "total_ms": 900.0, "input_tokens": 1200,
            "output_tokens": 60, "cached_input_tokens": 0, "tokens_per_s": 70.0,
            "cost_usd": 0.0002, "error": null, "extra": {"ttfb_ms": 12.0}}"#,
    )
    .expect("a valid result");
    let results: Vec<ProbeResult> = (0..2_000_000i64)
        .map(|i| ProbeResult {
            target: format!("target-{}", i % 20),
            t: i,
            // A third without cost_usd: priced from the table by the report.
            cost_usd: base.cost_usd.filter(|_| i % 3 != 0),
            ..base.clone()
        })
        .collect();
    let (mut scan_best, mut group_best) = (f64::MAX, f64::MAX);
    for _ in 0..12 {
        let t0 = Instant::now();
        let tokens: u64 = results.iter().map(|r| r.input_tokens.unwrap_or(0)).sum();
        scan_best = scan_best.min(t0.elapsed().as_secs_f64());
        let t0 = Instant::now();
        let targets = group(&results);
        group_best = group_best.min(t0.elapsed().as_secs_f64());
        assert!(tokens > 0 && targets.len() == 20);
    }
    println!(
        "best of 12: scan {:.0} ms, group {:.0} ms ({:.1}× the scan)",
        scan_best * 1e3,
        group_best * 1e3,
        group_best / scan_best
    );
}
