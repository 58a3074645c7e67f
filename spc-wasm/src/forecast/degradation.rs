//! Is the stream degrading, since when, and how fast: the slope of the line through the
//! points since the last changepoint, with its 95% interval.
//!
//! The changepoints are [`pelt`](super::pelt)'s, found on at most [`MAX_BLOCKS`] block means
//! (blocks aligned on the last point, the oldest remainder dropped): PELT's worst case is
//! quadratic when nothing changes, so this bounds the search at O(n) + O(128²), and block means
//! of an AR(1) stream are nearly independent, which the cost assumes. The start is then exact
//! to one block (n / 128 points). The window from the last changepoint to the end (at least
//! [`MIN_WINDOW`] points) is fitted by [`Line::fit`], whose interval allows for AR(1)
//! autocorrelation; the stream is degrading when that interval excludes 0. This is separate
//! from Nelson's test 3 (six points in a row rising), which sees only runs, not rates.

use super::linear::Line;
use super::pelt::{changepoints, penalty};

/// At most this many block means go to PELT.
pub const MAX_BLOCKS: usize = 128;
/// The shortest segment PELT may make, in blocks (or points, for short streams).
pub const MIN_SEGMENT: usize = 6;
/// The fewest points the slope is fitted on.
pub const MIN_WINDOW: usize = 10;
/// The slope interval's confidence level.
pub const LEVEL: f64 = 0.95;

/// The slope test's finding.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Degradation {
    /// The slope's 95% interval excludes 0.
    pub detected: bool,
    /// The first point (0-based) of the window: the last changepoint, or 0.
    pub start: usize,
    /// The slope per point.
    pub slope: f64,
    /// The slope interval's lower end.
    pub lo: f64,
    /// The slope interval's upper end.
    pub hi: f64,
    /// The line through the window.
    pub line: Line,
}

/// The degradation of `values` (finite; at least [`MIN_WINDOW`] of them, else `None`).
pub fn degradation(values: &[f64]) -> Option<Degradation> {
    let n = values.len();
    if n < MIN_WINDOW {
        return None;
    }
    let start = changes(values).last().map_or(0, |&c| c).min(n - MIN_WINDOW);
    let line = Line::fit(start as f64, &values[start..])?;
    let (lo, hi) = line.slope_interval(LEVEL);
    Some(Degradation {
        detected: lo > 0.0 || hi < 0.0,
        start,
        slope: line.slope,
        lo,
        hi,
        line,
    })
}

/// The changepoints (segment starts after the first, in points), from block means (aligned on
/// the last point, the oldest remainder dropped).
pub(crate) fn changes(values: &[f64]) -> Vec<usize> {
    let n = values.len();
    let size = n.div_ceil(MAX_BLOCKS);
    let blocks = n / size;
    let offset = n - blocks * size;
    let means: Vec<f64> = values[offset..]
        .chunks_exact(size)
        .map(|b| b.iter().sum::<f64>() / size as f64)
        .collect();
    let cps = changepoints(&means, penalty(means.len()), MIN_SEGMENT);
    cps.iter().map(|&b| offset + b * size).collect()
}

/// Where a curved degradation starts, for a model that bends (the exponential): the last
/// segment's start, moved back over changepoints where the stream kept degrading (the segment
/// before slopes the same way, both slope intervals excluding 0, and the two lines meet at the
/// changepoint, their gap within 3 standard errors). PELT's lines cut a curve into pieces; a
/// reset, a step or a flat stretch before it is not merged. At most `n − MIN_WINDOW`.
pub fn curve_start(values: &[f64]) -> usize {
    merge_back(values, false).0
}

/// A degradation that steepens: where it starts, as [`curve_start`], and PELT's changepoints
/// after that, when it moved back over at least one changepoint and every segment it joined is
/// steeper than the one before it (a convex curve heading to its limit, cut into pieces by
/// PELT's lines); else `None` (one straight piece, which a line serves).
pub fn convex_window(values: &[f64]) -> Option<(usize, Vec<usize>)> {
    let (start, cuts) = merge_back(values, true);
    (!cuts.is_empty()).then_some((start, cuts))
}

