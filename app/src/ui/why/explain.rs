//! One episode's context, computed by the engine (`llmscope_spc::explain::report::episode`)
//! when the panel opens: its shape and evidence, what else changed, the suggested causes and
//! the most similar past windows, with the causes the user recorded on them.
//!
//! The engine takes series on one index axis; the session's streams each have their own
//! times. Every other stream is read at the episode's stream's point times (its latest sample
//! at or before each: sample and hold), and left out when it starts after the baseline window.
//!
//! The engine's `suggest` ranks a cause recorded on a similar past episode first, given such
//! causes; `report::episode` gives it none, so the causes recorded on the similar windows are
//! looked up here, in the annotations, and the suggestions are made again with them.

use crate::model::{domain, Session, Stream};
use llmscope_spc::explain::cause::{suggest, Context};
use llmscope_spc::explain::co_moving::BASELINE_FACTOR;
use llmscope_spc::explain::report::{episode, Baseline};
use llmscope_spc::explain::{EpisodeReport, Stream as Series};
use llmscope_spc::{analyze, Data};

/// An episode explained, with what the panel draws.
#[derive(Clone, Debug, PartialEq)]
pub struct Explained {
    /// The engine's report (its suggestions re-ranked with the recorded causes).
    pub report: EpisodeReport,
    /// The cause recorded on each similar window (parallel to `report.similar`).
    pub causes: Vec<Option<String>>,
    /// Each co-moving stream's values over `drawn` (parallel to `report.co_moving`).
    pub charts: Vec<Vec<f64>>,
    /// The points drawn: the baseline window, the episode, and as many points after it.
    pub drawn: (usize, usize),
    /// Where the baseline window starts.
    pub baseline: usize,
}

/// `other`'s value at each of `times` (its latest sample at or before it); `None` when it has
/// no sample by `times[from]`.
fn held(other: &Stream, times: &[f64], from: usize) -> Option<Vec<f64>> {
    let s = &other.samples;
    if s.first()?.t > *times.get(from)? {
        return None;
    }
    let mut at = 0;
    let mut out = Vec::with_capacity(times.len());
    for &t in times {
        while at + 1 < s.len() && s[at + 1].t <= t {
            at += 1;
        }
        out.push(s[at].value);
    }
    Some(out)
}

