//! User-defined tests for special causes: a small rule language, its detector, and presets.
//!
//! A rule set is a list of items separated by `;` or new lines; `#` starts a comment. Each item
//! is a named rule, `NAME: PATTERN`, or a built-in set: `nelson`, `western-electric` (`we`),
//! `westgard`, or Nelson test numbers with an optional K (`1,2:8,5`), as `--tests` always took.
//! Nelson's tests keep their numbers; a named rule is reported by its name.
//!
//! ```text
//! 1-3s: 1 beyond 3s
//! 2-2s: 2 of 2 beyond 2s same side
//! R-4s: 2 in a row beyond 2s opposite sides
//! slow: 3 of 5 above usl - 200, warning
//! ```
//!
//! Patterns (K, N whole numbers; Z a distance in sigma of the plotted statistic, written `2s`,
//! `2σ` or `2 sigma`; the point that completes a pattern must itself meet it):
//! - `K of N beyond Zs [same side | either side | above | below]`: at least K of the last N
//!   points more than Z sigma from the center line, on one side (`same side`, the default), on
//!   any side, or on the side named. `N in a row ...` is `N of N`; a bare `N ...` too.
//!   `beyond limits` uses the chart's own control limits (test 1's).
//! - `above X`, `below X`: X is `Zs` (Z sigma above or below the center line), `limits`,
//!   `center`, a value in the data's units (`2500`), or relative to a spec limit (`usl`,
//!   `usl - 10`, `lsl + 0.5`; the spec limits are `--lsl`/`--usl`). `outside spec` is above the
//!   USL or below the LSL; `outside limits` beyond either control limit.
//! - `N in a row within Zs`: |z| <= Z (Nelson's stratification).
//! - `N in a row on one side`: strictly above, or strictly below, the center line.
//! - `N rising or falling` (or `rising`, `falling`): N points, each strictly above (below) the
//!   one before. `N alternating`: N points alternately up and down.
//! - `N in a row beyond Zs opposite sides`: each more than Z sigma out, each on the other side
//!   of the one before (Westgard's R-4s with N = 2, Z = 2).
//! - A trailing `, warning` marks a warning rule: it is reported, but it is not a rejection,
//!   so it does not count in the false-alarm rate.
//!
//! The conventions are [`crate::RuleDetector`]'s (Nelson 1984; Western Electric 1956): "beyond"
//! and "above" are strict, "within" is `<=`, a point on the center line ends a run on one side,
//! equal neighbours end a trend or an alternation, and a pattern is reported at the point that
//! completes it (so every later point of a longer run too).
//!
//! Parsing never panics: an error names the part that is wrong, with its line and column.
//! Each rule is evaluated in O(1) per point ([`CustomDetector`]): a run counter, or for K of N
//! with K < N a queue of the at most N recent points that met it.

mod check;
pub(crate) mod detect;
mod parse;
mod presets;

pub use check::{check, NamedRule, RuleCheck};
pub use detect::{CustomDetector, RuleSignal};
pub use parse::RuleError;
pub use presets::{NELSON_TEXT, WESTERN_ELECTRIC_TEXT, WESTGARD_TEXT};

use crate::error::{invalid, SpcError};

/// Most points a K-of-N window (K < N) may span; runs (K = N) have no such limit.
pub const MAX_WINDOW: u32 = 10_000;
/// Most points in a run.
pub const MAX_RUN: u32 = 1_000_000_000;

/// One named rule.
#[derive(Clone, Debug, PartialEq)]
pub struct CustomRule {
    /// Its name, as reported (`"2-2s"`).
    pub name: String,
    /// The pattern as written.
    pub text: String,
    /// What it looks for.
    pub pattern: Pattern,
    /// A warning rule is reported but is not a rejection (and is left out of the ARL).
    pub warning: bool,
}

/// What a rule looks for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pattern {
    /// At least `k` of the last `n` points meet `test` (grouped by side for [`Side::Same`]),
    /// the newest among them.
    Points {
        /// How many must meet it.
        k: u32,
        /// Out of how many recent points.
        n: u32,
        /// What each point must meet.
        test: PointTest,
    },
    /// `n` points, each strictly above (or below) the one before.
    Trend {
        /// Points in the run.
        n: u32,
        /// Which way.
        direction: Direction,
    },
    /// `n` points alternately up and down.
    Alternating {
        /// Points in the run.
        n: u32,
    },
    /// `n` points in a row each more than `z` sigma out, each on the other side of the one
    /// before.
    OppositeSides {
        /// Points in the run.
        n: u32,
        /// Distance in sigma.
        z: f64,
    },
}

