//! The why panel's computation (issue 13), run here so the dashboard's wasm carries neither
//! the engine's `explain` (MASS, FFT, Kolmogorov–Smirnov, the shape and cause tables) nor
//! the panel's HTML: the dashboard sends a [`Request`] (the episode's stream and every other
//! stream read at its times, the causes recorded so far), this module answers with the
//! panel's HTML ([`html::render`] of [`explain`]).
//!
//! The engine's `suggest` ranks a cause recorded on a similar past episode first, given such
//! causes; `report::episode` gives it none, so the causes recorded on the similar windows are
//! looked up in the request's annotations, and the suggestions made again with them.

pub mod html;
pub mod system;

use crate::codec::{reading, In, Out, Read};
use llmscope_spc::explain::cause::{suggest, Context, Domain};
use llmscope_spc::explain::episode::Episode;
use llmscope_spc::explain::report::{episode, Baseline};
use llmscope_spc::explain::{EpisodeReport, Stream as Series};
use llmscope_spc::NelsonRule;
use system::{Call, Window};

/// What the dashboard knows of one episode, as the engine needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// The streams: the episode's first, then every other one read at its point times.
    pub series: Vec<(String, Vec<f64>)>,
    /// The indexes in `series` of the streams of the same kind (searched for similar windows).
    pub kin: Vec<usize>,
    /// The episode.
    pub episode: Episode,
    /// Where the next episode starts (or the stream's length): the shape is read before it.
    pub end: usize,
    /// The chart's center and sigma, on the values' own scale.
    pub baseline: (f64, f64),
    /// Whose words the causes are in.
    pub domain: Domain,
    /// Where the drawn points start: the baseline window's first point.
    pub from: usize,
    /// The episode stream's point times (the similar windows' causes are found by time).
    pub times: Vec<f64>,
    /// The causes recorded so far: stream, first and last time, cause.
    pub annotations: Vec<(String, f64, f64, String)>,
    /// For a probe stream, its target's results from the baseline window's start to the
    /// episode's end ([`system`]); empty for other streams.
    pub calls: Vec<Call>,
    /// For a live stream, its source's status events from the baseline window's start to the
    /// episode's end: time (epoch ms), kind, message.
    pub events: Vec<(f64, String, String)>,
    /// The names of the named rules that fired in the episode, in the set's order (the
    /// engine's episode has their positions, which only the dashboard can name).
    pub rules: Vec<String>,
}

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
    /// A probe stream's system metrics: the baseline window's, the episode's.
    pub system: Option<(Window, Window)>,
    /// The source's status events around the episode (the request's), oldest first.
    pub events: Vec<(f64, String, String)>,
    /// The named rules that fired in it (the request's).
    pub rules: Vec<String>,
}

impl Request {
    /// The request as bytes for the module.
    pub fn encode(&self) -> Vec<u8> {
        let mut o = Out::default();
        o.list(&self.series, |o, (name, values)| {
            o.str(name);
            o.list(values, |o, v| o.f64(*v));
        });
        o.list(&self.kin, |o, k| o.u64(*k as u64));
        o.u64(self.episode.first as u64);
        o.u64(self.episode.last as u64);
        o.list(&self.episode.tests, |o, t| o.u64(u64::from(t.number())));
        o.u64(self.end as u64);
        o.f64(self.baseline.0);
        o.f64(self.baseline.1);
        o.bool(self.domain == Domain::Llm);
        o.u64(self.from as u64);
        o.list(&self.times, |o, t| o.f64(*t));
        o.list(&self.annotations, |o, (stream, from, to, cause)| {
            o.str(stream);
            o.f64(*from);
            o.f64(*to);
            o.str(cause);
        });
        o.list(&self.calls, |o, c| c.put(o));
        o.list(&self.events, |o, (t, kind, message)| {
            o.f64(*t);
            o.str(kind);
            o.str(message);
        });
        o.list(&self.rules, |o, name| o.str(name));
        o.0
    }

