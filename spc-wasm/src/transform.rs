//! Transforms for skewed data, applied to individual observations before charting.
//!
//! LLM latency is right-skewed (often close to log-normal), so Shewhart limits on the raw scale
//! give too many false alarms above the centre line and miss drops below it. Charting a
//! transformed value and reporting the limits back on the original scale (via
//! [`Transform::invert`]) fixes both, provided the tool says which transform it used.
//!
//! * `Log`: `y = ln x`.
//! * `BoxCox` (Box & Cox 1964, *J. R. Stat. Soc. B* 26): `y = (x^λ − 1)/λ`, `ln x` at `λ = 0`.
//!   `λ` is chosen by maximum likelihood (Box & Cox's own proposal; the NIST/SEMATECH
//!   e-Handbook, 6.5.2, gives the same profile log-likelihood; Montgomery, *Design and Analysis
//!   of Experiments*, uses it too): maximise
//!   `l(λ) = −(n/2)·ln σ̂²(λ) + (λ − 1)·Σ ln xᵢ`, where `σ̂²(λ)` is the variance (divisor `n`) of
//!   the transformed data, over `λ ∈ [−5, 5]`. (The e-Handbook's Box-Cox *normality plot*,
//!   1.3.3.6, instead maximises a probability-plot correlation, so its λ can differ a little.)
//!
//! Both need strictly positive data.

use crate::SpcError;
use std::str::FromStr;

/// What the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum TransformKind {
    /// Chart the raw values.
    #[default]
    None,
    /// Natural logarithm.
    Log,
    /// Box-Cox with λ fitted by maximum likelihood.
    BoxCox,
}

/// A resolved transform, with its parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Transform {
    /// No transform.
    Identity,
    /// `ln x`.
    Log,
    /// `(x^λ − 1)/λ` (`ln x` when `|λ| < 1e-9`).
    BoxCox {
        /// The power; fitted values lie in [−5, 5].
        lambda: f64,
    },
}

/// Search range for the Box-Cox λ. Wider than the usual [−2, 2] plot so that an extreme fit
/// is visible as such rather than silently clipped at 2.
const LAMBDA_MIN: f64 = -5.0;
const LAMBDA_MAX: f64 = 5.0;
/// Below this |λ| the Box-Cox transform is taken to be the log (its limit as λ → 0).
const LAMBDA_ZERO: f64 = 1e-9;
/// Grid step for bracketing the maximum before the golden-section refinement.
const GRID_STEP: f64 = 0.05;
/// Final tolerance on λ.
const LAMBDA_TOL: f64 = 1e-7;

impl Transform {
    /// Resolve `kind` against `data`. `None` and `Log` need no fitting; `BoxCox` finds λ by
    /// maximum likelihood over [−5, 5]: the profile log-likelihood is evaluated on a grid of
    /// step 0.05 (it can have more than one local maximum on skewed data, so a grid is safer than
    /// a bare local search), then refined by golden-section search on the bracket around the best
    /// grid point. λ is reported as fitted, not rounded to a "nice" value.
    ///
    /// # Errors
    /// * [`SpcError::NotFinite`] for a NaN or infinite value (every kind);
    /// * [`SpcError::InvalidParameter`] (`"data"`) naming the 0-based index and value of the
    ///   first non-positive observation, for `Log` and `BoxCox`;
    /// * for `BoxCox`: [`SpcError::TooFewPoints`] below 3 observations, and
    ///   [`SpcError::InvalidParameter`] when all values are equal (the likelihood has no maximum).
    pub fn fit(kind: TransformKind, data: &[f64]) -> Result<Transform, SpcError> {
        check_finite(data)?;
        match kind {
            TransformKind::None => Ok(Transform::Identity),
            TransformKind::Log => {
                check_positive(data)?;
                Ok(Transform::Log)
            }
            TransformKind::BoxCox => {
                check_positive(data)?;
                if data.len() < 3 {
                    return Err(SpcError::TooFewPoints {
                        needed: 3,
                        got: data.len(),
                        what: "fitting the Box-Cox lambda",
                    });
                }
                let logs: Vec<f64> = data.iter().map(|x| x.ln()).collect();
                if logs.iter().all(|&y| y == logs[0]) {
                    return Err(crate::error::invalid(
                        "data",
                        "all values are equal, so the Box-Cox lambda cannot be estimated; use \
                         the log transform or none",
                    ));
                }
                Ok(Transform::BoxCox {
                    lambda: fit_lambda(&logs),
                })
            }
        }
    }

