//! Exact, cheap bounds on "what else changed"'s ranking statistic ([`super::co_moving`]): the
//! larger of the two-sample Kolmogorov–Smirnov D on the values and on the absolute deviations
//! from the baseline's median. Only the top few streams of an episode are shown, and most
//! streams are far from them; a lower and an upper bound on D, from histograms, settle those
//! without the exact D (which places every baseline point in the sorted window).
//!
//! Both samples are binned by one map that never decreases, which is all the bounds need: the
//! bin of x is (x − lo)·(B − 1) / (hi − lo) rounded and clamped to the B bins, over the
//! window's range [lo, hi] (the baseline's points beyond it fall in the end bins; over the
//! pooled range when the window is flat). Rounding and clamping keep it monotone. D is
//! |F(x) − G(x)| at some data point x, and in x's bin each ECDF lies between its values at the
//! bin's two ends, which the cumulative bin counts give exactly. So with i, j the window's and
//! the baseline's counts up to the bin before and i′, j′ up to the bin itself (m, n the sizes),
//! D·m·n ≤ max(i′·n − j·m, j′·m − i·n), and |i′·n − j′·m| is D at the bin's largest point,
//! a lower bound. The deviations are binned the same way over [0, their maximum], with the
//! baseline's median the exact one D uses (selected in its bin).

use super::ks::{from_order_key, order_key};

/// Bins per histogram (a power of two, for the mask in [`Map::bin`]): each bin holds a few %
/// of a sample, which is how far the upper bound can sit above D.
const BINS: usize = 64;
const _: () = assert!(BINS.is_power_of_two());

/// A lower and an upper bound on a D, as counts over m·n (exactly as D itself is computed).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Bounds {
    pub lower: f64,
    pub upper: f64,
}

impl Bounds {
    /// The bounds on the larger of two statistics.
    pub fn or(self, other: Bounds) -> Bounds {
        Bounds {
            lower: self.lower.max(other.lower),
            upper: self.upper.max(other.upper),
        }
    }
}

/// [`Binner::level`]'s bounds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Level {
    /// On D on the values.
    pub bounds: Bounds,
    /// An upper bound on D on the absolute deviations from any centre: the share of a sample
    /// within a distance of the centre is F(b) − F(a) for some a < b, so the two shares differ
    /// by at most D⁺ + D⁻ (Kuiper's V).
    pub any_centre: f64,
}

/// What is known of any D: bounds for a range a float cannot bin.
const UNKNOWN: Bounds = Bounds {
    lower: 0.0,
    upper: 1.0,
};

/// Buffers one ranking reuses across its streams.
#[derive(Default)]
pub(super) struct Binner {
    /// Order keys of the baseline points in the median's bin.
    keys: Vec<u64>,
    /// Where the last selected key sits in `keys`.
    rank: usize,
    /// The pooled range, its bins and the baseline's counts in them, as [`Binner::level`]
    /// found them (the range only when it was read on the way).
    range: Option<(f64, f64)>,
    baseline_bins: Option<(Map, [u32; BINS])>,
    /// Whether the last bounds were counted from kept bins ([`Binner::level_coded`]).
    coded: bool,
}

impl Binner {
    /// Bounds on the larger of D on the values and D on the absolute deviations from the
    /// baseline's median (the statistic [`super::co_moving`] ranks by). `None` when a value
    /// is not finite or a sample is empty, as for the exact D.
    #[cfg(test)]
    pub fn bounds(&mut self, window: &[f64], baseline: &[f64]) -> Option<Bounds> {
        let level = self.level(window, baseline)?;
        let spread = self.spread(window, baseline);
        Some(level.bounds.or(spread))
    }

