//! Tests for special causes: Nelson's eight (Nelson 1984, "The Shewhart Control Chart—Tests for
//! Special Causes", JQT 16(4)) with Minitab's default K values, and the Western Electric set
//! (Western Electric Statistical Quality Control Handbook, 1956).
//!
//! Everything here works on one point at a time ([`RuleDetector::push`]) in O(1) time and
//! memory, so the batch analysis and the streaming monitor run the very same code.
//!
//! Conventions (fixed: the dashboard, the shim and the checks depend on them):
//! - z is measured in sigma of the plotted statistic.
//! - A test is reported at the point that completes its pattern, so every later point of a
//!   longer run is flagged too. A point can fail several tests.
//! - "Beyond" is strict (>) and "within" is <=. A point exactly on the center line belongs to
//!   neither side and ends a run; equal neighbours end a trend (test 3) or an alternation
//!   (test 4).
//! - For tests 5 and 6 the flagged point must itself be beyond the zone on that side. At the
//!   start of a series K beyond points among the first K already fire (K of at most K+1).
//! - Test 8 is K in a row with |z| > 1 on either side.

use crate::custom::CustomRules;
use crate::error::{invalid, SpcError};
use std::fmt;
use std::str::FromStr;

/// One of Nelson's eight tests. The discriminant is the test's number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(into = "u8", try_from = "u8"))]
pub enum NelsonRule {
    /// Test 1: one point beyond the control limits (K sigma from the center line).
    Beyond = 1,
    /// Test 2: K points in a row on the same side of the center line.
    SameSide = 2,
    /// Test 3: K points in a row, all strictly increasing or all strictly decreasing.
    Trend = 3,
    /// Test 4: K points in a row, alternating up and down.
    Alternating = 4,
    /// Test 5: K out of K+1 points beyond 2 sigma (zone A), same side.
    ZoneA = 5,
    /// Test 6: K out of K+1 points beyond 1 sigma (zone B), same side.
    ZoneB = 6,
    /// Test 7: K points in a row within 1 sigma (zone C), either side: stratification.
    Stratification = 7,
    /// Test 8: K points in a row beyond 1 sigma, either side: a mixture.
    Mixture = 8,
}

impl NelsonRule {
    /// All eight, in test-number order.
    pub const ALL: [NelsonRule; 8] = [
        NelsonRule::Beyond,
        NelsonRule::SameSide,
        NelsonRule::Trend,
        NelsonRule::Alternating,
        NelsonRule::ZoneA,
        NelsonRule::ZoneB,
        NelsonRule::Stratification,
        NelsonRule::Mixture,
    ];

    /// The test's number, 1 to 8.
    pub fn number(self) -> u8 {
        self as u8
    }

    /// The test with this number.
    pub fn from_number(n: u8) -> Option<NelsonRule> {
        NelsonRule::ALL.get(usize::from(n).wrapping_sub(1)).copied()
    }

    /// Minitab's default K for this test.
    pub fn default_k(self) -> f64 {
        match self {
            NelsonRule::Beyond => 3.0,
            NelsonRule::SameSide => 9.0,
            NelsonRule::Trend => 6.0,
            NelsonRule::Alternating => 14.0,
            NelsonRule::ZoneA => 2.0,
            NelsonRule::ZoneB => 4.0,
            NelsonRule::Stratification => 15.0,
            NelsonRule::Mixture => 8.0,
        }
    }

    /// What the test looks for, with its K, in words a person reads.
    pub fn describe(self, k: f64) -> String {
        match self {
            NelsonRule::Beyond => format!("1 point more than {k} sigma from the center line"),
            NelsonRule::SameSide => {
                format!("{k} points in a row on the same side of the center line")
            }
            NelsonRule::Trend => format!("{k} points in a row, all increasing or all decreasing"),
            NelsonRule::Alternating => format!("{k} points in a row, alternating up and down"),
            NelsonRule::ZoneA => format!(
                "{k} out of {} points more than 2 sigma from center, same side",
                k + 1.0
            ),
            NelsonRule::ZoneB => format!(
                "{k} out of {} points more than 1 sigma from center, same side",
                k + 1.0
            ),
            NelsonRule::Stratification => format!("{k} points in a row within 1 sigma of center"),
            NelsonRule::Mixture => {
                format!("{k} points in a row more than 1 sigma from center, either side")
            }
        }
    }
}

