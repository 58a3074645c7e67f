//! The shape of a signal episode, from a transparent table of features and thresholds (below),
//! in the words of the field: Nelson (1984) and the Western Electric handbook (1956) name the
//! patterns each test looks for — test 1 a point beyond the limits, test 2 a shift, test 3 a
//! trend, test 4 a systematic alternation (over-adjustment), test 7 stratification and test 8
//! a mixture; Montgomery (§5.3.5, "Discussion of sensitizing rules") adds cycles and stuck
//! (instrument) readings.
//!
//! Features of the window's points x_i (the episode, extended to [`MIN_WINDOW`] points by those
//! after it), in sigma units z_i = (x_i − center) / sigma:
//!
//! | feature | definition |
//! |---|---|
//! | `repeated` | share of consecutive points exactly equal |
//! | `sd_ratio` | sd(x) / sigma (its square is the variance ratio) |
//! | `mean_z` | mean of z |
//! | `slope` | OLS slope of x on the index, with its 95 % CI; `trend` = slope·(n − 1) / sigma |
//! | `line_vs_step` | SSE of the OLS line / SSE of the best single step (two means) |
//! | `lag1` | lag-1 autocorrelation of x |
//! | `cycle` | the largest autocorrelation at lags 3..n/3 of the detrended x, and its lag |
//! | `trough` | the lowest autocorrelation at lags 1 to the cycle's lag |
//! | `inner`, `above`, `below` | shares of points within 1 sigma, above it, below it |
//! | `extreme`, `rest_z` | points with abs(z) ≥ 3 (when within 3 points of each other), the mean abs(z) of the rest |
//!
//! The rules, first match wins:
//!
//! | shape | rule |
//! |---|---|
//! | stuck | n ≥ 5 and (`repeated` ≥ 0.5 or `sd_ratio` < 0.1) |
//! | oscillation | `lag1` ≤ −0.5, or test 4 fired and `lag1` ≤ −0.3 |
//! | spike | 1 to 3 `extreme` points, and `rest_z` < 1.2 (the rest in control; E abs(z) = 0.8) |
//! | cyclic | `cycle` ≥ 0.5 at a lag ≥ 3 with n ≥ 2.5 lags, and `trough` ≤ −0.3 |
//! | mixture | `inner` ≤ 0.1 with `above` and `below` both ≥ 0.25 (test 8's pattern on both sides) |
//! | drift | the slope's CI excludes 0, abs(`trend`) ≥ 1, and `line_vs_step` ≤ 1.25 (a step fits no better) |
//! | variance | `sd_ratio` ≥ 1.6 and abs(`mean_z`) < 1 |
//! | step | otherwise (a sustained shift of the level, `mean_z` its size) |
//!
//! Test 8 alone is no mixture: a shift of 2 sigma puts eight in a row beyond 1 sigma too.

use crate::NelsonRule;

/// The shapes an episode can take (issue 13's contract names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Shape {
    /// One to three points far out, then back.
    Spike,
    /// The level moved and stayed.
    Step,
    /// The level keeps moving: a trend.
    Drift,
    /// The spread grew, the level did not move.
    Variance,
    /// Up, down, up, down: over-adjustment.
    Oscillation,
    /// A flat or repeated value: a sensor or a feed that stopped.
    Stuck,
    /// A periodic pattern.
    Cyclic,
    /// Points on both sides, few near the center: two sources.
    Mixture,
}

impl Shape {
    /// Every shape, in the contract's order.
    pub const ALL: [Shape; 8] = [
        Shape::Spike,
        Shape::Step,
        Shape::Drift,
        Shape::Variance,
        Shape::Oscillation,
        Shape::Stuck,
        Shape::Cyclic,
        Shape::Mixture,
    ];

    /// The contract's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Shape::Spike => "spike",
            Shape::Step => "step",
            Shape::Drift => "drift",
            Shape::Variance => "variance",
            Shape::Oscillation => "oscillation",
            Shape::Stuck => "stuck",
            Shape::Cyclic => "cyclic",
            Shape::Mixture => "mixture",
        }
    }
}