    /// Bounds on D on the values, and an upper one on D on the deviations from any centre
    /// (the median's, before it is known); `None` as [`Binner::bounds`]. Keeps the baseline's
    /// bins for [`Binner::spread`] of the same samples.
    pub fn level(&mut self, window: &[f64], baseline: &[f64]) -> Option<Level> {
        let (m, n) = (window.len(), baseline.len());
        let (wlo, whi) = range(window)?;
        let mut hb = [0u32; BINS];
        let fused = Map::over(wlo, whi).filter(|_| whi > wlo);
        let (map, lo, hi) = match fused {
            // Bins over the window's range: the baseline is checked, binned and its range
            // found in one reading; its points beyond the window's fall in the end bins.
            Some(map) => {
                let (mut lo, mut hi, mut finite) = (wlo, whi, n > 0);
                for &x in baseline {
                    finite &= x.is_finite();
                    lo = if x < lo { x } else { lo };
                    hi = if x > hi { x } else { hi };
                    hb[map.bin(x)] += 1;
                }
                finite.then_some((map, lo, hi))?
            }
            // A flat window: bins over the pooled range.
            None => {
                let (blo, bhi) = range(baseline)?;
                let (lo, hi) = (wlo.min(blo), whi.max(bhi));
                let Some(map) = Map::over(lo, hi) else {
                    self.baseline_bins = None;
                    return Some(Level {
                        bounds: UNKNOWN,
                        any_centre: 1.0,
                    });
                };
                for &x in baseline {
                    hb[map.bin(x)] += 1;
                }
                (map, lo, hi)
            }
        };
        self.range = Some((lo, hi));
        self.coded = false;
        let mut hw = [0u32; BINS];
        for &x in window {
            hw[map.bin(x)] += 1;
        }
        self.baseline_bins = Some((map, hb));
        Some(level_of(&walk(&hw, &hb, m, n), m, n))
    }

    /// [`Binner::level`] of the window `values[first..end]` against the baseline
    /// `values[start..first]`, counted from the stream's [`Coded`] bins; `None` when the stream
    /// cannot be coded (a value not finite, a range too wide): then [`Binner::level`] decides.
    pub fn level_coded(
        &mut self,
        coded: &mut Coded,
        values: &[f64],
        (start, first, end): (usize, usize, usize),
    ) -> Option<Level> {
        let (map, codes) = coded.span(values, start, end)?;
        let (baseline, window) = codes.split_at(first - start);
        let (mut hw, mut hb) = ([0u32; BINS], [0u32; BINS]);
        for &c in baseline {
            hb[usize::from(c) & (BINS - 1)] += 1;
        }
        for &c in window {
            hw[usize::from(c) & (BINS - 1)] += 1;
        }
        self.range = None;
        self.coded = true;
        self.baseline_bins = Some((map, hb));
        let (m, n) = (window.len(), baseline.len());
        Some(level_of(&walk(&hw, &hb, m, n), m, n))
    }

    /// Bounds on D on the absolute deviations from the baseline's median, after
    /// [`Binner::level`] of the same samples.
    #[cfg(test)]
    pub fn spread(&mut self, window: &[f64], baseline: &[f64]) -> Bounds {
        self.spread_coded(window, baseline, None)
    }

    /// [`Binner::spread`], with the baseline's kept bins when [`Binner::level_coded`] counted
    /// them (`Coded::kept`): the median's bin is then found by comparing bytes.
    pub fn spread_coded(
        &mut self,
        window: &[f64],
        baseline: &[f64],
        codes: Option<&[u8]>,
    ) -> Bounds {
        let codes = codes.filter(|c| self.coded && c.len() == baseline.len());
        let Some((bins, counts)) = self.baseline_bins else {
            return UNKNOWN;
        };
        let pooled = || Some((range(window)?, range(baseline)?));
        let (lo, hi) = match self
            .range
            .or_else(|| pooled().map(|((wlo, whi), (blo, bhi))| (wlo.min(blo), whi.max(bhi))))
        {
            Some(r) => r,
            None => return UNKNOWN,
        };
        let median = self.median(baseline, codes, &bins, &counts);
        // The largest deviation is the lowest or the highest point's: rounding keeps order.
        let top = (hi - median).abs().max((lo - median).abs());
        let Some(map) = Map::over(0.0, top) else {
            return UNKNOWN;
        };
        let (mut hw, mut hb) = ([0u32; BINS], [0u32; BINS]);
        for &x in window {
            hw[map.bin((x - median).abs())] += 1;
        }
        for &x in baseline {
            hb[map.bin((x - median).abs())] += 1;
        }
        let walked = walk(&hw, &hb, window.len(), baseline.len());
        let mn = window.len() as f64 * baseline.len() as f64;
        Bounds {
            lower: walked.lower as f64 / mn,
            upper: walked.above.max(walked.below) as f64 / mn,
        }
    }

