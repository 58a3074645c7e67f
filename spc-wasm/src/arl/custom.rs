//! ARL of a rule set with named rules ([`crate::custom`]): every rule, Nelson's tests included
//! (as [`crate::custom::nelson_pattern`]), becomes a pattern of the language; a set of
//! zone-based patterns is a Markov chain on what each rule remembers (Champ & Woodall 1987,
//! generalized), anything else is simulated.
#![cfg_attr(not(feature = "rule-language"), allow(dead_code, unused_imports))]

use super::simulation::{budgeted, Runs};
use super::zone::{zones, ZoneChain};
use super::{check_finite, markov, table, Arl};
use crate::custom::{
    detect::hits, nelson_pattern, CustomDetector, CustomRule, CustomRules, Level, Pattern,
    PointTest,
};
use crate::error::{invalid, SpcError};
use crate::rng::Rng;
use crate::rules::{LimitSide, NelsonRule, RuleSet};

/// Longest K-of-N window (K < N) the chain remembers as a bit mask.
const MAX_CHAIN_WINDOW: u32 = 64;

/// ARL of a Shewhart chart running `rules` (Nelson's tests and named rules), in control or
/// after a shift of `shift` sigma, for a normal statistic with center and sigma `scale` (needed
/// only by rules with fixed values: thresholds and spec limits become distances in sigma).
/// Warning rules are left out: this is the run length to a false *rejection*. Test 1's K is the
/// width of the control limits (`beyond limits`).
///
/// When every rule depends only on the zone of each point (all but trends and alternations),
/// this is exact by the Markov chain of Champ & Woodall (1987), "Exact results for Shewhart
/// control charts with supplementary runs rules", Technometrics 29(4), 393-399, built on what
/// each rule remembers: a run length, or for K of N (K < N, N <= 64) which of the last N - 1
/// points met it; solved as [`super::shewhart_markov`] is. Otherwise, or when the chain would be
/// too large, it is simulated as [`super::shewhart`] simulates (seeded, a budget of about 20
/// million points), feeding the points to the very detector the charts use. Answers are kept
/// for the life of the process.
///
/// Without named rules this is [`super::shewhart`].
pub fn with_rules(rules: &RuleSet, shift: f64, scale: Option<(f64, f64)>) -> Result<Arl, SpcError> {
    check_finite("shift", shift)?;
    if rules.custom().is_empty() {
        return super::shewhart(rules, shift);
    }
    #[cfg(not(feature = "rule-language"))]
    return {
        let _ = scale;
        Err(invalid(
            "tests",
            "the ARL of named rules is computed where the rule language is (the dashboard's rule \
             editor, `analyze`), not in this build",
        ))
    };
    #[cfg(feature = "rule-language")]
    {
        let key = format!("{rules:?}|{:x}|{scale:?}", shift.to_bits());
        table::cached_as(key, || {
            let compiled = Compiled::new(rules, scale)?;
            if compiled.rules.is_empty() {
                return Ok(markov(f64::INFINITY));
            }
            if let Some(value) = compiled.chain(shift).and_then(|c| c.arl().ok()) {
                return Ok(markov(value));
            }
            budgeted(&mut Simulated {
                compiled: &compiled,
                shift,
                out: Vec::new(),
            })
        })
    }
}

/// The rejection rules of a set, Nelson's as patterns, on one scale.
struct Compiled {
    rules: CustomRules,
    thresholds: Vec<f64>,
    width: f64,
    center: f64,
    sigma: f64,
}

impl Compiled {
    fn new(set: &RuleSet, scale: Option<(f64, f64)>) -> Result<Compiled, SpcError> {
        let custom = set.custom();
        if custom.has_thresholds() && scale.is_none() {
            return Err(invalid(
                "tests",
                "rules with fixed values need the process center and sigma for an ARL",
            ));
        }
        let (lsl, usl) = custom.spec_limits();
        let mut rules = CustomRules::default().with_spec_limits(lsl, usl);
        for test in set.rules() {
            rules.push(CustomRule {
                name: test.to_string(),
                text: String::new(),
                pattern: nelson_pattern(test, set.k(test)),
                warning: false,
            });
        }
        custom
            .rules()
            .iter()
            .filter(|r| !r.warning)
            .for_each(|r| rules.push(r.clone()));
        let thresholds = CustomDetector::new(rules.clone()).thresholds().to_vec();
        let (center, sigma) = scale.unwrap_or((0.0, 1.0));
        Ok(Compiled {
            rules,
            thresholds,
            width: set.k(NelsonRule::Beyond),
            center,
            sigma,
        })
    }

