//! Results from a probe Worker (`workers/`): the app polls `GET /targets` once and then
//! `GET /results?target=NAME&since=<epoch ms>&limit=N` for each target, with the Worker's
//! token as `Authorization: Bearer`, and adds each successful probe's time to first token,
//! total latency and output speed as streams `<target>/ttft_ms`, `<target>/total_ms` and
//! `<target>/tokens_per_s`. A failed probe is never a latency value: failures are counted per
//! target and shown, with the latest error kind, and every probe is an outcome (1 failed, 0
//! succeeded) of `<target>/error_rate`, a p chart over subgroups of 10 probes.
//!
//! The token stays in memory only: it is not saved with the session, exported, or put in a URL.

use crate::model::{Origin, Sample};
use crate::ui::Ctx;
use leptos::prelude::*;
use serde::Deserialize;
use std::collections::BTreeMap;
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

/// What the header shows about the Worker.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProbeStatus {
    pub url: Option<String>,
    pub targets: usize,
    pub failures: BTreeMap<String, (u64, String)>,
    pub error: Option<String>,
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

/// Starts polling a Worker at `base` (e.g. `https://llmscope-probes.example.workers.dev`).
pub fn start(c: Ctx, status: RwSignal<ProbeStatus>, base: String, token: String) {
    let base = base.trim_end_matches('/').to_string();
    status.set(ProbeStatus {
        url: Some(base.clone()),
        ..ProbeStatus::default()
    });
    wasm_bindgen_futures::spawn_local(async move {
        let targets = match get(&format!("{base}/targets"), &token).await.and_then(|t| {
            serde_json::from_str::<Targets>(&t)
                .map_err(|e| format!("{base}/targets: unexpected answer: {e}"))
        }) {
            Ok(Targets::List(t) | Targets::Wrapped { targets: t }) => t,
            Err(e) => {
                status.update(|s| s.error = Some(e));
                return;
            }
        };
        status.update(|s| s.targets = targets.len());
        let mut since: BTreeMap<String, f64> = BTreeMap::new();
        loop {
            if status.with_untracked(|s| s.url.as_deref() != Some(base.as_str())) {
                return; // another Worker was connected since
            }
            for target in &targets {
                let after = since.get(&target.name).copied().unwrap_or(0.0);
                let url = format!(
                    "{base}/results?target={}&since={}&limit={LIMIT}",
                    js_sys::encode_uri_component(&target.name),
                    after as u64
                );
                // Each result is read on its own: one unreadable result is named, not fatal.
                match get(&url, &token)
                    .await
                    .and_then(|t| crate::decode::results(&t).map_err(|e| format!("{url}: {e}")))
                {
                    Ok(read) => {
                        let r = read.results;
                        let times = r.iter().filter_map(|x| x.get("t").and_then(|t| t.as_f64()));
                        if let Some(last) = times.reduce(f64::max) {
                            since.insert(target.name.clone(), last);
                        }
                        add(c, status, &base, &target.name, r);
                        status.update(|s| {
                            s.error = read.rejected.first().map(|e| format!("{url}: {e}"))
                        });
                    }
                    Err(e) => status.update(|s| s.error = Some(e)),
                }
            }
            crate::import::sleep(POLL).await;
        }
    });
}

/// Probes per subgroup of the error-rate p chart (as the Worker's alerting uses).
const P_SUBGROUP: usize = 10;

/// A target's error rate: a p chart over subgroups of [`P_SUBGROUP`] consecutive probes, its
/// limits from the first 20 subgroups.
fn error_rate_stream(id: &str, origin: &Origin) -> crate::model::Stream {
    let mut s = crate::model::Stream::new(id, "", origin.clone());
    s.settings.chart.chart = Some("p".into());
    s.settings.chart.phase1 = Some(20);
    s.settings.subgroup_size = Some(P_SUBGROUP);
    s
}

fn add(
    c: Ctx,
    status: RwSignal<ProbeStatus>,
    base: &str,
    target: &str,
    raw: Vec<serde_json::Value>,
) {
    if raw.is_empty() {
        return;
    }
    let results: Vec<ProbeResult> = raw
        .iter()
        .filter_map(|r| ProbeResult::deserialize(r).ok())
        .collect();
    let origin = Origin::Probe {
        url: base.to_string(),
    };
    let mut failed = 0;
    let mut last_kind = String::new();
    let outcomes = format!("{target}/error_rate");
    c.session.update(|s| {
        s.telemetry.probe_results.extend(raw);
        if s.stream(&outcomes).is_none() {
            s.streams.push(error_rate_stream(&outcomes, &origin));
        }
        for r in results {
            // Every probe is an outcome of the error-rate p chart: 1 failed, 0 succeeded.
            let outcome = Sample {
                t: r.t,
                value: if r.ok { 0.0 } else { 1.0 },
            };
            s.push(&outcomes, "", &origin, outcome);
            if !r.ok {
                failed += 1;
                last_kind = r.error.map_or_else(|| "unknown".into(), |e| e.kind);
                continue;
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
                        &origin,
                        Sample { t: r.t, value: v },
                    );
                }
            }
        }
    });
    if failed > 0 {
        status.update(|s| {
            let entry = s.failures.entry(target.to_string()).or_default();
            entry.0 += failed;
            entry.1 = last_kind;
        });
    }
}
