//! The two-sample Kolmogorov–Smirnov test, as R's `ks.test(x, y)` (R ≥ 4.2): the statistic
//! D = sup |F_x − F_y| over the pooled values, and its two-sided p-value, exact when
//! n_x·n_y < 10,000 and asymptotic otherwise.
//!
//! - **Exact:** the lattice-path count of P(D < d) (Hodges 1958; R's `C_pSmirnov2x`), with
//!   ties handled as Schröer & Trenkler (1995, "Exact and randomization distributions of
//!   Kolmogorov–Smirnov tests for two or three samples", CSDA 20, 185–202): the boundary is only
//!   checked where the pooled sorted sample steps to a new value.
//! - **Asymptotic:** 1 − K(√(n_x n_y / (n_x + n_y)) · D), Kolmogorov's limiting distribution K
//!   (R's `C_pKS2`, Marsaglia, Tsang & Wang 2003 series).
//!
//! Netdata's metric correlations rank metrics by this statistic; "what else changed" does the
//! same (see [`super::co_moving`]).

/// The test's outcome.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct KsTest {
    /// D, in [0, 1].
    pub statistic: f64,
    /// Two-sided.
    pub p_value: f64,
    /// Whether the p-value is exact.
    pub exact: bool,
}

/// The test of `x` against `y`; `None` when either is empty or holds a non-finite value.
pub fn ks_test(x: &[f64], y: &[f64]) -> Option<KsTest> {
    if x.is_empty() || y.is_empty() || x.iter().chain(y).any(|v| !v.is_finite()) {
        return None;
    }
    let (steps, d) = statistic(x, y);
    let (m, n) = (x.len(), y.len());
    let exact = (m as f64) * (n as f64) < 10_000.0;
    let p_value = if exact {
        1.0 - p_smirnov_exact(d, m, n, &steps)
    } else {
        asymptotic_p(d, m, n)
    };
    Some(KsTest {
        statistic: d,
        p_value: p_value.clamp(0.0, 1.0),
        exact,
    })
}

/// D alone, without its p-value: what ranking many streams needs (the p-value's exact path
/// count costs n_x·n_y steps). `None` as [`ks_test`].
pub fn ks_statistic(x: &[f64], y: &[f64]) -> Option<f64> {
    ks_statistic_in(x, y, &mut Vec::new(), &mut Vec::new())
}

/// [`ks_statistic`] sorting into `xs` and `ys`, buffers a caller reuses across many tests.
pub fn ks_statistic_in(x: &[f64], y: &[f64], xs: &mut Vec<f64>, ys: &mut Vec<f64>) -> Option<f64> {
    if x.is_empty() || y.is_empty() || x.iter().chain(y).any(|v| !v.is_finite()) {
        return None;
    }
    for (buf, v) in [(&mut *xs, x), (&mut *ys, y)] {
        buf.clear();
        buf.extend_from_slice(v);
        buf.sort_unstable_by(f64::total_cmp);
    }
    Some(statistic_sorted(xs, ys))
}

/// An integer that orders as the finite float `x` does, equal exactly when the floats are
/// equal (−0 is taken as +0): the sign bit set for a positive, every bit flipped for a
/// negative. Sorting these is about twice as fast as sorting floats with `total_cmp`.
pub fn order_key(x: f64) -> u64 {
    const SIGN: u64 = 1 << 63;
    let bits = (x + 0.0).to_bits();
    if bits & SIGN == 0 {
        bits | SIGN
    } else {
        !bits
    }
}

/// The float of an [`order_key`].
pub fn from_order_key(k: u64) -> f64 {
    const SIGN: u64 = 1 << 63;
    f64::from_bits(if k & SIGN != 0 { k & !SIGN } else { !k })
}

