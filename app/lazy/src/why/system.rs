//! System metrics at the time of a probe stream's episode (issue 13): what the target's probe
//! results said besides their measurements (error kinds, HTTP statuses, 429s and retry-after,
//! tokens, the colo, the response's model, `openai-processing-ms`, request ids; the Worker's
//! `extra`, workers/README.md "The result"), in the episode window against the baseline window
//! before it, and the same results aligned to the stream's points as the engine's
//! [`ContextSeries`], so the suggestions are confirmed by context as the Worker's webhook does.
//!
//! A probe result belongs to the first point of the stream at or after its time: a latency
//! stream has points for successful probes only, so the 429s between two points fall on the
//! next one. The windows are the request's, in points: the baseline `from..first`, the episode
//! `first..=last`.

use crate::codec::{In, Out, Read};
use llmscope_spc::explain::cause::ContextSeries;
use std::collections::BTreeMap;

/// What one probe result said besides its measurements; every field but its time may be
/// missing (an older Worker, a failed probe, a provider that does not say).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Call {
    /// When it was sent (the stream's time axis: epoch ms).
    pub t: f64,
    /// The HTTP status.
    pub status: Option<u64>,
    /// The failure class (`error.kind`), for a failed probe.
    pub error: Option<String>,
    /// The provider's `retry-after`, in seconds.
    pub retry_after_s: Option<f64>,
    /// Input tokens, cached included.
    pub input_tokens: Option<f64>,
    /// Output tokens.
    pub output_tokens: Option<f64>,
    /// Input tokens served from the provider's cache.
    pub cached_tokens: Option<f64>,
    /// The Cloudflare colo the probe ran from (`extra.colo`, else `extra.provider_colo`).
    pub colo: Option<String>,
    /// The model the response named (`extra.response_model`).
    pub model: Option<String>,
    /// The provider's request id (`extra.request_id`).
    pub request_id: Option<String>,
    /// The provider's processing time (`extra.processing_ms`).
    pub processing_ms: Option<f64>,
}

impl Call {
    /// Whether it was rate limited: the failure class, or a 429.
    pub fn rate_limited(&self) -> bool {
        self.error.as_deref() == Some("rate_limited") || self.status == Some(429)
    }

    pub(crate) fn put(&self, o: &mut Out) {
        let text = |o: &mut Out, v: &Option<String>| o.opt(v, |o, s| o.str(s));
        let number = |o: &mut Out, v: &Option<f64>| o.opt(v, |o, x| o.f64(*x));
        o.f64(self.t);
        o.opt(&self.status, |o, s| o.u64(*s));
        text(o, &self.error);
        number(o, &self.retry_after_s);
        number(o, &self.input_tokens);
        number(o, &self.output_tokens);
        number(o, &self.cached_tokens);
        text(o, &self.colo);
        text(o, &self.model);
        text(o, &self.request_id);
        number(o, &self.processing_ms);
    }

    pub(crate) fn get(r: &mut In) -> Read<Call> {
        Ok(Call {
            t: r.f64()?,
            status: r.opt(In::u64)?,
            error: r.opt(In::str)?,
            retry_after_s: r.opt(In::f64)?,
            input_tokens: r.opt(In::f64)?,
            output_tokens: r.opt(In::f64)?,
            cached_tokens: r.opt(In::f64)?,
            colo: r.opt(In::str)?,
            model: r.opt(In::str)?,
            request_id: r.opt(In::str)?,
            processing_ms: r.opt(In::f64)?,
        })
    }
}

/// The index of the point `call` belongs to: the first of `times` at or after it; `None`
/// after the last point.
fn point(times: &[f64], call: &Call) -> Option<usize> {
    let i = times.partition_point(|&t| t < call.t);
    (i < times.len()).then_some(i)
}

/// How many of `events` (time first) fall on the points `first..=last`, as calls do.
pub fn in_episode(
    times: &[f64],
    events: &[(f64, String, String)],
    first: usize,
    last: usize,
) -> u64 {
    let on = |t: f64| times.partition_point(|&x| x < t);
    events
        .iter()
        .filter(|e| (first..=last).contains(&on(e.0)))
        .count() as u64
}

