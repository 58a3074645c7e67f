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
//! 1. Estimate each wanted order statistic, and the local slope of the count (from the window
//!    that found it), by the same search on thinned samples (every 32nd value of each, block
//!    quantiles).
//! 2. One pass at those estimates, all wanted ranks at once as independent chains (the pass is
//!    bound by the latency of each step, so five chains cost about twice one), keeping every
//!    row's prefix length pᵢ. The caller's extra counts (W's) ride along.
//! 3. Per rank, a Newton step from there and a window around it holding about (m + n)/8
//!    differences; the counts at the window's ends come from the stored pᵢ by moving each a
//!    step or two, and the same loop collects the differences inside the window, of which the
//!    wanted one is selected directly.
//!
//! If the windows keep missing (odd data, heavy ties) a plain bracketing search with full
//! counting passes (regula falsi with the Illinois rule, then bisection) takes over, so the
//! answer is always exact. Differences are compared as computed, `a[i] - b[j]`: the result is
//! exactly the k-th element of R's `sort(outer(x, y, "-"))`, ties included. Samples must hold
//! fewer than 2³² values each.

/// Up to this many differences are simply formed and sorted.
const ENUMERATE: u64 = 4096;
/// Thinning factor for the first estimates.
const THIN: usize = 32;
/// Chains per counting pass at most (five: three ranks and W's two counts).
const LANES: usize = 6;

/// The order statistics of rank `ranks[t]` (1-based, each in 1..=m·n) of all differences
/// `a[i] - b[j]`, and #{(i, j) : a[i] - b[j] <= d} for each d of `extra`, counted in the
/// same pass. Both slices are sorted ascending, finite and non-empty.
pub(crate) fn order_statistics(
    a: &[f64],
    b: &[f64],
    ranks: &[u64],
    extra: &[f64],
) -> (Vec<f64>, Vec<u64>) {
    let (found, counts) = solve(a, b, ranks, extra);
    (found.iter().map(|f| f.value).collect(), counts)
}

/// An order statistic with the local slope of the count (differences per unit of value)
/// around it, NaN when unknown.
struct Found {
    value: f64,
    slope: f64,
}

fn solve(a: &[f64], b: &[f64], ranks: &[u64], extra: &[f64]) -> (Vec<Found>, Vec<u64>) {
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
    // A rank next to the one before is read from the same window.
    let leads: Vec<usize> = (0..ranks.len())
        .filter(|&t| t == 0 || ranks[t].abs_diff(ranks[t - 1]) > 1)
        .collect();
    let lead_ranks: Vec<u64> = leads.iter().map(|&t| ranks[t]).collect();
    let estimates = estimates(&ta, &tb, total, &lead_ranks);
    let mut values: Vec<f64> = estimates.iter().map(|e| e.value).collect();
    values.extend_from_slice(extra);
    let pass = Pass::run(a, b, &values, lead_ranks.len());
    let budget = ((a.len() + b.len()) as u64 / 8).max(ENUMERATE);
    let mut out = Vec::with_capacity(ranks.len());
    let mut window = Window::default();
    let mut lead = 0;
    for (t, &k) in ranks.iter().enumerate() {
        if leads.get(lead) == Some(&t) {
            let slope = estimates[lead].slope;
            window = windowed(a, b, k, &pass.at(lead), slope, budget).unwrap_or_default();
            lead += 1;
        }
        let found = match window.select(k) {
            Some(value) => Found {
                value,
                slope: window.slope(),
            },
            None => Found {
                value: bracketed(a, b, k),
                slope: f64::NAN,
            },
        };
        out.push(found);
    }
    (out, pass.counts[lead_ranks.len()..].to_vec())
}

/// The differences in a window (lo, hi], with the counts at its ends.
#[derive(Default)]
struct Window {
    lo: f64,
    hi: f64,
    c_lo: u64,
    c_hi: u64,
    candidates: Vec<f64>,
}

impl Window {
    /// Differences per unit of value across the window.
    fn slope(&self) -> f64 {
        (self.c_hi - self.c_lo) as f64 / (self.hi - self.lo)
    }

    /// The k-th difference when the window holds it.
    fn select(&mut self, k: u64) -> Option<f64> {
        let complete = self.candidates.len() as u64 == self.c_hi - self.c_lo;
        if !(self.c_lo < k && k <= self.c_hi && complete) {
            return None;
        }
        let rank = (k - self.c_lo - 1) as usize;
        Some(
            *self
                .candidates
                .select_nth_unstable_by(rank, f64::total_cmp)
                .1,
        )
    }
}

