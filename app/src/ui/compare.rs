//! The Compare view (issue 12): probe **targets** or **machines** side by side.
//!
//! - Targets: the probe results the session keeps, one metric (`ttft_ms`, `total_ms`,
//!   `tokens_per_s`); the report of `llmscope_protocol::compare` (per-target table with
//!   intervals, pairwise statements, cost, Pareto frontier, recommendation under the user's
//!   constraints and weights), plus outside quality scores joined by model ([`quality`]).
//! - Machines: the streams of one signal from the simulators, shims and files; their table and
//!   the odd machine out (Iglewicz–Hoaglin, `odd_machines`) with its evidence.
//!
//! Nothing is computed on a tick: only the "Compare" button runs a comparison, on the data of
//! that moment. The per-target table comes first (one engine call per stream, no pairs), the
//! browser paints it, then the pairwise comparison and the recommendation follow.
//!
//! Submodules: `run` (what is compared and the comparisons, plain data), `quality` (reading
//! outside scores), `words` (numbers as text), `targets` and `machines` (the result views).

mod machines;
pub mod quality;
pub mod run;
mod targets;
pub mod words;

use super::context::{data, theme};
use super::now_ms;
use crate::export::compare_pdf::{self, Compared};
use crate::model::Session;
use leptos::prelude::*;
use llmscope_protocol::compare::{parse_weights, Metric, Settings};
use llmscope_spc::compare::StreamSummary;
use std::sync::Arc;
use wasm_bindgen::JsCast;

/// What the view shows below its controls.
#[derive(Clone, Debug)]
pub(crate) enum Shown {
    /// Nothing compared yet.
    Nothing,
    /// The per-target table, while the pairs are computed.
    Table(Arc<Vec<StreamSummary>>, Metric),
    /// Targets compared.
    Targets(Arc<run::TargetRun>),
    /// Machines compared.
    Machines(Arc<run::MachineRun>),
}

/// The form's fields, as typed.
#[derive(Clone, Copy)]
struct Form {
    max_ttft: RwSignal<String>,
    max_error: RwSignal<String>,
    min_pass: RwSignal<String>,
    max_cost: RwSignal<String>,
    weights: RwSignal<String>,
    volume: RwSignal<String>,
}

impl Form {
    /// The settings typed, or what is wrong with them (naming the field).
    fn settings(&self, metric: Metric) -> Result<Settings, String> {
        let number = |name: &str, s: RwSignal<String>| -> Result<Option<f64>, String> {
            let text = s.get_untracked();
            let text = text.trim();
            if text.is_empty() {
                return Ok(None);
            }
            match text.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(Some(v)),
                _ => Err(format!("{name}: \"{text}\" is not a number (leave it empty for no limit)")),
            }
        };
        let volume = number("volume", self.volume)?;
        let volume = match volume {
            Some(v) if v >= 0.0 && v.fract() == 0.0 => Some(v as u64),
            Some(v) => return Err(format!("volume: {v} is not a whole number of requests")),
            None => None,
        };
        let settings = Settings {
            metric,
            max_ttft_p95_ms: number("max TTFT P95", self.max_ttft)?,
            max_error_rate: number("max error rate", self.max_error)?,
            min_pass_rate: number("min pass rate", self.min_pass)?,
            max_cost_usd: number("max cost per success", self.max_cost)?,
            weights: parse_weights(&self.weights.get_untracked()).map_err(|e| e.to_string())?,
            volume,
        };
        settings.check().map_err(|e| e.to_string())?;
        Ok(settings)
    }
}

/// The target names in the session's probe results, read only when their count changes.
fn target_names(session: &Session) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in &session.telemetry.probe_results {
        if let Some(t) = r.get("target").and_then(|t| t.as_str()) {
            if !out.iter().any(|o| o == t) {
                out.push(t.to_string());
            }
        }
    }
    out
}

