//! "What else changed at the same time": every other stream ranked by how much it changed
//! between the episode's window and a baseline window four times as long just before it.
//!
//! The statistic is the two-sample Kolmogorov–Smirnov D ([`super::ks`]): distribution-free and
//! on one scale (0 to 1) for every stream, whatever its unit, so streams can be ranked against
//! each other (Netdata's metric correlations use it the same way). D on the values is weak
//! for a change of spread alone (a variance increase of 3 moves D by about 0.2), so D is also
//! taken on the absolute deviations from the baseline's median, the quantity Brown & Forsythe
//! (1974, "Robust tests for the equality of variances", JASA 69, 364–367) compare for spread;
//! the larger of the two ranks the stream. The standardized mean shift,
//! (mean of the window − mean of the baseline) / sd of the baseline (Cohen's d with the
//! baseline's sd, Glass's Δ; Glass 1976), says which way and how far, and breaks ties in D.

use super::bound::{Binner, Bounds, Coded};
#[cfg(test)]
use super::ks::statistic_sorted;
use super::ks::{from_order_key, ks_test, order_key, KsTest};

/// How many times the episode's length the baseline window is.
pub const BASELINE_FACTOR: usize = 4;

/// One stream's change over an episode.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CoMoving {
    /// The stream's name.
    pub stream: String,
    /// Kolmogorov–Smirnov D between the window and the baseline: of the values, or of their
    /// absolute deviations from the baseline's median when that is larger (a change of spread).
    pub statistic: f64,
    /// That test's two-sided p-value, doubled for taking the larger of two (Bonferroni; not
    /// corrected for the number of streams ranked).
    pub p_value: f64,
    /// (window mean − baseline mean) / baseline sd; `None` when the baseline has no spread.
    pub shift: Option<f64>,
}

/// The window `[first, last]` (0-based, inclusive) and the baseline just before it, of
/// [`BASELINE_FACTOR`] times its length (shorter at the series' start), of one series. `None`
/// when the window is not inside the series or the baseline has fewer than 2 points.
pub fn windows(values: &[f64], first: usize, last: usize) -> Option<(&[f64], &[f64])> {
    if first > last || last >= values.len() {
        return None;
    }
    let len = last - first + 1;
    let start = first.saturating_sub(BASELINE_FACTOR * len);
    let baseline = &values[start..first];
    (baseline.len() >= 2).then_some((&values[first..=last], baseline))
}

/// How much one stream changed over the episode `[first, last]`; `None` when it has too few
/// points there or holds a non-finite value.
pub fn change(name: &str, values: &[f64], first: usize, last: usize) -> Option<CoMoving> {
    let (window, baseline) = windows(values, first, last)?;
    let level = ks_test(window, baseline)?;
    let (w, b) = deviations(window, baseline);
    let test = match ks_test(&w, &b) {
        Some(spread) if spread.statistic > level.statistic => spread,
        _ => level,
    };
    Some(reported(name, test, shift(window, baseline)))
}

/// The window's and the baseline's absolute deviations from the baseline's median.
fn deviations(window: &[f64], baseline: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut sorted = baseline.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let median = median_sorted(&sorted);
    let dev = |v: &[f64]| v.iter().map(|x| (x - median).abs()).collect();
    (dev(window), dev(baseline))
}

fn median_sorted(v: &[f64]) -> f64 {
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The `top` streams that changed most over `[first, last]`, by D then by |shift|. Streams the
/// episode's window does not fit are left out. Only the top ones' p-values are computed.
pub fn rank<'a>(
    streams: impl IntoIterator<Item = (&'a str, &'a [f64])>,
    first: usize,
    last: usize,
    top: usize,
) -> Vec<CoMoving> {
    rank_coded(streams, first, last, top, &mut Codes::default())
}

/// The streams' bins for [`rank_coded`], kept across the episodes of one `explain` call: the
/// same streams, in the same order, each time. Off by default (each episode bins its own
/// windows' floats).
#[derive(Default)]
pub struct Codes {
    on: bool,
    streams: Vec<Coded>,
}

impl Codes {
    /// Episodes of one stream from which the others' bins are kept: binning a stream once
    /// pays when its episodes' windows are many and overlap (one column's 200 episodes: 45 %
    /// fewer instructions for the bounds), not for a stream's one or two (every column of
    /// `explain_speed`: 2 % more).
    pub const FROM: usize = 8;

    /// Bins kept for `episodes` episodes over the same streams, when they are
    /// [`Codes::FROM`] or more.
    pub fn for_episodes(episodes: usize) -> Codes {
        Codes {
            on: episodes >= Codes::FROM,
            streams: Vec::new(),
        }
    }
}

