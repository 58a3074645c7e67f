//! Order statistics of the pairwise differences aᵢ − bⱼ found in windows swept over the rows
//! together: every wanted rank (the Hodges–Lehmann median and both Moses bounds) and every extra
//! count (W's) in one pass over a, each row's prefix moved on from the row before.
//!
//! In row i the differences above d are a prefix of b whose length pᵢ(d) never shrinks with i
//! (the sorted-matrix structure of D. B. Johnson & T. Mizoguchi 1978, SIAM J. Comput. 7,
//! 147-153, used for this estimator by J. F. Monahan 1984, "Algorithm 616", ACM TOMS 10,
//! 265-270). Moving pᵢ₋₁(d) to pᵢ(d) is a branch-free look at the next four values of b, since
//! the steps are small; a loop takes the rare longer ones. So a count costs one step per row, not
//! the m + n dependent steps of a merge, and all windows share the row's loads. A window (lo, hi]
//! yields the exact counts at both ends and the differences inside; the wanted one is selected
//! there. A window that misses its rank, or holds too many differences, is aimed again from its
//! own exact counts (Newton on the local slope) and swept again with the others still open.
//!
//! Differences are compared as computed, `a[i] - b[j]`, which rounding keeps monotone in i and j,
//! so the answers are exactly the order statistics of R's `sort(outer(x, y, "-"))`.

/// Consecutive wanted ranks k..=last (one, or the two middle ones of an even count) and what is
/// known of them: the bracket (lo, hi] with count(lo) < k and last <= count(hi), and the window
/// the next sweep looks in.
#[derive(Clone, Debug)]
pub(crate) struct Search {
    k: u64,
    last: u64,
    lo: f64,
    c_lo: u64,
    hi: f64,
    c_hi: u64,
    window: (f64, f64),
    /// Differences per unit of value near the ranks (for aiming).
    slope: f64,
    /// Differences a window should hold.
    budget: u64,
    /// Windows that missed so far: each next one is twice as wide.
    misses: i32,
    /// The answers, once found: rank k first.
    pub(crate) values: Vec<f64>,
}

impl Search {
    /// Ranks k..=last of the differences of `a` and `b`, looked for first around `centre`;
    /// `slope` is the expected number of differences per unit of value there. Both only aim:
    /// any gives the exact answer.
    pub(crate) fn new(
        a: &[f64],
        b: &[f64],
        (k, last): (u64, u64),
        centre: f64,
        slope: f64,
    ) -> Search {
        let (m, n) = (a.len(), b.len());
        let (dmin, dmax) = (a[0] - b[n - 1], a[m - 1] - b[0]);
        let total = m as u64 * n as u64;
        // Without a usable slope (ties make it infinite), the average one.
        let slope = if slope.is_finite() && slope > 0.0 {
            slope
        } else {
            total as f64 / (dmax - dmin).max(f64::MIN_POSITIVE)
        };
        let mut search = Search {
            k,
            last,
            lo: next_down(dmin),
            c_lo: 0,
            hi: dmax,
            c_hi: total,
            window: (dmin, dmax),
            slope,
            budget: ((m + n) as u64 / 32).max(64),
            misses: 0,
            values: Vec::new(),
        };
        search.aim_at(centre);
        search
    }

    /// Differences per unit of value near the ranks, as last measured.
    pub(crate) fn slope(&self) -> f64 {
        self.slope
    }

    /// Answered.
    pub(crate) fn done(&self) -> bool {
        !self.values.is_empty()
    }

    /// Sets the next window to (lo, hi] clipped to the bracket; a bracket with no float inside
    /// holds only differences equal to its upper end, the answer.
    fn aim(&mut self, lo: f64, hi: f64) {
        if self.hi <= next_up(self.lo) {
            self.values = vec![self.hi; (self.last - self.k + 1) as usize];
            return;
        }
        let (lo, hi) = (lo.max(self.lo), hi.min(self.hi));
        self.window = if lo < hi && lo.is_finite() && hi.is_finite() {
            (lo, hi)
        } else {
            (self.lo, self.hi)
        };
    }

    /// Half the width of a window of about `budget` differences, twice that per miss so far.
    fn half(&self) -> f64 {
        self.budget as f64 / 2.0 / self.slope * 2f64.powi(self.misses)
    }

