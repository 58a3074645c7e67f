//! The native side of the browser comparison benchmark (`cargo xtask bench`): 20 targets ×
//! 100,000 log-normal latencies (the criterion bench's data), compared with all 190 pairs and
//! with the 19 against the first, best of 5 each. With a folder argument it also writes the
//! streams there as `streams.bin` (little-endian f64, stream after stream) for the same
//! computation in headless Chromium (tests/e2e/examples/compare_bench.rs).
//!
//! `cargo run --release -p llmscope-spc --example compare_speed -- [FOLDER]`

use llmscope_spc::compare::{compare, CompareOptions, StreamInput};
use std::time::Instant;

const TARGETS: usize = 20;
const VALUES: usize = 100_000;
const RUNS: usize = 5;

/// Deterministic log-normal latencies (median `median`, log-SD about 0.6), as in
/// benches/compare.rs.
fn latencies(n: usize, median: f64, seed: u64) -> Vec<f64> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ seed.wrapping_mul(0xD6E8_FEB8_6659_FD93);
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n)
        .map(|_| median * (0.6 * ((0..4).map(|_| next()).sum::<f64>() - 2.0)).exp())
        .collect()
}

/// Best wall time in ms of `RUNS` comparisons.
fn best_ms(streams: &[StreamInput<'_>], options: &CompareOptions) -> f64 {
    (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let result = compare(streams, options).expect("a valid comparison");
            std::hint::black_box(result.pairs.len());
            start.elapsed().as_secs_f64() * 1e3
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() -> std::io::Result<()> {
    let data: Vec<Vec<f64>> = (0..TARGETS)
        .map(|i| latencies(VALUES, 300.0 + 5.0 * i as f64, i as u64))
        .collect();
    if let Some(folder) = std::env::args().nth(1) {
        let bytes: Vec<u8> = data
            .iter()
            .flatten()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        std::fs::write(std::path::Path::new(&folder).join("streams.bin"), bytes)?;
    }
    let names: Vec<String> = (0..TARGETS).map(|i| format!("target-{i}")).collect();
    let streams: Vec<StreamInput> = names
        .iter()
        .zip(&data)
        .map(|(name, values)| StreamInput {
            name,
            values,
            requests: values.len() as u64,
            errors: 0,
            quality: None,
        })
        .collect();
    let all = best_ms(&streams, &CompareOptions::default());
    let reference = CompareOptions {
        reference: Some(0),
        ..CompareOptions::default()
    };
    let against_first = best_ms(&streams, &reference);
    println!("native 190 pairs: {all:.1} ms");
    println!("native 19 pairs: {against_first:.1} ms");
    Ok(())
}