impl From<NelsonRule> for u8 {
    fn from(r: NelsonRule) -> u8 {
        r.number()
    }
}

impl TryFrom<u8> for NelsonRule {
    type Error = String;
    fn try_from(n: u8) -> Result<Self, String> {
        NelsonRule::from_number(n).ok_or_else(|| format!("there is no test {n}: tests are 1 to 8"))
    }
}

impl fmt::Display for NelsonRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "test {}", self.number())
    }
}

/// Which tests run: Nelson's, each with its K, and named rules of the rule language
/// ([`crate::custom`]). Test 1's K is in sigma and also sets the width of the Shewhart limits
/// (3 when test 1 is not enabled); the other K are counts of points.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RuleSet {
    enabled: [bool; 8],
    k: [f64; 8],
    /// Named rules, serialized as their text (absent when there are none).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "CustomRules::is_empty")
    )]
    custom: CustomRules,
}

impl Default for RuleSet {
    /// All eight Nelson tests.
    fn default() -> Self {
        RuleSet::nelson()
    }
}

impl RuleSet {
    /// No tests.
    pub fn none() -> RuleSet {
        RuleSet {
            enabled: [false; 8],
            k: NelsonRule::ALL.map(NelsonRule::default_k),
            custom: CustomRules::default(),
        }
    }

    /// All eight Nelson tests with Minitab's default K.
    pub fn nelson() -> RuleSet {
        RuleSet {
            enabled: [true; 8],
            ..RuleSet::none()
        }
    }

    /// The Western Electric rules, in Nelson's numbering: test 1 (beyond 3 sigma), test 5
    /// (2 of 3 beyond 2 sigma), test 6 (4 of 5 beyond 1 sigma) and test 2 with 8 (not 9) in a row.
    pub fn western_electric() -> RuleSet {
        RuleSet::only(&[
            NelsonRule::Beyond,
            NelsonRule::ZoneA,
            NelsonRule::ZoneB,
            NelsonRule::SameSide,
        ])
        .with_k(NelsonRule::SameSide, 8.0)
        .unwrap_or_else(|_| RuleSet::none())
    }

    /// Exactly these tests, with default K.
    pub fn only(rules: &[NelsonRule]) -> RuleSet {
        let mut set = RuleSet::none();
        for &r in rules {
            set.enabled[r as usize - 1] = true;
        }
        set
    }

    /// The same set with another K for one test (whether or not that test is enabled).
    pub fn with_k(mut self, rule: NelsonRule, k: f64) -> Result<RuleSet, SpcError> {
        let ok = match rule {
            NelsonRule::Beyond => k.is_finite() && k > 0.0,
            // The zone tests keep a bit history of K+1 points in a u64.
            NelsonRule::ZoneA | NelsonRule::ZoneB => k.fract() == 0.0 && (1.0..=63.0).contains(&k),
            NelsonRule::Trend | NelsonRule::Alternating => {
                k.fract() == 0.0 && (2.0..=1e9).contains(&k)
            }
            _ => k.fract() == 0.0 && (1.0..=1e9).contains(&k),
        };
        if !ok {
            return Err(invalid(
                "K",
                format!("{k} is not a valid K for {rule}: {}", k_domain(rule)),
            ));
        }
        self.k[rule as usize - 1] = k;
        Ok(self)
    }

    /// The tests that apply to a chart by default (Minitab, as in the reference): all eight on
    /// charts of a measured value, 1 to 4 on range, SD, moving-range and attribute charts, and
    /// only test 1 on EWMA and CUSUM, whose points are autocorrelated.
    pub fn applicable(kind: crate::ChartKind) -> RuleSet {
        use crate::ChartKind::*;
        match kind {
            Individuals | XBar => RuleSet::nelson(),
            MovingRange | Range | StdDev | P | Np | C | U => RuleSet::only(&[
                NelsonRule::Beyond,
                NelsonRule::SameSide,
                NelsonRule::Trend,
                NelsonRule::Alternating,
            ]),
            Ewma | CusumUpper | CusumLower => RuleSet::only(&[NelsonRule::Beyond]),
        }
    }

    /// The tests of `self` that also apply to `kind`, keeping `self`'s K values.
    pub fn restricted_to(&self, kind: crate::ChartKind) -> RuleSet {
        use crate::ChartKind::*;
        let applicable = RuleSet::applicable(kind);
        let mut out = self.clone();
        for i in 0..8 {
            out.enabled[i] &= applicable.enabled[i];
        }
        if !matches!(kind, Individuals | XBar | P | Np | C | U) {
            out.custom = CustomRules::default();
        }
        out
    }

