//! Two streams against each other: the Hodges–Lehmann shift, its Moses (Mann–Whitney)
//! distribution-free confidence interval and the Wilcoxon–Mann–Whitney p-value, computed
//! exactly as R's `wilcox.test(x, y, conf.int = TRUE)` (R 4.2, `stats:::wilcox.test.default`).
//!
//! - Statistic: W = Σ ranks of x − m(m + 1)/2 = #{xᵢ > yⱼ} + ½ #{xᵢ = yⱼ}, midranks for ties
//!   (H. B. Mann & D. R. Whitney 1947; F. Wilcoxon 1945).
//! - Estimate: the median of the m·n differences xᵢ − yⱼ (J. L. Hodges & E. L. Lehmann 1963,
//!   "Estimates of location based on rank tests", Ann. Math. Stat. 34, 598-611).
//! - Exact branch, as R: both samples under 50 and no tie anywhere. p from the exact null
//!   distribution of W; the interval [D₍q₎, D₍ₘₙ₋q₊₁₎] with q = `qwilcox(α/2, m, n)` (at least
//!   1), the order statistics of the differences (L. E. Moses 1965, in Walker & Lev,
//!   *Elementary Statistical Methods*; E. L. Lehmann 1975, *Nonparametrics*, §2.6).
//! - Otherwise the normal approximation with continuity correction and the tie correction of
//!   the variance, σ² = mn/12 · ((m + n + 1) − Σ(t³ − t)/((m + n)(m + n − 1))). R finds the
//!   interval as the root (`uniroot`, tolerance 1e-4) of the standardized W of x − d against y,
//!   a step function of d that jumps at the differences; the root is therefore a difference,
//!   and we take that order statistic directly (see `moses_rank`). R's estimate there is a
//!   root within the middle gap of the differences; we report the HL median, which lies in it.
//!
//! The differences are never formed for large samples: `select.rs` finds order
//! statistics of the implicit sorted matrix in a few O(m + n) passes.

use super::select::{counts, order_statistics};
use crate::error::{invalid, SpcError};
use crate::math::{normal_cdf, normal_quantile, normal_sf};

/// The result of comparing stream a against stream b (shift = a − b).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ShiftTest {
    /// Hodges–Lehmann estimate of the shift a − b, in the metric's unit.
    pub shift: f64,
    /// Lower bound of its confidence interval.
    pub lo: f64,
    /// Upper bound of its confidence interval.
    pub hi: f64,
    /// Two-sided p-value of the Wilcoxon–Mann–Whitney test of no shift (not adjusted).
    pub p_value: f64,
    /// The Mann–Whitney statistic W (R's `statistic`).
    pub w: f64,
    /// True for the exact distribution, false for the normal approximation.
    pub exact: bool,
}

/// Compares samples `a` and `b`, each sorted ascending, at two-sided `confidence` (e.g. 0.95).
/// An empty, unsorted or non-finite sample, or a confidence outside (0, 1), is an error that
/// says which.
pub fn shift_test(a: &[f64], b: &[f64], confidence: f64) -> Result<ShiftTest, SpcError> {
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(invalid(
            "confidence",
            format!("{confidence} is outside (0, 1); 0.95 is usual"),
        ));
    }
    for (name, xs) in [("a", a), ("b", b)] {
        if xs.is_empty() {
            return Err(invalid("sample", format!("sample {name} is empty")));
        }
        if let Some(i) = xs.iter().position(|x| !x.is_finite()) {
            return Err(invalid(
                "sample",
                format!("sample {name}: value {i} is {}; give finite numbers", xs[i]),
            ));
        }
        if let Some(i) = xs.windows(2).position(|w| w[0] > w[1]) {
            return Err(invalid(
                "sample",
                format!(
                    "sample {name} is not sorted ascending (values {i} and {})",
                    i + 1
                ),
            ));
        }
    }
    Ok(shift_test_sorted(a, b, confidence))
}

