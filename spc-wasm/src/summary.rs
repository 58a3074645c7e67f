//! Summary statistics in one pass and bounded memory, for streams of any length.
//!
//! * Mean and variance by Welford's update (numerically stable, no stored data).
//! * Exact minimum and maximum.
//! * Quantiles from a [`QuantileSketch`] (DDSketch) with a relative-error guarantee, which is the
//!   right kind of guarantee for latency: "p99 = 812 ms ± 0.5%" whether p99 is 8 ms or 8 s.
//!   [`SummaryBuilder`] sketches distances from a reference value (the median of the first 64
//!   values, which it keeps exactly), so a barrel temperature of 74.00 ± 0.01 gets quantiles to
//!   within 0.5% of a few hundredths rather than 0.5% of 74.
//! * [`summarize`], for a whole slice, gives exact quantiles.

use crate::SpcError;

/// Summary of a sample. Fields that are undefined are NaN: everything but `n` when `n = 0`, and
/// `sd` when `n < 2`. Quantiles are lower quantiles (the value at 0-based rank ⌊q(n−1)⌋): exact
/// from [`summarize`], and from [`SummaryBuilder`] exact up to 64 values, then within 0.5% of
/// their distance from the builder's reference value (see [`SummaryBuilder`]); `min` and `max`
/// are exact.
///
/// With the `serde` feature, JSON writes NaN as `null`; deserialising reads `null` back as NaN.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Summary {
    /// Number of finite values summarised (non-finite ones are skipped).
    pub n: u64,
    /// Arithmetic mean.
    #[cfg_attr(feature = "serde", serde(deserialize_with = "nan_from_null"))]
    pub mean: f64,
    /// Sample standard deviation (divisor n − 1).
    #[cfg_attr(feature = "serde", serde(deserialize_with = "nan_from_null"))]
    pub sd: f64,
    /// Exact minimum.
    #[cfg_attr(feature = "serde", serde(deserialize_with = "nan_from_null"))]
    pub min: f64,
    /// Exact maximum.
    #[cfg_attr(feature = "serde", serde(deserialize_with = "nan_from_null"))]
    pub max: f64,
    /// Median (sketch estimate).
    #[cfg_attr(feature = "serde", serde(deserialize_with = "nan_from_null"))]
    pub p50: f64,
    /// 90th percentile (sketch estimate).
    #[cfg_attr(feature = "serde", serde(deserialize_with = "nan_from_null"))]
    pub p90: f64,
    /// 95th percentile (sketch estimate).
    #[cfg_attr(feature = "serde", serde(deserialize_with = "nan_from_null"))]
    pub p95: f64,
    /// 99th percentile (sketch estimate).
    #[cfg_attr(feature = "serde", serde(deserialize_with = "nan_from_null"))]
    pub p99: f64,
}

/// JSON has no NaN: serde_json writes it as `null`, so read `null` (or a number) back.
#[cfg(feature = "serde")]
fn nan_from_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    use serde::Deserialize;
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Streaming builder for a [`Summary`]: O(1) amortized per value, memory bounded by the sketch
/// (at most 2 × 2048 buckets).
///
/// The first [`WARMUP`] values are kept exactly. Their median becomes the reference `r`, and the
/// sketch then holds `x − r`. The error bound is therefore `|v − x_q| ≤ α |x_q − r|` with
/// α = 0.005: relative to the spread of the data rather than to their distance from zero,
/// which matters for process data with a large mean and a small spread.
///
/// Values beyond about ±1e307 can overflow the running variance to infinity; the builder never
/// panics, but `sd` is then infinite or NaN.
#[derive(Debug, Clone)]
pub struct SummaryBuilder {
    n: u64,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
    skipped: u64,
    /// The first values, exactly, until there are [`WARMUP`] of them.
    warmup: Vec<f64>,
    /// The median of the warm-up values; NaN until chosen.
    reference: f64,
    sketch: QuantileSketch,
}

/// Values a [`SummaryBuilder`] keeps exactly before it picks its reference and starts sketching.
pub const WARMUP: usize = 64;

