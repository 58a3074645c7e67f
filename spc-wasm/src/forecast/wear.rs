//! Exponential wear fitted on the data's own scale: `y = θ + φ e^{c (x − x_last) / m}` with
//! additive noise (MATLAB's `exponentialDegradationModel`, `θ + φ e^{β t}`, with `β = c / m`
//! over a window of `m` points), by nonlinear least squares, with the estimates' covariance
//! carried into the band and the time to limit.
//!
//! - **The fit** (separable least squares, Golub & Pereyra 1973, SIAM J. Numer. Anal.
//!   10:413–432): for a fixed rate `c` the model is linear in `θ` and `φ`, so the residual sum
//!   of squares is profiled over `c` alone: a grid of `ln c` refined by golden-section search.
//!   It runs on at most [`BLOCKS`] block means of the window (aligned on the last point), so
//!   a fit costs O(m) + O(128 × 60), and block means of AR(1) noise are nearly independent.
//!   Only a curve bending towards the limit is wear: `φ` must have the degradation's sign and
//!   `c > 0`.
//! - **Line or curve** ([`Wear::bends`]): Schwarz's BIC (Schwarz 1978, Ann. Statist.
//!   6:461–464), `k ln(RSS / k) + p ln k` on the same `k` block means, with `p = 2` for the line
//!   and 3 for the curve; the curve must win by [`STRONG`]. When the window joins pieces that
//!   PELT cut, the curve must also beat those pieces' separate lines (3 parameters per
//!   changepoint: its location, and the new line's level and slope), which a kink fits best.
//! - **Uncertainty** (Seber & Wild, *Nonlinear Regression*, 1989, §2.1 and §5.1): the
//!   estimates `(θ, φ, ln c)` are approximately normal with covariance `s² (JᵀJ)⁻¹`, `J` the
//!   Jacobian at the estimate and `s²` the block means' residual variance, widened by
//!   `(1 + r)/(1 − r)` for the residuals' lag-1 autocorrelation `r` with `k (1 − r)/(1 + r)`
//!   effective points, as [`Line::fit`](super::linear::Line::fit) does. The band is the delta
//!   method's `gᵀ Σ g` plus one observation's variance; the time to limit draws `(θ, φ, ln c)`
//!   from that distribution (a multivariate t, as the line's draws; simulating from the
//!   estimates' asymptotic distribution: Krinsky & Robb 1986, Rev. Econ. Stat. 68:715–719),
//!   so the offset's uncertainty is in the interval.

use super::student::{t_quantile, t_scale};
use crate::Rng;

/// At most this many block means are fitted.
pub const BLOCKS: usize = 128;
/// The fewest block means a curve is fitted on (three parameters and a variance).
const MIN_BLOCKS: usize = 8;
/// The rate grid, `ln c` from `ln 0.02` to `ln 40` (over the window, `e^c` is the growth of
/// the curve's distance from its offset: from 2% to e^40).
const LN_C: (f64, f64) = (-3.912, 3.689);
const GRID: usize = 24;
/// A BIC difference that is "strong" evidence (6 to 10 on Kass & Raftery's scale, 1995, JASA
/// 90:773–795; twice the log Bayes factor): a chance wiggle at the end of a straight window
/// rarely earns it.
pub const STRONG: f64 = 6.0;

/// A fitted exponential wear curve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Wear {
    /// The x of the window's last point, where `φ` is the curve's distance from `θ`.
    pub x_last: f64,
    /// The window's length `m`, the unit of the rate.
    pub span: f64,
    /// The offset `θ`.
    pub theta: f64,
    /// The curve's distance from `θ` at `x_last`.
    pub phi: f64,
    /// The rate over the window, `c` (per point: `c / m`).
    pub rate: f64,
    /// The covariance of `(θ, φ, ln c)` (the rate is drawn on the log scale, where it is
    /// searched: it stays positive, and its skew is kept).
    pub cov: [[f64; 3]; 3],
    /// Degrees of freedom of the t intervals.
    pub df: f64,
    /// One observation's residual standard deviation (for the band).
    pub s: f64,
    /// BIC of the curve on the block means.
    pub bic: f64,
    /// BIC of the straight line on the same block means.
    pub line_bic: f64,
    /// BIC of separate lines between the changepoints given to [`Wear::fit_against`] (each
    /// with its location as a parameter; infinite without changepoints).
    pub pieces_bic: f64,
}

