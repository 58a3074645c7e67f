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
//! that moment. Targets are compared in a Web Worker that runs the second wasm module
//! (`crate::lazy::compare`), so the page keeps responding: the per-target table comes first
//! (one engine call per stream, no pairs), then the pairwise comparison and the
//! recommendation. Above 8 targets each is compared with the best median unless "All pairs"
//! is ticked. Machines are compared in the same Worker.
//!
//! The view is HTML text in one element, its parts written by effects when what they show
//! changes; the form's fields keep what is typed and are read when "Compare" is pressed. Few
//! typed views keep the site's wasm small (docs/benchmarks.md, "The Compare view in the site").
//!
//! Submodules: `run` (what is compared and the comparisons, plain data), `quality` (reading
//! outside scores), `form` (the form's fields and the settings read from them), `words`
//! (numbers as text), `targets` and `machines` (the results as HTML text; `html` escapes it).

mod form;
mod html;
mod machines;
pub mod quality;
pub mod run;
mod targets;
pub mod words;

use super::context::{data, theme};
use super::now_ms;
use crate::draw::{self, compare as charts, Palette};
use crate::export::compare_pdf::{self, Compared};
use crate::model::{CompareSetup, Session};
use leptos::prelude::*;
use llmscope_app_lazy::wire;
use llmscope_protocol::compare::Metric;
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

/// The view's state: what is picked and what is shown (the form's fields live in the page).
#[derive(Clone, Copy)]
struct View {
    machines: RwSignal<bool>,
    metric: RwSignal<Metric>,
    signal: RwSignal<Option<String>>,
    shown: RwSignal<Shown>,
    status: RwSignal<String>,
    scores: RwSignal<Option<Arc<quality::Scores>>>,
    busy: RwSignal<bool>,
}