    /// Transform one value. `Log` and `BoxCox` return NaN for `x <= 0` or NaN (use
    /// [`Transform::apply_all`] to get an error instead). Box-Cox is computed as
    /// `expm1(λ ln x)/λ`, which is accurate for λ near 0 and continuous into `ln x`; it may
    /// overflow to infinity for large `x` with large λ. Where `x^λ` is small (large `x` for
    /// λ < 0, `x` near 0 for λ > 0) the transformed values crowd against the edge `−1/λ` of the
    /// range and keep only the digits of `x^λ` that survive next to 1 (λ = −5, x = 250
    /// round-trips to ~1e-5 relative; λ = −5, x = 8000 lands on the edge itself).
    pub fn apply(&self, x: f64) -> f64 {
        match *self {
            Transform::Identity => x,
            Transform::Log => {
                if x > 0.0 {
                    x.ln()
                } else {
                    f64::NAN
                }
            }
            Transform::BoxCox { lambda } => {
                if x.is_nan() || x <= 0.0 || lambda.is_nan() {
                    f64::NAN
                } else if lambda.abs() < LAMBDA_ZERO {
                    x.ln()
                } else {
                    (lambda * x.ln()).exp_m1() / lambda
                }
            }
        }
    }

    /// Back-transform one value to the original scale, so chart limits can be reported on both
    /// scales. The result is always finite or NaN (NaN only for NaN input or a NaN λ), never
    /// infinite, so limits serialise cleanly:
    ///
    /// * `Log`: `exp(y)`, capped at `f64::MAX`.
    /// * `BoxCox`: `(1 + λy)^(1/λ)`. Its range is not the whole line: for λ > 0 the transformed
    ///   data never go below `−1/λ` (which is `x = 0`), so any `y <= −1/λ` returns `0.0` — a
    ///   lower limit there means "no lower limit" on the original scale. For λ < 0 the
    ///   transformed data never reach `−1/λ = 1/|λ|` (which is `x = ∞`), so any `y >= 1/|λ|`
    ///   returns `f64::MAX` — "no upper limit"; callers can test for it.
    pub fn invert(&self, y: f64) -> f64 {
        match *self {
            Transform::Identity => y,
            Transform::Log => cap(y.exp()),
            Transform::BoxCox { lambda } => {
                if y.is_nan() || lambda.is_nan() {
                    return f64::NAN;
                }
                if lambda.abs() < LAMBDA_ZERO {
                    return cap(y.exp());
                }
                let base = lambda * y; // 1 + λy <= 0 is outside the range
                if base <= -1.0 {
                    return if lambda > 0.0 { 0.0 } else { f64::MAX };
                }
                cap(((base).ln_1p() / lambda).exp())
            }
        }
    }

    /// Transform every observation.
    ///
    /// # Errors
    /// [`SpcError::NotFinite`] for a NaN or infinite value; for `Log`/`BoxCox`,
    /// [`SpcError::InvalidParameter`] (`"data"`) naming the first non-positive observation, or
    /// one whose Box-Cox value overflows (a huge value with a large λ).
    pub fn apply_all(&self, data: &[f64]) -> Result<Vec<f64>, SpcError> {
        check_finite(data)?;
        if matches!(self, Transform::Identity) {
            return Ok(data.to_vec());
        }
        check_positive(data)?;
        data.iter()
            .enumerate()
            .map(|(i, &x)| {
                let y = self.apply(x);
                if y.is_finite() {
                    Ok(y)
                } else {
                    Err(crate::error::invalid(
                        "data",
                        format!(
                            "observation {i}: {x} is too large to transform with {} (the result \
                             overflows)",
                            self.describe()
                        ),
                    ))
                }
            })
            .collect()
    }

    /// Short name: `"none"`, `"log"` or `"box-cox"`.
    pub fn name(&self) -> &'static str {
        match self {
            Transform::Identity => "none",
            Transform::Log => "log",
            Transform::BoxCox { .. } => "box-cox",
        }
    }

    fn describe(&self) -> String {
        match self {
            Transform::BoxCox { lambda } => format!("box-cox (lambda = {lambda})"),
            other => other.name().to_string(),
        }
    }
}

impl FromStr for TransformKind {
    type Err = SpcError;

    /// `"none"`, `"log"`, `"box-cox"` or `"boxcox"`, ignoring ASCII case and surrounding spaces.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(TransformKind::None),
            "log" => Ok(TransformKind::Log),
            "box-cox" | "boxcox" => Ok(TransformKind::BoxCox),
            _ => Err(crate::error::invalid(
                "transform",
                format!("unknown transform {s:?}; valid names are none, log, box-cox"),
            )),
        }
    }
}

fn cap(x: f64) -> f64 {
    x.min(f64::MAX)
}

