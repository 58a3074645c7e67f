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
mod html;

use crate::model::ChartState;
use crate::ui::context::{data, nav};
use annotate::Annotate;
use leptos::prelude::*;

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

/// The list of a stream's episodes, each with its cause, and the selected one's panel.
#[component]
pub fn Why(id: String, selected: Selected) -> impl IntoView {
    let (d, nav) = (data(), nav());
    let key = id.clone();
    // Each episode: first, last, tests, and its recorded cause.
    let rows = Memo::new(move |_| {
        d.session.with(|s| {
            let Some(st) = s.stream(&key) else {
                return Vec::new();
            };
            st.episodes(&st.chart_state())
                .iter()
                .map(|e| {
                    let tests: Vec<String> =
                        e.tests.iter().map(|t| t.number().to_string()).collect();
                    let cause = s.annotation(st, e).map(|a| a.cause.clone());
                    (e.first, e.last, tests.join(", "), cause)
                })
                .collect::<Vec<_>>()
        })
    });
    let list = move || {
        rows.get()
            .into_iter()
            .rev()
            .take(100)
            .map(|(first, last, tests, cause)| {
                let chosen = move || selected.get() == Some((first, last));
                view! {
                    <li data-testid="episode-row" data-first=first.to_string() data-last=last.to_string()
                        class:chosen=chosen on:click=move |_| selected.set(Some((first, last)))>
                        <button>{format!("points {first}–{last}")}</button>
                        {format!(" tests {tests} · {}", cause.map_or("no cause recorded".into(), |c| format!("cause: {c}")))}
                    </li>
                }
            })
            .collect::<Vec<_>>()
    };
    let exclude_id = id.clone();
    let exclude = move |_| {
        let mut said = String::new();
        d.session.update(|s| {
            said = s.exclude_annotated(&exclude_id).unwrap_or_else(|e| e);
        });
        d.notice.set(Some(said));
    };
    let panel = move || {
        selected.get().map(|(first, last)| {
            // Computed once per opening: the session is read, not tracked.
            let body = d.session.with_untracked(|s| explain::explain(s, &id, first, last));
            let body = match body {
                Ok(x) => html::render(&x, &id),
                Err(e) => format!("<p class=\"error\" role=\"alert\">{e}</p>"),
            };
            view! {
                <section class="why" data-testid="why-panel" data-first=first.to_string() data-last=last.to_string()>
                    <h4>{format!("Why did it fire? Episode at points {first}–{last}")}
                        " "<button data-testid="why-close" on:click=move |_| selected.set(None)>"Close"</button></h4>
                    <div inner_html=body></div>
                    <Annotate id=id.clone() first=first last=last/>
                </section>
            }
        })
    };
    view! {
        <h3>"Episodes"</h3>
        <p class="hint">"Click an episode, or a flagged point of the chart, to see why it fired and record its cause. "
            <button data-testid="exclude-annotated" disabled=move || nav.readonly.get().is_some()
                title="Set the annotated points aside from the limits' estimate" on:click=exclude>
                "Re-baseline without annotated points"</button>
        </p>
        <ol class="episodes" data-testid="episode-list">{list}</ol>
        {panel}
    }
}
