//! Time to limit: the distribution of how many points until the process crosses a limit, and
//! its median with 80% and 95% intervals.
//!
//! - **Lines** (linear and exponential models) **and wear curves** ([`Wear`]): by simulation. [`DRAWS`] lines are drawn from
//!   the fitted line's estimates (a bivariate t, [`Line::crossings_up`], seeded with [`SEED`]
//!   so the same data give the same answer), each line's crossing of the limit is solved
//!   exactly, and the quantiles are those of the draws. What crosses is the *level* (the
//!   line), not a single noisy observation: a limit is reached when the process mean reaches
//!   it. P(crossing within H) is the share of draws crossing by H.
//! - **Damped Holt**: the marginal approximation. ETS gives each step's predictive normal, not
//!   a distribution of paths, so P(crossed by h) is taken as the largest P(Y_j beyond the
//!   limit) over `j ≤ h` (a lower bound of the first-passage probability, tight when the
//!   forecast moves steadily towards the limit); here an observation crossing counts.
//!
//! A quantile beyond the horizon is `None`: not reached within the horizon.
//!
//! **Reach.** A line fitted on `m` points is trusted no further ahead than `m` points (a
//! rule against extrapolating past the span of the data): the alert reads P(crossing within
//! `min(H, m)`), [`Crossing::within_reach`]. Without it, a line through the few points after a
//! chance changepoint, extrapolated 24 hours, would cross almost any limit.

use super::holt::Holt;
use super::linear::Line;
use super::wear::Wear;
use crate::math::normal_sf;

/// Lines drawn per time to limit.
pub const DRAWS: usize = 2000;
/// The simulation's seed.
pub const SEED: u64 = 0x05EE_17C0_4100;

/// The median and the 80% and 95% intervals of the time to limit, in points after the last
/// point (`None`: beyond the horizon), and P(crossing within the horizon).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Crossing {
    /// The median.
    pub median: Option<f64>,
    /// The 80% interval's lower end (the 10th percentile).
    pub lo80: Option<f64>,
    /// The 80% interval's upper end (the 90th percentile).
    pub hi80: Option<f64>,
    /// The 95% interval's lower end (the 2.5th percentile).
    pub lo95: Option<f64>,
    /// The 95% interval's upper end (the 97.5th percentile).
    pub hi95: Option<f64>,
    /// P(crossing within the horizon).
    pub probability: f64,
    /// P(crossing within the horizon and the reach): what the alert reads.
    pub within_reach: f64,
}

/// The quantiles (10, 2.5, 50, 90, 97.5 %) of each interval end, in [`Crossing`]'s order.
const QUANTILES: [f64; 5] = [0.5, 0.1, 0.9, 0.025, 0.975];

impl Crossing {
    fn from_quantile(
        quantile: impl Fn(f64) -> Option<f64>,
        probability: f64,
        within_reach: f64,
    ) -> Crossing {
        let [median, lo80, hi80, lo95, hi95] = QUANTILES.map(quantile);
        Crossing {
            median,
            lo80,
            hi80,
            lo95,
            hi95,
            probability,
            within_reach,
        }
    }
}

/// The time for `line` (fitted up to `x_last`) to cross `limit` upwards (`upper`) or
/// downwards, within `horizon` points, and within `reach`.
pub fn line_crossing(
    line: &Line,
    x_last: f64,
    limit: f64,
    upper: bool,
    horizon: usize,
    reach: usize,
) -> Crossing {
    let line = if upper { *line } else { line.mirrored() };
    let limit = if upper { limit } else { -limit };
    from_draws(
        line.crossings_up(x_last, limit, DRAWS, SEED),
        horizon,
        reach,
    )
}

/// The time for the [`Wear`] curve to cross `limit` upwards (`upper`) or downwards, within
/// `horizon` points, and within `reach`: by [`DRAWS`] curves drawn from its estimates.
pub fn wear_crossing(
    wear: &Wear,
    limit: f64,
    upper: bool,
    horizon: usize,
    reach: usize,
) -> Crossing {
    from_draws(wear.crossings(limit, upper, DRAWS, SEED), horizon, reach)
}

