//! Order statistics of the m·n pairwise differences aᵢ − bⱼ of two sorted samples, without
//! forming them: the Hodges–Lehmann estimate and the Moses interval bounds are such order
//! statistics, and 100 000 × 100 000 differences cannot be enumerated.
//!
//! The differences form an implicit matrix whose rows (aᵢ ascending) increase and whose
//! columns (bⱼ ascending) decrease, so for a value d the differences above d are, in each row,
//! a prefix of b whose length pᵢ(d) only grows with i: counting them is one merge-like pass of
//! m + n steps. Selecting in such a matrix is the problem of D. B. Johnson & T. Mizoguchi
//! (1978), "Selecting the Kth element in X + Y and X1 + X2 + … + Xm", SIAM J. Comput. 7,
//! 147-153, and of J. F. Monahan (1984), "Algorithm 616: fast computation of the
//! Hodges–Lehmann location estimator", ACM TOMS 10, 265-270. We search in value space:
//!
//! 1. Estimate each wanted order statistic, and the local slope of the count, by the same
//!    search on thinned samples (every 32nd value of each, block quantiles).
//! 2. Refine each estimate by one Newton step on a count from every 8th row of a against all
//!    of b (`sweep::rows_estimate`, a few binary searches per row).
//! 3. Sweep the rows once with a window around each estimate (`sweep.rs`): the exact counts at
//!    the windows' ends, the caller's extra counts (W's), and the differences inside each
//!    window, of which the wanted ones are selected. A window that misses is aimed again from
//!    its own exact counts and swept again.
//!
//! If the windows keep missing (odd data, heavy ties) a plain bracketing search with full
//! counting passes (regula falsi with the Illinois rule, then bisection) takes over, so the
//! answer is always exact. Differences are compared as computed, `a[i] - b[j]`: the result is
//! exactly the k-th element of R's `sort(outer(x, y, "-"))`, ties included. Samples must hold
//! fewer than 2³² values each.

use super::sweep::{self, Search};

/// Up to this many differences are simply formed and sorted.
const ENUMERATE: u64 = 4096;
/// Thinning factor for the first estimates.
const THIN: usize = 32;
/// Every ROW_STEP-th row of a counts for the refined estimates.
const ROW_STEP: usize = 8;
/// Sweeps over the rows before the bracketing search takes over.
const SWEEPS: usize = 16;

/// The order statistics of rank `ranks[t]` (1-based, each in 1..=m·n) of all differences
/// `a[i] - b[j]`, and #{(i, j) : a[i] - b[j] <= d} for each d of `extra`, counted in the
/// same pass. Both slices are sorted ascending, finite and non-empty; `tied` says that they
/// hold equal values (a hint for speed only: the answer is exact either way).
pub(crate) fn order_statistics(
    a: &[f64],
    b: &[f64],
    ranks: &[u64],
    extra: &[f64],
    tied: bool,
) -> (Vec<f64>, Vec<u64>) {
    let (found, counts) = solve(a, b, ranks, extra, tied);
    (found.iter().map(|f| f.value).collect(), counts)
}

/// An order statistic with the local slope of the count (differences per unit of value)
/// around it, NaN when unknown.
struct Found {
    value: f64,
    slope: f64,
}