/// The calls aligned to the stream's points, as the engine reads them: a point is rate
/// limited (or failed) when any of its calls was, and says the latest model, colo and tokens
/// of its calls.
pub fn context(times: &[f64], calls: &[Call]) -> ContextSeries {
    let n = times.len();
    let mut cs = ContextSeries {
        rate_limited: vec![false; n],
        failed: vec![false; n],
        model: vec![None; n],
        colo: vec![None; n],
        cached_tokens: vec![None; n],
        input_tokens: vec![None; n],
    };
    for c in calls {
        let Some(i) = point(times, c) else { continue };
        let limited = c.rate_limited();
        cs.rate_limited[i] |= limited;
        cs.failed[i] |= c.error.is_some() && !limited;
        let keep = |slot: &mut Option<String>, v: &Option<String>| {
            if v.is_some() {
                slot.clone_from(v);
            }
        };
        keep(&mut cs.model[i], &c.model);
        keep(&mut cs.colo[i], &c.colo);
        cs.cached_tokens[i] = c.cached_tokens.or(cs.cached_tokens[i]);
        cs.input_tokens[i] = c.input_tokens.or(cs.input_tokens[i]);
    }
    cs
}

/// One window's results summed up; a field is `None` (or empty) when no result said it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Window {
    /// Probe results in it.
    pub calls: usize,
    /// Failures by class.
    pub errors: BTreeMap<String, u64>,
    /// Results by HTTP status.
    pub statuses: BTreeMap<u64, u64>,
    /// Rate-limited results.
    pub rate_limited: u64,
    /// The largest `retry-after`, in seconds.
    pub retry_after_s: Option<f64>,
    /// Mean input, output and cached tokens over the results that reported them.
    pub tokens: [Option<f64>; 3],
    /// The colos, by how often (most first, the first seen among equals).
    pub colos: Vec<String>,
    /// The response's models, by how often.
    pub models: Vec<String>,
    /// The median processing time, ms.
    pub processing_ms: Option<f64>,
    /// The last request ids (at most [`REQUEST_IDS`]), oldest first.
    pub request_ids: Vec<String>,
}

/// Request ids shown for the episode.
pub const REQUEST_IDS: usize = 3;