/// Estimates from thinned samples: each rank scaled to the thinned total, found there with
/// the local slope of the thinned count, which scales back by the same factor.
fn estimates(ta: &[f64], tb: &[f64], total: u64, ranks: &[u64]) -> Vec<Found> {
    let thinned = ta.len() as u64 * tb.len() as u64;
    let scale = total as f64 / thinned as f64;
    let wanted: Vec<u64> = ranks
        .iter()
        .map(|&k| ((k as f64 / scale).round() as u64).clamp(1, thinned))
        .collect();
    let (found, _) = solve(ta, tb, &wanted, &[]);
    found
        .into_iter()
        .map(|f| Found {
            value: f.value,
            slope: f.slope * scale,
        })
        .collect()
}

/// Counting passes at several values d: #{(i, j) : a[i] - b[j] <= d} for each, and every
/// row's prefix length pᵢ = #{j : a[i] - b[j] > d}, stored row-major (`rows[i * lanes + t]`)
/// as the chains write them.
struct Pass {
    counts: Vec<u64>,
    /// One block per group of up to LANES values.
    groups: Vec<Vec<u32>>,
    values: Vec<f64>,
    record: usize,
}

/// One value's prefix lengths inside a [`Pass`].
struct Reference<'p> {
    d: f64,
    count: u64,
    rows: &'p [u32],
    lanes: usize,
    lane: usize,
}

impl Reference<'_> {
    fn row(&self, i: usize) -> usize {
        self.rows[i * self.lanes + self.lane] as usize
    }
}

impl Pass {
    /// Counts at every value of `ds`, prefixes for the first `record` of them.
    fn run(a: &[f64], b: &[f64], ds: &[f64], record: usize) -> Pass {
        let mut counts = Vec::with_capacity(ds.len());
        let mut groups = Vec::new();
        for (g, group) in ds.chunks(LANES).enumerate() {
            let recorded = record.saturating_sub(g * LANES).min(group.len());
            let mut rows = vec![0u32; a.len() * recorded];
            counts.extend(run_group(a, b, group, &mut rows, recorded));
            groups.push(rows);
        }
        Pass {
            counts,
            groups,
            values: ds.to_vec(),
            record,
        }
    }

    /// The reference at value `t`, which must be one of the recorded ones.
    fn at(&self, t: usize) -> Reference<'_> {
        debug_assert!(t < self.record);
        let group = t / LANES;
        let lanes = LANES.min(self.record - group * LANES);
        Reference {
            d: self.values[t],
            count: self.counts[t],
            rows: &self.groups[group],
            lanes,
            lane: t % LANES,
        }
    }
}

/// The chains of one group, at most LANES values.
fn run_group(a: &[f64], b: &[f64], ds: &[f64], rows: &mut [u32], record: usize) -> Vec<u64> {
    fn lanes<const L: usize>(
        a: &[f64],
        b: &[f64],
        ds: &[f64],
        rows: &mut [u32],
        r: usize,
    ) -> Vec<u64> {
        chains::<L, true>(a, b, std::array::from_fn(|t| ds[t]), rows, r).to_vec()
    }
    match ds.len() {
        1 => lanes::<1>(a, b, ds, rows, record),
        2 => lanes::<2>(a, b, ds, rows, record),
        3 => lanes::<3>(a, b, ds, rows, record),
        4 => lanes::<4>(a, b, ds, rows, record),
        5 => lanes::<5>(a, b, ds, rows, record),
        _ => lanes::<LANES>(a, b, ds, rows, record),
    }
}

