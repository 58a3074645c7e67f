//! The rule editor's hook in the settings (issue 16): a button that loads the second module,
//! which writes the editor into the place below it (`rules_ui` there) and answers with the set
//! the user applies, written here into the stream's settings: Nelson's tests as `tests`, named
//! rules in their saved form (`Settings::rules`), and the text as typed (`Settings::rules_text`).
//! Plain text both ways, for this module's size.

use super::context::data;
use leptos::prelude::*;

/// The "Rules…" button and the editor's place (a plain function: a component's props weigh
/// more in this module).
pub fn rule_editor(id: String) -> impl IntoView {
    let d = data();
    let open = move |_| {
        let id = id.clone();
        // The settings, and the plotted statistic's center and sigma for rules with values.
        let Some(input) = d.session.with_untracked(|s| {
            let st = s.stream(&id)?;
            let p = st.chart_state().ready().and_then(|c| c.primary.point(0));
            let number = |v: Option<f64>| v.unwrap_or(f64::NAN);
            let settings = &st.settings;
            Some(format!(
                "{}\u{1}{}\u{1}{}\u{1}{}\u{1}{}\u{1}{}\u{1}{}",
                settings.chart.tests.as_deref().unwrap_or(""),
                settings.rules.as_deref().unwrap_or(""),
                number(p.map(|p| p.center)),
                number(p.map(|p| p.sigma)),
                number(settings.lsl),
                number(settings.usl),
                settings.rules_text.as_deref().unwrap_or(""),
            ))
        }) else {
            return;
        };
        wasm_bindgen_futures::spawn_local(async move {
            match crate::lazy::rules_editor(input).await {
                Ok((tests, rules, text)) => d.session.update(|s| {
                    if let Some(st) = s.stream_mut(&id) {
                        st.settings.chart.tests = Some(tests);
                        st.settings.rules = Some(rules).filter(|r| !r.is_empty());
                        st.settings.rules_text = Some(text).filter(|t| !t.is_empty());
                    }
                }),
                Err(e) => d.notice.set(Some(e)),
            }
        });
    };
    view! {
        <button type="button" data-testid="rule-open" on:click=open>"Rules…"</button>
        <div class="rules-host"></div>
    }
}
