//! Results from a probe Worker (`workers/`): the app polls `GET /targets` once and then
//! `GET /results?target=NAME&since=<epoch ms>&limit=N` for each target, with the Worker's
//! token as `Authorization: Bearer`, and adds each successful probe's time to first token,
//! total latency and output speed as streams `<target>/ttft_ms`, `<target>/total_ms` and
//! `<target>/tokens_per_s`. A failed probe is never a latency value: failures are counted per
//! target and shown, with the latest error kind, and every probe is an outcome (1 failed, 0
//! succeeded) of `<target>/error_rate`, a p chart over subgroups of 10 probes. A probe judged
//! by the target's quality check (`quality_pass` true or false; null is not judged: no check,
//! or a failed probe) is an outcome (1 passed, 0 failed) of `<target>/pass_rate`, the same p
//! chart over subgroups of 10 judged probes.
//!
//! One poller runs per Worker URL, each listed in [`Probes`] with its own status: starting one
//! again (a second click on "Poll") stops the one before, another Worker's URL adds a poller.
//! [`stop`] ends a poller's loop (an answer still on its way is dropped). Polling resumes after
//! the newest result already in the session, and a result already there (the same target and
//! time `t`) is never added twice.
//!
//! The token stays in memory only: it is not saved with the session, exported, or put in a URL.

use crate::model::{Origin, Sample};
use crate::ui::Data;
use leptos::prelude::*;
use serde::Deserialize;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;
use wasm_bindgen::JsCast;

/// How often the Worker is polled.
const POLL: Duration = Duration::from_secs(10);
/// Results asked for per request.
const LIMIT: usize = 1000;

/// One probe result, as the Worker stores it (the fields this app reads; others are ignored).
#[derive(Debug, Deserialize)]
struct ProbeResult {
    t: f64,
    ok: bool,
    ttft_ms: Option<f64>,
    total_ms: Option<f64>,
    tokens_per_s: Option<f64>,
    error: Option<ProbeError>,
    /// Absent in results from Workers before quality checks: not judged.
    #[serde(default)]
    quality_pass: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct ProbeError {
    kind: String,
}

/// `/targets` answers a list of targets, or an object holding one.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Targets {
    List(Vec<Target>),
    Wrapped { targets: Vec<Target> },
}

#[derive(Debug, Deserialize)]
struct Target {
    name: String,
}

/// What the Sources panel shows about one Worker.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProbeStatus {
    /// The probe Worker's URL, once polling was asked for.
    pub url: Option<String>,
    /// Whether the user stopped polling it.
    pub stopped: bool,
    /// How many targets the Worker's `/targets` listed.
    pub targets: usize,
    /// Failed probes per target: how many, and the kind of the latest failure.
    pub failures: BTreeMap<String, (u64, String)>,
    /// The latest error polling the Worker (a bad answer, unreadable results), if any.
    pub error: Option<String>,
}

impl ProbeStatus {
    /// The status in words: "polling URL (N targets)" or "stopped polling URL", then each
    /// target's failed probes and the latest error.
    pub fn describe(&self) -> String {
        let Some(url) = &self.url else {
            return "no probe Worker".to_string();
        };
        let mut text = if self.stopped {
            format!("stopped polling {url}")
        } else {
            format!("polling {url} ({} targets)", self.targets)
        };
        for (target, (n, kind)) in &self.failures {
            text += &format!("; {target}: {n} failed probes (latest: {kind})");
        }
        if let Some(e) = &self.error {
            text += &format!("; {e}");
        }
        text
    }
}

/// Every Worker polled, in the order they were added: its poller's number and status.
pub type Probes = RwSignal<Vec<(u64, ProbeStatus)>>;

/// Changes the status of poller `id` (gone from the list: nothing to change).
fn update(probes: Probes, id: u64, f: impl FnOnce(&mut ProbeStatus)) {
    probes.update(|l| {
        if let Some((_, s)) = l.iter_mut().find(|(n, _)| *n == id) {
            f(s)
        }
    });
}

async fn get(url: &str, token: &str) -> Result<String, String> {
    let init = web_sys::RequestInit::new();
    init.set_method("GET");
    init.set_mode(web_sys::RequestMode::Cors);
    let request = web_sys::Request::new_with_str_and_init(url, &init)
        .map_err(|_| format!("bad URL {url}"))?;
    request
        .headers()
        .set("Authorization", &format!("Bearer {token}"))
        .map_err(|_| "cannot set the Authorization header".to_string())?;
    let window = web_sys::window().ok_or("no window")?;
    let response = wasm_bindgen_futures::JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|_| {
            format!("cannot reach {url} (is the Worker up, and does it allow this origin?)")
        })?;
    let response: web_sys::Response = response
        .dyn_into()
        .map_err(|_| "not a response".to_string())?;
    let text =
        wasm_bindgen_futures::JsFuture::from(response.text().map_err(|_| "no body".to_string())?)
            .await
            .ok()
            .and_then(|t| t.as_string())
            .unwrap_or_default();
    match response.status() {
        200 => Ok(text),
        401 | 403 => Err(format!(
            "{url}: the Worker refused the token ({})",
            response.status()
        )),
        code => Err(format!("{url}: HTTP {code}")),
    }
}

