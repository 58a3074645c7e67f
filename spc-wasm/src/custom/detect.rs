//! The streaming detector of named rules: O(1) time per point and rule, memory O(1) per rule
//! (a queue of at most N point indexes for a K-of-N rule with K < N).

use super::{CustomRules, Direction, Level, Pattern, PointTest, Side};
use crate::rules::LimitSide;
use std::collections::VecDeque;

/// A named rule found at one point: the rule (its position in [`CustomRules::rules`]), the
/// point that completed the pattern (`index` = `last`) and the first point of the pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RuleSignal {
    /// The rule's position in the set.
    pub rule: usize,
    /// The 0-based index of the point that completed the pattern.
    pub index: usize,
    /// The first point of the pattern.
    pub first: usize,
    /// The last point of the pattern (always `index`).
    pub last: usize,
}

/// What one rule remembers.
#[derive(Clone, Debug)]
enum Memory {
    /// K = N: the run length of each side group.
    Run([u64; 2]),
    /// K < N: the indexes of the recent points that met the test, per side group.
    Window([VecDeque<usize>; 2]),
    /// Signed number of rising (+) or falling (-) steps in a row.
    Trend(i64),
    /// Alternating steps in a row.
    Alternating(u64),
    /// Points in a row beyond on alternate sides, and the side of the last (+1, -1, 0).
    Opposite(u64, i8),
}

/// The streaming state of a set of named rules.
#[derive(Clone, Debug)]
pub struct CustomDetector {
    rules: CustomRules,
    memory: Vec<Memory>,
    /// Each rule's threshold in the data's units (NaN when it has none).
    thresholds: Vec<f64>,
    next_index: usize,
    previous: f64,
    last_direction: i8,
}

impl CustomDetector {
    /// A detector at the start of a series.
    pub fn new(rules: CustomRules) -> CustomDetector {
        let memory = rules
            .rules()
            .iter()
            .map(|r| match r.pattern {
                Pattern::Points { k, n, .. } if k == n => Memory::Run([0; 2]),
                Pattern::Points { .. } => Memory::Window(Default::default()),
                Pattern::Trend { .. } => Memory::Trend(0),
                Pattern::Alternating { .. } => Memory::Alternating(0),
                Pattern::OppositeSides { .. } => Memory::Opposite(0, 0),
            })
            .collect();
        let thresholds = rules
            .rules()
            .iter()
            .map(|r| match r.pattern.threshold() {
                Some(t) => rules.value(t),
                None => f64::NAN,
            })
            .collect();
        CustomDetector {
            rules,
            memory,
            thresholds,
            next_index: 0,
            previous: f64::NAN,
            last_direction: 0,
        }
    }

    /// The rules this detector runs.
    pub fn rules(&self) -> &CustomRules {
        &self.rules
    }

    /// Each rule's threshold in the data's units (NaN when it has none).
    pub(crate) fn thresholds(&self) -> &[f64] {
        &self.thresholds
    }

    /// Judges the next point, as [`crate::RuleDetector::push`] does: `statistic` in the data's
    /// units (fixed thresholds, trends), `z` its distance from the center line in sigma, `side`
    /// where it lies relative to the control limits. Appends the signals it completes.
    pub fn push(&mut self, statistic: f64, z: f64, side: LimitSide, out: &mut Vec<RuleSignal>) {
        let i = self.next_index;
        self.next_index += 1;
        // NaN (no previous point) compares false both ways: no direction.
        let direction = i8::from(statistic > self.previous) - i8::from(statistic < self.previous);
        let alternates = direction != 0 && direction == -self.last_direction;
        self.previous = statistic;
        self.last_direction = direction;
        let (lsl, usl) = self.rules.spec_limits();
        for (rule, (memory, r)) in self.memory.iter_mut().zip(self.rules.rules()).enumerate() {
            let mut fire = |length: u64| {
                out.push(RuleSignal {
                    rule,
                    index: i,
                    first: i + 1 - length as usize,
                    last: i,
                })
            };
            match (memory, r.pattern) {
                (Memory::Run(runs), Pattern::Points { n, test, .. }) => {
                    let hits = hits(test, statistic, z, side, self.thresholds[rule], lsl, usl);
                    for (run, hit) in runs.iter_mut().zip(hits) {
                        *run = if hit { *run + 1 } else { 0 };
                        if hit && *run >= u64::from(n) {
                            fire(u64::from(n));
                        }
                    }
                }
                (Memory::Window(windows), Pattern::Points { k, n, test }) => {
                    let hits = hits(test, statistic, z, side, self.thresholds[rule], lsl, usl);
                    for (window, hit) in windows.iter_mut().zip(hits) {
                        while window.front().is_some_and(|&f| f + n as usize <= i) {
                            window.pop_front();
                        }
                        if hit {
                            window.push_back(i);
                            if window.len() >= k as usize {
                                let oldest = window.front().copied().unwrap_or(i);
                                fire((i - oldest + 1) as u64);
                            }
                        }
                    }
                }
                (Memory::Trend(steps), Pattern::Trend { n, direction: way }) => {
                    *steps = match direction {
                        1 => (*steps).max(0) + 1,
                        -1 => (*steps).min(0) - 1,
                        _ => 0,
                    };
                    let run_ok = match way {
                        Direction::Rising => *steps > 0,
                        Direction::Falling => *steps < 0,
                        Direction::Either => true,
                    };
                    if run_ok && steps.unsigned_abs() + 1 >= u64::from(n) {
                        fire(u64::from(n));
                    }
                }
                (Memory::Alternating(steps), Pattern::Alternating { n }) => {
                    *steps = if alternates {
                        *steps + 1
                    } else {
                        u64::from(direction != 0)
                    };
                    if *steps + 1 >= u64::from(n) {
                        fire(u64::from(n));
                    }
                }
                (Memory::Opposite(run, last), Pattern::OppositeSides { n, z: level }) => {
                    let sign = i8::from(z > level) - i8::from(z < -level);
                    *run = match sign {
                        0 => 0,
                        s if s == -*last && *run > 0 => *run + 1,
                        _ => 1,
                    };
                    *last = sign;
                    if *run >= u64::from(n) {
                        fire(u64::from(n));
                    }
                }
                // Each memory is made for its pattern in `new`.
                _ => {}
            }
        }
    }
}

/// Whether a point meets the test, for each side group (the second group is used only by
/// [`Side::Same`]: above, then below).
#[inline]
pub(crate) fn hits(
    test: PointTest,
    statistic: f64,
    z: f64,
    side: LimitSide,
    threshold: f64,
    lsl: Option<f64>,
    usl: Option<f64>,
) -> [bool; 2] {
    match test {
        PointTest::Beyond { level, side: which } => {
            let (up, down) = match level {
                Level::Sigma(s) => (z > s, z < -s),
                Level::Limits => (side == LimitSide::Above, side == LimitSide::Below),
                Level::Value(_) => (statistic > threshold, statistic < threshold),
            };
            match which {
                Side::Same => [up, down],
                Side::Either => [up || down, false],
                Side::Above => [up, false],
                Side::Below => [down, false],
            }
        }
        PointTest::Within(s) => [z.abs() <= s, false],
        PointTest::OutsideSpec => [
            usl.is_some_and(|u| statistic > u) || lsl.is_some_and(|l| statistic < l),
            false,
        ],
    }
}
