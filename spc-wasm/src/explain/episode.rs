//! Signal episodes: a run of flagged points, as the probe Worker groups them for alerts
//! (workers/src/alert.rs). An episode opens at a flagged point and closes after `clean_run`
//! unflagged points in a row; it spans its patterns, from the first point of the earliest
//! signal's pattern (e.g. the first of nine on one side) to the last flagged point.

use crate::{NelsonRule, Signal};

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
}

/// The episodes of `signals` (any order), from `start` on: signals completed before `start`
/// (the baseline's) are left out.
pub fn episodes(signals: &[Signal], start: usize, clean_run: usize) -> Vec<Episode> {
    let mut sorted: Vec<&Signal> = signals.iter().filter(|s| s.index >= start).collect();
    super::sort::sort_by_key(&mut sorted, |s| (s.index as u64) << 8 | s.test as u64);
    let mut out: Vec<Episode> = Vec::new();
    for s in sorted {
        match out.last_mut() {
            Some(e) if s.index <= e.last + clean_run => {
                e.first = e.first.min(s.first);
                e.last = e.last.max(s.index);
                if !e.tests.contains(&s.test) {
                    e.tests.push(s.test);
                }
            }
            _ => out.push(Episode {
                first: s.first,
                last: s.index,
                tests: vec![s.test],
            }),
        }
    }
    for e in &mut out {
        super::sort::sort_by_key(&mut e.tests, |t| *t as u64);
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
}