/// [`rank`], with the streams' bins kept in `codes` for the next episode over the same
/// streams (the same ranking; only faster).
pub fn rank_coded<'a>(
    streams: impl IntoIterator<Item = (&'a str, &'a [f64])>,
    first: usize,
    last: usize,
    top: usize,
    codes: &mut Codes,
) -> Vec<CoMoving> {
    if top == 0 {
        return Vec::new();
    }
    let mut scratch = Scratch::default();
    let mut binner = Binner::default();
    // The top-th largest lower bound so far: a stream whose upper bound is below it cannot
    // place. The median, for the deviations' bounds, only when the values' cannot settle it.
    let mut floor = Floor::new(top);
    let mut candidates: Vec<(&str, &[f64], &[f64], Bounds)> = Vec::new();
    for (k, (name, values)) in streams.into_iter().enumerate() {
        let Some((window, baseline)) = windows(values, first, last) else {
            continue;
        };
        let span = (first - baseline.len(), first, last + 1);
        let coded = match codes.on {
            true => {
                if codes.streams.len() <= k {
                    codes.streams.resize_with(k + 1, Coded::default);
                }
                binner.level_coded(&mut codes.streams[k], values, span)
            }
            false => None,
        };
        let Some(level) = coded.or_else(|| binner.level(window, baseline)) else {
            continue;
        };
        let bounds = if level.bounds.upper.max(level.any_centre) < floor.get() {
            Bounds {
                lower: level.bounds.lower,
                upper: level.bounds.upper.max(level.any_centre),
            }
        } else {
            let kept = codes.streams.get(k).and_then(|c| c.kept(span.0, first));
            level.bounds.or(binner.spread_coded(window, baseline, kept))
        };
        floor.push(bounds.lower);
        candidates.push((name, window, baseline, bounds));
    }
    let floor = floor.get();
    let mut all: Vec<Ranked> = candidates
        .into_iter()
        .filter(|c| c.3.upper >= floor)
        .filter_map(|(name, window, baseline, _)| {
            let (d, spread) = scratch.statistic(window, baseline)?;
            Some(Ranked {
                name,
                window,
                baseline,
                d,
                spread,
                shift: None,
            })
        })
        .collect();
    // Only streams whose D reaches the top-th largest can place; their shifts break the ties,
    // and streams tied on both keep their order.
    let threshold = nth_largest(all.iter().map(|r| r.d), top);
    all.retain(|r| r.d >= threshold);
    for r in &mut all {
        r.shift = shift(r.window, r.baseline);
    }
    let size = |s: Option<f64>| s.map_or(0.0, f64::abs);
    // By D, then by the size of the shift: the second key first, as the sort is stable.
    super::sort::sort_by_key(&mut all, |r| super::sort::descending(size(r.shift)));
    super::sort::sort_by_key(&mut all, |r| super::sort::descending(r.d));
    all.truncate(top);
    all.into_iter().filter_map(Ranked::change).collect()
}

/// The `top`-th largest of the values pushed so far, −∞ while there are fewer.
struct Floor {
    largest: Vec<f64>,
    top: usize,
}

impl Floor {
    fn new(top: usize) -> Floor {
        Floor {
            largest: Vec::with_capacity(top + 1),
            top,
        }
    }

    fn push(&mut self, x: f64) {
        if self.largest.len() == self.top && x <= self.get() {
            return;
        }
        let at = self.largest.partition_point(|&v| v >= x);
        self.largest.insert(at, x);
        self.largest.truncate(self.top);
    }

    fn get(&self) -> f64 {
        match self.largest.get(self.top - 1) {
            Some(&x) => x,
            None => f64::NEG_INFINITY,
        }
    }
}

/// The `top`-th largest of `values` (`top` ≥ 1), or −∞ when there are fewer.
fn nth_largest(values: impl Iterator<Item = f64>, top: usize) -> f64 {
    let mut v: Vec<f64> = values.collect();
    if v.len() < top {
        return f64::NEG_INFINITY;
    }
    let (_, nth, _) = v.select_nth_unstable_by(top - 1, |a, b| b.total_cmp(a));
    *nth
}

/// One stream's place in a ranking, before its p-value.
struct Ranked<'a> {
    name: &'a str,
    window: &'a [f64],
    baseline: &'a [f64],
    d: f64,
    /// Whether D is the deviations'.
    spread: bool,
    /// Computed only for the streams that can place.
    shift: Option<f64>,
}

