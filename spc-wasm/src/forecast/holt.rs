//! Holt's linear method with a damped trend, ETS(A,Ad,N) (Hyndman & Athanasopoulos,
//! *Forecasting: Principles and Practice*, 3rd ed., §8.2 and §8.7; Gardner & McKenzie 1985).
//!
//! In error-correction form, with one-step error `e_t = y_t − (ℓ_{t−1} + φ b_{t−1})`:
//! `ℓ_t = ℓ_{t−1} + φ b_{t−1} + α e_t`, `b_t = φ b_{t−1} + α β* e_t`; the forecast `h` steps
//! ahead is `ℓ_T + (φ + φ² + … + φ^h) b_T`. Its variance (FPP3 §8.7, Table 8.8, class 1) is
//! `σ² [1 + Σ_{j=1}^{h−1} c_j²]` with `c_j = α + α β* φ (1 − φ^j)/(1 − φ)`, and the intervals
//! are normal. The start is R's `HoltWinters`: `ℓ = y_2`, `b = y_2 − y_1`, errors from the
//! third point on, so with `φ = 1` the states and the SSE are exactly `HoltWinters(x, alpha,
//! beta, gamma = FALSE)`'s. `σ²` is the SSE over the errors less the three parameters.
//!
//! [`Holt::fit_best`] picks `α`, `β*` and `φ` by the least one-step SSE on a grid (`φ` from
//! 0.8 to 0.98, FPP3's usual range, so the trend always damps).

/// A fitted damped-trend Holt model, at the last point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Holt {
    /// Level smoothing.
    pub alpha: f64,
    /// Trend smoothing `β*` (the state-space `β` is `α β*`).
    pub beta: f64,
    /// Damping.
    pub phi: f64,
    /// The level at the last point.
    pub level: f64,
    /// The trend at the last point.
    pub trend: f64,
    /// The sum of squared one-step errors.
    pub sse: f64,
    /// The one-step error variance.
    pub sigma2: f64,
}

const ALPHAS: [f64; 10] = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.95];
const BETAS: [f64; 7] = [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5];
const PHIS: [f64; 5] = [0.8, 0.85, 0.9, 0.95, 0.98];

impl Holt {
    /// The model with these parameters run through `y`. `None` below 5 points (two start it,
    /// and the variance needs more errors than parameters).
    pub fn fit(y: &[f64], alpha: f64, beta: f64, phi: f64) -> Option<Holt> {
        if y.len() < 5 {
            return None;
        }
        let (mut level, mut trend) = (y[1], y[1] - y[0]);
        let mut sse = 0.0;
        for &v in &y[2..] {
            let e = v - (level + phi * trend);
            sse += e * e;
            level += phi * trend + alpha * e;
            trend = phi * trend + alpha * beta * e;
        }
        let errors = (y.len() - 2) as f64;
        Some(Holt {
            alpha,
            beta,
            phi,
            level,
            trend,
            sse,
            sigma2: sse / (errors - 3.0),
        })
    }

    /// The grid's best model by one-step SSE (module docs).
    pub fn fit_best(y: &[f64]) -> Option<Holt> {
        let mut best: Option<Holt> = None;
        for &phi in &PHIS {
            for &alpha in &ALPHAS {
                for &beta in &BETAS {
                    let m = Holt::fit(y, alpha, beta, phi)?;
                    if best.is_none_or(|b| m.sse < b.sse) {
                        best = Some(m);
                    }
                }
            }
        }
        best
    }

    /// The point forecast `h ≥ 1` steps past the last point.
    pub fn forecast(&self, h: usize) -> f64 {
        self.level + damped_sum(self.phi, h) * self.trend
    }

    /// The forecast variance `h ≥ 1` steps ahead.
    pub fn variance(&self, h: usize) -> f64 {
        let sum: f64 = (1..h)
            .map(|j| {
                let c = self.alpha + self.alpha * self.beta * damped_sum(self.phi, j);
                c * c
            })
            .sum();
        self.sigma2 * (1.0 + sum)
    }
}

/// `φ + φ² + … + φ^h` (`h` when `φ = 1`).
fn damped_sum(phi: f64, h: usize) -> f64 {
    if (phi - 1.0).abs() < 1e-12 {
        h as f64
    } else {
        phi * (1.0 - phi.powi(h as i32)) / (1.0 - phi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_straight_line_is_forecast_exactly_without_damping() {
        let y: Vec<f64> = (0..30).map(|i| 5.0 + 2.0 * i as f64).collect();
        let m = Holt::fit(&y, 0.5, 0.3, 1.0).unwrap();
        assert!(m.sse < 1e-18);
        assert!((m.forecast(10) - (5.0 + 2.0 * 39.0)).abs() < 1e-9);
        assert!(Holt::fit(&y[..4], 0.5, 0.3, 1.0).is_none());
    }

    #[test]
    fn damping_flattens_the_forecast_and_the_variance_grows() {
        let y: Vec<f64> = (0..30).map(|i| 2.0 * i as f64 + (i % 3) as f64).collect();
        let m = Holt::fit_best(&y).unwrap();
        assert!(m.phi < 1.0);
        let step = |h| m.forecast(h + 1) - m.forecast(h);
        assert!(step(20) < step(1));
        assert!(m.variance(10) > m.variance(1));
    }
}
