//! The derived streams' form, below the cards: a name and a formula, "Add", the formula's
//! error in words, and each definition with a button that removes it. The formula is checked
//! and compiled by the second module (`crate::lazy::derived`), loaded the first time one is
//! added; the new stream is then evaluated like the others after every update.

use super::context::data;
use crate::model::Derived;
use leptos::html::Input;
use leptos::prelude::*;
use llmscope_app_lazy::derived::Request;

/// The form and the list of derived streams.
#[component]
pub fn DerivedStreams() -> impl IntoView {
    let d = data();
    let (name, formula) = (NodeRef::<Input>::new(), NodeRef::<Input>::new());
    let error = RwSignal::new(String::new());
    let add = move |_| {
        let (Some(name), Some(formula)) = (name.get(), formula.get()) else {
            return;
        };
        let request = Request {
            name: name.value().trim().to_string(),
            formula: formula.value(),
            streams: d
                .session
                .with_untracked(|s| s.streams.iter().map(|x| x.id.clone()).collect()),
        };
        wasm_bindgen_futures::spawn_local(async move {
            match crate::lazy::derived(&request).await {
                Ok(program) => {
                    error.set(String::new());
                    d.session.update(|s| {
                        s.derived
                            .push(Derived::new(request.name, request.formula, program));
                        s.derive();
                    });
                    name.set_value("");
                    formula.set_value("");
                }
                Err(e) => error.set(e),
            }
        });
    };
    let defined = Memo::new(move |_| {
        d.session.with(|s| {
            s.derived
                .iter()
                .map(|x| (x.name.clone(), x.formula.clone()))
                .collect::<Vec<_>>()
        })
    });
    view! {
        <details class="derived" open=move || defined.with(|x| !x.is_empty())>
            <summary>"Derived streams"</summary>
            <ul>
                {move || defined.get().into_iter().map(|(n, f)| {
                    let id = n.clone();
                    view! {
                        <li data-testid="derived-item">{n}" = "<code>{f}</code>" "
                            <button data-testid="derived-remove"
                                on:click=move |_| d.session.update(|s| s.remove_derived(&id))>"Remove"</button>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <input data-testid="derived-name" node_ref=name placeholder="name" aria-label="name"/>
            <input data-testid="derived-formula" node_ref=formula aria-label="formula"
                placeholder="delta(press1/energy) / delta(press1/parts)"/>
            <button data-testid="derived-add" on:click=add>"Add"</button>
            <p data-testid="derived-error" role="alert">{move || error.get()}</p>
        </details>
    }
}