    /// The named rules (they run on the primary chart of Shewhart charts only).
    pub fn custom(&self) -> &CustomRules {
        &self.custom
    }

    /// The same set with these named rules.
    pub fn with_custom(mut self, custom: CustomRules) -> RuleSet {
        self.custom = custom;
        self
    }

    /// The same set with the spec limits its rules' `usl`, `lsl` and `outside spec` refer to.
    /// A set without named rules stays as it is (equal to the same set without limits).
    pub fn with_spec_limits(mut self, lsl: Option<f64>, usl: Option<f64>) -> RuleSet {
        if !self.custom.is_empty() {
            self.custom = self.custom.with_spec_limits(lsl, usl);
        }
        self
    }

    /// Enables `other`'s Nelson tests too, with `other`'s K for them.
    pub(crate) fn add(&mut self, other: &RuleSet) {
        for i in 0..8 {
            if other.enabled[i] {
                self.enabled[i] = true;
                self.k[i] = other.k[i];
            }
        }
    }

    /// Is this test enabled?
    pub fn contains(&self, rule: NelsonRule) -> bool {
        self.enabled[rule as usize - 1]
    }

    /// This test's K.
    pub fn k(&self, rule: NelsonRule) -> f64 {
        self.k[rule as usize - 1]
    }

    /// The enabled tests, in number order.
    pub fn rules(&self) -> impl Iterator<Item = NelsonRule> + '_ {
        NelsonRule::ALL.into_iter().filter(|r| self.contains(*r))
    }

    /// True when no test and no named rule is enabled.
    pub fn is_empty(&self) -> bool {
        !self.enabled.iter().any(|e| *e) && self.custom.is_empty()
    }

    /// K as a count of points (K is validated as a whole number when set).
    fn count(&self, rule: NelsonRule) -> u64 {
        self.k(rule) as u64
    }
}

fn k_domain(rule: NelsonRule) -> &'static str {
    match rule {
        NelsonRule::Beyond => "K is a distance in sigma, greater than 0 (default 3)",
        NelsonRule::ZoneA | NelsonRule::ZoneB => "K is a whole number of points from 1 to 63",
        NelsonRule::Trend | NelsonRule::Alternating => "K is a whole number of points, at least 2",
        _ => "K is a whole number of points, at least 1",
    }
}

/// Parses `nelson`, `western-electric` (or `we`), `none`, a list of test numbers with
/// optional K (`1,2,5` or `1,2:8,3:7`), and named rules of the rule language, mixed
/// (`westgard`, `1,2; 2-2s: 2 of 2 beyond 2s`; see [`crate::custom`]).
impl FromStr for RuleSet {
    type Err = SpcError;
    fn from_str(s: &str) -> Result<RuleSet, SpcError> {
        let (set, custom) = crate::custom::parse_set(s)?;
        Ok(set.with_custom(custom))
    }
}

impl RuleSet {
    /// The built-in sets only: a preset name or a list of test numbers with optional K.
    pub(crate) fn parse_builtin(s: &str) -> Result<RuleSet, SpcError> {
        let s = s.trim();
        match s.to_ascii_lowercase().as_str() {
            "nelson" | "all" => return Ok(RuleSet::nelson()),
            "western-electric" | "we" | "western_electric" => {
                return Ok(RuleSet::western_electric())
            }
            "none" | "" => return Ok(RuleSet::none()),
            _ => {}
        }
        let mut set = RuleSet::none();
        for item in s.split(',') {
            let item = item.trim();
            let (num, k) = match item.split_once(':') {
                Some((n, k)) => (n.trim(), Some(k.trim())),
                None => (item, None),
            };
            let rule = num
                .parse::<u8>()
                .ok()
                .and_then(NelsonRule::from_number)
                .ok_or_else(|| {
                    invalid(
                        "tests",
                        format!(
                        "'{item}' is not a test: use nelson, western-electric, none, or numbers \
                         1 to 8 with an optional K, e.g. 1,2:8,5"
                    ),
                    )
                })?;
            set.enabled[rule as usize - 1] = true;
            if let Some(k) = k {
                let k = k
                    .parse::<f64>()
                    .map_err(|_| invalid("tests", format!("'{item}': K '{k}' is not a number")))?;
                set = set.with_k(rule, k)?;
            }
        }
        Ok(set)
    }
}