fn check_finite(data: &[f64]) -> Result<(), SpcError> {
    match data.iter().enumerate().find(|(_, x)| !x.is_finite()) {
        Some((index, &value)) => Err(SpcError::NotFinite { index, value }),
        None => Ok(()),
    }
}

fn check_positive(data: &[f64]) -> Result<(), SpcError> {
    match data.iter().enumerate().find(|(_, &x)| x <= 0.0) {
        Some((i, x)) => Err(crate::error::invalid(
            "data",
            format!(
                "observation {i}: {x} is not positive; log and Box-Cox transforms need positive \
                 data"
            ),
        )),
        None => Ok(()),
    }
}

/// Maximum-likelihood λ over [−5, 5] given `logs = ln xᵢ` (finite, not all equal).
fn fit_lambda(logs: &[f64]) -> f64 {
    let steps = ((LAMBDA_MAX - LAMBDA_MIN) / GRID_STEP).round() as usize;
    let grid = |k: usize| LAMBDA_MIN + k as f64 * GRID_STEP;
    let mut best_k = 0;
    let mut best = f64::NEG_INFINITY;
    for k in 0..=steps {
        let l = profile_log_likelihood(logs, grid(k));
        if l > best {
            best = l;
            best_k = k;
        }
    }
    // With every grid value -inf (cannot happen for non-constant finite data, but never panic),
    // fall back to the log.
    if best == f64::NEG_INFINITY {
        return 0.0;
    }
    let lo = grid(best_k.saturating_sub(1));
    let hi = grid((best_k + 1).min(steps));
    let (lambda, l) = golden_max(|lam| profile_log_likelihood(logs, lam), lo, hi);
    let lambda = if l >= best { lambda } else { grid(best_k) };
    // Snap a λ that is numerically zero to exactly zero so that `name`/reports read as log.
    if lambda.abs() < LAMBDA_ZERO {
        0.0
    } else {
        lambda
    }
}

/// Golden-section search for a maximum of `f` on `[a, b]`; returns `(argmax, max)`.
fn golden_max(f: impl Fn(f64) -> f64, mut a: f64, mut b: f64) -> (f64, f64) {
    let inv_phi = (5f64.sqrt() - 1.0) / 2.0;
    let mut c = b - inv_phi * (b - a);
    let mut d = a + inv_phi * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    // 0.618^k * 0.1 < 1e-7 needs k ~ 29; cap the loop for safety.
    for _ in 0..200 {
        if (b - a).abs() <= LAMBDA_TOL {
            break;
        }
        if fc >= fd {
            b = d;
            d = c;
            fd = fc;
            c = b - inv_phi * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + inv_phi * (b - a);
            fd = f(d);
        }
    }
    if fc >= fd {
        (c, fc)
    } else {
        (d, fd)
    }
}