/// The Compare view.
#[component]
pub fn Compare() -> impl IntoView {
    let (d, theme) = (data(), theme());
    let session = d.session.read_only();
    let v = View {
        machines: RwSignal::new(false),
        metric: RwSignal::new(Metric::TtftMs),
        signal: RwSignal::new(None),
        shown: RwSignal::new(Shown::Nothing),
        status: RwSignal::new(String::new()),
        scores: RwSignal::new(None),
        busy: RwSignal::new(false),
    };
    let count = Memo::new(move |_| session.with(|s| s.telemetry.probe_results.len()));
    let signals = Memo::new(move |_| session.with(run::signals));
    // What can be picked: (key, label); the boxes are written again only when it changes.
    let choices = Memo::new(move |_| {
        if !v.machines.get() {
            count.track();
            let names = session.with_untracked(target_names);
            return names.into_iter().map(|t| (t.clone(), t)).collect();
        }
        let chosen = current_signal(v, signals);
        signals.with(|all| {
            let ids = all
                .iter()
                .find(|(name, _)| Some(name) == chosen.as_ref())
                .map_or(&[][..], |(_, ids)| ids.as_slice());
            session.with_untracked(|s| {
                ids.iter()
                    .filter_map(|id| s.stream(id))
                    .map(|st| (st.id.clone(), run::machine_of(&st.id, &st.origin).1))
                    .collect::<Vec<_>>()
            })
        })
    });
    // Every control's change, in one place (the controls are HTML text).
    let on_change = move |ev: leptos::ev::Event| {
        let Some(el) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        match el.get_attribute("data-testid").as_deref() {
            Some("compare-mode-targets" | "compare-mode-machines") => {
                v.machines.set(event_target_value(&ev) == "machines");
                v.shown.set(Shown::Nothing);
            }
            Some("compare-metric") if v.machines.get_untracked() => {
                v.signal.set(Some(event_target_value(&ev)));
            }
            Some("compare-metric") => {
                let field = event_target_value(&ev);
                v.metric.set(Metric::from_field(&field).unwrap_or_default());
            }
            Some("compare-scores-file") => {
                if let Ok(input) = el.dyn_into::<web_sys::HtmlInputElement>() {
                    read_scores(v, input);
                }
                return;
            }
            _ => {}
        }
        keep_setup(d, v);
    };
    let on_click = move |ev: leptos::ev::MouseEvent| {
        let testid = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|e| e.get_attribute("data-testid"));
        match testid.as_deref() {
            Some("compare-run") => {
                let off = form::unticked(&[]);
                let picked = choices
                    .get_untracked()
                    .into_iter()
                    .map(|(key, _)| key)
                    .filter(|key| !off.contains(key))
                    .collect();
                compare(d, v, picked, untrack(|| current_signal(v, signals)));
            }
            Some("compare-csv") => download_csv(v),
            _ => {}
        }
    };
    // Scores imported after a comparison join it at once (and its report page).
    Effect::new(move |_| {
        let s = v.scores.get();
        if let Shown::Targets(r) = v.shown.get_untracked() {
            let joined = joined_scores(&r, s.as_deref());
            compare_pdf::remember(Some(Compared::Targets(r, joined)));
        }
    });
    // The select's options follow the mode and the signals; the settings hide for machines.
    Effect::new(move |_| {
        let machines = v.machines.get();
        let options: Vec<(String, bool)> = if machines {
            let chosen = current_signal(v, signals);
            signals.with(|all| {
                all.iter()
                    .map(|(name, _)| (name.clone(), Some(name) == chosen.as_ref()))
                    .collect()
            })
        } else {
            let m = v.metric.get_untracked();
            Metric::ALL
                .iter()
                .map(|x| (x.field().to_string(), *x == m))
                .collect()
        };
        let mut html = String::new();
        for (name, selected) in &options {
            let on = if *selected { " selected" } else { "" };
            let name = html::attr(name);
            html += &format!("<option value=\"{name}\"{on}>{name}</option>");
        }
        page::set_html("compare-metric", &html);
        page::set_hidden("compare-settings", machines);
    });
    // The boxes to tick, written again only when the list changes (a tick keeps till then).
    Effect::new(move |_| {
        let all = choices.get();
        let html = if !all.is_empty() {
            let unticked =
                session.with_untracked(|s| s.compare.as_ref().map(|c| c.unticked.clone()));
            form::picks_html(&all, &unticked.unwrap_or_default())
        } else if v.machines.get_untracked() {
            "<p class=\"empty\">No machine streams: run the simulators, connect a shim or import a file.</p>".into()
        } else {
            "<p class=\"empty\">No probe results: poll a probe Worker (Sources) or import a session that has them.</p>".into()
        };
        page::set_html("compare-picks-list", &html);
    });
    // The status, and the session's setup (kept, opened from a dashboard or a link) put on
    // the form when it changes, not on every tick (the form keeps what is being typed); one
    // effect, as each weighs on the site's wasm.
    let applied = StoredValue::new(None::<CompareSetup>);
    Effect::new(move |_| {
        page::set_text("compare-status", &v.status.get());
        page::set_disabled("compare-run", v.busy.get());
        let Some(s) = session.with(|s| s.compare.clone()) else {
            return;
        };
        if applied.with_value(|a| a.as_ref() != Some(&s)) {
            applied.set_value(Some(s.clone()));
            apply_setup(v, &s);
        }
    });
    // What was compared, its charts, and the scores joined to it.
    Effect::new(move |_| {
        let (shown, scores) = (v.shown.get(), v.scores.get());
        render(&shown, scores.as_deref(), theme.dark.get());
    });

    view! {
        <section class="compare" data-testid="compare" aria-label="compare" on:change=on_change
            on:click=on_click inner_html=skeleton()></section>
    }
}

/// Puts the setup `s` on the view and its form (a machine's signal is selected by the effect
/// that writes the signals' options).
fn apply_setup(v: View, s: &CompareSetup) {
    let metric = Metric::from_field(&s.metric).unwrap_or_default();
    if v.machines.get_untracked() != s.machines {
        v.machines.set(s.machines);
        v.shown.set(Shown::Nothing);
    }
    if v.metric.get_untracked() != metric {
        v.metric.set(metric);
    }
    if v.signal.get_untracked() != s.signal {
        v.signal.set(s.signal.clone());
    }
    form::apply(s, (!s.machines).then(|| metric.field()));
}

