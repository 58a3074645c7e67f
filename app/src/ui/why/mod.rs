//! Why did it fire (issue 13): a stream's signal episodes, and for the one selected (a click on
//! a flagged point or on its row) the why panel: its shape and evidence, what else changed
//! (the top 5 streams, drawn aligned in time with it, the baseline window shaded), the
//! suggested causes, the 3 most similar past windows with their recorded causes
//! ([`explain`], drawn by [`html`]), and its assignable cause ([`annotate`]). The engine
//! computes it when the panel opens, not on every new point.
//!
//! Episodes are the engine's (`llmscope_spc::explain::episode`): signals grouped as the Worker
//! groups alerts, closed by a clean run of 9 points.

mod annotate;
mod explain;
pub(super) mod html;

use crate::model::{domain, Annotation, ChartState, Session};
use crate::ui::context::{data, nav};
use html::esc;
use leptos::prelude::*;
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
    for e in st.episodes(&st.chart_state()).iter().rev().take(100) {
        let tests: Vec<String> = e.tests.iter().map(|t| t.number().to_string()).collect();
        let chosen = if selected == Some((e.first, e.last)) {
            " class=\"chosen\""
        } else {
            ""
        };
        let _ = write!(
            out,
            "<li data-testid=\"episode-row\" data-first=\"{0}\" data-last=\"{1}\"{chosen}>\
             <button>points {0}–{1}</button> tests {2} · {3}</li>",
            e.first,
            e.last,
            tests.join(", "),
            esc(&annotate::said(s.annotation(st, e)))
        );
    }
    out
}

/// The why panel of episode `first..=last` of stream `id`: computed by the engine now.
fn panel(s: &Session, id: &str, (first, last): (usize, usize), locked: bool) -> String {
    let body = match explain::explain(s, id, first, last) {
        Ok(x) => html::render(&x, id),
        Err(e) => format!("<p class=\"error\" role=\"alert\">{}</p>", esc(&e)),
    };
    let form = s.stream(id).map_or(String::new(), |st| {
        let recorded = st
            .span(&llmscope_spc::explain::episode::Episode {
                first,
                last,
                tests: Vec::new(),
            })
            .and_then(|(from, to)| s.causes.of(id, from, to));
        annotate::form(s.causes.taxonomy.lists(domain(st)), recorded, locked)
    });
    format!(
        "<section class=\"why\" data-testid=\"why-panel\" data-first=\"{first}\" \
         data-last=\"{last}\"><h4>Why did it fire? Episode at points {first}–{last} \
         <button data-testid=\"why-close\">Close</button></h4>{body}{form}</section>"
    )
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
    let shown = move || {
        recorded.track();
        selected.get().map_or(String::new(), |at| {
            d.session.with_untracked(|s| panel(s, &k2, at, locked))
        })
    };
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
            <div inner_html=shown></div>
        </div>
    }
}
