//! The rule editor's hook in the settings (issue 16): a button that loads the second module,
//! which writes the editor into the element below it (`rules_ui` there), and the set it
//! applies written into the stream's settings: Nelson's tests as `tests`, named rules in
//! their saved form (`Settings::rules`).

use super::context::data;
use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsValue;

/// The "Rules…" button and the editor's place.
#[component]
pub fn RuleEditor(id: String) -> impl IntoView {
    let d = data();
    let host = NodeRef::<leptos::html::Div>::new();
    let open = move |_| {
        let Some(el) = host.get_untracked() else {
            return;
        };
        let id = id.clone();
        let args = d.session.with_untracked(|s| {
            let st = s.stream(&id)?;
            let settings = &st.settings;
            let point = st.chart_state().ready().and_then(|c| c.primary.point(0));
            let number = |v: Option<f64>| JsValue::from(v.unwrap_or(f64::NAN));
            let args = js_sys::Array::of4(
                &el.into(),
                &settings.chart.tests.clone().unwrap_or_default().into(),
                &settings.rules.clone().unwrap_or_default().into(),
                &number(point.map(|p| p.center)),
            );
            args.push(&number(point.map(|p| p.sigma)));
            args.push(&number(settings.lsl));
            args.push(&number(settings.usl));
            Some(args)
        });
        let Some(args) = args else { return };
        let apply = Closure::<dyn Fn(String, String)>::new(move |tests, rules: String| {
            d.session.update(|s| {
                if let Some(st) = s.stream_mut(&id) {
                    st.settings.chart.tests = Some(tests);
                    st.settings.rules = (!rules.is_empty()).then_some(rules);
                }
            });
            d.notice.set(Some("the rule set now runs on this stream".into()));
        });
        args.push(&apply.into_js_value());
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(e) = crate::lazy::rules_editor(&args).await {
                d.notice.set(Some(e));
            }
        });
    };
    view! {
        <button type="button" data-testid="rule-open" on:click=open>"Rules…"</button>
        <div class="rules-host" node_ref=host></div>
    }
}
