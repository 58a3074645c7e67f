//! The standard sets written in the rule language: Nelson's eight and the Western Electric
//! rules (which the built-in [`crate::RuleDetector`] also runs, faster), and the Westgard rules.

/// Nelson's eight tests with Minitab's default K (Nelson 1984, "The Shewhart Control
/// Chart—Tests for Special Causes", JQT 16(4), 237-239), named `nelson-1` to `nelson-8`. They
/// give exactly the built-in tests' signals (a property test checks it).
pub const NELSON_TEXT: &str = "\
nelson-1: 1 beyond limits
nelson-2: 9 in a row on one side
nelson-3: 6 rising or falling
nelson-4: 14 alternating
nelson-5: 2 of 3 beyond 2s same side
nelson-6: 4 of 5 beyond 1s same side
nelson-7: 15 in a row within 1s
nelson-8: 8 in a row beyond 1s either side";

/// The Western Electric rules (Western Electric, Statistical Quality Control Handbook, 1956,
/// pp. 25-28), in the handbook's order, named `we-1` to `we-4`: the built-in
/// `western-electric` set is tests 1, 5, 6 and 2 with K = 8.
pub const WESTERN_ELECTRIC_TEXT: &str = "\
we-1: 1 beyond limits
we-2: 2 of 3 beyond 2s same side
we-3: 4 of 5 beyond 1s same side
we-4: 8 in a row on one side";