    /// The baseline's median, as `co_moving` takes it (the mean of the two middle points of
    /// an even count; −0 as +0), selected among the points of the middle points' bins.
    fn median(
        &mut self,
        baseline: &[f64],
        codes: Option<&[u8]>,
        map: &Map,
        bins: &[u32; BINS],
    ) -> f64 {
        let n = baseline.len();
        let upper = self.nth(baseline, codes, map, bins, n / 2);
        if n % 2 == 1 {
            return upper;
        }
        // The point below the upper middle one: in the same bin (the largest of those left of
        // the selected key) unless the upper one is its bin's first.
        let lower = match self.keys[..self.rank].iter().copied().max() {
            Some(key) => from_order_key(key),
            None => self.nth(baseline, codes, map, bins, n / 2 - 1),
        };
        (lower + upper) / 2.0
    }

    /// The `k`-th smallest (0-based) baseline point; its bin's keys stay in `keys`, selected
    /// around place `rank`.
    fn nth(
        &mut self,
        baseline: &[f64],
        codes: Option<&[u8]>,
        map: &Map,
        bins: &[u32; BINS],
        k: usize,
    ) -> f64 {
        let mut before = 0;
        let mut bin = 0;
        while before + bins[bin] as usize <= k {
            before += bins[bin] as usize;
            bin += 1;
        }
        self.keys.clear();
        if let Some(codes) = codes {
            for (&x, &c) in baseline.iter().zip(codes) {
                if usize::from(c) == bin {
                    self.keys.push(order_key(x));
                }
            }
        } else {
            // The bins again, for the baseline alone: cheaper than keeping every stream's.
            for &x in baseline {
                if map.bin(x) == bin {
                    self.keys.push(order_key(x));
                }
            }
        }
        self.rank = k - before;
        let (_, &mut key, _) = self.keys.select_nth_unstable(self.rank);
        from_order_key(key)
    }
}

/// [`Level`] from the walk of the values' bins, for samples of m and n points.
fn level_of(walked: &Walked, m: usize, n: usize) -> Level {
    let mn = m as f64 * n as f64;
    Level {
        bounds: Bounds {
            lower: walked.lower as f64 / mn,
            upper: walked.above.max(walked.below) as f64 / mn,
        },
        any_centre: (walked.above + walked.below) as f64 / mn,
    }
}

/// One stream's points binned once for all the episodes of an `explain` call, a byte each,
/// by one map fixed from the first points binned (their range): an episode's bounds then
/// count bytes instead of binning 200 floats again, and neighbouring episodes' baselines
/// overlap. Points beyond that range fall in the end bins: looser bounds, still true.
#[derive(Default)]
pub(super) struct Coded {
    /// Fixed by the first span that is not flat.
    map: Option<Map>,
    /// Whether the stream holds a value that is not finite or a range too wide to bin.
    refused: bool,
    /// `codes[k]` is the bin of point `from + k`.
    from: usize,
    codes: Vec<u8>,
}

impl Coded {
    /// The kept bins of `values[start..end]`, when they are all kept.
    pub fn kept(&self, start: usize, end: usize) -> Option<&[u8]> {
        let from = start.checked_sub(self.from)?;
        self.codes.get(from..end.checked_sub(self.from)?)
    }

    /// The map and the bins of `values[start..end]`, binning the points not binned yet;
    /// `None` when a value there is not finite or the first span's range is too wide (and
    /// from then on).
    fn span(&mut self, values: &[f64], start: usize, end: usize) -> Option<(Map, &[u8])> {
        if self.refused {
            return None;
        }
        let map = match self.map {
            Some(map) => map,
            None => {
                let Some((lo, hi)) = range(&values[start..end]) else {
                    self.refused = true;
                    return None;
                };
                // A flat start would put every later point in one bin: wait for a spread.
                if hi == lo {
                    return None;
                }
                let map = Map::over(lo, hi);
                self.refused = map.is_none();
                self.map = map;
                self.from = start;
                map?
            }
        };
        if start < self.from || start > self.from + self.codes.len() {
            // Before the span (or after a gap): bin afresh from here, by the same map.
            self.from = start;
            self.codes.clear();
        }
        let to = self.from + self.codes.len();
        if end > to {
            let fresh = &values[to..end];
            if !fresh.iter().all(|x| x.is_finite()) {
                self.refused = true;
                return None;
            }
            self.codes.extend(fresh.iter().map(|&x| map.bin(x) as u8));
        }
        Some((map, &self.codes[start - self.from..end - self.from]))
    }
}

