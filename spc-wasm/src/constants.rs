//! Control-chart constants (d2, d3, d4, c4 and the derived A2, A3, D3, D4, B3, B4, E2) for any
//! subgroup size `n >= 2`, computed from their definitions rather than read from a table, so that
//! subgroups larger than a printed table's last row (often 25) get exact constants too.
//!
//! Definitions follow Montgomery, *Introduction to Statistical Quality Control*, Appendix VI, and
//! the NIST/SEMATECH e-Handbook of Statistical Methods, section 6.3 (6.3.2). With `Phi` and `phi`
//! the standard normal distribution function and density, and `W` the range of `n` independent
//! standard normal values:
//!
//! * `d2(n) = E[W]`, `d3(n) = SD[W]`, `d4(n) = median of W`;
//! * `c4(n) = E[S] / sigma` for the sample standard deviation `S` of `n` normal values.
//!
//! Numerical method (d2, d3, d4). All integrals run over `x` in `[-U, U]`, where `U` is chosen so
//! that `n * Phi(-U) <= 1e-20` (about 9.3 for `n = 2`, 9.9 for `n = 1000`), on a uniform grid of
//! step `h = 0.1` that contains 0. The integrands are analytic and decay like Gaussians at both
//! ends, so the trapezoidal rule over the whole line converges geometrically (Trefethen &
//! Weideman 2014, "The exponentially convergent trapezoidal rule", SIAM Review 56, 385-458). The
//! one integral over a half line (`w >= 0` in d3) is also geometrically convergent for even `n`,
//! because its integrand extends to an even analytic function of `w`; for odd `n` the extension
//! behaves like `|w|^n` at 0, the Euler-Maclaurin error is a pure series `a h^(n+1) + b h^(n+3)`,
//! and two Richardson steps on the embedded grids of step `2h` and `4h` remove it (with `h = 0.05`
//! for `n = 3`). Tails are always taken from the accurate side (`1 - Phi(x)` from
//! `crate::math::normal_sf`) and `p^m` for `p` near 1 is formed as `exp(m ln_1p(-(1 - p)))`, so
//! nothing cancels for large `n`. Observed accuracy: 1e-12 or better for `2 <= n <= 1000`
//! (checked against the closed forms at `n = 2, 3`, against grids of half the step, and against
//! the published tables). Cost in release builds (x86-64), nearly independent of `n`: d2 under
//! 10 µs, d3 0.1 to 0.4 ms (0.6 ms for `n = 3`), d4 under 0.1 ms.
//!
//! For `n < 2` every function returns NaN (a range or a standard deviation needs two values).
//! [`ConstantsCache`] memoizes d2, d3 and c4 per `n` for charts whose subgroup sizes vary.

use std::collections::BTreeMap;
use std::f64::consts::PI;

use crate::math::{ln_gamma, normal_cdf, normal_pdf, normal_quantile, normal_sf};

/// Step of the integration grid (standard normal units).
const STEP: f64 = 0.1;

/// Largest odd `n` for which d3 applies the Richardson correction (beyond it the `h^(n+1)` error
/// term is below rounding).
const RICHARDSON_MAX_N: usize = 15;

/// Grid step for d3: half of [`STEP`] for `n = 3`, the odd size with the largest remainder after
/// the Richardson steps (about 3e-11 at `h = 0.1`, 1e-13 at `h = 0.05`; 3e-13 for `n = 5` at
/// `h = 0.1`).
fn d3_step(n: usize) -> f64 {
    if n == 3 {
        0.5 * STEP
    } else {
        STEP
    }
}

/// Expected range of `n` independent standard normal values, `d2(n) = E[W]`
/// (Montgomery, Appendix VI; NIST/SEMATECH e-Handbook 6.3.2):
///
/// `d2(n) = integral_{-inf}^{inf} [1 - (1 - Phi(x))^n - Phi(x)^n] dx`,
///
/// which follows from `E[max] - E[min]` with `E[Y] = int P(Y > x) dx`. The integrand is even, and
/// the trapezoidal rule on the whole line is spectrally accurate. `d2(2) = 2 / sqrt(pi)`, taken
/// in closed form (see [`d3`]); the integral gives the same `f64`. Returns NaN for `n < 2`.
pub fn d2(n: usize) -> f64 {
    match n {
        0 | 1 => f64::NAN,
        2 => std::f64::consts::FRAC_2_SQRT_PI,
        _ => d2_with_step(n, STEP),
    }
}

