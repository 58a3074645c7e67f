//! The explanation of every episode of one stream (issue 13's `explain` contract): its shape
//! and evidence, what else changed, the suggested causes, and the most similar past windows.

use super::cause::{suggest, Context, ContextSeries, Domain, Suggestion};
use super::co_moving::{rank_coded, CoMoving, Codes};
use super::episode::{with_rules, Episode, CLEAN_RUN};
use super::mass::similar;
use super::shape::{classify, Evidence, Shape, MIN_WINDOW};
use crate::transform::TransformKind;
use crate::{analyze, ChartSpec, ChartType, Data, NelsonRule, SpcError};

/// Streams ranked in "what else changed".
pub const CO_MOVING: usize = 5;
/// Similar past windows kept.
pub const SIMILAR: usize = 3;
/// The shortest window matched: fewer points have no shape to compare.
pub const MIN_QUERY: usize = 8;

/// One named series; every series shares the same index (time) axis.
#[derive(Clone, Copy, Debug)]
pub struct Stream<'a> {
    /// Its name, e.g. a CSV column's.
    pub name: &'a str,
    /// Its values.
    pub values: &'a [f64],
}

/// A past window like the episode.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Similar {
    /// The stream it is in.
    pub stream: String,
    /// Its first point (0-based): the one aligned with the episode's first. The window matched
    /// also holds the context around it, as the query does ([`query_span`]).
    pub first: usize,
    /// Its last point, aligned with the episode's last.
    pub last: usize,
    /// z-normalized Euclidean distance of the matched window to the episode's query.
    pub distance: f64,
}

/// One episode, explained.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct EpisodeReport {
    /// First point of its earliest pattern (0-based).
    pub first: usize,
    /// Its last flagged point.
    pub last: usize,
    /// The tests that fired.
    pub tests: Vec<NelsonRule>,
    /// The named rules ([`crate::custom`]) that fired, by name (`"2-2s"`), in the set's
    /// order; warnings open no episode and are not listed.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Vec::is_empty"))]
    pub rules: Vec<String>,
    /// Its shape.
    pub shape: Shape,
    /// The features the shape was read from.
    pub evidence: Evidence,
    /// The other streams that changed most over it.
    pub co_moving: Vec<CoMoving>,
    /// Suggested causes, best first.
    pub suggestions: Vec<Suggestion>,
    /// The most similar earlier windows, in this stream and its `kin`.
    pub similar: Vec<Similar>,
}

