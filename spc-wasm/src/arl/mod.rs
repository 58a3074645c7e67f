//! Average run length (ARL): the expected number of points up to and including the first signal,
//! for a process whose plotted statistic is normal with known parameters, in control
//! (`shift = 0`) or after a sustained shift of the mean (`shift` in sigma of the statistic).
//!
//! Three charts, three methods:
//!
//! - **Shewhart charts with tests for special causes** ([`shewhart`], [`shewhart_markov`],
//!   [`shewhart_simulated`]). Tests 1, 2, 5, 6, 7 and 8 depend only on which zone each point
//!   falls in (the zones are cut at 0, ±1, ±2 sigma and at ±K of test 1, the control limits), so
//!   the chart is a finite Markov chain on "what the tests still remember", and the ARL is the
//!   expected time to absorption, as in Champ & Woodall (1987), "Exact results for Shewhart
//!   control charts with supplementary runs rules", Technometrics 29(4), 393-399. The chain here
//!   is built automatically for any K (see [`shewhart_markov`]) with exactly the conventions of
//!   [`crate::RuleDetector`]. Tests 3 and 4 compare the values of neighbouring points, which no
//!   finite zone chain captures, so a set containing them is simulated: seeded Monte Carlo that
//!   feeds normal points into a fresh [`crate::RuleDetector`] per run (the standard sets once,
//!   at high precision, shipped as a table; any other set once per process).
//! - **EWMA** ([`ewma()`]): the Markov chain approximation of Brook & Evans (1972), "An approach to
//!   the probability distribution of cusum run length", Biometrika 59(3), 539-549, as applied to
//!   the EWMA by Lucas & Saccucci (1990), "Exponentially weighted moving average control schemes:
//!   properties and enhancements", Technometrics 32(1), 1-12.
//! - **Tabular CUSUM** ([`cusum()`]): the Brook & Evans (1972) chain for each one-sided CUSUM,
//!   combined as `1/ARL = 1/ARL+ + 1/ARL-` without a head start and by its generalization for a
//!   head start (Lucas & Crosier 1982, "Fast initial response for CUSUM quality-control schemes:
//!   give your CUSUM a head start", Technometrics 24(3), 199-205, appendix A.1).
//!
//! Everything is pure Rust with no I/O and no panics; a parameter outside its domain is an
//! [`SpcError::InvalidParameter`].
//!
//! ```
//! use llmscope_spc::{arl, NelsonRule, RuleSet};
//! let only_test_1 = RuleSet::only(&[NelsonRule::Beyond]);
//! let a = arl::shewhart(&only_test_1, 0.0).unwrap();
//! assert!((a.value - 370.40).abs() < 0.01);
//! ```
//!
//! The code is one module per method: `zone` (the Champ & Woodall chain), `simulation`, `ewma`
//! and `cusum` (Brook & Evans chains), and `band`, the banded solver the last two share;
//! `table` holds the shipped ARLs of the standard sets that need simulation (`standard`) and
//! the cache of [`shewhart`]'s answers.
mod band;
mod custom;
mod cusum;
mod ewma;
mod simulation;
mod standard;
mod table;
mod zone;

pub use custom::with_rules;
pub use cusum::cusum;
pub use ewma::ewma;
pub use simulation::shewhart_simulated;
pub use zone::shewhart_markov;

use crate::error::{invalid, SpcError};
use crate::math::{normal_cdf, normal_sf};
use crate::rules::{NelsonRule, RuleSet};
use simulation::simulate_with_budget;
use zone::ZoneChain;

/// An average run length and how it was obtained.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Arl {
    /// Expected number of points to the first signal (infinite when no test can fire).
    pub value: f64,
    /// How it was computed.
    pub method: ArlMethod,
    /// Standard error of a simulated value.
    pub std_error: Option<f64>,
}

/// How an ARL was computed.
#[allow(missing_docs)] // the fields are named for what they hold
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum ArlMethod {
    /// Markov chain (exact up to discretization).
    MarkovChain,
    /// Seeded Monte-Carlo simulation.
    Simulation { runs: u64, seed: u64 },
}

/// The seed [`shewhart`] uses when it has to simulate, so its answers are reproducible.
pub const DEFAULT_SEED: u64 = 0x4C4C_4D53_434F_5045;
/// Points one simulated run may last before it is cut off (censored) at this length.
pub const RUN_CAP: u64 = 10_000_000;

/// ARL of a Shewhart chart of a normal statistic with these tests, in control (`shift = 0`) or
/// after a shift of the mean by `shift` sigma of the plotted statistic. Test 1's K is the width
/// of the control limits.
///
/// When every enabled test is zone-based (1, 2, 5, 6, 7, 8) this is [`shewhart_markov`], exact
/// up to rounding. With test 3 or 4, the standard sets (all eight tests, and tests 1 to 4, at
/// their default K, in control and at shifts of 1 and 2) come from a table simulated once at
/// high precision (a million runs each, `examples/arl_table.rs`; the [`ArlMethod::Simulation`]
/// names its runs and seed). Any other set with test 3 or 4 (or a zone chain too large to build,
/// e.g. K in the millions) is [`shewhart_simulated`] with seed [`DEFAULT_SEED`] and a budget of
/// about 20 million
/// simulated points: a pilot of 200 runs estimates the ARL, then
/// `runs = clamp(20e6 / pilot mean, 1000, 50000)`; the [`ArlMethod::Simulation`] it returns names
/// the runs and seed, so `shewhart_simulated` reproduces the value exactly. An ARL so long that
/// the pilot alone exceeds the budget (mean above 100,000 points) is an `Err`: call
/// [`shewhart_simulated`] with a number of runs of your choosing instead.
///
/// Every answer is kept for the life of the process, per set, K and shift (up to 64 of them),
/// so a set is computed once however many reports ask.
///
/// No tests: the value is `f64::INFINITY`.
pub fn shewhart(rules: &RuleSet, shift: f64) -> Result<Arl, SpcError> {
    check_finite("shift", shift)?;
    table::cached(rules, shift, || compute_shewhart(rules, shift))
}

