//! The k-th smallest of the m·n pairwise differences aᵢ − bⱼ of two sorted samples, without
//! forming them: the Hodges–Lehmann estimate and the Moses interval bounds are such order
//! statistics, and 100 000 × 100 000 differences cannot be enumerated.
//!
//! The differences form an implicit matrix whose rows (aᵢ ascending) increase and whose columns
//! (bⱼ ascending) decrease. Counting the differences ≤ d is one two-pointer pass, O(m + n)
//! (the pointer only moves forward as i grows). The search keeps a bracket (lo, hi] with
//! count(lo) < k ≤ count(hi) and narrows it by interpolation on the counts (regula falsi with
//! the Illinois safeguard, falling back to bisection) until it holds few enough candidates to
//! collect and select directly. It is the value-space form of the selection in sorted matrices
//! of D. B. Johnson & T. Mizoguchi (1978), "Selecting the Kth element in X + Y and
//! X1 + X2 + … + Xm", SIAM J. Comput. 7, 147-153, and of J. F. Monahan (1984), "Algorithm 616:
//! fast computation of the Hodges–Lehmann location estimator", ACM TOMS 10, 265-270.
//!
//! The first bracket comes from the same search on thinned samples (every s-th value of each,
//! a grid of block quantiles), whose scaled counts are within about (m + n)·s of the full ones,
//! so on smooth data two or three full passes are usually enough.
//!
//! Differences are compared as computed, `a[i] - b[j]`, so the answer is exactly the k-th
//! element of R's `sort(outer(x, y, "-"))`, ties included.

/// Up to this many differences are simply formed and selected.
const ENUMERATE: u64 = 4096;
/// Thinning factor per level of the first-bracket search.
const THIN: usize = 32;

/// The k-th smallest (1-based) of all differences `a[i] - b[j]`. Both slices are sorted
/// ascending, finite and non-empty, and 1 <= k <= m·n (the caller's invariants).
pub(crate) fn kth_difference(a: &[f64], b: &[f64], k: u64) -> f64 {
    let total = a.len() as u64 * b.len() as u64;
    debug_assert!(k >= 1 && k <= total);
    if total <= ENUMERATE {
        let mut all: Vec<f64> = a
            .iter()
            .flat_map(|&x| b.iter().map(move |&y| x - y))
            .collect();
        return *all
            .select_nth_unstable_by((k - 1) as usize, f64::total_cmp)
            .1;
    }
    let dmin = a[0] - b[b.len() - 1];
    let dmax = a[a.len() - 1] - b[0];
    let c_min = count_le(a, b, dmin);
    if c_min >= k {
        return dmin;
    }
    let mut bracket = Bracket {
        lo: dmin,
        c_lo: c_min,
        hi: dmax,
        c_hi: total,
        k,
    };
    for guess in first_guesses(a, b, k) {
        bracket.update(guess, count_le(a, b, guess));
    }
    let budget = ((a.len() + b.len()) as u64 / 8).max(ENUMERATE);
    let mut last_side = 0i8;
    let mut weight = 1.0;
    while bracket.c_hi - bracket.c_lo > budget {
        let Some(trial) = bracket.trial(last_side, &mut weight) else {
            // No float lies strictly inside (lo, hi]: every candidate equals hi.
            return bracket.hi;
        };
        let side = bracket.update(trial, count_le(a, b, trial));
        if side != last_side {
            weight = 1.0;
        }
        last_side = side;
    }
    let mut candidates = collect(a, b, bracket.lo, bracket.hi);
    let rank = (k - bracket.c_lo - 1) as usize;
    *candidates.select_nth_unstable_by(rank, f64::total_cmp).1
}

/// The answer lies in (lo, hi]: count(lo) = c_lo < k <= c_hi = count(hi).
struct Bracket {
    lo: f64,
    c_lo: u64,
    hi: f64,
    c_hi: u64,
    k: u64,
}

impl Bracket {
    /// Moves one end to `d` (whose count is `c`); returns which end moved (-1 lo, 1 hi, 0 none).
    fn update(&mut self, d: f64, c: u64) -> i8 {
        if !(d > self.lo && d < self.hi) {
            return 0;
        }
        if c >= self.k {
            (self.hi, self.c_hi) = (d, c);
            1
        } else {
            (self.lo, self.c_lo) = (d, c);
            -1
        }
    }

    /// The next value to count: interpolated on the counts, with the Illinois rule (the end
    /// kept twice in a row counts half as much each time) and bisection when interpolation
    /// lands on an end. `None` when (lo, hi) holds no float.
    fn trial(&self, last_side: i8, weight: &mut f64) -> Option<f64> {
        let mid = self.lo + (self.hi - self.lo) / 2.0;
        if !(mid > self.lo && mid < self.hi) {
            return None;
        }
        if last_side != 0 {
            *weight *= 0.5;
        }
        // Weighted distances from the target: the end kept last time is pulled in.
        let (mut below, mut above) = ((self.k - self.c_lo) as f64, (self.c_hi - self.k) as f64);
        match last_side {
            1 => below *= *weight,  // hi moved last: lo was kept
            -1 => above *= *weight, // lo moved last: hi was kept
            _ => {}
        }
        let t = self.lo + (self.hi - self.lo) * (below / (below + above));
        Some(if t > self.lo && t < self.hi { t } else { mid })
    }
}

/// #{(i, j) : a[i] - b[j] <= d}. For each i the differences above d are a prefix of b (b
/// ascending), whose length p only grows with i: one pass, O(m + n).
fn count_le(a: &[f64], b: &[f64], d: f64) -> u64 {
    let n = b.len();
    let mut p = 0;
    let mut count = 0u64;
    for &x in a {
        while p < n && x - b[p] > d {
            p += 1;
        }
        count += (n - p) as u64;
    }
    count
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

/// Two values expected to bracket the answer, from the same search on thinned samples: the
/// thinned ranks k' ∓ (m' + n'), the thinning's count error, scaled to the thinned total.
fn first_guesses(a: &[f64], b: &[f64], k: u64) -> Vec<f64> {
    let (ta, tb) = (thin(a), thin(b));
    let thinned_total = ta.len() as u64 * tb.len() as u64;
    if thinned_total < 2 || ta.len() == a.len() && tb.len() == b.len() {
        return Vec::new();
    }
    let fraction = k as f64 / (a.len() as f64 * b.len() as f64);
    let centre = (fraction * thinned_total as f64).round() as i64;
    let margin = (ta.len() + tb.len()) as i64;
    [centre - margin, centre + margin]
        .into_iter()
        .map(|r| kth_difference(&ta, &tb, r.clamp(1, thinned_total as i64) as u64))
        .collect()
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
        for (m, n, quantum) in [
            (300, 250, 0.0),
            (700, 90, 0.0),
            (400, 400, 5.0),
            (64, 1000, 1.0),
        ] {
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
            for k in [1, 2, total / 3, total / 2, total / 2 + 1, total - 1, total] {
                assert_eq!(
                    kth_difference(&a, &b, k),
                    all[(k - 1) as usize],
                    "{m}x{n} k={k}"
                );
            }
        }
    }

    #[test]
    fn all_equal_differences() {
        let a = vec![1.0; 100];
        let b = vec![0.5; 100];
        assert_eq!(kth_difference(&a, &b, 5000), 0.5);
    }
}