/// Block means of `y` (at `x0, x0 + 1, …`) and their x, at most [`BLOCKS`], aligned on the
/// last point.
fn blocks(x0: f64, y: &[f64]) -> (Vec<f64>, Vec<f64>, usize) {
    let size = y.len().div_ceil(BLOCKS).max(1);
    let k = y.len() / size;
    let offset = y.len() - k * size;
    let z = y[offset..]
        .chunks_exact(size)
        .map(|b| b.iter().sum::<f64>() / size as f64)
        .collect();
    let x = (0..k)
        .map(|j| x0 + (offset + j * size) as f64 + (size - 1) as f64 / 2.0)
        .collect();
    (x, z, size)
}

/// The residual sum of squares of separate lines through the block means between `cuts`
/// (a block belongs to the piece its centre `x` falls in); `None` without cuts or when a
/// piece has fewer than 3 blocks.
fn pieces_rss(x: &[f64], u: &[f64], z: &[f64], cuts: &[usize]) -> Option<f64> {
    if cuts.is_empty() {
        return None;
    }
    let mut total = 0.0;
    let mut first = 0;
    for end in cuts.iter().map(|&c| Some(c as f64)).chain([None]) {
        let last = end.map_or(x.len(), |c| {
            first + x[first..].partition_point(|&xi| xi < c)
        });
        if last - first < 3 {
            return None;
        }
        total += two_regressors(&u[first..last], &z[first..last]).2;
        first = last;
    }
    Some(total)
}

/// Least squares of `z` on `1` and `g`: `(θ, φ, RSS)`.
fn two_regressors(g: &[f64], z: &[f64]) -> (f64, f64, f64) {
    let k = z.len() as f64;
    let (gm, zm) = (g.iter().sum::<f64>() / k, z.iter().sum::<f64>() / k);
    let (mut sgg, mut sgz, mut szz) = (0.0, 0.0, 0.0);
    for (&a, &b) in g.iter().zip(z) {
        let (dg, dz) = (a - gm, b - zm);
        sgg += dg * dg;
        sgz += dg * dz;
        szz += dz * dz;
    }
    if sgg <= 0.0 {
        return (zm, 0.0, szz);
    }
    let phi = sgz / sgg;
    (zm - phi * gm, phi, (szz - phi * sgz).max(0.0))
}

impl Wear {
    /// The least-squares wear curve through `y` at `x0, x0 + 1, …`, growing (`up`) or falling.
    /// `None` when the window gives fewer than 8 block means, or the best curve does not bend
    /// towards the limit.
    pub fn fit(x0: f64, y: &[f64], up: bool) -> Option<Wear> {
        Wear::fit_against(x0, y, up, &[])
    }

    /// [`Wear::fit`], also scoring the piecewise lines with changepoints at `cuts` (points,
    /// on the same x as `x0`), which a kink (a flat stretch, then a drift) fits better than
    /// any curve.
    pub fn fit_against(x0: f64, y: &[f64], up: bool, cuts: &[usize]) -> Option<Wear> {
        let (x, z, size) = blocks(x0, y);
        let k = z.len();
        if k < MIN_BLOCKS {
            return None;
        }
        let x_last = x0 + (y.len() - 1) as f64;
        let span = y.len() as f64;
        let u: Vec<f64> = x.iter().map(|&xi| (xi - x_last) / span).collect();
        let mut g = vec![0.0; k];
        let mut rss = |ln_c: f64| {
            let c = ln_c.exp();
            for (gi, &ui) in g.iter_mut().zip(&u) {
                *gi = (c * ui).exp();
            }
            two_regressors(&g, &z)
        };
        let step = (LN_C.1 - LN_C.0) / (GRID - 1) as f64;
        let (mut best, mut best_rss) = (LN_C.0, f64::INFINITY);
        for i in 0..GRID {
            let l = LN_C.0 + step * i as f64;
            let r = rss(l).2;
            if r < best_rss {
                (best, best_rss) = (l, r);
            }
        }
        // Golden-section search between the best grid point's neighbours.
        let (mut a, mut b) = ((best - step).max(LN_C.0), (best + step).min(LN_C.1));
        let gr = (5f64.sqrt() - 1.0) / 2.0;
        for _ in 0..24 {
            let (c1, c2) = (b - gr * (b - a), a + gr * (b - a));
            if rss(c1).2 < rss(c2).2 {
                b = c2;
            } else {
                a = c1;
            }
        }
        let mid = (a + b) / 2.0;
        if rss(mid).2 < best_rss {
            best = mid;
        }
        let (theta, phi, rss_curve) = rss(best);
        let rate = best.exp();
        if (phi > 0.0) != up || phi == 0.0 {
            return None;
        }
        let line_rss = two_regressors(&u, &z).2;
        let kf = k as f64;
        let bic = |r: f64, p: f64| kf * (r / kf).max(f64::MIN_POSITIVE).ln() + p * kf.ln();
        let pieces_bic = pieces_rss(&x, &u, &z, cuts)
            .map_or(f64::INFINITY, |r| bic(r, 3.0 * cuts.len() as f64 + 2.0));
        // The Jacobian's cross products at the estimate, and the residuals' lag-1
        // autocorrelation.
        let mut jtj = [[0.0; 3]; 3];
        let (mut num, mut den, mut prev) = (0.0, 0.0, None);
        for (&ui, &zi) in u.iter().zip(&z) {
            let e = (rate * ui).exp();
            let j = [1.0, e, phi * ui * e * rate];
            for (row, &ja) in jtj.iter_mut().zip(&j) {
                for (cell, &jb) in row.iter_mut().zip(&j) {
                    *cell += ja * jb;
                }
            }
            let resid = zi - theta - phi * e;
            den += resid * resid;
            if let Some(p) = prev {
                num += resid * p;
            }
            prev = Some(resid);
        }
        let r = if den > 0.0 {
            (num / den).clamp(0.0, 0.95)
        } else {
            0.0
        };
        let widen = (1.0 + r) / (1.0 - r);
        let s2 = rss_curve / (kf - 3.0);
        let inv = inverse(&jtj)?;
        let cov = inv.map(|row| row.map(|v| v * s2 * widen));
        Some(Wear {
            x_last,
            span,
            theta,
            phi,
            rate,
            cov,
            df: (kf * (1.0 - r) / (1.0 + r) - 3.0).max(1.0),
            // A block mean of `size` independent points has 1/size of one point's variance.
            s: (s2 * size as f64).sqrt(),
            bic: bic(rss_curve, 3.0),
            line_bic: bic(line_rss, 2.0),
            pieces_bic,
        })
    }