    /// The chain, when every rule is zone-based and small enough to remember.
    fn chain(&self, shift: f64) -> Option<ZoneChain> {
        let fits = |p: &Pattern| match *p {
            Pattern::Points { k, n, .. } => k == n || n <= MAX_CHAIN_WINDOW,
            p => p.zone_based(),
        };
        if !self.rules.rules().iter().all(|r| fits(&r.pattern)) {
            return None;
        }
        let zones = zones(self.cuts(), shift);
        let start = vec![0u64; 2 * self.rules.rules().len()];
        ZoneChain::explore(start, Vec::clone, &zones, |s, z| self.step(s, z)).ok()
    }

    /// Every z at which some rule's test changes.
    fn cuts(&self) -> Vec<f64> {
        let mut cuts = vec![0.0, self.width, -self.width];
        let (lsl, usl) = self.rules.spec_limits();
        let to_z = |x: f64| (x - self.center) / self.sigma;
        for (r, &t) in self.rules.rules().iter().zip(&self.thresholds) {
            match r.pattern {
                Pattern::Points { test, .. } => match test {
                    PointTest::Beyond {
                        level: Level::Sigma(s),
                        ..
                    }
                    | PointTest::Within(s) => cuts.extend([s, -s]),
                    PointTest::Beyond {
                        level: Level::Limits,
                        ..
                    } => {}
                    PointTest::Beyond {
                        level: Level::Value(_),
                        ..
                    } => cuts.push(to_z(t)),
                    PointTest::OutsideSpec => {
                        cuts.extend(lsl.map(to_z));
                        cuts.extend(usl.map(to_z));
                    }
                },
                Pattern::OppositeSides { z, .. } => cuts.extend([z, -z]),
                _ => {}
            }
        }
        cuts
    }

    /// The chain's step: each rule's memory after a point at `z`, and whether one fires.
    /// Mirrors [`CustomDetector::push`] for zone-based patterns (a test checks it).
    fn step(&self, s: &[u64], z: f64) -> (Vec<u64>, bool) {
        let mut next = s.to_vec();
        let mut fired = false;
        let statistic = self.center + self.sigma * z;
        let side = LimitSide::of_z(z, self.width);
        let (lsl, usl) = self.rules.spec_limits();
        for (i, r) in self.rules.rules().iter().enumerate() {
            let memory = &mut next[2 * i..2 * i + 2];
            match r.pattern {
                Pattern::Points { k, n, test } => {
                    let hit = hits(test, statistic, z, side, self.thresholds[i], lsl, usl);
                    for (m, hit) in memory.iter_mut().zip(hit) {
                        if k == n {
                            fired |= hit && *m + 1 >= u64::from(n);
                            *m = if hit { (*m + 1).min(u64::from(n)) } else { 0 };
                        } else {
                            fired |= hit && u64::from(m.count_ones()) + 1 >= u64::from(k);
                            let keep = u64::MAX >> (65 - n);
                            *m = ((*m << 1) | u64::from(hit)) & keep;
                        }
                    }
                }
                Pattern::OppositeSides { n, z: level } => {
                    let sign = i64::from(z > level) - i64::from(z < -level);
                    // The last point's side: 0 none, 1 above, 2 below.
                    let last = match memory[1] {
                        1 => 1,
                        2 => -1,
                        _ => 0,
                    };
                    let run = match sign {
                        0 => 0,
                        s if s == -last && memory[0] > 0 => memory[0] + 1,
                        _ => 1,
                    };
                    fired |= run >= u64::from(n);
                    memory[0] = run.min(u64::from(n));
                    memory[1] = match sign {
                        1 => 1,
                        -1 => 2,
                        _ => 0,
                    };
                }
                // Not zone-based: `chain` builds no chain for them.
                Pattern::Trend { .. } | Pattern::Alternating { .. } => {}
            }
        }
        (next, fired)
    }
}

/// Seeded runs of the detector on `z ~ N(shift, 1)`, the statistic `center + sigma z`.
struct Simulated<'a> {
    compiled: &'a Compiled,
    shift: f64,
    out: Vec<crate::custom::RuleSignal>,
}