/// The Compare view.
#[component]
pub fn Compare() -> impl IntoView {
    let (d, theme) = (data(), theme());
    let session = d.session.read_only();
    let machines_mode = RwSignal::new(false);
    let metric = RwSignal::new(Metric::TtftMs);
    let signal = RwSignal::new(None::<String>);
    // Unticked names: anything new is compared by default.
    let left_out = RwSignal::new(Vec::<String>::new());
    let form = Form {
        max_ttft: RwSignal::new(String::new()),
        max_error: RwSignal::new(String::new()),
        min_pass: RwSignal::new(String::new()),
        max_cost: RwSignal::new(String::new()),
        weights: RwSignal::new("cost=1,latency=1,speed=1,quality=1".into()),
        volume: RwSignal::new(String::new()),
    };
    let shown = RwSignal::new(Shown::Nothing);
    let status = RwSignal::new(String::new());
    let scores = RwSignal::new(None::<Arc<quality::Scores>>);
    let busy = RwSignal::new(false);

    let count = Memo::new(move |_| session.with(|s| s.telemetry.probe_results.len()));
    let targets = Memo::new(move |_| {
        count.track();
        session.with_untracked(target_names)
    });
    let signals = Memo::new(move |_| session.with(run::signals));
    // The signal compared: the one picked, else the first.
    let current_signal = move || {
        let all = signals.get();
        signal
            .get()
            .filter(|s| all.iter().any(|(name, _)| name == s))
            .or_else(|| all.first().map(|(name, _)| name.clone()))
    };
    let choices = move || -> Vec<(String, String)> {
        if machines_mode.get() {
            let chosen = current_signal();
            signals.with(|all| {
                all.iter()
                    .find(|(name, _)| Some(name) == chosen.as_ref())
                    .map(|(_, ids)| {
                        session.with_untracked(|s| {
                            ids.iter()
                                .filter_map(|id| s.stream(id))
                                .map(|st| (st.id.clone(), run::machine_of(&st.id, &st.origin).1))
                                .collect()
                        })
                    })
                    .unwrap_or_default()
            })
        } else {
            targets.get().into_iter().map(|t| (t.clone(), t)).collect()
        }
    };

    let compare = move |_| {
        if busy.get_untracked() {
            return;
        }
        let excluded = left_out.get_untracked();
        let picked: Vec<String> = untrack(choices)
            .into_iter()
            .map(|(key, _)| key)
            .filter(|k| !excluded.contains(k))
            .collect();
        if machines_mode.get_untracked() {
            let Some(sig) = untrack(current_signal) else {
                status.set("no machine streams: run the simulators or connect a shim".into());
                return;
            };
            let started = now_ms();
            match d.session.with_untracked(|s| run::run_machines(s, &sig, &picked)) {
                Ok(m) => {
                    let m = Arc::new(m);
                    compare_pdf::remember(Some(Compared::Machines(m.clone())));
                    shown.set(Shown::Machines(m));
                    status.set(format!("compared in {:.0} ms", now_ms() - started));
                }
                Err(e) => status.set(e),
            }
            return;
        }
        let settings = match form.settings(metric.get_untracked()) {
            Ok(s) => s,
            Err(e) => {
                status.set(e);
                return;
            }
        };
        busy.set(true);
        wasm_bindgen_futures::spawn_local(async move {
            let started = now_ms();
            let probes = d.session.with_untracked(run::probes);
            let table = {
                let grouped = run::group(&probes.results, &picked);
                let values = run::timed_values(&grouped, settings.metric);
                let streams = run::target_streams(&grouped, &values);
                run::summaries(&streams, settings.metric.words())
            };
            match table {
                Ok(t) if !t.is_empty() => {
                    shown.set(Shown::Table(Arc::new(t), settings.metric));
                    status.set("comparing the pairs…".into());
                }
                Ok(_) => {
                    status.set("no probe results of the chosen targets: poll a Worker or import a session".into());
                    busy.set(false);
                    return;
                }
                Err(e) => status.set(e),
            }
            // Let the browser paint the table before the pairs take the thread.
            crate::sources::import::next_tick().await;
            match run::run_targets(&probes.results, &picked, &settings) {
                Ok(r) => {
                    let r = Arc::new(r);
                    let joined = joined_scores(&r, scores.get_untracked().as_deref());
                    compare_pdf::remember(Some(Compared::Targets(r.clone(), joined)));
                    shown.set(Shown::Targets(r));
                    let unread = match probes.unreadable {
                        (0, _) => String::new(),
                        (n, why) => format!(
                            "; {n} probe results left out, not in the result contract ({})",
                            why.unwrap_or_default()
                        ),
                    };
                    status.set(format!("compared in {:.0} ms{unread}", now_ms() - started));
                }
                Err(e) => status.set(e),
            }
            busy.set(false);
        });
    };

    // Scores imported after a comparison join it at once (and its report page).
    Effect::new(move |_| {
        let s = scores.get();
        if let Shown::Targets(r) = shown.get_untracked() {
            compare_pdf::remember(Some(Compared::Targets(r.clone(), joined_scores(&r, s.as_deref()))));
        }
    });

    let on_scores = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        input.set_value("");
        wasm_bindgen_futures::spawn_local(async move {
            let name = file.name();
            let text = wasm_bindgen_futures::JsFuture::from(file.text())
                .await
                .ok()
                .and_then(|t| t.as_string());
            match text.map(|t| quality::parse(&name, &t)) {
                Some(Ok(s)) => scores.set(Some(Arc::new(s))),
                Some(Err(e)) => status.set(format!("{name}: {e}")),
                None => status.set(format!("{name}: cannot read the file")),
            }
        });
    };

    let metric_select = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        if machines_mode.get_untracked() {
            signal.set(Some(value));
        } else if let Some(m) = Metric::from_field(&value) {
            metric.set(m);
        }
    };
    let metric_options = move || -> Vec<(String, bool)> {
        if machines_mode.get() {
            let chosen = current_signal();
            signals.with(|all| {
                all.iter()
                    .map(|(name, _)| (name.clone(), Some(name) == chosen.as_ref()))
                    .collect()
            })
        } else {
            Metric::ALL
                .iter()
                .map(|m| (m.field().to_string(), *m == metric.get()))
                .collect()
        }
    };
    let field = |label: &'static str, testid: &'static str, value: RwSignal<String>, hint: &'static str| {
        view! {
            <label class="compare-field">
                {label}
                <input data-testid=testid placeholder=hint prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))/>
            </label>
        }
    };

    view! {
        <section class="compare" data-testid="compare" aria-label="compare">
            <h2>"Compare"</h2>
            <div class="compare-controls">
                <fieldset class="compare-mode">
                    <label class="check">
                        <input type="radio" name="compare-mode" data-testid="compare-mode-targets"
                            prop:checked=move || !machines_mode.get()
                            on:change=move |_| { machines_mode.set(false); shown.set(Shown::Nothing); }/>
                        "Targets (probe Workers)"
                    </label>
                    <label class="check">
                        <input type="radio" name="compare-mode" data-testid="compare-mode-machines"
                            prop:checked=move || machines_mode.get()
                            on:change=move |_| { machines_mode.set(true); shown.set(Shown::Nothing); }/>
                        "Machines (shims, simulators, files)"
                    </label>
                </fieldset>
                <label>
                    {move || if machines_mode.get() { "Signal " } else { "Metric " }}
                    <select data-testid="compare-metric" on:change=metric_select>
                        {move || metric_options().into_iter().map(|(name, selected)| view! {
                            <option value=name.clone() selected=selected>{name.clone()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <fieldset class="compare-picks" data-testid="compare-picks">
                    <legend>{move || if machines_mode.get() { "Machines" } else { "Targets" }}</legend>
                    {move || {
                        let all = choices();
                        if all.is_empty() {
                            let empty = if machines_mode.get() {
                                "No machine streams: run the simulators, connect a shim or import a file."
                            } else {
                                "No probe results: poll a probe Worker (Sources) or import a session that has them."
                            };
                            return view! { <p class="empty">{empty}</p> }.into_any();
                        }
                        all.into_iter().map(|(key, label)| {
                            let k1 = key.clone();
                            let k2 = key.clone();
                            view! {
                                <label class="check">
                                    <input type="checkbox" data-testid="compare-pick" data-name=key.clone()
                                        prop:checked=move || left_out.with(|l| !l.contains(&k1))
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            left_out.update(|l| {
                                                l.retain(|x| *x != k2);
                                                if !on { l.push(k2.clone()); }
                                            });
                                        }/>
                                    {label}
                                </label>
                            }
                        }).collect_view().into_any()
                    }}
                </fieldset>
                <fieldset class="compare-settings" hidden=move || machines_mode.get()>
                    <legend>"Constraints and weights"</legend>
                    {field("Max TTFT P95 (ms) ", "compare-max-ttft", form.max_ttft, "none")}
                    {field("Max error rate (0–1) ", "compare-max-error", form.max_error, "none")}
                    {field("Min pass rate (0–1) ", "compare-min-pass", form.min_pass, "none")}
                    {field("Max cost per success (USD) ", "compare-max-cost", form.max_cost, "none")}
                    {field("Weights ", "compare-weights", form.weights, "cost=1,latency=1,speed=1,quality=1")}
                    {field("Requests a month ", "compare-volume", form.volume, "e.g. 100000")}
                    <label class="button">
                        "Import quality scores (CSV or JSON)"
                        <input type="file" accept=".csv,.json,text/csv,application/json"
                            data-testid="compare-scores-file" on:change=on_scores/>
                    </label>
                </fieldset>
                <button class="primary" data-testid="compare-run" on:click=compare
                    disabled=move || busy.get()>"Compare"</button>
                <p class="muted" role="status" data-testid="compare-status">{move || status.get()}</p>
            </div>
            {move || scores.get().map(|s| targets::scores_note(&s, &shown))}
            {move || match shown.get() {
                Shown::Nothing => ().into_any(),
                Shown::Table(t, m) => targets::table_only(&t, m).into_any(),
                Shown::Targets(r) => targets::report(r, scores, theme).into_any(),
                Shown::Machines(m) => machines::report(m, theme).into_any(),
            }}
        </section>
    }
}

/// Each target's outside score, in the report's order.
pub(crate) fn joined_scores(run: &run::TargetRun, scores: Option<&quality::Scores>) -> Vec<Option<f64>> {
    let models: Vec<Option<String>> = run.models.iter().map(|m| Some(m.clone())).collect();
    scores.map_or_else(
        || vec![None; models.len()],
        |s| quality::join(s, &models).per_target,
    )
}
