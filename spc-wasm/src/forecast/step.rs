//! A step back: after a degradation, a level shift the other way (maintenance, a tool change,
//! a recalibration). The forecast should then start again after it, and the limits be
//! estimated again on the points after it, once someone confirms it was such an event.
//!
//! **Where.** The changepoints of [`degradation()`](super::degradation()): PELT (Killick,
//! Fearnhead & Eckley 2012, JASA 107:1590–1598) with the linear-trend cost of [`pelt`] on at
//! most [`MAX_BLOCKS`] block means, each then moved to the point, within a block either way,
//! that minimizes the same cost of its two neighbouring segments (a block that straddles a
//! reset would otherwise bend both lines).
//!
//! **Whether, and how big.** At a changepoint `c` the lines fitted on either side
//! ([`Line::fit`], widened for AR(1)) are compared at the change, halfway between points
//! `c − 1` and `c`: the step is the right line's level there less the left's. Its standard
//! error is that of a difference of two independent mean responses,
//! `sqrt(se_L² + se_R²)`, each `s sqrt(1/n + (x − x̄)²/Sxx)` (Montgomery & Runger, *Applied
//! Statistics and Probability for Engineers*, 6th ed., §11-7); its interval uses Student's t
//! with the Welch–Satterthwaite degrees of freedom (Welch 1947, Biometrika 34:28–35), since the
//! two sides' variances differ. This is Chow's (1960, Econometrica 28:591–605) comparison of
//! two regressions at a known break, read on the level at the break. A step back is a step
//! whose [`LEVEL`] interval excludes 0 and points against the slope of the segment before it,
//! when that slope's own interval excludes 0 (the segment was degrading).
//!
//! On long streams the tests see tiny changes, so both must also matter: the degradation must
//! have moved the level, and the step must move it back, by at least [`MIN_SHIFT`] residual
//! standard deviations of the segment before, the shift a CUSUM is usually designed for
//! (δ = 1σ, k = δ/2; Montgomery, *Introduction to Statistical Quality Control*, 7th ed.,
//! §9.1.2).
//!
//! The newest such step is reported: what the dashboard asks the user to confirm.

use super::degradation::{LEVEL, MAX_BLOCKS, MIN_SEGMENT};
use super::linear::Line;
use super::student::t_quantile;
use crate::SpcError;

/// A detected step back.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepBack {
    /// The first point (0-based) after the step.
    pub at: usize,
    /// The step's size, in the data's unit (negative after a rise).
    pub size: f64,
    /// The [`LEVEL`] interval's lower end.
    pub lo: f64,
    /// The interval's upper end.
    pub hi: f64,
    /// The slope per point of the degradation before it.
    pub slope: f64,
}

/// The level difference of two lines at a change.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Jump {
    /// The right line's level less the left's, halfway between the change's two points.
    pub size: f64,
    /// Its standard error.
    pub se: f64,
    /// The Welch–Satterthwaite degrees of freedom.
    pub df: f64,
}

impl Jump {
    /// The two-sided `level` confidence interval of the size.
    pub fn interval(&self, level: f64) -> (f64, f64) {
        let half = t_quantile(0.5 + level / 2.0, self.df) * self.se;
        (self.size - half, self.size + half)
    }
}

/// The least shift that counts, in residual standard deviations (module docs).
pub const MIN_SHIFT: f64 = 1.0;

/// The fewest points a step back can be found in: two PELT segments.
pub const MIN_POINTS: usize = 2 * MIN_SEGMENT;

/// The newest step back in `values` (finite), if any. Fewer than [`MIN_POINTS`] values: not
/// enough data, an error that says so.
pub fn step_back(values: &[f64]) -> Result<Option<StepBack>, SpcError> {
    let n = values.len();
    if n < MIN_POINTS {
        return Err(SpcError::TooFewPoints {
            needed: MIN_POINTS,
            got: n,
            what: "finding a step back",
        });
    }
    let bounds = refined(values, &super::degradation::changes(values));
    let found = bounds.windows(3).rev().find_map(|w| {
        let (a, c, b) = (w[0], w[1], w[2]);
        let left = Line::fit(a as f64, &values[a..c])?;
        let (slo, shi) = left.slope_interval(LEVEL);
        let rising = match (slo > 0.0, shi < 0.0) {
            (true, _) => true,
            (_, true) => false,
            _ => return None, // not degrading before it
        };
        let (lo, hi) = jump(values, a, c, b, Line::fit)?.interval(LEVEL);
        let (size, least) = ((lo + hi) / 2.0, MIN_SHIFT * left.s);
        let worn = left.slope.abs() * (c - a - 1) as f64 >= least;
        let back = worn && size.abs() >= least && if rising { hi < 0.0 } else { lo > 0.0 };
        back.then_some(StepBack {
            at: c,
            size,
            lo,
            hi,
            slope: left.slope,
        })
    });
    Ok(found)
}

