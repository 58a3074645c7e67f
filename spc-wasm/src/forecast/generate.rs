//! A seeded generator of labelled run-to-failure curves (issue 14's proof), for tests, the
//! backtest (`examples/forecast_backtest.rs`) and `cargo xtask degradations`.
//!
//! Every stream is a N([`MEAN`], [`SIGMA`]) process sampled at 1 Hz, in control for a baseline
//! of 1 to 3 hours, then one of the [`Kind`]s until its noise-free level reaches [`LIMIT`]
//! (6 sigma above the mean); it ends at that crossing. The noise is independent or AR(1)
//! with φ up to 0.5 (its innovations scaled so the marginal sigma stays [`SIGMA`]). Sizes are
//! drawn per curve from fixed ranges set before any method was run on them:
//! - `Linear`: the level rises in a straight line over the degradation, 1 to 6 hours;
//! - `Exponential`: `μ + A (e^{r t} − 1)`, with `r D` from 2 to 4 (mostly late);
//! - `StepThenDrift`: a step of 1 to 2 sigma, then a straight line to the limit;
//! - `MaintenanceReset`: a first drift 40–70 % of the way, a reset to the mean (maintenance),
//!   0.5 to 1 hour in control, then the labelled drift to the limit;
//! - `InControl`: no degradation ([`in_control`]).

use crate::Rng;

/// The process mean.
pub const MEAN: f64 = 50.0;
/// The process sigma.
pub const SIGMA: f64 = 1.0;
/// The limit every degradation ends at (an upper spec limit at 6 sigma).
pub const LIMIT: f64 = MEAN + 6.0 * SIGMA;
/// Points per hour at 1 Hz.
pub const HOUR: usize = 3600;

/// The shape of a degradation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A straight line.
    Linear,
    /// Exponential growth.
    Exponential,
    /// A step, then a straight line.
    StepThenDrift,
    /// A partial drift, maintenance back to the mean, then a drift.
    MaintenanceReset,
    /// No degradation.
    InControl,
}

impl Kind {
    /// The four degradations.
    pub const DEGRADATIONS: [Kind; 4] = [
        Kind::Linear,
        Kind::Exponential,
        Kind::StepThenDrift,
        Kind::MaintenanceReset,
    ];

    /// Its name in files and labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Linear => "linear",
            Kind::Exponential => "exponential",
            Kind::StepThenDrift => "step_then_drift",
            Kind::MaintenanceReset => "maintenance_reset",
            Kind::InControl => "in_control",
        }
    }
}

/// One labelled stream.
#[derive(Clone, Debug)]
pub struct Curve {
    /// The values, one per second.
    pub values: Vec<f64>,
    /// Its shape.
    pub kind: Kind,
    /// The AR(1) coefficient of its noise.
    pub phi: f64,
    /// The end of the first in-control stretch (the stream's length when in control): before
    /// it, an alert is false.
    pub baseline: usize,
    /// Where the labelled degradation starts (`None`: in control).
    pub start: Option<usize>,
    /// The first point whose noise-free level is at or past [`LIMIT`] (`None`: in control).
    pub crossing: Option<usize>,
}

/// AR(1) noise of marginal sigma [`SIGMA`], `n` points.
fn noise(rng: &mut Rng, phi: f64, n: usize) -> Vec<f64> {
    let scale = SIGMA * (1.0 - phi * phi).sqrt();
    let mut e = SIGMA * rng.normal();
    (0..n)
        .map(|_| {
            let now = e;
            e = phi * e + scale * rng.normal();
            now
        })
        .collect()
}

fn between(rng: &mut Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.uniform()
}

fn hours(rng: &mut Rng, lo: f64, hi: f64) -> usize {
    (between(rng, lo, hi) * HOUR as f64) as usize
}

/// A stream in control for `n` points.
pub fn in_control(rng: &mut Rng, phi: f64, n: usize) -> Curve {
    Curve {
        values: noise(rng, phi, n).iter().map(|e| MEAN + e).collect(),
        kind: Kind::InControl,
        phi,
        baseline: n,
        start: None,
        crossing: None,
    }
}