thread_local! {
    /// The last number given to a poller.
    static NEXT: Cell<u64> = const { Cell::new(0) };
    /// The pollers running, by row: the number of the newest one started for it. A poller
    /// stops as soon as its row has a newer one, or none.
    static RUNNING: RefCell<Vec<(u64, u64)>> = const { RefCell::new(Vec::new()) };
    /// Each row's Worker URL and token, kept in memory to poll it again after a stop.
    static TOKENS: RefCell<Vec<(u64, String, String)>> = const { RefCell::new(Vec::new()) };
}

/// The newest probe time of `target` already in the session (every probe is an outcome of
/// its error-rate stream), or 0.
fn latest(session: &crate::model::Session, origin: &Origin, target: &str) -> f64 {
    session
        .find(origin, &format!("{target}/error_rate"))
        .and_then(|at| session.streams[at].samples.last())
        .map_or(0.0, |s| s.t)
}

/// Starts polling a Worker at `base` (e.g. `https://llmscope-probes.example.workers.dev`): a
/// new row, or the listed one of the same URL started again (its running poller stops).
pub fn start(c: Data, probes: Probes, base: String, token: String) {
    let base = base.trim_end_matches('/').to_string();
    let known = probes.with_untracked(|l| {
        l.iter()
            .find(|(_, s)| s.url.as_deref() == Some(base.as_str()))
            .map(|(id, _)| *id)
    });
    let fresh = ProbeStatus {
        url: Some(base.clone()),
        ..ProbeStatus::default()
    };
    let next = || {
        NEXT.with(|n| {
            n.set(n.get() + 1);
            n.get()
        })
    };
    let row = match known {
        Some(row) => {
            update(probes, row, |s| *s = fresh);
            row
        }
        None => {
            let row = next();
            probes.update(|l| l.push((row, fresh)));
            row
        }
    };
    TOKENS.with(|t| {
        let mut t = t.borrow_mut();
        t.retain(|x| x.0 != row);
        t.push((row, base.clone(), token.clone()));
    });
    let generation = next();
    RUNNING.with(|r| {
        let mut r = r.borrow_mut();
        r.retain(|x| x.0 != row);
        r.push((row, generation));
    });
    let superseded = move || !RUNNING.with(|r| r.borrow().contains(&(row, generation)));
    let status = move |f: &dyn Fn(&mut ProbeStatus)| update(probes, row, f);
    wasm_bindgen_futures::spawn_local(async move {
        let targets = match get(&format!("{base}/targets"), &token).await.and_then(|t| {
            serde_json::from_str::<Targets>(&t)
                .map_err(|e| format!("{base}/targets: unexpected answer: {e}"))
        }) {
            Ok(Targets::List(t) | Targets::Wrapped { targets: t }) => t,
            Err(e) => {
                if !superseded() {
                    status(&|s| s.error = Some(e.clone()));
                }
                return;
            }
        };
        if superseded() {
            return;
        }
        status(&|s| s.targets = targets.len());
        let origin = Origin::Probe { url: base.clone() };
        loop {
            for target in &targets {
                if superseded() {
                    return; // stopped, or a newer poller runs
                }
                let after = c
                    .session
                    .with_untracked(|s| latest(s, &origin, &target.name));
                let url = format!(
                    "{base}/results?target={}&since={}&limit={LIMIT}",
                    js_sys::encode_uri_component(&target.name),
                    after as u64
                );
                let answer = get(&url, &token).await;
                if superseded() {
                    return;
                }
                // Each result is read on its own: one unreadable result is named, not fatal.
                match answer
                    .and_then(|t| crate::decode::results(&t).map_err(|e| format!("{url}: {e}")))
                {
                    Ok(read) => {
                        add(c, status, &base, &target.name, read.results);
                        status(&|s| s.error = read.rejected.first().map(|e| format!("{url}: {e}")));
                    }
                    Err(e) => status(&|s| s.error = Some(e.clone())),
                }
            }
            crate::sources::import::sleep(POLL).await;
        }
    });
}

/// Stops polling row `id`: its loop ends, and an answer still on its way is dropped. It
/// stays listed, as stopped.
pub fn stop(probes: Probes, id: u64) {
    RUNNING.with(|r| r.borrow_mut().retain(|x| x.0 != id));
    update(probes, id, |s| s.stopped = true);
}

