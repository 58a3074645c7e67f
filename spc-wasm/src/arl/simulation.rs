//! Seeded Monte Carlo of the Shewhart tests, for sets with test 3 or 4 (which compare values,
//! not zones) and for zone chains too large to build.

use super::{Arl, ArlMethod, DEFAULT_SEED, RUN_CAP};
use crate::error::{invalid, SpcError};
use crate::rng::Rng;
use crate::rules::{LimitSide, NelsonRule, RuleDetector, RuleSet, Signal};

/// The total number of simulated points [`super::shewhart`] aims to spend when it has to simulate.
const SIM_BUDGET: u64 = 20_000_000;
const PILOT_RUNS: u64 = 200;
const MIN_RUNS: u64 = 1_000;
const MAX_RUNS: u64 = 50_000;

/// ARL of a Shewhart chart with any of the eight tests, by seeded Monte Carlo.
///
/// Each of `runs` runs feeds points `z ~ N(shift, 1)` (the plotted statistic in sigma units, also
/// used as the statistic for tests 3 and 4) into a fresh [`crate::RuleDetector`], with the side
/// of the limits at ±K of test 1, until the first signal; its run length is the index of that
/// point plus one. A run is cut off after [`super::RUN_CAP`] points and then counts as that many, so a
/// value near or above the cap is a lower bound. The returned value is the mean run length and
/// `std_error` is the sample standard deviation over `sqrt(runs)` (`None` for fewer than 2 runs).
///
/// Random numbers: xoshiro256** (Blackman & Vigna 2018) seeded by expanding `seed` with
/// splitmix64; normals by Marsaglia's polar method (both variates of each pair are used; it is
/// exact, unlike approximate inversion, and needs only `ln` and `sqrt`). The same `rules`,
/// `shift`, `runs` and `seed` give the same value on the same platform; across platforms only a
/// last-bit difference in `ln` between math libraries could change a run, and then rarely.
///
/// The work is about `runs` times the ARL points: budget accordingly. `runs = 0` or a shift that
/// is not finite gives a NaN value; no tests gives `f64::INFINITY`.
pub fn shewhart_simulated(rules: &RuleSet, shift: f64, runs: u64, seed: u64) -> Arl {
    let method = ArlMethod::Simulation { runs, seed };
    if rules.is_empty() {
        return Arl {
            value: f64::INFINITY,
            method,
            std_error: None,
        };
    }
    if !shift.is_finite() || runs == 0 {
        return Arl {
            value: f64::NAN,
            method,
            std_error: None,
        };
    }
    simulate(&mut Simulator::new(rules, shift), runs, seed)
}

/// The mean run length of `runs` seeded runs of `sim`.
pub(super) fn simulate(sim: &mut impl Runs, runs: u64, seed: u64) -> Arl {
    let mut rng = Rng::new(seed);
    let mut stats = Welford::default();
    for _ in 0..runs {
        let (len, _censored) = sim.run(&mut rng, RUN_CAP);
        stats.push(len as f64);
    }
    Arl {
        value: stats.mean,
        method: ArlMethod::Simulation { runs, seed },
        std_error: stats.std_error(),
    }
}

pub(super) fn simulate_with_budget(rules: &RuleSet, shift: f64) -> Result<Arl, SpcError> {
    budgeted(&mut Simulator::new(rules, shift))
}

/// [`simulate`] with the number of runs chosen by a pilot, for a budget of about
/// [`SIM_BUDGET`] points (see [`super::shewhart`]).
pub(super) fn budgeted(sim: &mut impl Runs) -> Result<Arl, SpcError> {
    // The pilot uses its own stream so that the returned (runs, seed) reproduce the value.
    let mut rng = Rng::new(DEFAULT_SEED ^ 0x9E37_79B9_7F4A_7C15);
    let mut total = 0u64;
    for _ in 0..PILOT_RUNS {
        let cap = RUN_CAP.min(SIM_BUDGET - total);
        let (len, censored) = sim.run(&mut rng, cap);
        total += len;
        if censored {
            return Err(too_long(total / PILOT_RUNS));
        }
    }
    let guess = (total as f64 / PILOT_RUNS as f64).max(1.0);
    let runs = ((SIM_BUDGET as f64 / guess) as u64).clamp(MIN_RUNS, MAX_RUNS);
    Ok(simulate(sim, runs, DEFAULT_SEED))
}

/// Simulated runs of a chart on normal points.
pub(super) trait Runs {
    /// One run from a fresh start: (run length, censored). A censored run counts `cap` points.
    fn run(&mut self, rng: &mut Rng, cap: u64) -> (u64, bool);
}

fn too_long(at_least: u64) -> SpcError {
    invalid(
        "tests",
        format!(
            "the ARL of these tests is longer than about {} points, too long to estimate by \
             simulation within the default budget; enable test 1, or call \
             arl::shewhart_simulated with a number of runs of your choosing",
            at_least.max(SIM_BUDGET / PILOT_RUNS)
        ),
    )
}

/// Runs a fresh detector per run on `z ~ N(shift, 1)`.
struct Simulator {
    rules: RuleSet,
    k1: f64,
    shift: f64,
    out: Vec<Signal>,
}

impl Simulator {
    fn new(rules: &RuleSet, shift: f64) -> Simulator {
        Simulator {
            rules: rules.clone(),
            k1: rules.k(NelsonRule::Beyond),
            shift,
            out: Vec::new(),
        }
    }
}