/// Box-Cox profile log-likelihood (up to a constant), computed from `yᵢ = ln xᵢ` without
/// overflow: with `c = max yᵢ` for λ > 0 (`min` for λ < 0) so every `λ(yᵢ − c) <= 0`,
/// `(xᵢ^λ − 1)/λ = e^{λc}·wᵢ + const` with `wᵢ = expm1(λ(yᵢ − c))/λ`, hence
/// `ln σ̂²(λ) = 2λc + ln var(w)`. `expm1` keeps `w` accurate as λ → 0, where `w → y − c`.
/// Returns −∞ when the variance underflows to 0.
fn profile_log_likelihood(logs: &[f64], lambda: f64) -> f64 {
    let n = logs.len() as f64;
    let sum_logs: f64 = logs.iter().sum();
    let (lo, hi) = logs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &y| {
            (lo.min(y), hi.max(y))
        });
    let (c, w): (f64, Vec<f64>) = if lambda.abs() < LAMBDA_ZERO {
        (0.0, logs.to_vec())
    } else {
        let c = if lambda > 0.0 { hi } else { lo };
        (
            c,
            logs.iter()
                .map(|&y| (lambda * (y - c)).exp_m1() / lambda)
                .collect(),
        )
    };
    let mean = w.iter().sum::<f64>() / n;
    let var = w.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    if !(var > 0.0 && var.is_finite()) {
        return f64::NEG_INFINITY;
    }
    let ln_var = 2.0 * lambda * c + var.ln();
    -n / 2.0 * ln_var + (lambda - 1.0) * sum_logs
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::rng::Rng;

    fn ll(data: &[f64], lambda: f64) -> f64 {
        let logs: Vec<f64> = data.iter().map(|x| x.ln()).collect();
        profile_log_likelihood(&logs, lambda)
    }

    /// The textbook formula, evaluated naively (fine for moderate data).
    fn ll_naive(data: &[f64], lambda: f64) -> f64 {
        let n = data.len() as f64;
        let t: Vec<f64> = data
            .iter()
            .map(|&x| {
                if lambda == 0.0 {
                    x.ln()
                } else {
                    (x.powf(lambda) - 1.0) / lambda
                }
            })
            .collect();
        let m = t.iter().sum::<f64>() / n;
        let var = t.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n;
        -n / 2.0 * var.ln() + (lambda - 1.0) * data.iter().map(|x| x.ln()).sum::<f64>()
    }

    #[test]
    fn stable_likelihood_matches_the_naive_formula() {
        let data = [3.2, 1.1, 7.9, 2.4, 5.5, 12.0, 0.7, 4.4, 2.2, 9.1];
        for lambda in [-2.0, -0.5, 0.0, 1e-6, 0.3, 1.0, 2.5] {
            let a = ll(&data, lambda);
            let b = ll_naive(&data, lambda);
            assert!(
                (a - b).abs() < 1e-6 * b.abs().max(1.0),
                "λ={lambda}: {a} vs {b}"
            );
        }
    }

    #[test]
    fn round_trip() {
        let lambdas = [
            -5.0, -2.0, -0.5, -1e-12, 0.0, 1e-12, 1e-5, 0.25, 0.5, 1.0, 2.0, 5.0,
        ];
        let xs = [1e-6, 0.003, 0.5, 1.0, 1.7, 12.0, 250.0, 8000.0, 1e6];
        let mut ts: Vec<Transform> = lambdas
            .iter()
            .map(|&l| Transform::BoxCox { lambda: l })
            .collect();
        ts.push(Transform::Log);
        ts.push(Transform::Identity);
        for t in ts {
            for &x in &xs {
                let y = t.apply(x);
                if !y.is_finite() {
                    continue;
                }
                let back = t.invert(y);
                // y = (x^λ − 1)/λ keeps only the digits of x^λ that survive next to 1, so when
                // x^λ is small (large x for λ < 0, x near 0 for λ > 0) the round trip is only
                // accurate to ~ε/x^λ.
                let cond = match t {
                    Transform::BoxCox { lambda } => (1.0 / x.powf(lambda)).max(1.0),
                    _ => 1.0,
                };
                if cond > 1e10 {
                    // x^λ is lost next to 1 (λ = −5, x = 8000 gives y = 0.2 = 1/|λ| exactly).
                    continue;
                }
                let tol = 1e-9 + 1e-14 * cond;
                assert!((back - x).abs() <= tol * x, "{t:?} x={x} y={y} back={back}");
            }
        }
    }

    #[test]
    fn invert_stays_finite_outside_the_range() {
        let pos = Transform::BoxCox { lambda: 0.5 };
        assert_eq!(pos.invert(-2.0), 0.0); // 1 + λy = 0
        assert_eq!(pos.invert(-100.0), 0.0);
        let neg = Transform::BoxCox { lambda: -0.5 };
        assert_eq!(neg.invert(2.0), f64::MAX);
        assert_eq!(neg.invert(1e300), f64::MAX);
        assert!(neg.invert(1.999).is_finite());
        assert_eq!(Transform::Log.invert(1e4), f64::MAX);
        assert_eq!(Transform::Log.invert(-1e4), 0.0);
        assert!(Transform::BoxCox { lambda: 5.0 }.invert(1e300).is_finite());
        assert!(pos.invert(f64::NAN).is_nan());
        assert!(Transform::Log.apply(-1.0).is_nan());
        assert!(pos.apply(0.0).is_nan());
    }

    #[test]
    fn lambda_near_zero_for_log_normal() {
        let mut rng = Rng::new(0x9E37_79B9_7F4A_7C15);
        let data: Vec<f64> = (0..2000)
            .map(|_| (5.0 + 0.6 * rng.normal()).exp())
            .collect();
        let Transform::BoxCox { lambda } = Transform::fit(TransformKind::BoxCox, &data).unwrap()
        else {
            panic!("expected Box-Cox")
        };
        assert!(lambda.abs() < 0.15, "λ = {lambda}");
    }

    #[test]
    fn lambda_for_normal_data_is_a_maximum() {
        let mut rng = Rng::new(42);
        let data: Vec<f64> = (0..2000).map(|_| 100.0 + 5.0 * rng.normal()).collect();
        let Transform::BoxCox { lambda } = Transform::fit(TransformKind::BoxCox, &data).unwrap()
        else {
            panic!("expected Box-Cox")
        };
        // The likelihood is flat here (CV 5%), so λ itself is poorly determined.
        // (λ is 1.27 for this seed; other seeds give anything from 0.3 to 1.3.)
        assert!((lambda - 1.0).abs() < 0.6, "λ = {lambda}");
        let best = ll(&data, lambda);
        assert!(best >= ll(&data, 1.0) - 1e-9);
        assert!(best >= ll(&data, 0.0) - 1e-9);
        // And it is a local maximum.
        assert!(best >= ll(&data, lambda + 1e-3) - 1e-9);
        assert!(best >= ll(&data, lambda - 1e-3) - 1e-9);
    }

    #[test]
    fn lambda_near_half_for_squared_normal() {
        // If sqrt(x) is normal, λ = 0.5 makes x normal.
        let mut rng = Rng::new(7);
        let data: Vec<f64> = (0..4000).map(|_| (10.0 + rng.normal()).powi(2)).collect();
        let Transform::BoxCox { lambda } = Transform::fit(TransformKind::BoxCox, &data).unwrap()
        else {
            panic!("expected Box-Cox")
        };
        assert!((lambda - 0.5).abs() < 0.3, "λ = {lambda}");
    }

    #[test]
    fn lambda_stays_in_range_and_handles_huge_values() {
        // Extremely right-skewed: λ may hit the range edge; no overflow, no panic.
        let data: Vec<f64> = (1..=50).map(|i| 10f64.powi(i * 6)).collect();
        let t = Transform::fit(TransformKind::BoxCox, &data).unwrap();
        let Transform::BoxCox { lambda } = t else {
            panic!()
        };
        assert!((LAMBDA_MIN..=LAMBDA_MAX).contains(&lambda));
        let tiny: Vec<f64> = (1..=50).map(|i| 1e-300 * i as f64).collect();
        assert!(Transform::fit(TransformKind::BoxCox, &tiny).is_ok());
    }

    #[test]
    fn non_positive_data_error_names_the_index() {
        let mut data = vec![1.0; 20];
        data[12] = -3.0;
        for kind in [TransformKind::Log, TransformKind::BoxCox] {
            let err = Transform::fit(kind, &data).unwrap_err();
            assert_eq!(
                err.to_string(),
                "data: observation 12: -3 is not positive; log and Box-Cox transforms need \
                 positive data"
            );
            let err = Transform::Log.apply_all(&data).unwrap_err();
            assert!(err.to_string().contains("observation 12"));
        }
        assert_eq!(
            Transform::fit(TransformKind::None, &data).unwrap(),
            Transform::Identity
        );
        assert_eq!(Transform::Identity.apply_all(&data).unwrap(), data);
        data[3] = 0.0;
        assert!(Transform::fit(TransformKind::Log, &data)
            .unwrap_err()
            .to_string()
            .contains("observation 3"));
    }

    #[test]
    fn other_errors() {
        assert!(matches!(
            Transform::fit(TransformKind::BoxCox, &[1.0, f64::NAN]),
            Err(SpcError::NotFinite { index: 1, .. })
        ));
        assert!(matches!(
            Transform::fit(TransformKind::BoxCox, &[1.0, 2.0]),
            Err(SpcError::TooFewPoints { .. })
        ));
        assert!(matches!(
            Transform::fit(TransformKind::BoxCox, &[4.0; 10]),
            Err(SpcError::InvalidParameter { name: "data", .. })
        ));
        assert!(Transform::fit(TransformKind::Log, &[]).is_ok());
        let big = Transform::BoxCox { lambda: 5.0 };
        assert!(big.apply_all(&[1e100]).is_err());
        assert!(matches!(
            Transform::Log.apply_all(&[f64::INFINITY]),
            Err(SpcError::NotFinite { .. })
        ));
    }

    #[test]
    fn parse_and_names() {
        assert_eq!(
            "none".parse::<TransformKind>().unwrap(),
            TransformKind::None
        );
        assert_eq!("log".parse::<TransformKind>().unwrap(), TransformKind::Log);
        assert_eq!(
            "box-cox".parse::<TransformKind>().unwrap(),
            TransformKind::BoxCox
        );
        assert_eq!(
            " BoxCox ".parse::<TransformKind>().unwrap(),
            TransformKind::BoxCox
        );
        let err = "sqrt".parse::<TransformKind>().unwrap_err().to_string();
        assert!(err.contains("none, log, box-cox"), "{err}");
        assert_eq!(Transform::Identity.name(), "none");
        assert_eq!(Transform::Log.name(), "log");
        assert_eq!(Transform::BoxCox { lambda: 0.3 }.name(), "box-cox");
    }
}
