//! What the why panel asks the second module (`llmscope_app_lazy::why`) to explain: the
//! episode's stream and every other stream of the session on one index axis, and the causes
//! recorded so far. The engine's `explain` and the panel's HTML live there, off the site's
//! first download; they run when the panel opens, not on every new point.
//!
//! The session's streams each have their own times. Every other stream is read at the
//! episode's stream's point times (its latest sample at or before each: sample and hold), and
//! left out when it starts after the baseline window.

use crate::model::{domain, Origin, Session, Stream};
use llmscope_app_lazy::why::system::Call;
use llmscope_app_lazy::why::Request;
use llmscope_spc::explain::co_moving::BASELINE_FACTOR;
use llmscope_spc::{analyze, Data};
use serde_json::Value;

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
fn baseline(st: &Stream) -> Result<(f64, f64), String> {
    let mut config = st.settings.chart.clone();
    config.transform = None;
    config.box_cox_lambda = None;
    let spec = config.to_spec().map_err(|e| e.to_string())?;
    let est = analyze(&spec, &Data::Values(st.values()))
        .map_err(|e| e.to_string())?
        .estimate;
    Ok((est.center, est.sigma))
}

/// The times of what falls on the points `from..=last`: after the point before `from`, up to
/// `last`'s.
fn span(times: &[f64], from: usize, last: usize) -> (f64, f64) {
    let after = from
        .checked_sub(1)
        .and_then(|i| times.get(i))
        .map_or(f64::NEG_INFINITY, |t| *t);
    (after, times.get(last).copied().unwrap_or(f64::NEG_INFINITY))
}

/// What one raw probe result says besides its measurements; `None` when it is not a result
/// (no `t`). A field of the wrong type is simply unknown.
fn call(v: &Value) -> Option<Call> {
    let extra = v.get("extra");
    let text = |o: Option<&Value>, k: &str| o?.get(k)?.as_str().map(str::to_string);
    let number = |o: Option<&Value>, k: &str| o?.get(k)?.as_f64();
    let error = v.get("error");
    Some(Call {
        t: number(Some(v), "t")?,
        status: v.get("status").and_then(Value::as_u64),
        error: text(error, "kind"),
        retry_after_s: number(error, "retry_after_s"),
        input_tokens: number(Some(v), "input_tokens"),
        output_tokens: number(Some(v), "output_tokens"),
        cached_tokens: number(Some(v), "cached_input_tokens"),
        colo: text(extra, "colo").or_else(|| text(extra, "provider_colo")),
        model: text(extra, "response_model"),
        request_id: text(extra, "request_id"),
        processing_ms: number(extra, "processing_ms"),
    })
}

/// A probe stream's target's results from just after the point before `times[from]` to
/// `times[last]` (the calls on the points `from..=last`); none for other streams.
fn calls(session: &Session, st: &Stream, times: &[f64], from: usize, last: usize) -> Vec<Call> {
    let (Origin::Probe { .. }, Some((target, _))) = (&st.origin, st.id.rsplit_once('/')) else {
        return Vec::new();
    };
    let (after, until) = span(times, from, last);
    let mine = |v: &&Value| v.get("target").and_then(Value::as_str) == Some(target);
    session
        .telemetry
        .probe_results
        .iter()
        .filter(mine)
        .filter_map(call)
        .filter(|c| c.t > after && c.t <= until)
        .collect()
}

/// A live stream's source status events on the points `from..=last` (after the point before
/// `times[from]`, up to `times[last]`), as the module reads them.
fn events(st: &Stream, times: &[f64], from: usize, last: usize) -> Vec<(f64, String, String)> {
    let (after, until) = span(times, from, last);
    st.events
        .iter()
        .filter(|e| e.t > after && e.t <= until)
        .map(|e| (e.t, e.kind.clone(), e.message.clone()))
        .collect()
}