/// Which way a trend runs.
#[allow(missing_docs)] // the variants are named for what they are
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Rising,
    Falling,
    Either,
}

/// A test on one point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PointTest {
    /// Strictly beyond `level`, on `side`.
    Beyond {
        /// How far.
        level: Level,
        /// Which side.
        side: Side,
    },
    /// Within `z` sigma of the center line (`|z| <= z`).
    Within(f64),
    /// Above the USL or below the LSL.
    OutsideSpec,
}

/// How far out a point must be.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Level {
    /// Z sigma of the plotted statistic from the center line (0: the center line itself).
    Sigma(f64),
    /// The chart's own control limits.
    Limits,
    /// A value in the data's units; with a side of above or below only.
    Value(Threshold),
}

/// A fixed threshold, absolute or relative to a spec limit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Threshold {
    /// A value in the data's units.
    Absolute(f64),
    /// The USL plus this offset.
    Usl(f64),
    /// The LSL plus this offset.
    Lsl(f64),
}

/// Which side of the center line counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// All on one side, either one (counted separately above and below).
    Same,
    /// Any side, mixed.
    Either,
    /// Above the center line.
    Above,
    /// Below the center line.
    Below,
}

impl Pattern {
    /// Points the pattern spans (its `n`).
    pub fn span(&self) -> u32 {
        match *self {
            Pattern::Points { n, .. }
            | Pattern::Trend { n, .. }
            | Pattern::Alternating { n }
            | Pattern::OppositeSides { n, .. } => n,
        }
    }

    /// Does it depend only on which zone each point falls in (so a Markov chain describes
    /// it)? Trends and alternations compare neighbouring values.
    pub fn zone_based(&self) -> bool {
        matches!(self, Pattern::Points { .. } | Pattern::OppositeSides { .. })
    }

    fn threshold(&self) -> Option<Threshold> {
        match self {
            Pattern::Points {
                test:
                    PointTest::Beyond {
                        level: Level::Value(t),
                        ..
                    },
                ..
            } => Some(*t),
            _ => None,
        }
    }

    fn needs_spec(&self) -> (bool, bool) {
        match self {
            Pattern::Points {
                test: PointTest::OutsideSpec,
                ..
            } => (true, true),
            _ => match self.threshold() {
                Some(Threshold::Lsl(_)) => (true, false),
                Some(Threshold::Usl(_)) => (false, true),
                _ => (false, false),
            },
        }
    }
}

/// A parsed list of named rules, with the spec limits its thresholds refer to.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct CustomRules {
    rules: Vec<CustomRule>,
    lsl: Option<f64>,
    usl: Option<f64>,
}

impl CustomRules {
    /// The rules, in the order written.
    pub fn rules(&self) -> &[CustomRule] {
        &self.rules
    }