/// The values most frequent first (the first seen among equals).
fn by_count<'a>(values: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut counts: Vec<(&String, usize)> = Vec::new();
    for v in values {
        match counts.iter_mut().find(|(c, _)| *c == v) {
            Some((_, n)) => *n += 1,
            None => counts.push((v, 1)),
        }
    }
    // A stable sort keeps the first seen first among equals.
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    counts.into_iter().map(|c| c.0.clone()).collect()
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let v: Vec<f64> = values.filter(|v| v.is_finite()).collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// The median (NIST e-Handbook 1.3.5.1: the middle value, or the mean of the two middle ones).
fn median(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.filter(|v| v.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

impl Window {
    /// The calls summed up.
    pub fn of(calls: &[&Call]) -> Window {
        let mut w = Window {
            calls: calls.len(),
            ..Window::default()
        };
        for c in calls {
            if let Some(e) = &c.error {
                *w.errors.entry(e.clone()).or_default() += 1;
            }
            if let Some(s) = c.status {
                *w.statuses.entry(s).or_default() += 1;
            }
            if c.rate_limited() {
                w.rate_limited += 1;
            }
            let r = c.retry_after_s.filter(|r| r.is_finite());
            w.retry_after_s = match (w.retry_after_s, r) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        }
        let field = |f: fn(&Call) -> Option<f64>| mean(calls.iter().filter_map(|c| f(c)));
        w.tokens = [
            field(|c| c.input_tokens),
            field(|c| c.output_tokens),
            field(|c| c.cached_tokens),
        ];
        w.colos = by_count(calls.iter().filter_map(|c| c.colo.as_ref()));
        w.models = by_count(calls.iter().filter_map(|c| c.model.as_ref()));
        w.processing_ms = median(calls.iter().filter_map(|c| c.processing_ms));
        let ids: Vec<&String> = calls.iter().filter_map(|c| c.request_id.as_ref()).collect();
        let skip = ids.len().saturating_sub(REQUEST_IDS);
        w.request_ids = ids[skip..].iter().map(|s| s.to_string()).collect();
        w
    }
}

/// The baseline window (points `from..first`) and the episode window (`first..=last`) of the
/// calls, each call in the window of its point.
pub fn windows(
    times: &[f64],
    calls: &[Call],
    from: usize,
    first: usize,
    last: usize,
) -> (Window, Window) {
    let at = |r: std::ops::RangeInclusive<usize>| -> Vec<&Call> {
        calls
            .iter()
            .filter(|c| point(times, c).is_some_and(|i| r.contains(&i)))
            .collect()
    };
    let base = if first > from {
        at(from..=first - 1)
    } else {
        Vec::new()
    };
    (Window::of(&base), Window::of(&at(first..=last)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(t: f64) -> Call {
        Call {
            t,
            status: Some(200),
            input_tokens: Some(100.0),
            output_tokens: Some(20.0),
            colo: Some("FRA".into()),
            model: Some("gpt-4o-mini-2024-07-18".into()),
            processing_ms: Some(300.0),
            request_id: Some(format!("req-{t}")),
            ..Call::default()
        }
    }

    fn limited(t: f64, retry: f64) -> Call {
        Call {
            t,
            status: Some(429),
            error: Some("rate_limited".into()),
            retry_after_s: Some(retry),
            ..Call::default()
        }
    }

    /// Points at 10, 20, ..., 100; the baseline is points 0..=7 (t 10..80), the episode 8..=9.
    fn run() -> (Vec<f64>, Vec<Call>) {
        let times: Vec<f64> = (1..=10).map(|i| 10.0 * f64::from(i)).collect();
        let mut calls: Vec<Call> = (1..=10).map(|i| call(10.0 * f64::from(i))).collect();
        for c in &mut calls[8..] {
            c.colo = Some("AMS".into());
            c.processing_ms = Some(900.0);
        }
        // Two 429s between the points 80 and 90 (on point 8, the episode's first), one after
        // the last point (on no point), one before the first (on point 0).
        calls.extend([
            limited(85.0, 2.0),
            limited(86.0, 30.0),
            limited(101.0, 60.0),
            limited(5.0, 1.0),
        ]);
        (times, calls)
    }

    #[test]
    fn the_windows_are_read_by_time_on_the_streams_points() {
        let (times, calls) = run();
        let (base, ep) = windows(&times, &calls, 2, 8, 9);
        // Baseline: points 2..=7, t 30..80; the 429 at t 5 is on point 0, outside.
        assert_eq!(base.calls, 6);
        assert_eq!(base.rate_limited, 0);
        assert_eq!(ep.calls, 4);
        assert_eq!(ep.rate_limited, 2);
        assert_eq!(
            ep.retry_after_s,
            Some(30.0),
            "the 429 after the last point is out"
        );
        assert_eq!(ep.errors.get("rate_limited"), Some(&2));
        assert_eq!(ep.statuses.get(&429), Some(&2));
        assert_eq!(ep.statuses.get(&200), Some(&2));
        assert_eq!(base.colos, ["FRA"]);
        assert_eq!(ep.colos, ["AMS"]);
        assert_eq!(base.processing_ms, Some(300.0));
        assert_eq!(ep.processing_ms, Some(900.0));
        assert_eq!(ep.tokens[0], Some(100.0), "the 429s reported no tokens");
        assert_eq!(ep.tokens[2], None, "no result reported cached tokens");
        assert_eq!(ep.request_ids, ["req-90", "req-100"]);
        let (all, _) = windows(&times, &calls, 0, 8, 9);
        assert_eq!(all.calls, 9);
        assert_eq!(all.request_ids, ["req-60", "req-70", "req-80"]);
        let (none, _) = windows(&times, &calls, 8, 8, 9);
        assert_eq!(none, Window::default());
    }

    #[test]
    fn the_context_series_has_the_429s_and_the_colo_change_on_their_points() {
        let (times, calls) = run();
        let cs = context(&times, &calls);
        assert_eq!(cs.rate_limited.len(), 10);
        let flagged: Vec<usize> = (0..10).filter(|&i| cs.rate_limited[i]).collect();
        assert_eq!(flagged, [0, 8]);
        assert!(cs.failed.iter().all(|f| !f), "a 429 is not another failure");
        assert_eq!(
            cs.colo[8].as_deref(),
            Some("AMS"),
            "the probe's, not the 429's"
        );
        let around = cs.around(8, 9, Vec::new());
        // Its baseline is the 8 points before: point 0's 429 is in it.
        assert_eq!(around.rate_limited, Some((1, 1)));
        assert_eq!(around.colo_change, Some(("FRA".into(), "AMS".into())));
        assert_eq!(around.model_change, None);
    }

    #[test]
    fn events_count_on_the_points_they_fall_before() {
        let times = [10.0, 20.0, 30.0];
        let e = |t: f64| (t, "stale".to_string(), String::new());
        let events = [e(5.0), e(15.0), e(20.0), e(21.0), e(31.0)];
        assert_eq!(in_episode(&times, &events, 1, 1), 2);
        assert_eq!(in_episode(&times, &events, 1, 2), 3);
        assert_eq!(in_episode(&times, &events, 0, 0), 1);
    }

    #[test]
    fn medians_and_counts_of_odd_input() {
        assert_eq!(median([3.0, f64::NAN, 1.0, 2.0].into_iter()), Some(2.0));
        assert_eq!(median([4.0, 1.0].into_iter()), Some(2.5));
        assert_eq!(median(std::iter::empty()), None);
        let names = ["b", "a", "a", "b", "c"].map(String::from);
        assert_eq!(by_count(names.iter()), ["b", "a", "c"]);
        let c = Call {
            retry_after_s: Some(f64::INFINITY),
            ..Call::default()
        };
        assert_eq!(Window::of(&[&c]).retry_after_s, None);
    }
}
