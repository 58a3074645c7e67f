//! Normality: the Anderson–Darling test with mean and variance estimated from the data, the
//! check behind the capability report's "not normal" warning (NIST e-Handbook 1.3.5.14;
//! D'Agostino & Stephens 1986 for the p-value).

use crate::math::{mean_sd, normal_cdf, normal_sf};
use crate::SpcError;

/// Anderson–Darling test of normality, mean and variance estimated from the data ("case 3").
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Normality {
    /// The statistic `A²` (unadjusted; the adjusted `A*²` is used only for the p-value).
    pub anderson_darling: f64,
    /// Approximate p-value from D'Agostino & Stephens (1986), Table 4.9. Small values mean the
    /// data are unlikely to come from a normal distribution.
    pub p_value: f64,
}

/// Anderson–Darling normality test of `data` with the mean and SD estimated from it.
///
/// `A² = −n − (1/n) Σ (2i − 1)[ln Φ(z₍ᵢ₎) + ln(1 − Φ(z₍ₙ₊₁₋ᵢ₎))]`, `z = (x − x̄)/s`; the p-value
/// uses D'Agostino & Stephens' small-sample adjustment `A*² = A²(1 + 0.75/n + 2.25/n²)` and their
/// piecewise formulas (see [`ad_p_value`]). This is the test Minitab and the NIST e-Handbook
/// (1.3.5.14) describe.
///
/// # Errors
/// [`SpcError::NotFinite`] for a non-finite value, [`SpcError::TooFewPoints`] below 3 values
/// (with 2 values the statistic is a constant), [`SpcError::ZeroSigma`] when all are equal.
pub fn anderson_darling(data: &[f64]) -> Result<Normality, SpcError> {
    if let Some((index, &value)) = data.iter().enumerate().find(|(_, x)| !x.is_finite()) {
        return Err(SpcError::NotFinite { index, value });
    }
    if data.len() < 3 {
        return Err(SpcError::TooFewPoints {
            needed: 3,
            got: data.len(),
            what: "the Anderson-Darling test",
        });
    }
    let (mean, sd) = mean_sd(data);
    if !(mean.is_finite() && sd.is_finite()) {
        return Err(crate::error::invalid(
            "data",
            "the values are too large in magnitude to average in floating point",
        ));
    }
    if sd <= 0.0 {
        return Err(SpcError::ZeroSigma {
            what: "the Anderson-Darling test",
        });
    }
    Ok(anderson_darling_with(data, mean, sd))
}

/// The p-value of an Anderson–Darling statistic `a2` (unadjusted `A²`) for a sample of `n`,
/// normal distribution with estimated mean and variance (D'Agostino & Stephens 1986, Table 4.9):
///
/// | `A*²`          | p-value                                        |
/// |----------------|------------------------------------------------|
/// | ≥ 0.6          | `exp(1.2937 − 5.709 A*² + 0.0186 A*⁴)`         |
/// | [0.34, 0.6)    | `exp(0.9177 − 4.279 A*² − 1.38 A*⁴)`           |
/// | [0.2, 0.34)    | `1 − exp(−8.318 + 42.796 A*² − 59.938 A*⁴)`    |
/// | < 0.2          | `1 − exp(−13.436 + 101.14 A*² − 223.73 A*⁴)`   |
///
/// The first formula is a quadratic in the exponent that turns upward past `A*² ≈ 153`; beyond
/// its minimum the p-value is held at 0 (it is below 1e-180 there anyway). The result is clamped
/// to [0, 1]; NaN in gives NaN out.
pub fn ad_p_value(a2: f64, n: usize) -> f64 {
    if a2.is_nan() {
        return f64::NAN;
    }
    let nf = n.max(1) as f64;
    let a = a2 * (1.0 + 0.75 / nf + 2.25 / (nf * nf));
    // Vertex of 1.2937 - 5.709 a + 0.0186 a^2.
    const VERTEX: f64 = 5.709 / (2.0 * 0.0186);
    let p = if a >= VERTEX {
        0.0
    } else if a >= 0.6 {
        (1.2937 - 5.709 * a + 0.0186 * a * a).exp()
    } else if a >= 0.34 {
        (0.9177 - 4.279 * a - 1.38 * a * a).exp()
    } else if a >= 0.2 {
        1.0 - (-8.318 + 42.796 * a - 59.938 * a * a).exp()
    } else {
        1.0 - (-13.436 + 101.14 * a - 223.73 * a * a).exp()
    };
    p.clamp(0.0, 1.0)
}

