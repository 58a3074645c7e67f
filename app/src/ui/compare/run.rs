//! What the Compare view compares, read from the session, and the comparisons themselves:
//! plain data and functions, no signals, so they are tested on the host.
//!
//! - **Targets:** the probe results the session keeps (`telemetry.probe_results`, every field
//!   as the Worker sent it), read in the result contract and grouped by target
//!   (`llmscope_protocol::compare`). A result without its target, time or outcome is counted
//!   and named, never guessed at: it would change its target's error rate. The grouped
//!   results go to the comparison's Web Worker as a [`Request`] (`llmscope_app_lazy::compare`
//!   computes there; `crate::lazy::compare` sends it), and its [`Reply`] becomes a
//!   [`TargetRun`].
//! - **Machines:** streams from the simulators, live shims and imported files, grouped by
//!   signal: `press1/barrel_temperature` is machine `press1` of signal `barrel_temperature`
//!   (a source suffix, `(live 127.0.0.1:8080)`, stays with the machine). Their values go to
//!   the same Worker ([`Machines`]), and its [`MachinesReply`] becomes a [`MachineRun`].

use crate::draw::compare::BoxStats;
use crate::model::{Origin, Session};
use llmscope_app_lazy::wire::{Machines, MachinesReply, Reply, Request};
use llmscope_protocol::compare::{self, Report, Settings, TargetResults};
use llmscope_protocol::probe::{ErrorKind, ProbeError, ProbeResult};
use llmscope_spc::compare::machines::MachineReport;
use llmscope_spc::compare::StreamSummary;
use serde_json::Value;

/// The session's probe results as the contract reads them.
#[derive(Clone, Debug, Default)]
pub struct Probes {
    /// The results that read, oldest first.
    pub results: Vec<ProbeResult>,
    /// How many did not, and why the first did not.
    pub unreadable: (usize, Option<String>),
}

/// Reads the session's probe results.
pub fn probes(session: &Session) -> Probes {
    let mut out = Probes::default();
    for (i, raw) in session.telemetry.probe_results.iter().enumerate() {
        match probe_result(raw) {
            Ok(r) => out.results.push(r),
            Err(e) => {
                out.unreadable.0 += 1;
                out.unreadable
                    .1
                    .get_or_insert_with(|| format!("probe result {}: {e}", i + 1));
            }
        }
    }
    out
}

/// The failure classes of the contract.
const KINDS: [ErrorKind; 7] = [
    ErrorKind::Auth,
    ErrorKind::NotFound,
    ErrorKind::RateLimited,
    ErrorKind::Timeout,
    ErrorKind::Server,
    ErrorKind::StreamCut,
    ErrorKind::Malformed,
];

/// One stored result in the contract's type. Read field by field (not with serde: its
/// generic code for this one type would weigh on the site's wasm); `target`, `t` and `ok`
/// are required, a field the comparison does not use may be missing.
fn probe_result(v: &Value) -> Result<ProbeResult, String> {
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let number = |k: &str| v.get(k).and_then(Value::as_f64);
    let count = |k: &str| v.get(k).and_then(Value::as_u64);
    let error = match v.get("error") {
        None | Some(Value::Null) => None,
        Some(e) => {
            let kind = e.get("kind").and_then(Value::as_str).unwrap_or_default();
            let kind = KINDS
                .into_iter()
                .find(|k| k.as_str() == kind)
                .ok_or_else(|| format!("error.kind \"{kind}\" is not a failure class"))?;
            Some(ProbeError {
                kind,
                message: e
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .into(),
                retry_after_s: e.get("retry_after_s").and_then(Value::as_f64),
            })
        }
    };
    Ok(ProbeResult {
        target: text("target").ok_or("missing field `target`")?,
        provider: text("provider").unwrap_or_default(),
        model: text("model").unwrap_or_default(),
        t: v.get("t")
            .and_then(Value::as_i64)
            .ok_or("missing field `t` (epoch ms)")?,
        ok: v
            .get("ok")
            .and_then(Value::as_bool)
            .ok_or("missing field `ok`")?,
        status: count("status").and_then(|s| u16::try_from(s).ok()),
        ttft_ms: number("ttft_ms"),
        total_ms: number("total_ms"),
        input_tokens: count("input_tokens"),
        output_tokens: count("output_tokens"),
        cached_input_tokens: count("cached_input_tokens"),
        tokens_per_s: number("tokens_per_s"),
        cost_usd: number("cost_usd"),
        error,
        extra: serde_json::Map::new(),
        quality_pass: v.get("quality_pass").and_then(Value::as_bool),
    })
}

