//! Shewhart charts with zone-based tests (1, 2, 5, 6, 7, 8) as a finite Markov chain on what
//! the tests still remember (Champ & Woodall 1987), solved by iterating the distribution over
//! the transient states, or directly for a small chain that does not converge.

use super::{check_finite, markov, normal_between, Arl};
use crate::error::{invalid, SpcError};
use crate::rules::{NelsonRule, RuleSet};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Largest zone chain [`shewhart_markov`] builds.
const MAX_STATES: usize = 100_000;
/// Chains up to this size are solved directly (dense Gaussian elimination) if the iteration
/// does not converge.
const DENSE_MAX: usize = 1_000;
/// Most power-iteration steps, and most multiply-adds over all steps.
const MAX_ITERATIONS: usize = 200_000;
const MAX_WORK: usize = 1_000_000_000;

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
    /// fires at it. Mirrors [`crate::RuleDetector::push`] for tests 1, 2, 5, 6, 7, 8.
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
        zones(cuts, shift)
    }
}

/// Zones `(probability, representative z)` between consecutive cuts (in any order, repeats
/// allowed) for a normal point of mean `shift`, dropping zones of probability 0.
pub(super) fn zones(mut cuts: Vec<f64>, shift: f64) -> Vec<(f64, f64)> {
    cuts.retain(|c| c.is_finite());
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

/// The transient part of the zone chain: for each state and zone, the next state (or
/// [`ABSORB`]).
pub(super) struct ZoneChain {
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
    pub(super) fn build(rules: &RuleSet, shift: f64) -> Result<ZoneChain, SpcError> {
        let tests = ZoneTests::new(rules);
        let zones = tests.zones(shift);
        ZoneChain::explore(ZoneState::START, ZoneState::key, &zones, |s, z| {
            tests.step(s, z)
        })
    }

    /// The chain of any zone-based detector: its states reachable from `start` by one step per
    /// zone `(probability, representative z)` of positive probability; `step` gives the next
    /// state and whether a rule fires (absorbing). `key` identifies a state.
    pub(super) fn explore<S: Clone, K: std::hash::Hash + Eq>(
        start: S,
        key: impl Fn(&S) -> K,
        zones: &[(f64, f64)],
        step: impl Fn(&S, f64) -> (S, bool),
    ) -> Result<ZoneChain, SpcError> {
        let nz = zones.len();
        let mut index: HashMap<K, u32, BuildHasherDefault<KeyHasher>> = HashMap::default();
        index.insert(key(&start), 0);
        let mut states = vec![start];
        let mut next = Vec::new();
        let mut absorb = Vec::new();
        // Breadth-first depth of each state: the iteration must not stop before the deepest
        // states can be occupied (until then the hazard can sit on a plateau, e.g. for the
        // first K - 1 points of test 2 only test 1 can fire).
        let mut depth = vec![0usize];
        let mut s = 0;
        while s < states.len() {
            let here = states[s].clone();
            let mut a = 0.0;
            for &(p, z) in zones {
                let (to, fired) = step(&here, z);
                if fired {
                    next.push(ABSORB);
                    a += p;
                    continue;
                }
                let id = match index.get(&key(&to)) {
                    Some(&id) => id,
                    None => {
                        if states.len() >= MAX_STATES {
                            return Err(invalid(
                                "tests",
                                format!(
                                    "the Markov chain of these tests would exceed {MAX_STATES} \
                                     states (runs or windows too long); use \
                                     arl::shewhart or arl::shewhart_simulated"
                                ),
                            ));
                        }
                        let id = states.len() as u32;
                        index.insert(key(&to), id);
                        states.push(to);
                        depth.push(depth[s] + 1);
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
    pub(super) fn arl(&self) -> Result<f64, SpcError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arl::tests::{close, only};
    use crate::arl::*;
    use crate::rng::Rng;
    use crate::rules::{LimitSide, RuleDetector};

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
}