/// Standard deviation of the range of `n` independent standard normal values, `d3(n) = SD[W]`
/// (Montgomery, Appendix VI; NIST/SEMATECH e-Handbook 6.3.2). Defined by
///
/// `E[W^2] = 2 int int_{x<y} [1 - Phi(y)^n - (1 - Phi(x))^n + (Phi(y) - Phi(x))^n] dx dy`,
/// `d3 = sqrt(E[W^2] - d2^2)`.
///
/// `E[W^2]` is computed, equivalently, as `int_0^inf w^2 f_W(w) dw` with the range density
/// `f_W(w) = n (n-1) int phi(x) phi(x+w) [Phi(x+w) - Phi(x)]^(n-2) dx` (the joint density of the
/// minimum `x` and the maximum `x + w`), whose integrand is smooth enough for the trapezoidal
/// rule to converge fast (see the module documentation); `d2` comes from [`d2`]. With `x` and `w`
/// on the same grid every `Phi(x + w)` is a grid value, so the double sum costs one `ln`/`exp`
/// pair per grid pair (about 18 000 at `h = 0.1`, four times that at `h = 0.05`), and pairs whose
/// power underflows are skipped. Returns NaN for `n < 2`.
///
/// For `n = 2`, which every individuals chart asks for, the closed form is used: the moving range
/// `|Z1 - Z2| = sqrt(2) |Z|` is half-normal, so `E[W^2] = 2` and `d3(2) = sqrt(2 - 4/pi)`. The
/// integral took about half a millisecond per chart.
pub fn d3(n: usize) -> f64 {
    match n {
        0 | 1 => f64::NAN,
        2 => (2.0 - 4.0 / PI).sqrt(),
        _ => d3_with_step(n, d3_step(n), d2_with_step(n, STEP)),
    }
}

/// Median of the range of `n` independent standard normal values (the `d4` of the
/// median-moving-range sigma estimate `sigma = median(MR) / d4(2)`, as in R's `qcc`; not to be
/// confused with the R-chart factor [`capital_d4`]). It solves `F_W(w) = 1/2` for the range
/// distribution function (NIST/SEMATECH e-Handbook 6.3.2; David & Nagaraja, *Order Statistics*,
/// 2.3)
///
/// `F_W(w) = n int phi(x) [Phi(x + w) - Phi(x)]^(n-1) dx`,
///
/// by Newton's method with `f_W` as the derivative, safeguarded by bisection, starting from d2.
/// `d4(2) = sqrt(2) Phi^-1(3/4) = 0.9538725524...`, taken in closed form (see [`d3`]). Returns
/// NaN for `n < 2`.
pub fn d4(n: usize) -> f64 {
    match n {
        0 | 1 => f64::NAN,
        2 => std::f64::consts::SQRT_2 * PHI_INV_THREE_QUARTERS,
        _ => d4_with_step(n, STEP),
    }
}

/// `Phi^-1(3/4)`, the standard normal's upper quartile (R: `qnorm(0.75)`).
const PHI_INV_THREE_QUARTERS: f64 = 0.674_489_750_196_081_7;