/// The targets in the results, in order of first appearance, each with its model (the first
/// result's).
pub fn targets(results: &[ProbeResult]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for r in results {
        if !out.iter().any(|(t, _)| *t == r.target) {
            out.push((r.target.clone(), r.model.clone()));
        }
    }
    out
}

/// The chosen targets' results, grouped.
pub fn group(results: &[ProbeResult], chosen: &[String]) -> Vec<TargetResults> {
    compare::group(results.iter().filter(|r| chosen.contains(&r.target)))
}

/// A comparison of targets, as the view shows and exports it.
#[derive(Clone, Debug)]
pub struct TargetRun {
    /// The report: comparison, recommendation, costs.
    pub report: Report,
    /// The settings it was made under.
    pub settings: Settings,
    /// Each target's model (its first result's), in the report's order.
    pub models: Vec<String>,
    /// Each target's box.
    pub boxes: Vec<Option<BoxStats>>,
    /// The date of the prices behind `report.costs`, shown wherever a cost is.
    pub prices_date: Option<String>,
    /// Each target's TTFT P95: the latency the recommendation and its Pareto frontier judge,
    /// whatever metric the report shows.
    pub latency_p95: Vec<f64>,
    /// The target every other one was compared with, when not every pair was
    /// ([`ALL_PAIRS_UP_TO`]).
    pub reference: Option<String>,
    /// The reply's bytes as the Worker sent them (the CSV is made from them).
    pub bytes: Vec<u8>,
}

/// The request for the comparison's Worker: the chosen targets' results, grouped.
pub fn request(
    results: &[ProbeResult],
    chosen: &[String],
    settings: Settings,
    all_pairs: bool,
) -> Result<Request, String> {
    let targets = group(results, chosen);
    if targets.is_empty() {
        return Err(
            "no probe results of the chosen targets: poll a Worker or import a session".into(),
        );
    }
    Ok(Request {
        targets,
        settings,
        all_pairs,
    })
}

/// Each grouped target's model (its first result's).
pub fn models(results: &[ProbeResult], grouped: &[TargetResults]) -> Vec<String> {
    let known = targets(results);
    grouped
        .iter()
        .map(|t| {
            known
                .iter()
                .find(|(name, _)| *name == t.name)
                .map_or(String::new(), |(_, m)| m.clone())
        })
        .collect()
}

/// The view's comparison of targets from the Worker's `reply` to a request under `settings`.
/// (`bytes`: the reply as sent).
pub fn target_run(
    reply: Reply,
    bytes: Vec<u8>,
    settings: Settings,
    models: Vec<String>,
) -> TargetRun {
    TargetRun {
        bytes,
        prices_date: Some(settings.prices.taken.clone()),
        report: reply.report,
        settings,
        models,
        boxes: reply.boxes,
        latency_p95: reply.latency_p95,
        reference: reply.reference,
    }
}

/// The comparison the Worker would make, made here, its request and reply through their bytes
/// as they cross to the Worker and back (the host tests' way to the Worker's code).
#[cfg(test)]
pub fn run_targets(
    results: &[ProbeResult],
    chosen: &[String],
    settings: &Settings,
    all_pairs: bool,
) -> Result<TargetRun, String> {
    let request = request(results, chosen, settings.clone(), all_pairs)?;
    let sent = Request::decode(&request.encode())?;
    assert_eq!(sent, request, "the request crosses to the Worker unchanged");
    let models = models(results, &request.targets);
    let reply = llmscope_app_lazy::compare::targets(&sent)?;
    let bytes = reply.encode();
    let got = Reply::decode(&bytes)?;
    assert_eq!(
        format!("{got:?}"),
        format!("{reply:?}"),
        "the reply crosses back unchanged"
    );
    Ok(target_run(got, bytes, settings.clone(), models))
}