/// [`shift_test`] on inputs already known to be sorted, finite and non-empty.
pub(crate) fn shift_test_sorted(a: &[f64], b: &[f64], confidence: f64) -> ShiftTest {
    let (m, n) = (a.len(), b.len());
    let total = m as u64 * n as u64;
    let alpha = 1.0 - confidence;
    // The HL median is the middle difference, or the mean of the middle two.
    let middle = [total.div_ceil(2), total / 2 + 1];
    let (exact_p, values, ranks) = if m < 50 && n < 50 {
        // R's exact branch, unless there are ties: W and the ties decide it, so they come first.
        let ranks = RankSums::of(a, b);
        let (bounds, exact_p) = if ranks.any_tie {
            (moses_bounds(total, ranks.sigma_within, confidence), None)
        } else {
            let dist = WilcoxonNull::new(m, n);
            let q = dist.quantile(alpha / 2.0).max(1);
            let mn = total as f64;
            let p = if ranks.w > mn / 2.0 {
                dist.cdf(mn - ranks.w) // P(W >= w) by symmetry
            } else {
                dist.cdf(ranks.w)
            };
            ([q, total - q + 1], Some((2.0 * p).min(1.0)))
        };
        let wanted = [middle[0], middle[1], bounds[0], bounds[1]];
        let values = order_statistics(a, b, &wanted, &[], ranks.any_tie).0;
        (exact_p, values, ranks)
    } else {
        // Normal branch: the bounds need only the ties within each sample, so W's two counts
        // ride along with the order statistics in one pass.
        let within = ties_within(a, b);
        let bounds = moses_bounds(total, sigma(m as f64, n as f64, within), confidence);
        let wanted = [middle[0], middle[1], bounds[0], bounds[1]];
        let (values, counts) = order_statistics(a, b, &wanted, &W_COUNTS, within > 0.0);
        (
            None,
            values,
            RankSums::from_counts(a, b, within, counts[0], counts[1]),
        )
    };
    ShiftTest {
        shift: if total % 2 == 1 {
            values[0]
        } else {
            0.5 * (values[0] + values[1])
        },
        lo: values[2],
        hi: values[3],
        p_value: exact_p.unwrap_or_else(|| ranks.normal_p(total)),
        w: ranks.w,
        exact: exact_p.is_some(),
    }
}

/// The values at which #{x − y <= d} gives W: 0 (pairs with x > y are the rest) and the
/// negative float nearest 0 (pairs with x >= y are the rest).
const W_COUNTS: [f64; 2] = [0.0, -f64::from_bits(1)];

/// The ranks of the normal-approximation interval's bounds (see [`moses_rank`]).
fn moses_bounds(total: u64, sigma_within: f64, confidence: f64) -> [u64; 2] {
    if sigma_within > 0.0 {
        let z = normal_quantile(0.5 + confidence / 2.0);
        [
            moses_rank(total, sigma_within, z),
            moses_rank(total, sigma_within, -z),
        ]
    } else {
        [1, total] // every x equal and every y equal: one difference
    }
}

/// The rank of the difference where R's `uniroot` lands for quantile `zq` (+z for the lower
/// bound, −z for the upper). Between differences, W(d) = #{D > d} is an integer w and R's
/// standardized statistic is g(w) = (w − N/2 − ½ sign(w − N/2))/σ − zq, non-decreasing in w,
/// with σ from the ties within x and within y (no x − d equals a y there). With c the least w
/// where g > 0, the sign change is at D₍N−c+1₎; out of range R returns the extreme difference.
pub(crate) fn moses_rank(total: u64, sigma: f64, zq: f64) -> u64 {
    let half = total as f64 / 2.0;
    let g = |w: f64| {
        let dz = w - half;
        (dz - 0.5 * sign(dz)) / sigma - zq > 0.0
    };
    let mut c = (half + zq * sigma).floor().clamp(0.0, total as f64);
    while c > 0.0 && g(c - 1.0) {
        c -= 1.0;
    }
    while c <= total as f64 && !g(c) {
        c += 1.0;
    }
    (total as f64 - c + 1.0).clamp(1.0, total as f64) as u64
}