/// The lowest and highest of `v`; `None` when it is empty or holds a non-finite value.
fn range(v: &[f64]) -> Option<(f64, f64)> {
    let (mut lo, mut hi, mut finite) = (f64::INFINITY, f64::NEG_INFINITY, true);
    for &x in v {
        finite &= x.is_finite();
        lo = if x < lo { x } else { lo };
        hi = if x > hi { x } else { hi };
    }
    (finite && !v.is_empty()).then_some((lo, hi))
}

/// The bins of [lo, hi]: a map that never decreases, so that a bin holds an interval of values.
#[derive(Clone, Copy)]
struct Map {
    lo: f64,
    scale: f64,
}

impl Map {
    /// `None` when the range is too wide for a float.
    fn over(lo: f64, hi: f64) -> Option<Map> {
        let width = hi - lo;
        // One bin when the range is a point (the bounds are then 0 and 1, still true).
        let scale = if width > 0.0 {
            (BINS - 1) as f64 / width
        } else {
            0.0
        };
        (width.is_finite() && scale.is_finite()).then_some(Map { lo, scale })
    }

    /// (x − lo)·scale clamped to [0, BINS − 1] (NaN to 0; points beyond the range fall in
    /// the end bins) and rounded to the nearest integer: adding 2^52 leaves it in the
    /// mantissa's low bits. Clamping and rounding never decrease, so neither does the bin.
    /// Cheaper than a saturating float-to-integer cast, natively and in wasm.
    fn bin(&self, x: f64) -> usize {
        const MAGIC: f64 = (1u64 << 52) as f64;
        const LAST: f64 = (BINS - 1) as f64;
        let v = (x - self.lo) * self.scale;
        let v = if v > 0.0 { v } else { 0.0 };
        let v = if v < LAST { v } else { LAST };
        ((v + MAGIC).to_bits() as usize) & (BINS - 1)
    }
}

/// What the two histograms say (module docs), in D's counts (over m·n): a lower bound on D,
/// and upper bounds on the largest excess of the window's ECDF over the baseline's (D⁺) and
/// of the baseline's over the window's (D⁻).
struct Walked {
    lower: u64,
    above: u64,
    below: u64,
}

