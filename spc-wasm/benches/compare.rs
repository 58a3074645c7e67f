//! Comparison benchmarks (issue 12): 20 targets × 100 000 results compared (summaries and all
//! 190 pairs, or the 19 against the first), one 100 000 × 100 000 pair (continuous, and rounded
//! to whole milliseconds: heavy ties), and the odd machine out of 100 × 10 000. Each has a
//! baseline in the same run: sorting the same streams (the floor any exact quantile or rank
//! method pays) and reading the machines' values once. The same comparison in the browser:
//! `cargo xtask bench` (spc-wasm/examples/compare_speed.rs, tests/e2e/examples/compare_bench.rs).
//! Run with `cargo bench -p llmscope-spc --bench compare`; the numbers go in
//! docs/benchmarks.md, "Comparison (issue 12)".

use criterion::{criterion_group, criterion_main, Criterion};
use llmscope_spc::compare::machines::{odd_machines, MachineInput};
use llmscope_spc::compare::{compare, shift_test, CompareOptions, StreamInput};
use std::hint::black_box;

/// Deterministic log-normal latencies (median `median`, log-SD about 0.6) without a dependency.
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

fn targets(count: usize, n: usize) -> (Vec<String>, Vec<Vec<f64>>) {
    let names = (0..count).map(|i| format!("target-{i}")).collect();
    let data = (0..count)
        .map(|i| latencies(n, 300.0 + 5.0 * i as f64, i as u64))
        .collect();
    (names, data)
}

fn comparison(c: &mut Criterion) {
    let (names, data) = targets(20, 100_000);
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
    let options = CompareOptions::default();
    let mut group = c.benchmark_group("compare");
    group.sample_size(10);
    group.bench_function("baseline_sort_20x100k", |b| {
        b.iter(|| {
            data.iter()
                .map(|v| {
                    let mut s = v.clone();
                    s.sort_unstable_by(f64::total_cmp);
                    s[s.len() / 2]
                })
                .sum::<f64>()
        })
    });
    group.bench_function("compare_20x100k_190_pairs", |b| {
        b.iter(|| compare(black_box(&streams), &options).map(|r| r.pairs.len()))
    });
    let against_first = CompareOptions {
        reference: Some(0),
        ..CompareOptions::default()
    };
    group.bench_function("compare_20x100k_19_pairs_against_first", |b| {
        b.iter(|| compare(black_box(&streams), &against_first).map(|r| r.pairs.len()))
    });
    let sorted: Vec<Vec<f64>> = data[..2]
        .iter()
        .map(|v| {
            let mut s = v.clone();
            s.sort_unstable_by(f64::total_cmp);
            s
        })
        .collect();
    group.bench_function("shift_test_100k_vs_100k", |b| {
        b.iter(|| shift_test(black_box(&sorted[0]), &sorted[1], 0.95).map(|t| t.shift))
    });
    // Whole milliseconds: about 27 million differences share each value near the median.
    let whole: Vec<Vec<f64>> = sorted
        .iter()
        .map(|s| s.iter().map(|x| x.round()).collect())
        .collect();
    group.bench_function("shift_test_100k_vs_100k_whole_ms", |b| {
        b.iter(|| shift_test(black_box(&whole[0]), &whole[1], 0.95).map(|t| t.shift))
    });
    group.finish();
}

fn machines(c: &mut Criterion) {
    let names: Vec<String> = (0..100).map(|i| format!("press-{i}")).collect();
    let data: Vec<Vec<f64>> = (0..100)
        .map(|i| latencies(10_000, if i == 42 { 400.0 } else { 300.0 }, 100 + i as u64))
        .collect();
    let inputs: Vec<MachineInput> = names
        .iter()
        .zip(&data)
        .map(|(name, values)| MachineInput { name, values })
        .collect();
    let mut group = c.benchmark_group("machines");
    group.sample_size(10);
    group.bench_function("baseline_read_100x10k", |b| {
        b.iter(|| data.iter().map(|v| v.iter().sum::<f64>()).sum::<f64>())
    });
    group.bench_function("odd_machines_100x10k", |b| {
        b.iter(|| odd_machines(black_box(&inputs), "ms").map(|r| r.odd.len()))
    });
    group.finish();
}

criterion_group!(benches, comparison, machines);
criterion_main!(benches);