fn compute_shewhart(rules: &RuleSet, shift: f64) -> Result<Arl, SpcError> {
    if rules.is_empty() {
        return Ok(markov(f64::INFINITY));
    }
    if !rules.contains(NelsonRule::Trend) && !rules.contains(NelsonRule::Alternating) {
        // A chain too large or not converging falls through to simulation.
        if let Ok(value) = ZoneChain::build(rules, shift).and_then(|c| c.arl()) {
            return Ok(markov(value));
        }
    }
    if let Some(tabulated) = table::standard(rules, shift) {
        return Ok(tabulated);
    }
    simulate_with_budget(rules, shift)
}

fn markov(value: f64) -> Arl {
    Arl {
        value,
        method: ArlMethod::MarkovChain,
        std_error: None,
    }
}

fn check_finite(name: &'static str, x: f64) -> Result<(), SpcError> {
    if x.is_finite() {
        Ok(())
    } else {
        Err(invalid(name, format!("{x} is not a finite number")))
    }
}

/// `P(a < Z <= b)` for a standard normal `Z`, from the tail that keeps relative accuracy.
fn normal_between(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() || b <= a {
        return 0.0;
    }
    let p = if a >= 0.0 {
        let sa = if a == f64::INFINITY {
            0.0
        } else {
            normal_sf(a)
        };
        let sb = if b == f64::INFINITY {
            0.0
        } else {
            normal_sf(b)
        };
        sa - sb
    } else {
        let cb = if b == f64::INFINITY {
            1.0
        } else {
            normal_cdf(b)
        };
        let ca = if a == f64::NEG_INFINITY {
            0.0
        } else {
            normal_cdf(a)
        };
        cb - ca
    };
    p.max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn close(got: f64, want: f64, tol: f64, what: &str) {
        assert!(
            (got - want).abs() <= tol,
            "{what}: got {got}, want {want} ± {tol}"
        );
    }

    pub(super) fn only(rules: &[NelsonRule]) -> RuleSet {
        RuleSet::only(rules)
    }

    #[test]
    fn no_tests_never_signal() {
        assert_eq!(
            shewhart(&RuleSet::none(), 0.0).unwrap().value,
            f64::INFINITY
        );
        assert_eq!(
            shewhart_markov(&RuleSet::none(), 1.0).unwrap().value,
            f64::INFINITY
        );
        assert_eq!(
            shewhart_simulated(&RuleSet::none(), 1.0, 10, 1).value,
            f64::INFINITY
        );
    }

    #[test]
    fn invalid_inputs_are_errors() {
        assert!(ewma(0.0, 3.0, 0.0).is_err());
        assert!(ewma(1.5, 3.0, 0.0).is_err());
        assert!(ewma(-0.2, 3.0, 0.0).is_err());
        assert!(ewma(0.2, 0.0, 0.0).is_err());
        assert!(ewma(0.2, f64::NAN, 0.0).is_err());
        assert!(ewma(0.2, 3.0, f64::NAN).is_err());
        assert!(cusum(0.5, -4.0, 0.0, 0.0).is_err());
        assert!(cusum(0.5, 0.0, 0.0, 0.0).is_err());
        assert!(cusum(-0.5, 4.0, 0.0, 0.0).is_err());
        assert!(cusum(0.5, 4.0, 5.0, 0.0).is_err());
        assert!(cusum(0.5, 4.0, -1.0, 0.0).is_err());
        assert!(cusum(0.5, 4.0, 0.0, f64::NAN).is_err());
        assert!(cusum(f64::INFINITY, 4.0, 0.0, 0.0).is_err());
        assert!(shewhart(&RuleSet::nelson(), f64::NAN).is_err());
    }

    #[test]
    fn extreme_but_valid_inputs_do_not_panic() {
        for shift in [-1e300, -40.0, 0.0, 40.0, 1e300] {
            assert!(ewma(0.2, 3.0, shift).unwrap().value >= 1.0);
            assert!(ewma(1e-3, 3.0, shift).unwrap().value >= 1.0);
            assert!(cusum(0.5, 4.0, 2.0, shift).unwrap().value >= 1.0);
            assert!(
                shewhart_markov(&RuleSet::western_electric(), shift)
                    .unwrap()
                    .value
                    >= 1.0
            );
        }
        // Limits too wide to resolve: infinite rather than garbage.
        assert_eq!(ewma(0.5, 60.0, 0.0).unwrap().value, f64::INFINITY);
        assert!(cusum(0.5, 200.0, 0.0, 0.0).unwrap().value.is_infinite());
    }
}