/// Keeps the form's setup on the session (saved with it, and in dashboards and links).
fn keep_setup(d: crate::ui::Data, v: View) {
    let before = d
        .session
        .with_untracked(|s| s.compare.clone())
        .unwrap_or_default();
    let now = CompareSetup {
        machines: v.machines.get_untracked(),
        metric: v.metric.get_untracked().field().to_string(),
        signal: v.signal.get_untracked(),
        unticked: form::unticked(&before.unticked),
        fields: form::fields(),
        all_pairs: form::all_pairs(),
    };
    if before != now || d.session.with_untracked(|s| s.compare.is_none()) {
        d.session.update(|s| s.compare = Some(now));
    }
}

/// The view's elements, filled by [`render`] and the effects.
fn skeleton() -> String {
    format!(
        "<h2>Compare</h2><div class=\"compare-controls\">{}<label>Metric or signal \
         <select id=\"compare-metric\" data-testid=\"compare-metric\"></select></label>\
         <fieldset class=\"compare-picks\" data-testid=\"compare-picks\"><legend>Targets or machines</legend>\
         <div id=\"compare-picks-list\"></div></fieldset>\
         <fieldset class=\"compare-settings\" id=\"compare-settings\">{}</fieldset>\
         <button class=\"primary\" id=\"compare-run\" data-testid=\"compare-run\">Compare</button>\
         <p class=\"muted\" role=\"status\" id=\"compare-status\" data-testid=\"compare-status\"></p></div>\
         <div class=\"compare-scores\" id=\"compare-scores-status\" data-testid=\"compare-scores-status\"></div>\
         <div class=\"compare-result\"><div class=\"compare-actions\" id=\"compare-actions\" hidden>\
         <button data-testid=\"compare-csv\">Download CSV</button><span class=\"muted\">“Report (PDF)” adds \
         a page of this comparison.</span></div><div id=\"compare-top\"></div>\
         <canvas class=\"compare-chart\" id=\"compare-boxes\" data-testid=\"compare-boxes\" aria-label=\"box plots\" hidden></canvas>\
         <div id=\"compare-body\"></div><h3 id=\"compare-pareto-title\" hidden>Pareto chart</h3>\
         <canvas class=\"compare-chart\" id=\"compare-pareto\" data-testid=\"compare-pareto\" aria-label=\"Pareto chart\" hidden></canvas>\
         <div id=\"compare-tail\"></div></div>",
        form::MODES,
        form::settings_html()
    )
}

/// Writes what is shown into the skeleton and draws its charts.
fn render(shown: &Shown, scores: Option<&quality::Scores>, dark: bool) {
    let note = scores.map_or(String::new(), |s| match shown {
        Shown::Targets(r) => targets::scores_note(s, Some(r)),
        _ => targets::scores_note(s, None),
    });
    page::set_html("compare-scores-status", &note);
    let (top, body, tail) = match shown {
        Shown::Nothing => (String::new(), String::new(), String::new()),
        Shown::Table(t, m) => (String::new(), targets::table_only(t, *m), String::new()),
        Shown::Targets(r) => {
            let (name, unit) = r.report.metric.words();
            let joined = joined_scores(r, scores);
            (
                heading(name, unit),
                targets::body(r, &joined),
                targets::recommendation(r),
            )
        }
        Shown::Machines(m) => (
            heading(&m.signal, &m.unit),
            machines::body(m),
            String::new(),
        ),
    };
    let result = matches!(shown, Shown::Targets(_) | Shown::Machines(_));
    let with_pareto = matches!(shown, Shown::Targets(_));
    for (id, hidden) in [
        ("compare-actions", !result),
        ("compare-boxes", !result),
        ("compare-pareto-title", !with_pareto),
        ("compare-pareto", !with_pareto),
    ] {
        page::set_hidden(id, hidden);
    }
    page::set_html("compare-top", &top);
    page::set_html("compare-body", &body);
    page::set_html("compare-tail", &tail);
    if let Err(e) = draw_charts(shown, dark) {
        web_sys::console::warn_1(&format!("compare charts: {e}").into());
    }
}

/// The distributions' heading.
fn heading(name: &str, unit: &str) -> String {
    format!(
        "<h3>Distributions of {}</h3>{BOX_NOTE}",
        html::esc(&words::labelled(name, unit))
    )
}