/// The request that explains the episode `first..=last` of stream `id`.
pub fn request(session: &Session, id: &str, first: usize, last: usize) -> Result<Request, String> {
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
    let values = st.values();
    let end = found.get(at + 1).map_or(values.len(), |next| next.first);
    let times: Vec<f64> = st.samples.iter().map(|s| s.t).collect();
    let from = first.saturating_sub(BASELINE_FACTOR * (last + 1 - first));
    let mut series = vec![(id.to_string(), values)];
    series.extend(
        session
            .streams
            .iter()
            .filter(|o| o.id != id)
            .filter_map(|o| Some((o.id.clone(), held(o, &times, from)?))),
    );
    let kin = (1..series.len())
        .filter(|&i| kind(&series[i].0) == kind(id))
        .collect();
    let annotations = session
        .causes
        .annotations
        .iter()
        .map(|a| (a.stream.clone(), a.from, a.to, a.cause.clone()))
        .collect();
    let calls = calls(session, st, &times, from, last);
    let events = events(st, &times, from, last);
    let rules = chart.ready().map_or_else(Vec::new, |c| {
        crate::model::rule_names(&c.primary, &found[at])
    });
    Ok(Request {
        series,
        kin,
        episode: found[at].clone(),
        end,
        baseline: baseline(st)?,
        domain: domain(st),
        from,
        times,
        annotations,
        calls,
        events,
        rules,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Annotation, Origin, Sample, SourceEvent};
    use llmscope_app_lazy::why::{explain, Explained};
    use llmscope_spc::explain::shape::Shape;

    /// The episode explained as the panel has it explained: the request's bytes through the
    /// second module's reader and `explain`.
    fn explained(session: &Session, id: &str, first: usize, last: usize) -> Explained {
        let bytes = request(session, id, first, last).unwrap().encode();
        explain(&Request::decode(&bytes).unwrap()).unwrap()
    }

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
        let got = explained(&session, "p/temperature", first.first, first.last);
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
        let got = explained(&session, "p/temperature", second.first, second.last);
        assert_eq!(got.report.suggestions[0].cause, "material lot change");
        assert!(got.report.suggestions[0]
            .evidence
            .contains("recorded on a similar past episode"));
        assert!(got
            .causes
            .iter()
            .any(|c| c.as_deref() == Some("material lot change")));
    }

    /// A probe target whose TTFT spikes at points 300..=302 (t in seconds × 1000), with two
    /// 429s (retry-after 20 s) just before them and the colo moving from FRA to AMS; a result
    /// of another target and one with fields of the wrong type among them.
    fn probed() -> Session {
        let mut rng = llmscope_spc::Rng::new(5);
        let origin = Origin::Probe {
            url: "https://w.example".into(),
        };
        let mut st = stream("m/ttft_ms", (0..320).map(|_| 300.0 + 10.0 * rng.normal()));
        st.origin = origin;
        for (i, s) in st.samples.iter_mut().enumerate() {
            s.t = 1000.0 * i as f64;
            if (300..=302).contains(&i) {
                s.value += 200.0;
            }
        }
        let mut s = Session::default();
        let raw = &mut s.telemetry.probe_results;
        for (i, p) in st.samples.iter().enumerate() {
            let colo = if i >= 300 { "AMS" } else { "FRA" };
            raw.push(
                serde_json::json!({"target": "m", "t": p.t, "ok": true, "status": 200,
                "ttft_ms": p.value, "input_tokens": 12, "error": null,
                "extra": {"colo": colo, "request_id": format!("req_{i}"), "processing_ms": 250}}),
            );
        }
        for t in [299_500.0, 299_700.0] {
            raw.push(
                serde_json::json!({"target": "m", "t": t, "ok": false, "status": 429,
                "error": {"kind": "rate_limited", "message": "slow down", "retry_after_s": 20}}),
            );
        }
        raw.push(
            serde_json::json!({"target": "other", "t": 300_100.0, "ok": false,
            "status": 429, "error": {"kind": "rate_limited", "message": ""}}),
        );
        raw.push(
            serde_json::json!({"target": "m", "t": 300_200.0, "ok": "yes", "status": "x",
            "extra": {"colo": 7, "processing_ms": "fast"}}),
        );
        s.streams.push(st);
        s
    }

    #[test]
    fn a_probe_spike_with_429s_shows_its_system_metrics_and_rate_limiting_first() {
        let session = probed();
        let st = &session.streams[0];
        let episodes = st.episodes(&st.chart_state());
        let e = episodes
            .iter()
            .find(|e| e.first >= 295 && e.first <= 302)
            .unwrap_or_else(|| panic!("no spike in {episodes:?}"));
        let r = request(&session, "m/ttft_ms", e.first, e.last).unwrap();
        let t = |c: &Call| c.t;
        assert!(r.calls.iter().all(|c| c.t > r.times[r.from - 1]));
        assert!(r.calls.iter().all(|c| c.t <= r.times[e.last]));
        assert_eq!(r.calls.iter().filter(|c| c.status == Some(429)).count(), 2);
        assert!(r
            .calls
            .iter()
            .any(|c| t(c) == 300_200.0 && c.colo.is_none()));
        let got = explained(&session, "m/ttft_ms", e.first, e.last);
        assert_eq!(got.report.suggestions[0].cause, "rate limiting");
        let (base, ep) = got.system.clone().expect("a probe stream's system metrics");
        assert_eq!((base.rate_limited, ep.rate_limited), (0, 2));
        assert_eq!(
            (base.colos, ep.colos.first()),
            (vec!["FRA".to_string()], Some(&"AMS".into()))
        );
        let html = llmscope_app_lazy::why::html::render(&got, "m/ttft_ms");
        assert!(html.contains("data-testid=\"system-metrics\""), "{html}");
        assert!(html.contains("largest retry-after 20 s"), "{html}");
        assert!(html.contains(&format!("req_{}", e.last)), "{html}");
    }

    #[test]
    fn a_live_streams_status_events_around_its_episode_and_its_devices_streams_marked() {
        let mut session = press();
        let st = session.streams[0].clone();
        let episodes = st.episodes(&st.chart_state());
        let e = episodes
            .iter()
            .find(|e| e.first >= 390)
            .expect("the second step");
        let at = |i: usize| st.samples[i].t;
        let event = |t: f64, kind: &str| SourceEvent {
            t,
            kind: kind.into(),
            message: "modbus timeout".into(),
        };
        let from = e
            .first
            .saturating_sub(BASELINE_FACTOR * (e.last + 1 - e.first));
        assert!(from > 0, "{e:?}");
        let temperature = &mut session.streams[0];
        // On the point before the baseline window: out.
        temperature.record(event(at(from - 1), "stale"));
        temperature.record(event(at(e.first) - 0.5, "stale"));
        temperature.record(event(at(e.first), "live"));
        temperature.record(event(at(e.last) + 0.5, "disconnected"));
        let r = request(&session, "p/temperature", e.first, e.last).unwrap();
        let kinds: Vec<&str> = r.events.iter().map(|e| e.1.as_str()).collect();
        assert_eq!(
            kinds,
            ["stale", "live"],
            "the one long before and the one after are out"
        );
        let got = explained(&session, "p/temperature", e.first, e.last);
        let html = llmscope_app_lazy::why::html::render(&got, "p/temperature");
        assert!(html.contains("data-testid=\"source-events\""), "{html}");
        assert!(
            html.contains("<strong>stale</strong>: modbus timeout"),
            "{html}"
        );
        assert!(
            html.contains("data-stream=\"p/setpoint\" data-same-source=\"true\""),
            "{html}"
        );
        assert!(
            !html.contains("data-testid=\"system-metrics\""),
            "no probe results"
        );
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
