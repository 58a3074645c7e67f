//! Issue 13's goals measured on seeded [`super::cases`], through the whole [`super::explain`]
//! pipeline (chart, episodes, shape, what else changed, similar windows), as the CLI runs it:
//! - **coupled:** each stream the injected cause also moved is in the top 3 of what else
//!   changed, for the target's first episode that overlaps the fault (goal ≥ 0.95);
//! - **motif:** the first of the similar past windows of the episode that overlaps a motif's
//!   recurrence is its earlier occurrence: in the same stream, the two overlapping by at least
//!   half the shorter's length (goal ≥ 0.9).

use super::cases::{coupled, motif, Case, COUPLED, MOTIFS};
use super::cause::Domain;
use super::report::{explain, EpisodeReport, Stream};
use crate::{Baseline, ChartSpec, ChartType, Rng};

/// Places in what else changed that count as found.
pub const TOP: usize = 3;

/// How often the coupled streams were found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CoupledScore {
    /// Cases generated.
    pub cases: usize,
    /// Cases whose fault raised an episode in the target.
    pub detected: usize,
    /// Partner streams of the detected cases.
    pub partners: usize,
    /// Partners ranked in the top [`TOP`].
    pub found: usize,
    /// `places[k]`: partners ranked at place k + 1 (of 5); `places[5]`: not in the top 5.
    pub places: [usize; 6],
    /// Per shape of [`COUPLED`]: (partners found, partners).
    pub by_shape: [(usize, usize); 3],
}

impl CoupledScore {
    /// Share of partners in the top [`TOP`].
    pub fn recall(&self) -> f64 {
        self.found as f64 / self.partners.max(1) as f64
    }
}

/// `cases` coupled faults from `seed`, each among 10 to 50 streams.
pub fn coupled_score(cases: usize, seed: u64) -> CoupledScore {
    let mut rng = Rng::new(seed);
    let mut score = CoupledScore {
        cases,
        ..CoupledScore::default()
    };
    for _ in 0..cases {
        let streams = 10 + rng.below(41) as usize;
        let case = coupled(&mut rng, streams);
        let Some(report) = fault_episode(&case, &[]) else {
            continue;
        };
        score.detected += 1;
        let row = COUPLED.iter().position(|s| *s == case.shape).unwrap_or(0);
        for &p in &case.partners {
            let place = report
                .co_moving
                .iter()
                .position(|c| c.stream == case.names[p])
                .unwrap_or(5);
            score.partners += 1;
            score.places[place.min(5)] += 1;
            score.found += usize::from(place < TOP);
            score.by_shape[row].0 += usize::from(place < TOP);
            score.by_shape[row].1 += 1;
        }
    }
    score
}

/// How often a motif's earlier occurrence was found first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MotifScore {
    /// Cases generated.
    pub cases: usize,
    /// Cases whose recurrence raised an episode in the target.
    pub detected: usize,
    /// Detected cases whose first similar window is the earlier occurrence.
    pub found: usize,
    /// Per shape of [`MOTIFS`]: (found, detected).
    pub by_shape: [(usize, usize); 6],
    /// Found, among the detected cases whose earlier occurrence is in a kin stream: (found,
    /// detected).
    pub in_kin: (usize, usize),
}

impl MotifScore {
    /// Share of detected cases whose earlier occurrence was found first.
    pub fn precision(&self) -> f64 {
        self.found as f64 / self.detected.max(1) as f64
    }
}

/// `cases` recurring motifs from `seed`, each among 10 to 50 streams.
pub fn motif_score(cases: usize, seed: u64) -> MotifScore {
    let mut rng = Rng::new(seed);
    let mut score = MotifScore {
        cases,
        ..MotifScore::default()
    };
    for _ in 0..cases {
        let streams = 10 + rng.below(41) as usize;
        let case = motif(&mut rng, streams);
        let (Some(earlier), Some(report)) = (case.earlier, fault_episode(&case, &case.kin)) else {
            continue;
        };
        let hit = report.similar.first().is_some_and(|s| {
            let overlap = (s.last.min(earlier.last) + 1).saturating_sub(s.first.max(earlier.first));
            let shorter = (s.last - s.first).min(earlier.last - earlier.first) + 1;
            s.stream == case.names[earlier.stream] && 2 * overlap >= shorter
        });
        let row = MOTIFS.iter().position(|s| *s == case.shape).unwrap_or(0);
        score.detected += 1;
        score.found += usize::from(hit);
        score.by_shape[row].0 += usize::from(hit);
        score.by_shape[row].1 += 1;
        if earlier.stream != case.target {
            score.in_kin.0 += usize::from(hit);
            score.in_kin.1 += 1;
        }
    }
    score
}

/// The target's first episode that overlaps the fault, explained on an individuals chart with
/// the first 100 points as the baseline; `kin` are the target's streams of the same kind.
pub fn fault_episode(case: &Case, kin: &[usize]) -> Option<EpisodeReport> {
    let streams: Vec<Stream> = case
        .names
        .iter()
        .zip(&case.streams)
        .map(|(name, values)| Stream { name, values })
        .collect();
    let spec = ChartSpec {
        baseline: Baseline::FirstN { n: 100 },
        ..ChartSpec::new(ChartType::Individuals)
    };
    let reports = explain(&streams, case.target, kin, &spec, Domain::Plant).ok()?;
    reports
        .into_iter()
        .find(|r| r.last >= case.first && r.first <= case.last)
}