/// R's `sign`: 0 at 0.
fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// W and the tie sums of the pooled sample.
struct RankSums {
    w: f64,
    /// Σ(t³ − t) over tie groups of the pooled sample.
    ties_pooled: f64,
    /// The null SD of W with only the ties within x and within y (R's interval search).
    sigma_within: f64,
    any_tie: bool,
    m: f64,
    n: f64,
}

impl RankSums {
    /// From two count-only chains (see [`RankSums::from_counts`]).
    fn of(a: &[f64], b: &[f64]) -> RankSums {
        let [at_most_0, below_0] = counts(a, b, W_COUNTS);
        RankSums::from_counts(a, b, ties_within(a, b), at_most_0, below_0)
    }

    /// W = Σ #{y < x} + ½ #{y = x}, from the counts of differences <= 0 and < 0. A pooled tie
    /// group is a run of equal x's plus the y's equal to them, or a run of y's alone; x's equal
    /// to y's are looked up only when the two counts differ, i.e. when there are any. `within`
    /// is [`ties_within`] of the two samples.
    fn from_counts(a: &[f64], b: &[f64], within: f64, at_most_0: u64, below_0: u64) -> RankSums {
        let (m, n) = (a.len(), b.len());
        let total = m as u64 * n as u64;
        let twice_w = (total - at_most_0) + (total - below_0);
        let mut cross = 0.0;
        if at_most_0 != below_0 {
            for run in a.chunk_by(|p, q| p == q) {
                let x = run[0];
                let equal_ys = b.partition_point(|&y| y <= x) - b.partition_point(|&y| y < x);
                if equal_ys > 0 {
                    cross += cube(run.len() + equal_ys) - cube(run.len()) - cube(equal_ys);
                }
            }
        }
        let ties_pooled = within + cross;
        let (mf, nf) = (m as f64, n as f64);
        RankSums {
            w: twice_w as f64 / 2.0,
            ties_pooled,
            sigma_within: sigma(mf, nf, within),
            any_tie: ties_pooled > 0.0,
            m: mf,
            n: nf,
        }
    }

    /// Two-sided p-value of the normal approximation with continuity correction (R's rule).
    fn normal_p(&self, total: u64) -> f64 {
        let s = sigma(self.m, self.n, self.ties_pooled);
        let dz = self.w - total as f64 / 2.0;
        if s == 0.0 {
            return 1.0; // every value tied: no evidence of any shift (R gives NaN)
        }
        let z = (dz - 0.5 * sign(dz)) / s;
        (2.0 * normal_cdf(z).min(normal_sf(z))).min(1.0)
    }
}

/// t³ − t for a tie group of t.
fn cube(t: usize) -> f64 {
    (t as f64).powi(3) - t as f64
}

/// Σ(t³ − t) over the runs of equal values within each sorted sample. A sample without equal
/// neighbours (the usual case for timings) is told by one branch-free pass.
fn ties_within(a: &[f64], b: &[f64]) -> f64 {
    let runs = |xs: &[f64]| {
        let equal: usize = xs.windows(2).map(|w| (w[0] == w[1]) as usize).sum();
        if equal == 0 {
            return 0.0;
        }
        xs.chunk_by(|p, q| p == q)
            .map(|r| cube(r.len()))
            .sum::<f64>()
    };
    runs(a) + runs(b)
}

/// SD of W under no shift with the tie correction Σ(t³ − t).
fn sigma(m: f64, n: f64, ties: f64) -> f64 {
    let var = m * n / 12.0 * ((m + n + 1.0) - ties / ((m + n) * (m + n - 1.0)));
    var.max(0.0).sqrt()
}

