//! The straight line through a degradation: least squares with the textbook intervals, widened
//! for AR(1) autocorrelation, and its exponential variant (the line through `ln y`).
//!
//! - **Intervals** (Montgomery & Runger, *Applied Statistics and Probability for Engineers*,
//!   6th ed., §11-7): the mean response at `x` has standard error
//!   `s sqrt(1/n + (x − x̄)²/Sxx)`; a new observation, `s sqrt(1 + 1/n + (x − x̄)²/Sxx)`; both
//!   with Student's t on `n − 2` degrees of freedom. [`Line::fit_iid`] is exactly R's
//!   `lm` + `predict(interval = "prediction")`.
//! - **Autocorrelation** ([`Line::fit`]): with lag-1 autocorrelation `r` of the residuals
//!   (`r > 0`), the estimates' standard errors grow by `sqrt((1 + r)/(1 − r))` and the degrees
//!   of freedom fall to `n_eff − 2`, `n_eff = n (1 − r)/(1 + r)` (the effective sample size of
//!   an AR(1) series; Santer et al. 2000, J. Geophys. Res. 105:7337–7356, for the trend of a
//!   series). The noise term of a new observation is not widened: its variance is `s²` either
//!   way.

use super::student::{t_quantile, t_scale};
use crate::Rng;

/// A least-squares line `y = mean + slope (x − x_mean)` with what its intervals need.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Line {
    /// Points fitted.
    pub n: usize,
    /// Mean of the x values.
    pub x_mean: f64,
    /// Mean of the y values (the line's height at `x_mean`).
    pub mean: f64,
    /// The slope per unit of x.
    pub slope: f64,
    /// `Σ (x − x̄)²`.
    pub sxx: f64,
    /// The residual standard deviation `sqrt(RSS / (n − 2))`.
    pub s: f64,
    /// Lag-1 autocorrelation of the residuals (0 for [`Line::fit_iid`]).
    pub r1: f64,
    /// The factor on the estimates' standard errors: `sqrt((1 + r)/(1 − r))`, 1 when `r ≤ 0`.
    pub inflation: f64,
    /// Degrees of freedom of the t intervals.
    pub df: f64,
}

/// The largest lag-1 autocorrelation used (beyond it a line is not the model).
const R1_MAX: f64 = 0.95;

impl Line {
    /// Ordinary least squares of `y` on `x0, x0 + 1, …` with independent errors. `None` below
    /// 3 points.
    pub fn fit_iid(x0: f64, y: &[f64]) -> Option<Line> {
        let n = y.len();
        if n < 3 {
            return None;
        }
        let nf = n as f64;
        let x_mean = x0 + (nf - 1.0) / 2.0;
        let mean = y.iter().sum::<f64>() / nf;
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for (i, &v) in y.iter().enumerate() {
            let dx = x0 + i as f64 - x_mean;
            sxy += dx * (v - mean);
            sxx += dx * dx;
        }
        let slope = sxy / sxx;
        let rss: f64 = y
            .iter()
            .enumerate()
            .map(|(i, &v)| (v - mean - slope * (x0 + i as f64 - x_mean)).powi(2))
            .sum();
        Some(Line {
            n,
            x_mean,
            mean,
            slope,
            sxx,
            s: (rss / (nf - 2.0)).sqrt(),
            r1: 0.0,
            inflation: 1.0,
            df: nf - 2.0,
        })
    }

    /// [`Line::fit_iid`] with the intervals widened for the residuals' lag-1 autocorrelation
    /// (module docs).
    pub fn fit(x0: f64, y: &[f64]) -> Option<Line> {
        let mut line = Line::fit_iid(x0, y)?;
        let residual = |i: usize| y[i] - line.at(x0 + i as f64);
        let (mut num, mut den) = (0.0, 0.0);
        for i in 0..y.len() {
            let e = residual(i);
            den += e * e;
            if i > 0 {
                num += e * residual(i - 1);
            }
        }
        let r = if den > 0.0 { num / den } else { 0.0 };
        if r > 0.0 {
            let r = r.min(R1_MAX);
            line.r1 = r;
            line.inflation = ((1.0 + r) / (1.0 - r)).sqrt();
            let n_eff = line.n as f64 * (1.0 - r) / (1.0 + r);
            line.df = (n_eff - 2.0).max(1.0);
        } else {
            line.r1 = r;
        }
        Some(line)
    }