/// `c4(n) = E[S] / sigma = sqrt(2 / (n-1)) Gamma(n/2) / Gamma((n-1)/2)`
/// (Montgomery, Appendix VI; NIST/SEMATECH e-Handbook 6.3.2), the bias factor of the sample
/// standard deviation of `n` normal values.
///
/// For `n <= 25` it is computed as `exp(ln Gamma(k + 1/2) - ln Gamma(k) - ln(k) / 2)`,
/// `k = (n-1)/2`, with `crate::math::ln_gamma` (nothing overflows). For `n > 25` the difference of
/// log-gammas is taken from its asymptotic (Stirling) series, which avoids the cancellation of two
/// large log-gammas (about 1e-14 relative at `n = 50`, growing like `ln n`):
/// `ln c4 = sum_m (2^(1-2m) - 2) B_2m / (2m (2m-1) k^(2m-1))`
/// `= -1/(8k) + 1/(192k^3) - 1/(640k^5) + 17/(14336k^7) - 31/(18432k^9) + 691/(180224k^11)
/// - 5461/(425984k^13) + ...`, from `ln Gamma(z + a) ~ (z + a - 1/2) ln z - z + ln sqrt(2 pi)
/// + sum_n (-1)^n B_n(a) / (n (n-1) z^(n-1))` with Bernoulli polynomials `B_n(a)` (Abramowitz &
/// Stegun 6.1.40, 23.1.21). The first omitted term is below 3e-18 for `k >= 12.5`. Relative
/// accuracy about 2e-15 for `n <= 25` and 2e-16 beyond. Returns NaN for `n < 2`.
pub fn c4(n: usize) -> f64 {
    if n < 2 {
        return f64::NAN;
    }
    let k = 0.5 * (n as f64 - 1.0);
    if n > 25 {
        // Coefficients of k^-1, k^-3, ..., k^-13.
        const SERIES: [f64; 7] = [
            -1.0 / 8.0,
            1.0 / 192.0,
            -1.0 / 640.0,
            17.0 / 14_336.0,
            -31.0 / 18_432.0,
            691.0 / 180_224.0,
            -5_461.0 / 425_984.0,
        ];
        let r = 1.0 / k;
        let r2 = r * r;
        let ln_c4 = r * SERIES.iter().rev().fold(0.0, |acc, &c| acc * r2 + c);
        ln_c4.exp()
    } else {
        (ln_gamma(k + 0.5) - ln_gamma(k) - 0.5 * k.ln()).exp()
    }
}

/// X-bar chart factor for limits from R-bar: `A2 = 3 / (d2 sqrt(n))` (Montgomery, Appendix VI).
pub fn a2(n: usize) -> f64 {
    3.0 / (d2(n) * (n as f64).sqrt())
}

/// X-bar chart factor for limits from S-bar: `A3 = 3 / (c4 sqrt(n))` (Montgomery, Appendix VI).
pub fn a3(n: usize) -> f64 {
    3.0 / (c4(n) * (n as f64).sqrt())
}

/// R chart lower-limit factor `D3 = max(0, 1 - 3 d3 / d2)` (Montgomery, Appendix VI).
pub fn capital_d3(n: usize) -> f64 {
    clamp_at_zero(1.0 - 3.0 * d3(n) / d2(n))
}

/// R chart upper-limit factor `D4 = 1 + 3 d3 / d2` (Montgomery, Appendix VI).
pub fn capital_d4(n: usize) -> f64 {
    1.0 + 3.0 * d3(n) / d2(n)
}

/// S chart lower-limit factor `B3 = max(0, 1 - 3 sqrt(1 - c4^2) / c4)` (Montgomery, Appendix VI).
pub fn b3(n: usize) -> f64 {
    let c = c4(n);
    clamp_at_zero(1.0 - 3.0 * (1.0 - c * c).sqrt() / c)
}

/// S chart upper-limit factor `B4 = 1 + 3 sqrt(1 - c4^2) / c4` (Montgomery, Appendix VI).
pub fn b4(n: usize) -> f64 {
    let c = c4(n);
    1.0 + 3.0 * (1.0 - c * c).sqrt() / c
}

/// Individuals chart factor for limits from the average moving range of span `n`:
/// `E2 = 3 / d2` (Montgomery, chapter 6; `E2 = 2.660` for `n = 2`).
pub fn e2(n: usize) -> f64 {
    3.0 / d2(n)
}

/// `max(0, v)` that keeps NaN (unlike `f64::max`).
fn clamp_at_zero(v: f64) -> f64 {
    if v < 0.0 {
        0.0
    } else {
        v
    }
}

/// The constants of one subgroup size, as memoized by [`ConstantsCache`].
#[derive(Clone, Copy, Debug)]
pub struct Constants {
    /// Subgroup size.
    pub n: usize,
    /// Expected range of `n` standard normals, [`d2`].
    pub d2: f64,
    /// Standard deviation of that range, [`d3`].
    pub d3: f64,
    /// Bias factor of the sample standard deviation, [`c4`].
    pub c4: f64,
}