/// D of two sorted samples by one merge walk, the ECDFs compared only after each distinct
/// value (both step together at a tie), on counts: D = max |i·n − j·m| / (m·n). The items may
/// be the values or anything that orders and ties as they do ([`order_key`]s).
pub fn statistic_sorted<T: Copy + PartialOrd>(xs: &[T], ys: &[T]) -> f64 {
    let (m, n) = (xs.len(), ys.len());
    let (mut i, mut j, mut d) = (0usize, 0usize, 0u64);
    // In 64 bits: m·n passes 2^32 (wasm's usize) for a 33,000-point window.
    let gap = |i: usize, j: usize| (i as u64 * n as u64).abs_diff(j as u64 * m as u64);
    while i < m && j < n {
        let v = if xs[i] < ys[j] { xs[i] } else { ys[j] };
        while i < m && xs[i] == v {
            i += 1;
        }
        while j < n && ys[j] == v {
            j += 1;
        }
        d = d.max(gap(i, j));
    }
    // Past the end of one sample its ECDF is 1; the other's only rises towards 1.
    d = d.max(gap(i, j));
    d as f64 / (m as u64 * n as u64) as f64
}

/// D over the pooled sorted sample, and for each pooled position whether the next value
/// differs (the ECDFs step there; the last position always does).
fn statistic(x: &[f64], y: &[f64]) -> (Vec<bool>, f64) {
    let mut pooled: Vec<(f64, bool)> = x
        .iter()
        .map(|&v| (v, true))
        .chain(y.iter().map(|&v| (v, false)))
        .collect();
    super::sort::sort_by_key(&mut pooled, |p| order_key(p.0));
    let (dx, dy) = (1.0 / x.len() as f64, 1.0 / y.len() as f64);
    let (mut z, mut d) = (0.0f64, 0.0f64);
    let mut steps = Vec::with_capacity(pooled.len());
    for (k, &(v, from_x)) in pooled.iter().enumerate() {
        z += if from_x { dx } else { -dy };
        let step = pooled.get(k + 1).is_none_or(|next| next.0 != v);
        // A comparison, not `f64::max` (a call to `fmax` in wasm): |z| is never −0.
        if step && z.abs() > d {
            d = z.abs();
        }
        steps.push(step);
    }
    (steps, d)
}

/// P(D < d) under the null, by counting lattice paths from (0, 0) to (m, n) that stay strictly
/// inside |i/m − j/n| ≤ q at every step of the pooled sample; `w` rescales each row so the
/// count is already a probability (R's `psmirnov2x`).
fn p_smirnov_exact(d: f64, m: usize, n: usize, steps: &[bool]) -> f64 {
    let (m, n) = if m > n { (n, m) } else { (m, n) };
    let (md, nd) = (m as f64, n as f64);
    let q = (0.5 + (d * md * nd - 1e-7).floor()) / (md * nd);
    // j/n for every column, divided once, not once per cell (the same quotients).
    let cols: Vec<f64> = (0..=n).map(|j| j as f64 / nd).collect();
    if steps.iter().all(|&step| step) {
        p_untied(q, m, n, &cols)
    } else {
        p_counted(q, m, n, &cols, steps)
    }
}

/// [`p_smirnov_exact`]'s count over every cell, m ≤ n.
fn p_counted(q: f64, m: usize, n: usize, cols: &[f64], steps: &[bool]) -> f64 {
    let md = m as f64;
    let outside =
        |i: usize, row: f64, j: usize| (i + j) > 0 && steps[i + j - 1] && (row - cols[j]).abs() > q;
    let mut u = vec![0.0f64; n + 1];
    u[0] = 1.0;
    for j in 1..=n {
        u[j] = if outside(0, 0.0, j) { 0.0 } else { u[j - 1] };
    }
    for i in 1..=m {
        let w = i as f64 / (i + n) as f64;
        let row = i as f64 / md;
        u[0] = if outside(i, row, 0) { 0.0 } else { w * u[0] };
        for j in 1..=n {
            u[j] = if outside(i, row, j) {
                0.0
            } else {
                w * u[j] + u[j - 1]
            };
        }
    }
    u[n]
}