/// The part of a stream's id after its last `/`: streams of the same kind share it
/// (`gpt-4o-mini/ttft` and `claude-haiku/ttft`).
fn kind(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

/// The center and sigma of the stream's baseline on the values' own scale (the engine reads
/// shapes there): the chart's own, or, for a transformed chart, the same chart untransformed.
fn baseline(st: &Stream) -> Result<Baseline, String> {
    let mut config = st.settings.chart.clone();
    config.transform = None;
    config.box_cox_lambda = None;
    let spec = config.to_spec().map_err(|e| e.to_string())?;
    let est = analyze(&spec, &Data::Values(st.values()))
        .map_err(|e| e.to_string())?
        .estimate;
    Ok(Baseline {
        center: est.center,
        sigma: est.sigma,
    })
}

/// Explains the episode `first..=last` of stream `id`.
pub fn explain(
    session: &Session,
    id: &str,
    first: usize,
    last: usize,
) -> Result<Explained, String> {
    let st = session.stream(id).ok_or("this stream no longer exists")?;
    if !matches!(st.data(), Data::Values(_)) {
        return Err(
            "the why panel reads single values; this stream is charted in subgroups \
                    or counts: switch its chart to individuals, EWMA or CUSUM"
                .into(),
        );
    }
    let chart = st.chart_state();
    let found = st.episodes(&chart);
    let at = found
        .iter()
        .position(|e| (e.first, e.last) == (first, last))
        .ok_or("this episode has changed since it was selected: select it again")?;
    let e = &found[at];
    let values = st.values();
    let end = found.get(at + 1).map_or(values.len(), |next| next.first);
    let times: Vec<f64> = st.samples.iter().map(|s| s.t).collect();
    let len = last + 1 - first;
    let from = first.saturating_sub(BASELINE_FACTOR * len);
    let others: Vec<(&Stream, Vec<f64>)> = session
        .streams
        .iter()
        .filter(|o| o.id != id)
        .filter_map(|o| Some((o, held(o, &times, from)?)))
        .collect();
    let mut series = vec![Series {
        name: id,
        values: &values,
    }];
    series.extend(others.iter().map(|(o, v)| Series {
        name: &o.id,
        values: v,
    }));
    let kin: Vec<usize> = (1..series.len())
        .filter(|&i| kind(series[i].name) == kind(id))
        .collect();
    let which = domain(st);
    let mut report = episode(&series, 0, &kin, e, end, baseline(st)?, which);
    // The causes recorded on the similar windows, read at their own stream's times.
    let causes: Vec<Option<String>> = report
        .similar
        .iter()
        .map(|m| {
            let (a, b) = (times.get(m.first)?, times.get(m.last)?);
            Some(session.causes.of(&m.stream, *a, *b)?.cause.clone())
        })
        .collect();
    let recorded: Vec<(String, f64)> = report
        .similar
        .iter()
        .zip(&causes)
        .filter_map(|(m, c)| Some((c.clone()?, m.distance)))
        .collect();
    if !recorded.is_empty() {
        let context = Context {
            co_moving: report.co_moving.clone(),
            ..Context::default()
        };
        report.suggestions = suggest(which, report.shape, &context, &recorded);
    }
    let drawn = (from, (last + 1 + len).min(values.len()));
    let charts = report
        .co_moving
        .iter()
        .filter_map(|c| series.iter().find(|s| s.name == c.stream))
        .map(|s| s.values[drawn.0..drawn.1].to_vec())
        .collect();
    Ok(Explained {
        report,
        causes,
        charts,
        drawn,
        baseline: from,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Annotation, Origin, Sample};
    use llmscope_spc::explain::shape::Shape;

    /// A stream of `values` at times 0, 1, 2...
    fn stream(id: &str, values: impl Iterator<Item = f64>) -> Stream {
        let mut s = Stream::new(
            id,
            "",
            Origin::Import {
                file: "p.csv".into(),
            },
        );
        s.samples = values
            .enumerate()
            .map(|(i, value)| Sample { t: i as f64, value })
            .collect();
        s
    }

    /// A press: the temperature steps with its setpoint at 200 and again at 400 (back down
    /// between); the pressure never moves.
    fn press() -> Session {
        let mut rng = llmscope_spc::Rng::new(3);
        let noise: Vec<f64> = (0..920).map(|_| rng.normal()).collect();
        let step = |i: usize| {
            if (200..300).contains(&i) || i >= 400 {
                5.0
            } else {
                0.0
            }
        };
        let mut s = Session::default();
        s.streams.push(stream(
            "p/temperature",
            (0..460).map(|i| 60.0 + step(i) + 0.5 * noise[i]),
        ));
        s.streams.push(stream(
            "p/pressure",
            (0..460).map(|i| 120.0 + 3.0 * noise[460 + i]),
        ));
        s.streams
            .push(stream("p/setpoint", (0..460).map(|i| 60.0 + step(i))));
        s
    }

    #[test]
    fn a_step_with_its_setpoint_first_and_the_earlier_cause_ranked_first() {
        let mut session = press();
        let st = session.streams[0].clone();
        let episodes = st.episodes(&st.chart_state());
        let spans: Vec<(usize, usize)> = episodes.iter().map(|e| (e.first, e.last)).collect();
        let first = episodes
            .iter()
            .find(|e| e.first >= 190 && e.first < 260)
            .unwrap_or_else(|| panic!("no first step in {spans:?}"));
        let got = explain(&session, "p/temperature", first.first, first.last).unwrap();
        assert_eq!(got.report.shape, Shape::Step, "{:?}", got.report.evidence);
        assert_eq!(got.report.co_moving[0].stream, "p/setpoint");
        assert_eq!(got.charts.len(), got.report.co_moving.len());
        assert_eq!(got.charts[0].len(), got.drawn.1 - got.drawn.0);
        // The user records the first step's cause; the second step finds it first.
        let (from, to) = st.span(first).unwrap();
        session.causes.annotate(Annotation {
            stream: "p/temperature".into(),
            from,
            to,
            cause: "material lot change".into(),
            action: String::new(),
            note: String::new(),
        });
        let second = episodes
            .iter()
            .find(|e| e.first >= 390)
            .expect("the second step");
        let got = explain(&session, "p/temperature", second.first, second.last).unwrap();
        assert_eq!(got.report.suggestions[0].cause, "material lot change");
        assert!(got.report.suggestions[0]
            .evidence
            .contains("recorded on a similar past episode"));
        assert!(got
            .causes
            .iter()
            .any(|c| c.as_deref() == Some("material lot change")));
    }

    #[test]
    fn streams_are_read_at_the_episode_streams_times_and_late_ones_left_out() {
        let mut a = stream("a", [1.0, 2.0, 3.0].into_iter());
        a.samples[1].t = 1.5;
        assert_eq!(
            held(&a, &[0.0, 1.0, 1.6, 9.0], 0),
            Some(vec![1.0, 1.0, 2.0, 3.0])
        );
        assert_eq!(
            held(&a, &[-1.0, 1.0], 0),
            None,
            "it starts after the window"
        );
        assert_eq!(held(&a, &[-1.0, 1.0], 1), Some(vec![1.0, 1.0]));
        assert_eq!(kind("gpt/ttft"), "ttft");
    }
}