/// The exact null distribution of W for sizes m and n without ties, as R's `dwilcox`: the
/// number of arrangements with each W, by the recurrence f(k; m, n) = f(k − n; m − 1, n) +
/// f(k; m, n − 1) (Mann & Whitney 1947), built up in n with only additions, so no precision is
/// lost to cancellation. O(m·n·mn) additions: at most 6 million for R's exact range (< 50).
struct WilcoxonNull {
    /// P(W = w), w = 0..=mn.
    pmf: Vec<f64>,
}

impl WilcoxonNull {
    fn new(m: usize, n: usize) -> WilcoxonNull {
        let top = m * n;
        // rows[i][k] = arrangements of i x's among the current y's with W = k.
        let mut rows = vec![vec![0.0f64; top + 1]; m + 1];
        for row in rows.iter_mut() {
            row[0] = 1.0; // no y's yet: W = 0 for any number of x's
        }
        for ny in 1..=n {
            // With ny y's, f(k; i, ny) = f(k − ny; i − 1, ny) + f(k; i, ny − 1): the largest
            // value is an x (beating all ny y's) or a y.
            for i in 1..=m {
                let (done, rest) = rows.split_at_mut(i);
                let previous = &done[i - 1];
                let row = &mut rest[0];
                for k in (ny..=i * ny).rev() {
                    row[k] += previous[k - ny];
                }
            }
        }
        let counts = &rows[m];
        let total: f64 = counts.iter().sum();
        WilcoxonNull {
            pmf: counts.iter().map(|c| c / total).collect(),
        }
    }

    /// P(W <= w) (R's `pwilcox`), summing the shorter tail for accuracy.
    fn cdf(&self, w: f64) -> f64 {
        let w = w.floor();
        if w < 0.0 {
            return 0.0;
        }
        let top = (self.pmf.len() - 1) as f64;
        if w >= top {
            return 1.0;
        }
        if w <= top / 2.0 {
            self.pmf[..=w as usize].iter().sum()
        } else {
            // P(W <= w) = 1 − P(W >= w + 1) = 1 − P(W <= top − w − 1) by symmetry
            1.0 - self.pmf[..(top - w) as usize].iter().sum::<f64>()
        }
    }

    /// The least q with P(W <= q) >= p (R's `qwilcox`, with its 10·ε fuzz), for p <= 1/2.
    fn quantile(&self, p: f64) -> u64 {
        let target = p - 10.0 * f64::EPSILON;
        let mut cumulative = 0.0;
        for (q, mass) in self.pmf.iter().enumerate() {
            cumulative += mass;
            if cumulative >= target {
                return q as u64;
            }
        }
        (self.pmf.len() - 1) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_distribution_of_small_sizes() {
        // m = n = 2: W in 0..=4 with counts 1, 1, 2, 1, 1 of C(4, 2) = 6.
        let d = WilcoxonNull::new(2, 2);
        let expected = [1.0, 1.0, 2.0, 1.0, 1.0].map(|c| c / 6.0);
        for (p, e) in d.pmf.iter().zip(expected) {
            assert!((p - e).abs() < 1e-15);
        }
        assert!((d.cdf(1.0) - 2.0 / 6.0).abs() < 1e-15);
        assert_eq!(d.quantile(0.3), 1);
        let sizes = WilcoxonNull::new(3, 5);
        assert!((sizes.pmf.iter().sum::<f64>() - 1.0).abs() < 1e-14);
        assert!((sizes.cdf(0.0) - 1.0 / 56.0).abs() < 1e-15, "C(8, 3) = 56");
    }

    #[test]
    fn rank_sums_count_wins_and_half_ties() {
        let r = RankSums::of(&[1.0, 3.0, 3.0], &[2.0, 3.0]);
        // 1: 0 wins; each 3 beats 2 and ties 3: 1.5 each.
        assert_eq!(r.w, 3.0);
        assert!(r.any_tie);
        assert_eq!(r.ties_pooled, 24.0, "one group of three");
    }
}