/// The jump at `c` between the lines that `fit` gives on `values[a..c]` and `values[c..b]`;
/// `None` when a side has fewer than 3 points.
pub fn jump(
    values: &[f64],
    a: usize,
    c: usize,
    b: usize,
    fit: fn(f64, &[f64]) -> Option<Line>,
) -> Option<Jump> {
    let left = fit(a as f64, values.get(a..c)?)?;
    let right = fit(c as f64, values.get(c..b)?)?;
    let x = c as f64 - 0.5;
    let (u, v) = (left.mean_se(x).powi(2), right.mean_se(x).powi(2));
    Some(Jump {
        size: right.at(x) - left.at(x),
        se: (u + v).sqrt(),
        df: (u + v).powi(2) / (u * u / left.df + v * v / right.df),
    })
}

/// `0`, the changepoints `cps` each moved to its best point within a block either way (the
/// segments' `m ln(RSS / m)` cost, as PELT's), and `n`.
fn refined(values: &[f64], cps: &[usize]) -> Vec<usize> {
    let n = values.len();
    let size = n.div_ceil(MAX_BLOCKS);
    let sums = Sums::new(values);
    let mut bounds = vec![0];
    bounds.extend(cps);
    bounds.push(n);
    for i in 1..bounds.len() - 1 {
        let (a, b) = (bounds[i - 1], bounds[i + 1]);
        // Each side keeps at least 3 points (a line and its spread).
        let near = bounds[i].saturating_sub(size).max(a + 3)..=(bounds[i] + size).min(b - 3);
        let cost = |k: usize| sums.cost(a, k) + sums.cost(k, b);
        if let Some(best) = near.min_by(|&k, &j| cost(k).total_cmp(&cost(j))) {
            bounds[i] = best;
        }
    }
    bounds
}

/// Prefix sums of `1, t, t², y, ty, y²` (y less the first value, for precision).
struct Sums(Vec<[f64; 5]>);

impl Sums {
    fn new(values: &[f64]) -> Sums {
        let origin = values.first().copied().unwrap_or(0.0);
        let mut acc = [0.0; 5];
        let mut all = vec![acc];
        for (i, v) in values.iter().enumerate() {
            let (t, y) = (i as f64, v - origin);
            for (a, d) in acc.iter_mut().zip([t, t * t, y, t * y, y * y]) {
                *a += d;
            }
            all.push(acc);
        }
        Sums(all)
    }

    /// `m ln(RSS / m)` of the least-squares line through points `a..b` (at least 3).
    fn cost(&self, a: usize, b: usize) -> f64 {
        let m = (b - a) as f64;
        let [t, tt, y, ty, yy] = std::array::from_fn(|j| self.0[b][j] - self.0[a][j]);
        let (stt, sty, syy) = (tt - t * t / m, ty - t * y / m, yy - y * y / m);
        let rss = (syy - sty * sty / stt).max(f64::MIN_POSITIVE);
        m * (rss / m).ln()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rng;

    /// A flat stretch, a rise of `rate` a point, a step back to the start, flat again.
    fn drift_and_back(seed: u64, rate: f64) -> Vec<f64> {
        let mut rng = Rng::new(seed);
        (0..600)
            .map(|i| {
                let level = match i {
                    0..200 => 0.0,
                    200..400 => rate * (i - 200) as f64,
                    _ => 0.0,
                };
                10.0 + level + 0.5 * rng.normal()
            })
            .collect()
    }

    #[test]
    fn a_reset_after_a_rise_is_found_where_and_as_big_as_it_is() {
        let v = drift_and_back(3, 0.02);
        let s = step_back(&v).expect("enough data").expect("a step back");
        // The level fell by about 0.02 × 200 = 4 at point 400 (to one block of 5 points).
        assert!(s.at.abs_diff(400) <= 5, "{s:?}");
        assert!(s.lo < -4.0 && -4.0 < s.hi, "{s:?}");
        assert!(s.hi < 0.0 && s.slope > 0.0);
    }

    #[test]
    fn a_reset_after_a_fall_is_a_step_up() {
        let v = drift_and_back(4, -0.02);
        let s = step_back(&v).expect("enough data").expect("a step back");
        assert!(
            s.at.abs_diff(400) <= 5 && s.lo > 0.0 && s.slope < 0.0,
            "{s:?}"
        );
    }

    #[test]
    fn a_step_the_same_way_as_the_drift_or_a_flat_stream_is_no_step_back() {
        let mut rng = Rng::new(5);
        let worse: Vec<f64> = (0..600)
            .map(|i| {
                let level = if i < 300 {
                    0.01 * i as f64
                } else {
                    6.0 + 0.01 * i as f64
                };
                level + 0.5 * rng.normal()
            })
            .collect();
        assert_eq!(step_back(&worse).expect("enough data"), None);
        let flat: Vec<f64> = (0..600).map(|_| 3.0 + rng.normal()).collect();
        assert_eq!(step_back(&flat).expect("enough data"), None);
    }

    #[test]
    fn too_few_points_are_not_enough_data() {
        let e = step_back(&[1.0; 11]).expect_err("11 points");
        assert!(
            e.to_string().contains("needs at least 12 points, got 11"),
            "{e}"
        );
    }
}
