//! Signal episodes: a run of flagged points, as the probe Worker groups them for alerts
//! (workers/src/alert.rs). An episode opens at a flagged point and closes after `clean_run`
//! unflagged points in a row; it spans its patterns, from the first point of the earliest
//! signal's pattern (e.g. the first of nine on one side) to the last flagged point.

use crate::{NelsonRule, RuleSignal, Signal};

/// Unflagged points in a row that close an episode: the Worker's default.
pub const CLEAN_RUN: usize = 9;

/// One episode.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Episode {
    /// The first point of its earliest pattern (0-based).
    pub first: usize,
    /// Its last flagged point.
    pub last: usize,
    /// The tests that fired in it, each once, in test order.
    pub tests: Vec<NelsonRule>,
    /// The named rules ([`crate::custom`]) that fired in it, by their position in the set,
    /// each once, in the set's order; empty without named rules.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Vec::is_empty"))]
    pub rules: Vec<usize>,
}

/// The episodes of `signals` (any order), from `start` on: signals completed before `start`
/// (the baseline's) are left out.
pub fn episodes(signals: &[Signal], start: usize, clean_run: usize) -> Vec<Episode> {
    with_rules(signals, &[], start, clean_run)
}

/// What flagged a point: a test, or a named rule (its position in the set).
#[derive(Clone, Copy)]
enum Fired {
    Test(NelsonRule),
    Rule(usize),
}

/// The episodes of Nelson's `signals` and the named rules' `rule_signals` together (any
/// order), from `start` on: a named rule flags its point as a test does. Pass only the rules
/// that alarm (a warning rule is reported, not alarmed on).
pub fn with_rules(
    signals: &[Signal],
    rule_signals: &[RuleSignal],
    start: usize,
    clean_run: usize,
) -> Vec<Episode> {
    let tests = signals
        .iter()
        .map(|s| (s.index, s.first, Fired::Test(s.test)));
    let rules = rule_signals
        .iter()
        .map(|s| (s.index, s.first, Fired::Rule(s.rule)));
    let mut sorted: Vec<(usize, usize, Fired)> =
        tests.chain(rules).filter(|s| s.0 >= start).collect();
    super::sort::sort_by_key(&mut sorted, |s| s.0 as u64);
    let mut out: Vec<Episode> = Vec::new();
    for (index, first, fired) in sorted {
        if out.last().is_none_or(|e| index > e.last + clean_run) {
            out.push(Episode {
                first,
                last: index,
                tests: Vec::new(),
                rules: Vec::new(),
            });
        }
        let Some(e) = out.last_mut() else { continue };
        e.first = e.first.min(first);
        e.last = e.last.max(index);
        match fired {
            Fired::Test(t) if !e.tests.contains(&t) => e.tests.push(t),
            Fired::Rule(r) if !e.rules.contains(&r) => e.rules.push(r),
            _ => {}
        }
    }
    for e in &mut out {
        super::sort::sort_by_key(&mut e.tests, |t| *t as u64);
        e.rules.sort_unstable();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(test: NelsonRule, first: usize, index: usize) -> Signal {
        Signal {
            test,
            index,
            first,
            last: index,
        }
    }

    #[test]
    fn a_clean_run_closes_an_episode() {
        let signals = [
            signal(NelsonRule::SameSide, 92, 100),
            signal(NelsonRule::Beyond, 101, 101),
            signal(NelsonRule::SameSide, 93, 101),
            signal(NelsonRule::Beyond, 110, 110),
            signal(NelsonRule::Beyond, 120, 120),
            signal(NelsonRule::Beyond, 10, 10),
        ];
        let got = episodes(&signals, 50, CLEAN_RUN);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!((got[0].first, got[0].last), (92, 110));
        assert_eq!(got[0].tests, [NelsonRule::Beyond, NelsonRule::SameSide]);
        assert_eq!((got[1].first, got[1].last), (120, 120));
    }

    #[test]
    fn a_named_rule_flags_its_point_as_a_test_does() {
        let signals = [signal(NelsonRule::Beyond, 101, 101)];
        let rule = |rule, first, index| RuleSignal {
            rule,
            index,
            first,
            last: index,
        };
        // 2-2s (rule 2) at 100 opens the episode a test extends; R-4s (rule 3) at 110 comes
        // before 9 clean points; rule 2 again at 130 opens a second one.
        let rules = [rule(3, 109, 110), rule(2, 99, 100), rule(2, 129, 130)];
        let got = with_rules(&signals, &rules, 50, CLEAN_RUN);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!((got[0].first, got[0].last), (99, 110));
        assert_eq!(got[0].tests, [NelsonRule::Beyond]);
        assert_eq!(got[0].rules, [2, 3]);
        assert_eq!(
            (got[1].first, got[1].last, got[1].tests.len()),
            (129, 130, 0)
        );
        assert_eq!(got[1].rules, [2]);
        // Without named rules, the episodes are the tests' alone.
        assert_eq!(
            with_rules(&signals, &[], 0, CLEAN_RUN),
            episodes(&signals, 0, CLEAN_RUN)
        );
    }
}