/// Below this size the cache is a vector indexed by `n`; above, an ordered map (so a single huge
/// `n` does not allocate a huge vector).
const DENSE_LIMIT: usize = 1024;

/// Memo of [`Constants`] per subgroup size, for charts whose subgroup sizes vary (each size is
/// computed once, well under 1 ms, then looked up). Plain owned data; no global state.
#[derive(Clone, Debug, Default)]
pub struct ConstantsCache {
    dense: Vec<Option<Constants>>,
    sparse: BTreeMap<usize, Constants>,
}

impl ConstantsCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The constants for subgroup size `n`, computed on first use. For `n < 2` the fields are NaN.
    pub fn get(&mut self, n: usize) -> Constants {
        if n < DENSE_LIMIT {
            if self.dense.len() <= n {
                self.dense.resize(n + 1, None);
            }
            *self.dense[n].get_or_insert_with(|| compute_constants(n))
        } else {
            *self.sparse.entry(n).or_insert_with(|| compute_constants(n))
        }
    }
}

fn compute_constants(n: usize) -> Constants {
    if n < 2 {
        return Constants {
            n,
            d2: f64::NAN,
            d3: f64::NAN,
            c4: f64::NAN,
        };
    }
    Constants {
        n,
        d2: d2(n),
        d3: d3(n),
        c4: c4(n),
    }
}

/// Half-width `U` of the integration interval: `n * Phi(-U) = 1e-20`, at least 8.
fn half_width(n: usize) -> f64 {
    (-normal_quantile(1e-20 / n as f64)).max(8.0)
}

/// `(Phi(x), 1 - Phi(x))`, the smaller one computed directly.
fn tails(x: f64) -> (f64, f64) {
    if x < 0.0 {
        let c = normal_cdf(x);
        (c, 1.0 - c)
    } else {
        let s = normal_sf(x);
        (1.0 - s, s)
    }
}

/// `ln(Phi(y) - Phi(x))` for `x <= y`, given both tails at both points. Uses
/// `ln_1p(-(Phi(x) + 1 - Phi(y)))` when the difference is near 1 (large `n` lives there) and the
/// difference of the smaller tails otherwise. `-inf` when the difference is 0.
fn ln_mass_between(cdf_x: f64, sf_x: f64, cdf_y: f64, sf_y: f64) -> f64 {
    let outside = cdf_x + sf_y;
    if outside < 0.5 {
        (-outside).ln_1p()
    } else if cdf_x < sf_x {
        // x < 0: both lower tails small or moderate.
        (cdf_y - cdf_x).ln()
    } else {
        (sf_x - sf_y).ln()
    }
}

/// `p^m` from `ln p`, with `p^0 = 1` even for `p = 0`.
fn pow_from_ln(ln_p: f64, m: f64) -> f64 {
    if m == 0.0 {
        1.0
    } else {
        (m * ln_p).exp()
    }
}

fn d2_with_step(n: usize, h: f64) -> f64 {
    let m = n as f64;
    let k = (half_width(n) / h).ceil() as usize;
    // g(x) = 1 - Phi(x)^n - (1 - Phi(x))^n, even in x; for x >= 0 use the small upper tail s.
    let g = |x: f64| {
        let s = normal_sf(x);
        -(m * (-s).ln_1p()).exp_m1() - s.powf(m)
    };
    let mut sum = 0.5 * g(0.0);
    for i in 1..=k {
        sum += g(i as f64 * h);
    }
    2.0 * h * sum
}

/// Normal tails and density on the grid `x_i = (i - k) h`, `i = 0..=2k`, with `k` a multiple of 4
/// so that the grids of step `2h` and `4h` are the indices divisible by 2 and 4.
struct Grid {
    /// Index of `x = 0`.
    center: usize,
    cdf: Vec<f64>,
    sf: Vec<f64>,
    pdf: Vec<f64>,
}

impl Grid {
    fn new(n: usize, h: f64) -> Self {
        let k = 4 * (half_width(n) / (4.0 * h)).ceil() as usize;
        let len = 2 * k + 1;
        let mut cdf = Vec::with_capacity(len);
        let mut sf = Vec::with_capacity(len);
        let mut pdf = Vec::with_capacity(len);
        for i in 0..len {
            let x = (i as f64 - k as f64) * h;
            let (c, s) = tails(x);
            cdf.push(c);
            sf.push(s);
            pdf.push(normal_pdf(x));
        }
        Grid {
            center: k,
            cdf,
            sf,
            pdf,
        }
    }

