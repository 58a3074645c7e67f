//! The derived streams' form, below the cards: a name and a formula, "Add", the formula's
//! error in words, and each definition with a button that removes it. The formula is checked
//! and compiled by the second module (`crate::lazy::derived`), loaded the first time one is
//! added; the new stream is then evaluated like the others after every update.
//!
//! The form is HTML text with one click handler, read back from and written to the page
//! directly (as the Compare view's form is): no signal or memo of its own, so it weighs little
//! in the site's wasm (issue 3's budget).

use super::context::{data, Data};
use crate::model::{Derived, Session};
use leptos::prelude::*;
use llmscope_app_lazy::derived::Request;
use llmscope_app_lazy::text::esc;
use wasm_bindgen::JsCast;

/// The form: the list of definitions, the fields, the button and the error line.
fn html(s: &Session) -> String {
    format!(
        "<summary>Derived streams</summary><ul id=\"derived-list\">{}</ul>\
         <input id=\"derived-name\" data-testid=\"derived-name\" aria-label=\"name\" \
         placeholder=\"name\"> <input id=\"derived-formula\" data-testid=\"derived-formula\" \
         aria-label=\"formula\" placeholder=\"delta(line1/energy) / delta(line1/parts)\"> \
         <button data-testid=\"derived-add\">Add</button>\
         <p id=\"derived-error\" data-testid=\"derived-error\" role=\"alert\"></p>",
        list(s)
    )
}

/// Each definition with its Remove button.
fn list(s: &Session) -> String {
    let mut out = String::new();
    for x in &s.derived {
        let name = esc(&x.name);
        out += &format!(
            "<li data-testid=\"derived-item\">{name} = <code>{}</code> <button \
             data-testid=\"derived-remove\" data-name=\"{name}\">Remove</button></li>",
            esc(&x.formula)
        );
    }
    out
}

/// The form and the list of derived streams.
#[component]
pub fn DerivedStreams() -> impl IntoView {
    let d = data();
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
                show(d);
            }
            Some("derived-add") => add(d),
            _ => {}
        }
    };
    let form = d.session.with_untracked(html);
    view! { <details class="derived" on:click=click inner_html=form></details> }
}

/// The element of id `id`.
fn element(id: &str) -> Option<web_sys::Element> {
    web_sys::window()?.document()?.get_element_by_id(id)
}

/// The input of id `id`.
fn input(id: &str) -> Option<web_sys::HtmlInputElement> {
    element(id)?.dyn_into().ok()
}

/// Shows the session's definitions in the list.
fn show(d: Data) {
    if let Some(ul) = element("derived-list") {
        ul.set_inner_html(&d.session.with_untracked(list));
    }
}

/// Compiles the typed formula in the second module; adds the stream, or shows why not.
fn add(d: Data) {
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
        let error = match crate::lazy::derived(&request).await {
            Ok(program) => {
                d.session.update(|s| {
                    s.derived
                        .push(Derived::new(request.name, request.formula, program));
                    s.derive();
                });
                name.set_value("");
                formula.set_value("");
                show(d);
                String::new()
            }
            Err(e) => e,
        };
        if let Some(p) = element("derived-error") {
            p.set_text_content(Some(&error));
        }
    });
}