impl Ranked<'_> {
    /// [`change`], testing only the sample D was the larger on.
    fn change(self) -> Option<CoMoving> {
        let test = if self.spread {
            let (w, b) = deviations(self.window, self.baseline);
            ks_test(&w, &b)?
        } else {
            ks_test(self.window, self.baseline)?
        };
        Some(reported(self.name, test, self.shift))
    }
}

/// The stream's change as reported: the p-value doubled for taking the larger of two tests.
fn reported(name: &str, test: KsTest, shift: Option<f64>) -> CoMoving {
    CoMoving {
        stream: name.to_string(),
        statistic: test.statistic,
        p_value: (2.0 * test.p_value).min(1.0),
        shift,
    }
}

/// The ranking statistic of `window` against `baseline` (the larger D), as [`rank`] computes
/// it; `None` for a non-finite value.
#[cfg(test)]
pub(super) fn ranking_statistic(window: &[f64], baseline: &[f64]) -> Option<f64> {
    Scratch::default()
        .statistic(window, baseline)
        .map(|(d, _)| d)
}

/// Buffers reused across the streams of one ranking.
#[derive(Default)]
struct Scratch {
    /// The window's sorted [`order_key`]s, and its values in that order.
    window: Vec<u64>,
    window_values: Vec<f64>,
    /// The window's deviations from the baseline's median, sorted (non-negative floats, whose
    /// bits order as they do).
    window_dev: Vec<u64>,
    /// The baseline's keys, for its median.
    baseline: Vec<u64>,
    /// Counts per place in the window (see [`statistic_against`]).
    below: Vec<usize>,
    at_or_below: Vec<usize>,
}

impl Scratch {
    /// The larger of D on the values and D on the deviations from the baseline's median (as
    /// [`change`]'s), and whether it is the latter. Only the window (the shorter sample) is
    /// sorted; the baseline's points are placed in it by binary search
    /// ([`statistic_against`]), and its median selected, not sorted. `None` for a non-finite
    /// value.
    fn statistic(&mut self, window: &[f64], baseline: &[f64]) -> Option<(f64, bool)> {
        if window.iter().chain(baseline).any(|v| !v.is_finite()) {
            return None;
        }
        self.window.clear();
        self.window.extend(window.iter().map(|&x| order_key(x)));
        self.window.sort_unstable();
        let keys = baseline.iter().map(|&x| order_key(x));
        let level = self.against(keys, baseline.len(), false);
        let median = median_of(&mut self.baseline, baseline);
        self.window_values.clear();
        self.window_values
            .extend(self.window.iter().map(|&k| from_order_key(k)));
        sorted_deviations(&self.window_values, median, &mut self.window_dev);
        let deviations = baseline.iter().map(|x| (x - median).abs().to_bits());
        let spread = self.against(deviations, baseline.len(), true);
        Some((level.max(spread), spread > level))
    }

    fn against(&mut self, other: impl Iterator<Item = u64>, n: usize, spread: bool) -> f64 {
        let sorted = if spread {
            &self.window_dev
        } else {
            &self.window
        };
        statistic_against(sorted, other, n, &mut self.below, &mut self.at_or_below)
    }
}

/// Two-sample D of the sorted `sorted` (m items) and the `n` items of `other` in any order
/// (items that order and tie as the values do), without sorting `other`: each of its items b
/// is placed in `sorted` by binary search, r(b) = #sorted < b and s(b) = #sorted ≤ b, and
/// counted. Between two neighbouring distinct values of `sorted` its ECDF is flat while the
/// other's rises, so |F − G| is largest at one end: just after the lower value v (G counts
/// b ≤ v, which is r(b) ≤ r(v)) or just before the next one v′ (G counts b < v′, which is
/// s(b) ≤ r(v′)). D = max |i·n − j·m| / (m·n) over those ends, as [`statistic_sorted`].
fn statistic_against(
    sorted: &[u64],
    other: impl Iterator<Item = u64>,
    n: usize,
    below: &mut Vec<usize>,
    at_or_below: &mut Vec<usize>,
) -> f64 {
    let m = sorted.len();
    for counts in [&mut *below, &mut *at_or_below] {
        counts.clear();
        counts.resize(m + 1, 0);
    }
    for b in other {
        let r = sorted.partition_point(|&w| w < b);
        let s = r + sorted[r..].iter().take_while(|&&w| w == b).count();
        below[r] += 1;
        at_or_below[s] += 1;
    }
    // Cumulative: below[k] = #b ≤ the value at place k, at_or_below[k] = #b before it.
    for counts in [&mut *below, &mut *at_or_below] {
        for k in 1..=m {
            counts[k] += counts[k - 1];
        }
    }
    // In 64 bits: m·n passes 2^32 (wasm's usize) for a 33,000-point window.
    let wide = |k: usize| k as u64;
    let (m64, n64) = (wide(m), wide(n));
    let mut d = wide(at_or_below[0]) * m64;
    let mut lo = 0;
    while lo < m {
        let hi = lo
            + sorted[lo..]
                .iter()
                .take_while(|&&w| w == sorted[lo])
                .count();
        d = d.max((wide(hi) * n64).abs_diff(wide(below[lo]) * m64));
        d = d.max((wide(hi) * n64).abs_diff(wide(at_or_below[hi]) * m64));
        lo = hi;
    }
    d as f64 / (m64 * n64) as f64
}