impl Default for SummaryBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl SummaryBuilder {
    /// An empty builder with the default sketch (α = 0.005, 2048 buckets per sign).
    pub fn new() -> Self {
        SummaryBuilder {
            n: 0,
            mean: 0.0,
            m2: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            skipped: 0,
            warmup: Vec::new(),
            reference: f64::NAN,
            sketch: QuantileSketch::default(),
        }
    }

    /// Add one value. NaN and ±∞ are not data: they are ignored and counted in
    /// [`SummaryBuilder::skipped`], so one bad sample cannot poison the mean.
    pub fn push(&mut self, x: f64) {
        if !x.is_finite() {
            self.skipped = self.skipped.saturating_add(1);
            return;
        }
        self.n += 1;
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        if !self.reference.is_nan() {
            self.sketch.push(x - self.reference);
            return;
        }
        self.warmup.push(x);
        if self.warmup.len() == WARMUP {
            self.reference = crate::math::median(&self.warmup);
            for v in std::mem::take(&mut self.warmup) {
                self.sketch.push(v - self.reference);
            }
        }
    }

    /// How many non-finite values were ignored.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Number of finite values pushed.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// The summary so far.
    pub fn summary(&self) -> Summary {
        let empty = self.n == 0;
        Summary {
            n: self.n,
            mean: if empty { f64::NAN } else { self.mean },
            sd: if self.n < 2 {
                f64::NAN
            } else {
                (self.m2 / (self.n - 1) as f64).sqrt()
            },
            min: if empty { f64::NAN } else { self.min },
            max: if empty { f64::NAN } else { self.max },
            p50: self.quantile(0.50),
            p90: self.quantile(0.90),
            p95: self.quantile(0.95),
            p99: self.quantile(0.99),
        }
    }

    /// Estimated lower `q`-quantile (see [`QuantileSketch::quantile`]); `q = 0` and `q = 1` give
    /// the exact min and max. NaN when empty or when `q` is not in [0, 1].
    pub fn quantile(&self, q: f64) -> f64 {
        if self.n == 0 || !(0.0..=1.0).contains(&q) {
            return f64::NAN;
        }
        if q == 0.0 {
            return self.min;
        }
        if q == 1.0 {
            return self.max;
        }
        if self.reference.is_nan() {
            return lower_quantile(&mut self.warmup.clone(), q);
        }
        (self.reference + self.sketch.quantile(q)).clamp(self.min, self.max)
    }
}

/// Summarise a slice, with exact quantiles (non-finite values are skipped, see
/// [`SummaryBuilder::push`]). O(n) time: each quantile is a selection, not a sort.
pub fn summarize(xs: &[f64]) -> Summary {
    let mut b = SummaryBuilder::new();
    let mut finite = Vec::with_capacity(xs.len());
    for &x in xs {
        b.push(x);
        if x.is_finite() {
            finite.push(x);
        }
    }
    let mut q = |p: f64| lower_quantile(&mut finite, p);
    Summary {
        p50: q(0.50),
        p90: q(0.90),
        p95: q(0.95),
        p99: q(0.99),
        ..b.summary()
    }
}

/// The value at 0-based rank ⌊q(n−1)⌋ (reorders `xs`); NaN when empty or q is not in [0, 1].
fn lower_quantile(xs: &mut [f64], q: f64) -> f64 {
    if xs.is_empty() || !(0.0..=1.0).contains(&q) {
        return f64::NAN;
    }
    let rank = (q * (xs.len() - 1) as f64).floor() as usize;
    *xs.select_nth_unstable_by(rank, f64::total_cmp).1
}

/// Default relative accuracy of [`QuantileSketch`].
pub const DEFAULT_ALPHA: f64 = 0.005;
/// Default bound on the number of buckets in each of the positive and negative stores.
pub const DEFAULT_MAX_BUCKETS: usize = 2048;