    /// A window of about `budget` differences (twice that per miss so far) around `centre`.
    fn aim_at(&mut self, centre: f64) {
        let half = self.half();
        if centre.is_finite() && half.is_finite() && half >= 0.0 {
            // At least (just below centre, centre]: an estimate on a tied value is then
            // settled by this one window however steep the count is there.
            self.aim(
                (centre - half).min(next_down(centre)),
                (centre + half).max(centre),
            );
        } else {
            self.aim(self.lo, self.hi);
        }
    }

    /// Takes a sweep's window: the answers when the window holds the ranks and all its
    /// differences, otherwise a narrower bracket and a new window.
    fn settle(&mut self, found: &mut Window) {
        let (lo, hi) = self.window;
        let (c_lo, c_hi) = (found.c_lo, found.c_hi);
        self.narrow(lo, c_lo);
        self.narrow(hi, c_hi);
        let mid = (self.k + self.last) as f64 / 2.0;
        if c_lo < self.k && self.last <= c_hi {
            if found.complete() {
                self.select(found, c_lo);
            } else {
                self.slope = (c_hi - c_lo) as f64 / (hi - lo);
                self.misses = 0;
                self.aim_inside(found, (mid - c_lo as f64) / (c_hi - c_lo) as f64);
            }
            return;
        }
        self.misses += 1;
        // A window between two differences (gaps between tied values): the nearest one on the
        // side of the ranks, alone, may well hold them.
        if c_hi == c_lo {
            let nearest = if mid <= c_lo as f64 {
                found.below
            } else {
                found.above
            };
            if nearest.is_finite() {
                self.aim(next_down(nearest), nearest);
                return;
            }
        }
        // The window's own slope, unless it had no differences or only one value (a tie, whose
        // slope is a jump): then the bracket's.
        let kept = &found.inside;
        let one_value = kept.first().is_some_and(|v| kept.iter().all(|w| w == v));
        self.slope = if c_hi > c_lo && !one_value {
            (c_hi - c_lo) as f64 / (hi - lo)
        } else {
            (self.c_hi - self.c_lo) as f64 / (self.hi - self.lo)
        };
        // Newton from the window's nearer end, reaching at least the next difference beyond
        // it, so that a gap between tied values is crossed in one sweep.
        let half = self.half();
        let (lo, hi) = if mid <= c_lo as f64 {
            let centre = lo - (c_lo as f64 - mid) / self.slope;
            ((centre - half).min(next_down(found.below)), centre + half)
        } else {
            let centre = hi + (mid - c_hi as f64) / self.slope;
            (centre - half, (centre + half).max(found.above))
        };
        self.aim(lo, hi);
    }

    /// The answers from a window holding them all, whose count at its lower end is `c_lo`.
    fn select(&mut self, found: &mut Window, c_lo: u64) {
        let rank = (self.k - c_lo - 1) as usize;
        let (_, &mut first, above) = found.inside.select_nth_unstable_by(rank, f64::total_cmp);
        self.values.push(first);
        if self.last > self.k {
            // The next rank is the least of those above.
            self.values
                .extend(above.iter().copied().min_by(f64::total_cmp));
        }
    }

    /// The next window inside one that held the ranks among too many differences: around the
    /// kept difference at fraction `at` of them, or, when that value repeats among the kept
    /// ones (heavy ties), just that value, so that a tie too large to collect is still found.
    fn aim_inside(&mut self, found: &mut Window, at: f64) {
        let kept = &mut found.inside;
        let rank = ((at * kept.len() as f64) as usize).min(kept.len() - 1);
        let pivot = *kept.select_nth_unstable_by(rank, f64::total_cmp).1;
        let repeats = kept.iter().filter(|&&v| v == pivot).count();
        if repeats > 1 && repeats as u64 * 4 >= kept.len() as u64 {
            self.aim(next_down(pivot), pivot);
        } else {
            self.aim_at(pivot);
        }
    }

    /// The bracket narrowed by the count at d.
    fn narrow(&mut self, d: f64, count: u64) {
        if count < self.k && d > self.lo {
            (self.lo, self.c_lo) = (d, count);
        } else if count >= self.last && d < self.hi {
            (self.hi, self.c_hi) = (d, count);
        }
    }
}

