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
//!   feeds normal points into a fresh [`crate::RuleDetector`] per run.
//! - **EWMA** ([`ewma`]): the Markov chain approximation of Brook & Evans (1972), "An approach to
//!   the probability distribution of cusum run length", Biometrika 59(3), 539-549, as applied to
//!   the EWMA by Lucas & Saccucci (1990), "Exponentially weighted moving average control schemes:
//!   properties and enhancements", Technometrics 32(1), 1-12.
//! - **Tabular CUSUM** ([`cusum`]): the Brook & Evans (1972) chain for each one-sided CUSUM,
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
use crate::error::{invalid, SpcError};
use crate::math::{normal_cdf, normal_sf};
use crate::rng::Rng;
use crate::rules::{LimitSide, NelsonRule, RuleDetector, RuleSet, Signal};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

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

// ---------------------------------------------------------------------------------------------
// Shewhart charts with tests for special causes
// ---------------------------------------------------------------------------------------------

/// The seed [`shewhart`] uses when it has to simulate, so its answers are reproducible.
pub const DEFAULT_SEED: u64 = 0x4C4C_4D53_434F_5045;
/// Points one simulated run may last before it is cut off (censored) at this length.
pub const RUN_CAP: u64 = 10_000_000;
/// The total number of simulated points [`shewhart`] aims to spend when it has to simulate.
const SIM_BUDGET: u64 = 20_000_000;
const PILOT_RUNS: u64 = 200;
const MIN_RUNS: u64 = 1_000;
const MAX_RUNS: u64 = 50_000;
/// Largest zone chain [`shewhart_markov`] builds.
const MAX_STATES: usize = 100_000;
/// Chains up to this size are solved directly (dense Gaussian elimination) if the iteration
/// does not converge.
const DENSE_MAX: usize = 1_000;
/// Most power-iteration steps, and most multiply-adds over all steps.
const MAX_ITERATIONS: usize = 200_000;
const MAX_WORK: usize = 1_000_000_000;

/// ARL of a Shewhart chart of a normal statistic with these tests, in control (`shift = 0`) or
/// after a shift of the mean by `shift` sigma of the plotted statistic. Test 1's K is the width
/// of the control limits.
///
/// When every enabled test is zone-based (1, 2, 5, 6, 7, 8) this is [`shewhart_markov`], exact
/// up to rounding. With test 3 or 4 (or a zone chain too large to build, e.g. K in the millions),
/// it is [`shewhart_simulated`] with seed [`DEFAULT_SEED`] and a budget of about 20 million
/// simulated points: a pilot of 200 runs estimates the ARL, then
/// `runs = clamp(20e6 / pilot mean, 1000, 50000)`; the [`ArlMethod::Simulation`] it returns names
/// the runs and seed, so `shewhart_simulated` reproduces the value exactly. An ARL so long that
/// the pilot alone exceeds the budget (mean above 100,000 points) is an `Err`: call
/// [`shewhart_simulated`] with a number of runs of your choosing instead.
///
/// No tests: the value is `f64::INFINITY`.
pub fn shewhart(rules: &RuleSet, shift: f64) -> Result<Arl, SpcError> {
    check_finite("shift", shift)?;
    if rules.is_empty() {
        return Ok(markov(f64::INFINITY));
    }
    if !rules.contains(NelsonRule::Trend) && !rules.contains(NelsonRule::Alternating) {
        // A chain too large or not converging falls through to simulation.
        if let Ok(value) = ZoneChain::build(rules, shift).and_then(|c| c.arl()) {
            return Ok(markov(value));
        }
    }
    simulate_with_budget(rules, shift)
}

/// ARL of a Shewhart chart with zone-based tests by the Markov chain of Champ & Woodall (1987),
/// "Exact results for Shewhart control charts with supplementary runs rules", Technometrics
/// 29(4), 393-399.
///
/// The state is the least each enabled test must remember, with the conventions of
/// [`crate::RuleDetector`] ("beyond" strict, "within" `<=`, a point on the center line ends a
/// run on one side):
/// - test 2: the signed length of the current run on one side, below K;
/// - tests 5 and 6 (K out of K+1 beyond 2 or 1 sigma, same side), for each side: how long ago the
///   last two points that were *not* beyond on that side occurred, each capped at K+1. The test
///   fires at a point beyond on that side exactly when the older of those two is more than K
///   points back. (This is equivalent to the detector's bit history, which starts as all "not
///   beyond", and much smaller than K bits per side.)
/// - tests 7 and 8: the length of the current run within / beyond 1 sigma, below K.
///
/// The reachable states are enumerated breadth-first from the empty history, with one transition
/// per zone of positive probability `Phi(b - shift) - Phi(a - shift)`; a transition on which any
/// enabled test fires is absorbing. The ARL is the expected time to absorption from the start:
/// computed by iterating the distribution over the transient states, `p(t+1) = p(t) Q`, summing
/// the survival probabilities `P(T > t)`, with a geometric tail once the per-step signal
/// probability (the hazard, computed directly so that it stays accurate when it is tiny) has
/// converged to a relative 1e-12 for three steps: a few hundred steps even when the ARL is in the
/// hundreds or far more. Should the iteration not converge (a periodic chain, in principle), a
/// chain of up to 1,000 states is solved directly by Gaussian elimination.
///
/// Reproduces Champ & Woodall's table 1 (e.g. test 1 alone 370.40, the Western Electric set
/// 91.75 in control). With all of tests 1, 2, 5, 6, 7 and 8 at the default K the chain has 723
/// states and is built and solved in under a millisecond (release build).
///
/// `Err` when test 3 or 4 is enabled (they depend on the values, not only on zones), when the
/// chain would exceed 100,000 states (very large K for tests 2, 7 or 8), or when the iteration
/// does not converge. When some reachable history can never lead to a signal (possible only when
/// the shift is so large that some zones have probability 0 in double precision) the value is
/// `f64::INFINITY`; no tests at all also gives `f64::INFINITY`.
pub fn shewhart_markov(rules: &RuleSet, shift: f64) -> Result<Arl, SpcError> {
    check_finite("shift", shift)?;
    if rules.contains(NelsonRule::Trend) || rules.contains(NelsonRule::Alternating) {
        return Err(invalid(
            "tests",
            "tests 3 and 4 compare neighbouring values, so no zone Markov chain describes them: \
             use arl::shewhart or arl::shewhart_simulated",
        ));
    }
    if rules.is_empty() {
        return Ok(markov(f64::INFINITY));
    }
    ZoneChain::build(rules, shift)
        .and_then(|c| c.arl())
        .map(markov)
}

