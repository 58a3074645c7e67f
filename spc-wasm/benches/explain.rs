//! Explain benchmarks (issue 13): MASS's distance profile of a 100-point query over 1,000,000
//! points, against two baselines in the same run: the direct O(n·m) sliding dot product (what
//! MASS replaces) and one pass computing the windows' means (the floor of any method). Also the
//! two-sample Kolmogorov–Smirnov test of a 50-point window against its 200-point baseline, as
//! "what else changed" runs it once per stream and episode; and issue 13's goal, the full
//! context (shape, what else changed among 199 streams, causes, similar windows in the stream
//! itself) of 200 episodes over 200 streams × 10,000 points, against reading every point once.
//! Run with `cargo bench -p llmscope-spc --bench explain`; the numbers go in
//! docs/benchmarks.md, "Explain (issue 13)".

use criterion::{criterion_group, criterion_main, Criterion};
use llmscope_spc::explain::cause::Domain;
use llmscope_spc::explain::episode::Episode;
use llmscope_spc::explain::ks::ks_test;
use llmscope_spc::explain::mass::distance_profile;
use llmscope_spc::explain::report::{episode, Baseline, Stream};
use llmscope_spc::NelsonRule;
use llmscope_spc::Rng;
use std::hint::black_box;

fn series(n: usize) -> Vec<f64> {
    let mut rng = Rng::new(13);
    let mut level = 0.0;
    (0..n)
        .map(|i| {
            level += 0.01 * rng.normal();
            level + rng.normal() + (i as f64 / 50.0).sin()
        })
        .collect()
}

fn mass(c: &mut Criterion) {
    let t = series(1_000_000);
    let q = t[400_000..400_100].to_vec();
    let mut group = c.benchmark_group("explain");
    group.sample_size(10);
    group.bench_function("mass 1M points, query 100", |b| {
        b.iter(|| distance_profile(black_box(&q), black_box(&t)))
    });
    group.bench_function("baseline: direct sliding dot, query 100", |b| {
        b.iter(|| {
            let out: Vec<f64> = t
                .windows(q.len())
                .map(|w| w.iter().zip(&q).map(|(a, b)| a * b).sum())
                .collect();
            black_box(out)
        })
    });
    group.bench_function("baseline: window means, query 100", |b| {
        b.iter(|| {
            let mut s: f64 = t[..100].iter().sum();
            let mut out = Vec::with_capacity(t.len());
            for i in 100..t.len() {
                s += t[i] - t[i - 100];
                out.push(s / 100.0);
            }
            black_box(out)
        })
    });
    let (window, baseline) = (&t[1000..1050], &t[800..1000]);
    group.bench_function("ks 50 vs 200", |b| {
        b.iter(|| ks_test(black_box(window), black_box(baseline)))
    });
    group.finish();
}

fn context(c: &mut Criterion) {
    let data: Vec<Vec<f64>> = (0..200).map(|i| series(10_000 + i)[i..].to_vec()).collect();
    let names: Vec<String> = (0..200).map(|i| format!("stream-{i}")).collect();
    let streams: Vec<Stream> = names
        .iter()
        .zip(&data)
        .map(|(name, values)| Stream { name, values })
        .collect();
    // One episode of 20 points per stream, at staggered places.
    let episodes: Vec<(usize, Episode)> = (0..200)
        .map(|i| {
            let first = 1_000 + 43 * i;
            let e = Episode {
                first,
                last: first + 19,
                tests: vec![NelsonRule::SameSide],
                rules: Vec::new(),
            };
            (i, e)
        })
        .collect();
    let chart = Baseline {
        center: 0.0,
        sigma: 1.0,
    };
    let mut group = c.benchmark_group("explain");
    group.sample_size(10);
    group.bench_function("context of 200 episodes, 200 streams x 10k", |b| {
        b.iter(|| {
            let reports: Vec<_> = episodes
                .iter()
                .map(|(s, e)| episode(&streams, *s, &[], e, 10_000, chart, Domain::Plant))
                .collect();
            black_box(reports)
        })
    });
    group.bench_function("baseline: read 200 x 10k points once", |b| {
        b.iter(|| black_box(data.iter().map(|v| v.iter().sum::<f64>()).sum::<f64>()))
    });
    group.finish();
}

criterion_group!(benches, mass, context);
criterion_main!(benches);