/// Room for this many differences at first in each window: about two budgets of 100,000-value
/// samples, more as they come.
const START: usize = 16 * 1024;

/// What one sweep found in one window (lo, hi].
#[derive(Default)]
struct Window {
    c_lo: u64,
    c_hi: u64,
    inside: Vec<f64>,
    cap: usize,
    /// The greatest difference at or below lo (−∞ if none, NaN if not looked for).
    below: f64,
    /// The least difference above hi (+∞ if none, NaN if not looked for).
    above: f64,
}

impl Window {
    /// Twice the room, up to the cap and one to write past it (kept stays at most cap, so
    /// there is always room at kept).
    fn grow(&mut self) {
        let more = (2 * self.inside.len()).min(self.cap + 1);
        self.inside.resize(more, 0.0);
    }

    /// Every difference in the window was kept.
    fn complete(&self) -> bool {
        self.inside.len() as u64 == self.c_hi - self.c_lo
    }
}

/// Sweeps until every search is answered or `sweeps` have been made; returns the counts
/// #{aᵢ − bⱼ <= d} for each d of `extra`, taken in the first sweep. Both samples are sorted,
/// finite and non-empty. `tied`: the samples hold equal values, so windows may fall between
/// tied differences, and even the first sweep notes the differences next to each window (which
/// costs about a fifth more on a sweep).
pub(crate) fn run(
    a: &[f64],
    b: &[f64],
    searches: &mut [Search],
    extra: &[f64],
    sweeps: usize,
    tied: bool,
) -> Vec<u64> {
    // Each extra count is the upper end of a window that keeps nothing; a value followed by the
    // float just below it (W's pair) is one window.
    let mut extras: Vec<(f64, f64)> = Vec::new();
    let mut rest = extra;
    while let Some((&d, tail)) = rest.split_first() {
        match tail.split_first() {
            Some((&below, tail)) if below == next_down(d) => {
                extras.push((below, d));
                rest = tail;
            }
            _ => {
                extras.push((next_down(d), d));
                rest = tail;
            }
        }
    }
    let mut extra_counts = Vec::new();
    let mut windows: Vec<Window> = Vec::new();
    for s in 0..sweeps {
        let open: Vec<usize> = (0..searches.len())
            .filter(|&t| !searches[t].done())
            .collect();
        if open.is_empty() && s > 0 {
            break;
        }
        let mut bounds: Vec<(f64, f64)> = open.iter().map(|&t| searches[t].window).collect();
        let caps = open.iter().map(|&t| 8 * searches[t].budget as usize);
        windows.resize_with(open.len(), Window::default);
        for (w, cap) in windows.iter_mut().zip(caps) {
            w.cap = cap;
        }
        if s == 0 {
            bounds.extend_from_slice(&extras);
            windows.extend(extras.iter().map(|_| Window::default()));
        }
        sweep(a, b, &bounds, &mut windows, s > 0 || tied);
        if s == 0 {
            let counted = windows.split_off(open.len());
            let mut values = extra.iter();
            for (w, &(lo, _)) in counted.iter().zip(&extras) {
                values.next();
                extra_counts.push(w.c_hi);
                if values.as_slice().first() == Some(&lo) {
                    values.next();
                    extra_counts.push(w.c_lo);
                }
            }
        }
        for (w, &t) in windows.iter_mut().zip(&open) {
            searches[t].settle(w);
        }
    }
    extra_counts
}

/// One pass over the rows: for each window (lo, hi] its end counts and up to `cap` of the
/// differences inside.
fn sweep(a: &[f64], b: &[f64], bounds: &[(f64, f64)], windows: &mut [Window], track: bool) {
    for w in windows.iter_mut() {
        w.inside.clear();
        w.inside.resize(w.cap.min(START) + 1, 0.0);
    }
    // Fixed lane counts let the compiler keep every prefix in a register.
    match bounds.len() {
        1 => lanes::<1>(a, b, bounds, windows, track),
        2 => lanes::<2>(a, b, bounds, windows, track),
        3 => lanes::<3>(a, b, bounds, windows, track),
        4 => lanes::<4>(a, b, bounds, windows, track),
        5 => lanes::<5>(a, b, bounds, windows, track),
        _ => {
            for (chunk, ws) in bounds.chunks(5).zip(windows.chunks_mut(5)) {
                sweep(a, b, chunk, ws, track);
            }
        }
    }
    for w in windows.iter_mut() {
        let kept = (w.c_hi - w.c_lo).min(w.cap as u64) as usize;
        w.inside.truncate(kept);
    }
}