/// The quantiles and shares of [`DRAWS`] drawn crossing times.
fn from_draws(mut times: Vec<f64>, horizon: usize, reach: usize) -> Crossing {
    let h = horizon as f64;
    let r = horizon.min(reach) as f64;
    let within = times.iter().filter(|&&t| t <= h).count();
    let within_reach = times.iter().filter(|&&t| t <= r).count();
    // The nearest-rank quantiles: each rank's value as in the sorted draws, found by
    // selection (ascending ranks, each in the part above the one before).
    let rank = |q: f64| ((q * DRAWS as f64).ceil() as usize).clamp(1, DRAWS) - 1;
    let mut ranks = QUANTILES.map(rank);
    ranks.sort_unstable();
    let mut at = [0.0; QUANTILES.len()];
    let mut from = 0;
    for (value, &k) in at.iter_mut().zip(&ranks) {
        let (_, nth, _) = times[from..].select_nth_unstable_by(k - from, f64::total_cmp);
        *value = *nth;
        from = k;
    }
    let quantile = |q: f64| {
        let i = ranks.iter().position(|&k| k == rank(q))?;
        Some(at[i]).filter(|&t| t <= h)
    };
    let share = |k: usize| k as f64 / DRAWS as f64;
    Crossing::from_quantile(quantile, share(within), share(within_reach))
}

/// The time for the Holt forecast to cross `limit`, by the marginal approximation, within
/// `horizon` points, and within `reach`.
pub fn holt_crossing(
    model: &Holt,
    limit: f64,
    upper: bool,
    horizon: usize,
    reach: usize,
) -> Crossing {
    let mut passed = Vec::with_capacity(horizon);
    let mut max: f64 = 0.0;
    for h in 1..=horizon {
        let z = (limit - model.forecast(h)) / model.variance(h).sqrt();
        let p = if upper { normal_sf(z) } else { normal_sf(-z) };
        max = max.max(p);
        passed.push(max);
    }
    let quantile = |q: f64| {
        let first = passed.partition_point(|&p| p < q);
        (first < horizon).then_some((first + 1) as f64)
    };
    let within_reach = passed[horizon.min(reach).max(1) - 1];
    Crossing::from_quantile(quantile, max, within_reach)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_steep_line_crosses_soon_and_a_flat_one_not_within_the_horizon() {
        let y: Vec<f64> = (0..100)
            .map(|i| 0.1 * i as f64 + 0.05 * ((i * 7) % 5) as f64)
            .collect();
        let line = Line::fit(0.0, &y).unwrap();
        let c = line_crossing(&line, 99.0, 15.0, true, 200, 100);
        let m = c.median.unwrap();
        assert!((45.0..55.0).contains(&m), "{c:?}");
        assert!(c.lo80.unwrap() <= m && m <= c.hi80.unwrap());
        assert!(c.lo95.unwrap() <= c.lo80.unwrap() && c.hi80.unwrap() <= c.hi95.unwrap());
        assert!(c.probability > 0.99);
        // 50 points away, so within 100 too; not within 30.
        assert!(c.within_reach > 0.99);
        assert!(line_crossing(&line, 99.0, 15.0, true, 200, 30).within_reach < 0.01);
        let down = line_crossing(&line, 99.0, -5.0, false, 200, 100);
        assert_eq!(down.median, None);
        assert!(down.probability < 0.01);
    }

    #[test]
    fn holt_crossing_is_monotone_and_none_beyond_the_horizon() {
        let y: Vec<f64> = (0..60)
            .map(|i| i as f64 + ((i * 3) % 4) as f64 * 0.2)
            .collect();
        let m = Holt::fit(&y, 0.5, 0.2, 0.98).unwrap();
        let c = holt_crossing(&m, 80.0, true, 100, 60);
        assert!(c.lo80.unwrap() <= c.median.unwrap() && c.median.unwrap() <= c.hi80.unwrap());
        assert_eq!(holt_crossing(&m, 1e6, true, 100, 60).median, None);
    }
}
