//! Engine benchmarks: streaming individuals with all eight tests, and batch analysis.
//! Run with `cargo xtask bench`; the numbers go in docs/benchmarks.md.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use llmscope_spc::{
    analyze, Baseline, ChartSpec, ChartType, Data, Monitor, Observation, Point, Signal, Sink, Which,
};
use std::hint::black_box;

/// Deterministic, roughly normal data (sum of uniforms) without a dependency.
fn series(n: usize) -> Vec<f64> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n)
        .map(|_| 10.0 + (0..4).map(|_| next()).sum::<f64>() - 2.0)
        .collect()
}

/// Counts signals, as a live consumer would look at them.
#[derive(Default)]
struct Count {
    signals: usize,
}

impl Sink for Count {
    fn point(&mut self, _: Which, p: Point) {
        black_box(p);
    }
    fn signal(&mut self, _: Which, _: Signal) {
        self.signals += 1;
    }
}

fn streaming(c: &mut Criterion) {
    let data = series(1_000_000);
    let mut group = c.benchmark_group("streaming");
    group.throughput(Throughput::Elements(data.len() as u64));
    group.sample_size(10);
    group.bench_function("individuals_all_8_tests", |b| {
        b.iter(|| {
            let spec = ChartSpec {
                baseline: Baseline::FirstN { n: 100 },
                ..ChartSpec::new(ChartType::Individuals)
            };
            let mut monitor = Monitor::streaming(spec).expect("valid spec");
            let mut sink = Count::default();
            for &x in &data {
                let _ = monitor.push(Observation::Value(x), &mut sink);
            }
            sink.signals
        })
    });
    group.finish();
}

fn batch(c: &mut Criterion) {
    let mut group = c.benchmark_group("batch");
    group.sample_size(10);
    for n in [1_000_000usize, 10_000_000] {
        let data = Data::Values(series(n));
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(
            BenchmarkId::new("individuals_all_8_tests", n),
            &data,
            |b, data| {
                b.iter(|| {
                    analyze(&ChartSpec::new(ChartType::Individuals), data)
                        .map(|c| c.primary.signals.len())
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, streaming, batch);
criterion_main!(benches);