/// Polls a stopped row again, with the token it was given.
pub fn resume(c: Data, probes: Probes, id: u64) {
    let kept = TOKENS.with(|t| t.borrow().iter().find(|x| x.0 == id).cloned());
    if let Some((_, base, token)) = kept {
        start(c, probes, base, token);
    }
}

/// Stops polling row `id` and takes it off the list (its streams stay in the session).
pub fn remove(probes: Probes, id: u64) {
    stop(probes, id);
    TOKENS.with(|t| t.borrow_mut().retain(|x| x.0 != id));
    probes.update(|l| l.retain(|(n, _)| *n != id));
}

/// Probes per subgroup of the error-rate p chart (as the Worker's alerting uses).
const P_SUBGROUP: usize = 10;

/// A target's rate stream `name` (`<target>/error_rate`, `<target>/pass_rate`), created when
/// new as a p chart over subgroups of [`P_SUBGROUP`] consecutive outcomes, its limits from the
/// first 20 subgroups.
fn rate_stream<'a>(
    s: &'a mut crate::model::Session,
    origin: &Origin,
    name: &str,
) -> &'a mut crate::model::Stream {
    let (stream, created) = s.slot(origin, name, "");
    if created {
        stream.settings.chart.chart = Some("p".into());
        stream.settings.chart.phase1 = Some(20);
        stream.settings.subgroup_size = Some(P_SUBGROUP);
    }
    stream
}

/// The results not yet in `session`: a result is known by its target and time `t`, so one
/// answered twice (a poll that started over, an inclusive `since`) is kept once. Results this
/// app cannot read are left out and counted. Each comes with its raw JSON.
fn fresh(
    session: &crate::model::Session,
    origin: &Origin,
    target: &str,
    raw: Vec<serde_json::Value>,
) -> (Vec<(serde_json::Value, ProbeResult)>, usize) {
    let total = raw.len();
    let parsed: Vec<_> = raw
        .into_iter()
        .filter_map(|r| ProbeResult::deserialize(&r).ok().map(|p| (r, p)))
        .collect();
    let unreadable = total - parsed.len();
    let oldest = parsed
        .iter()
        .map(|(_, p)| p.t)
        .fold(f64::INFINITY, f64::min);
    // The session's probes of this target from the batch's oldest time on (they are in time
    // order, so only the tail is read).
    let mut seen: HashSet<u64> = session
        .find(origin, &format!("{target}/error_rate"))
        .map(|at| {
            session.streams[at]
                .samples
                .iter()
                .rev()
                .take_while(|s| s.t >= oldest)
                .map(|s| s.t.to_bits())
                .collect()
        })
        .unwrap_or_default();
    let fresh: Vec<_> = parsed
        .into_iter()
        .filter(|(_, p)| seen.insert(p.t.to_bits()))
        .collect();
    (fresh, unreadable)
}

fn add(
    c: Data,
    status: impl Fn(&dyn Fn(&mut ProbeStatus)),
    base: &str,
    target: &str,
    raw: Vec<serde_json::Value>,
) {
    if raw.is_empty() {
        return;
    }
    let origin = Origin::Probe {
        url: base.to_string(),
    };
    let (results, unreadable) = c.session.with_untracked(|s| fresh(s, &origin, target, raw));
    if unreadable > 0 {
        status(&|s| {
            s.error = Some(format!(
                "{unreadable} results of {target} were not in the Worker's result format and were left out"
            ))
        });
    }
    if results.is_empty() {
        return;
    }
    let mut failures = (0, String::new());
    c.session.update(|s| {
        failures = record(s, &origin, target, results);
        s.derive();
        let keep = crate::keep_points();
        s.retain(keep, Origin::grows);
        let extra = s.telemetry.probe_results.len().saturating_sub(keep);
        s.telemetry.probe_results.drain(..extra);
    });
    let (failed, last_kind) = failures;
    if failed > 0 {
        status(&|s| {
            let entry = s.failures.entry(target.to_string()).or_default();
            entry.0 += failed;
            entry.1 = last_kind.clone();
        });
    }
}