/// DDSketch (Masson, Rim & Lee, "DDSketch: a fast and fully-mergeable quantile sketch with
/// relative-error guarantees", PVLDB 12(12), 2019).
///
/// A positive value `x` is counted in bucket `k = ⌈log_γ x⌉`, `γ = (1 + α)/(1 − α)`, which
/// covers `(γ^(k−1), γ^k]`; the bucket reports `2γ^k/(γ + 1)`, which is within a factor
/// `1 ± α` of every value in it. Negative values go to a second store keyed by `|x|`, and exact
/// zeros to a zero count. Each store is a dense `Vec<u64>` with a key offset, reallocated with
/// slack (doubling its span) when a key falls outside it, so a push is O(1) amortized and a
/// quantile is O(buckets). The exception is a full store whose maximum keeps rising: each new
/// top bucket shifts the window, O(max_buckets); that can happen at most once per bucket of the
/// f64 range (~1.5·10⁵ times at α = 0.005) over the sketch's whole life.
///
/// **Guarantee.** Let `x_q` be the exact lower `q`-quantile: the element of 0-based rank
/// `⌊q(n − 1)⌋` of the `n` values sorted ascending. Then `quantile(q)` returns `v` with
/// `|v − x_q| <= α·|x_q|` (up to floating-point rounding at bucket edges, ~1e-15 relative), for
/// every `q` in [0, 1] — provided no bucket collapse touched `x_q` (below). The result is also
/// clamped to the exact [min, max], which can only bring it closer.
///
/// **Bounded memory.** Each store keeps at most `max_buckets` buckets (2048 by default, a span
/// of about `γ^2048 ≈ 8·10⁸` in magnitude at α = 0.005: from 1 µs to 13 minutes in one store).
/// When a store would exceed that, its *lowest-valued* buckets are merged into the lowest bucket
/// kept: the smallest positive magnitudes in the positive store, the most negative values in the
/// negative store. The guarantee then still holds for every quantile whose exact value lies
/// outside the collapsed range(s) — for latency, the upper tail that matters — and quantiles
/// that fall in a collapsed range are overestimated. The window follows the largest magnitude,
/// so one wild value (a timestamp pushed as a latency, say 1e12 ms) collapses everything below
/// 1e12/8·10⁸ ≈ 1250 ms: validate inputs upstream if that can happen.
///
/// Non-finite values are ignored by [`QuantileSketch::push`]. Subnormal magnitudes (< 2.2e-308)
/// are bucketed too, but their bucket values cannot carry full relative precision.
#[derive(Debug, Clone)]
pub struct QuantileSketch {
    alpha: f64,
    /// ln γ
    ln_gamma: f64,
    /// ln(2/(γ + 1)): bucket k reports exp(k·ln γ + this).
    ln_value_factor: f64,
    max_buckets: usize,
    /// Keys of x > 0; collapses its lowest keys (smallest values).
    positive: Store,
    /// Keys of |x| for x < 0; collapses its highest keys (most negative values).
    negative: Store,
    zero: u64,
    min: f64,
    max: f64,
}

impl Default for QuantileSketch {
    /// α = 0.005 (0.5% relative error), 2048 buckets per store.
    fn default() -> Self {
        Self::build(DEFAULT_ALPHA, DEFAULT_MAX_BUCKETS)
    }
}

impl QuantileSketch {
    /// A sketch with relative accuracy `alpha` and the default 2048 buckets per store.
    ///
    /// # Errors
    /// [`SpcError::InvalidParameter`] unless `1e-6 <= alpha < 1` (smaller α would need bucket
    /// keys finer than f64 logarithms can place reliably).
    pub fn new(alpha: f64) -> Result<Self, SpcError> {
        Self::with_max_buckets(alpha, DEFAULT_MAX_BUCKETS)
    }

    /// A sketch with relative accuracy `alpha` and at most `max_buckets` buckets per store.
    ///
    /// # Errors
    /// [`SpcError::InvalidParameter`] unless `1e-6 <= alpha < 1` and `max_buckets >= 1`.
    pub fn with_max_buckets(alpha: f64, max_buckets: usize) -> Result<Self, SpcError> {
        if !(1e-6..1.0).contains(&alpha) {
            return Err(crate::error::invalid(
                "alpha",
                format!("relative accuracy must be at least 1e-6 and below 1, got {alpha}"),
            ));
        }
        if max_buckets == 0 {
            return Err(crate::error::invalid("max_buckets", "must be at least 1"));
        }
        Ok(Self::build(alpha, max_buckets))
    }