/// The signal compared: the one picked, else the first.
fn current_signal(v: View, signals: Memo<Vec<(String, Vec<String>)>>) -> Option<String> {
    let all = signals.get();
    v.signal
        .get()
        .filter(|s| all.iter().any(|(name, _)| name == s))
        .or_else(|| all.first().map(|(name, _)| name.clone()))
}

/// Reads a scores file the user picked.
fn read_scores(v: View, input: web_sys::HtmlInputElement) {
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
        let Some(text) = text else {
            return v.status.set(format!("{name}: cannot read the file"));
        };
        match quality::read(&name, &text).await {
            Ok(s) => v.scores.set(Some(Arc::new(s))),
            Err(e) => v.status.set(format!("{name}: {e}")),
        }
    });
}

/// Offers the comparison shown as CSV, written by the second module.
fn download_csv(v: View) {
    use llmscope_app_lazy::compare_csv::Csv;
    let (name, csv) = match v.shown.get_untracked() {
        Shown::Targets(r) => (
            "llmscope-compare.csv",
            Csv::Targets {
                reply: r.bytes.clone(),
                models: r.models.clone(),
                prices_date: r.prices_date.clone(),
                scores: joined_scores(&r, v.scores.get_untracked().as_deref()),
            },
        ),
        Shown::Machines(m) => (
            "llmscope-compare-machines.csv",
            Csv::Machines {
                signal: m.signal.clone(),
                unit: m.unit.clone(),
                reply: m.bytes.clone(),
            },
        ),
        _ => return,
    };
    let bytes = js_sys::Uint8Array::from(csv.encode().as_slice()).into();
    let failed = Box::new(move |e| v.status.set(e));
    crate::lazy::download("compare_csv", bytes, name, "text/csv", failed);
}

/// Runs the comparison of what is `picked` (target names, or stream ids of `signal`).
fn compare(d: crate::ui::Data, v: View, picked: Vec<String>, signal: Option<String>) {
    if v.busy.get_untracked() {
        return;
    }
    if v.machines.get_untracked() {
        let Some(sig) = signal else {
            v.status
                .set("no machine streams: run the simulators or connect a shim".into());
            return;
        };
        compare_machines(d, v, &picked, &sig);
        return;
    }
    let all_pairs = form::all_pairs();
    let settings = match form::settings(&form::typed(), v.metric.get_untracked()) {
        Ok(s) => s,
        Err(e) => {
            v.status.set(e);
            return;
        }
    };
    v.busy.set(true);
    wasm_bindgen_futures::spawn_local(async move {
        let started = now_ms();
        let probes = d.session.with_untracked(run::probes);
        let metric = settings.metric;
        let request = match run::request(&probes.results, &picked, settings.clone(), all_pairs) {
            Ok(r) => r,
            Err(e) => {
                v.status.set(e);
                v.busy.set(false);
                return;
            }
        };
        let models = run::models(&probes.results, &request.targets);
        v.status.set("comparing…".into());
        // The Worker sends the table first: shown while it tests the pairs.
        let on_table = move |bytes: Vec<u8>| match wire::decode_table(&bytes) {
            Ok(t) => {
                v.shown.set(Shown::Table(Arc::new(t), metric));
                v.status.set("comparing the pairs…".into());
            }
            Err(e) => v.status.set(e),
        };
        let reply = crate::lazy::compare("targets", &request.encode(), on_table)
            .await
            .and_then(|bytes| Ok((wire::Reply::decode(&bytes)?, bytes)));
        match reply {
            Ok((reply, bytes)) => {
                let r = Arc::new(run::target_run(reply, bytes, settings, models));
                let joined = joined_scores(&r, v.scores.get_untracked().as_deref());
                compare_pdf::remember(Some(Compared::Targets(r.clone(), joined)));
                v.shown.set(Shown::Targets(r));
                let unread = match probes.unreadable {
                    (0, _) => String::new(),
                    (n, why) => format!(
                        "; {n} probe results left out, not in the result contract ({})",
                        why.unwrap_or_default()
                    ),
                };
                v.status
                    .set(format!("compared in {:.0} ms{unread}", now_ms() - started));
            }
            Err(e) => v.status.set(e),
        }
        v.busy.set(false);
    });
}

