//! Quantiles (P50, P95, P99) with exact distribution-free confidence intervals from order
//! statistics.
//!
//! If X₍₁₎ ≤ … ≤ X₍ₙ₎ are the order statistics of n independent draws from a continuous
//! distribution with p-quantile ξ, the number B of draws below ξ is Binomial(n, p), so
//!
//! ```text
//! P(X₍ₗ₎ ≤ ξ < X₍ᵤ₎) = P(l ≤ B ≤ u − 1) = F(u − 1) − F(l − 1),   F the Binomial(n, p) CDF
//! ```
//!
//! whatever the distribution (W. J. Conover 1999, *Practical Nonparametric Statistics*, 3rd
//! ed., §3.2; G. J. Hahn & W. Q. Meeker 1991, *Statistical Intervals*, §5.2; NIST/SEMATECH
//! e-Handbook §7.2.6.2 and §7.2.6.3). We take the equal-tailed choice: l is the largest rank
//! with F(l − 1) ≤ α/2 and u the smallest with F(u − 1) ≥ 1 − α/2, so each tail misses with
//! probability at most α/2 and the coverage is at least 1 − α, exactly, for every n.
//!
//! Why this and not a bootstrap: it is exact rather than asymptotic (the percentile bootstrap
//! under-covers extreme quantiles of small samples), deterministic (no seed, so the Worker, the
//! CLI and the dashboard print the same interval for the same data), and it costs O(√n) for
//! the binomial walk once the data are sorted, against B resamples of n for a bootstrap.
//!
//! The honest price: a two-sided interval needs enough data. The upper bound exists only when
//! F(n − 1) = 1 − pⁿ ≥ 1 − α/2, so at 95 % P99 needs n ≥ 368, P95 n ≥ 72 and P50 n ≥ 6
//! (one-sided 95 % bounds, as in some tables, need 299, 59 and 5). Below that the interval is
//! reported as absent ("not enough data"), never invented.

use super::Interval;
use crate::math::ln_gamma;

/// The 1-based ranks of the order statistics that bound a quantile, with the coverage they
/// achieve. A rank is `None` when the data cannot bound that side at the asked confidence.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct OrderRanks {
    /// l: the lower bound is X₍ₗ₎.
    pub lower: Option<usize>,
    /// u: the upper bound is X₍ᵤ₎.
    pub upper: Option<usize>,
    /// The exact coverage F(u − 1) − F(l − 1) when both ranks exist.
    pub coverage: Option<f64>,
}

/// The ranks of the equal-tailed exact interval for the `p`-quantile of `n` draws at two-sided
/// `confidence` (see the module docs). The caller guarantees 0 < p < 1 and 0 < confidence < 1.
pub fn order_ranks(n: usize, p: f64, confidence: f64) -> OrderRanks {
    let tail = (1.0 - confidence) / 2.0;
    let mut lower = None; // largest l with F(l − 1) <= tail
    let mut upper = None; // smallest u with F(u − 1) >= 1 − tail
    let (mut f_lower, mut f_upper) = (0.0, 1.0);
    for (k, f) in BinomialCdf::new(n, p) {
        if f <= tail {
            lower = Some(k + 1);
            f_lower = f;
        }
        if f >= 1.0 - tail {
            // u − 1 = k; X₍ᵤ₎ exists only for u <= n.
            if k < n {
                upper = Some(k + 1);
                f_upper = f;
            }
            break;
        }
    }
    let coverage = lower.zip(upper).map(|_| f_upper - f_lower);
    OrderRanks {
        lower,
        upper,
        coverage,
    }
}

/// The sample `p`-quantile of ascending `sorted` data with its exact order-statistic interval.
///
/// The point estimate is the lower quantile, the value at 0-based rank ⌊p(n − 1)⌋, the same
/// definition as [`crate::summary::summarize`], so the Compare view and the summary agree.
/// The bounds are `None` unless both exist ("not enough data" for a two-sided interval).
pub fn quantile_ci(sorted: &[f64], p: f64, confidence: f64) -> Interval {
    let n = sorted.len();
    if n == 0 {
        return Interval::point(f64::NAN);
    }
    let value = sorted[(p * (n - 1) as f64).floor() as usize];
    let ranks = order_ranks(n, p, confidence);
    match (ranks.lower, ranks.upper) {
        (Some(l), Some(u)) => Interval {
            value,
            lo: Some(sorted[l - 1]),
            hi: Some(sorted[u - 1]),
        },
        _ => Interval::point(value),
    }
}

/// Walks the Binomial(n, p) CDF upward, yielding (k, F(k)).
///
/// It starts 12 standard deviations below the mean (the mass below, under 1e-30, is
/// negligible next to any tail probability asked for), with the probability mass there from
/// log-gamma, then steps P(k + 1) = P(k) · (n − k)/(k + 1) · p/(1 − p). The walk to the upper
/// 2.5 % point takes about 14 σ = 14 √(np(1 − p)) steps.
struct BinomialCdf {
    n: usize,
    k: usize,
    pmf: f64,
    cdf: f64,
    odds: f64,
}

impl BinomialCdf {
    fn new(n: usize, p: f64) -> BinomialCdf {
        let (nf, q) = (n as f64, 1.0 - p);
        let start = (nf * p - 12.0 * (nf * p * q).sqrt() - 5.0).max(0.0).floor() as usize;
        let k = start.min(n) as f64;
        let ln_pmf = ln_gamma(nf + 1.0) - ln_gamma(k + 1.0) - ln_gamma(nf - k + 1.0)
            + k * p.ln()
            + (nf - k) * (-p).ln_1p();
        BinomialCdf {
            n,
            k: start.min(n),
            pmf: ln_pmf.exp(),
            cdf: 0.0,
            odds: p / q,
        }
    }
}

impl Iterator for BinomialCdf {
    type Item = (usize, f64);

    fn next(&mut self) -> Option<(usize, f64)> {
        if self.k > self.n {
            return None;
        }
        let k = self.k;
        self.cdf = (self.cdf + self.pmf).min(1.0);
        let cdf = if k == self.n { 1.0 } else { self.cdf };
        self.pmf *= (self.n - k) as f64 / (k + 1) as f64 * self.odds;
        self.k += 1;
        Some((k, cdf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_exists_from_the_documented_sizes() {
        for (p, needed) in [(0.5, 6), (0.95, 72), (0.99, 368)] {
            assert!(
                order_ranks(needed - 1, p, 0.95).upper.is_none(),
                "P{p} n={needed}-1"
            );
            let r = order_ranks(needed, p, 0.95);
            assert_eq!(
                r.upper,
                Some(needed),
                "P{p} n={needed}: the maximum bounds it"
            );
            assert!(r.coverage.unwrap() >= 0.95);
        }
    }

    #[test]
    fn the_estimate_lies_inside_its_interval() {
        for n in 1..1500 {
            for p in [0.5, 0.95, 0.99] {
                let r = order_ranks(n, p, 0.95);
                let estimate = (p * (n - 1) as f64).floor() as usize + 1; // 1-based
                if let (Some(l), Some(u)) = (r.lower, r.upper) {
                    assert!(
                        l <= estimate && estimate <= u,
                        "n = {n}, p = {p}: {l} {estimate} {u}"
                    );
                    assert!(r.coverage.unwrap() >= 0.95 - 1e-12);
                }
            }
        }
    }

    #[test]
    fn cdf_walk_ends_at_one() {
        let last = BinomialCdf::new(50, 0.3).last().unwrap();
        assert_eq!(last, (50, 1.0));
    }
}