    /// The curve fits the window clearly better than a straight line and than the piecewise
    /// lines: its BIC lower than both by at least [`STRONG`].
    pub fn bends(&self) -> bool {
        self.bic + STRONG <= self.line_bic.min(self.pieces_bic)
    }

    /// The curve's level at `x`.
    pub fn at(&self, x: f64) -> f64 {
        self.theta + self.phi * (self.rate * (x - self.x_last) / self.span).exp()
    }

    /// The standard error of the level at `x` (the delta method).
    pub fn mean_se(&self, x: f64) -> f64 {
        let u = (x - self.x_last) / self.span;
        let e = (self.rate * u).exp();
        let g = [1.0, e, self.phi * u * e * self.rate];
        let mut v = 0.0;
        for (row, &ga) in self.cov.iter().zip(&g) {
            for (&c, &gb) in row.iter().zip(&g) {
                v += ga * c * gb;
            }
        }
        v.max(0.0).sqrt()
    }

    /// The two-sided `level` prediction interval of a new observation at `x`.
    pub fn prediction(&self, x: f64, level: f64) -> (f64, f64) {
        let se = (self.s * self.s + self.mean_se(x).powi(2)).sqrt();
        let half = t_quantile(0.5 + level / 2.0, self.df) * se;
        (self.at(x) - half, self.at(x) + half)
    }

    /// How far past `x_last` the level crosses `limit` (upwards when `up`, else downwards),
    /// for `draws` curves drawn from the estimates' distribution; `f64::INFINITY` when a drawn
    /// curve never crosses, 0 when it is already there. Seeded.
    pub fn crossings(&self, limit: f64, up: bool, draws: usize, seed: u64) -> Vec<f64> {
        let chol = cholesky(&self.cov);
        let flip = if up { 1.0 } else { -1.0 };
        let mut rng = Rng::new(seed);
        (0..draws)
            .map(|_| {
                let w = t_scale(&mut rng, self.df);
                let z = [rng.normal(), rng.normal(), rng.normal()];
                let d = |i: usize| w * (0..=i).map(|j| chol[i][j] * z[j]).sum::<f64>();
                let (theta, phi) = (self.theta + d(0), self.phi + d(1));
                let c = (self.rate.ln() + d(2)).exp();
                // On the limit's side the curve rises: flip a fall.
                let (theta, phi, limit) = (flip * theta, flip * phi, flip * limit);
                if theta + phi >= limit {
                    return 0.0;
                }
                let ratio = (limit - theta) / phi;
                let t = self.span * ratio.ln() / c;
                if ratio > 0.0 && t > 0.0 && t.is_finite() {
                    t
                } else {
                    f64::INFINITY
                }
            })
            .collect()
    }
}