    /// The request of `bytes`; damaged bytes are an error in words.
    pub fn decode(bytes: &[u8]) -> Read<Request> {
        reading(bytes, |r| {
            let series = r.list(|r| Ok((r.str()?, r.list(In::f64)?)))?;
            let kin = r.list(index)?;
            let (first, last) = (index(r)?, index(r)?);
            let tests = r.list(|r| {
                let n = r.u64()?;
                u8::try_from(n)
                    .ok()
                    .and_then(NelsonRule::from_number)
                    .ok_or_else(|| format!("the why request names test {n}: it is damaged"))
            })?;
            Ok(Request {
                series,
                kin,
                episode: Episode {
                    first,
                    last,
                    tests,
                    rules: Vec::new(),
                },
                end: index(r)?,
                baseline: (r.f64()?, r.f64()?),
                domain: if r.bool()? {
                    Domain::Llm
                } else {
                    Domain::Plant
                },
                from: index(r)?,
                times: r.list(In::f64)?,
                annotations: r.list(|r| Ok((r.str()?, r.f64()?, r.f64()?, r.str()?)))?,
                calls: r.list(Call::get)?,
                events: r.list(|r| Ok((r.f64()?, r.str()?, r.str()?)))?,
                rules: r.list(In::str)?,
            })
        })
    }

    /// Whether it can be explained: indexes inside the streams, one length for all.
    fn check(&self) -> Read<()> {
        let n = self.series.first().map_or(0, |s| s.1.len());
        let e = &self.episode;
        let fits = n > 0
            && self.series.iter().all(|s| s.1.len() == n)
            && self.times.len() == n
            && self.kin.iter().all(|&k| k > 0 && k < self.series.len())
            && e.first <= e.last
            && e.last < n
            && self.from <= e.first;
        if fits {
            Ok(())
        } else {
            Err("the why request does not fit its streams: reload the page".into())
        }
    }
}

fn index(r: &mut In) -> Read<usize> {
    let n = r.u64()?;
    usize::try_from(n).map_err(|_| format!("the why request has an index {n}: it is damaged"))
}

/// Whether an annotation's span `first..=last` covers any time of `from..=to`: the one rule by
/// which the dashboard finds an episode's annotation (`Annotation::meets`) and this module
/// the causes recorded on similar windows.
pub fn meets((first, last): (f64, f64), from: f64, to: f64) -> bool {
    first <= to && from <= last
}

/// The cause recorded on `stream` over times `from..=to`: the first annotation that meets it.
fn recorded<'a>(request: &'a Request, stream: &str, from: f64, to: f64) -> Option<&'a str> {
    request
        .annotations
        .iter()
        .find(|(s, a, b, _)| s == stream && meets((*a, *b), from, to))
        .map(|a| a.3.as_str())
}