    fn build(alpha: f64, max_buckets: usize) -> Self {
        // ln γ = ln(1 + α) − ln(1 − α), accurate for small α.
        let ln_gamma = alpha.ln_1p() - (-alpha).ln_1p();
        let gamma = ln_gamma.exp();
        QuantileSketch {
            alpha,
            ln_gamma,
            ln_value_factor: (2.0 / (gamma + 1.0)).ln(),
            max_buckets,
            positive: Store::new(max_buckets, false),
            negative: Store::new(max_buckets, true),
            zero: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }

    /// The relative accuracy α.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// The bound on buckets per store.
    pub fn max_buckets(&self) -> usize {
        self.max_buckets
    }

    /// Number of values counted.
    pub fn count(&self) -> u64 {
        self.zero
            .saturating_add(self.positive.total)
            .saturating_add(self.negative.total)
    }

    /// True when nothing has been counted.
    pub fn is_empty(&self) -> bool {
        self.count() == 0
    }

    /// Exact minimum (NaN when empty).
    pub fn min(&self) -> f64 {
        if self.is_empty() {
            f64::NAN
        } else {
            self.min
        }
    }

    /// Exact maximum (NaN when empty).
    pub fn max(&self) -> f64 {
        if self.is_empty() {
            f64::NAN
        } else {
            self.max
        }
    }

    /// Count one value; NaN and ±∞ are ignored.
    pub fn push(&mut self, x: f64) {
        if !x.is_finite() {
            return;
        }
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        if x > 0.0 {
            let k = self.key(x);
            self.positive.add(k, 1);
        } else if x < 0.0 {
            let k = self.key(-x);
            self.negative.add(k, 1);
        } else {
            self.zero = self.zero.saturating_add(1);
        }
    }

    /// Estimated lower `q`-quantile with the guarantee stated on [`QuantileSketch`]. NaN when
    /// the sketch is empty or `q` is not in [0, 1].
    pub fn quantile(&self, q: f64) -> f64 {
        let n = self.count();
        if n == 0 || !(0.0..=1.0).contains(&q) {
            return f64::NAN;
        }
        // Rank ⌊q(n − 1)⌋, clamped against rounding of q·(n − 1) for huge n.
        let rank = ((q * (n - 1) as f64).floor() as u64).min(n - 1);
        let mut seen: u64 = 0;
        // Most negative first: highest |x| keys of the negative store.
        if let Some(k) = self.negative.find_descending(rank, &mut seen) {
            return self.clamp(-self.value(k));
        }
        seen = seen.saturating_add(self.zero);
        if seen > rank {
            return self.clamp(0.0);
        }
        if let Some(k) = self.positive.find_ascending(rank, &mut seen) {
            return self.clamp(self.value(k));
        }
        // Only reachable if counts saturated; the maximum is the honest answer.
        self.max
    }

    /// Add `other`'s counts to this sketch, as if its values had been pushed here.
    ///
    /// # Errors
    /// [`SpcError::InvalidParameter`] when the two sketches have different α: their buckets do
    /// not line up, so the guarantee could not hold. (Different bucket bounds are fine; this
    /// sketch's bound applies.)
    pub fn merge(&mut self, other: &QuantileSketch) -> Result<(), SpcError> {
        if self.alpha != other.alpha {
            return Err(crate::error::invalid(
                "alpha",
                format!(
                    "cannot merge a sketch with relative accuracy {} into one with {}",
                    other.alpha, self.alpha
                ),
            ));
        }
        self.merge_unchecked(other);
        Ok(())
    }

    fn merge_unchecked(&mut self, other: &QuantileSketch) {
        if other.is_empty() {
            return;
        }
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.zero = self.zero.saturating_add(other.zero);
        self.positive.merge(&other.positive);
        self.negative.merge(&other.negative);
    }

    /// Bucket key of a positive finite magnitude.
    fn key(&self, magnitude: f64) -> i64 {
        // |ln x| <= 745 and ln γ >= 2e-6, so |key| < 4e8: exact in both f64 and i64.
        (magnitude.ln() / self.ln_gamma).ceil() as i64
    }

    /// The value a bucket reports, 2γ^k/(γ + 1).
    fn value(&self, key: i64) -> f64 {
        (key as f64 * self.ln_gamma + self.ln_value_factor).exp()
    }

    fn clamp(&self, v: f64) -> f64 {
        v.max(self.min).min(self.max)
    }
}

/// Dense bucket counts for one sign: `counts[i]` counts key `offset + i`.
#[derive(Debug, Clone)]
struct Store {
    counts: Vec<u64>,
    offset: i64,
    total: u64,
    /// Occupied key range; meaningful only when `total > 0`.
    min_key: i64,
    max_key: i64,
    max_buckets: usize,
    /// Which end to merge away when the key span exceeds `max_buckets`.
    collapse_highest: bool,
}

impl Store {
    fn new(max_buckets: usize, collapse_highest: bool) -> Self {
        Store {
            counts: Vec::new(),
            offset: 0,
            total: 0,
            min_key: 0,
            max_key: 0,
            max_buckets,
            collapse_highest,
        }
    }