/// The signal of a stream and its machine: `press1/barrel_temperature (live h:1)` is machine
/// `press1 (live h:1)` of `barrel_temperature`; a name without `/` is its own signal, of a
/// machine of the same name.
pub fn machine_of(id: &str, origin: &Origin) -> (String, String) {
    let suffix = format!(" ({}", origin.label());
    let (name, source) = match id.find(&suffix) {
        Some(at) if at > 0 => id.split_at(at),
        _ => (id, ""),
    };
    match name.rsplit_once('/') {
        Some((machine, signal)) => (signal.to_string(), format!("{machine}{source}")),
        None => (name.to_string(), id.to_string()),
    }
}

/// The machines' signals: each signal with its streams (ids), sorted by signal; streams of
/// probe Workers are targets, not machines.
pub fn signals(session: &Session) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for s in &session.streams {
        if matches!(s.origin, Origin::Probe { .. }) {
            continue;
        }
        let (signal, _) = machine_of(&s.id, &s.origin);
        match out.iter_mut().find(|(name, _)| *name == signal) {
            Some((_, ids)) => ids.push(s.id.clone()),
            None => out.push((signal, vec![s.id.clone()])),
        }
    }
    out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    out
}

/// A comparison of machines: each machine's summary and box, and the odd one out.
#[derive(Clone, Debug)]
pub struct MachineRun {
    /// The signal compared.
    pub signal: String,
    /// Its unit.
    pub unit: String,
    /// The machines' names.
    pub names: Vec<String>,
    /// Each machine's summary.
    pub summaries: Vec<StreamSummary>,
    /// Each machine's box.
    pub boxes: Vec<Option<BoxStats>>,
    /// The machine unlike its peers, with the evidence.
    pub odd: MachineReport,
    /// The reply's bytes as the Worker sent them (the CSV is made from them).
    pub bytes: Vec<u8>,
}

/// The request for the comparison's Worker: the streams `ids` of the session as machines of
/// one signal, their finite values.
pub fn machines(session: &Session, signal: &str, ids: &[String]) -> Result<Machines, String> {
    let streams: Vec<_> = ids.iter().filter_map(|id| session.stream(id)).collect();
    if streams.is_empty() {
        return Err(format!("no stream of {signal} is chosen"));
    }
    Ok(Machines {
        signal: signal.to_string(),
        unit: streams[0].unit.clone(),
        names: streams
            .iter()
            .map(|s| machine_of(&s.id, &s.origin).1)
            .collect(),
        values: streams
            .iter()
            .map(|s| s.values().into_iter().filter(|x| x.is_finite()).collect())
            .collect(),
    })
}

/// The view's comparison of machines from the Worker's `reply` to `asked` (`bytes`: the
/// reply as sent).
pub fn machine_run(asked: Machines, reply: MachinesReply, bytes: Vec<u8>) -> MachineRun {
    MachineRun {
        bytes,
        signal: asked.signal,
        unit: asked.unit,
        names: asked.names,
        summaries: reply.summaries,
        boxes: reply.boxes,
        odd: reply.odd,
    }
}