/// The median of `values` (finite), selected through `keys`, a buffer a caller reuses.
pub(super) fn median_of(keys: &mut Vec<u64>, values: &[f64]) -> f64 {
    keys.clear();
    keys.extend(values.iter().map(|&x| order_key(x)));
    let n = keys.len();
    let (left, &mut upper, _) = keys.select_nth_unstable(n / 2);
    let upper = from_order_key(upper);
    if n % 2 == 1 {
        upper
    } else {
        let lower = left.iter().copied().max().map_or(upper, from_order_key);
        (lower + upper) / 2.0
    }
}

/// The bits of |x − m| for the sorted x, sorted, into `out`: the points below m taken
/// downwards and those at or above it upwards, merged (x − m and m − x round alike, so these
/// are the same numbers as [`deviations`]').
fn sorted_deviations(sorted: &[f64], m: f64, out: &mut Vec<u64>) {
    out.clear();
    let (below, above) = sorted.split_at(sorted.partition_point(|&x| x < m));
    let (mut i, mut j) = (below.len(), 0);
    while i > 0 && j < above.len() {
        let (down, up) = (m - below[i - 1], above[j] - m);
        if down <= up {
            out.push(down.to_bits());
            i -= 1;
        } else {
            out.push(up.to_bits());
            j += 1;
        }
    }
    out.extend(below[..i].iter().rev().map(|x| (m - x).to_bits()));
    out.extend(above[j..].iter().map(|x| (x - m).to_bits()));
}