/// [`sweep`] with W windows. Rows whose every prefix stays at least 8 short of b's end (most
/// of them; found by one binary search) take steps without clamping.
fn lanes<const W: usize>(
    a: &[f64],
    b: &[f64],
    bounds: &[(f64, f64)],
    windows: &mut [Window],
    track: bool,
) {
    let n = b.len();
    let mut rows = Rows::<W> {
        lo: std::array::from_fn(|w| bounds[w].0),
        hi: std::array::from_fn(|w| bounds[w].1),
        p_hi: [0; W],
        q_lo: [0; W],
        sum_lo: [0; W],
        sum_hi: [0; W],
        kept: [0; W],
        above: [f64::INFINITY; W],
        below: [f64::NEG_INFINITY; W],
        track,
    };
    // The least threshold has the longest prefixes.
    let floor = rows.lo.iter().fold(f64::INFINITY, |f, &t| f.min(t));
    let prefix = |x: f64| b.partition_point(|&y| x - y > floor);
    let near_end = a.partition_point(|&x| prefix(x) + 8 <= n);
    let Ok(lanes) = <&mut [Window; W]>::try_from(&mut windows[..]) else {
        unreachable!("one window per bound")
    };
    for &x in &a[..near_end] {
        rows.row::<false>(x, b, lanes);
    }
    for &x in &a[near_end..] {
        rows.row::<true>(x, b, lanes);
    }
    let all = a.len() as u64 * n as u64;
    for (w, window) in windows.iter_mut().enumerate() {
        (window.c_lo, window.c_hi) = (all - rows.sum_lo[w], all - rows.sum_hi[w]);
        (window.below, window.above) = if track {
            (rows.below[w], rows.above[w])
        } else {
            (f64::NAN, f64::NAN) // unknown: f64::max and min ignore NaN
        };
    }
}

/// The state of a sweep: each lane's prefix in the current row and the sums of prefixes so far
/// (a count is m·n minus that sum).
struct Rows<const W: usize> {
    lo: [f64; W],
    hi: [f64; W],
    p_hi: [usize; W],
    /// Each lane's prefix end at lo in the row before.
    q_lo: [usize; W],
    sum_lo: [u64; W],
    sum_hi: [u64; W],
    kept: [usize; W],
    /// The least difference above hi so far.
    above: [f64; W],
    /// The greatest difference at or below lo so far.
    below: [f64; W],
    /// Whether to find `above` and `below` (a sweep after a miss).
    track: bool,
}

impl<const W: usize> Rows<W> {
    /// Row x, every lane. `SAFE`: a prefix may reach b's end. The lanes are written out so that
    /// each one's index is a constant and its state can stay in registers.
    #[inline(always)]
    fn row<const SAFE: bool>(&mut self, x: f64, b: &[f64], windows: &mut [Window; W]) {
        if W > 0 {
            self.lane::<SAFE>(0, x, b, windows);
        }
        if W > 1 {
            self.lane::<SAFE>(1, x, b, windows);
        }
        if W > 2 {
            self.lane::<SAFE>(2, x, b, windows);
        }
        if W > 3 {
            self.lane::<SAFE>(3, x, b, windows);
        }
        if W > 4 {
            self.lane::<SAFE>(4, x, b, windows);
        }
    }

    /// Row x in window w.
    #[inline(always)]
    fn lane<const SAFE: bool>(&mut self, w: usize, x: f64, b: &[f64], windows: &mut [Window; W]) {
        let p = advance::<SAFE>(x, b, self.p_hi[w], self.hi[w]);
        let q = collect_row::<SAFE>(
            x,
            b,
            p,
            self.lo[w],
            &mut windows[w],
            &mut self.kept[w],
            &mut self.q_lo[w],
        );
        self.p_hi[w] = p;
        self.sum_hi[w] += p as u64;
        self.sum_lo[w] += q as u64;
        if self.track {
            // The row's neighbours of the window: b[p - 1] and b[q].
            let up = x - b[p.saturating_sub(1)];
            self.above[w] = self.above[w].min(if p > 0 { up } else { f64::INFINITY });
            let down = x - b[q.min(b.len() - 1)];
            self.below[w] = self.below[w].max(if q < b.len() { down } else { f64::NEG_INFINITY });
        }
    }
}