/// The machines' comparison the Worker would make, made here through the bytes both ways.
#[cfg(test)]
pub fn run_machines(session: &Session, signal: &str, ids: &[String]) -> Result<MachineRun, String> {
    let asked = machines(session, signal, ids)?;
    let sent = Machines::decode(&asked.encode())?;
    assert_eq!(sent, asked, "the machines cross to the Worker unchanged");
    let reply = llmscope_app_lazy::compare::machines(&sent)?;
    let bytes = reply.encode();
    let got = MachinesReply::decode(&bytes)?;
    assert_eq!(
        format!("{got:?}"),
        format!("{reply:?}"),
        "the reply crosses back unchanged"
    );
    Ok(machine_run(asked, got, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Sample;
    use llmscope_app_lazy::compare::reference;
    use llmscope_protocol::compare::Metric;

    fn result(target: &str, model: &str, t: i64, ttft: Option<f64>) -> serde_json::Value {
        serde_json::json!({
            "target": target, "provider": "openai", "model": model, "t": t, "ok": ttft.is_some(),
            "status": 200, "ttft_ms": ttft, "total_ms": null, "input_tokens": null,
            "output_tokens": null, "cached_input_tokens": null, "tokens_per_s": null,
            "cost_usd": null, "error": null
        })
    }

    #[test]
    fn probe_results_group_by_target_and_unreadable_ones_are_named() {
        let mut s = Session::default();
        s.telemetry.probe_results = vec![
            result("A", "m-a", 1, Some(100.0)),
            result("B", "m-b", 2, Some(200.0)),
            serde_json::json!({"target": "A", "t": 3}),
            result("A", "m-a", 4, None),
        ];
        let p = probes(&s);
        assert_eq!(p.results.len(), 3);
        assert_eq!(p.unreadable.0, 1);
        let why = p.unreadable.1.unwrap();
        assert_eq!(why, "probe result 3: missing field `ok`");
        let mut failed = result("A", "m-a", 5, None);
        failed["error"] =
            serde_json::json!({"kind": "rate_limited", "message": "slow", "retry_after_s": 2});
        let read = probe_result(&failed).unwrap().error.unwrap();
        assert_eq!(
            (read.kind, read.retry_after_s),
            (ErrorKind::RateLimited, Some(2.0))
        );
        failed["error"]["kind"] = "teapot".into();
        assert_eq!(
            probe_result(&failed).unwrap_err(),
            "error.kind \"teapot\" is not a failure class"
        );
        assert_eq!(
            targets(&p.results),
            [("A".into(), "m-a".into()), ("B".into(), "m-b".into())]
        );
        let grouped = group(&p.results, &["A".into()]);
        assert_eq!(grouped.len(), 1);
        assert_eq!((grouped[0].requests, grouped[0].errors), (2, 1));
        let values = llmscope_app_lazy::compare::sorted_values(&grouped, Metric::TtftMs);
        assert_eq!(values, [vec![100.0]]);
    }

    /// The Pareto chart's latency is TTFT P95 whatever metric is shown (the frontier's).
    #[test]
    fn latency_is_ttft_p95_whatever_the_metric() {
        let results: Vec<ProbeResult> = (0..200)
            .map(|i| {
                let mut r = result(if i % 2 == 0 { "A" } else { "B" }, "m", i, Some(i as f64));
                r["total_ms"] = (1000.0 + i as f64).into();
                probe_result(&r).unwrap()
            })
            .collect();
        let chosen = ["A".to_string(), "B".into()];
        let shown = |metric| {
            let settings = Settings {
                metric,
                ..Settings::default()
            };
            run_targets(&results, &chosen, &settings, false).unwrap()
        };
        let (ttft, total) = (shown(Metric::TtftMs), shown(Metric::TotalMs));
        assert_eq!(total.latency_p95, ttft.latency_p95);
        let p95: Vec<f64> = ttft
            .report
            .comparison
            .targets
            .iter()
            .map(|t| t.p95.value)
            .collect();
        assert_eq!(total.latency_p95, p95);
        assert_ne!(total.report.comparison.targets[0].p95.value, p95[0]);
    }

    /// Above eight targets, each is compared with the one of the lowest median TTFT (Holm over
    /// those n − 1 pairs), unless every pair is asked for.
    #[test]
    fn many_targets_are_compared_with_the_best_one_unless_all_pairs_are_asked() {
        // Ten targets, T3 the fastest: TTFT 100 + 10 × its distance from T3, plus a wiggle.
        let results: Vec<ProbeResult> = (0..1000)
            .map(|i| {
                let k = i % 10;
                let ttft = 100.0 + 10.0 * (k as f64 - 3.0).abs() + (i * 7 % 13) as f64;
                probe_result(&result(&format!("T{k}"), "m", i as i64, Some(ttft))).unwrap()
            })
            .collect();
        let chosen: Vec<String> = (0..10).map(|k| format!("T{k}")).collect();
        let settings = Settings::default();
        let one = run_targets(&results, &chosen, &settings, false).unwrap();
        assert_eq!(one.reference.as_deref(), Some("T3"));
        let pairs = &one.report.comparison.pairs;
        assert_eq!(pairs.len(), 9);
        assert!(
            pairs.iter().all(|p| p.a == "T3" || p.b == "T3"),
            "{pairs:?}"
        );
        let all = run_targets(&results, &chosen, &settings, true).unwrap();
        assert_eq!(
            (all.reference, all.report.comparison.pairs.len()),
            (None, 45)
        );
        // Eight targets: every pair, as before.
        let eight = run_targets(&results, &chosen[..8], &settings, false).unwrap();
        assert_eq!(
            (eight.reference, eight.report.comparison.pairs.len()),
            (None, 28)
        );
        // For speed the best median is the highest.
        let sorted = [vec![5.0, 6.0], vec![9.0, 9.5], vec![], vec![1.0]];
        assert_eq!(reference(&sorted, Metric::TokensPerS), Some(1));
        assert_eq!(reference(&sorted, Metric::TtftMs), Some(3));
        assert_eq!(reference(&[vec![2.0], vec![2.0]], Metric::TtftMs), Some(0));
        assert_eq!(reference(&[vec![]], Metric::TtftMs), None);
    }

    #[test]
    fn streams_are_machines_of_their_signal_and_probe_streams_are_not() {
        let live = Origin::Live {
            url: "ws://127.0.0.1:8080/ws".into(),
        };
        assert_eq!(
            machine_of("press1/barrel_temperature (live 127.0.0.1:8080)", &live),
            (
                "barrel_temperature".into(),
                "press1 (live 127.0.0.1:8080)".into()
            )
        );
        assert_eq!(
            machine_of("line/a/temp", &Origin::Simulator),
            ("temp".into(), "line/a".into())
        );
        let mut s = Session::default();
        for (id, origin) in [
            ("p2/temp", Origin::Simulator),
            ("p1/temp", Origin::Simulator),
            ("p1/cycle", Origin::Simulator),
            (
                "m/ttft_ms",
                Origin::Probe {
                    url: "https://w".into(),
                },
            ),
        ] {
            s.push(id, "", &origin, Sample { t: 1.0, value: 1.0 });
        }
        assert_eq!(
            signals(&s),
            [
                ("cycle".into(), vec!["p1/cycle".to_string()]),
                ("temp".into(), vec!["p2/temp".to_string(), "p1/temp".into()]),
            ]
        );
    }

    /// Twelve machines, one far off: it is the one flagged, with the engine's evidence.
    #[test]
    fn the_odd_machine_is_found_among_session_streams() {
        let mut s = Session::default();
        let mut ids = Vec::new();
        for m in 0..12 {
            let id = format!("press{m}/temp");
            for i in 0..60 {
                let wiggle = f64::from((i * 7 + m * 3) % 11) * 0.1;
                let value = if m == 5 {
                    240.0
                } else {
                    225.0 + f64::from(m) * 0.05
                } + wiggle;
                let t = f64::from(i);
                s.push(&id, "°C", &Origin::Simulator, Sample { t, value });
            }
            ids.push(id);
        }
        let run = run_machines(&s, "temp", &ids).unwrap();
        assert_eq!(run.odd.odd, ["press5"]);
        assert_eq!(run.summaries.len(), 12);
        assert_eq!(run.summaries[5].n, 60);
        assert!(run.boxes.iter().all(Option::is_some));
    }
}