    /// The same line upside down (`−y`), so a downward crossing is an upward one.
    pub fn mirrored(&self) -> Line {
        Line {
            mean: -self.mean,
            slope: -self.slope,
            ..*self
        }
    }

    /// The line's height at `x`.
    pub fn at(&self, x: f64) -> f64 {
        self.mean + self.slope * (x - self.x_mean)
    }

    /// The standard error of the slope.
    pub fn slope_se(&self) -> f64 {
        self.inflation * self.s / self.sxx.sqrt()
    }

    /// The two-sided `level` confidence interval of the slope.
    pub fn slope_interval(&self, level: f64) -> (f64, f64) {
        let half = t_quantile(0.5 + level / 2.0, self.df) * self.slope_se();
        (self.slope - half, self.slope + half)
    }

    /// The standard error of the mean response (the level) at `x`.
    pub fn mean_se(&self, x: f64) -> f64 {
        let d = x - self.x_mean;
        self.inflation * self.s * (1.0 / self.n as f64 + d * d / self.sxx).sqrt()
    }

    /// The standard error of a new observation at `x`.
    pub fn prediction_se(&self, x: f64) -> f64 {
        (self.s * self.s + self.mean_se(x).powi(2)).sqrt()
    }

    /// The two-sided `level` prediction interval of a new observation at `x`.
    pub fn prediction(&self, x: f64, level: f64) -> (f64, f64) {
        let half = t_quantile(0.5 + level / 2.0, self.df) * self.prediction_se(x);
        (self.at(x) - half, self.at(x) + half)
    }

    /// How far past `x_last` the level crosses `limit` going up, for `draws` lines drawn from
    /// the estimates' distribution (a bivariate t: mean and slope are uncorrelated in this
    /// parametrization, and share one chi-square scale). `f64::INFINITY` when a drawn line
    /// never crosses; 0 when it is already at or past the limit at `x_last`. Seeded: the same
    /// line gives the same draws.
    pub fn crossings_up(&self, x_last: f64, limit: f64, draws: usize, seed: u64) -> Vec<f64> {
        let mut rng = Rng::new(seed);
        let se_mean = self.inflation * self.s / (self.n as f64).sqrt();
        let se_slope = self.slope_se();
        (0..draws)
            .map(|_| {
                let w = t_scale(&mut rng, self.df);
                let mean = self.mean + se_mean * rng.normal() * w;
                let slope = self.slope + se_slope * rng.normal() * w;
                let now = mean + slope * (x_last - self.x_mean);
                if now >= limit {
                    0.0
                } else if slope > 0.0 {
                    (limit - now) / slope
                } else {
                    f64::INFINITY
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_noiseless_line_is_recovered() {
        let y: Vec<f64> = (0..20).map(|i| 3.0 + 0.5 * (10 + i) as f64).collect();
        let line = Line::fit(10.0, &y).unwrap();
        assert!((line.slope - 0.5).abs() < 1e-12);
        assert!((line.at(40.0) - 23.0).abs() < 1e-9);
        assert!(Line::fit(0.0, &y[..2]).is_none());
    }

    #[test]
    fn crossings_centre_on_the_fitted_line() {
        let mut rng = Rng::new(11);
        let y: Vec<f64> = (0..200).map(|i| 0.05 * i as f64 + rng.normal()).collect();
        let line = Line::fit(0.0, &y).unwrap();
        let mut c = line.crossings_up(199.0, 20.0, 2001, 5);
        c.sort_by(f64::total_cmp);
        let expected = (20.0 - line.at(199.0)) / line.slope;
        assert!(
            (c[1000] - expected).abs() < 0.05 * expected,
            "{} vs {expected}",
            c[1000]
        );
    }
}