/// Explains every Phase II episode (every episode of a retrospective study) of
/// `streams[column]` on the chart `spec` (one of individual values: individuals, EWMA or
/// CUSUM, untransformed, since the shape is read on the values' own scale). `kin` are the
/// indexes of the streams of the same kind, searched for similar windows besides the stream
/// itself.
pub fn explain(
    streams: &[Stream<'_>],
    column: usize,
    kin: &[usize],
    spec: &ChartSpec,
    domain: Domain,
) -> Result<Vec<EpisodeReport>, SpcError> {
    let me = streams.get(column).ok_or(SpcError::InvalidParameter {
        name: "column",
        message: format!("no stream {column}; there are {}", streams.len()),
    })?;
    check_chart(spec)?;
    let chart = analyze(spec, &Data::Values(me.values.to_vec()))?;
    let est = &chart.estimate;
    // Phase II episodes; a retrospective study (the baseline is every point) has only Phase I.
    let start = if est.baseline_end < me.values.len() {
        est.baseline_end
    } else {
        0
    };
    let custom = chart.primary.rules.custom().rules();
    let alarms: Vec<_> = chart
        .primary
        .rule_signals
        .iter()
        .filter(|s| custom.get(s.rule).is_some_and(|r| !r.warning))
        .cloned()
        .collect();
    let found = with_rules(&chart.primary.signals, &alarms, start, CLEAN_RUN);
    let ends: Vec<usize> = found
        .iter()
        .skip(1)
        .map(|next| next.first)
        .chain([me.values.len()])
        .collect();
    let chart = Baseline {
        center: est.center,
        sigma: est.sigma,
    };
    // The other streams' bins, kept from episode to episode when there are many.
    let mut codes = Codes::for_episodes(found.len());
    Ok(found
        .iter()
        .zip(ends)
        .map(|(e, end)| {
            let mut report = episode_coded(streams, column, kin, e, end, chart, domain, &mut codes);
            report.rules = e
                .rules
                .iter()
                .filter_map(|&r| custom.get(r).map(|r| r.name.clone()))
                .collect();
            report
        })
        .collect())
}

/// [`explain`], with each episode's causes confirmed by `context`, what is known of each point
/// besides the values (a probe's 429s, failures, model, colo, tokens), read over the episode
/// against its baseline ([`ContextSeries::around`]).
pub fn explain_in_context(
    streams: &[Stream<'_>],
    column: usize,
    kin: &[usize],
    spec: &ChartSpec,
    domain: Domain,
    context: &ContextSeries,
) -> Result<Vec<EpisodeReport>, SpcError> {
    let mut reports = explain(streams, column, kin, spec, domain)?;
    for r in &mut reports {
        let around = context.around(r.first, r.last, r.co_moving.clone());
        r.suggestions = suggest(domain, r.shape, &around, &[]);
    }
    Ok(reports)
}

/// The center and sigma an episode's shape is read against.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Baseline {
    /// The chart's center line.
    pub center: f64,
    /// The process sigma.
    pub sigma: f64,
}

/// One episode of `streams[column]` explained; `end` is where the next episode starts (or the
/// stream's length), so its window does not reach into it. Its `rules` are left empty: the
/// episode knows its rules by position, and the caller holds their names.
pub fn episode(
    streams: &[Stream<'_>],
    column: usize,
    kin: &[usize],
    e: &Episode,
    end: usize,
    chart: Baseline,
    domain: Domain,
) -> EpisodeReport {
    episode_coded(
        streams,
        column,
        kin,
        e,
        end,
        chart,
        domain,
        &mut Codes::default(),
    )
}

/// [`episode`], with the other streams' bins kept in `codes` for the next episode.
#[allow(clippy::too_many_arguments)]
fn episode_coded(
    streams: &[Stream<'_>],
    column: usize,
    kin: &[usize],
    e: &Episode,
    end: usize,
    chart: Baseline,
    domain: Domain,
    codes: &mut Codes,
) -> EpisodeReport {
    let values = streams[column].values;
    let upto = &values[..end.clamp(e.last + 1, values.len())];
    let (shape, evidence) = classify(upto, e.first, e.last, chart.center, chart.sigma, &e.tests);
    let others = streams
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != column)
        .map(|(_, s)| (s.name, s.values));
    let co_moving = rank_coded(others, e.first, reach(e, values.len()), CO_MOVING, codes);
    let context = Context {
        co_moving: co_moving.clone(),
        ..Context::default()
    };
    EpisodeReport {
        first: e.first,
        last: e.last,
        similar: past(streams, column, kin, e, query(values, e, shape)),
        suggestions: suggest(domain, shape, &context, &[]),
        tests: e.tests.clone(),
        rules: Vec::new(),
        shape,
        evidence,
        co_moving,
    }
}

/// The last point of an episode's window for what else changed: the episode, extended to
/// [`MIN_WINDOW`] points as for its shape (a few flagged points are too few to compare
/// distributions, and a partner that lags the episode has not moved yet). Unlike the shape's
/// window it may reach into the next episode: a drift's first flagged points often close
/// early, and the other streams do not know where this one's episodes end.
fn reach(e: &Episode, len: usize) -> usize {
    (e.first + MIN_WINDOW - 1).clamp(e.last, len - 1)
}

fn check_chart(spec: &ChartSpec) -> Result<(), SpcError> {
    let individual = matches!(
        spec.chart,
        ChartType::Individuals | ChartType::Ewma { .. } | ChartType::Cusum { .. }
    );
    if !individual {
        return Err(SpcError::InvalidParameter {
            name: "chart",
            message: format!(
                "explain reads shapes on individual values; the {} chart has subgroups or \
                 counts (use individuals, ewma or cusum)",
                spec.chart.name()
            ),
        });
    }
    if spec.transform != TransformKind::None {
        return Err(SpcError::InvalidParameter {
            name: "transform",
            message: "explain reads shapes on the values' own scale; leave the transform out"
                .into(),
        });
    }
    Ok(())
}

/// The query for similar windows: the episode with [`PAD`] of its length (at least
/// [`CONTEXT`] points) of context on each side where the stream has them, then at least
/// [`MIN_QUERY`] points. Without the context a step's window is its plateau, whose
/// z-normalized shape is noise: the onset and the end are the motif. And a spike alone in a
/// few points is like any window whose largest point is at the same place; among quiet
/// points it stands out (`explain_goals`, on the matched windows: the earlier occurrence
/// first in 0.74 of recurring motifs with 4 points of context, 0.94 with 24).
pub fn query_span(first: usize, last: usize, n: usize) -> (usize, usize) {
    let pad = ((last + 1 - first) as f64 * PAD).ceil() as usize;
    let pad = pad.max(CONTEXT);
    let start = first.saturating_sub(pad);
    let end = (last + pad).min(n - 1);
    let len = (end + 1 - start).max(MIN_QUERY).min(n);
    let start = start.min(n - len);
    (start, (start + len - 1).max(end))
}

/// Context on each side of an episode's query, as a share of its length.
pub const PAD: f64 = 0.5;
/// The least context on each side of an episode's query, in points.
pub const CONTEXT: usize = 24;

/// The points searched for among past windows: [`query_span`]'s, except for a stuck episode
/// with a held value: its first [`HELD_QUERY`] repeated points (at least [`MIN_QUERY`]). A held
/// run has no shape to z-normalize, and its context's depends on where the value stuck; flat,
/// it matches flat windows only (at distance 0, [`super::mass`]'s convention): other stuck runs.
fn query(values: &[f64], e: &Episode, shape: Shape) -> (usize, usize) {
    let held = (shape == Shape::Stuck)
        .then(|| longest_run(&values[e.first..=e.last.min(values.len() - 1)]))
        .filter(|&(_, len)| len >= MIN_QUERY);
    match held {
        Some((at, len)) => (e.first + at, e.first + at + len.min(HELD_QUERY) - 1),
        None => query_span(e.first, e.last, values.len()),
    }
}

/// Points of a held run searched for: enough to tell a sensor that stuck from chance ties.
pub const HELD_QUERY: usize = 2 * MIN_QUERY;

/// Where the longest run of equal consecutive values starts, and its length.
fn longest_run(v: &[f64]) -> (usize, usize) {
    let (mut best, mut start) = ((0, 0), 0);
    for i in 0..v.len() {
        if i > 0 && v[i] != v[i - 1] {
            start = i;
        }
        if i + 1 - start > best.1 {
            best = (start, i + 1 - start);
        }
    }
    best
}

/// The [`SIMILAR`] closest windows before the query `start..=end` in the stream and its kin,
/// each given as the points that align with the episode `e` in it (the query's context left
/// out), so that it reads as the past episode's span.
fn past(
    streams: &[Stream<'_>],
    column: usize,
    kin: &[usize],
    e: &Episode,
    (start, end): (usize, usize),
) -> Vec<Similar> {
    let values = streams[column].values;
    let query = &values[start..=end];
    let mut all: Vec<Similar> = std::iter::once(column)
        .chain(
            kin.iter()
                .copied()
                .filter(|&k| k != column && k < streams.len()),
        )
        .flat_map(|k| {
            similar(query, streams[k].values, start, SIMILAR)
                .into_iter()
                .map(move |m| {
                    let first = (m.first + e.first).saturating_sub(start);
                    Similar {
                        stream: streams[k].name.to_string(),
                        first,
                        last: (first + e.last - e.first).min(streams[k].values.len() - 1),
                        distance: m.distance,
                    }
                })
        })
        .collect();
    super::sort::sort_by_key(&mut all, |m| super::sort::ascending(m.distance));
    all.truncate(SIMILAR);
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::faults::{MEAN, SIGMA};
    use crate::{Baseline, Rng};

    /// A press: the barrel temperature steps when the setpoint does, twice; the pressure
    /// never moves; the second step's most similar past window is the first step.
    #[test]
    fn a_step_with_its_setpoint_and_the_earlier_step_found() {
        let mut rng = Rng::new(3);
        let n = 700;
        let setpoint: Vec<f64> = (0..n)
            .map(|i| {
                if (200..300).contains(&i) || i >= 600 {
                    65.0
                } else {
                    60.0
                }
            })
            .collect();
        let temperature: Vec<f64> = setpoint
            .iter()
            .map(|sp| MEAN + (sp - 60.0) + SIGMA * 0.5 * rng.normal())
            .collect();
        let pressure: Vec<f64> = (0..n).map(|_| 120.0 + 3.0 * rng.normal()).collect();
        let streams = [
            Stream {
                name: "temperature",
                values: &temperature,
            },
            Stream {
                name: "pressure",
                values: &pressure,
            },
            Stream {
                name: "setpoint",
                values: &setpoint,
            },
        ];
        let spec = ChartSpec {
            baseline: Baseline::FirstN { n: 150 },
            ..ChartSpec::new(ChartType::Individuals)
        };
        let reports = explain(&streams, 0, &[], &spec, Domain::Plant).unwrap();
        assert!(reports.len() >= 2, "{reports:?}");
        let first = &reports[0];
        assert_eq!(first.shape, Shape::Step, "{:?}", first.evidence);
        assert!((195..210).contains(&first.first), "{}", first.first);
        assert_eq!(first.co_moving[0].stream, "setpoint");
        assert_eq!(first.suggestions[0].cause, "setpoint change");
        let firsts: Vec<usize> = reports.iter().map(|r| r.first).collect();
        let last = reports
            .iter()
            .find(|r| (595..610).contains(&r.first))
            .unwrap_or_else(|| panic!("no episode at the second step: {firsts:?}"));
        assert_eq!(last.shape, Shape::Step);
        assert!(
            last.similar
                .iter()
                .any(|s| s.stream == "temperature" && s.first.abs_diff(first.first) < 10),
            "{:?}",
            last.similar
        );
    }

    /// A probe target's TTFT steps up when the provider moves the alias to a new model:
    /// without context the step's first cause is a guess at its prior; with the responses'
    /// model it is confirmed.
    #[test]
    fn the_context_confirms_the_cause_of_a_step() {
        let mut rng = Rng::new(11);
        let ttft: Vec<f64> = (0..300)
            .map(|i| 400.0 + if i >= 200 { 120.0 } else { 0.0 } + 10.0 * rng.normal())
            .collect();
        let streams = [Stream {
            name: "ttft_ms",
            values: &ttft,
        }];
        let spec = ChartSpec {
            baseline: Baseline::FirstN { n: 100 },
            ..ChartSpec::new(ChartType::Individuals)
        };
        let context = ContextSeries {
            model: (0..300)
                .map(|i| Some(if i >= 200 { "m-2025" } else { "m-2024" }.to_string()))
                .collect(),
            ..ContextSeries::default()
        };
        let plain = explain(&streams, 0, &[], &spec, Domain::Llm).unwrap();
        let known = explain_in_context(&streams, 0, &[], &spec, Domain::Llm, &context).unwrap();
        assert_eq!(known.len(), plain.len());
        let step = known
            .iter()
            .find(|r| (195..=205).contains(&r.first))
            .unwrap();
        assert_eq!(step.shape, Shape::Step, "{:?}", step.evidence);
        assert_eq!(step.suggestions[0].cause, "model version change");
        assert!(step.suggestions[0].score >= 0.8);
        assert!(step.suggestions[0]
            .evidence
            .contains("changed from m-2024 to m-2025"));
        // Without it, the same cause is only the step's likeliest guess, at its prior.
        let same = plain.iter().find(|r| r.first == step.first).unwrap();
        assert!(same.suggestions[0].score < 0.8, "{:?}", same.suggestions[0]);
    }

    #[test]
    fn the_query_has_context_on_both_sides_where_the_stream_has_it() {
        assert_eq!(
            query_span(100, 159, 1000),
            (70, 189),
            "half of 60 each side"
        );
        assert_eq!(query_span(100, 100, 1000), (76, 124), "at least CONTEXT");
        assert_eq!(query_span(10, 12, 1000), (0, 36), "clipped at the start");
        assert_eq!(query_span(990, 999, 1000), (966, 999), "the latest episode");
        assert_eq!(query_span(2, 3, 6), (0, 5), "a short stream: all of it");
        assert_eq!(longest_run(&[1.0, 2.0, 2.0, 2.0, 3.0, 3.0]), (1, 3));
    }

    /// With Westgard's rules alone (`--tests westgard`), an episode opens where a rule fires and
    /// is named by it; the 1-2s warning opens none (Westgard, Barry, Hunt, Groth 1981).
    #[test]
    fn named_rules_open_episodes_by_name_and_warnings_do_not() {
        // Alternating within 1 sigma: no Westgard rule fires on its own.
        let mut v: Vec<f64> = (0..120)
            .map(|i| 10.0 + if i % 2 == 0 { 0.2 } else { -0.2 })
            .collect();
        fn streams(v: &[f64]) -> [Stream<'_>; 1] {
            [Stream {
                name: "glucose",
                values: v,
            }]
        }
        let spec = ChartSpec {
            baseline: Baseline::FirstN { n: 60 },
            tests: crate::custom::parse_tests("westgard").unwrap(),
            ..ChartSpec::new(ChartType::Individuals)
        };
        let chart = analyze(&spec, &Data::Values(v.clone())).unwrap();
        let (mean, sigma) = (chart.estimate.center, chart.sigma());
        // One point beyond 2 sigma: a 1-2s warning only.
        v[80] = mean + 2.5 * sigma;
        let warned = explain(&streams(&v), 0, &[], &spec, Domain::Plant).unwrap();
        assert!(warned.is_empty(), "{warned:?}");
        // Two in a row beyond 2 sigma on one side: 2-2s.
        v[100] = mean + 2.5 * sigma;
        v[101] = mean + 2.5 * sigma;
        let reports = explain(&streams(&v), 0, &[], &spec, Domain::Plant).unwrap();
        assert_eq!(reports.len(), 1, "{reports:?}");
        assert_eq!((reports[0].first, reports[0].last), (100, 101));
        assert_eq!(
            (reports[0].tests.len(), &reports[0].rules[..]),
            (0, &["2-2s".to_string()][..])
        );
    }

    #[test]
    fn charts_of_subgroups_and_transforms_are_refused() {
        let v = vec![1.0; 30];
        let streams = [Stream {
            name: "x",
            values: &v,
        }];
        let xbar = ChartSpec::new(ChartType::XbarR);
        let e = explain(&streams, 0, &[], &xbar, Domain::Plant).unwrap_err();
        assert!(
            e.to_string().contains("use individuals, ewma or cusum"),
            "{e}"
        );
        assert!(explain(&streams, 3, &[], &ChartSpec::default(), Domain::Plant).is_err());
    }
}
