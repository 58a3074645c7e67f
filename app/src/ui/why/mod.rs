//! Why did it fire (issue 13): a stream's signal episodes, and for the one selected (a click on
//! a flagged point or on its row) the why panel: its shape and evidence, what else changed
//! (the top 5 streams, drawn aligned in time with it, the baseline window shaded), the
//! suggested causes, the 3 most similar past windows with their recorded causes (computed
//! and written as HTML by the second module, `llmscope_app_lazy::why`, from the [`explain`]
//! request), and its assignable cause ([`annotate`]). It is computed when the panel opens,
//! not on every new point.
//!
//! Episodes are the engine's (`llmscope_spc::explain::episode`): signals grouped as the Worker
//! groups alerts, closed by a clean run of 9 points.

mod annotate;
mod explain;

use crate::model::{domain, Annotation, ChartState, Session};
use crate::ui::context::{data, nav};
use leptos::prelude::*;
use llmscope_app_lazy::text::esc;
use std::fmt::Write;

/// The selected episode: its first and last points.
pub type Selected = RwSignal<Option<(usize, usize)>>;

/// The episode of `chart` that holds point `index`, if any.
pub fn episode_at(
    stream: &crate::model::Stream,
    chart: &ChartState,
    index: usize,
) -> Option<(usize, usize)> {
    stream
        .episodes(chart)
        .into_iter()
        .find(|e| (e.first..=e.last).contains(&index))
        .map(|e| (e.first, e.last))
}

/// The stream's episodes (the latest 100, latest first), each with its cause.
fn list(s: &Session, id: &str, selected: Option<(usize, usize)>) -> String {
    let Some(st) = s.stream(id) else {
        return String::new();
    };
    let mut out = String::new();
    let chart = st.chart_state();
    let Some(series) = chart.ready().map(|c| &c.primary) else {
        return out;
    };
    for e in st.episodes(&chart).iter().rev().take(100) {
        let chosen = if selected == Some((e.first, e.last)) {
            " class=\"chosen\""
        } else {
            ""
        };
        let _ = write!(
            out,
            "<li data-testid=\"episode-row\" data-first=\"{0}\" data-last=\"{1}\" \
             data-rules=\"{2}\"{chosen}><button>points {0}–{1}</button> tests {3} · {4}</li>",
            e.first,
            e.last,
            esc(&crate::model::rule_names(series, e).join(",")),
            esc(&crate::model::fired(series, e)),
            esc(&annotate::said(s.annotation(st, e)))
        );
    }
    out
}

/// The annotate form of episode `first..=last` of stream `id`, with the cause recorded on it.
fn form(s: &Session, id: &str, (first, last): (usize, usize), locked: bool) -> String {
    s.stream(id).map_or(String::new(), |st| {
        let recorded = st
            .span(&llmscope_spc::explain::episode::Episode {
                first,
                last,
                tests: Vec::new(),
                rules: Vec::new(),
            })
            .and_then(|(from, to)| s.causes.of(id, from, to));
        annotate::form(s.causes.taxonomy.lists(domain(st)), recorded, locked)
    })
}

/// An error in the panel.
fn failed(e: &str) -> String {
    format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e))
}

/// The list of a stream's episodes, each with its cause, and the selected one's panel. Both
/// are HTML text; one click handler serves every button in them.
#[component]
pub fn Why(id: String, selected: Selected) -> impl IntoView {
    let (d, nav) = (data(), nav());
    let locked = nav.readonly.get_untracked().is_some();
    // Bumped when a cause is recorded: the panel is computed again, with it.
    let recorded = RwSignal::new(0u32);
    let (k1, k2, k3) = (id.clone(), id.clone(), id.clone());
    let rows = move || d.session.with(|s| list(s, &k1, selected.get()));
    // The explanation arrives from the second module; a newer selection's wins.
    let (body, form_html) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let asked = StoredValue::new(0u64);
    Effect::new(move || {
        recorded.track();
        let Some(at) = selected.get() else { return };
        let (request, f) = d.session.with_untracked(|s| {
            (
                explain::request(s, &k2, at.0, at.1),
                form(s, &k2, at, locked),
            )
        });
        form_html.set(f);
        body.set("<p class=\"hint\">Explaining…</p>".into());
        asked.update_value(|n| *n += 1);
        let mine = asked.get_value();
        wasm_bindgen_futures::spawn_local(async move {
            let html = match request {
                Ok(r) => crate::lazy::why(&r).await.unwrap_or_else(|e| failed(&e)),
                Err(e) => failed(&e),
            };
            if asked.get_value() == mine {
                body.set(html);
            }
        });
    });
    let record = move |(first, last): (usize, usize)| {
        let (cause, action, note) = annotate::read();
        let span = d.session.with_untracked(|s| {
            let st = s.stream(&id)?;
            Some((st.point_time(first)?, st.point_time(last)?))
        });
        let Some((from, to)) = span.filter(|_| !cause.is_empty()) else {
            d.notice.set(Some(format!(
                "choose a cause (\"{}\" if none is known)",
                crate::model::UNKNOWN
            )));
            return;
        };
        let said = format!("{id}, points {first}–{last}: cause recorded ({cause})");
        d.session.update(|s| {
            s.causes.annotate(Annotation {
                stream: id.clone(),
                from,
                to,
                cause,
                action,
                note,
            })
        });
        recorded.update(|n| *n += 1);
        d.notice.set(Some(said));
    };
    let exclude = move || {
        let mut said = String::new();
        d.session
            .update(|s| said = s.exclude_annotated(&k3).unwrap_or_else(|e| e));
        d.notice.set(Some(said));
    };
    let click = move |ev: leptos::ev::MouseEvent| {
        use wasm_bindgen::JsCast;
        let Some(el) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        let attr = |e: &web_sys::Element, name: &str| e.get_attribute(name).unwrap_or_default();
        if let Ok(Some(row)) = el.closest("[data-testid=episode-row]") {
            let at = |name| attr(&row, name).parse::<usize>().ok();
            if let (Some(first), Some(last)) = (at("data-first"), at("data-last")) {
                selected.set(Some((first, last)));
            }
            return;
        }
        match attr(&el, "data-testid").as_str() {
            "why-close" => selected.set(None),
            "annotate-save" if !locked => {
                if let Some(at) = selected.get_untracked() {
                    record(at);
                }
            }
            "exclude-annotated" if !locked => exclude(),
            _ => {}
        }
    };
    view! {
        <div class="why-wrap" on:click=click>
            <h3>"Episodes"</h3>
            <p class="hint">"Click an episode, or a flagged point of the chart, to see why it fired and record its cause. "
                <button data-testid="exclude-annotated" disabled=locked
                    title="Set the annotated points aside from the limits' estimate">
                    "Re-baseline without annotated points"</button>
            </p>
            <ol class="episodes" data-testid="episode-list" inner_html=rows></ol>
            <Show when=move || selected.get().is_some()>
                <section class="why" data-testid="why-panel"
                    data-first=move || selected.get().map(|s| s.0)
                    data-last=move || selected.get().map(|s| s.1)>
                    <h4>{move || selected.get().map(|(a, b)| format!("Why did it fire? Episode at points {a}–{b} "))}
                        <button data-testid="why-close">"Close"</button></h4>
                    <div inner_html=move || body.get()></div>
                    <div inner_html=move || form_html.get()></div>
                </section>
            </Show>
        </div>
    }
}