/// ARL of a Shewhart chart with any of the eight tests, by seeded Monte Carlo.
///
/// Each of `runs` runs feeds points `z ~ N(shift, 1)` (the plotted statistic in sigma units, also
/// used as the statistic for tests 3 and 4) into a fresh [`crate::RuleDetector`], with the side
/// of the limits at ±K of test 1, until the first signal; its run length is the index of that
/// point plus one. A run is cut off after [`RUN_CAP`] points and then counts as that many, so a
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
    let mut rng = Rng::new(seed);
    let mut sim = Simulator::new(rules, shift);
    let mut stats = Welford::default();
    for _ in 0..runs {
        let (len, _censored) = sim.run(&mut rng, RUN_CAP);
        stats.push(len as f64);
    }
    Arl {
        value: stats.mean,
        method,
        std_error: stats.std_error(),
    }
}

fn simulate_with_budget(rules: &RuleSet, shift: f64) -> Result<Arl, SpcError> {
    // The pilot uses its own stream so that the returned (runs, seed) reproduce the value.
    let mut rng = Rng::new(DEFAULT_SEED ^ 0x9E37_79B9_7F4A_7C15);
    let mut sim = Simulator::new(rules, shift);
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
    Ok(shewhart_simulated(rules, shift, runs, DEFAULT_SEED))
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

/// What the zone-based tests remember after a point: see [`shewhart_markov`]. A disabled test's
/// part stays at its initial value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ZoneState {
    /// Test 2: signed run length on one side (+ above the center line).
    side: i32,
    /// Tests 7 and 8: run lengths within and beyond 1 sigma.
    within: u32,
    beyond: u32,
    /// Tests 5 and 6: for beyond +2, beyond -2, beyond +1, beyond -1 sigma, the ages (1 = the
    /// point just judged, relative to the next point) of the two latest points that were not
    /// beyond, capped at K+1.
    ages: [[u8; 2]; 4],
}

impl ZoneState {
    /// The state packed into 120 bits: side run, the within (+) or beyond (-) run (only one of
    /// them is ever nonzero), and the eight ages of 7 bits each (ages are at most 64).
    fn key(&self) -> u128 {
        debug_assert!(self.within == 0 || self.beyond == 0);
        let run = i64::from(self.within) - i64::from(self.beyond);
        let mut key = u128::from(self.side as u32) | (u128::from(run as u32) << 32);
        for (i, age) in self.ages.iter().flatten().enumerate() {
            key |= u128::from(*age & 0x7f) << (64 + 7 * i);
        }
        key
    }
}