/// The differences of row x in (lo, hi], which start at its prefix end `p` at hi: written
/// without branches for the usual none or one (`kept` moves on only for those inside, and stays
/// at most the window's cap), a loop for more; past the cap, the end at lo moved on from the
/// previous row's `q_lo`. Returns the prefix end at lo (and keeps it in `q_lo`).
#[inline(always)]
fn collect_row<const SAFE: bool>(
    x: f64,
    b: &[f64],
    p: usize,
    lo: f64,
    w: &mut Window,
    kept: &mut usize,
    q_lo: &mut usize,
) -> usize {
    let n = b.len();
    if *kept + 1 >= w.inside.len() {
        w.grow();
    }
    let first = x - b[if SAFE { p.min(n - 1) } else { p }];
    let inside = (!SAFE || p < n) & (first > lo);
    w.inside[*kept] = first;
    *kept = (*kept + inside as usize).min(w.cap);
    let mut q = p + inside as usize;
    if inside {
        while (!SAFE || q < n) && x - b[q] > lo {
            if *kept >= w.cap {
                // Full: only the count matters now. A wide window (a large tie) may hold much
                // of every row, so the end at lo moves on from the row before's, as at hi.
                q = advance::<SAFE>(x, b, q.max(*q_lo), lo);
                break;
            }
            if *kept + 1 >= w.inside.len() {
                w.grow();
            }
            w.inside[*kept] = x - b[q];
            *kept += 1;
            q += 1;
        }
    }
    *q_lo = q;
    q
}

/// Row x's prefix #{j : x − b[j] > d} from the previous row's `p`: four looks without branches
/// (the predicate is monotone in j, so the number true is the step), a loop past that. With
/// `SAFE`, a look past the end reads b's last value: if x minus it is above d, every value is,
/// and the prefix is all of b.
#[inline(always)]
fn advance<const SAFE: bool>(x: f64, b: &[f64], p: usize, d: f64) -> usize {
    let n = b.len();
    let step = if SAFE {
        let last = n - 1;
        (x - b[p.min(last)] > d) as usize
            + (x - b[(p + 1).min(last)] > d) as usize
            + (x - b[(p + 2).min(last)] > d) as usize
            + (x - b[(p + 3).min(last)] > d) as usize
    } else {
        let look = &b[p..p + 4];
        (x - look[0] > d) as usize
            + (x - look[1] > d) as usize
            + (x - look[2] > d) as usize
            + (x - look[3] > d) as usize
    };
    let mut p = if SAFE { (p + step).min(n) } else { p + step };
    if step == 4 {
        while (!SAFE || p < n) && x - b[p] > d {
            p += 1;
        }
    }
    p
}

/// Estimates of #{aᵢ − bⱼ <= d} at each of `ds`, from one of the middle two rows of every block
/// of `step` rows of a (the lower and the upper in turn) against all of b, scaled to all rows:
/// the midpoint rule, so a count that changes steadily along the rows is not biased. Cheap
/// aiming, not an answer.
pub(crate) fn rows_estimates(a: &[f64], b: &[f64], ds: &[f64], step: usize) -> Vec<f64> {
    let n = b.len();
    let mut p = vec![0usize; ds.len()];
    let mut sums = vec![0u64; ds.len()];
    let mut rows = 0u64;
    for (i, block) in a.chunks_exact(step).enumerate() {
        let x = block[(step - 1) / 2 + (i % 2) * (1 - step % 2)];
        for ((p, sum), &d) in p.iter_mut().zip(sums.iter_mut()).zip(ds) {
            *p = seek(x, b, *p, d);
            *sum += (n - *p) as u64;
        }
        rows += 1;
    }
    let scale = a.len() as f64 / rows.max(1) as f64;
    sums.iter()
        .map(|&s| {
            if rows == 0 {
                a.len() as f64 * n as f64 / 2.0
            } else {
                s as f64 * scale
            }
        })
        .collect()
}

