//! Similar past episodes: MASS, Mueen's Algorithm for Similarity Search (A. Mueen, Y. Zhu et
//! al., "The Fastest Similarity Search Algorithm for Time Series Subsequences under Euclidean
//! Distance", 2017). The z-normalized Euclidean distance of a query q (length m) to every
//! subsequence t_i of a series is
//!
//! d_i = √(2m (1 − (QT_i − m μ_q μ_i) / (m σ_q σ_i)))
//!
//! with QT the sliding dot products (one FFT, [`super::fft`]) and μ_i, σ_i the subsequences'
//! means and population standard deviations. Z-normalizing compares shapes, not levels: a step
//! of 2 °C at 60 °C matches one at 80 °C.
//!
//! A flat subsequence has no shape: two flat ones are at distance 0, a flat one and any other
//! at √m (the convention of the matrix-profile literature, e.g. STUMPY).

use super::fft::sliding_dot;

/// One match.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Match {
    /// 0-based index of the match's first point.
    pub first: usize,
    /// Its last point.
    pub last: usize,
    /// z-normalized Euclidean distance to the query: 0 is the same shape, √(4m) the opposite.
    pub distance: f64,
}

/// Spread below this fraction of the level counts as flat (rounding in the running sums).
const FLAT: f64 = 1e-8;

/// The distance profile of `query` against `series`: one distance per start
/// 0..=series.len() − query.len(); empty when the query is empty or longer than the series.
pub fn distance_profile(query: &[f64], series: &[f64]) -> Vec<f64> {
    let m = query.len();
    if m == 0 || m > series.len() {
        return Vec::new();
    }
    // Distances do not change when both are shifted by one constant; centring on the series'
    // mean keeps the dot products at the scale of the variation, not of the level.
    let level = series.iter().sum::<f64>() / series.len() as f64;
    // The series is centred as it is read, not copied (a million points are 8 MB to fault in).
    let query: Vec<f64> = query.iter().map(|v| v - level).collect();
    let mut profile = sliding_dot(&query, series, level);
    let (mu_q, sd_q) = mean_sd(&query);
    let q_flat = sd_q <= FLAT * (1.0 + mu_q.abs()) || query.windows(2).all(|w| w[0] == w[1]);
    let mf = m as f64;
    // Each dot product becomes its distance in place: no second array of a series' length
    // (at a million points, allocating and faulting in those pages cost more than the FFT).
    sliding_moments(series, level, m, |i, mu, sd, held| {
        let flat = held || sd <= FLAT * (1.0 + mu.abs());
        profile[i] = match (q_flat, flat) {
            (true, true) => 0.0,
            (true, false) | (false, true) => mf.sqrt(),
            (false, false) => {
                let corr = ((profile[i] - mf * mu_q * mu) / (mf * sd_q * sd)).clamp(-1.0, 1.0);
                (2.0 * mf * (1.0 - corr)).sqrt()
            }
        };
    });
    profile
}

/// The `k` closest matches of `query` in `series` that end before `before`, none overlapping
/// another by more than half the query's length (the trivial-match exclusion zone).
pub fn similar(query: &[f64], series: &[f64], before: usize, k: usize) -> Vec<Match> {
    let m = query.len();
    // Only windows that end before `before`: the profile of the series cut there.
    let mut profile = distance_profile(query, &series[..before.min(series.len())]);
    let zone = m.div_ceil(2);
    let mut out: Vec<Match> = Vec::with_capacity(k);
    // k passes for the nearest start, each blanking its exclusion zone: O(k·n), no sort.
    while out.len() < k {
        let Some((i, distance)) = nearest(&profile) else {
            break;
        };
        out.push(Match {
            first: i,
            last: i + m - 1,
            distance,
        });
        let lo = i.saturating_sub(zone - 1);
        let hi = (i + zone).min(profile.len());
        profile[lo..hi].fill(f64::INFINITY);
    }
    out
}

