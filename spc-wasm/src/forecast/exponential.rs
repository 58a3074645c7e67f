//! Exponential degradation with an offset, `y = θ + s e^{a + b t}` (the form of MATLAB's
//! `exponentialDegradationModel`, `θ + φ e^{β t}`; Gebraeel et al. 2005, IIE Transactions
//! 37:543–557), `s = +1` for wear that grows towards an upper limit and `−1` for a fall
//! towards a lower one.
//!
//! Given `θ`, `ln(s (y − θ))` is a straight line, fitted by [`Line::fit`] (so its intervals and
//! the time to limit's draws are the line's, on that scale). `θ` is profiled: the offset
//! `θ = edge − s 2^k (max y − min y)` (the edge: `min y` for growth, `max y` for a fall) of the
//! highest likelihood of the data (the log-scale normal likelihood times the transform's
//! Jacobian `Π 1/|y − θ|`, as in a Box–Cox profile), `k` from a grid of −8..=8 refined by
//! golden-section search between the best point's neighbours; or `θ = 0` (plain exponential
//! growth) when every value is on its side of 0 and it does better. As `θ` goes far away this
//! likelihood tends to the straight line's, so a line is covered too. The uncertainty of `θ`
//! itself is not carried into the intervals.
//!
//! The forecasts now use [`wear`](super::wear) instead, which fits on the data's own scale
//! (additive noise) and carries the offset's uncertainty; this log-scale fit suits
//! multiplicative noise and stays for callers that want it.

use super::linear::Line;

/// A fitted offset exponential.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Exponential {
    /// The offset `θ`.
    pub theta: f64,
    /// `+1` (growth) or `−1` (fall).
    pub sign: f64,
    /// The line through `ln(s (y − θ))`.
    pub line: Line,
}

impl Exponential {
    /// The most likely offset exponential through `y` at `x0, x0 + 1, …`, growing (`up`) or
    /// falling. `None` below 3 points or when `y` does not vary.
    pub fn fit(x0: f64, y: &[f64], up: bool) -> Option<Exponential> {
        let (lo, hi) = y
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        let spread = hi - lo;
        if y.len() < 3 || spread.is_nan() || spread <= 0.0 {
            return None;
        }
        let sign = if up { 1.0 } else { -1.0 };
        let edge = if up { lo } else { hi };
        let at = |k: f64| edge - sign * spread * k.exp2();
        let fitted = |theta: f64| Exponential::with_offset(x0, y, theta, sign);
        let cost = |k: f64| fitted(at(k)).map_or(f64::INFINITY, |(c, _)| c);
        let mut best = (-8..=8)
            .map(f64::from)
            .min_by(|&a, &b| cost(a).total_cmp(&cost(b)))?;
        // Golden-section search between the grid's neighbours.
        let (mut a, mut b) = (best - 1.0, best + 1.0);
        let g = (5f64.sqrt() - 1.0) / 2.0;
        for _ in 0..30 {
            let (c, d) = (b - g * (b - a), a + g * (b - a));
            if cost(c) < cost(d) {
                b = d;
            } else {
                a = c;
            }
        }
        if cost((a + b) / 2.0) < cost(best) {
            best = (a + b) / 2.0;
        }
        let mut found = fitted(at(best))?;
        if sign * edge > 0.0 {
            if let Some(zero) = fitted(0.0).filter(|z| z.0 < found.0) {
                found = zero;
            }
        }
        Some(found.1)
    }

    /// The fit at offset `theta` and its cost: minus the profile log-likelihood of `y` (the
    /// log-scale normal likelihood and the transform's Jacobian), less constants.
    fn with_offset(x0: f64, y: &[f64], theta: f64, sign: f64) -> Option<(f64, Exponential)> {
        let logs: Vec<f64> = y.iter().map(|&v| (sign * (v - theta)).ln()).collect();
        let line = Line::fit(x0, &logs)?;
        let m = y.len() as f64;
        let rss = line.s * line.s * (m - 2.0);
        let cost = m / 2.0 * (rss / m).ln() + logs.iter().sum::<f64>();
        let e = Exponential { theta, sign, line };
        cost.is_finite().then_some((cost, e))
    }

    /// A value on the line's (log) scale back on the data's.
    pub fn from_log(&self, l: f64) -> f64 {
        self.theta + self.sign * l.exp()
    }

    /// A value of the data on the line's scale; `None` on the offset's wrong side (a limit
    /// the curve never reaches).
    pub fn to_log(&self, v: f64) -> Option<f64> {
        let u = self.sign * (v - self.theta);
        (u > 0.0).then(|| u.ln())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offset_and_the_rate_are_recovered() {
        // 40 + 2 e^{0.01 t} with a little noise.
        let mut rng = crate::Rng::new(9);
        let y: Vec<f64> = (0..300)
            .map(|i| 40.0 + 2.0 * (0.01 * i as f64).exp() + 0.05 * rng.normal())
            .collect();
        let e = Exponential::fit(0.0, &y, true).unwrap();
        assert!((e.line.slope - 0.01).abs() < 0.0005, "{e:?}");
        assert!((e.theta - 40.0).abs() < 0.5, "{e:?}");
        assert!(e.to_log(e.theta - 1.0).is_none());
        // A fall towards a lower limit: the mirror image.
        let down: Vec<f64> = y.iter().map(|v| 100.0 - v).collect();
        let m = Exponential::fit(0.0, &down, false).unwrap();
        assert!((m.line.slope - e.line.slope).abs() < 1e-9 && m.sign < 0.0);
        assert!((m.theta - (100.0 - e.theta)).abs() < 1e-6);
        assert!(Exponential::fit(0.0, &[1.0; 10], true).is_none());
    }
}