/// The features the rules read (see the module's table).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Evidence {
    /// Points the features are read over.
    pub n: usize,
    /// Points in the episode itself.
    pub episode: usize,
    /// Points with abs(z) ≥ 3, all within 3 points of each other; 0 when none or spread out.
    pub extreme: usize,
    /// Mean abs(z) of the other points.
    pub rest_z: f64,
    /// Share of consecutive points exactly equal.
    pub repeated: f64,
    /// sd / sigma.
    pub sd_ratio: f64,
    /// Variance ratio, `sd_ratio`².
    pub variance_ratio: f64,
    /// Mean distance from the center, in sigmas: the step's size.
    pub mean_z: f64,
    /// Largest distance from the center, in sigmas.
    pub max_abs_z: f64,
    /// OLS slope per point, in the data's unit, with its 95 % CI; `None` below 3 points.
    pub slope: Option<(f64, f64, f64)>,
    /// Slope × (n − 1) / sigma: how far the trend moves over the episode, in sigmas.
    pub trend: f64,
    /// Residual sum of squares of the straight line over that of the best single step (two
    /// means, split anywhere): above 1 the points moved at once, not steadily.
    pub line_vs_step: f64,
    /// Lag-1 autocorrelation.
    pub lag1: f64,
    /// The largest autocorrelation at lags 3..n/3 of the detrended points, and its lag.
    pub cycle: Option<(f64, usize)>,
    /// The lowest autocorrelation at lags 1 to the cycle's lag: a cycle's trough, negative.
    pub trough: f64,
    /// Share of points within 1 sigma of the center.
    pub inner: f64,
    /// Share of points more than 1 sigma above the center.
    pub above: f64,
    /// Share of points more than 1 sigma below the center.
    pub below: f64,
    /// The tests that fired.
    pub tests: Vec<NelsonRule>,
}

/// Points the features are read over at least: the episode and the points after it, so that
/// an episode cut short by a clean run (each peak of a cycle) still shows its pattern.
pub const MIN_WINDOW: usize = 40;

/// The shape of the episode `first..=last` of `values`, on a chart with `center` and `sigma`
/// (sigma > 0), where `tests` fired, with the evidence. The features are read over the episode
/// and, when it is shorter than [`MIN_WINDOW`], the points after it that exist: pass `values`
/// cut at the next episode's first point so that the window does not reach into it.
pub fn classify(
    values: &[f64],
    first: usize,
    last: usize,
    center: f64,
    sigma: f64,
    tests: &[NelsonRule],
) -> (Shape, Evidence) {
    let last = last.min(values.len().saturating_sub(1));
    let first = first.min(last);
    let end = last.max(first + MIN_WINDOW - 1).min(values.len() - 1);
    let e = evidence(&values[first..=end], last + 1 - first, center, sigma, tests);
    (rule(&e), e)
}

/// The module's rule table.
fn rule(e: &Evidence) -> Shape {
    let fired = |t| e.tests.contains(&t);
    if e.n >= 5 && (e.repeated >= 0.5 || e.sd_ratio < 0.1) {
        Shape::Stuck
    } else if e.lag1 <= -0.5 || fired(NelsonRule::Alternating) && e.lag1 <= -0.3 {
        Shape::Oscillation
    } else if (1..=3).contains(&e.extreme) && e.rest_z < 1.2 {
        Shape::Spike
    } else if e
        .cycle
        .is_some_and(|(r, lag)| r >= 0.5 && e.n as f64 >= 2.5 * lag as f64)
        && e.trough <= -0.3
    {
        Shape::Cyclic
    } else if e.inner <= 0.1 && e.above.min(e.below) >= 0.25 {
        Shape::Mixture
    } else if e.slope.is_some_and(|(_, lo, hi)| lo > 0.0 || hi < 0.0)
        && e.trend.abs() >= 1.0
        && e.line_vs_step <= 1.25
    {
        Shape::Drift
    } else if e.sd_ratio >= 1.6 && e.mean_z.abs() < 1.0 {
        Shape::Variance
    } else {
        Shape::Step
    }
}

fn evidence(
    values: &[f64],
    episode: usize,
    center: f64,
    sigma: f64,
    tests: &[NelsonRule],
) -> Evidence {
    let n = values.len();
    let z: Vec<f64> = values.iter().map(|v| (v - center) / sigma).collect();
    let (extreme, rest_z) = extremes(&z);
    let mean = values.iter().sum::<f64>() / n.max(1) as f64;
    let sd = sample_sd(values, mean);
    let slope = ols_slope(values);
    let detrended: Vec<f64> = match slope {
        Some((b, _, _)) => {
            let mid = (n as f64 - 1.0) / 2.0;
            values
                .iter()
                .enumerate()
                .map(|(i, v)| v - b * (i as f64 - mid))
                .collect()
        }
        None => values.to_vec(),
    };
    let same = values.windows(2).filter(|w| w[0] == w[1]).count();
    let cycle = (3..=n / 3)
        .map(|lag| (autocorrelation(&detrended, lag), lag))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    Evidence {
        n,
        episode,
        extreme,
        rest_z,
        repeated: same as f64 / n.saturating_sub(1).max(1) as f64,
        sd_ratio: sd / sigma,
        variance_ratio: (sd / sigma).powi(2),
        mean_z: z.iter().sum::<f64>() / n.max(1) as f64,
        max_abs_z: z.iter().fold(0.0, |m, v| m.max(v.abs())),
        slope,
        trend: slope.map_or(0.0, |(b, _, _)| b * (n as f64 - 1.0) / sigma),
        line_vs_step: line_vs_step(values, slope),
        lag1: autocorrelation(values, 1),
        cycle,
        trough: cycle.map_or(0.0, |(_, lag)| {
            (1..lag)
                .map(|k| autocorrelation(&detrended, k))
                .fold(0.0, f64::min)
        }),
        inner: share(&z, |v| v.abs() < 1.0),
        above: share(&z, |v| v > 1.0),
        below: share(&z, |v| v < -1.0),
        tests: tests.to_vec(),
    }
}