/// Anderson–Darling on finite data with known-good `mean` and `sd > 0`.
pub(crate) fn anderson_darling_with(data: &[f64], mean: f64, sd: f64) -> Normality {
    let n = data.len();
    let mut z: Vec<f64> = data.iter().map(|x| (x - mean) / sd).collect();
    z.sort_by(f64::total_cmp);
    // ln of a probability, kept finite when the tail probability underflows to 0 (a gross
    // outlier): the smallest subnormal stands in for 0, so A² is huge but finite.
    let ln_p = |p: f64| p.max(f64::from_bits(1)).ln();
    let nf = n as f64;
    let s: f64 = (0..n)
        .map(|i| {
            let w = (2 * i + 1) as f64;
            w * (ln_p(normal_cdf(z[i])) + ln_p(normal_sf(z[n - 1 - i])))
        })
        .sum();
    let a2 = -nf - s / nf;
    Normality {
        anderson_darling: a2,
        p_value: ad_p_value(a2, n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    /// A² by a second, independent route: the defining integral
    /// n ∫₀¹ (Fₙ(u) − u)² / (u(1 − u)) du over the probability-integral-transformed sample,
    /// integrated numerically between order statistics (the integrand is bounded).
    fn ad_by_integral(data: &[f64]) -> f64 {
        let (m, s) = mean_sd(data);
        let mut u: Vec<f64> = data.iter().map(|x| normal_cdf((x - m) / s)).collect();
        u.sort_by(f64::total_cmp);
        let n = u.len();
        let mut knots = vec![0.0];
        knots.extend_from_slice(&u);
        knots.push(1.0);
        let mut total = 0.0;
        for (k, w) in knots.windows(2).enumerate() {
            let fnk = k as f64 / n as f64; // ECDF on [u_(k), u_(k+1))
            let (a, b) = (w[0], w[1]);
            if b <= a {
                continue;
            }
            // Simpson with many panels; the integrand is smooth inside each piece.
            let m = 2000;
            let h = (b - a) / m as f64;
            let f = |t: f64| {
                if t <= 0.0 || t >= 1.0 {
                    // limits: (Fn - u)^2/(u(1-u)) -> 0 at both ends (Fn = 0 at 0, = 1 at 1)
                    0.0
                } else {
                    (fnk - t) * (fnk - t) / (t * (1.0 - t))
                }
            };
            let mut acc = f(a) + f(b);
            for j in 1..m {
                let t = a + j as f64 * h;
                acc += if j % 2 == 1 { 4.0 } else { 2.0 } * f(t);
            }
            total += acc * h / 3.0;
        }
        n as f64 * total
    }

    #[test]
    fn anderson_darling_matches_the_integral_definition() {
        let samples: [&[f64]; 3] = [
            &[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0],
            &[0.3, 1.9, 2.2, 2.5, 3.1, 3.3, 4.0, 4.2, 5.8, 9.7, 12.5],
            &[
                102.0, 98.5, 101.2, 99.9, 100.4, 97.1, 103.3, 100.0, 99.2, 101.7,
            ],
        ];
        for d in samples {
            let ad = anderson_darling(d).unwrap();
            let by_integral = ad_by_integral(d);
            assert!(
                close(
                    ad.anderson_darling,
                    by_integral,
                    1e-6 * by_integral.max(1.0)
                ),
                "{} vs {}",
                ad.anderson_darling,
                by_integral
            );
            assert!((0.0..=1.0).contains(&ad.p_value));
        }
    }

    /// D'Agostino & Stephens (1986), Table 4.7, case 3 upper-tail points of A*²: 0.631 (10%),
    /// 0.752 (5%), 0.873 (2.5%), 1.035 (1%). Passing A*² with n huge makes the adjustment 1.
    #[test]
    fn ad_p_value_at_published_critical_points() {
        let big = 1_000_000_000;
        assert!(close(ad_p_value(0.631, big), 0.10, 0.002));
        assert!(close(ad_p_value(0.752, big), 0.05, 0.002));
        assert!(close(ad_p_value(0.873, big), 0.025, 0.002));
        assert!(close(ad_p_value(1.035, big), 0.01, 0.001));
        // Monotone non-increasing, within [0, 1], across the pieces and far into the tail.
        let mut prev = 1.0;
        for k in 0..=100_000 {
            let a = k as f64 * 0.005;
            let p = ad_p_value(a, big);
            assert!(
                (0.0..=1.0).contains(&p) && p <= prev + 2e-3,
                "a={a} p={p} prev={prev}"
            );
            prev = p;
        }
        assert_eq!(ad_p_value(1e300, big), 0.0);
        assert!(ad_p_value(f64::NAN, 5).is_nan());
    }
}