impl Runs for Simulated<'_> {
    fn run(&mut self, rng: &mut Rng, cap: u64) -> (u64, bool) {
        let c = self.compiled;
        let mut detector = CustomDetector::new(c.rules.clone());
        self.out.clear();
        for i in 0..cap {
            let z = self.shift + rng.normal();
            let side = LimitSide::of_z(z, c.width);
            detector.push(c.center + c.sigma * z, z, side, &mut self.out);
            if !self.out.is_empty() {
                return (i + 1, false);
            }
        }
        (cap, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arl::tests::close;
    use crate::arl::{shewhart, shewhart_markov, shewhart_simulated, ArlMethod};
    use crate::custom::{NELSON_TEXT, WESTERN_ELECTRIC_TEXT, WESTGARD_TEXT};
    use crate::math::normal_sf;

    fn set(text: &str) -> RuleSet {
        text.parse().unwrap()
    }

    fn chain_arl(text: &str, shift: f64) -> f64 {
        let a = with_rules(&set(text), shift, None).unwrap();
        assert_eq!(a.method, ArlMethod::MarkovChain, "{text}");
        a.value
    }

    /// Champ & Woodall (1987), table 1, with the rules written in the language.
    #[test]
    fn champ_woodall_table_in_the_language() {
        let cases = [
            ("a: 1 beyond limits", [370.40, 43.89, 6.30]),
            (
                "a: 1 beyond 3s; b: 2 of 3 beyond 2s same side",
                [225.44, 20.01, 3.65],
            ),
            (
                "a: 1 beyond 3s; b: 4 of 5 beyond 1s same side",
                [166.05, 12.66, 3.68],
            ),
            (
                "a: 1 beyond 3s; b: 8 in a row on one side",
                [152.73, 14.58, 4.89],
            ),
        ];
        for (text, want) in cases {
            for (shift, want) in [0.0, 1.0, 2.0].into_iter().zip(want) {
                close(chain_arl(text, shift), want, 0.02, text);
            }
        }
        close(
            chain_arl(WESTERN_ELECTRIC_TEXT, 0.0),
            91.75,
            0.02,
            "Western Electric",
        );
    }

    /// The language's zone-based Nelson tests against the built-in chain, to rounding.
    #[test]
    fn zone_tests_agree_with_the_builtin_chain() {
        let zone_only: String = NELSON_TEXT
            .lines()
            .filter(|l| !l.contains("rising") && !l.contains("alternating"))
            .collect::<Vec<_>>()
            .join("\n");
        let builtin = set("1,2,5,6,7,8");
        for shift in [0.0, 0.5, 1.0, 2.0] {
            let want = shewhart_markov(&builtin, shift).unwrap().value;
            let got = chain_arl(&zone_only, shift);
            close(got, want, 1e-9 * want, "Nelson's zone tests");
            // Nelson's tests by number in a set with a named rule take the same path.
            let mixed = set("1,2,5,6,7,8; never: 1 beyond 40s");
            let mixed = with_rules(&mixed, shift, None).unwrap().value;
            close(mixed, want, 1e-9 * want, "numbers and a named rule");
        }
    }

    /// Single-point rules: the false-rejection probability per point is exact. The figures
    /// quoted for Westgard's single rules with one control measurement per run, about 4.5 % for
    /// 1-2s and 0.27 % for 1-3s, are the normal tails 2 P(Z > 2) and 2 P(Z > 3).
    #[test]
    fn westgard_single_rules_false_rejection() {
        let p12 = 1.0 / chain_arl("1-2s: 1 beyond 2s", 0.0);
        close(p12, 2.0 * normal_sf(2.0), 1e-12, "1-2s per point");
        close(p12, 0.0455, 5e-5, "1-2s about 4.55 %");
        let p13 = 1.0 / chain_arl("1-3s: 1 beyond 3s", 0.0);
        close(p13, 0.0027, 1e-5, "1-3s about 0.27 %");
        // 2 in a row beyond 2s on one named side: the expected wait for a run of 2 successes
        // of probability p = P(Z > 2) is (1 + p) / p^2 (Feller 1968, XIII.7).
        let p = normal_sf(2.0);
        let one_side = (1.0 + p) / (p * p);
        let above = chain_arl("2-2s: 2 in a row beyond 2s above", 0.0);
        close(above, one_side, 1e-9 * one_side, "2 in a row above 2s");
    }

    /// The Westgard set: the warning rule is left out, and the chain agrees with a seeded
    /// simulation of the detector (4,000 runs, within 4 standard errors).
    #[test]
    fn westgard_chain_against_simulation() {
        let westgard = set("westgard");
        let rejections: String = WESTGARD_TEXT.lines().skip(1).collect::<Vec<_>>().join("\n");
        let a = with_rules(&westgard, 0.0, None).unwrap();
        assert_eq!(a, with_rules(&set(&rejections), 0.0, None).unwrap());
        assert_eq!(a.method, ArlMethod::MarkovChain);
        let compiled = Compiled::new(&westgard, None).unwrap();
        let mut sim = Simulated {
            compiled: &compiled,
            shift: 0.0,
            out: Vec::new(),
        };
        let s = super::super::simulation::simulate(&mut sim, 4_000, 1981);
        close(
            s.value,
            a.value,
            4.0 * s.std_error.unwrap(),
            "Westgard by simulation",
        );
        // Only warnings: nothing to reject.
        let warn = with_rules(&set("w: 1 beyond 2s, warning"), 0.0, None).unwrap();
        assert_eq!(warn.value, f64::INFINITY);
    }

    /// A trend is simulated, with the same seeds as the built-in test 3, so the very same
    /// value.
    #[test]
    fn trends_are_simulated_like_the_builtin() {
        let named = with_rules(&set("t: 3 rising or falling"), 0.5, None).unwrap();
        assert!(matches!(named.method, ArlMethod::Simulation { .. }));
        let rules = RuleSet::only(&[NelsonRule::Trend])
            .with_k(NelsonRule::Trend, 3.0)
            .unwrap();
        assert_eq!(named, shewhart(&rules, 0.5).unwrap());
        let ArlMethod::Simulation { runs, seed } = named.method else {
            unreachable!()
        };
        assert_eq!(shewhart_simulated(&rules, 0.5, runs, seed), named);
    }

    /// Fixed values become distances in sigma once the center and sigma are known.
    #[test]
    fn thresholds_and_spec_limits() {
        let scale = Some((10.0, 2.0));
        let above = with_rules(&set("a: 1 above 16"), 0.0, scale).unwrap();
        close(
            above.value,
            1.0 / normal_sf(3.0),
            1e-6,
            "1 above 16 = 3 sigma",
        );
        let usl = set("a: 1 above usl - 2").with_spec_limits(None, Some(18.0));
        close(
            with_rules(&usl, 0.0, scale).unwrap().value,
            above.value,
            1e-9,
            "usl - 2 = 16",
        );
        let outside = set("s: 1 outside spec").with_spec_limits(Some(4.0), Some(16.0));
        close(
            with_rules(&outside, 0.0, scale).unwrap().value,
            1.0 / (2.0 * normal_sf(3.0)),
            1e-6,
            "outside 4..16",
        );
        assert!(with_rules(&set("a: 1 above 16"), 0.0, None).is_err());
    }

    /// The chain's step against the detector itself, point by point.
    #[test]
    fn chain_steps_match_the_detector() {
        let text = "a: 2 of 4 beyond 1.5s same side; b: 3 in a row beyond 0.5s either side; \
                    c: 2 in a row beyond 1s opposite sides; d: 3 of 5 above 11; \
                    e: 4 in a row within 0.7s; f: 1 beyond limits; g: 2 of 3 outside spec";
        let rules = set(text).with_spec_limits(Some(7.0), Some(13.0));
        let compiled = Compiled::new(&rules, Some((10.0, 2.0))).unwrap();
        let mut rng = Rng::new(5);
        let cuts = compiled.cuts();
        let mut detector = CustomDetector::new(compiled.rules.clone());
        let mut state = vec![0u64; 2 * compiled.rules.rules().len()];
        let (mut out, mut fired_count) = (Vec::new(), 0);
        for i in 0..20_000 {
            let z = if rng.below(5) == 0 {
                cuts[rng.below(cuts.len() as u64) as usize]
            } else {
                1.8 * rng.normal()
            };
            out.clear();
            detector.push(10.0 + 2.0 * z, z, LimitSide::of_z(z, 3.0), &mut out);
            let (next, fired) = compiled.step(&state, z);
            assert_eq!(fired, !out.is_empty(), "point {i} (z = {z}): {out:?}");
            fired_count += usize::from(fired);
            // After a signal the chain is absorbed; start both again.
            if fired {
                detector = CustomDetector::new(compiled.rules.clone());
                state = vec![0u64; state.len()];
            } else {
                state = next;
            }
        }
        assert!(fired_count > 100, "only {fired_count} signals");
    }
}