/// Compares the streams `picked` of `signal` as machines, in the comparison's Worker.
fn compare_machines(d: crate::ui::Data, v: View, picked: &[String], signal: &str) {
    let asked = match d
        .session
        .with_untracked(|s| run::machines(s, signal, picked))
    {
        Ok(m) => m,
        Err(e) => {
            v.status.set(e);
            return;
        }
    };
    v.busy.set(true);
    v.status.set("comparing…".into());
    wasm_bindgen_futures::spawn_local(async move {
        let started = now_ms();
        let reply = crate::lazy::compare("machines", &asked.encode(), |_| {})
            .await
            .and_then(|bytes| Ok((wire::MachinesReply::decode(&bytes)?, bytes)));
        match reply {
            Ok((reply, bytes)) => {
                let m = Arc::new(run::machine_run(asked, reply, bytes));
                compare_pdf::remember(Some(Compared::Machines(m.clone())));
                v.shown.set(Shown::Machines(m));
                v.status
                    .set(format!("compared in {:.0} ms", now_ms() - started));
            }
            Err(e) => v.status.set(e),
        }
        v.busy.set(false);
    });
}

/// How the box plots read.
const BOX_NOTE: &str = "<p class=\"muted\">Box: hinges and median; whiskers: the furthest values \
    within 1.5 box lengths of it (Tukey); dots: values beyond.</p>";

/// Draws the box plots and the Pareto chart of what is shown (after the canvases are shown:
/// hidden ones have no size).
fn draw_charts(shown: &Shown, dark: bool) -> Result<(), String> {
    let palette = Palette::new(dark);
    let ratio = draw::pixel_ratio();
    let (Some(boxes), Some(pareto)) = (
        page::canvas("compare-boxes"),
        page::canvas("compare-pareto"),
    ) else {
        return Ok(());
    };
    match shown {
        Shown::Targets(r) => {
            let (name, unit) = r.report.metric.words();
            let names: Vec<String> = r
                .report
                .comparison
                .targets
                .iter()
                .map(|t| t.name.clone())
                .collect();
            let (points, labels) = targets::pareto_points(r);
            draw::fit(&boxes);
            draw::fit(&pareto);
            let label = words::labelled(name, unit);
            charts::boxes(&boxes, &names, &r.boxes, &label, ratio, palette)?;
            charts::pareto(&pareto, &points, (&labels.0, &labels.1), ratio, palette)
        }
        Shown::Machines(m) => {
            draw::fit(&boxes);
            let label = words::labelled(&m.signal, &m.unit);
            charts::boxes(&boxes, &m.names, &m.boxes, &label, ratio, palette)
        }
        _ => Ok(()),
    }
}

/// The page's elements, found by id (the view is HTML text).
mod page {
    use wasm_bindgen::JsCast;

    fn element(id: &str) -> Option<web_sys::Element> {
        web_sys::window()?.document()?.get_element_by_id(id)
    }

    /// A canvas of the view.
    pub fn canvas(id: &str) -> Option<web_sys::HtmlCanvasElement> {
        element(id)?.dyn_into().ok()
    }

    /// Sets an element's HTML.
    pub fn set_html(id: &str, html: &str) {
        if let Some(e) = element(id) {
            e.set_inner_html(html);
        }
    }

    /// Sets an element's text.
    pub fn set_text(id: &str, text: &str) {
        if let Some(e) = element(id) {
            e.set_text_content(Some(text));
        }
    }

    /// Shows or hides an element.
    pub fn set_hidden(id: &str, hidden: bool) {
        if let Some(e) = element(id) {
            let _ = if hidden {
                e.set_attribute("hidden", "")
            } else {
                e.remove_attribute("hidden")
            };
        }
    }

    /// Turns a button on or off.
    pub fn set_disabled(id: &str, disabled: bool) {
        if let Some(e) = element(id) {
            let _ = if disabled {
                e.set_attribute("disabled", "")
            } else {
                e.remove_attribute("disabled")
            };
        }
    }
}

/// Each target's outside score, in the report's order.
pub(crate) fn joined_scores(
    run: &run::TargetRun,
    scores: Option<&quality::Scores>,
) -> Vec<Option<f64>> {
    let models: Vec<Option<String>> = run.models.iter().map(|m| Some(m.clone())).collect();
    scores.map_or_else(
        || vec![None; models.len()],
        |s| quality::join(s, &models).per_target,
    )
}