    fn add(&mut self, key: i64, count: u64) {
        if count == 0 {
            return;
        }
        let k = self.make_room(key);
        // `make_room` guarantees offset <= k < offset + len.
        if let Some(c) = usize::try_from(k - self.offset)
            .ok()
            .and_then(|i| self.counts.get_mut(i))
        {
            *c = c.saturating_add(count);
        }
        if self.total == 0 {
            self.min_key = k;
            self.max_key = k;
        } else {
            self.min_key = self.min_key.min(k);
            self.max_key = self.max_key.max(k);
        }
        self.total = self.total.saturating_add(count);
    }

    /// Make `key` (or, at capacity, the edge bucket it collapses into) addressable; return the
    /// key to count it under.
    fn make_room(&mut self, key: i64) -> i64 {
        let len = self.counts.len() as i64;
        if len > 0 && key >= self.offset && key < self.offset + len {
            return key;
        }
        let (lo, hi) = if self.total == 0 {
            (key, key)
        } else {
            (self.min_key.min(key), self.max_key.max(key))
        };
        let cap = self.max_buckets as i64;
        let (new_lo, new_hi) = if hi - lo < cap {
            (lo, hi)
        } else if self.collapse_highest {
            (lo, lo + cap - 1)
        } else {
            (hi - cap + 1, hi)
        };
        // Already at capacity on exactly this window: the new key just collapses into the edge.
        if len == cap && self.offset == new_lo {
            return key.clamp(new_lo, new_hi);
        }
        // Rebuild with slack on the side that is growing, doubling the span so that rebuilds
        // are rare (amortized O(1) per push), never beyond `max_buckets`.
        let span = new_hi - new_lo + 1;
        let slack = span.max(8).min(cap - span);
        let (alloc_lo, alloc_hi) = if self.total == 0 {
            (new_lo - slack / 2, new_hi + (slack - slack / 2))
        } else if key < self.offset {
            (new_lo - slack, new_hi)
        } else {
            (new_lo, new_hi + slack)
        };
        let mut counts = vec![0u64; (alloc_hi - alloc_lo + 1) as usize];
        for (i, &c) in self.counts.iter().enumerate() {
            if c > 0 {
                let k = (self.offset + i as i64).clamp(new_lo, new_hi);
                let slot = &mut counts[(k - alloc_lo) as usize];
                *slot = slot.saturating_add(c);
            }
        }
        self.counts = counts;
        self.offset = alloc_lo;
        if self.total > 0 {
            self.min_key = self.min_key.clamp(new_lo, new_hi);
            self.max_key = self.max_key.clamp(new_lo, new_hi);
        }
        key.clamp(new_lo, new_hi)
    }

    fn merge(&mut self, other: &Store) {
        if other.total == 0 {
            return;
        }
        for (i, &c) in other.counts.iter().enumerate() {
            if c > 0 {
                self.add(other.offset + i as i64, c);
            }
        }
    }

    /// Walk keys upwards adding counts to `seen`; return the key at which `seen` passes `rank`.
    fn find_ascending(&self, rank: u64, seen: &mut u64) -> Option<i64> {
        for (i, &c) in self.counts.iter().enumerate() {
            *seen = seen.saturating_add(c);
            if c > 0 && *seen > rank {
                return Some(self.offset + i as i64);
            }
        }
        None
    }

    /// The same, walking keys downwards.
    fn find_descending(&self, rank: u64, seen: &mut u64) -> Option<i64> {
        for (i, &c) in self.counts.iter().enumerate().rev() {
            *seen = seen.saturating_add(c);
            if c > 0 && *seen > rank {
                return Some(self.offset + i as i64);
            }
        }
        None
    }