/// Newton from the reference to rank k, then a window of about `budget` differences around
/// it: its end counts and the differences inside it in one loop over the rows. `None` when six
/// windows miss or hold too many differences (the caller falls back to bracketing).
fn windowed(
    a: &[f64],
    b: &[f64],
    k: u64,
    start: &Reference<'_>,
    slope: f64,
    budget: u64,
) -> Option<Window> {
    let mut slope = slope;
    let mut centre = start.d + (k as f64 - start.count as f64) / slope;
    let mut half = budget as f64 / 4.0 / slope;
    let mut w = Window::default();
    for _ in 0..6 {
        if !(slope.is_finite() && slope > 0.0 && centre.is_finite() && half > 0.0) {
            return None;
        }
        let (lo, hi) = (centre - half, centre + half);
        (w.lo, w.hi) = (lo, hi);
        (w.c_lo, w.c_hi) = window(a, b, start, lo, hi, 4 * budget, &mut w.candidates);
        if w.c_lo < k && k <= w.c_hi {
            if w.candidates.len() as u64 == w.c_hi - w.c_lo {
                return Some(w);
            }
            half /= 4.0; // too many inside: narrow around the same centre
            continue;
        }
        // Missed: the window's ends give the local slope; aim again from the nearer end, wider.
        if w.c_hi > w.c_lo {
            slope = (w.c_hi - w.c_lo) as f64 / (hi - lo);
        }
        centre = if w.c_lo >= k {
            lo - (w.c_lo - k) as f64 / slope
        } else {
            hi + (k - w.c_hi) as f64 / slope
        };
        half *= 2.0;
    }
    None
}

/// Counts at `lo` and `hi` (lo < hi) from the prefixes of the reference pass, moving each
/// row's prefix end at `hi` a step or two and walking on to its end at `lo`, and the
/// differences in (lo, hi] while there are at most `cap`.
fn window(
    a: &[f64],
    b: &[f64],
    start: &Reference<'_>,
    lo: f64,
    hi: f64,
    cap: u64,
    out: &mut Vec<f64>,
) -> (u64, u64) {
    let n = b.len();
    let (mut c_lo, mut c_hi) = (0u64, 0u64);
    out.clear();
    for (i, &x) in a.iter().enumerate() {
        let p_hi = prefix_at(x, b, start.row(i), start.d, hi);
        // The differences in (lo, hi] follow p_hi in the row; usually none or one.
        let mut p_lo = p_hi;
        while p_lo < n && x - b[p_lo] > lo {
            if (out.len() as u64) < cap {
                out.push(x - b[p_lo]);
            }
            p_lo += 1;
        }
        c_hi += (n - p_hi) as u64;
        c_lo += (n - p_lo) as u64;
    }
    (c_lo, c_hi)
}

/// Row x's prefix length at `d`, from its length `p` at `from`: two steps without branches
/// (the usual distance is 0 or 1), then a loop for the rare longer move.
fn prefix_at(x: f64, b: &[f64], mut p: usize, from: f64, d: f64) -> usize {
    let n = b.len();
    if d >= from {
        for _ in 0..2 {
            let back = p > 0 && x - b[p.saturating_sub(1)] <= d;
            p -= back as usize;
        }
        while p > 0 && x - b[p - 1] <= d {
            p -= 1;
        }
    } else {
        for _ in 0..2 {
            let on = p < n && x - b[p.min(n - 1)] > d;
            p += on as usize;
        }
        while p < n && x - b[p] > d {
            p += 1;
        }
    }
    p
}

/// #{(i, j) : a[i] - b[j] <= d} at each of `d`, counts only: L independent chains.
pub(crate) fn counts<const L: usize>(a: &[f64], b: &[f64], d: [f64; L]) -> [u64; L] {
    chains::<L, false>(a, b, d, &mut [], 0)
}

/// L merge chains stepped in turn, so that the latency of one (load, subtract, compare, move)
/// overlaps the others. With `ROWS`, the first `record` chains write row i's prefix length for
/// d[t] to `rows[i * record + t]`.
fn chains<const L: usize, const ROWS: bool>(
    a: &[f64],
    b: &[f64],
    d: [f64; L],
    rows: &mut [u32],
    record: usize,
) -> [u64; L] {
    let (m, n) = (a.len(), b.len());
    let mut i = [0usize; L];
    let mut j = [0usize; L];
    let mut count = [0u64; L];
    let mut step = |t: usize, i: &mut [usize; L], j: &mut [usize; L]| {
        if ROWS && t < record {
            rows[i[t] * record + t] = j[t] as u32;
        }
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
    if ROWS {
        // Rows left once j reaches n have every difference above d.
        for t in 0..record {
            for row in i[t]..m {
                rows[row * record + t] = n as u32;
            }
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
mod tests {
    use super::*;
    use crate::Rng;

    fn brute(a: &[f64], b: &[f64]) -> Vec<f64> {
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
            let got = order_statistics(&a, &b, &ranks, &[]).0;
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
            order_statistics(&a, &b, &[1, 5000, 10_000], &[]).0,
            vec![0.5; 3]
        );
    }
}