/// A special cause found at one point: the test, the point that completed the pattern
/// (`index` = `last`), and the first point of the pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Signal {
    /// The test that fired.
    pub test: NelsonRule,
    /// The 0-based index of the point that completed the pattern.
    pub index: usize,
    /// The first point of the pattern.
    pub first: usize,
    /// The last point of the pattern (always `index`).
    pub last: usize,
}

/// Where a point lies relative to its control limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitSide {
    /// Strictly above the upper control limit.
    Above,
    /// Strictly below the lower control limit.
    Below,
    /// On or inside the limits, or the chart has no limit on that side.
    Inside,
}

impl LimitSide {
    /// The side of a standardized point `z` for symmetric limits at +-`width` sigma.
    pub fn of_z(z: f64, width: f64) -> LimitSide {
        if z > width {
            LimitSide::Above
        } else if z < -width {
            LimitSide::Below
        } else {
            LimitSide::Inside
        }
    }
}

/// The streaming state of every test: O(1) time and memory per point.
///
/// The K values are copied out of the [`RuleSet`] as integers once, at construction, since
/// this runs for every point of every stream.
#[derive(Clone, Debug)]
pub struct RuleDetector {
    rules: RuleSet,
    /// Bit t-1 set when test t is enabled.
    enabled: u8,
    /// K of each test as a count (test 1's entry is unused).
    k: [u64; 8],
    /// The K+1-point windows of tests 5 and 6.
    zone_a_window: u64,
    zone_b_window: u64,
    next_index: usize,
    /// Signed length of the current run on one side of the center (+ above, - below).
    side_run: i64,
    prev_statistic: f64,
    /// Signed length of the current run of strictly rising (+) or falling (-) steps.
    trend_steps: i64,
    /// Number of alternating steps in the current alternation, and the last step's direction.
    alternating_steps: u64,
    last_direction: i8,
    /// Bit histories, newest point in bit 0: beyond +2, beyond -2, beyond +1, beyond -1 sigma.
    above_2: u64,
    below_2: u64,
    above_1: u64,
    below_1: u64,
    within_1_run: u64,
    beyond_1_run: u64,
}

impl RuleDetector {
    /// A detector at the start of a series.
    pub fn new(rules: RuleSet) -> RuleDetector {
        RuleDetector::starting_at(rules, 0)
    }

    /// A detector whose first point has this index (the moving-range chart starts at 1).
    pub fn starting_at(rules: RuleSet, first_index: usize) -> RuleDetector {
        let enabled = NelsonRule::ALL
            .iter()
            .filter(|r| rules.contains(**r))
            .fold(0u8, |bits, r| bits | 1 << (r.number() - 1));
        let k = NelsonRule::ALL.map(|r| rules.count(r));
        // K+1 low bits; K is at most 63, so this never shifts by 64.
        let window = |rule: NelsonRule| u64::MAX >> (63 - rules.count(rule).min(63));
        RuleDetector {
            enabled,
            k,
            zone_a_window: window(NelsonRule::ZoneA),
            zone_b_window: window(NelsonRule::ZoneB),
            rules,
            next_index: first_index,
            side_run: 0,
            prev_statistic: f64::NAN,
            trend_steps: 0,
            alternating_steps: 0,
            last_direction: 0,
            above_2: 0,
            below_2: 0,
            above_1: 0,
            below_1: 0,
            within_1_run: 0,
            beyond_1_run: 0,
        }
    }

    /// The tests this detector runs.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    #[inline]
    fn on(&self, rule: NelsonRule) -> bool {
        self.enabled & (1 << (rule as u8 - 1)) != 0
    }

    #[inline]
    fn k(&self, rule: NelsonRule) -> u64 {
        self.k[rule as usize - 1]
    }