fn walk(hw: &[u32; BINS], hb: &[u32; BINS], m: usize, n: usize) -> Walked {
    // In 64 bits: m·n passes 2^32 for windows of 65,536 points and more (wasm's usize).
    let (m, n) = (m as u64, n as u64);
    // The counts up to the bin before (i, j) and up to the bin (i′, j′), as i·n and j·m.
    let (mut i, mut j) = (0u64, 0u64);
    let mut out = Walked {
        lower: 0,
        above: 0,
        below: 0,
    };
    for (&w, &b) in hw.iter().zip(hb) {
        let (i2, j2) = (i + u64::from(w) * n, j + u64::from(b) * m);
        out.above = out.above.max(i2.saturating_sub(j));
        out.below = out.below.max(j2.saturating_sub(i));
        out.lower = out.lower.max(i2.abs_diff(j2));
        (i, j) = (i2, j2);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::co_moving::{median_of, ranking_statistic};
    use crate::Rng;

    /// The bounds hold the exact statistic on both sides, for shifts, changes of spread,
    /// heavy ties, a flat sample, outliers that squeeze the bins, and short baselines; and
    /// they are tight enough to be worth it on plain noise.
    #[test]
    fn the_bounds_hold_the_exact_statistic() {
        let mut rng = Rng::new(17);
        let mut slack = Vec::new();
        let mut binner = Binner::default();
        for case in 0..3000 {
            let (m, n) = (1 + case % 45, 1 + (case * 7) % 170);
            let kind = case % 6;
            let draw = |rng: &mut Rng, k: usize, scale: f64, shift: f64| -> Vec<f64> {
                (0..k)
                    .map(|i| match kind {
                        0 => rng.normal() * scale + shift,
                        1 => (rng.normal() * 2.0 * scale + shift).round(),
                        2 => 3.0,
                        3 if i == 0 => 1e6,
                        4 => -0.0 + (rng.normal() * scale).round() * 0.0,
                        _ => rng.normal() * scale + shift,
                    })
                    .collect()
            };
            let shift = [0.0, 0.5, 2.0][case % 3];
            let scale = [1.0, 3.0][case % 2];
            let w = draw(&mut rng, m, scale, shift);
            let b = draw(&mut rng, n, 1.0, 0.0);
            let exact = ranking_statistic(&w, &b).unwrap();
            let got = binner.bounds(&w, &b).unwrap();
            assert!(
                got.lower <= exact && exact <= got.upper,
                "case {case}: {got:?} around {exact}\n{w:?}\n{b:?}"
            );
            let level = binner.level(&w, &b).unwrap();
            let before_median = level.bounds.upper.max(level.any_centre);
            assert!(
                exact <= before_median,
                "case {case}: {level:?} below {exact}"
            );
            if kind == 0 && m == 40 && n >= 100 {
                slack.push(got.upper - exact);
            }
        }
        assert!(!slack.is_empty());
        let mean = slack.iter().sum::<f64>() / slack.len() as f64;
        assert!(mean < 0.1, "the upper bound sits {mean} above D on average");
        assert_eq!(binner.bounds(&[f64::NAN], &[1.0, 2.0]), None);
        assert_eq!(binner.bounds(&[], &[1.0, 2.0]), None);
    }

    /// Counted from bins kept for a stream, by a map fixed from earlier points (narrower,
    /// wider or shifted: many points clamp to the end bins), the bounds still hold the exact
    /// statistic; flat earlier points fix no map, and a value not finite refuses the stream.
    #[test]
    fn bounds_from_kept_bins_hold_the_exact_statistic() {
        let mut rng = Rng::new(23);
        let mut binner = Binner::default();
        for case in 0..2000 {
            let (m, n) = (1 + case % 45, 2 + (case * 7) % 170);
            let ties = case % 4 == 1;
            let draw = |rng: &mut Rng, k: usize, scale: f64, shift: f64| -> Vec<f64> {
                (0..k)
                    .map(|_| rng.normal() * scale + shift)
                    .map(|x| if ties { x.round() } else { x })
                    .collect()
            };
            let (scale, shift) = ([0.2, 1.0, 5.0][case % 3], [0.0, 1.0][case % 2]);
            let mut values: Vec<f64> = (0..30).map(|_| rng.normal() * scale + shift).collect();
            values.extend(draw(&mut rng, n, 1.0, 0.0));
            values.extend(draw(
                &mut rng,
                m,
                [1.0, 3.0][case % 2],
                [0.0, 0.5, 2.0][case % 3],
            ));
            let mut coded = Coded::default();
            assert!(coded.span(&values, 0, 30).is_some());
            let (first, end) = (30 + n, 30 + n + m);
            let (w, b) = (&values[first..end], &values[30..first]);
            let exact = ranking_statistic(w, b).unwrap();
            let level = binner
                .level_coded(&mut coded, &values, (30, first, end))
                .unwrap();
            let kept = coded.kept(30, first);
            assert_eq!(kept.map(<[u8]>::len), Some(n));
            let spread = binner.spread_coded(w, b, kept);
            let got = level.bounds.or(spread);
            assert!(
                got.lower <= exact && exact <= got.upper,
                "case {case}: {got:?} around {exact}"
            );
            assert!(
                exact <= level.bounds.upper.max(level.any_centre),
                "case {case}"
            );
        }
        let mut coded = Coded::default();
        assert!(coded.span(&[2.0; 10], 0, 10).is_none(), "flat: no map yet");
        assert!(coded.span(&[2.0, 3.0, f64::NAN], 0, 3).is_none());
        assert!(coded.span(&[2.0, 3.0], 0, 2).is_none(), "refused for good");
    }

    /// The median selected in its bin is the sorted sample's, for odd and even counts, ties
    /// and −0.
    #[test]
    fn the_median_is_selected_in_its_bin() {
        let mut rng = Rng::new(5);
        let mut binner = Binner::default();
        for n in 1..60 {
            // Rounded, with −0 among the zeros.
            let b: Vec<f64> = (0..n)
                .map(|_| (rng.normal() * 3.0).round() * 0.5 * if n % 3 == 0 { -1.0 } else { 1.0 })
                .collect();
            let map = Map::over(-20.0, 20.0).unwrap();
            let mut bins = [0u32; BINS];
            for &x in &b {
                bins[map.bin(x)] += 1;
            }
            let want = median_of(&mut Vec::new(), &b);
            assert_eq!(
                binner.median(&b, None, &map, &bins).to_bits(),
                want.to_bits(),
                "{b:?}"
            );
        }
    }
}
