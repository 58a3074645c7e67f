//! The annotate form: an episode's assignable cause and corrective action, picked from the
//! session's taxonomy (edited in the settings), and a note.

use crate::model::{domain, Annotation, UNKNOWN};
use crate::ui::context::{data, nav};
use leptos::prelude::*;

/// The form for the episode `first..=last` of stream `id`; it shows the recorded annotation
/// and replaces it on "Record".
#[component]
pub fn Annotate(id: String, first: usize, last: usize) -> impl IntoView {
    let (d, nav) = (data(), nav());
    let key = id.clone();
    // The episode's time span, the domain's lists, and its annotation when it has one.
    let state = Memo::new(move |_| {
        d.session.with(|s| {
            let st = s.stream(&key)?;
            let (from, to) = (st.point_time(first)?, st.point_time(last)?);
            let lists = s.causes.taxonomy.lists(domain(st)).clone();
            Some((from, to, lists, s.causes.of(&key, from, to).cloned()))
        })
    });
    let recorded = state.get_untracked().and_then(|s| s.3);
    let field = |f: fn(&Annotation) -> &String| {
        RwSignal::new(recorded.as_ref().map(f).cloned().unwrap_or_default())
    };
    let (cause, action, note) = (
        field(|a| &a.cause),
        field(|a| &a.action),
        field(|a| &a.note),
    );
    let options = move |which: bool, chosen: RwSignal<String>| {
        state.with(|s| {
            let mut items = s.as_ref().map_or_else(Vec::new, |s| {
                if which {
                    s.2.causes.clone()
                } else {
                    s.2.actions.clone()
                }
            });
            if which && !items.iter().any(|c| c == UNKNOWN) {
                items.push(UNKNOWN.into());
            }
            // A recorded item the taxonomy no longer lists is still shown.
            let now = chosen.get_untracked();
            if !now.is_empty() && !items.contains(&now) {
                items.push(now.clone());
            }
            items
                .into_iter()
                .map(|c| view! { <option value=c.clone() selected=c == now>{c.clone()}</option> })
                .collect::<Vec<_>>()
        })
    };
    let save = move |_| {
        let Some((from, to, _, _)) = state.get_untracked() else {
            return;
        };
        let chosen = cause.get_untracked();
        if chosen.is_empty() {
            d.notice.set(Some(format!(
                "choose a cause (\"{UNKNOWN}\" if none is known)"
            )));
            return;
        }
        d.session.update(|s| {
            s.causes.annotate(Annotation {
                stream: id.clone(),
                from,
                to,
                cause: chosen.clone(),
                action: action.get_untracked(),
                note: note.get_untracked().trim().to_string(),
            })
        });
        d.notice.set(Some(format!(
            "{id}, points {first}–{last}: cause recorded ({chosen})"
        )));
    };
    let shown = move || {
        state.with(|s| {
            s.as_ref().and_then(|s| s.3.as_ref()).map_or_else(
                || "no cause recorded".to_string(),
                |a| {
                    let mut text = format!("cause: {}", a.cause);
                    if !a.action.is_empty() {
                        text += &format!(" · action: {}", a.action);
                    }
                    if !a.note.is_empty() {
                        text += &format!(" · note: {}", a.note);
                    }
                    text
                },
            )
        })
    };
    view! {
        <fieldset class="annotate" data-testid="annotate" disabled=move || nav.readonly.get().is_some()>
            <legend>"Assignable cause"</legend>
            <p data-testid="annotation">{shown}</p>
            <label>"Cause "
                <select data-testid="annotate-cause" prop:value=move || cause.get()
                    on:change=move |ev| cause.set(event_target_value(&ev))>
                    <option value="">"—"</option>
                    {move || options(true, cause)}
                </select>
            </label>
            <label>"Action "
                <select data-testid="annotate-action" prop:value=move || action.get()
                    on:change=move |ev| action.set(event_target_value(&ev))>
                    <option value="">"—"</option>
                    {move || options(false, action)}
                </select>
            </label>
            <label>"Note "
                <input data-testid="annotate-note" size="24" prop:value=move || note.get()
                    on:change=move |ev| note.set(event_target_value(&ev))/>
            </label>
            <button data-testid="annotate-save" on:click=save>"Record"</button>
        </fieldset>
    }
}