fn solve(a: &[f64], b: &[f64], ranks: &[u64], extra: &[f64], tied: bool) -> (Vec<Found>, Vec<u64>) {
    let total = a.len() as u64 * b.len() as u64;
    debug_assert!(ranks.iter().all(|&k| k >= 1 && k <= total));
    let (ta, tb) = (thin(a), thin(b));
    let extra_counts = || extra.iter().map(|&d| count_le(a, b, d)).collect();
    if total <= ENUMERATE {
        let mut all: Vec<f64> = a
            .iter()
            .flat_map(|&x| b.iter().map(move |&y| x - y))
            .collect();
        all.sort_unstable_by(f64::total_cmp);
        let spread = (a.len() + b.len()) as u64;
        let at = |k: u64| all[(k.clamp(1, total) - 1) as usize];
        let found = ranks
            .iter()
            .map(|&k| {
                let (below, above) = (k.saturating_sub(spread).max(1), (k + spread).min(total));
                Found {
                    value: at(k),
                    slope: (above - below) as f64 / (at(above) - at(below)),
                }
            })
            .collect();
        return (found, extra_counts());
    }
    if ta.len() == a.len() && tb.len() == b.len() {
        let found = ranks
            .iter()
            .map(|&k| Found {
                value: bracketed(a, b, k),
                slope: f64::NAN,
            })
            .collect();
        return (found, extra_counts());
    }
    // The middle two ranks of an even count are one search.
    let mut groups: Vec<(u64, u64)> = Vec::new();
    for &k in ranks {
        match groups.last_mut() {
            Some(g) if g.1 + 1 == k => g.1 = k,
            _ => groups.push((k, k)),
        }
    }
    let mids: Vec<u64> = groups.iter().map(|g| g.0).collect();
    let estimates = estimates(&ta, &tb, total, &mids, tied);
    let values: Vec<f64> = estimates.iter().map(|e| e.value).collect();
    let counted = sweep::rows_estimates(a, b, &values, ROW_STEP);
    let mut searches: Vec<Search> = estimates
        .iter()
        .zip(&counted)
        .zip(&groups)
        .map(|((e, &c), &g)| {
            // One Newton step on the finer count.
            let centre = e.value + (g.0 as f64 - c) / e.slope;
            Search::new(a, b, g, centre, e.slope)
        })
        .collect();
    let counts = sweep::run(a, b, &mut searches, extra, SWEEPS, tied);
    let mut out = Vec::with_capacity(ranks.len());
    for (search, &(k, last)) in searches.iter().zip(&groups) {
        for (r, rank) in (k..=last).enumerate() {
            out.push(Found {
                value: search
                    .values
                    .get(r)
                    .copied()
                    .unwrap_or_else(|| bracketed(a, b, rank)),
                slope: search.slope(),
            });
        }
    }
    (out, counts)
}

/// Estimates from thinned samples: each rank scaled to the thinned total, found there with
/// the local slope of the thinned count, which scales back by the same factor.
fn estimates(ta: &[f64], tb: &[f64], total: u64, ranks: &[u64], tied: bool) -> Vec<Found> {
    let thinned = ta.len() as u64 * tb.len() as u64;
    let scale = total as f64 / thinned as f64;
    let wanted: Vec<u64> = ranks
        .iter()
        .map(|&k| ((k as f64 / scale).round() as u64).clamp(1, thinned))
        .collect();
    let (found, _) = solve(ta, tb, &wanted, &[], tied);
    found
        .into_iter()
        .map(|f| Found {
            value: f.value,
            slope: f.slope * scale,
        })
        .collect()
}

/// #{(i, j) : a[i] - b[j] <= d} at each of `d`: L merge chains stepped in turn, so that the
/// latency of one (load, subtract, compare, move) overlaps the others.
pub(crate) fn counts<const L: usize>(a: &[f64], b: &[f64], d: [f64; L]) -> [u64; L] {
    let (m, n) = (a.len(), b.len());
    let mut i = [0usize; L];
    let mut j = [0usize; L];
    let mut count = [0u64; L];
    let mut step = |t: usize, i: &mut [usize; L], j: &mut [usize; L]| {
        let above = (a[i[t]] - b[j[t]] > d[t]) as usize;
        count[t] += ((1 - above) * (n - j[t])) as u64;
        j[t] += above;
        i[t] += 1 - above;
    };
    while i.iter().all(|&x| x < m) && j.iter().all(|&y| y < n) {
        for t in 0..L {
            step(t, &mut i, &mut j);
        }
    }
    for t in 0..L {
        while i[t] < m && j[t] < n {
            step(t, &mut i, &mut j);
        }
    }
    count
}

/// #{(i, j) : a[i] - b[j] <= d}, one chain.
fn count_le(a: &[f64], b: &[f64], d: f64) -> u64 {
    let (m, n) = (a.len(), b.len());
    let (mut i, mut j, mut count) = (0usize, 0usize, 0u64);
    while i < m && j < n {
        let above = (a[i] - b[j] > d) as usize;
        count += ((1 - above) * (n - j)) as u64;
        j += above;
        i += 1 - above;
    }
    count
}