    /// Judges the next point. `z` is the point's distance from the center line in sigma of the
    /// plotted statistic; `side` says whether it is beyond the control limits (test 1).
    /// Appends the signals this point completes to `out`.
    #[inline]
    pub fn push(&mut self, statistic: f64, z: f64, side: LimitSide, out: &mut Vec<Signal>) {
        let i = self.next_index;
        self.next_index += 1;
        let fire = |out: &mut Vec<Signal>, test: NelsonRule, length: u64| {
            let first = i + 1 - length as usize;
            out.push(Signal {
                test,
                index: i,
                first,
                last: i,
            });
        };

        if side != LimitSide::Inside && self.on(NelsonRule::Beyond) {
            fire(out, NelsonRule::Beyond, 1);
        }

        // Branch-free updates: on noisy data the sign of each step is a coin flip, and a
        // mispredicted branch costs more than computing both arms.
        let above = i64::from(z > 0.0);
        let below = i64::from(z < 0.0);
        self.side_run = above * (self.side_run.max(0) + 1) - below * ((-self.side_run).max(0) + 1);
        let k2 = self.k(NelsonRule::SameSide);
        if self.side_run.unsigned_abs() >= k2 && self.on(NelsonRule::SameSide) {
            fire(out, NelsonRule::SameSide, k2);
        }

        // NaN (no previous point) compares false both ways: no direction.
        let direction =
            i8::from(statistic > self.prev_statistic) - i8::from(statistic < self.prev_statistic);
        self.prev_statistic = statistic;
        let (up, down) = (i64::from(direction > 0), i64::from(direction < 0));
        self.trend_steps =
            up * (self.trend_steps.max(0) + 1) - down * ((-self.trend_steps).max(0) + 1);
        let k3 = self.k(NelsonRule::Trend);
        if self.trend_steps.unsigned_abs() + 1 >= k3 && self.on(NelsonRule::Trend) {
            fire(out, NelsonRule::Trend, k3);
        }
        let moved = u64::from(direction != 0);
        let alternates = moved & u64::from(direction == -self.last_direction);
        self.alternating_steps =
            alternates * (self.alternating_steps + 1) + (1 - alternates) * moved;
        self.last_direction = direction;
        let k4 = self.k(NelsonRule::Alternating);
        if self.alternating_steps + 1 >= k4 && self.on(NelsonRule::Alternating) {
            fire(out, NelsonRule::Alternating, k4);
        }

        self.above_2 = (self.above_2 << 1) | u64::from(z > 2.0);
        self.below_2 = (self.below_2 << 1) | u64::from(z < -2.0);
        self.above_1 = (self.above_1 << 1) | u64::from(z > 1.0);
        self.below_1 = (self.below_1 << 1) | u64::from(z < -1.0);
        // Bit 0 is this point, which must itself be beyond the zone: test it first, as it is
        // rarely set.
        for (rule, history, window) in [
            (
                NelsonRule::ZoneA,
                self.above_2 | self.below_2,
                self.zone_a_window,
            ),
            (
                NelsonRule::ZoneB,
                self.above_1 | self.below_1,
                self.zone_b_window,
            ),
        ] {
            if history & 1 == 0 || !self.on(rule) {
                continue;
            }
            let same_side = match rule {
                NelsonRule::ZoneA if self.above_2 & 1 == 1 => self.above_2,
                NelsonRule::ZoneA => self.below_2,
                _ if self.above_1 & 1 == 1 => self.above_1,
                _ => self.below_1,
            } & window;
            if u64::from(same_side.count_ones()) >= self.k(rule) {
                let oldest = 63 - u64::from(same_side.leading_zeros());
                fire(out, rule, oldest + 1);
            }
        }

        let within = u64::from(z.abs() <= 1.0);
        self.within_1_run = within * (self.within_1_run + 1);
        self.beyond_1_run = (1 - within) * (self.beyond_1_run + 1);
        let k7 = self.k(NelsonRule::Stratification);
        if self.within_1_run >= k7 && self.on(NelsonRule::Stratification) {
            fire(out, NelsonRule::Stratification, k7);
        }
        let k8 = self.k(NelsonRule::Mixture);
        if self.beyond_1_run >= k8 && self.on(NelsonRule::Mixture) {
            fire(out, NelsonRule::Mixture, k8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rules: RuleSet, zs: &[f64]) -> Vec<Signal> {
        let k1 = rules.k(NelsonRule::Beyond);
        let mut d = RuleDetector::new(rules);
        let mut out = Vec::new();
        for &z in zs {
            let side = LimitSide::of_z(z, k1);
            d.push(z, z, side, &mut out);
        }
        out
    }

    fn fired(signals: &[Signal], test: NelsonRule) -> Vec<(usize, usize)> {
        signals
            .iter()
            .filter(|s| s.test == test)
            .map(|s| (s.first, s.index))
            .collect()
    }

    #[test]
    fn test1_is_strict() {
        let s = run(
            RuleSet::only(&[NelsonRule::Beyond]),
            &[3.0, 3.0001, -3.0, -3.5],
        );
        assert_eq!(fired(&s, NelsonRule::Beyond), vec![(1, 1), (3, 3)]);
    }

    #[test]
    fn test2_nine_in_a_row_and_center_breaks_run() {
        let mut zs = vec![0.5; 8];
        zs.push(0.0); // on the center line: ends the run
        zs.extend(vec![0.5; 10]);
        let s = run(RuleSet::only(&[NelsonRule::SameSide]), &zs);
        // The second run starts at index 9; its 9th point is index 17, then 18 too.
        assert_eq!(fired(&s, NelsonRule::SameSide), vec![(9, 17), (10, 18)]);
    }

    #[test]
    fn test3_six_rising_points_and_ties_break() {
        let zs = [0.0, 0.1, 0.2, 0.3, 0.4, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
        let s = run(RuleSet::only(&[NelsonRule::Trend]), &zs);
        // A tie at index 5 restarts; 5..=10 is the first run of six.
        assert_eq!(fired(&s, NelsonRule::Trend), vec![(5, 10), (6, 11)]);
    }

    #[test]
    fn test4_fourteen_alternating() {
        let zs: Vec<f64> = (0..15)
            .map(|i| if i % 2 == 0 { 0.5 } else { -0.5 })
            .collect();
        let s = run(RuleSet::only(&[NelsonRule::Alternating]), &zs);
        assert_eq!(fired(&s, NelsonRule::Alternating), vec![(0, 13), (1, 14)]);
    }

    #[test]
    fn test5_flagged_point_must_be_beyond() {
        // Beyond, beyond, inside: 2 of 3 at index 2 too, but flagged at index 1 only.
        // Index 3 completes 2 of 3 again (1 and 3), and index 5 (3 and 5).
        let s = run(
            RuleSet::only(&[NelsonRule::ZoneA]),
            &[2.5, 2.1, 0.0, 2.2, -2.2, 2.3],
        );
        assert_eq!(fired(&s, NelsonRule::ZoneA), vec![(0, 1), (1, 3), (3, 5)]);
    }

    #[test]
    fn test6_four_of_five_same_side() {
        let s = run(
            RuleSet::only(&[NelsonRule::ZoneB]),
            &[1.5, 1.2, 0.3, 1.1, 1.9, -1.5],
        );
        assert_eq!(fired(&s, NelsonRule::ZoneB), vec![(0, 4)]);
    }

    #[test]
    fn test7_and_test8() {
        let mut zs = vec![0.5; 15];
        zs.extend([1.5, -1.5, 1.5, -1.5, 1.5, -1.5, 1.5, -1.5]);
        let rules = RuleSet::only(&[NelsonRule::Stratification, NelsonRule::Mixture]);
        let s = run(rules, &zs);
        assert_eq!(fired(&s, NelsonRule::Stratification), vec![(0, 14)]);
        assert_eq!(fired(&s, NelsonRule::Mixture), vec![(15, 22)]);
    }

    #[test]
    fn zone_tests_accept_the_largest_k() {
        let rules = RuleSet::only(&[NelsonRule::ZoneA])
            .with_k(NelsonRule::ZoneA, 63.0)
            .unwrap();
        let s = run(rules, &[2.5; 64]);
        assert_eq!(fired(&s, NelsonRule::ZoneA).first(), Some(&(0, 62)));
    }

    #[test]
    fn western_electric_uses_eight_in_a_row() {
        let s = run(RuleSet::western_electric(), &[0.5; 8]);
        assert_eq!(fired(&s, NelsonRule::SameSide), vec![(0, 7)]);
    }

    #[test]
    fn parse_lists_and_reject_nonsense() {
        let set: RuleSet = "1,2:7,5".parse().unwrap();
        assert!(set.contains(NelsonRule::Beyond) && set.contains(NelsonRule::ZoneA));
        assert!(!set.contains(NelsonRule::Trend));
        assert_eq!(set.k(NelsonRule::SameSide), 7.0);
        assert!("9".parse::<RuleSet>().is_err());
        assert!("1,x".parse::<RuleSet>().is_err());
        assert!("5:64".parse::<RuleSet>().is_err());
        assert!("2:1.5".parse::<RuleSet>().is_err());
    }
}