    fn x(&self, i: usize, h: f64) -> f64 {
        (i as f64 - self.center as f64) * h
    }
}

/// Above this, `exp(-t)` underflows: a factor `D^m <= exp(-m (1 - D))` with `m (1 - D)` beyond
/// it is zero.
const UNDERFLOW: f64 = 746.0;

/// `E[W^2] = int_0^inf w^2 f_W(w) dw` by the trapezoidal rule in `x` and `w` on the grids of step
/// `h`, `2h` and `4h` (all from one pass over the step-`h` grid).
fn range_second_moment(n: usize, h: f64) -> [f64; 3] {
    let grid = Grid::new(n, h);
    let len = grid.pdf.len();
    let m = (n - 2) as f64;
    let mut sums = [0.0; 3];
    // j = 0 (w = 0) contributes nothing.
    for j in 1..len {
        let mut inner = [0.0; 3];
        for i in 0..len - j {
            let k = i + j;
            let density = grid.pdf[i] * grid.pdf[k];
            let outside = grid.cdf[i] + grid.sf[k];
            if density == 0.0 || m * outside > UNDERFLOW {
                continue;
            }
            let ln_d = ln_mass_between(grid.cdf[i], grid.sf[i], grid.cdf[k], grid.sf[k]);
            let v = density * pow_from_ln(ln_d, m);
            inner[0] += v;
            if i % 2 == 0 {
                inner[1] += v;
                if i % 4 == 0 {
                    inner[2] += v;
                }
            }
        }
        let w = j as f64 * h;
        sums[0] += w * w * inner[0];
        if j % 2 == 0 {
            sums[1] += w * w * inner[1];
            if j % 4 == 0 {
                sums[2] += w * w * inner[2];
            }
        }
    }
    let nn = n as f64 * (n as f64 - 1.0);
    [
        nn * h * h * sums[0],
        nn * 4.0 * h * h * sums[1],
        nn * 16.0 * h * h * sums[2],
    ]
}

fn d3_with_step(n: usize, h: f64, mu: f64) -> f64 {
    let t = range_second_moment(n, h);
    let second_moment = if n % 2 == 1 && n <= RICHARDSON_MAX_N {
        // Error a h^p + b h^(p+2) + ..., p = n + 1: eliminate a, then b.
        let f1 = 2.0_f64.powi(n as i32 + 1);
        let f2 = 4.0 * f1;
        let r_h = (f1 * t[0] - t[1]) / (f1 - 1.0);
        let r_2h = (f1 * t[1] - t[2]) / (f1 - 1.0);
        (f2 * r_h - r_2h) / (f2 - 1.0)
    } else {
        t[0]
    };
    (second_moment - mu * mu).sqrt()
}

fn d4_with_step(n: usize, h: f64) -> f64 {
    let grid = Grid::new(n, h);
    let len = grid.pdf.len();
    let m1 = (n - 1) as f64;
    let m2 = (n - 2) as f64;
    let nf = n as f64;
    // (F_W(w), f_W(w)) by the trapezoidal rule over x.
    let eval = |w: f64| {
        let (mut big_f, mut small_f) = (0.0, 0.0);
        for i in 0..len {
            let px = grid.pdf[i];
            if px == 0.0 || m1 * grid.cdf[i] > UNDERFLOW {
                continue;
            }
            let y = grid.x(i, h) + w;
            let (cy, sy) = tails(y);
            let ln_d = ln_mass_between(grid.cdf[i], grid.sf[i], cy, sy);
            big_f += px * pow_from_ln(ln_d, m1);
            small_f += px * normal_pdf(y) * pow_from_ln(ln_d, m2);
        }
        (nf * h * big_f, nf * m1 * h * small_f)
    };
    // Safeguarded Newton from d2 (the median is a little below the mean).
    let mut lo = 0.0_f64;
    let mut hi = 2.0 * half_width(n);
    let mut w = d2_with_step(n, h);
    for _ in 0..200 {
        let (big_f, small_f) = eval(w);
        let r = big_f - 0.5;
        if r == 0.0 {
            return w;
        }
        if r < 0.0 {
            lo = w;
        } else {
            hi = w;
        }
        let step = r / small_f;
        if step.is_finite() && step.abs() <= 1e-14 * w {
            return w - step;
        }
        let newton = w - step;
        w = if newton.is_finite() && newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        if hi - lo <= 1e-14 * hi {
            return w;
        }
    }
    w
}

