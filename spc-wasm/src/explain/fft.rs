//! A radix-2 fast Fourier transform (Cooley & Tukey 1965), iterative and in place on separate
//! real and imaginary arrays, for MASS's sliding dot products ([`super::mass`]). Small on
//! purpose, since the site ships it to the browser; fast enough by transforming the series in
//! cache-sized blocks (overlap-save; Oppenheim & Schafer, *Discrete-Time Signal Processing*,
//! §8.7.3), two real blocks in one complex transform. Short queries take the direct sum.

use std::cell::RefCell;
use std::f64::consts::PI;
use std::rc::Rc;

/// The twiddle factors of one transform size, computed once and used by every block: for
/// each stage (butterflies of `len` = 2, 4, … n points) its own `len / 2` factors in a row,
/// so the butterflies read them contiguously and vectorize (the same numbers as one table read
/// with a stride, so the same results).
pub struct Plan {
    stages: Vec<(Vec<f64>, Vec<f64>)>,
    /// The bit-reversal permutation's swaps (i < j), found once.
    swaps: Vec<(u32, u32)>,
}

impl Plan {
    /// A plan for transforms of length `n`, a power of two.
    pub fn new(n: usize) -> Plan {
        debug_assert!(n.is_power_of_two());
        let (cos, sin): (Vec<f64>, Vec<f64>) = (0..n / 2)
            .map(|k| {
                let angle = 2.0 * PI * k as f64 / n as f64;
                (angle.cos(), -angle.sin())
            })
            .unzip();
        let stages = std::iter::successors(Some(2), |len| Some(len * 2))
            .take_while(|&len| len <= n)
            .map(|len| {
                let stride = n / len;
                let every = |v: &[f64]| v.iter().step_by(stride).copied().collect();
                (every(&cos), every(&sin))
            })
            .collect();
        Plan {
            stages,
            swaps: bit_reverse_swaps(n),
        }
    }

    /// In-place FFT of `(re, im)`, of the plan's length; `inverse` divides by the length.
    pub fn fft(&self, re: &mut [f64], im: &mut [f64], inverse: bool) {
        self.transform(re, im, inverse);
        if inverse {
            let scale = 1.0 / re.len() as f64;
            re.iter_mut().chain(im.iter_mut()).for_each(|v| *v *= scale);
        }
    }

    /// [`Plan::fft`] without the inverse's division by the length, for a caller that divides
    /// only the outputs it keeps (the same products, so the same numbers).
    fn transform(&self, re: &mut [f64], im: &mut [f64], inverse: bool) {
        let n = re.len();
        debug_assert!(n == 1 << self.stages.len() && im.len() == n);
        for &(i, j) in &self.swaps {
            re.swap(i as usize, j as usize);
            im.swap(i as usize, j as usize);
        }
        let sign = if inverse { -1.0 } else { 1.0 };
        // Two stages at a time, each block's four quarters in one pass (radix 2²): the same
        // butterflies on the same numbers, in another order, with half the passes over memory.
        let mut stages = self.stages.chunks_exact(2);
        for pair in &mut stages {
            two_stages(re, im, &pair[0], &pair[1], sign);
        }
        if let [(cos, sin)] = stages.remainder() {
            one_stage(re, im, cos, sin, sign);
        }
    }
}

/// One butterfly: (lo, hi) ← (lo + w·hi, lo − w·hi), w = (wr, wi).
#[inline(always)]
fn butterfly(lo: (f64, f64), hi: (f64, f64), (wr, wi): (f64, f64)) -> [(f64, f64); 2] {
    let tr = hi.0 * wr - hi.1 * wi;
    let ti = hi.0 * wi + hi.1 * wr;
    [(lo.0 + tr, lo.1 + ti), (lo.0 - tr, lo.1 - ti)]
}

