//! The annotate form: an episode's assignable cause and corrective action, picked from the
//! session's taxonomy (edited in the settings), and a note. Written as HTML text and read
//! back from the page on "Record", like the Compare view's form: typed views and signals per
//! field weigh more in the site's wasm.

use crate::model::{Annotation, Lists, UNKNOWN};
use llmscope_app_lazy::text::esc;
use std::fmt::Write;

/// An annotation in words, as the form and the episode list show it.
pub fn said(a: Option<&Annotation>) -> String {
    let Some(a) = a else {
        return "no cause recorded".into();
    };
    let mut text = format!("cause: {}", a.cause);
    if !a.action.is_empty() {
        text += &format!(" · action: {}", a.action);
    }
    if !a.note.is_empty() {
        text += &format!(" · note: {}", a.note);
    }
    text
}

/// `<option>`s of `items` (and `chosen`, when the list no longer holds it), `chosen` selected.
fn options(items: &[String], chosen: &str) -> String {
    let mut out = String::from("<option value=\"\">—</option>");
    let missing = !chosen.is_empty() && !items.iter().any(|x| x == chosen);
    for item in items
        .iter()
        .map(String::as_str)
        .chain(missing.then_some(chosen))
    {
        let on = if item == chosen { " selected" } else { "" };
        let _ = write!(out, "<option value=\"{0}\"{on}>{0}</option>", esc(item));
    }
    out
}

/// The form for an episode whose lists are `lists` and whose annotation is `recorded`;
/// `locked` in a shared (read-only) session.
pub fn form(lists: &Lists, recorded: Option<&Annotation>, locked: bool) -> String {
    let mut causes = lists.causes.clone();
    if !causes.iter().any(|c| c == UNKNOWN) {
        causes.push(UNKNOWN.into());
    }
    let pick = |f: fn(&Annotation) -> &str| recorded.map_or("", f);
    format!(
        "<fieldset class=\"annotate\" data-testid=\"annotate\"{}><legend>Assignable cause</legend>\
         <p data-testid=\"annotation\">{}</p>\
         <label>Cause <select data-testid=\"annotate-cause\">{}</select></label> \
         <label>Action <select data-testid=\"annotate-action\">{}</select></label> \
         <label>Note <input data-testid=\"annotate-note\" size=\"24\" value=\"{}\"></label> \
         <button data-testid=\"annotate-save\">Record</button></fieldset>",
        if locked { " disabled" } else { "" },
        esc(&said(recorded)),
        options(&causes, pick(|a| &a.cause)),
        options(&lists.actions, pick(|a| &a.action)),
        esc(pick(|a| &a.note)),
    )
}

/// The value of the form control `testid` on the page.
fn value(testid: &str) -> String {
    leptos::prelude::document()
        .query_selector(&format!("[data-testid={testid}]"))
        .ok()
        .flatten()
        .and_then(|e| js_sys::Reflect::get(&e, &"value".into()).ok()?.as_string())
        .unwrap_or_default()
}

/// What the form on the page says: cause, action, note.
pub fn read() -> (String, String, String) {
    (
        value("annotate-cause"),
        value("annotate-action"),
        value("annotate-note").trim().to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_shows_the_recorded_cause_even_when_the_lists_dropped_it() {
        let lists = Lists {
            causes: vec!["tool wear".into()],
            actions: vec!["none".into()],
        };
        let a = Annotation {
            stream: "s".into(),
            from: 0.0,
            to: 1.0,
            cause: "coolant <leak>".into(),
            action: "none".into(),
            note: "\"hot\"".into(),
        };
        let html = form(&lists, Some(&a), true);
        assert!(
            html.contains("data-testid=\"annotate\" disabled>"),
            "{html}"
        );
        assert!(html.contains("<option value=\"tool wear\">tool wear</option>"));
        assert!(html.contains("<option value=\"Unknown\">Unknown</option>"));
        assert!(html.contains("<option value=\"coolant &lt;leak&gt;\" selected>"));
        assert!(html.contains("<option value=\"none\" selected>none</option>"));
        assert!(html.contains("value=\"&quot;hot&quot;\""));
        assert_eq!(
            said(Some(&a)),
            "cause: coolant <leak> · action: none · note: \"hot\""
        );
        assert_eq!(said(None), "no cause recorded");
    }
}