#[cfg(test)]
#[allow(clippy::excessive_precision, clippy::approx_constant)] // published values
mod tests {
    use super::*;

    fn check(name: &str, f: fn(usize) -> f64, table: &[(usize, f64)], tol: f64) {
        for &(n, want) in table {
            let got = f(n);
            assert!(
                (got - want).abs() <= tol,
                "{name}({n}) = {got}, table {want}"
            );
        }
    }

    #[test]
    fn d2_matches_montgomery_table() {
        let table = [
            (2, 1.128),
            (3, 1.693),
            (4, 2.059),
            (5, 2.326),
            (6, 2.534),
            (7, 2.704),
            (8, 2.847),
            (9, 2.970),
            (10, 3.078),
            (15, 3.472),
            (20, 3.735),
            (25, 3.931),
        ];
        check("d2", d2, &table, 5e-4);
    }

    #[test]
    fn d3_matches_montgomery_table() {
        let table = [
            (2, 0.853),
            (3, 0.888),
            (4, 0.880),
            (5, 0.864),
            (6, 0.848),
            (7, 0.833),
            (8, 0.820),
            (9, 0.808),
            (10, 0.797),
            (15, 0.756),
            (20, 0.729),
            (25, 0.708),
        ];
        check("d3", d3, &table, 5e-4);
    }

    #[test]
    fn c4_matches_montgomery_table() {
        let table = [
            (2, 0.7979),
            (3, 0.8862),
            (4, 0.9213),
            (5, 0.9400),
            (10, 0.9727),
            (25, 0.9896),
        ];
        check("c4", c4, &table, 5e-4);
    }

    #[test]
    fn derived_factors_match_montgomery_table() {
        assert!((a2(5) - 0.577).abs() < 5e-4, "A2(5) = {}", a2(5));
        assert!(
            (capital_d4(5) - 2.114).abs() < 5e-4,
            "D4(5) = {}",
            capital_d4(5)
        );
        assert!(
            (capital_d3(7) - 0.076).abs() < 5e-4,
            "D3(7) = {}",
            capital_d3(7)
        );
        assert!((b3(6) - 0.030).abs() < 5e-4, "B3(6) = {}", b3(6));
        assert!((b4(5) - 2.089).abs() < 5e-4, "B4(5) = {}", b4(5));
        assert!((a3(5) - 1.427).abs() < 5e-4, "A3(5) = {}", a3(5));
        // The table's E2(2) = 2.660 is 3 / 1.128, from the rounded d2.
        assert!((e2(2) - 2.660).abs() < 1.5e-3, "E2(2) = {}", e2(2));
        assert!(
            (capital_d4(2) - 3.267).abs() < 5e-4,
            "D4(2) = {}",
            capital_d4(2)
        );
        assert_eq!(capital_d3(6), 0.0);
        assert_eq!(b3(5), 0.0);
    }

    #[test]
    fn closed_forms_for_small_n() {
        // n = 2: W = |Z1 - Z2| ~ half-normal with variance 2.
        // The public functions take these closed forms; the integrals must agree with them.
        let d2_2 = d2_with_step(2, STEP);
        assert!((d2_2 - 2.0 / PI.sqrt()).abs() < 1e-12, "{d2_2}");
        assert_eq!(d2(2), 1.128_379_167_095_512_573_9); // 2 / sqrt(pi), correctly rounded
        assert!((d2(2) - d2_2).abs() <= f64::EPSILON, "{d2_2}");
        let d3_2 = d3_with_step(2, d3_step(2), d2_2);
        assert!((d3_2 - (2.0 - 4.0 / PI).sqrt()).abs() < 1e-12, "{d3_2}");
        assert_eq!(d3(2), (2.0 - 4.0 / PI).sqrt());
        let d4_2 = d4_with_step(2, STEP);
        assert!((d4_2 - 0.953_872_552_4).abs() < 1e-10, "{d4_2}");
        assert!((d4(2) - d4_2).abs() < 1e-12, "{}", d4(2));
        // n = 3: d2 = 3 / sqrt(pi), E[W^2] = 2 + 3 sqrt(3) / pi.
        assert!((d2(3) - 3.0 / PI.sqrt()).abs() < 1e-12, "{}", d2(3));
        let ew2 = 2.0 + 3.0 * 3.0_f64.sqrt() / PI;
        assert!((d3(3) - (ew2 - 9.0 / PI).sqrt()).abs() < 1e-12, "{}", d3(3));
        // c4(2) = sqrt(2 / pi).
        assert!((c4(2) - (2.0 / PI).sqrt()).abs() < 1e-15);
    }