/// The Westgard multirule (Westgard, Barry, Hunt & Groth 1981, "A multi-rule Shewhart chart
/// for quality control in clinical chemistry", Clin Chem 27(3), 493-501), with s the sigma of
/// the control measurements:
/// - 1-2s, one measurement beyond 2s: a warning;
/// - 1-3s, one beyond 3s; 2-2s, two in a row beyond 2s on the same side; R-4s, one beyond +2s
///   and one beyond -2s (here two consecutive points of the series); 4-1s, four in a row beyond
///   1s on the same side; 10-x, ten in a row on one side of the mean: rejections.
///
/// In the paper's chart the rejection rules are inspected only after a 1-2s warning; here
/// every rule is evaluated at every point, so a 4-1s or 10-x pattern is reported even when
/// none of its points is beyond 2s.
pub const WESTGARD_TEXT: &str = "\
1-2s: 1 beyond 2s, warning
1-3s: 1 beyond 3s
2-2s: 2 in a row beyond 2s same side
R-4s: 2 in a row beyond 2s opposite sides
4-1s: 4 in a row beyond 1s same side
10-x: 10 in a row on one side";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::custom::{parse_set, CustomDetector, RuleSignal};
    use crate::rng::Rng;
    use crate::rules::{LimitSide, NelsonRule, RuleDetector, RuleSet, Signal};

    fn custom(text: &str) -> CustomDetector {
        let (set, rules) = parse_set(text).unwrap();
        assert!(set.is_empty());
        CustomDetector::new(rules)
    }

    /// (index, first, test number) of the built-in tests and of the language's version, whose
    /// rule names end in a number: the test's, or for the Western Electric set the handbook's.
    fn both(rules: &RuleSet, text: &str, zs: &[f64]) -> (Vec<[usize; 3]>, Vec<[usize; 3]>) {
        let nelson_number = |n: usize| match (text.starts_with("we-"), n) {
            (false, n) => n,
            (true, 1) => 1,
            (true, 2) => 5,
            (true, 3) => 6,
            (true, _) => 2,
        };
        let mut builtin = RuleDetector::new(rules.clone());
        let mut language = custom(text);
        let names: Vec<usize> = language
            .rules()
            .rules()
            .iter()
            .map(|r| {
                nelson_number(
                    r.name
                        .rsplit('-')
                        .next()
                        .and_then(|n| n.parse().ok())
                        .unwrap(),
                )
            })
            .collect();
        let (mut a, mut b): (Vec<Signal>, Vec<RuleSignal>) = (Vec::new(), Vec::new());
        for &z in zs {
            let side = LimitSide::of_z(z, 3.0);
            builtin.push(z, z, side, &mut a);
            language.push(z, z, side, &mut b);
        }
        let mut a: Vec<[usize; 3]> = a
            .iter()
            .map(|s| [s.index, s.first, usize::from(s.test.number())])
            .collect();
        let mut b: Vec<[usize; 3]> = b
            .iter()
            .map(|s| [s.index, s.first, names[s.rule]])
            .collect();
        a.sort_unstable();
        b.sort_unstable();
        (a, b)
    }

    /// Random series that reach every pattern: normal points, points exactly on the zone
    /// boundaries, repeated values (ties end trends), shifted stretches (runs on one side),
    /// alternating stretches and quiet stretches (stratification).
    fn series(rng: &mut Rng, len: usize) -> Vec<f64> {
        let edges = [0.0, 1.0, -1.0, 2.0, -2.0, 3.0, -3.0];
        let mut zs = Vec::with_capacity(len);
        let mut mode = 0;
        for i in 0..len {
            if rng.below(40) == 0 {
                mode = rng.below(5);
            }
            let z = match (mode, rng.below(8)) {
                (_, 0) => edges[rng.below(edges.len() as u64) as usize],
                (_, 1) if i > 0 => zs[i - 1],
                (1, _) => 1.5 + 0.8 * rng.normal(),
                (2, _) => (if i % 2 == 0 { 1.0 } else { -1.0 }) * (0.3 + rng.uniform()),
                (3, _) => 0.5 * rng.normal(),
                (4, _) => i as f64 * 0.05 + 0.2 * rng.normal(),
                _ => 1.6 * rng.normal(),
            };
            zs.push(z);
        }
        zs
    }

    #[test]
    fn nelson_and_western_electric_in_the_language_match_the_builtins() {
        let mut rng = Rng::new(0x5EED_0016);
        let sets = [
            (RuleSet::nelson(), NELSON_TEXT),
            (RuleSet::western_electric(), WESTERN_ELECTRIC_TEXT),
        ];
        for (rules, text) in sets {
            let mut seen = [0usize; 9];
            for _ in 0..200 {
                let zs = series(&mut rng, 400);
                let (builtin, language) = both(&rules, text, &zs);
                assert_eq!(builtin, language, "{text}");
                builtin.iter().for_each(|s| seen[s[2]] += 1);
            }
            // Every test of the set fired, so each was compared.
            for rule in rules.rules() {
                let n = seen[usize::from(rule.number())];
                assert!(n > 20, "{rule} fired only {n} times");
            }
        }
    }

    #[test]
    fn each_nelson_test_alone_with_other_k() {
        let mut rng = Rng::new(3);
        let cases = [
            (NelsonRule::SameSide, 5.0, "t-2: 5 in a row on one side"),
            (NelsonRule::Trend, 4.0, "t-3: 4 rising or falling"),
            (NelsonRule::Alternating, 6.0, "t-4: 6 alternating"),
            (NelsonRule::ZoneA, 3.0, "t-5: 3 of 4 beyond 2s same side"),
            (NelsonRule::ZoneB, 2.0, "t-6: 2 of 3 beyond 1s"),
            (NelsonRule::Stratification, 5.0, "t-7: 5 within 1s"),
            (
                NelsonRule::Mixture,
                3.0,
                "t-8: 3 in a row beyond 1s either side",
            ),
        ];
        for (rule, k, text) in cases {
            let rules = RuleSet::only(&[rule]).with_k(rule, k).unwrap();
            for _ in 0..50 {
                let zs = series(&mut rng, 300);
                let (builtin, language) = both(&rules, text, &zs);
                assert_eq!(builtin, language, "{text}");
            }
        }
    }

    fn westgard_on(zs: &[f64]) -> Vec<(usize, usize, String)> {
        let mut d = custom(WESTGARD_TEXT);
        let mut out = Vec::new();
        for &z in zs {
            d.push(z, z, LimitSide::of_z(z, 3.0), &mut out);
        }
        out.iter()
            .map(|s| (s.index, s.first, d.rules().rules()[s.rule].name.clone()))
            .collect()
    }

    /// A series checked by hand against the definitions in Westgard et al. (1981).
    #[test]
    fn westgard_on_a_hand_checked_series() {
        let zs = [
            0.5,  // 0
            2.3,  // 1: 1-2s
            2.1,  // 2: 1-2s, 2-2s (1, 2)
            -2.4, // 3: 1-2s, R-4s (2, 3)
            0.2,  // 4
            3.2,  // 5: 1-2s, 1-3s
            1.2, 1.5, 1.1, // 6..8: 4-1s at 8 (5..8)
            0.9, // 9: breaks 4-1s
            0.3, 0.4, 0.1, 0.6, 0.7,  // 10..14: 10-x at 13 (4..13) and 14 (5..14)
            -0.1, // 15
        ];
        let want: Vec<(usize, usize, &str)> = vec![
            (1, 1, "1-2s"),
            (2, 2, "1-2s"),
            (2, 1, "2-2s"),
            (3, 3, "1-2s"),
            (3, 2, "R-4s"),
            (5, 5, "1-2s"),
            (5, 5, "1-3s"),
            (8, 5, "4-1s"),
            (13, 4, "10-x"),
            (14, 5, "10-x"),
        ];
        let got = westgard_on(&zs);
        let got: Vec<(usize, usize, &str)> =
            got.iter().map(|(i, f, n)| (*i, *f, n.as_str())).collect();
        assert_eq!(got, want);
        let rules = custom(WESTGARD_TEXT);
        let warnings: Vec<&str> = rules
            .rules()
            .rules()
            .iter()
            .filter(|r| r.warning)
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(warnings, ["1-2s"]);
    }
}