/// The inverse of a symmetric positive definite 3 × 3 matrix (`None` when singular).
fn inverse(m: &[[f64; 3]; 3]) -> Option<[[f64; 3]; 3]> {
    let c = |i: usize, j: usize| {
        let (r0, r1) = ((i + 1) % 3, (i + 2) % 3);
        let (c0, c1) = ((j + 1) % 3, (j + 2) % 3);
        m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0]
    };
    let det = m[0][0] * c(0, 0) + m[0][1] * c(0, 1) + m[0][2] * c(0, 2);
    if !(det.is_finite() && det > 0.0) {
        return None;
    }
    // The cofactors (with their signs, by the cyclic indices) transposed, over the
    // determinant.
    let mut inv = [[0.0; 3]; 3];
    for (i, row) in inv.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = c(j, i) / det;
        }
    }
    Some(inv)
}

/// The lower Cholesky factor of a covariance (a non-positive pivot gives a zero column: that
/// direction is not drawn).
fn cholesky(a: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let mut l = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                l[i][i] = (a[i][i] - s).max(0.0).sqrt();
            } else if l[j][j] > 0.0 {
                l[i][j] = (a[i][j] - s) / l[j][j];
            }
        }
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offset_and_the_rate_are_recovered_and_the_curve_beats_a_line() {
        // 40 + 2 e^{0.01 t} with a little noise, 300 points.
        let mut rng = Rng::new(9);
        let y: Vec<f64> = (0..300)
            .map(|i| 40.0 + 2.0 * (0.01 * i as f64).exp() + 0.05 * rng.normal())
            .collect();
        let w = Wear::fit(0.0, &y, true).unwrap();
        assert!((w.rate / w.span - 0.01).abs() < 0.0005, "{w:?}");
        assert!((w.theta - 40.0).abs() < 0.5, "{w:?}");
        assert!(
            (w.at(299.0) - (40.0 + 2.0 * 2.99f64.exp())).abs() < 0.1,
            "{w:?}"
        );
        assert!(w.bends());
        // A fall towards a lower limit is its mirror image; it does not bend upwards.
        let down: Vec<f64> = y.iter().map(|v| 100.0 - v).collect();
        let m = Wear::fit(0.0, &down, false).unwrap();
        assert!((m.rate - w.rate).abs() < 1e-6 && (m.theta - (100.0 - w.theta)).abs() < 1e-6);
        assert!(Wear::fit(0.0, &down, true).is_none());
    }

    #[test]
    fn a_straight_line_does_not_bend() {
        let mut rng = Rng::new(10);
        let y: Vec<f64> = (0..2000)
            .map(|i| 50.0 + 0.002 * i as f64 + rng.normal())
            .collect();
        assert!(Wear::fit(0.0, &y, true).is_none_or(|w| !w.bends()));
    }

    /// A kink (flat, then a straight drift) looks convex to a line, but the two pieces fit it
    /// better than any curve; a true curve cut at the same place still bends.
    #[test]
    fn a_kink_is_two_lines_and_a_curve_cut_in_two_is_still_a_curve() {
        let mut rng = Rng::new(12);
        let kink: Vec<f64> = (0..2000)
            .map(|i| 50.0 + 0.004 * (i as f64 - 1000.0).max(0.0) + rng.normal())
            .collect();
        let w = Wear::fit_against(0.0, &kink, true, &[1000]).unwrap();
        assert!(
            w.bic + STRONG <= w.line_bic,
            "convex against one line: {w:?}"
        );
        assert!(!w.bends(), "{w:?}");
        let curve: Vec<f64> = (0..2000)
            .map(|i| 50.0 + 0.2 * (0.0015 * i as f64).exp_m1() + rng.normal())
            .collect();
        assert!(Wear::fit_against(0.0, &curve, true, &[1000])
            .unwrap()
            .bends());
    }

    #[test]
    fn the_inverse_and_the_cholesky_factor_are_right() {
        let a = [[4.0, 2.0, 0.6], [2.0, 5.0, 1.0], [0.6, 1.0, 3.0]];
        let inv = inverse(&a).unwrap();
        let l = cholesky(&a);
        for i in 0..3 {
            for j in 0..3 {
                let eye: f64 = (0..3).map(|k| a[i][k] * inv[k][j]).sum();
                let llt: f64 = (0..3).map(|k| l[i][k] * l[j][k]).sum();
                assert!((eye - f64::from(u8::from(i == j))).abs() < 1e-12);
                assert!((llt - a[i][j]).abs() < 1e-12);
            }
        }
        assert!(inverse(&[[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]).is_none());
    }
}