    #[test]
    fn more_precise_published_values() {
        // Harter (1960), "Tables of range and studentized range", Ann. Math. Statist. 31, six
        // decimals; as reproduced in many SQC texts.
        let d2_table = [
            (4, 2.058_751),
            (5, 2.325_929),
            (6, 2.534_413),
            (7, 2.704_357),
            (8, 2.847_201),
            (9, 2.970_026),
            (10, 3.077_505),
        ];
        check("d2", d2, &d2_table, 1.5e-6);
        let d3_table = [
            (4, 0.879_808),
            (5, 0.864_082),
            (6, 0.848_040),
            (7, 0.833_205),
            (8, 0.819_831),
            (9, 0.807_834),
            (10, 0.797_051),
        ];
        check("d3", d3, &d3_table, 1.5e-6);
    }

    #[test]
    fn grid_refinement_does_not_move_the_results() {
        for &n in &[2, 3, 4, 5, 7, 9, 10, 11, 25, 50, 100, 300, 1000] {
            let (a, b) = (d2_with_step(n, STEP), d2_with_step(n, STEP / 2.0));
            assert!((a - b).abs() < 1e-12, "d2({n}): {a} vs {b}");
            let h = d3_step(n);
            let (a, b) = (d3_with_step(n, h, a), d3_with_step(n, h / 2.0, b));
            assert!((a - b).abs() < 1e-12, "d3({n}): {a} vs {b}");
            let (a, b) = (d4_with_step(n, STEP), d4_with_step(n, STEP / 2.0));
            assert!((a - b).abs() < 1e-12, "d4({n}): {a} vs {b}");
        }
    }

    #[test]
    fn large_n() {
        let mut prev = d2(2);
        for n in 3..=60 {
            let cur = d2(n);
            assert!(cur > prev, "d2 not increasing at n = {n}");
            prev = cur;
        }
        assert!((d2(100) - 5.015).abs() < 2e-3, "d2(100) = {}", d2(100));
        let d2_1000 = d2(1000);
        assert!(
            d2_1000.is_finite() && (d2_1000 - 6.48).abs() < 0.02,
            "{d2_1000}"
        );
        let d3_1000 = d3(1000);
        assert!(
            d3_1000.is_finite() && d3_1000 > 0.3 && d3_1000 < 0.7,
            "{d3_1000}"
        );
        let d4_1000 = d4(1000);
        assert!(d4_1000 < d2_1000 && d4_1000 > d2_1000 - 0.3, "{d4_1000}");
        assert!(
            (c4(1000) - (1.0 - 1.0 / (4.0 * 999.0))).abs() < 1e-6,
            "{}",
            c4(1000)
        );
        // d3 decreases slowly for n >= 3.
        assert!(d3(50) < d3(25) && d3(100) < d3(50) && d3(1000) < d3(100));
        // Huge n: still finite and ordered, no overflow.
        assert!(c4(usize::MAX) > 0.999_999 && c4(usize::MAX) <= 1.0);
    }