    #[cfg(test)]
    fn buckets(&self) -> usize {
        self.counts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::rng::Rng;

    /// The documented rank: element ⌊q(n − 1)⌋ of the sorted data.
    fn exact_lower_quantile(sorted: &[f64], q: f64) -> f64 {
        sorted[(q * (sorted.len() - 1) as f64).floor() as usize]
    }

    fn qs() -> Vec<f64> {
        let mut v: Vec<f64> = (0..=200).map(|i| i as f64 / 200.0).collect();
        v.extend([0.001, 0.999, 0.9999, 0.95, 0.99, 0.5]);
        v
    }

    fn check_bound(data: &[f64], sketch: &QuantileSketch) {
        let mut sorted = data.to_vec();
        sorted.sort_by(f64::total_cmp);
        let a = sketch.alpha();
        for q in qs() {
            let exact = exact_lower_quantile(&sorted, q);
            let v = sketch.quantile(q);
            assert!(
                (v - exact).abs() <= a * exact.abs() * (1.0 + 1e-9),
                "q={q}: sketch {v} vs exact {exact} (n={})",
                data.len()
            );
        }
    }

    fn sketch_of(data: &[f64]) -> QuantileSketch {
        let mut s = QuantileSketch::default();
        for &x in data {
            s.push(x);
        }
        s
    }

    #[test]
    fn uniform() {
        let mut rng = Rng::new(1);
        let data: Vec<f64> = (0..50_000).map(|_| 1000.0 * rng.uniform()).collect();
        check_bound(&data, &sketch_of(&data));
    }

    #[test]
    fn log_normal_latency() {
        let mut rng = Rng::new(2);
        let data: Vec<f64> = (0..50_000)
            .map(|_| (6.0 + 1.2 * rng.normal()).exp())
            .collect();
        check_bound(&data, &sketch_of(&data));
    }

    #[test]
    fn with_negatives_and_zeros() {
        let mut rng = Rng::new(3);
        let mut data: Vec<f64> = (0..20_000).map(|_| 50.0 * rng.normal()).collect();
        data.extend(std::iter::repeat_n(0.0, 500));
        data.extend([-0.0, 1e-3, -1e-3, 1e4, -1e4]);
        check_bound(&data, &sketch_of(&data));
        let alpha = QuantileSketch::new(0.02).unwrap();
        let mut s = alpha;
        for &x in &data {
            s.push(x);
        }
        check_bound(&data, &s);
    }

    #[test]
    fn constant_and_single_value() {
        let data = vec![123.456; 1000];
        let s = sketch_of(&data);
        check_bound(&data, &s);
        // Clamping to the exact min/max makes constant data exact.
        assert_eq!(s.quantile(0.5), 123.456);
        let one = sketch_of(&[-7.5]);
        assert_eq!(one.count(), 1);
        for q in qs() {
            assert_eq!(one.quantile(q), -7.5);
        }
        let zeros = sketch_of(&[0.0, 0.0]);
        assert_eq!(zeros.quantile(0.7), 0.0);
    }

    #[test]
    fn extremes_of_the_f64_range() {
        let data = [
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            -f64::MAX,
            1.0,
            f64::MAX / 3.0,
        ];
        let s = sketch_of(&data);
        for q in qs() {
            assert!(s.quantile(q).is_finite());
        }
        // Top and bottom buckets report within α of ±f64::MAX, never infinity.
        assert!((s.quantile(1.0) - f64::MAX).abs() <= 0.005 * f64::MAX);
        assert!((s.quantile(0.0) + f64::MAX).abs() <= 0.005 * f64::MAX);
        // Through the builder, q = 0 and q = 1 are the exact extremes.
        let mut b = SummaryBuilder::new();
        data.iter().for_each(|&x| b.push(x));
        assert_eq!((b.quantile(0.0), b.quantile(1.0)), (-f64::MAX, f64::MAX));
    }

    #[test]
    fn empty_and_bad_q() {
        let s = QuantileSketch::default();
        assert!(s.quantile(0.5).is_nan());
        assert!(s.min().is_nan() && s.max().is_nan());
        let s = sketch_of(&[1.0, 2.0]);
        assert!(s.quantile(f64::NAN).is_nan());
        assert!(s.quantile(-0.1).is_nan());
        assert!(s.quantile(1.1).is_nan());
        let mut t = QuantileSketch::default();
        t.push(f64::NAN);
        t.push(f64::INFINITY);
        assert!(t.is_empty());
        assert!(QuantileSketch::new(0.0).is_err());
        assert!(QuantileSketch::new(1.0).is_err());
        assert!(QuantileSketch::new(f64::NAN).is_err());
        assert!(QuantileSketch::with_max_buckets(0.01, 0).is_err());
    }

    #[test]
    fn merge_equals_pushing_all() {
        let mut rng = Rng::new(4);
        let a: Vec<f64> = (0..10_000).map(|_| (3.0 + rng.normal()).exp()).collect();
        let b: Vec<f64> = (0..7_000)
            .map(|_| -(5.0 + 2.0 * rng.normal()).exp())
            .collect();
        let c: Vec<f64> = (0..3_000).map(|_| 1e4 * rng.uniform()).collect();
        let mut all = a.clone();
        all.extend(&b);
        all.extend(&c);
        all.push(0.0);
        let mut merged = sketch_of(&a);
        merged.merge(&sketch_of(&b)).unwrap();
        let mut sc = sketch_of(&c);
        sc.push(0.0);
        merged.merge(&sc).unwrap();
        merged.merge(&QuantileSketch::default()).unwrap();
        let direct = sketch_of(&all);
        assert_eq!(merged.count(), direct.count());
        for q in qs() {
            assert_eq!(merged.quantile(q), direct.quantile(q), "q={q}");
        }
        check_bound(&all, &merged);
        let mut other_alpha = QuantileSketch::new(0.01).unwrap();
        other_alpha.push(1.0);
        assert!(merged.merge(&other_alpha).is_err());
    }

    #[test]
    fn collapse_keeps_the_upper_tail() {
        // 64 buckets at α = 0.01 span a factor γ^64 ≈ 3.6; the data span 1e-3..1e3.
        let mut s = QuantileSketch::with_max_buckets(0.01, 64).unwrap();
        let mut rng = Rng::new(5);
        let data: Vec<f64> = (0..20_000)
            .map(|_| 10f64.powf(-3.0 + 6.0 * rng.uniform()))
            .collect();
        for &x in &data {
            s.push(x);
        }
        assert!(s.positive.buckets() <= 64);
        let mut sorted = data.clone();
        sorted.sort_by(f64::total_cmp);
        // The kept range is the top factor of ~3.6, i.e. above ~280: quantiles above ~0.91.
        let gamma = 1.01f64 / 0.99;
        let kept_from = data.iter().fold(0.0f64, |m, &x| m.max(x)) / gamma.powi(63);
        for q in qs() {
            let exact = exact_lower_quantile(&sorted, q);
            let v = s.quantile(q);
            assert!(v.is_finite());
            if exact > kept_from * gamma {
                assert!(
                    (v - exact).abs() <= 0.01 * exact * (1.0 + 1e-9),
                    "q={q} {v} {exact}"
                );
            } else {
                assert!(
                    v >= exact * (1.0 - 0.01 * (1.0 + 1e-9)),
                    "collapsed values overestimate"
                );
            }
        }
        // Negative store collapses the most negative values, keeping those nearest zero.
        let mut n = QuantileSketch::with_max_buckets(0.01, 64).unwrap();
        let neg: Vec<f64> = data.iter().map(|x| -x).collect();
        for &x in &neg {
            n.push(x);
        }
        assert!(n.negative.buckets() <= 64);
        let mut sorted = neg.clone();
        sorted.sort_by(f64::total_cmp);
        let exact = exact_lower_quantile(&sorted, 0.999);
        assert!((n.quantile(0.999) - exact).abs() <= 0.01 * exact.abs() * (1.0 + 1e-9));
    }

    #[test]
    fn one_wild_value_collapses_the_rest() {
        // The documented cost of the bucket bound: one value 1e300 forces the positive store's
        // window up to [1e300/γ^2047, 1e300], so everything below is reported at ~1e291.
        let mut s = sketch_of(&[1.0, 2.0, 3.0, 4.0]);
        s.push(1e300);
        assert!(s.quantile(0.5) > 1e290);
        assert!((s.quantile(1.0) - 1e300).abs() <= 0.005 * 1e300);
    }

    #[test]
    fn memory_stays_bounded_on_adversarial_order() {
        let mut s = QuantileSketch::default();
        // Strictly decreasing then increasing magnitudes over the whole f64 range.
        let mut x = f64::MAX;
        while x > 1e-300 {
            s.push(x);
            s.push(-x);
            x /= 1.3;
        }
        while x < 1e300 {
            s.push(x);
            x *= 1.7;
        }
        assert!(s.positive.buckets() <= DEFAULT_MAX_BUCKETS);
        assert!(s.negative.buckets() <= DEFAULT_MAX_BUCKETS);
        assert!(s.quantile(0.99).is_finite());
    }

    #[test]
    fn summary_matches_two_pass() {
        let mut rng = Rng::new(6);
        let data: Vec<f64> = (0..10_001)
            .map(|_| 1e6 + (4.0 + 0.8 * rng.normal()).exp())
            .collect();
        let s = summarize(&data);
        let n = data.len() as f64;
        let mean = data.iter().sum::<f64>() / n;
        let sd = (data.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0)).sqrt();
        assert_eq!(s.n, data.len() as u64);
        assert!((s.mean - mean).abs() < 1e-9 * mean);
        assert!((s.sd - sd).abs() < 1e-8 * sd);
        let mut sorted = data.clone();
        sorted.sort_by(f64::total_cmp);
        assert_eq!(s.min, sorted[0]);
        assert_eq!(s.max, sorted[sorted.len() - 1]);
        for (q, v) in [(0.5, s.p50), (0.9, s.p90), (0.95, s.p95), (0.99, s.p99)] {
            assert_eq!(v, exact_lower_quantile(&sorted, q), "summarize is exact");
        }
    }