/// [`p_smirnov_exact`]'s count when no value is tied, so that the boundary is checked at every
/// cell: then each row's paths live in one band of columns, |i/m − j/n| ≤ q, that only moves
/// right from row to row (i/m − j/n rounds monotonically in both), and only the band is
/// counted. The cells outside it are the zeros the full count writes there, and a zero adds
/// nothing to its neighbour, so these are the same numbers.
fn p_untied(q: f64, m: usize, n: usize, cols: &[f64]) -> f64 {
    let md = m as f64;
    let inside = |row: f64, j: usize| (row - cols[j]).abs() <= q;
    let mut u = vec![0.0f64; n + 1];
    u[0] = 1.0;
    // Row 0: the band runs from (0, 0), which is always counted, to its first cell outside.
    let (mut a, mut b) = (0, 0);
    while b < n && inside(0.0, b + 1) {
        b += 1;
        u[b] = u[b - 1];
    }
    for i in 1..=m {
        let w = i as f64 / (i + n) as f64;
        let row = i as f64 / md;
        let from = a;
        while a <= n && !inside(row, a) {
            a += 1;
        }
        if a > n {
            // No cell of this row is inside: no path gets through.
            return 0.0;
        }
        // The last row's band, from `a` on, is still inside; it can only grow to the right.
        b = b.max(a);
        while b < n && inside(row, b + 1) {
            b += 1;
        }
        u[from..a].fill(0.0);
        if a == 0 {
            u[0] *= w;
        }
        let start = a.max(1);
        for j in start..=b {
            u[j] = w * u[j] + u[j - 1];
        }
    }
    u[n]
}

/// 1 − K(√(mn/(m+n))·d).
fn asymptotic_p(d: f64, m: usize, n: usize) -> f64 {
    if d < f64::EPSILON {
        return 1.0;
    }
    let (m, n) = (m as f64, n as f64);
    1.0 - kolmogorov_cdf((m * n / (m + n)).sqrt() * d, 1e-6)
}