    /// True when there is no rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rule set back as text, one rule per line (it parses to the same rules).
    pub fn to_text(&self) -> String {
        self.rules
            .iter()
            .map(|r| {
                let warning = if r.warning { ", warning" } else { "" };
                format!("{}: {}{warning}", r.name, r.text)
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// A set of these rules, already parsed: what a front end without the parser (the
    /// dashboard's main module) rebuilds from a saved form. The rules' fields are taken as
    /// they are: check counts and distances as the parser does before calling this.
    pub fn from_rules(rules: Vec<CustomRule>) -> CustomRules {
        CustomRules {
            rules,
            ..CustomRules::default()
        }
    }

    pub(crate) fn push(&mut self, rule: CustomRule) {
        self.rules.push(rule);
    }

    /// Binds the spec limits that `usl`, `lsl` and `outside spec` refer to.
    pub fn with_spec_limits(mut self, lsl: Option<f64>, usl: Option<f64>) -> CustomRules {
        self.lsl = lsl;
        self.usl = usl;
        self
    }

    /// The spec limits bound, (LSL, USL).
    pub fn spec_limits(&self) -> (Option<f64>, Option<f64>) {
        (self.lsl, self.usl)
    }

    /// Does any rule compare against a fixed value (which needs the process center and sigma
    /// to be expressed in sigma)?
    pub fn has_thresholds(&self) -> bool {
        self.rules.iter().any(|r| {
            r.pattern.threshold().is_some()
                || matches!(
                    r.pattern,
                    Pattern::Points {
                        test: PointTest::OutsideSpec,
                        ..
                    }
                )
        })
    }

    /// Every rule's spec limits are bound.
    pub fn check_spec_limits(&self) -> Result<(), SpcError> {
        for r in &self.rules {
            let (lsl, usl) = r.pattern.needs_spec();
            let outside = matches!(
                r.pattern,
                Pattern::Points {
                    test: PointTest::OutsideSpec,
                    ..
                }
            );
            let missing = if outside {
                self.lsl.is_none() && self.usl.is_none()
            } else {
                (lsl && self.lsl.is_none()) || (usl && self.usl.is_none())
            };
            if missing {
                let which = match (outside, lsl) {
                    (true, _) => "a spec limit (--lsl or --usl)",
                    (false, true) => "a lower spec limit (--lsl)",
                    (false, false) => "an upper spec limit (--usl)",
                };
                return Err(invalid(
                    "tests",
                    format!("rule '{}' ({}) needs {which}", r.name, r.text),
                ));
            }
        }
        Ok(())
    }

    /// A threshold's value in the data's units (NaN when its spec limit is not bound).
    pub(crate) fn value(&self, t: Threshold) -> f64 {
        match t {
            Threshold::Absolute(x) => x,
            Threshold::Usl(d) => self.usl.map_or(f64::NAN, |u| u + d),
            Threshold::Lsl(d) => self.lsl.map_or(f64::NAN, |l| l + d),
        }
    }
}

/// Parses a rule set that may mix named rules with built-in tests. Returns the Nelson tests
/// enabled (with their K) and the named rules.
pub(crate) fn parse_set(text: &str) -> Result<(crate::RuleSet, CustomRules), SpcError> {
    parse::parse(text).map_err(|e| {
        let message = if text.contains('\n') {
            e.to_string()
        } else {
            format!("column {}: {}", e.column, e.message)
        };
        invalid("tests", message)
    })
}

/// Serialized as its text ([`CustomRules::to_text`]); the spec limits are not part of it.
#[cfg(feature = "serde")]
impl serde::Serialize for CustomRules {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_text())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for CustomRules {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(deserializer)?;
        parse_rules(&text).map_err(serde::de::Error::custom)
    }
}

/// Parses a set as `--tests` takes it (built-in tests and named rules, mixed), with the error's
/// line and column: what an editor shows while the set is typed, before [`check`] computes its
/// false-alarm rate.
pub fn parse_tests(text: &str) -> Result<crate::RuleSet, RuleError> {
    let (set, rules) = parse::parse(text)?;
    Ok(set.with_custom(rules))
}

/// Parses a list of named rules only (no built-in tests), with the error's line and column.
pub fn parse_rules(text: &str) -> Result<CustomRules, RuleError> {
    let (set, rules) = parse::parse(text)?;
    if !set.is_empty() {
        return Err(RuleError {
            line: 1,
            column: 1,
            message: "Nelson's built-in tests have no name here: write them as named rules \
                      (e.g. '1: 1 beyond limits')"
                .into(),
        });
    }
    Ok(rules)
}

/// Nelson's test with this K as a pattern of the language (the meaning of [`NELSON_TEXT`]);
/// test 1 is beyond the control limits, whose width is its K.
pub fn nelson_pattern(rule: crate::NelsonRule, k: f64) -> Pattern {
    use crate::NelsonRule::*;
    // K is validated by RuleSet as a whole number of points for every test but test 1.
    let n = k.clamp(1.0, f64::from(MAX_RUN)) as u32;
    let points = |k, n, test| Pattern::Points { k, n, test };
    let beyond = |level, side| PointTest::Beyond { level, side };
    match rule {
        Beyond => points(1, 1, beyond(Level::Limits, Side::Same)),
        SameSide => points(n, n, beyond(Level::Sigma(0.0), Side::Same)),
        Trend => Pattern::Trend {
            n,
            direction: Direction::Either,
        },
        Alternating => Pattern::Alternating { n },
        ZoneA => points(n, n + 1, beyond(Level::Sigma(2.0), Side::Same)),
        ZoneB => points(n, n + 1, beyond(Level::Sigma(1.0), Side::Same)),
        Stratification => points(n, n, PointTest::Within(1.0)),
        Mixture => points(n, n, beyond(Level::Sigma(1.0), Side::Either)),
    }
}

#[cfg(test)]
mod tests {
    use crate::transform::TransformKind;
    use crate::{analyze, Baseline, ChartSpec, ChartType, Data, RuleSet};

    fn xbar(tests: &str) -> ChartSpec {
        ChartSpec {
            chart: ChartType::XbarR,
            baseline: Baseline::Known {
                mu: 10.0,
                sigma: 2.0,
            },
            tests: tests.parse::<RuleSet>().unwrap(),
            ..ChartSpec::default()
        }
    }

    /// An X-bar chart of subgroups of 4 (the mean's sigma is 1): a fixed value is compared
    /// with the plotted means, and the ARL puts it in the means' sigma.
    #[test]
    fn charts_run_named_rules_on_the_primary_chart() {
        let means = [10.0, 13.0, 10.0, 12.0, 12.6];
        let groups = means
            .iter()
            .map(|m| vec![m - 1.0, m + 1.0, m - 1.0, m + 1.0])
            .collect();
        let chart = analyze(&xbar("1; high: 1 above 12.5"), &Data::Subgroups(groups)).unwrap();
        let found: Vec<(usize, usize)> = chart
            .primary
            .rule_signals
            .iter()
            .map(|s| (s.rule, s.index))
            .collect();
        assert_eq!(found, [(0, 1), (0, 4)]);
        assert!(
            chart.primary.signals.is_empty(),
            "13 is on the UCL, not beyond"
        );
        let companion = chart.companion.as_ref().unwrap();
        assert!(companion.rules.custom().is_empty() && companion.rule_signals.is_empty());
        assert_eq!(chart.signal_count(), 2);
        // Test 1 or a mean above 12.5 = 2.5 sigma of the mean.
        let p = crate::math::normal_sf(2.5) + crate::math::normal_sf(3.0);
        let arl = chart.arl(0.0).unwrap().value;
        assert!((arl - 1.0 / p).abs() < 1e-6 * arl, "{arl} vs {}", 1.0 / p);
    }

    /// A set rebuilt from its rules runs as the parsed set does.
    #[test]
    fn a_set_rebuilt_from_its_rules_is_the_same_set() {
        let parsed = super::parse_rules(super::WESTGARD_TEXT).unwrap();
        let rebuilt = super::CustomRules::from_rules(parsed.rules().to_vec());
        assert_eq!(rebuilt, parsed);
        let tests = || RuleSet::none().with_custom(rebuilt.clone());
        assert_eq!(xbar("westgard").tests, tests());
        let mixed = super::parse_tests("1,2:8; 2-2s: 2 of 2 beyond 2s").unwrap();
        assert_eq!(
            mixed,
            "1,2:8; 2-2s: 2 of 2 beyond 2s".parse::<RuleSet>().unwrap()
        );
        let e = super::parse_tests("nelson\nb: 2 of 2 beyond").unwrap_err();
        assert_eq!((e.line, e.column), (2, 17));
    }

    #[test]
    fn specs_refuse_what_named_rules_cannot_do() {
        let ewma = ChartSpec {
            chart: ChartType::EWMA_DEFAULT,
            ..xbar("westgard")
        };
        assert!(ewma
            .validate()
            .unwrap_err()
            .to_string()
            .contains("Shewhart"));
        let logged = ChartSpec {
            transform: TransformKind::Log,
            ..xbar("a: 1 above 12")
        };
        assert!(logged
            .validate()
            .unwrap_err()
            .to_string()
            .contains("transform"));
        let spec = xbar("a: 1 above usl");
        assert!(spec.validate().unwrap_err().to_string().contains("--usl"));
        let bound = ChartSpec {
            tests: spec.tests.clone().with_spec_limits(None, Some(12.0)),
            ..spec
        };
        assert!(bound.validate().is_ok());
    }
}