/// One radix-2 stage: butterflies of blocks of twice the twiddles' length.
fn one_stage(re: &mut [f64], im: &mut [f64], cos: &[f64], sin: &[f64], sign: f64) {
    let half = cos.len();
    let len = 2 * half;
    for (block_re, block_im) in re.chunks_exact_mut(len).zip(im.chunks_exact_mut(len)) {
        let (lo_re, hi_re) = block_re.split_at_mut(half);
        let (lo_im, hi_im) = block_im.split_at_mut(half);
        // Zipped, not indexed: no bounds checks in the butterflies (wasm keeps them).
        let lo = lo_re.iter_mut().zip(lo_im.iter_mut());
        let hi = hi_re.iter_mut().zip(hi_im.iter_mut());
        for (((lr, li), (hr, hi)), (&c, &s)) in lo.zip(hi).zip(cos.iter().zip(sin)) {
            let [l, h] = butterfly((*lr, *li), (*hr, *hi), (c, sign * s));
            (*lr, *li, *hr, *hi) = (l.0, l.1, h.0, h.1);
        }
    }
}

/// Two radix-2 stages, of blocks of L and 2L points (`a` and `b` their twiddles, L/2 and L),
/// in one pass: in each block of 2L, point k of its four quarters takes the first stage's
/// butterflies (0, 1) and (2, 3), then the second's (0, 2) and (1, 3).
fn two_stages(
    re: &mut [f64],
    im: &mut [f64],
    (ac, as_): &(Vec<f64>, Vec<f64>),
    (bc, bs): &(Vec<f64>, Vec<f64>),
    sign: f64,
) {
    let h = ac.len();
    let (ac, as_, bc, bs) = (&ac[..h], &as_[..h], &bc[..2 * h], &bs[..2 * h]);
    for (block_re, block_im) in re.chunks_exact_mut(4 * h).zip(im.chunks_exact_mut(4 * h)) {
        let (r01, r23) = block_re.split_at_mut(2 * h);
        let (r0, r1) = r01.split_at_mut(h);
        let (r2, r3) = r23.split_at_mut(h);
        let (i01, i23) = block_im.split_at_mut(2 * h);
        let (i0, i1) = i01.split_at_mut(h);
        let (i2, i3) = i23.split_at_mut(h);
        let (r1, r2, r3, i1, i2, i3) = (
            &mut r1[..h],
            &mut r2[..h],
            &mut r3[..h],
            &mut i1[..h],
            &mut i2[..h],
            &mut i3[..h],
        );
        for k in 0..h {
            let wa = (ac[k], sign * as_[k]);
            let [p0, p1] = butterfly((r0[k], i0[k]), (r1[k], i1[k]), wa);
            let [p2, p3] = butterfly((r2[k], i2[k]), (r3[k], i3[k]), wa);
            let [q0, q2] = butterfly(p0, p2, (bc[k], sign * bs[k]));
            let [q1, q3] = butterfly(p1, p3, (bc[k + h], sign * bs[k + h]));
            (r0[k], i0[k], r1[k], i1[k]) = (q0.0, q0.1, q1.0, q1.1);
            (r2[k], i2[k], r3[k], i3[k]) = (q2.0, q2.1, q3.0, q3.1);
        }
    }
}

/// The swaps (i, j), i < j, of the bit-reversal permutation of n points.
fn bit_reverse_swaps(n: usize) -> Vec<(u32, u32)> {
    let mut swaps = Vec::new();
    let mut j = 0;
    for i in 1..n {
        let mut bit = n >> 1;
        while j & bit != 0 {
            j ^= bit;
            bit >>= 1;
        }
        j |= bit;
        if i < j {
            swaps.push((i as u32, j as u32));
        }
    }
    swaps
}

/// The plan of the last transform size used: MASS over many queries of one length (an
/// `explain` call's 200 episodes) would compute the same twiddle factors for each.
fn plan_of(size: usize) -> Rc<Plan> {
    thread_local! {
        static LAST: RefCell<Option<(usize, Rc<Plan>)>> = const { RefCell::new(None) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        match &*last {
            Some((n, plan)) if *n == size => Rc::clone(plan),
            _ => {
                let plan = Rc::new(Plan::new(size));
                *last = Some((size, Rc::clone(&plan)));
                plan
            }
        }
    })
}

/// The smallest block, for short queries; blocks of 8 queries' length keep each transform's
/// log factor small and its arrays in a core's cache.
const MIN_BLOCK: usize = 512;