/// The first smallest finite distance and its place, in `total_cmp`'s order (−0 before +0), by
/// one loop of comparisons (an iterator with `total_cmp` was a tenth of the context's time in
/// wasm).
fn nearest(profile: &[f64]) -> Option<(usize, f64)> {
    let (mut best, mut at) = (f64::INFINITY, None);
    for (i, &d) in profile.iter().enumerate() {
        // NaN never passes, nor ±∞; an equal distance only as −0 against +0.
        if (d < best || (d == best && d.to_bits() > best.to_bits())) && d.is_finite() {
            (best, at) = (d, Some(i));
        }
    }
    at.map(|i| (i, best))
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// Mean and population sd of every window of length m of `series` − `level`, from running sums
/// of those values shifted by the first one (which keeps the sums' rounding at the scale of the variation), and
/// whether the window holds one value. That is counted exactly (the changes between
/// neighbours inside it): after a few hundred points the running sums' rounding gives a held
/// run an sd of 1e-6, far above [`FLAT`]. Handed to `each` with the window's start, in order.
fn sliding_moments(
    series: &[f64],
    level: f64,
    m: usize,
    mut each: impl FnMut(usize, f64, f64, bool),
) {
    let at = |i: usize| series[i] - level;
    let shift = at(0);
    let (mut s, mut ss) = (0.0f64, 0.0f64);
    let changed = |i: usize| usize::from(i > 0 && at(i) != at(i - 1));
    let mut changes = 0usize;
    for i in 0..series.len() {
        let x = at(i) - shift;
        s += x;
        ss += x * x;
        changes += changed(i);
        if i >= m {
            let old = at(i - m) - shift;
            s -= old;
            ss -= old * old;
            // The change into the window's new first point leaves it.
            changes -= changed(i + 1 - m);
        }
        if i + 1 >= m {
            let mean = s / m as f64;
            // A comparison, not `f64::max`: wasm has no instruction with its NaN rule and
            // calls `fmax` (a tie at zero is flat either way).
            let var = ss / m as f64 - mean * mean;
            let var = if var > 0.0 { var } else { 0.0 };
            each(i + 1 - m, mean + shift, var.sqrt(), changes == 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn znorm_distance(a: &[f64], b: &[f64]) -> f64 {
        let (ma, sa) = mean_sd(a);
        let (mb, sb) = mean_sd(b);
        a.iter()
            .zip(b)
            .map(|(x, y)| ((x - ma) / sa - (y - mb) / sb).powi(2))
            .sum::<f64>()
            .sqrt()
    }

    #[test]
    fn profile_is_the_z_normalized_euclidean_distance() {
        let series: Vec<f64> = (0..500)
            .map(|i| 100.0 + (i as f64 * 0.3).sin() * 3.0 + ((i * 7919) % 13) as f64 * 0.1)
            .collect();
        let query = &series[200..240].to_vec();
        let profile = distance_profile(query, &series);
        assert_eq!(profile.len(), 461);
        for (i, d) in profile.iter().enumerate() {
            let want = znorm_distance(query, &series[i..i + 40]);
            assert!((d - want).abs() < 1e-6, "start {i}: {d} vs {want}");
        }
        assert!(profile[200] < 1e-6);
    }

    #[test]
    fn a_recurring_motif_is_found_at_its_earlier_occurrence() {
        let mut series: Vec<f64> = (0..3000)
            .map(|i| 50.0 + ((i * 7919) % 31) as f64 / 31.0)
            .collect();
        let motif: Vec<f64> = (0..60)
            .map(|i| (i as f64 / 6.0).sin() * 4.0 + i as f64 * 0.05)
            .collect();
        for at in [700, 2500] {
            for (k, v) in motif.iter().enumerate() {
                series[at + k] += v;
            }
        }
        let query = series[2500..2560].to_vec();
        let found = similar(&query, &series, 2500, 3);
        assert_eq!(found[0].first, 700, "{found:?}");
        assert!(found.iter().all(|m| m.last < 2500));
        assert!(found.windows(2).all(|w| w[0].distance <= w[1].distance));
    }

    /// The loop finds what `min_by(total_cmp)` over the finite distances does: the first of
    /// equal ones, −0 before +0, never ∞ or NaN.
    #[test]
    fn the_nearest_is_the_first_smallest_finite_distance() {
        let cases: [&[f64]; 6] = [
            &[3.0, 1.0, 2.0, 1.0],
            &[f64::INFINITY, f64::NAN, 5.0],
            &[0.0, -0.0, 0.0],
            &[f64::NAN, f64::INFINITY],
            &[],
            &[2.0, f64::NAN, 2.0, -1.0, f64::NEG_INFINITY],
        ];
        for profile in cases {
            let want = profile
                .iter()
                .enumerate()
                .filter(|(_, d)| d.is_finite())
                .min_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, &d)| (i, d.to_bits()));
            let got = nearest(profile).map(|(i, d)| (i, d.to_bits()));
            assert_eq!(got, want, "{profile:?}");
        }
    }

    /// A held run far into a noisy series: the running sums leave it an sd of about 1e-6, but
    /// it is still flat.
    #[test]
    fn a_held_run_late_in_a_series_is_flat() {
        let mut series: Vec<f64> = (0..3000)
            .map(|i| 50.0 + ((i * 7919) % 97) as f64 * 0.37)
            .collect();
        series[2500..2540].fill(61.3);
        let profile = distance_profile(&[61.3; 16], &series);
        assert_eq!(profile[2500], 0.0);
        assert_eq!(profile[2524], 0.0);
        assert!((profile[2525] - 4.0).abs() < 1e-12, "{}", profile[2525]);
        assert!(profile[..2500].iter().all(|d| (d - 4.0).abs() < 1e-12));
    }

    #[test]
    fn flat_windows_are_zero_to_each_other_and_root_m_to_the_rest() {
        let mut series = vec![5.0; 100];
        series[50..60].copy_from_slice(&[1.0, 2.0, 3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0, 2.0]);
        let profile = distance_profile(&[7.0; 10], &series);
        assert_eq!(profile[0], 0.0);
        assert!((profile[50] - 10f64.sqrt()).abs() < 1e-12);
    }
}
