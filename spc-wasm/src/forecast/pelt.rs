//! Changepoints by PELT (Killick, Fearnhead & Eckley 2012, "Optimal detection of changepoints
//! with a linear computational cost", JASA 107:1590–1598) on a normal cost with a linear trend
//! per segment.
//!
//! **The cost.** Each segment is a line with its own level, slope and variance, so a drift is
//! one segment, not a staircase of mean shifts (which a mean/variance cost, `cpt.meanvar`,
//! would make of it): twice the negative log-likelihood at the maximum, less the terms that
//! depend only on the total length, is `m ln(RSS / m)` for a segment of `m` points whose
//! least-squares line leaves `RSS`. Prefix sums make each segment's cost O(1).
//!
//! **The penalty.** Schwarz's BIC on that scale: `β = (p + 1) ln n` with `p = 3` parameters
//! per new segment (level, slope, variance) and one for the change's location (counting the
//! location as a parameter, as Yao 1988, Statist. Probab. Lett. 6:181–189, does for changes in
//! mean). The tests measure how rarely it splits an in-control stream.
//!
//! **Exactness.** PELT returns the optimal segmentation (the same as optimal partitioning,
//! Jackson et al. 2005) because this cost satisfies Killick et al.'s condition with `K = 0`:
//! splitting a segment never lowers its maximized likelihood. `tests/forecast.rs` checks it
//! against an O(n²) optimal partitioning written in base R
//! (`tests/fixtures/forecast/make_fixtures.R`).

/// Prefix sums of `t, t², y, ty, y²` (t the 0-based index) for O(1) segment costs.
struct Sums {
    t: Vec<f64>,
    tt: Vec<f64>,
    y: Vec<f64>,
    ty: Vec<f64>,
    yy: Vec<f64>,
    /// The smallest variance a segment may have: a perfectly straight stretch (quantized or
    /// stuck data) would otherwise cost minus infinity.
    floor: f64,
}

impl Sums {
    fn new(values: &[f64]) -> Sums {
        // Shifted by the first value, so the sums of squares lose fewer digits.
        let origin = values.first().copied().unwrap_or(0.0);
        let n = values.len();
        let mut s = Sums {
            t: Vec::with_capacity(n + 1),
            tt: Vec::with_capacity(n + 1),
            y: Vec::with_capacity(n + 1),
            ty: Vec::with_capacity(n + 1),
            yy: Vec::with_capacity(n + 1),
            floor: 0.0,
        };
        let (mut t, mut tt, mut y, mut ty, mut yy) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for v in [&mut s.t, &mut s.tt, &mut s.y, &mut s.ty, &mut s.yy] {
            v.push(0.0);
        }
        for (i, &v) in values.iter().enumerate() {
            let (x, v) = (i as f64, v - origin);
            t += x;
            tt += x * x;
            y += v;
            ty += x * v;
            yy += v * v;
            s.t.push(t);
            s.tt.push(tt);
            s.y.push(y);
            s.ty.push(ty);
            s.yy.push(yy);
        }
        let all = s.rss(0, n) / n.max(1) as f64;
        s.floor = (all * 1e-10).max(f64::MIN_POSITIVE);
        s
    }

    /// The residual sum of squares of the least-squares line through points `a..b`.
    fn rss(&self, a: usize, b: usize) -> f64 {
        let m = (b - a) as f64;
        let st = self.t[b] - self.t[a];
        let sy = self.y[b] - self.y[a];
        let stt = self.tt[b] - self.tt[a] - st * st / m;
        let sty = self.ty[b] - self.ty[a] - st * sy / m;
        let syy = self.yy[b] - self.yy[a] - sy * sy / m;
        let rss = if stt > 0.0 {
            syy - sty * sty / stt
        } else {
            syy
        };
        rss.max(0.0)
    }

    /// `m ln(RSS / m)` for points `a..b`.
    fn cost(&self, a: usize, b: usize) -> f64 {
        let m = (b - a) as f64;
        m * (self.rss(a, b) / m).max(self.floor).ln()
    }
}

/// The BIC-type penalty `4 ln n` (see the module docs).
pub fn penalty(n: usize) -> f64 {
    4.0 * (n.max(2) as f64).ln()
}

/// The starts (0-based, ascending, never 0) of every segment after the first, in the optimal
/// segmentation of `values` under the linear-trend cost with `penalty` per change and at
/// least `min_segment` points (at least 3) per segment. Fewer than `2 × min_segment` values:
/// no changepoint.
pub fn changepoints(values: &[f64], penalty: f64, min_segment: usize) -> Vec<usize> {
    let n = values.len();
    let m = min_segment.max(3);
    if n < 2 * m {
        return Vec::new();
    }
    let sums = Sums::new(values);
    // best[t]: the optimal cost of values[..t] plus β per segment, less one β.
    let mut best = vec![f64::INFINITY; n + 1];
    let mut last = vec![0usize; n + 1];
    best[0] = -penalty;
    let mut candidates: Vec<usize> = Vec::new();
    // Each candidate's cost to `t`, computed once for the minimum and the pruning.
    let mut costs: Vec<f64> = Vec::new();
    for t in m..=n {
        // A segment may start at tau = t - m once values[..tau] can be segmented.
        let tau = t - m;
        if best[tau].is_finite() {
            candidates.push(tau);
        }
        costs.clear();
        costs.extend(candidates.iter().map(|&c| best[c] + sums.cost(c, t)));
        let mut min = f64::INFINITY;
        let mut arg = 0;
        for (&c, &cost) in candidates.iter().zip(&costs) {
            let f = cost + penalty;
            if f < min {
                min = f;
                arg = c;
            }
        }
        best[t] = min;
        last[t] = arg;
        // Killick et al.'s pruning with K = 0: a start that cannot beat the optimum now never
        // will.
        let mut kept = costs.iter();
        candidates.retain(|_| kept.next().is_some_and(|&cost| cost <= min));
    }
    let mut cps = Vec::new();
    let mut t = n;
    while t > 0 {
        t = last[t];
        if t > 0 {
            cps.push(t);
        }
    }
    cps.reverse();
    cps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_level_then_a_ramp_splits_where_the_ramp_starts() {
        let mut rng = crate::Rng::new(7);
        let v: Vec<f64> = (0..300)
            .map(|i| {
                10.0 + rng.normal()
                    + if i >= 200 {
                        0.1 * (i - 200) as f64
                    } else {
                        0.0
                    }
            })
            .collect();
        let cps = changepoints(&v, penalty(v.len()), 5);
        assert_eq!(cps.len(), 1, "{cps:?}");
        assert!((195..=205).contains(&cps[0]), "{cps:?}");
    }

    #[test]
    fn a_straight_line_is_one_segment_and_too_short_is_none() {
        let v: Vec<f64> = (0..100).map(|i| 2.0 * i as f64).collect();
        assert!(changepoints(&v, penalty(100), 5).is_empty());
        assert!(changepoints(&v[..9], penalty(9), 5).is_empty());
    }
}