    #[test]
    fn c4_matches_high_precision_values() {
        // Gamma(k + 1/2) / (Gamma(k) sqrt(k)), k = (n-1)/2, in 30-digit arithmetic (mpmath).
        let table = [
            (2, 0.797_884_560_802_865_355_88),
            (3, 0.886_226_925_452_758_013_65),
            (5, 0.939_985_602_986_625_188_41),
            (10, 0.972_659_274_121_588_243_36),
            (25, 0.989_640_375_585_703_083_89),
            (26, 0.990_052_468_840_910_472_21),
            (27, 0.990_433_039_209_447_882_43),
            (30, 0.991_418_053_292_672_918_84),
            (50, 0.994_911_304_669_732_824_48),
            (51, 0.995_012_810_704_554_819_34),
            (100, 0.997_477_976_071_263_510_78),
            (250, 0.998_996_490_487_394_974_82),
            (1000, 0.999_749_781_101_513_203_21),
            (1_000_000, 0.999_999_749_999_781_249_85),
        ];
        check("c4", c4, &table, 3e-15);
    }

    #[test]
    fn d4_values() {
        // The median of the range lies below its mean (the range is right-skewed).
        for n in [2, 3, 5, 10, 25] {
            assert!(d4(n) < d2(n), "n = {n}");
        }
        // Roots of F_W(w) = 1/2 by adaptive quadrature and root finding in 18-digit arithmetic
        // (mpmath), an independent computation.
        let table = [
            (3, 1.587_787_750_446_35),
            (5, 2.256_882_493_026_194),
            (10, 3.024_201_572_972_566),
            (25, 3.882_140_633_617_013),
            (100, 4.967_945_618_635_791),
        ];
        check("d4", d4, &table, 1e-12);
    }

    /// `E[W^2] = 2 int_0^inf w (1 - F_W(w)) dw`, with composite 8-point Gauss-Legendre in `w` and a
    /// fine trapezoid in `x` for `F_W`: a different formula and a different rule from
    /// [`range_second_moment`].
    fn second_moment_by_cdf(n: usize) -> f64 {
        const NODES: [f64; 4] = [
            0.183_434_642_495_649_8,
            0.525_532_409_916_329,
            0.796_666_477_413_626_7,
            0.960_289_856_497_536_3,
        ];
        const WEIGHTS: [f64; 4] = [
            0.362_683_783_378_362,
            0.313_706_645_877_887_3,
            0.222_381_034_453_374_5,
            0.101_228_536_290_376_3,
        ];
        let h = 0.05;
        let u = half_width(n);
        let k = (u / h).ceil() as i64;
        let range_cdf = |w: f64| {
            let mut s = 0.0;
            for i in -k..=k {
                let x = i as f64 * h;
                let (cx, sx) = tails(x);
                let (cy, sy) = tails(x + w);
                let p = pow_from_ln(ln_mass_between(cx, sx, cy, sy), (n - 1) as f64);
                s += normal_pdf(x) * p;
            }
            n as f64 * h * s
        };
        let panel = 0.25;
        let panels = (2.0 * u / panel).ceil() as usize;
        let mut total = 0.0;
        for p in 0..panels {
            let mid = (p as f64 + 0.5) * panel;
            for (t, wt) in NODES.iter().zip(&WEIGHTS) {
                for w in [mid - 0.5 * panel * t, mid + 0.5 * panel * t] {
                    total += wt * 0.5 * panel * w * (1.0 - range_cdf(w));
                }
            }
        }
        2.0 * total
    }

    #[test]
    fn d3_agrees_with_an_independent_quadrature() {
        for n in [3, 4, 5, 10, 25, 100, 1000] {
            let mu = d2(n);
            let other = (second_moment_by_cdf(n) - mu * mu).sqrt();
            assert!(
                (d3(n) - other).abs() < 1e-11,
                "d3({n}) = {} vs {other}",
                d3(n)
            );
        }
    }

    #[test]
    fn out_of_domain_is_nan() {
        for f in [d2, d3, d4, c4, a2, a3, capital_d3, capital_d4, b3, b4, e2] {
            assert!(f(0).is_nan());
            assert!(f(1).is_nan());
        }
    }

    #[test]
    fn cache_returns_the_same_values() {
        let mut cache = ConstantsCache::new();
        for n in [5, 2, 5, 30, 2000, 2000] {
            let c = cache.get(n);
            assert_eq!(c.n, n);
            assert_eq!(c.d2, d2(n));
            assert_eq!(c.d3, d3(n));
            assert_eq!(c.c4, c4(n));
        }
        let c = cache.get(1);
        assert!(c.d2.is_nan() && c.d3.is_nan() && c.c4.is_nan());
    }
}