/// (window mean − baseline mean) / baseline sd; `None` when the baseline is flat.
fn shift(window: &[f64], baseline: &[f64]) -> Option<f64> {
    let (mean_b, sd_b) = mean_sd(baseline);
    let mean_w = window.iter().sum::<f64>() / window.len() as f64;
    (sd_b > 0.0).then(|| (mean_w - mean_b) / sd_b)
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let ss: f64 = v.iter().map(|x| (x - mean).powi(2)).sum();
    (mean, (ss / (n - 1.0)).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rng;

    #[test]
    fn the_stream_that_moved_with_the_episode_ranks_first() {
        let mut rng = Rng::new(7);
        let noise = |rng: &mut Rng, n: usize, shift: f64| -> Vec<f64> {
            (0..n)
                .map(|i| rng.normal() + if i >= 400 { shift } else { 0.0 })
                .collect()
        };
        let quiet: Vec<Vec<f64>> = (0..8).map(|_| noise(&mut rng, 450, 0.0)).collect();
        let coupled = noise(&mut rng, 450, 2.0);
        let small = noise(&mut rng, 450, 0.5);
        let mut streams: Vec<(String, &[f64])> = quiet
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("quiet{i}"), v.as_slice()))
            .collect();
        streams.push(("small".into(), &small));
        streams.push(("coupled".into(), &coupled));
        let ranked = rank(streams.iter().map(|(n, v)| (n.as_str(), *v)), 400, 449, 5);
        assert_eq!(ranked[0].stream, "coupled");
        assert!(ranked[0].p_value < 1e-10 && ranked[0].shift.unwrap() > 1.5);
        assert_eq!(ranked.len(), 5);
    }

    /// A stream whose spread tripled at the same level: D on the values alone (about 0.2 here)
    /// would rank it among the quiet ones; D on the deviations puts it first.
    #[test]
    fn a_change_of_spread_alone_ranks_first() {
        let mut rng = Rng::new(11);
        let mut streams: Vec<(String, Vec<f64>)> = (0..20)
            .map(|i| {
                (
                    format!("quiet{i}"),
                    (0..250).map(|_| rng.normal()).collect(),
                )
            })
            .collect();
        let wider: Vec<f64> = (0..250)
            .map(|i| rng.normal() * if i >= 200 { 3.0 } else { 1.0 })
            .collect();
        let level = ks_test(&wider[200..], &wider[..200]).unwrap().statistic;
        assert!(level < 0.3, "D on the values {level}");
        streams.push(("wider".into(), wider));
        let ranked = rank(
            streams.iter().map(|(n, v)| (n.as_str(), &v[..])),
            200,
            249,
            3,
        );
        assert_eq!(ranked[0].stream, "wider", "{ranked:?}");
        assert!(ranked[0].statistic > 0.5 && ranked[0].p_value < 1e-6);
        assert!(ranked[0].shift.unwrap().abs() < 1.0);
    }

    /// The merge gives the same numbers as sorting the deviations, ties and the median's own
    /// points included; and the ranking statistic is the larger of the two tests' D.
    #[test]
    fn deviations_from_the_sorted_sample_are_the_sorted_deviations() {
        let mut rng = Rng::new(2);
        for n in [1usize, 2, 5, 40, 161] {
            let v: Vec<f64> = (0..n).map(|_| (rng.normal() * 4.0).round() / 2.0).collect();
            let mut sorted = v.clone();
            sorted.sort_by(f64::total_cmp);
            let m = median_sorted(&sorted);
            let mut want: Vec<f64> = v.iter().map(|x| (x - m).abs()).collect();
            want.sort_by(f64::total_cmp);
            let mut got = Vec::new();
            sorted_deviations(&sorted, m, &mut got);
            let got: Vec<f64> = got.into_iter().map(f64::from_bits).collect();
            assert_eq!(got, want, "n = {n}");
        }
        let w: Vec<f64> = (0..40).map(|_| 3.0 * rng.normal()).collect();
        let b: Vec<f64> = (0..160).map(|_| rng.normal()).collect();
        let (wd, bd) = deviations(&w, &b);
        let want = ks_test(&w, &b)
            .unwrap()
            .statistic
            .max(ks_test(&wd, &bd).unwrap().statistic);
        // ks_test sums 1/m and 1/n steps, the merge divides counts: equal to rounding.
        let (got, spread) = Scratch::default().statistic(&w, &b).unwrap();
        assert!(spread, "a wider window changed in spread");
        assert!((got - want).abs() < 1e-12 && want > 0.3, "{got} vs {want}");
    }

    /// Placing one sample in the other, sorted, gives the merge's D, with ties between and
    /// within the samples; and the median selected is the sorted one's.
    #[test]
    fn d_against_a_sorted_sample_is_the_merge_walks() {
        let mut rng = Rng::new(4);
        let (mut below, mut at_or_below, mut keys) = (Vec::new(), Vec::new(), Vec::new());
        for case in 0..300 {
            let (m, n) = (1 + case % 41, 1 + (case * 7) % 163);
            // Few distinct values: ties everywhere.
            let draw = |rng: &mut Rng, k: usize, shift: f64| -> Vec<f64> {
                (0..k)
                    .map(|_| (rng.normal() * 2.0 + shift).round())
                    .collect()
            };
            let (x, y) = (draw(&mut rng, m, 0.0), draw(&mut rng, n, (case % 3) as f64));
            let mut xs: Vec<u64> = x.iter().map(|&v| order_key(v)).collect();
            let mut ys: Vec<u64> = y.iter().map(|&v| order_key(v)).collect();
            xs.sort_unstable();
            ys.sort_unstable();
            let want = statistic_sorted(&xs, &ys);
            let got = statistic_against(
                &xs,
                ys.iter().rev().copied(),
                n,
                &mut below,
                &mut at_or_below,
            );
            assert_eq!(got, want, "{x:?} {y:?}");
            let mut sorted = y.clone();
            sorted.sort_by(f64::total_cmp);
            assert_eq!(median_of(&mut keys, &y), median_sorted(&sorted));
        }
    }

    #[test]
    fn the_baseline_is_four_windows_long_and_clipped_at_the_start() {
        let v: Vec<f64> = (0..100).map(f64::from).collect();
        let (w, b) = windows(&v, 50, 59).unwrap();
        assert_eq!((w.len(), b.len(), b[0]), (10, 40, 10.0));
        let (_, b) = windows(&v, 5, 9).unwrap();
        assert_eq!(b.len(), 5);
        assert_eq!(windows(&v, 1, 3), None, "one baseline point");
        assert_eq!(windows(&v, 90, 100), None, "past the end");
    }
}