/// K(x) = P(sup |B(t)| ≤ x) of the Brownian bridge (R's `pkstwo`): the theta-function series
/// below 1, the alternating series above.
fn kolmogorov_cdf(x: f64, tol: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let k_max = (2.0 - tol.ln()).sqrt() as i32;
    if x < 1.0 {
        let z = -(std::f64::consts::FRAC_PI_2 * std::f64::consts::FRAC_PI_4) / (x * x);
        let w = x.ln();
        let s: f64 = (1..k_max)
            .step_by(2)
            .map(|k| ((k * k) as f64 * z - w).exp())
            .sum();
        s * (2.0 * std::f64::consts::PI).sqrt()
    } else {
        let z = -2.0 * x * x;
        let (mut sign, mut k) = (-1.0, 1.0f64);
        let (mut old, mut new) = (0.0f64, 1.0f64);
        while (old - new).abs() > tol {
            old = new;
            new += 2.0 * sign * (z * k * k).exp();
            sign = -sign;
            k += 1.0;
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force over every split of the pooled positions: P(D ≥ d) for tiny samples.
    fn by_enumeration(x: &[f64], y: &[f64]) -> f64 {
        let pooled: Vec<f64> = x.iter().chain(y).copied().collect();
        let (m, total) = (x.len(), pooled.len());
        let d_obs = statistic(x, y).1;
        let (mut hits, mut all) = (0u32, 0u32);
        for mask in 0u32..(1 << total) {
            if mask.count_ones() as usize != m {
                continue;
            }
            let (a, b): (Vec<f64>, Vec<f64>) = {
                let a = (0..total).filter(|k| mask >> k & 1 == 1).map(|k| pooled[k]);
                let b = (0..total).filter(|k| mask >> k & 1 == 0).map(|k| pooled[k]);
                (a.collect(), b.collect())
            };
            all += 1;
            hits += u32::from(statistic(&a, &b).1 >= d_obs - 1e-9);
        }
        f64::from(hits) / f64::from(all)
    }

    #[test]
    fn exact_p_is_the_permutation_distribution_with_and_without_ties() {
        let cases: [(&[f64], &[f64]); 3] = [
            (&[1.0, 2.5, 3.1, 7.0], &[4.0, 5.5, 6.0, 8.0, 9.0]),
            (&[1.0, 2.0, 2.0, 3.0, 5.0], &[2.0, 3.0, 3.0, 4.0, 6.0, 6.0]),
            (&[0.5, 0.6, 0.7], &[0.1, 0.2, 0.3, 0.8, 0.9]),
        ];
        for (x, y) in cases {
            let t = ks_test(x, y).unwrap();
            assert!(t.exact);
            let want = by_enumeration(x, y);
            assert!(
                (t.p_value - want).abs() < 1e-12,
                "{x:?} {y:?}: {} vs {want}",
                t.p_value
            );
        }
    }

    /// Counting only the band gives the full count's numbers, to the bit, for every size
    /// and boundary (no ties: every cell checked).
    #[test]
    fn the_band_counts_as_every_cell() {
        for m in 1..14 {
            for n in m..m + 40 {
                let cols: Vec<f64> = (0..=n).map(|j| j as f64 / n as f64).collect();
                let steps = vec![true; m + n];
                let mn = (m * n) as f64;
                for k in 0..=m * n {
                    let q = (0.5 + (k as f64 - 1.0)) / mn;
                    let (band, full) =
                        (p_untied(q, m, n, &cols), p_counted(q, m, n, &cols, &steps));
                    assert_eq!(band.to_bits(), full.to_bits(), "m {m} n {n} k {k}");
                }
            }
        }
    }

    #[test]
    fn kolmogorov_distribution_matches_published_quantiles() {
        // Critical values of K: 1.3581 (95 %), 1.6276 (99 %), 1.2238 (90 %); e.g. Smirnov
        // (1948), "Table for estimating the goodness of fit of empirical distributions".
        for (x, p) in [
            (1.2238f64, 0.90f64),
            (1.3581, 0.95),
            (1.6276, 0.99),
            (0.8276, 0.5),
        ] {
            assert!((kolmogorov_cdf(x, 1e-6) - p).abs() < 2e-4, "K({x})");
        }
    }

    #[test]
    fn the_merge_walk_gives_the_pooled_statistic() {
        let cases: [(&[f64], &[f64]); 3] = [
            (&[1.0, 2.0, 2.0, 3.0, 5.0], &[2.0, 3.0, 3.0, 4.0, 6.0, 6.0]),
            (&[0.5, 0.6, 0.7], &[0.1, 0.2, 0.3, 0.8, 0.9]),
            (&[4.0, 4.0], &[4.0]),
        ];
        for (x, y) in cases {
            let (fast, pooled) = (ks_statistic(x, y).unwrap(), statistic(x, y).1);
            assert!(
                (fast - pooled).abs() < 1e-12,
                "{x:?} {y:?}: {fast} vs {pooled}"
            );
        }
    }

    #[test]
    fn order_keys_order_and_tie_as_the_floats() {
        let v = [-1e300, -2.5, -1.0, -0.0, 0.0, 1e-300, 1.0, 2.5, 1e300];
        let keys: Vec<u64> = v.iter().map(|&x| order_key(x)).collect();
        for (i, j) in (0..v.len()).flat_map(|i| (0..v.len()).map(move |j| (i, j))) {
            assert_eq!(
                keys[i].cmp(&keys[j]),
                v[i].partial_cmp(&v[j]).unwrap(),
                "{i} {j}"
            );
        }
        assert!(v.iter().all(|&x| from_order_key(order_key(x)) == x));
    }

    #[test]
    fn empty_or_not_finite_is_no_test() {
        assert_eq!(ks_test(&[], &[1.0]), None);
        assert_eq!(ks_test(&[f64::NAN], &[1.0]), None);
    }
}