/// The k-th difference by a plain bracketing search: (lo, hi] with count(lo) < k <= count(hi),
/// narrowed by regula falsi with the Illinois rule (falling back to bisection) until few enough
/// candidates remain to collect. Always exact; slower than the windowed search.
fn bracketed(a: &[f64], b: &[f64], k: u64) -> f64 {
    let total = a.len() as u64 * b.len() as u64;
    let (dmin, dmax) = (a[0] - b[b.len() - 1], a[a.len() - 1] - b[0]);
    let c_min = count_le(a, b, dmin);
    if c_min >= k {
        return dmin;
    }
    let (mut lo, mut c_lo, mut hi, mut c_hi) = (dmin, c_min, dmax, total);
    let budget = ((a.len() + b.len()) as u64 / 8).max(ENUMERATE);
    let (mut kept_lo, mut kept_hi) = (1.0, 1.0);
    while c_hi - c_lo > budget {
        let mid = lo + (hi - lo) / 2.0;
        if !(mid > lo && mid < hi) {
            return hi; // no float inside (lo, hi]: every candidate equals hi
        }
        let (below, above) = ((k - c_lo) as f64 * kept_lo, (c_hi - k) as f64 * kept_hi);
        let t = lo + (hi - lo) * (below / (below + above));
        let t = if t > lo && t < hi { t } else { mid };
        let c = count_le(a, b, t);
        if c >= k {
            (hi, c_hi) = (t, c);
            (kept_lo, kept_hi) = (kept_lo * 0.5, 1.0); // lo kept again: pull it in (Illinois)
        } else {
            (lo, c_lo) = (t, c);
            (kept_lo, kept_hi) = (1.0, kept_hi * 0.5);
        }
    }
    let mut candidates = collect(a, b, lo, hi);
    *candidates
        .select_nth_unstable_by((k - c_lo - 1) as usize, f64::total_cmp)
        .1
}

/// Every difference in (lo, hi].
fn collect(a: &[f64], b: &[f64], lo: f64, hi: f64) -> Vec<f64> {
    let n = b.len();
    let (mut above_hi, mut above_lo) = (0, 0);
    let mut out = Vec::new();
    for &x in a {
        while above_hi < n && x - b[above_hi] > hi {
            above_hi += 1;
        }
        while above_lo < n && x - b[above_lo] > lo {
            above_lo += 1;
        }
        out.extend(b[above_hi..above_lo].iter().map(|&y| x - y));
    }
    out
}

/// Every THIN-th value, from the middle of each block (block quantiles of a sorted sample).
fn thin(xs: &[f64]) -> Vec<f64> {
    if xs.len() < 2 * THIN {
        return xs.to_vec();
    }
    xs.iter().skip(THIN / 2).step_by(THIN).copied().collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::Rng;

    /// Every difference a − b, sorted: what the fast paths must agree with.
    pub(crate) fn brute(a: &[f64], b: &[f64]) -> Vec<f64> {
        let mut all: Vec<f64> = a
            .iter()
            .flat_map(|&x| b.iter().map(move |&y| x - y))
            .collect();
        all.sort_by(f64::total_cmp);
        all
    }

    fn sorted(mut v: Vec<f64>) -> Vec<f64> {
        v.sort_by(f64::total_cmp);
        v
    }

    #[test]
    fn matches_brute_force_on_continuous_and_tied_data() {
        let mut rng = Rng::new(11);
        let shapes = [
            (300, 250, 0.0),
            (700, 90, 0.0),
            (400, 400, 5.0),
            (64, 1000, 1.0),
            (12, 5000, 0.0),
            (2000, 1500, 0.0),
        ];
        for (m, n, quantum) in shapes {
            let draw = |rng: &mut Rng, shift: f64| {
                let x: f64 = (5.0 + 0.5 * rng.normal()).exp() + shift;
                if quantum > 0.0 {
                    (x / quantum).round() * quantum
                } else {
                    x
                }
            };
            let a = sorted((0..m).map(|_| draw(&mut rng, 20.0)).collect());
            let b = sorted((0..n).map(|_| draw(&mut rng, 0.0)).collect());
            let all = brute(&a, &b);
            let total = all.len() as u64;
            let ranks = [
                1,
                2,
                total / 40,
                total / 3,
                total / 2,
                total / 2 + 1,
                total - 1,
                total,
            ];
            let got = order_statistics(&a, &b, &ranks, &[], quantum > 0.0).0;
            for (k, v) in ranks.iter().zip(got) {
                assert_eq!(v, all[(*k - 1) as usize], "{m}x{n} k={k}");
                assert_eq!(
                    bracketed(&a, &b, *k),
                    v,
                    "{m}x{n} k={k}: the fallback agrees"
                );
            }
        }
    }

    #[test]
    fn all_equal_differences() {
        let a = vec![1.0; 100];
        let b = vec![0.5; 100];
        assert_eq!(
            order_statistics(&a, &b, &[1, 5000, 10_000], &[], true).0,
            vec![0.5; 3]
        );
    }
}
