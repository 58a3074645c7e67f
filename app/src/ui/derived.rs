//! The derived streams' form, below the cards: a name and a formula, "Add", the formula's
//! error in words, and each definition with a button that removes it. The formula is checked
//! and compiled by the second module (`crate::lazy::derived`), loaded the first time one is
//! added; the new stream is then evaluated like the others after every update.
//!
//! The form and the list are HTML text with one click handler on their container, read back
//! from the page (as the Compare view's form is), so they weigh little in the site's wasm.

use super::context::{data, Data};
use crate::model::Derived;
use leptos::prelude::*;
use llmscope_app_lazy::derived::Request;
use llmscope_app_lazy::text::esc;
use wasm_bindgen::JsCast;

/// The fields and the button; the list and the error are filled in by the component.
const FORM: &str = "<input data-testid=\"derived-name\" aria-label=\"name\" placeholder=\"name\"> \
    <input data-testid=\"derived-formula\" aria-label=\"formula\" \
    placeholder=\"delta(line1/energy) / delta(line1/parts)\"> \
    <button data-testid=\"derived-add\">Add</button>";

/// The form and the list of derived streams.
#[component]
pub fn DerivedStreams() -> impl IntoView {
    let d = data();
    let error = RwSignal::new(String::new());
    let list = Memo::new(move |_| {
        d.session.with(|s| {
            s.derived
                .iter()
                .map(|x| {
                    let name = esc(&x.name);
                    format!(
                        "<li data-testid=\"derived-item\">{name} = <code>{}</code> <button \
                         data-testid=\"derived-remove\" data-name=\"{name}\">Remove</button></li>",
                        esc(&x.formula)
                    )
                })
                .collect::<String>()
        })
    });
    let click = move |ev: web_sys::MouseEvent| {
        let Some(target) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        match target.get_attribute("data-testid").as_deref() {
            Some("derived-remove") => {
                let name = target.get_attribute("data-name").unwrap_or_default();
                d.session.update(|s| s.remove_derived(&name));
            }
            Some("derived-add") => add(d, error),
            _ => {}
        }
    };
    view! {
        <details class="derived" on:click=click>
            <summary>"Derived streams"</summary>
            <ul inner_html=move || list.get()></ul>
            <div inner_html=FORM></div>
            <p data-testid="derived-error" role="alert">{move || error.get()}</p>
        </details>
    }
}

/// The input of `testid`.
fn input(testid: &str) -> Option<web_sys::HtmlInputElement> {
    let selector = format!("[data-testid={testid}]");
    web_sys::window()?
        .document()?
        .query_selector(&selector)
        .ok()??
        .dyn_into()
        .ok()
}

/// Compiles the typed formula in the second module; adds the stream, or shows why not.
fn add(d: Data, error: RwSignal<String>) {
    let (Some(name), Some(formula)) = (input("derived-name"), input("derived-formula")) else {
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
}