/// #{j : x − b[j] > d} searched from `p` on: a binary search without branches over the next
/// 16 values (the usual step between sampled rows is shorter), galloping on past them.
fn seek(x: f64, b: &[f64], p: usize, d: f64) -> usize {
    let above = |j: usize| x - b[j] > d;
    if p + 16 > b.len() {
        return gallop(x, b, p, d);
    }
    let mut base = p;
    for half in [8, 4, 2, 1] {
        base += half * above(base + half - 1) as usize;
    }
    let r = base + above(base) as usize;
    if r == p + 16 {
        gallop(x, b, r, d)
    } else {
        r
    }
}

/// #{j : x − b[j] > d} searched from `p` on: doubling steps, then bisection.
fn gallop(x: f64, b: &[f64], p: usize, d: f64) -> usize {
    let n = b.len();
    let above = |j: usize| x - b[j] > d;
    let mut step = 1;
    let mut lo = p; // every j < lo is above
    while lo + step <= n && above(lo + step - 1) {
        lo += step;
        step *= 2;
    }
    let mut hi = (lo + step).min(n); // b[hi - 1] is not above, or hi == n
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if above(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The least float above x (x finite).
pub(crate) fn next_up(x: f64) -> f64 {
    if x == 0.0 {
        return f64::from_bits(1);
    }
    let bits = x.to_bits();
    f64::from_bits(if x > 0.0 { bits + 1 } else { bits - 1 })
}

/// The greatest float below x (x finite).
pub(crate) fn next_down(x: f64) -> f64 {
    -next_up(-x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::select::tests::brute;
    use proptest::prelude::*;

    /// A sorted sample: values on a grid of `step` (0: continuous), so small steps make ties
    /// within and across samples, and duplicates.
    fn sample(len: usize, step: f64) -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec(-50.0f64..50.0, 1..=len).prop_map(move |mut v| {
            if step > 0.0 {
                v.iter_mut().for_each(|x| *x = (*x / step).round() * step);
            }
            v.sort_by(f64::total_cmp);
            v
        })
    }

    fn samples() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
        prop_oneof![Just(0.0), Just(0.1), Just(1.0), Just(25.0)]
            .prop_flat_map(|step| (sample(40, step), sample(40, step)))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        /// Whatever the first aim (good, far off, or on the wrong side), an answered search is
        /// exactly the brute-force order statistic, and the extra counts are exact.
        #[test]
        fn sweeps_equal_brute_force(
            (a, b) in samples(),
            at in 0.0f64..1.0,
            pair in any::<bool>(),
            centre in -120.0f64..120.0,
            slope in prop_oneof![Just(f64::NAN), 0.001f64..1000.0],
            d in -60.0f64..60.0,
            tied in any::<bool>(),
        ) {
            let all = brute(&a, &b);
            let total = all.len() as u64;
            let k = ((at * total as f64) as u64).clamp(1, total);
            let last = if pair && k < total { k + 1 } else { k };
            let mut searches = [Search::new(&a, &b, (k, last), centre, slope)];
            let extra = [d, next_down(d), 0.0, next_down(0.0), d.round()];
            let counts = run(&a, &b, &mut searches, &extra, 200, tied);
            for (&e, &c) in extra.iter().zip(&counts) {
                prop_assert_eq!(c, all.iter().filter(|&&v| v <= e).count() as u64, "count at {}", e);
            }
            prop_assert!(searches[0].done(), "200 sweeps did not settle rank {}", k);
            for (r, &v) in searches[0].values.iter().enumerate() {
                prop_assert_eq!(v, all[(k - 1) as usize + r], "rank {}", k + r as u64);
            }
        }

        /// The row-sampled estimate is exact when every row is sampled.
        #[test]
        fn rows_estimate_with_every_row_is_the_count((a, b) in samples(), d in -60.0f64..60.0) {
            let all = brute(&a, &b);
            let ds = [d];
            let got = rows_estimates(&a, &b, &ds, 1);
            prop_assert_eq!(got[0], all.iter().filter(|&&v| v <= d).count() as f64);
        }
    }
}
