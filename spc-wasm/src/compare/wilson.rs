//! The Wilson score interval for a proportion (error rate, pass rate).
//!
//! E. B. Wilson (1927), "Probable inference, the law of succession, and statistical inference",
//! JASA 22, 209-212; recommended over the Wald interval by A. Agresti & B. A. Coull (1998),
//! "Approximate is better than 'exact' for interval estimation of binomial proportions",
//! The American Statistician 52, 119-126, and by the NIST e-Handbook §7.2.4.1. It is the
//! interval R's `prop.test(x, n, correct = FALSE)` and scipy's
//! `binomtest(x, n).proportion_ci(method = "wilson")` report: it never leaves [0, 1] and keeps
//! a useful width at 0 or n successes, where the Wald interval collapses to a point.

use super::Interval;
use crate::math::normal_quantile;

/// The Wilson score interval for `successes` out of `trials` at two-sided `confidence`
/// (e.g. 0.95):
///
/// ```text
/// p̂ = x/n,  z = Φ⁻¹(1 − α/2)
/// centre = (p̂ + z²/2n) / (1 + z²/n),  half-width = z √(p̂(1 − p̂)/n + z²/4n²) / (1 + z²/n)
/// ```
///
/// With no trials there is nothing to estimate: the value is NaN and both bounds are `None`.
/// The caller guarantees `successes <= trials` and `0 < confidence < 1`.
pub fn wilson(successes: u64, trials: u64, confidence: f64) -> Interval {
    if trials == 0 {
        return Interval::point(f64::NAN);
    }
    let n = trials as f64;
    let p = successes as f64 / n;
    let z = normal_quantile(0.5 + confidence / 2.0);
    let z2 = z * z;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    // At 0 and n successes the bound is exactly 0 or 1; rounding must not leave it a hair off.
    let lo = if successes == 0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let hi = if successes == trials {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    Interval {
        value: p,
        lo: Some(lo),
        hi: Some(hi),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_brackets_the_estimate_and_stays_in_0_1() {
        for (x, n) in [(0, 10), (10, 10), (3, 40), (500, 100_000)] {
            let ci = wilson(x, n, 0.95);
            let (lo, hi) = (ci.lo.unwrap(), ci.hi.unwrap());
            assert!((0.0..=ci.value).contains(&lo) && (ci.value..=1.0).contains(&hi));
            assert!(hi > lo, "{x}/{n}: the interval has width even at the edges");
        }
        assert!(wilson(0, 0, 0.95).value.is_nan());
    }
}