/// Up to this query length the direct O(n·m) sum is faster than any transform (measured:
/// `benches/explain.rs`).
const DIRECT: usize = 64;

/// Σ (a_j − level)·b_j.
fn dot(a: &[f64], level: f64, b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - level) * y).sum()
}

/// The sliding dot products Σ_j q_j·(t_{i+j} − level) for every i ≤ t.len() − q.len(), the
/// series centred as it is read (MASS's; no centred copy of a long series). Overlap-save:
/// each block of `size` points gives `size − m + 1` products, and since the query's spectrum
/// is that of a real signal, the inverse of (A + iB)·Q is a∗q + i·b∗q, two blocks at once.
pub fn sliding_dot(q: &[f64], t: &[f64], level: f64) -> Vec<f64> {
    let (m, n) = (q.len(), t.len());
    if m == 0 || m > n {
        return Vec::new();
    }
    if m <= DIRECT {
        return t.windows(m).map(|w| dot(w, level, q)).collect();
    }
    let size = (8 * m)
        .next_power_of_two()
        .max(MIN_BLOCK)
        .min((n + m - 1).next_power_of_two());
    let plan = plan_of(size);
    let (mut qr, mut qi) = (vec![0.0; size], vec![0.0; size]);
    for (slot, &v) in qr.iter_mut().zip(q.iter().rev()) {
        *slot = v;
    }
    plan.transform(&mut qr, &mut qi, false);
    let scale = 1.0 / size as f64;
    let step = size - m + 1;
    let count = n - m + 1;
    let mut out = vec![0.0; count];
    let (mut re, mut im) = (vec![0.0; size], vec![0.0; size]);
    for pair in (0..count).step_by(2 * step) {
        let second = pair + step;
        fill(&mut re, t, level, pair);
        fill(&mut im, t, level, second);
        plan.transform(&mut re, &mut im, false);
        let spectrum = re.iter_mut().zip(im.iter_mut());
        for ((a, b), (&qr, &qi)) in spectrum.zip(qr.iter().zip(&qi)) {
            (*a, *b) = (*a * qr - *b * qi, *a * qi + *b * qr);
        }
        plan.transform(&mut re, &mut im, true);
        // The inverse's division by the size, only for the products kept.
        for (start, block) in [(pair, &re), (second, &im)] {
            let end = (start + step).min(count);
            if start < end {
                let kept = block[m - 1..m - 1 + end - start].iter();
                for (o, v) in out[start..end].iter_mut().zip(kept) {
                    *o = v * scale;
                }
            }
        }
    }
    out
}

/// `block` = t[start..start + block.len()] − level, zero past t's end.
fn fill(block: &mut [f64], t: &[f64], level: f64, start: usize) {
    let from = t.get(start..).unwrap_or(&[]);
    let k = from.len().min(block.len());
    for (slot, v) in block[..k].iter_mut().zip(from) {
        *slot = v - level;
    }
    block[k..].fill(0.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_dot_equals_the_direct_sum() {
        let t: Vec<f64> = (0..20_000)
            .map(|i| ((i * 37) % 101) as f64 - 50.0)
            .collect();
        for m in [1, 2, 7, 64, 65, 300, 1500, 20_000] {
            let q: Vec<f64> = (0..m).map(|i| ((i * 13) % 17) as f64 * 0.5).collect();
            let got = sliding_dot(&q, &t, 3.0);
            assert_eq!(got.len(), t.len() - m + 1);
            for (i, g) in got.iter().enumerate() {
                let want: f64 = q.iter().zip(&t[i..]).map(|(a, b)| a * (b - 3.0)).sum();
                assert!((g - want).abs() < 1e-6 * (1.0 + want.abs()), "m {m} i {i}");
            }
        }
    }

    #[test]
    fn inverse_undoes_forward() {
        let mut re: Vec<f64> = (0..64).map(|i| (i as f64).sin()).collect();
        let mut im = vec![0.0; 64];
        let original = re.clone();
        let plan = Plan::new(64);
        plan.fft(&mut re, &mut im, false);
        plan.fft(&mut re, &mut im, true);
        for (a, b) in re.iter().zip(&original) {
            assert!((a - b).abs() < 1e-12);
        }
    }
}