/// The speed benchmarks' streams (criterion's `forecast` bench, `examples/forecast_speed.rs`
/// and the browser's): `streams` in-control AR(1) streams of `points` points, φ 0 and 0.3 in
/// turn, every fourth drifting over its last 4,000 points 80 % of the way to [`LIMIT`].
pub fn speed_streams(streams: usize, points: usize) -> Vec<Vec<f64>> {
    let mut rng = Rng::new(14);
    let drift = 4_000.min(points);
    (0..streams)
        .map(|i| {
            let mut v = in_control(&mut rng, if i % 2 == 0 { 0.0 } else { 0.3 }, points).values;
            if i % 4 == 0 {
                let rate = 0.8 * (LIMIT - MEAN) / drift as f64;
                for (j, x) in v[points - drift..].iter_mut().enumerate() {
                    *x += rate * j as f64;
                }
            }
            v
        })
        .collect()
}

/// A run to failure of `kind` (not `InControl`: use [`in_control`]) with AR(1) noise `phi`.
pub fn curve(rng: &mut Rng, kind: Kind, phi: f64) -> Curve {
    let rise = LIMIT - MEAN;
    let mut level: Vec<f64> = vec![MEAN; hours(rng, 1.0, 3.0)];
    let baseline = level.len();
    let duration = hours(rng, 1.0, 6.0);
    let d = duration as f64;
    if kind == Kind::MaintenanceReset {
        let part = between(rng, 0.4, 0.7) * rise;
        let first = hours(rng, 0.5, 1.0) + duration / 2;
        level.extend((0..first).map(|i| MEAN + part * i as f64 / first as f64));
        level.extend(std::iter::repeat_n(MEAN, hours(rng, 0.5, 1.0)));
    }
    let start = level.len();
    match kind {
        Kind::Exponential => {
            let r = between(rng, 2.0, 4.0) / d;
            let a = rise / (r * d).exp_m1();
            level.extend((0..duration).map(|i| MEAN + a * (r * i as f64).exp_m1()));
        }
        Kind::StepThenDrift => {
            let step = between(rng, 1.0, 2.0) * SIGMA;
            level.extend((0..duration).map(|i| MEAN + step + (rise - step) * i as f64 / d));
        }
        _ => level.extend((0..duration).map(|i| MEAN + rise * i as f64 / d)),
    }
    // The first point at the limit: the curve's last.
    level.push(LIMIT);
    let crossing = level.len() - 1;
    let values = level
        .iter()
        .zip(noise(rng, phi, level.len()))
        .map(|(l, e)| l + e)
        .collect();
    Curve {
        values,
        kind,
        phi,
        baseline,
        start: Some(start),
        crossing: Some(crossing),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_curve_starts_in_control_and_ends_at_the_limit() {
        let mut rng = Rng::new(1);
        for kind in Kind::DEGRADATIONS {
            let c = curve(&mut rng, kind, 0.3);
            let (start, crossing) = (c.start.unwrap(), c.crossing.unwrap());
            assert!(start >= HOUR && crossing == c.values.len() - 1, "{kind:?}");
            assert!(crossing - start >= HOUR, "{kind:?}");
            let head = c.values[..600].iter().sum::<f64>() / 600.0;
            let tail = c.values[crossing - 600..].iter().sum::<f64>() / 600.0;
            assert!(
                (head - MEAN).abs() < 0.5 && tail > MEAN + 4.0,
                "{kind:?} {head} {tail}"
            );
        }
    }

    #[test]
    fn ar1_noise_keeps_its_sigma_and_has_its_autocorrelation() {
        let mut rng = Rng::new(2);
        let c = in_control(&mut rng, 0.5, 200_000);
        let (m, sd) = crate::math::mean_sd(&c.values);
        let r1 = c
            .values
            .windows(2)
            .map(|w| (w[0] - m) * (w[1] - m))
            .sum::<f64>()
            / c.values.iter().map(|v| (v - m).powi(2)).sum::<f64>();
        assert!(
            (sd - SIGMA).abs() < 0.02 && (r1 - 0.5).abs() < 0.01,
            "{sd} {r1}"
        );
    }
}
