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

use super::ks::{ks_statistic_in, ks_test};

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
    Some(CoMoving {
        stream: name.to_string(),
        statistic: test.statistic,
        p_value: (2.0 * test.p_value).min(1.0),
        shift: shift(window, baseline),
    })
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
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    let mut all: Vec<(&str, &[f64], f64, Option<f64>)> = streams
        .into_iter()
        .filter_map(|(name, values)| {
            let (window, baseline) = windows(values, first, last)?;
            let d = ks_statistic_in(window, baseline, &mut xs, &mut ys)?;
            let (w, b) = deviations(window, baseline);
            let spread = ks_statistic_in(&w, &b, &mut xs, &mut ys)?;
            Some((name, values, d.max(spread), shift(window, baseline)))
        })
        .collect();
    let size = |s: Option<f64>| s.map_or(0.0, f64::abs);
    all.sort_by(|a, b| b.2.total_cmp(&a.2).then(size(b.3).total_cmp(&size(a.3))));
    all.truncate(top);
    all.into_iter()
        .filter_map(|(name, values, _, _)| change(name, values, first, last))
        .collect()
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
