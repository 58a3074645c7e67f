//! Forecast benchmarks (issue 14): the predictive alert ([`predict`]: changepoints, the slope
//! test, the time to limit by 2,000 drawn lines) and the full [`outlook`] (with a 100-point
//! band) for 1,000 streams × 10,000 points, against two baselines in the same run: reading
//! every point once (a sum), and the engine's individuals chart with Nelson's tests
//! ([`analyze`]) of every stream. A quarter of the streams drift towards the limit. Run with
//! `cargo bench -p llmscope-spc --bench forecast`; the numbers go in docs/benchmarks.md,
//! "Forecasts (issue 14)".

use criterion::{criterion_group, criterion_main, Criterion};
use llmscope_spc::forecast::generate::{speed_streams, LIMIT};
use llmscope_spc::forecast::{outlook, predict, Settings};
use llmscope_spc::{analyze, ChartSpec, ChartType, Data};
use std::hint::black_box;

const STREAMS: usize = 1_000;
const POINTS: usize = 10_000;

fn forecasts(c: &mut Criterion) {
    let data = speed_streams(STREAMS, POINTS);
    let settings = Settings {
        horizon: 100,
        upper: Some(LIMIT),
        ..Settings::default()
    };
    let mut group = c.benchmark_group("forecast");
    group.sample_size(10);
    group.bench_function("predict 1,000 streams x 10,000 points", |b| {
        b.iter(|| {
            let alerts = data
                .iter()
                .filter(|v| predict(black_box(v), &settings).is_ok_and(|p| p.alert))
                .count();
            black_box(alerts)
        })
    });
    group.bench_function("outlook (100-point band) 1,000 x 10,000", |b| {
        b.iter(|| {
            for v in &data {
                let _ = black_box(outlook(black_box(v), &settings));
            }
        })
    });
    group.bench_function("baseline: read every point, 1,000 x 10,000", |b| {
        b.iter(|| {
            let s: f64 = data.iter().map(|v| black_box(v).iter().sum::<f64>()).sum();
            black_box(s)
        })
    });
    let spec = ChartSpec::new(ChartType::Individuals);
    group.bench_function(
        "baseline: analyze (individuals, Nelson) 1,000 x 10,000",
        |b| {
            b.iter(|| {
                for v in &data {
                    let _ = black_box(analyze(&spec, &Data::Values(black_box(v).clone())));
                }
            })
        },
    );
    group.finish();
}

criterion_group!(benches, forecasts);
criterion_main!(benches);
