//! A seeded generator of labelled faults (issue 13's proof): a stream in control for a
//! baseline, then one of the eight shapes, for testing and benchmarking the explain engine
//! (`cargo xtask faults` writes them as CSV). Sizes are drawn per fault, so a classifier is
//! not tuned to one size; they are in sigma units of a N(50, 2) process.

use super::shape::Shape;
use crate::Rng;

/// The process: mean and sigma.
pub const MEAN: f64 = 50.0;
/// The process sigma.
pub const SIGMA: f64 = 2.0;

/// One labelled stream.
#[derive(Clone, Debug)]
pub struct Labelled {
    /// The values.
    pub values: Vec<f64>,
    /// The shape injected.
    pub shape: Shape,
    /// Where the fault starts (0-based); points before are in control.
    pub start: usize,
    /// Its last point: a spike's last, else the stream's.
    pub last: usize,
}

/// `baseline` in-control points, then `length` points of `shape`, then (a spike only) back to
/// in control for the rest.
pub fn fault(shape: Shape, rng: &mut Rng, baseline: usize, length: usize) -> Labelled {
    let mut values: Vec<f64> = (0..baseline + length)
        .map(|_| MEAN + SIGMA * rng.normal())
        .collect();
    let sign = if rng.uniform() < 0.5 { -1.0 } else { 1.0 };
    let mut last = baseline + length - 1;
    let between = |rng: &mut Rng, lo: f64, hi: f64| lo + (hi - lo) * rng.uniform();
    let fault = &mut values[baseline..];
    match shape {
        Shape::Spike => {
            let size = between(rng, 4.0, 7.0) * SIGMA * sign;
            let width = 1 + (rng.uniform() * 2.0) as usize;
            fault.iter_mut().take(width).for_each(|v| *v += size);
            last = baseline + width - 1;
        }
        Shape::Step => {
            let size = between(rng, 1.5, 3.0) * SIGMA * sign;
            fault.iter_mut().for_each(|v| *v += size);
        }
        Shape::Drift => {
            let per_point = between(rng, 3.0, 6.0) * SIGMA * sign / length as f64;
            for (i, v) in fault.iter_mut().enumerate() {
                *v += per_point * i as f64;
            }
        }
        Shape::Variance => {
            let factor = between(rng, 2.5, 3.5);
            fault
                .iter_mut()
                .for_each(|v| *v = MEAN + (*v - MEAN) * factor);
        }
        Shape::Oscillation => {
            let size = between(rng, 1.2, 2.0) * SIGMA;
            for (i, v) in fault.iter_mut().enumerate() {
                *v += if i % 2 == 0 { size } else { -size };
            }
        }
        Shape::Stuck => {
            let held = values[baseline - 1];
            values[baseline..].iter_mut().for_each(|v| *v = held);
        }
        Shape::Cyclic => {
            let amplitude = between(rng, 2.0, 3.0) * SIGMA;
            let period = between(rng, 8.0, 16.0);
            let phase = rng.uniform() * std::f64::consts::TAU;
            for (i, v) in fault.iter_mut().enumerate() {
                *v += amplitude * (std::f64::consts::TAU * i as f64 / period + phase).sin();
            }
        }
        Shape::Mixture => {
            let offset = between(rng, 2.0, 3.0) * SIGMA;
            for v in fault.iter_mut() {
                let side = if rng.uniform() < 0.5 { -1.0 } else { 1.0 };
                *v = MEAN + side * offset + 0.4 * (*v - MEAN);
            }
        }
    }
    Labelled {
        values,
        shape,
        start: baseline,
        last,
    }
}

/// Counts of injected shape (row) against the shape found (column), in [`Shape::ALL`]'s order,
/// over the first episode at or after each fault's start.
#[derive(Clone, Debug, Default)]
pub struct Confusion {
    /// `counts[injected][found]`.
    pub counts: [[usize; 8]; 8],
    /// Faults that raised no episode, per injected shape.
    pub missed: [usize; 8],
}

impl Confusion {
    /// Episodes classified.
    pub fn detected(&self) -> usize {
        self.counts.iter().flatten().sum()
    }

    /// Share of detected episodes whose first shape is the injected one.
    pub fn precision(&self) -> f64 {
        let right: usize = (0..8).map(|i| self.counts[i][i]).sum();
        right as f64 / self.detected().max(1) as f64
    }
}

/// The confusion matrix of `per_shape` faults of each shape (seeded): each charted on an
/// individuals chart with its 100 in-control points as the baseline and Nelson's eight tests,
/// its first episode classified.
pub fn confusion(per_shape: usize, seed: u64) -> Confusion {
    use super::episode::{episodes, CLEAN_RUN};
    use super::shape::classify;
    use crate::{analyze, Baseline, ChartSpec, ChartType, Data};
    let mut rng = Rng::new(seed);
    let mut m = Confusion::default();
    let spec = ChartSpec {
        baseline: Baseline::FirstN { n: 100 },
        ..ChartSpec::new(ChartType::Individuals)
    };
    for (row, &shape) in Shape::ALL.iter().enumerate() {
        for _ in 0..per_shape {
            let f = fault(shape, &mut rng, 100, 60);
            let Ok(chart) = analyze(&spec, &Data::Values(f.values.clone())) else {
                m.missed[row] += 1;
                continue;
            };
            let found = episodes(&chart.primary.signals, f.start, CLEAN_RUN);
            let Some(e) = found.first() else {
                m.missed[row] += 1;
                continue;
            };
            let est = &chart.estimate;
            let end = found.get(1).map_or(f.values.len(), |next| next.first);
            let (got, _) = classify(
                &f.values[..end],
                e.first,
                e.last,
                est.center,
                est.sigma,
                &e.tests,
            );
            let col = Shape::ALL.iter().position(|s| *s == got).unwrap_or(0);
            m.counts[row][col] += 1;
        }
    }
    m
}