/// The episode of `request` explained by the engine.
pub fn explain(request: &Request) -> Read<Explained> {
    request.check()?;
    let series: Vec<Series> = request
        .series
        .iter()
        .map(|(name, values)| Series { name, values })
        .collect();
    let e = &request.episode;
    let (center, sigma) = request.baseline;
    let chart = Baseline { center, sigma };
    let mut report = episode(
        &series,
        0,
        &request.kin,
        e,
        request.end,
        chart,
        request.domain,
    );
    // The causes recorded on the similar windows, read at the episode stream's times.
    let times = &request.times;
    let causes: Vec<Option<String>> = report
        .similar
        .iter()
        .map(|m| {
            let (a, b) = (times.get(m.first)?, times.get(m.last)?);
            recorded(request, &m.stream, *a, *b).map(str::to_string)
        })
        .collect();
    let with_causes: Vec<(String, f64)> = report
        .similar
        .iter()
        .zip(&causes)
        .filter_map(|(m, c)| Some((c.clone()?, m.distance)))
        .collect();
    // A probe's results confirm the causes, as in the Worker's webhook.
    // A live source's status events in the episode confirm the source's causes.
    let calls = &request.calls;
    let events = &request.events;
    if !with_causes.is_empty() || !calls.is_empty() || !events.is_empty() {
        let mut context = if calls.is_empty() {
            Context {
                co_moving: report.co_moving.clone(),
                ..Context::default()
            }
        } else {
            system::context(times, calls).around(e.first, e.last, report.co_moving.clone())
        };
        if !events.is_empty() {
            context.source_events = Some(system::in_episode(times, events, e.first, e.last));
        }
        report.suggestions = suggest(request.domain, report.shape, &context, &with_causes);
    }
    let system =
        (!calls.is_empty()).then(|| system::windows(times, calls, request.from, e.first, e.last));
    let len = e.last + 1 - e.first;
    let values = &request.series[0].1;
    let drawn = (request.from, (e.last + 1 + len).min(values.len()));
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
        baseline: request.from,
        system,
        events: request.events.clone(),
        rules: request.rules.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Request {
        let values: Vec<f64> = (0..60).map(|i| if i < 40 { 0.0 } else { 5.0 }).collect();
        Request {
            series: vec![("a/x".into(), values.clone()), ("b/x".into(), values)],
            kin: vec![1],
            episode: Episode {
                first: 40,
                last: 45,
                tests: vec![NelsonRule::Beyond, NelsonRule::SameSide],
                rules: Vec::new(),
            },
            end: 60,
            baseline: (0.0, 1.0),
            domain: Domain::Plant,
            from: 16,
            times: (0..60).map(f64::from).collect(),
            annotations: vec![("a/x".into(), 1.0, 2.0, "tool wear".into())],
            calls: Vec::new(),
            events: Vec::new(),
            rules: vec!["2-2s".into()],
        }
    }

    #[test]
    fn a_request_crosses_unchanged_and_a_damaged_one_is_an_error() {
        let mut r = request();
        r.calls = vec![
            Call {
                t: 41.0,
                status: Some(429),
                error: Some("rate_limited".into()),
                retry_after_s: Some(20.0),
                colo: Some("AMS".into()),
                ..Call::default()
            },
            Call {
                t: 12.0,
                input_tokens: Some(10.0),
                output_tokens: Some(3.0),
                cached_tokens: Some(0.0),
                model: Some("m-1".into()),
                request_id: Some("req_1".into()),
                processing_ms: Some(250.0),
                ..Call::default()
            },
        ];
        r.events = vec![(45.0, "stale".into(), "modbus timeout".into())];
        let bytes = r.encode();
        // The fields before the calls are written as before: an older request's bytes are
        // this one's, cut before the calls', events' and rules' counts.
        let old = Request {
            calls: Vec::new(),
            events: Vec::new(),
            rules: Vec::new(),
            ..r.clone()
        }
        .encode();
        assert_eq!(bytes[..old.len() - 24], old[..old.len() - 24]);
        assert_eq!(Request::decode(&bytes), Ok(r));
        for cut in [0, 9, bytes.len() - 1] {
            assert!(Request::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut more = bytes.clone();
        more.push(0);
        assert!(Request::decode(&more).is_err());
    }

    #[test]
    fn a_request_that_does_not_fit_its_streams_is_an_error_not_a_panic() {
        for spoil in [
            |r: &mut Request| r.episode.last = 60,
            |r: &mut Request| r.kin = vec![2],
            |r: &mut Request| r.times.pop().map(drop).unwrap_or_default(),
            |r: &mut Request| r.series[1].1.truncate(3),
            |r: &mut Request| r.from = 41,
        ] {
            let mut r = request();
            spoil(&mut r);
            assert!(explain(&r).is_err(), "{r:?}");
        }
        let x = explain(&request()).expect("a step explained");
        assert_eq!(x.report.co_moving[0].stream, "b/x");
        assert_eq!(x.drawn, (16, 52));
    }
}