/// The points with abs(z) ≥ 3 when they sit within 3 points of each other (else 0), and the
/// mean abs(z) of the others.
fn extremes(z: &[f64]) -> (usize, f64) {
    let far: Vec<usize> = (0..z.len()).filter(|&i| z[i].abs() >= 3.0).collect();
    let together = match (far.first(), far.last()) {
        (Some(a), Some(b)) if b - a < 3 => far.len(),
        _ => 0,
    };
    let rest: Vec<f64> = (0..z.len())
        .filter(|i| !far.contains(i))
        .map(|i| z[i].abs())
        .collect();
    (
        together,
        rest.iter().sum::<f64>() / rest.len().max(1) as f64,
    )
}

/// SSE of the OLS line over the SSE of the best split into two means (prefix sums, O(n)).
fn line_vs_step(v: &[f64], slope: Option<(f64, f64, f64)>) -> f64 {
    let (n, Some((b, _, _))) = (v.len(), slope) else {
        return 1.0;
    };
    let mean = v.iter().sum::<f64>() / n as f64;
    let mid = (n as f64 - 1.0) / 2.0;
    let line: f64 = v
        .iter()
        .enumerate()
        .map(|(i, y)| (y - mean - b * (i as f64 - mid)).powi(2))
        .sum();
    let (total, total_sq) = v.iter().fold((0.0, 0.0), |(s, q), y| (s + y, q + y * y));
    let (mut left, mut left_sq) = (0.0, 0.0);
    let mut step = f64::INFINITY;
    // Splits with at least 2 points on each side: the left part is v[..=k], k in 1..n − 2.
    for (k, y) in v.iter().enumerate().take(n - 2) {
        left += y;
        left_sq += y * y;
        if k == 0 {
            continue;
        }
        let (nl, nr) = ((k + 1) as f64, (n - k - 1) as f64);
        let (right, right_sq) = (total - left, total_sq - left_sq);
        let sse = (left_sq - left * left / nl) + (right_sq - right * right / nr);
        step = step.min(sse);
    }
    if step <= 0.0 || !step.is_finite() {
        return 1.0;
    }
    line / step
}

fn share(z: &[f64], keep: impl Fn(f64) -> bool) -> f64 {
    z.iter().filter(|&&v| keep(v)).count() as f64 / z.len().max(1) as f64
}

fn sample_sd(v: &[f64], mean: f64) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}

/// The sample autocorrelation at `lag` (Box & Jenkins' estimator: the lagged sum of products
/// over the whole series' sum of squares); 0 for a flat or too short series.
fn autocorrelation(v: &[f64], lag: usize) -> f64 {
    if v.len() <= lag + 1 {
        return 0.0;
    }
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let ss: f64 = v.iter().map(|x| (x - mean).powi(2)).sum();
    if ss == 0.0 {
        return 0.0;
    }
    let lagged: f64 = v
        .iter()
        .zip(&v[lag..])
        .map(|(a, b)| (a - mean) * (b - mean))
        .sum();
    lagged / ss
}

/// OLS slope of v on 0..n with its 95 % CI (Student's t, [`t_975`]).
fn ols_slope(v: &[f64]) -> Option<(f64, f64, f64)> {
    let n = v.len();
    if n < 3 {
        return None;
    }
    let nf = n as f64;
    let mx = (nf - 1.0) / 2.0;
    let my = v.iter().sum::<f64>() / nf;
    let sxx: f64 = (0..n).map(|i| (i as f64 - mx).powi(2)).sum();
    let sxy: f64 = v
        .iter()
        .enumerate()
        .map(|(i, y)| (i as f64 - mx) * (y - my))
        .sum();
    let b = sxy / sxx;
    let sse: f64 = v
        .iter()
        .enumerate()
        .map(|(i, y)| (y - my - b * (i as f64 - mx)).powi(2))
        .sum();
    let se = (sse / (nf - 2.0) / sxx).sqrt();
    let t = t_975(n - 2);
    Some((b, b - t * se, b + t * se))
}

/// Student's t 97.5 % quantile: table to 30 degrees of freedom (Montgomery, Appendix
/// Table IV), 1.96 beyond.
fn t_975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::INFINITY,
        1..=30 => TABLE[df - 1],
        _ => 1.96,
    }
}