/// A fast hasher for the packed states (std's default SipHash is several times slower here).
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7C_C1_B7_27_22_0A_95);
        }
    }

    fn write_u128(&mut self, x: u128) {
        let mixed = (x as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ ((x >> 64) as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
        self.0 = (mixed ^ (mixed >> 29)).wrapping_mul(0x1656_67B1_9E37_79F9);
    }
}

impl ZoneState {
    /// The empty history: the detector starts with no run and its bit histories all "not beyond".
    const START: ZoneState = ZoneState {
        side: 0,
        within: 0,
        beyond: 0,
        ages: [[1, 2]; 4],
    };
}

/// The enabled zone tests and their K.
#[derive(Clone, Copy, Debug)]
struct ZoneTests {
    k1: Option<f64>,
    k2: Option<u32>,
    /// K of test 5 then test 6 (1..=63).
    k56: [Option<u8>; 2],
    k7: Option<u32>,
    k8: Option<u32>,
}

impl ZoneTests {
    fn new(rules: &RuleSet) -> ZoneTests {
        // K values are validated by RuleSet (whole numbers, 1..=1e9, zone tests 1..=63); the
        // `as` conversions saturate in any case.
        let count = |r: NelsonRule| rules.contains(r).then(|| rules.k(r) as u32);
        let small = |r: NelsonRule| rules.contains(r).then(|| rules.k(r).clamp(1.0, 63.0) as u8);
        ZoneTests {
            k1: rules
                .contains(NelsonRule::Beyond)
                .then(|| rules.k(NelsonRule::Beyond)),
            k2: count(NelsonRule::SameSide).map(|k| k.clamp(1, i32::MAX as u32)),
            k56: [small(NelsonRule::ZoneA), small(NelsonRule::ZoneB)],
            k7: count(NelsonRule::Stratification),
            k8: count(NelsonRule::Mixture),
        }
    }

    /// The state after a point at `z` (sigma from the center line), and whether an enabled test
    /// fires at it. Mirrors [`RuleDetector::push`] for tests 1, 2, 5, 6, 7, 8.
    fn step(&self, s: &ZoneState, z: f64) -> (ZoneState, bool) {
        let mut next = *s;
        let mut fired = false;
        if let Some(k1) = self.k1 {
            fired |= z > k1 || z < -k1;
        }
        if let Some(k2) = self.k2 {
            let k2 = k2 as i32;
            next.side = if z > 0.0 {
                s.side.max(0) + 1
            } else if z < 0.0 {
                s.side.min(0) - 1
            } else {
                0
            };
            if next.side.unsigned_abs() >= k2 as u32 {
                fired = true;
                next.side = next.side.clamp(-k2, k2);
            }
        }
        let hits = [z > 2.0, z < -2.0, z > 1.0, z < -1.0];
        for (t, k) in self.k56.iter().enumerate() {
            let Some(k) = *k else { continue };
            let cap = k + 1;
            for side in 0..2 {
                let i = 2 * t + side;
                let [a0, a1] = s.ages[i];
                if hits[i] {
                    // At most one point of the K before this one is not beyond: K of K+1.
                    fired |= a1 > k;
                    next.ages[i] = [(a0 + 1).min(cap), (a1 + 1).min(cap)];
                } else {
                    next.ages[i] = [1, (a0 + 1).min(cap)];
                }
            }
        }
        let within = z.abs() <= 1.0;
        if let Some(k7) = self.k7 {
            next.within = if within { (s.within + 1).min(k7) } else { 0 };
            fired |= next.within >= k7;
        }
        if let Some(k8) = self.k8 {
            next.beyond = if within { 0 } else { (s.beyond + 1).min(k8) };
            fired |= next.beyond >= k8;
        }
        (next, fired)
    }

    /// Zones `(probability, representative z)` between consecutive boundaries 0, ±1, ±2 and ±K
    /// of test 1, dropping zones of probability 0.
    fn zones(&self, shift: f64) -> Vec<(f64, f64)> {
        let mut cuts = vec![-2.0, -1.0, 0.0, 1.0, 2.0];
        if let Some(k1) = self.k1 {
            cuts.extend([-k1, k1]);
        }
        cuts.sort_by(f64::total_cmp);
        cuts.dedup();
        let mut edges = vec![f64::NEG_INFINITY];
        edges.extend(cuts);
        edges.push(f64::INFINITY);
        let mut zones = Vec::new();
        for w in edges.windows(2) {
            let (a, b) = (w[0], w[1]);
            let z = if a == f64::NEG_INFINITY {
                b - 1.0
            } else if b == f64::INFINITY {
                a + 1.0
            } else {
                0.5 * (a + b)
            };
            let p = normal_between(a - shift, b - shift);
            if p > 0.0 {
                zones.push((p, z));
            }
        }
        zones
    }
}

/// The transient part of the zone chain: for each state and zone, the next state (or
/// [`ABSORB`]).
struct ZoneChain {
    probs: Vec<f64>,
    next: Vec<u32>,
    /// One-step signal probability of each state.
    absorb: Vec<f64>,
    states: usize,
    /// Largest breadth-first distance of a state from the start.
    depth: usize,
}

const ABSORB: u32 = u32::MAX;

impl ZoneChain {
    fn build(rules: &RuleSet, shift: f64) -> Result<ZoneChain, SpcError> {
        let tests = ZoneTests::new(rules);
        let zones = tests.zones(shift);
        let nz = zones.len();
        let mut states = vec![ZoneState::START];
        let mut index: HashMap<u128, u32, BuildHasherDefault<KeyHasher>> = HashMap::default();
        index.insert(ZoneState::START.key(), 0);
        let mut next = Vec::new();
        let mut absorb = Vec::new();
        // Breadth-first depth of each state: the iteration must not stop before the deepest
        // states can be occupied (until then the hazard can sit on a plateau, e.g. for the
        // first K - 1 points of test 2 only test 1 can fire).
        let mut depth = vec![0usize];
        let mut s = 0;
        while s < states.len() {
            let here = states[s];
            let mut a = 0.0;
            for &(p, z) in &zones {
                let (to, fired) = tests.step(&here, z);
                if fired {
                    next.push(ABSORB);
                    a += p;
                    continue;
                }
                let id = match index.get(&to.key()) {
                    Some(&id) => id,
                    None => {
                        if states.len() >= MAX_STATES {
                            return Err(invalid(
                                "tests",
                                format!(
                                    "the Markov chain of these tests would exceed {MAX_STATES} \
                                     states (K of test 2, 7 or 8 too large); use \
                                     arl::shewhart or arl::shewhart_simulated"
                                ),
                            ));
                        }
                        let id = states.len() as u32;
                        states.push(to);
                        depth.push(depth[s] + 1);
                        index.insert(to.key(), id);
                        id
                    }
                };
                next.push(id);
            }
            absorb.push(a);
            s += 1;
        }
        debug_assert_eq!(next.len(), states.len() * nz);
        Ok(ZoneChain {
            probs: zones.iter().map(|z| z.0).collect(),
            next,
            absorb,
            states: states.len(),
            depth: depth.last().copied().unwrap_or(0),
        })
    }

    /// Can every state reach a signal? If not, a reachable history never signals.
    fn all_can_signal(&self) -> bool {
        let n = self.states;
        let nz = self.probs.len();
        // Reverse adjacency in compressed form.
        let mut start = vec![0usize; n + 1];
        for &t in &self.next {
            if t != ABSORB {
                start[t as usize + 1] += 1;
            }
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut from = vec![0u32; start[n]];
        for (e, &t) in self.next.iter().enumerate() {
            if t != ABSORB {
                from[fill[t as usize]] = (e / nz) as u32;
                fill[t as usize] += 1;
            }
        }
        let mut can: Vec<bool> = self.absorb.iter().map(|&a| a > 0.0).collect();
        let mut stack: Vec<usize> = (0..n).filter(|&i| can[i]).collect();
        while let Some(t) = stack.pop() {
            for &f in &from[start[t]..start[t + 1]] {
                if !can[f as usize] {
                    can[f as usize] = true;
                    stack.push(f as usize);
                }
            }
        }
        can.iter().all(|&c| c)
    }

    /// Expected steps to absorption from state 0.
    fn arl(&self) -> Result<f64, SpcError> {
        if !self.all_can_signal() {
            return Ok(f64::INFINITY);
        }
        match self.arl_iterated() {
            Err(_) if self.states <= DENSE_MAX => self.arl_dense(),
            result => result,
        }
    }

    fn arl_dense(&self) -> Result<f64, SpcError> {
        let n = self.states;
        let nz = self.probs.len();
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            a[i * n + i] += 1.0;
            for z in 0..nz {
                let t = self.next[i * nz + z];
                if t != ABSORB {
                    a[i * n + t as usize] -= self.probs[z];
                }
            }
        }
        let x = solve_dense(n, &mut a, vec![1.0; n])
            .ok_or_else(|| invalid("tests", "the Markov chain is numerically singular"))?;
        Ok(x[0])
    }

    fn arl_iterated(&self) -> Result<f64, SpcError> {
        let n = self.states;
        let nz = self.probs.len();
        let mut p = vec![0.0; n];
        let mut q = vec![0.0; n];
        p[0] = 1.0;
        let mut mass = 1.0;
        let mut total = 0.0;
        let mut prev_hazard = f64::NAN;
        let mut stable = 0;
        let max_iter = MAX_ITERATIONS.min(MAX_WORK / (n * nz).max(1)).max(1000);
        for t in 0..max_iter {
            total += mass; // P(T > t)
            q.iter_mut().for_each(|x| *x = 0.0);
            let mut absorbed = 0.0;
            for ((&ps, &a), row) in p
                .iter()
                .zip(&self.absorb)
                .zip(self.next.chunks_exact(nz.max(1)))
            {
                if ps == 0.0 {
                    continue;
                }
                absorbed += ps * a;
                for (z, &t) in row.iter().enumerate() {
                    if t != ABSORB {
                        q[t as usize] += ps * self.probs[z];
                    }
                }
            }
            std::mem::swap(&mut p, &mut q);
            let new_mass: f64 = p.iter().sum();
            let hazard = absorbed / mass;
            if new_mass <= 1e-17 * total {
                return Ok(total + new_mass);
            }
            let settled = t > 2 * self.depth + 10;
            if settled && hazard > 0.0 && (hazard - prev_hazard).abs() <= 1e-12 * hazard {
                stable += 1;
                if stable >= 3 {
                    // From here on P(T > t + 1) = P(T > t) (1 - hazard).
                    return Ok(total + new_mass / hazard);
                }
            } else {
                stable = 0;
            }
            prev_hazard = hazard;
            mass = new_mass;
        }
        Err(invalid(
            "tests",
            "the Markov chain iteration did not converge; use arl::shewhart_simulated",
        ))
    }
}

/// Solves `A x = b` (row-major `n x n`) by Gaussian elimination with partial pivoting.
fn solve_dense(n: usize, a: &mut [f64], mut b: Vec<f64>) -> Option<Vec<f64>> {
    for c in 0..n {
        let piv = (c..n).max_by(|&i, &j| a[i * n + c].abs().total_cmp(&a[j * n + c].abs()))?;
        let size = a[piv * n + c].abs();
        if size.is_nan() || size == 0.0 {
            return None;
        }
        if piv != c {
            for j in 0..n {
                a.swap(c * n + j, piv * n + j);
            }
            b.swap(c, piv);
        }
        let d = a[c * n + c];
        for i in c + 1..n {
            let f = a[i * n + c] / d;
            if f == 0.0 {
                continue;
            }
            for j in c..n {
                a[i * n + j] -= f * a[c * n + j];
            }
            b[i] -= f * b[c];
        }
    }
    for c in (0..n).rev() {
        let mut s = b[c];
        for j in c + 1..n {
            s -= a[c * n + j] * b[j];
        }
        b[c] = s / a[c * n + c];
    }
    b.iter().all(|x| x.is_finite()).then_some(b)
}

// ---------------------------------------------------------------------------------------------
// Simulation
// ---------------------------------------------------------------------------------------------

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

    /// One run: (run length, censored). A censored run counts `cap` points.
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
struct Welford {
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

// ---------------------------------------------------------------------------------------------
// EWMA and CUSUM: Brook & Evans discretizations
// ---------------------------------------------------------------------------------------------

/// Entries of a normal transition kernel further than this many standard deviations from its
/// center (below 2e-33) are left out of the band. Leaving them out raises the chance of leaving
/// the chain by at most 4e-33 a step, which changes no ARL below 1e14 (the largest reported) by
/// more than 1e-18 relative.
const KERNEL_REACH: f64 = 12.0;

/// ARL of a two-sided EWMA chart `z_i = lambda x_i + (1 - lambda) z_{i-1}`, `z_0 = 0`, of a
/// normal `x` with unit sigma, signalling when `|z_i|` exceeds the asymptotic limit
/// `h = width * sqrt(lambda / (2 - lambda))`, after the mean of `x` shifts by `shift` sigma.
///
/// Markov chain approximation of Brook & Evans (1972), Biometrika 59(3), 539-549, as applied to
/// the EWMA by Lucas & Saccucci (1990), Technometrics 32(1), 1-12: `(-h, h)` is cut into
/// `2m + 1` equal cells, the chain moves from cell midpoint `c_i` to cell `j` with probability
/// `P((1 - lambda) c_i + lambda X in cell j)`, and `(I - Q) ARL = 1` is solved (banded Gaussian
/// elimination) for the middle cell. This is done for `m` and `2m`, with `m >= 50` and cells of
/// at most `lambda / 8` (the kernel's standard deviation is `lambda`), and the two are combined by
/// Richardson extrapolation (the error of the chain falls as the square of the cell width). The
/// result agrees with a 2,401-cell chain to 1e-5 relative and reproduces Lucas & Saccucci's
/// table (lambda 0.5, L 3.071: 500 in control, 17.5 at a shift of 1 sigma, 3.63 at 2 — 499.91,
/// 17.477, 3.6280 here; lambda 0.03, L 2.437: 500, 12.6, 5.99 — 499.86, 12.598, 5.9868).
///
/// Domain: `0 < lambda <= 1`, `width > 0`, all finite. The work is bounded (about 3e7
/// multiply-adds per elimination, tens of milliseconds), so for `lambda` below about 1e-3 the
/// cells are coarsened and the in-control ARL loses accuracy (about 2% at lambda = 1e-4;
/// shifted ARLs stay within 1e-5). An ARL beyond 1e14 points, where the chance of leaving the
/// chain is down to the rounding of the transition probabilities, is reported as
/// `f64::INFINITY`.
pub fn ewma(lambda: f64, width: f64, shift: f64) -> Result<Arl, SpcError> {
    check_finite("lambda", lambda)?;
    check_finite("L", width)?;
    check_finite("shift", shift)?;
    if !(lambda > 0.0 && lambda <= 1.0) {
        return Err(invalid(
            "lambda",
            format!("{lambda} is outside 0 < lambda <= 1"),
        ));
    }
    if width <= 0.0 {
        return Err(invalid(
            "L",
            format!("{width} is not a positive width of the limits"),
        ));
    }
    let h = width * (lambda / (2.0 - lambda)).sqrt();
    if !(h > 0.0 && h.is_finite()) {
        return Err(invalid("L", format!("{width} gives limits of {h} sigma")));
    }
    // Cells of at most lambda / 8 (the kernel's standard deviation), at least 2 * 50 + 1.
    let mut m = (8.0 * h / lambda).ceil().clamp(50.0, 5_000.0) as usize;
    loop {
        let max_cost = if m <= 50 {
            f64::INFINITY
        } else {
            MAX_BAND_COST
        };
        if let Some(fine) = ewma_band(lambda, h, shift, 2 * m, max_cost) {
            let value = |band: Option<Band>, m: usize| {
                band.and_then(Band::solve_ones)
                    .map_or(f64::INFINITY, |x| x[m])
            };
            let coarse = value(ewma_band(lambda, h, shift, m, f64::INFINITY), m);
            let fine = value(Some(fine), 2 * m);
            let (w1, w2) = (1.0 / (2 * m + 1) as f64, 1.0 / (4 * m + 1) as f64);
            return Ok(markov(unresolved_is_infinite(richardson(
                coarse, fine, w1, w2,
            ))));
        }
        m /= 2;
    }
}

/// Richardson extrapolation of a Markov chain approximation whose error falls as the square of
/// the cell width (as it does here: it is a midpoint rule), from cell widths `w1 > w2`. Falls back
/// to the finer value when either is infinite or the two are too far apart to be in the
/// asymptotic regime.
fn richardson(coarse: f64, fine: f64, w1: f64, w2: f64) -> f64 {
    if !(coarse.is_finite() && fine.is_finite()) {
        return fine;
    }
    let extrapolated = fine + (fine - coarse) / ((w1 / w2).powi(2) - 1.0);
    if (fine - coarse).abs() <= 0.05 * fine && extrapolated >= 1.0 {
        extrapolated
    } else {
        fine
    }
}

/// Most multiply-adds one banded elimination may take (a few tens of milliseconds).
const MAX_BAND_COST: f64 = 3e7;

/// `I - Q` of the EWMA chain with `2m + 1` cells, or None if eliminating it would cost more than
/// `max_cost` multiply-adds.
fn ewma_band(lambda: f64, h: f64, shift: f64, m: usize, max_cost: f64) -> Option<Band> {
    let n = 2 * m + 1;
    let w = 2.0 * h / n as f64;
    let reach = KERNEL_REACH * lambda + w;
    let cell = |x: f64| ((x + h) / w).floor();
    // Column range of each row: cells within the kernel's reach of its center.
    let rows: Vec<Option<(usize, usize)>> = (0..n)
        .map(|i| {
            let c = -h + (i as f64 + 0.5) * w;
            let center = (1.0 - lambda) * c + lambda * shift;
            let (lo, hi) = (cell(center - reach), cell(center + reach));
            (hi >= 0.0 && lo <= (n - 1) as f64)
                .then(|| (lo.max(0.0) as usize, (hi.min((n - 1) as f64)) as usize))
        })
        .collect();
    let (kl, ku) = band_widths(&rows);
    if n as f64 * (kl as f64 + 1.0) * (ku as f64 + 1.0) > max_cost {
        return None;
    }
    let mut band = Band::with_ranges(n, &rows);
    for (i, r) in rows.iter().enumerate() {
        let Some((lo, hi)) = *r else { continue };
        let c = -h + (i as f64 + 0.5) * w;
        let center = (1.0 - lambda) * c + lambda * shift;
        for j in lo..=hi {
            let a = (-h + j as f64 * w - center) / lambda;
            let b = (-h + (j + 1) as f64 * w - center) / lambda;
            band.sub(i, j, normal_between(a, b));
        }
    }
    Some(band)
}

/// ARL of a two-sided tabular CUSUM `C+_i = max(0, C+_{i-1} + x_i - k)`,
/// `C-_i = max(0, C-_{i-1} - x_i - k)` of a normal `x` with unit sigma, signalling when either
/// exceeds `h`, both starting at `head_start` (the fast initial response of Lucas & Crosier; 0
/// for none), after the mean of `x` shifts by `shift` sigma.
///
/// Each one-sided CUSUM is the Markov chain of Brook & Evans (1972), "An approach to the
/// probability distribution of cusum run length", Biometrika 59(3), 539-549: state 0 is
/// `C <= w/2` (including the atom at 0) and state `i` is `C` in `((i - 1/2) w, (i + 1/2) w]`, with
/// `w = 2h / (2N - 1)` so that the last cell ends at `h`; `(I - Q) ARL = 1` is solved, and the
/// head start is placed exactly with one step of the chain from the value `head_start`. This is
/// done with `N` and `2N` states (`N = 15 h` clamped to 50 ..= 500) and Richardson-extrapolated
/// (the error falls as the square of the cell width): for k = 0.5, h = 4 the result agrees with
/// a 1,600-state chain to 1e-6 relative.
///
/// The two sides are combined as in Lucas & Crosier (1982), Technometrics 24(3), 199-205,
/// appendix A.1. With `U(s)`, `D(s)` the one-sided ARLs of the upper and lower sums started at
/// `s`, and `s` the head start:
///
/// `ARL = (U(s) D(0) + D(s) U(0) - U(0) D(0)) / (U(0) + D(0))`,
///
/// which without a head start is the familiar `1/ARL = 1/U(0) + 1/D(0)`. The derivation: when the
/// lower sum signals first, the upper sum is at 0 and starts afresh, so
/// `U(s) = ARL + P(lower first) U(0)`, likewise for the lower sum, and the two probabilities add
/// to 1. It is therefore exact (up to the discretization) whenever one sum is at 0 at the moment
/// the other signals. That holds for any head start up to `h/2 + k`: the two sums can be
/// positive together only while their total, at most `max(2s, h) - 2k` at the start of such a
/// stretch, falls by `2k` a point, so it never exceeds `h`. For a larger head start it is an
/// approximation. (The plain harmonic formula with head-start one-sided ARLs, by contrast, is
/// wrong: 158 instead of 149 below.)
///
/// Reproduces Lucas & Crosier's k = 0.5, h = 4: 168 in control and 8.38 at a 1 sigma shift
/// (167.68 and 8.383 here), 149 and 5.29 with a head start of h/2 (148.69 and 5.287; a
/// simulation of 400,000 runs gives 148.60 ± 0.26 and 5.291 ± 0.007).
///
/// Domain: `k >= 0`, `h > 0`, `0 <= head_start <= h`, all finite. A one-sided ARL beyond 1e14
/// points, where the chance of leaving is down to the rounding of the transition probabilities,
/// counts as infinite.
pub fn cusum(k: f64, h: f64, head_start: f64, shift: f64) -> Result<Arl, SpcError> {
    check_finite("k", k)?;
    check_finite("h", h)?;
    check_finite("head start", head_start)?;
    check_finite("shift", shift)?;
    if k < 0.0 {
        return Err(invalid(
            "k",
            format!("{k} is negative: the reference value k is >= 0"),
        ));
    }
    if h <= 0.0 {
        return Err(invalid(
            "h",
            format!("{h} is not a positive decision interval"),
        ));
    }
    if !(0.0..=h).contains(&head_start) {
        return Err(invalid(
            "head start",
            format!("{head_start} is outside 0 ..= h ({h})"),
        ));
    }
    let up0 = cusum_one_sided(k, h, 0.0, shift);
    let down0 = cusum_one_sided(k, h, 0.0, -shift);
    if head_start == 0.0 {
        return Ok(markov(combine(up0, down0, up0, down0)));
    }
    let up = cusum_one_sided(k, h, head_start, shift);
    let down = cusum_one_sided(k, h, head_start, -shift);
    Ok(markov(combine(up, down, up0, down0)))
}

/// One-sided (upper) CUSUM ARL: Brook & Evans chains with `n` and `2n` states (cells of at
/// most 1/15 sigma, `n` from 50 to 500), Richardson-extrapolated; infinite when it cannot be
/// resolved.
fn cusum_one_sided(k: f64, h: f64, start: f64, shift: f64) -> f64 {
    let n = ((15.0 * h).ceil() as usize).clamp(50, 500);
    let coarse = cusum_chain(k, h, start, shift, n);
    let fine = cusum_chain(k, h, start, shift, 2 * n);
    let (w1, w2) = (1.0 / (2 * n - 1) as f64, 1.0 / (4 * n - 1) as f64);
    unresolved_is_infinite(richardson(coarse, fine, w1, w2))
}

/// Two-sided ARL from the one-sided ARLs with the head start (`up`, `down`) and from zero
/// (`up0`, `down0`): `(up down0 + down up0 - up0 down0) / (up0 + down0)`, which is
/// `1 / (1/up0 + 1/down0)` without a head start.
fn combine(up: f64, down: f64, up0: f64, down0: f64) -> f64 {
    match (up0.is_finite(), down0.is_finite()) {
        (false, false) => f64::INFINITY,
        (false, true) => down,
        (true, false) => up,
        (true, true) => (up * down0 + down * up0 - up0 * down0) / (up0 + down0),
    }
}

/// One-sided (upper) CUSUM ARL by the Brook & Evans chain with `n` states; infinite when the
/// system is singular.
fn cusum_chain(k: f64, h: f64, start: f64, shift: f64, n: usize) -> f64 {
    let w = 2.0 * h / (2 * n - 1) as f64;
    // Probabilities of moving from value `c` to each state (row of Q), over the reachable range.
    let row = |c: f64| -> Option<(usize, usize)> {
        let center = c - k + shift;
        let lo = ((center - KERNEL_REACH) / w - 0.5).floor();
        let hi = ((center + KERNEL_REACH) / w + 0.5).ceil();
        // State 0 collects everything at or below w/2, however far below.
        (lo <= (n - 1) as f64).then(|| {
            (
                lo.clamp(0.0, (n - 1) as f64) as usize,
                hi.clamp(0.0, (n - 1) as f64) as usize,
            )
        })
    };
    let prob = |c: f64, j: usize| -> f64 {
        let center = c - k + shift;
        let b = (j as f64 + 0.5) * w - center;
        if j == 0 {
            normal_cdf(b)
        } else {
            normal_between((j as f64 - 0.5) * w - center, b)
        }
    };
    let rows: Vec<Option<(usize, usize)>> = (0..n).map(|i| row(i as f64 * w)).collect();
    let mut band = Band::with_ranges(n, &rows);
    for (i, r) in rows.iter().enumerate() {
        let Some((lo, hi)) = *r else { continue };
        for j in lo..=hi {
            band.sub(i, j, prob(i as f64 * w, j));
        }
    }
    let Some(arl) = band.solve_ones() else {
        return f64::INFINITY;
    };
    // One step from the exact starting value.
    let mut value = 1.0;
    if let Some((lo, hi)) = row(start) {
        for (j, x) in arl.iter().enumerate().take(hi + 1).skip(lo) {
            value += prob(start, j) * x;
        }
    }
    value
}

/// ARLs beyond this are reported as infinite by [`ewma`] and [`cusum`]: the chance of leaving
/// the chain in one step is then about 1e-14 or less, the size of the rounding in `1 - sum Q`.
const RESOLVABLE_ARL: f64 = 1e14;

fn unresolved_is_infinite(arl: f64) -> f64 {
    if arl > RESOLVABLE_ARL {
        f64::INFINITY
    } else {
        arl
    }
}

/// Sub- and super-diagonals needed for these column ranges (and the diagonal).
fn band_widths(rows: &[Option<(usize, usize)>]) -> (usize, usize) {
    let mut kl = 0;
    let mut ku = 0;
    for (i, r) in rows.iter().enumerate() {
        if let Some((lo, hi)) = *r {
            kl = kl.max(i.saturating_sub(lo));
            ku = ku.max(hi.saturating_sub(i));
        }
    }
    (kl, ku)
}

/// `I - Q` for a band matrix `Q`, stored by rows with `kl` sub- and `ku` super-diagonals.
struct Band {
    n: usize,
    kl: usize,
    ku: usize,
    a: Vec<f64>,
}

impl Band {
    /// The identity, with room for the column ranges `rows` (None: an empty row).
    fn with_ranges(n: usize, rows: &[Option<(usize, usize)>]) -> Band {
        let (kl, ku) = band_widths(rows);
        let width = kl + ku + 1;
        let mut a = vec![0.0; n * width];
        for i in 0..n {
            a[i * width + kl] = 1.0;
        }
        Band { n, kl, ku, a }
    }

    fn at(&self, i: usize, j: usize) -> usize {
        i * (self.kl + self.ku + 1) + (j + self.kl - i)
    }

    /// `A[i][j] -= q` (`j` within the band).
    fn sub(&mut self, i: usize, j: usize, q: f64) {
        let at = self.at(i, j);
        self.a[at] -= q;
    }

    /// Solves `(I - Q) x = 1` by banded Gaussian elimination without pivoting. `I - Q` with `Q`
    /// substochastic is an M-matrix (weakly row diagonally dominant), for which elimination
    /// without pivoting is stable and keeps the band. None when a pivot is not positive, which
    /// happens only when leaving the chain is too unlikely to resolve in double precision.
    fn solve_ones(mut self) -> Option<Vec<f64>> {
        let (n, kl, ku) = (self.n, self.kl, self.ku);
        let width = kl + ku + 1;
        let mut b = vec![1.0; n];
        for p in 0..n {
            let piv = self.a[p * width + kl];
            if !(piv > 0.0 && piv.is_finite()) {
                return None;
            }
            // Columns p+1 .. end of row p's band.
            let cols = n.min(p + ku + 1) - (p + 1);
            for i in p + 1..n.min(p + kl + 1) {
                let (top, bottom) = self.a.split_at_mut(i * width);
                let pivot_row = &top[p * width + kl + 1..p * width + kl + 1 + cols];
                // Column p of row i, then columns p+1 ..
                let at = kl + p - i;
                let f = bottom[at] / piv;
                if f == 0.0 {
                    continue;
                }
                bottom[at] = 0.0;
                for (x, y) in bottom[at + 1..at + 1 + cols].iter_mut().zip(pivot_row) {
                    *x -= f * y;
                }
                b[i] -= f * b[p];
            }
        }
        for p in (0..n).rev() {
            let cols = n.min(p + ku + 1) - (p + 1);
            let row = &self.a[p * width + kl..p * width + kl + 1 + cols];
            let s: f64 = row[1..]
                .iter()
                .zip(&b[p + 1..p + 1 + cols])
                .map(|(x, y)| x * y)
                .sum();
            b[p] = (b[p] - s) / row[0];
        }
        b.iter()
            .all(|x| x.is_finite() && *x >= 1.0 - 1e-9)
            .then_some(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: f64, want: f64, tol: f64, what: &str) {
        assert!(
            (got - want).abs() <= tol,
            "{what}: got {got}, want {want} ± {tol}"
        );
    }

    fn only(rules: &[NelsonRule]) -> RuleSet {
        RuleSet::only(rules)
    }

    #[test]
    fn champ_woodall_table_by_markov_chain() {
        use NelsonRule::*;
        let sets: [(&str, RuleSet, [f64; 3]); 4] = [
            ("test 1", only(&[Beyond]), [370.40, 43.89, 6.30]),
            ("tests 1 + 5", only(&[Beyond, ZoneA]), [225.44, 20.01, 3.65]),
            ("tests 1 + 6", only(&[Beyond, ZoneB]), [166.05, 12.66, 3.68]),
            (
                "tests 1 + 2 (K 8)",
                only(&[Beyond, SameSide]).with_k(SameSide, 8.0).unwrap(),
                [152.73, 14.58, 4.89],
            ),
        ];
        for (name, rules, want) in sets {
            for (shift, want) in [0.0, 1.0, 2.0].into_iter().zip(want) {
                let a = shewhart_markov(&rules, shift).unwrap();
                assert_eq!(a.method, ArlMethod::MarkovChain);
                // The table is rounded to 2 decimals.
                close(a.value, want, 0.02, &format!("{name} at shift {shift}"));
                // And `shewhart` takes the same path.
                assert_eq!(shewhart(&rules, shift).unwrap(), a);
            }
        }
        let we = shewhart_markov(&RuleSet::western_electric(), 0.0).unwrap();
        close(we.value, 91.75, 0.02, "Western Electric in control");
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
    fn markov_rejects_tests_3_and_4_and_bad_shift() {
        assert!(shewhart_markov(&only(&[NelsonRule::Beyond, NelsonRule::Trend]), 0.0).is_err());
        assert!(shewhart_markov(&only(&[NelsonRule::Alternating]), 0.0).is_err());
        assert!(shewhart_markov(&only(&[NelsonRule::Beyond]), f64::NAN).is_err());
        assert!(shewhart(&only(&[NelsonRule::Beyond]), f64::INFINITY).is_err());
    }

    #[test]
    fn iteration_agrees_with_direct_solution() {
        use NelsonRule::*;
        for rules in [
            RuleSet::western_electric(),
            only(&[Beyond, ZoneA, Stratification, Mixture]),
            only(&[SameSide, ZoneB]),
        ] {
            for shift in [0.0, 0.5, 2.0] {
                let chain = ZoneChain::build(&rules, shift).unwrap();
                let direct = chain.arl_dense().unwrap();
                let iterated = chain.arl_iterated().unwrap();
                close(iterated, direct, 1e-7 * direct, "iterated vs direct");
            }
        }
    }

    #[test]
    fn full_zone_set_chain_size() {
        use NelsonRule::*;
        let rules = only(&[Beyond, SameSide, ZoneA, ZoneB, Stratification, Mixture]);
        let chain = ZoneChain::build(&rules, 0.0).unwrap();
        assert_eq!(chain.states, 723);
        let a = shewhart_markov(&rules, 0.0).unwrap().value;
        // No published value for this set: check against the simulation (3,000 runs, SE ~ 1.8).
        let sim = shewhart_simulated(&rules, 0.0, 3_000, 3);
        close(a, sim.value, 4.0 * sim.std_error.unwrap(), "full zone set");
    }

    #[test]
    fn degenerate_chains() {
        use NelsonRule::*;
        // Test 2 alone at a huge shift: every point above, so the 9th point signals.
        close(
            shewhart_markov(&only(&[SameSide]), 60.0).unwrap().value,
            9.0,
            1e-9,
            "9 in a row",
        );
        // Test 7 alone at a huge shift: no point is ever within 1 sigma.
        assert_eq!(
            shewhart_markov(&only(&[Stratification]), 60.0)
                .unwrap()
                .value,
            f64::INFINITY
        );
        // K = 1 for test 2: any point off the center line.
        let any = only(&[SameSide]).with_k(SameSide, 1.0).unwrap();
        close(
            shewhart_markov(&any, 0.3).unwrap().value,
            1.0,
            1e-12,
            "K = 1",
        );
        // Test 7 with a long K: a long ARL, still resolved (geometric tail).
        let strat = only(&[Stratification])
            .with_k(Stratification, 60.0)
            .unwrap();
        let v = shewhart_markov(&strat, 0.0).unwrap().value;
        // ARL of K successes in a row with p = P(|Z| <= 1): (1 - p^K) / ((1 - p) p^K).
        let p = normal_between(-1.0, 1.0);
        let exact = (1.0 - p.powi(60)) / ((1.0 - p) * p.powi(60));
        close(v, exact, 1e-8 * exact, "test 7, K 60");
        // Too large a chain: Err for the Markov path, simulation for `shewhart`.
        let huge = only(&[Beyond, SameSide, Stratification])
            .with_k(Stratification, 1e9)
            .unwrap()
            .with_k(SameSide, 1e9)
            .unwrap();
        assert!(shewhart_markov(&huge, 0.0).is_err());
        let a = shewhart(&huge, 2.0).unwrap();
        assert!(matches!(a.method, ArlMethod::Simulation { .. }));
        close(
            a.value,
            6.30,
            5.0 * a.std_error.unwrap(),
            "test 1 via fallback at shift 2",
        );
    }

    /// The chain's transition function against the detector itself, point by point, on random
    /// points that often sit exactly on a zone boundary.
    #[test]
    fn chain_steps_match_the_detector() {
        use NelsonRule::*;
        let sets = [
            RuleSet::western_electric(),
            only(&[Beyond, SameSide, ZoneA, ZoneB, Stratification, Mixture]),
            only(&[Beyond, SameSide, ZoneA, ZoneB, Stratification, Mixture])
                .with_k(Beyond, 1.5)
                .unwrap()
                .with_k(SameSide, 3.0)
                .unwrap()
                .with_k(ZoneA, 3.0)
                .unwrap()
                .with_k(ZoneB, 2.0)
                .unwrap()
                .with_k(Stratification, 4.0)
                .unwrap()
                .with_k(Mixture, 3.0)
                .unwrap(),
            only(&[ZoneA, ZoneB, SameSide])
                .with_k(ZoneA, 1.0)
                .unwrap()
                .with_k(ZoneB, 7.0)
                .unwrap()
                .with_k(SameSide, 1.0)
                .unwrap(),
            only(&[Beyond, ZoneB, Mixture]).with_k(Beyond, 0.5).unwrap(),
            only(&[ZoneA]).with_k(ZoneA, 5.0).unwrap(),
        ];
        let mut rng = Rng::new(7);
        for rules in sets {
            let tests = ZoneTests::new(&rules);
            let k1 = rules.k(Beyond);
            let edges = [0.0, 1.0, -1.0, 2.0, -2.0, k1, -k1];
            let mut detector = RuleDetector::new(rules.clone());
            let mut state = ZoneState::START;
            let mut out = Vec::new();
            let mut fired_count = 0;
            for i in 0..20_000 {
                let u = rng.next_u64();
                let pick = u % 5;
                let z = if pick == 0 {
                    edges[(u >> 8) as usize % edges.len()]
                } else {
                    // Heavy enough tails to reach every zone often.
                    2.2 * rng.normal()
                };
                let side = LimitSide::of_z(z, k1);
                out.clear();
                detector.push(z, z, side, &mut out);
                let (next, fired) = tests.step(&state, z);
                assert_eq!(
                    fired,
                    !out.is_empty(),
                    "{rules:?}: point {i} (z = {z}): {out:?}"
                );
                fired_count += usize::from(fired);
                state = next;
            }
            assert!(fired_count > 10, "{rules:?}: only {fired_count} signals");
        }
    }

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
    /// `arl_montecarlo` example runs the full budget.
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

    #[test]
    fn ewma_lucas_saccucci() {
        for (lambda, width, want) in [
            (0.5, 3.071, [500.0, 17.5, 3.63]),
            (0.03, 2.437, [500.0, 12.6, 5.99]),
        ] {
            for (shift, want) in [0.0, 1.0, 2.0].into_iter().zip(want) {
                let a = ewma(lambda, width, shift).unwrap();
                assert_eq!(a.method, ArlMethod::MarkovChain);
                close(
                    a.value,
                    want,
                    0.01 * want,
                    &format!("EWMA {lambda} {width} at {shift}"),
                );
            }
        }
        // Symmetric in the shift, and lambda = 1 is the Shewhart chart with limits at L.
        let (up, down) = (ewma(0.2, 2.9, 0.7).unwrap(), ewma(0.2, 2.9, -0.7).unwrap());
        close(up.value, down.value, 1e-9 * up.value, "symmetry");
        close(ewma(1.0, 3.0, 0.0).unwrap().value, 370.40, 0.01, "lambda 1");
    }

    #[test]
    fn cusum_lucas_crosier() {
        for (head_start, want) in [(0.0, [168.0, 8.38]), (2.0, [149.0, 5.29])] {
            for (shift, want) in [0.0, 1.0].into_iter().zip(want) {
                let a = cusum(0.5, 4.0, head_start, shift).unwrap();
                close(
                    a.value,
                    want,
                    0.015 * want,
                    &format!("CUSUM head {head_start} at {shift}"),
                );
            }
        }
        // k = 0, h tiny: almost every point signals; a huge shift signals at once.
        let a = cusum(0.5, 4.0, 0.0, 50.0).unwrap().value;
        close(a, 1.0, 1e-9, "huge shift");
        assert!(cusum(0.0, 1e-6, 0.0, 0.0).unwrap().value < 1.1);
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