/// Adds fresh results of `target` to the session: each raw result to the telemetry, each probe
/// to the error rate, each judged probe to the pass rate, and a successful probe's latencies
/// and speed to their streams. Returns how many failed, and the latest failure's kind.
fn record(
    s: &mut crate::model::Session,
    origin: &Origin,
    target: &str,
    results: Vec<(serde_json::Value, ProbeResult)>,
) -> (u64, String) {
    let (mut failed, mut last_kind) = (0, String::new());
    let outcomes = format!("{target}/error_rate");
    let verdicts = format!("{target}/pass_rate");
    rate_stream(s, origin, &outcomes);
    for (raw, r) in results {
        s.telemetry.probe_results.push(raw);
        // Every probe is an outcome of the error-rate p chart: 1 failed, 0 succeeded.
        let outcome = Sample {
            t: r.t,
            value: if r.ok { 0.0 } else { 1.0 },
        };
        s.push(&outcomes, "", origin, outcome);
        if !r.ok {
            failed += 1;
            last_kind = r.error.map_or_else(|| "unknown".into(), |e| e.kind);
            continue;
        }
        // A judged probe is an outcome of the pass-rate p chart: 1 passed, 0 failed.
        if let Some(pass) = r.quality_pass {
            let value = if pass { 1.0 } else { 0.0 };
            rate_stream(s, origin, &verdicts)
                .samples
                .push(Sample { t: r.t, value });
        }
        for (metric, unit, value) in [
            ("ttft_ms", "ms", r.ttft_ms),
            ("total_ms", "ms", r.total_ms),
            ("tokens_per_s", "tokens/s", r.tokens_per_s),
        ] {
            if let Some(v) = value.filter(|v| v.is_finite()) {
                s.push(
                    &format!("{target}/{metric}"),
                    unit,
                    origin,
                    Sample { t: r.t, value: v },
                );
            }
        }
    }
    (failed, last_kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Session;

    fn result(t: u64, ok: bool) -> serde_json::Value {
        serde_json::json!({"target": "m", "t": t, "ok": ok, "ttft_ms": 300.0, "total_ms": 900.0,
            "tokens_per_s": 70.0, "error": null})
    }

    #[test]
    fn judged_probes_become_a_pass_rate_p_chart_beside_the_error_rate() {
        let origin = Origin::Probe {
            url: "https://w.example".into(),
        };
        let judged = |t: u64, ok: bool, pass: serde_json::Value| {
            let mut r = result(t, ok);
            r["quality_pass"] = pass;
            r
        };
        let answer = vec![
            judged(1000, true, true.into()),
            judged(2000, true, false.into()),
            judged(3000, true, serde_json::Value::Null),
            judged(4000, false, serde_json::Value::Null),
            result(5000, true), // from a Worker before quality checks
            judged(6000, true, true.into()),
        ];
        let mut s = Session::default();
        let (new, unreadable) = fresh(&s, &origin, "m", answer);
        assert_eq!(unreadable, 0);
        assert_eq!(record(&mut s, &origin, "m", new), (1, "unknown".into()));
        let values = |id: &str| -> Vec<(f64, f64)> {
            let stream = s.stream(id).unwrap_or_else(|| panic!("no stream {id}"));
            stream.samples.iter().map(|x| (x.t, x.value)).collect()
        };
        assert_eq!(
            values("m/pass_rate"),
            [(1000.0, 1.0), (2000.0, 0.0), (6000.0, 1.0)],
            "judged probes only: 1 passed, 0 failed"
        );
        assert_eq!(values("m/error_rate").len(), 6);
        for id in ["m/pass_rate", "m/error_rate"] {
            let settings = &s.stream(id).map(|x| x.settings.clone()).unwrap_or_default();
            assert_eq!(
                (
                    settings.chart.chart.as_deref(),
                    settings.chart.phase1,
                    settings.subgroup_size
                ),
                (Some("p"), Some(20), Some(P_SUBGROUP)),
                "{id}"
            );
        }
        // A target never judged has no pass-rate stream.
        let (new, _) = fresh(&s, &origin, "n", vec![result(1000, true)]);
        record(&mut s, &origin, "n", new);
        assert!(s.stream("n/error_rate").is_some() && s.stream("n/pass_rate").is_none());
    }

    /// Issue 10: a restarted or doubled poller added the same results again.
    #[test]
    fn a_result_already_in_the_session_is_not_added_again() {
        let origin = Origin::Probe {
            url: "https://w.example".into(),
        };
        let mut s = Session::default();
        for t in [1000.0, 2000.0, 3000.0] {
            s.push("m/error_rate", "", &origin, Sample { t, value: 0.0 });
        }
        let answer = vec![
            result(2000, true),
            result(3000, false),
            result(4000, true),
            result(4000, true),
            serde_json::json!({"t": "soon"}),
            result(5000, false),
        ];
        let (fresh, unreadable) = fresh(&s, &origin, "m", answer);
        let times: Vec<f64> = fresh.iter().map(|(_, r)| r.t).collect();
        assert_eq!(times, [4000.0, 5000.0]);
        assert_eq!(unreadable, 1);
        assert_eq!(latest(&s, &origin, "m"), 3000.0);
        // Another Worker's target of the same name is another stream.
        let other = Origin::Probe {
            url: "https://other.example".into(),
        };
        assert_eq!(latest(&s, &other, "m"), 0.0);
    }
}