impl Runs for Simulator {
    fn run(&mut self, rng: &mut Rng, cap: u64) -> (u64, bool) {
        let mut detector = RuleDetector::new(self.rules.clone());
        self.out.clear();
        for i in 0..cap {
            let z = self.shift + rng.normal();
            let side = if z > self.k1 {
                LimitSide::Above
            } else if z < -self.k1 {
                LimitSide::Below
            } else {
                LimitSide::Inside
            };
            detector.push(z, z, side, &mut self.out);
            if !self.out.is_empty() {
                return (i + 1, false);
            }
        }
        (cap, true)
    }
}

/// Running mean and variance (Welford).
#[derive(Default)]
pub(super) struct Welford {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Welford {
    fn push(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    fn std_error(&self) -> Option<f64> {
        (self.n >= 2).then(|| (self.m2 / (self.n - 1) as f64).sqrt() / (self.n as f64).sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arl::tests::{close, only};
    use crate::arl::*;

    /// Seeded Monte Carlo against the published in-control values.
    ///
    /// Run lengths are close to geometric, so their standard deviation is about the ARL itself
    /// (sqrt(ARL (ARL - 1))) and the standard error of a mean of n runs is about ARL / sqrt(n):
    /// with 1,500 runs of test 1 alone, SE ~ 370 / 38.7 ~ 9.6; with 4,000 runs of the Western
    /// Electric set, SE ~ 92 / 63 ~ 1.5. A seeded estimate further than 4 SE from the true value
    /// would happen by chance with probability 6e-5, so it means a bug. The SE used is the one the
    /// simulation reports, which is checked against ARL / sqrt(n) as well. About 0.9 million
    /// simulated points in all, well under a second in a debug build.
    #[test]
    fn simulation_matches_published_values() {
        let test1 = only(&[NelsonRule::Beyond]);
        let we = RuleSet::western_electric();
        for (rules, runs, published) in [(&test1, 1_500u64, 370.40), (&we, 4_000, 91.75)] {
            let a = shewhart_simulated(rules, 0.0, runs, 2024);
            let se = a.std_error.unwrap();
            let rough = published / (runs as f64).sqrt();
            assert!(
                se > 0.8 * rough && se < 1.2 * rough,
                "SE {se} vs about {rough}"
            );
            close(a.value, published, 4.0 * se, "simulated in-control ARL");
            assert_eq!(a.method, ArlMethod::Simulation { runs, seed: 2024 });
            // Same seed, same answer.
            assert_eq!(shewhart_simulated(rules, 0.0, runs, 2024), a);
        }
        // Shifted by 1 sigma, against the Markov chain (WE ARL ~ 10: 4,000 runs, SE ~ 0.13).
        let exact = shewhart_markov(&we, 1.0).unwrap().value;
        let a = shewhart_simulated(&we, 1.0, 4_000, 99);
        close(a.value, exact, 4.0 * a.std_error.unwrap(), "WE at shift 1");
    }

    /// All eight tests (test 3 needs the simulation): the in-control ARL is about 74. The
    /// default budget gives runs = clamp(20e6 / 74, 1000, 50000) = 50,000 runs, too heavy for a
    /// debug build, so this checks 2,000 seeded runs (SE ~ 74 / 45 ~ 1.7) against 74 ± 5; the
    /// `arl_montecarlo` example runs the full budget, and tests/properties.rs checks the
    /// shipped value against a simulation that shares no code with this one.
    #[test]
    fn all_eight_tests_about_74() {
        let a = shewhart_simulated(&RuleSet::nelson(), 0.0, 2_000, 11);
        close(a.value, 74.0, 5.0, "all eight tests in control");
    }

    /// Test 3 alone with a long K (ARL of the order of K!): the pilot uses up the budget of 20
    /// million points and gives up. Too slow for a debug build.
    #[test]
    #[cfg_attr(debug_assertions, ignore = "simulates 20 million points")]
    fn fallback_gives_up_beyond_budget() {
        let long = only(&[NelsonRule::Trend])
            .with_k(NelsonRule::Trend, 12.0)
            .unwrap();
        assert!(shewhart(&long, 0.0).is_err());
    }

    #[test]
    fn simulation_limits() {
        // Bad simulation inputs give NaN, never a panic or a hang.
        assert!(shewhart_simulated(&RuleSet::nelson(), f64::NAN, 10, 1)
            .value
            .is_nan());
        assert!(shewhart_simulated(&RuleSet::nelson(), 0.0, 0, 1)
            .value
            .is_nan());
        assert_eq!(
            shewhart_simulated(&RuleSet::nelson(), 0.0, 1, 1).std_error,
            None
        );
    }

    #[test]
    fn rng_is_reproducible_and_normal() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        let xs: Vec<f64> = (0..20_000).map(|_| a.normal()).collect();
        assert!(xs.iter().all(|&x| x == b.normal()));
        let mut w = Welford::default();
        xs.iter().for_each(|&x| w.push(x));
        assert!(w.mean.abs() < 0.03, "{}", w.mean);
        let sd = (w.m2 / (w.n - 1) as f64).sqrt();
        assert!((sd - 1.0).abs() < 0.03, "{sd}");
        let tail = xs.iter().filter(|x| x.abs() > 2.0).count() as f64 / xs.len() as f64;
        assert!((tail - 0.0455).abs() < 0.006, "{tail}");
    }
}
