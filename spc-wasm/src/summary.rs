//! Summary statistics of a slice: [`summarize`] gives the count, mean and standard deviation
//! (Welford's update, see [`crate::math::mean_sd`]), the exact minimum and maximum, and exact
//! lower quantiles (each a selection, O(n)).

/// Summary of a sample. Fields that are undefined are NaN: everything but `n` when `n = 0`, and
/// `sd` when `n < 2`. Quantiles are exact lower quantiles: the value at 0-based rank ⌊q(n−1)⌋
/// of the sorted finite values.
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
    /// Median.
    #[cfg_attr(feature = "serde", serde(deserialize_with = "nan_from_null"))]
    pub p50: f64,
    /// 90th percentile.
    #[cfg_attr(feature = "serde", serde(deserialize_with = "nan_from_null"))]
    pub p90: f64,
    /// 95th percentile.
    #[cfg_attr(feature = "serde", serde(deserialize_with = "nan_from_null"))]
    pub p95: f64,
    /// 99th percentile.
    #[cfg_attr(feature = "serde", serde(deserialize_with = "nan_from_null"))]
    pub p99: f64,
}

/// JSON has no NaN: serde_json writes it as `null`, so read `null` (or a number) back.
#[cfg(feature = "serde")]
fn nan_from_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    use serde::Deserialize;
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Summarise a slice, with exact quantiles. NaN and ±∞ are not data: they are skipped, so one
/// bad sample cannot poison the mean. O(n) time: each quantile is a selection, not a sort.
pub fn summarize(xs: &[f64]) -> Summary {
    let mut finite: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    let (mean, sd) = crate::math::mean_sd(&finite);
    let min = finite.iter().copied().reduce(f64::min).unwrap_or(f64::NAN);
    let max = finite.iter().copied().reduce(f64::max).unwrap_or(f64::NAN);
    let n = finite.len() as u64;
    let [p50, p90, p95, p99] = lower_quantiles(&mut finite, [0.50, 0.90, 0.95, 0.99]);
    Summary {
        n,
        mean,
        sd,
        min,
        max,
        p50,
        p90,
        p95,
        p99,
    }
}

/// The values at 0-based ranks ⌊q(n−1)⌋ for ascending `qs` in [0, 1] (reorders `xs`); NaN when
/// `xs` is empty. Each selection leaves the larger values above its rank, so the next one
/// searches only those.
fn lower_quantiles<const N: usize>(xs: &mut [f64], qs: [f64; N]) -> [f64; N] {
    let len = xs.len();
    let mut from = 0;
    qs.map(|q| {
        if len == 0 {
            return f64::NAN;
        }
        let rank = ((q * (len - 1) as f64).floor() as usize).clamp(from, len - 1);
        let value = *xs[from..]
            .select_nth_unstable_by(rank - from, f64::total_cmp)
            .1;
        from = rank;
        value
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::rng::Rng;

    /// The documented rank: element ⌊q(n − 1)⌋ of the sorted data.
    fn exact_lower_quantile(sorted: &[f64], q: f64) -> f64 {
        sorted[(q * (sorted.len() - 1) as f64).floor() as usize]
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
    fn quantiles_are_exact_for_small_samples_with_ties() {
        // Each selection searches above the last one: check it where ranks coincide.
        let mut rng = Rng::new(11);
        for n in 1..60 {
            let data: Vec<f64> = (0..n).map(|_| (rng.uniform() * 5.0).floor()).collect();
            let mut sorted = data.clone();
            sorted.sort_by(f64::total_cmp);
            let s = summarize(&data);
            for (q, v) in [(0.5, s.p50), (0.9, s.p90), (0.95, s.p95), (0.99, s.p99)] {
                assert_eq!(v, exact_lower_quantile(&sorted, q), "n = {n}, q = {q}");
            }
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
        // Non-finite values are skipped, not averaged.
        let s = summarize(&[1.0, f64::NAN, 3.0, f64::NEG_INFINITY]);
        assert_eq!((s.n, s.mean, s.min, s.max, s.p50), (2, 2.0, 1.0, 3.0, 1.0));
        assert!((s.sd - 2f64.sqrt()).abs() < 1e-15);
        let all_bad = summarize(&[f64::NAN, f64::INFINITY]);
        assert_eq!(all_bad.n, 0);
        assert!(all_bad.mean.is_nan() && all_bad.p99.is_nan());
    }
}