    #[test]
    fn summary_edge_cases() {
        let e = summarize(&[]);
        assert_eq!(e.n, 0);
        for v in [e.mean, e.sd, e.min, e.max, e.p50, e.p90, e.p95, e.p99] {
            assert!(v.is_nan());
        }
        let one = summarize(&[4.0]);
        assert_eq!(
            (one.n, one.mean, one.min, one.max, one.p99),
            (1, 4.0, 4.0, 4.0, 4.0)
        );
        assert!(one.sd.is_nan());
        let mut b = SummaryBuilder::new();
        for x in [1.0, f64::NAN, 3.0, f64::NEG_INFINITY] {
            b.push(x);
        }
        assert_eq!(b.skipped(), 2);
        assert_eq!(b.count(), 2);
        let s = b.summary();
        assert_eq!(s.mean, 2.0);
        assert!((s.sd - 2f64.sqrt()).abs() < 1e-15);
        assert_eq!(b.quantile(0.0), 1.0);
        assert_eq!(b.quantile(1.0), 3.0);
        assert!(b.quantile(2.0).is_nan());
    }

    #[test]
    fn builder_is_exact_while_warming_up_then_relative_to_the_spread() {
        let mut rng = Rng::new(7);
        // A barrel temperature: mean 74, sd 0.01. Relative to 74, 0.5% would be useless (0.37).
        let data: Vec<f64> = (0..20_000).map(|_| 74.0 + 0.01 * rng.normal()).collect();
        let mut b = SummaryBuilder::new();
        for (i, &x) in data.iter().enumerate() {
            b.push(x);
            if i + 1 == WARMUP - 1 {
                let mut first = data[..WARMUP - 1].to_vec();
                first.sort_by(f64::total_cmp);
                assert_eq!(
                    b.quantile(0.5),
                    exact_lower_quantile(&first, 0.5),
                    "exact while warming up"
                );
            }
        }
        let reference = b.reference;
        let mut sorted = data.clone();
        sorted.sort_by(f64::total_cmp);
        for q in qs() {
            let exact = exact_lower_quantile(&sorted, q);
            let bound = DEFAULT_ALPHA * (exact - reference).abs() * (1.0 + 1e-9) + 1e-12;
            assert!(
                (b.quantile(q) - exact).abs() <= bound,
                "q {q}: {} vs {exact}",
                b.quantile(q)
            );
        }
        assert!((b.summary().p50 - 74.0).abs() < 0.002);
    }
}