/// The merged window's start and the changepoints it crossed; with `steepening`, only over
/// changepoints where the slope grows.
fn merge_back(values: &[f64], steepening: bool) -> (usize, Vec<usize>) {
    let n = values.len();
    let mut bounds = vec![0];
    bounds.extend(changes(values));
    bounds.push(n);
    let fit = |a: usize, b: usize| Line::fit(a as f64, &values[a..b]);
    let sign = |l: &Line| {
        let (lo, hi) = l.slope_interval(LEVEL);
        i32::from(lo > 0.0) - i32::from(hi < 0.0)
    };
    let last = bounds.len() - 2;
    let mut i = last;
    while i > 0 {
        let (Some(left), Some(right)) =
            (fit(bounds[i - 1], bounds[i]), fit(bounds[i], bounds[i + 1]))
        else {
            break;
        };
        let c = bounds[i] as f64;
        let gap = (right.at(c) - left.at(c)).abs();
        let se = (left.mean_se(c).powi(2) + right.mean_se(c).powi(2)).sqrt();
        let s = sign(&right);
        let flattens = f64::from(s) * (right.slope - left.slope) <= 0.0;
        if s == 0 || sign(&left) != s || gap > 3.0 * se || (steepening && flattens) {
            break;
        }
        i -= 1;
    }
    let start = bounds[i].min(n.saturating_sub(MIN_WINDOW));
    (start, bounds[i + 1..=last].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rng;

    #[test]
    fn a_drift_after_a_flat_stretch_is_found_with_its_start_and_rate() {
        let mut rng = Rng::new(21);
        let v: Vec<f64> = (0..5000)
            .map(|i| {
                50.0 + rng.normal()
                    + if i >= 3000 {
                        0.002 * (i - 3000) as f64
                    } else {
                        0.0
                    }
            })
            .collect();
        let d = degradation(&v).unwrap();
        assert!(d.detected);
        // A slow ramp barely shows at first, and segments need not join: within 5% of n.
        assert!((2750..=3250).contains(&d.start), "{}", d.start);
        // The window's first points are still flat, so the slope is a little low.
        assert!((d.slope - 0.002).abs() < 0.1 * 0.002, "{d:?}");
        assert!(d.lo > 0.0015, "{d:?}");
    }

    /// PELT cuts exponential wear into steepening pieces, which `convex_window` joins back to
    /// near the wear's start; a flat stretch then a straight drift is one piece after the kink.
    #[test]
    fn convex_window_joins_a_curve_but_not_a_kink() {
        let mut rng = Rng::new(23);
        let flat: usize = 3000;
        let wear: Vec<f64> = (0..8000usize)
            .map(|i| {
                let t = i.saturating_sub(flat) as f64;
                50.0 + 0.1 * (t / 1000.0).exp_m1() + rng.normal()
            })
            .collect();
        let (start, cuts) = convex_window(&wear).expect("a steepening curve");
        assert!(!cuts.is_empty() && start < 6000, "{start} {cuts:?}");
        let kink: Vec<f64> = (0..8000usize)
            .map(|i| 50.0 + 0.002 * i.saturating_sub(flat) as f64 + rng.normal())
            .collect();
        assert_eq!(convex_window(&kink), None);
    }

    /// A 95% interval: about 5% of flat streams look degrading (at most 20 of 200 here, the
    /// binomial's 99.9th percentile), including those a false changepoint cut short.
    #[test]
    fn flat_streams_look_degrading_about_five_percent_of_the_time() {
        let mut rng = Rng::new(22);
        let detected = (0..200)
            .filter(|_| {
                let v: Vec<f64> = (0..1000).map(|_| 50.0 + rng.normal()).collect();
                degradation(&v).unwrap().detected
            })
            .count();
        assert!((2..=20).contains(&detected), "{detected} of 200");
        assert!(degradation(&[1.0; 9]).is_none());
    }
}
