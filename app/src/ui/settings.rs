//! A stream's chart settings, and the session's assignable causes (the taxonomy of the
//! stream's domain, and whether acknowledging needs a cause), applied at once and kept with
//! the session.

use super::context::{data, nav};
use crate::model::{domain, lines, DEFAULT_RECENT};
use leptos::prelude::*;
use llmscope_spc::explain::cause::Domain;

/// Per-stream settings, applied at once and kept with the session.
#[component]
pub fn Settings(id: String) -> impl IntoView {
    let (d, nav) = (data(), nav());
    let key = id.clone();
    let key2 = id.clone();
    let rules_id = id.clone();
    let current = move || {
        d.session
            .with(|s| s.stream(&key).map(|s| s.settings.clone()))
            .unwrap_or_default()
    };
    let update = move |f: Box<dyn Fn(&mut crate::model::Settings)>| {
        d.session.update(|s| {
            if let Some(st) = s.stream_mut(&id) {
                f(&mut st.settings);
            }
        })
    };
    // A non-finite limit would be saved as null and silently vanish: it counts as none.
    let num = |ev: &leptos::ev::Event| {
        let v = event_target_value(ev).trim().parse::<f64>().ok();
        v.filter(|v| v.is_finite())
    };
    let u1 = update.clone();
    let u2 = update.clone();
    let u3 = update.clone();
    let u4 = update.clone();
    let u5 = update.clone();
    let u6 = update.clone();
    let u7 = update.clone();
    let c1 = current.clone();
    let c2 = current.clone();
    let c3 = current.clone();
    let c4 = current.clone();
    let c5 = current.clone();
    let c6 = current.clone();
    let c7 = current.clone();
    view! {
        <fieldset class="settings" disabled=move || nav.readonly.get().is_some()>
            <legend>"Chart settings"</legend>
            <label>"Chart "
                <select data-testid="chart-type" on:change=move |ev| { let v = event_target_value(&ev); u1(Box::new(move |s| s.chart.chart = Some(v.clone()))) }
                    prop:value=move || c1().chart.chart.unwrap_or_else(|| "individuals".into())>
                    <option value="individuals">"Individuals / MR"</option>
                    <option value="xbar-r">"X-bar / R"</option>
                    <option value="xbar-s">"X-bar / S"</option>
                    <option value="ewma">"EWMA"</option>
                    <option value="cusum">"CUSUM"</option>
                </select>
            </label>
            <label>"Subgroup size "
                <input type="number" min="2" data-testid="subgroup-size" prop:value=move || c2().subgroup_size.map_or(String::new(), |n| n.to_string())
                    on:change=move |ev| { let v = num(&ev).map(|n| n as usize); u2(Box::new(move |s| s.subgroup_size = v)) }/>
            </label>
            <label>"Baseline points "
                <input type="number" min="2" data-testid="phase1" prop:value=move || c3().chart.phase1.map_or(String::new(), |n| n.to_string())
                    on:change=move |ev| { let v = num(&ev).map(|n| n as usize); u3(Box::new(move |s| { s.chart.phase1 = v; s.chart.baseline_range = None; })) }/>
            </label>
            <label title="nelson, western-electric, none, or test numbers with an optional K: 1,2:8,5">"Tests "
                <input list="test-sets" data-testid="tests" size="14"
                    on:change=move |ev| { let v = event_target_value(&ev); u4(Box::new(move |s| s.chart.tests = Some(v.trim().to_string()))) }
                    prop:value=move || c4().chart.tests.unwrap_or_else(|| "nelson".into())/>
                <datalist id="test-sets">
                    <option value="nelson">"Nelson (all eight)"</option>
                    <option value="western-electric">"Western Electric"</option>
                    <option value="1">"Test 1 only"</option>
                    <option value="1,2:8,5,6">"1, 2 with K=8, 5, 6"</option>
                </datalist>
            </label>
            {super::rules::rule_editor(rules_id)}
            <label>"LSL "
                <input type="number" step="any" prop:value=move || c5().lsl.map_or(String::new(), |v| v.to_string())
                    on:change=move |ev| { let v = num(&ev); u5(Box::new(move |s| s.lsl = v)) }/>
            </label>
            <label>"USL / SLO "
                <input type="number" step="any" prop:value=move || c6().usl.map_or(String::new(), |v| v.to_string())
                    on:change=move |ev| { let v = num(&ev); u6(Box::new(move |s| s.usl = v)) }/>
            </label>
            <label>"Transform "
                <select on:change=move |ev| { let v = event_target_value(&ev); update(Box::new(move |s| s.chart.transform = Some(v.clone()))) }
                    prop:value=move || current().chart.transform.unwrap_or_else(|| "none".into())>
                    <option value="none">"none"</option>
                    <option value="log">"log"</option>
                    <option value="box-cox">"Box-Cox"</option>
                </select>
            </label>
            <label title="a signal among these latest points makes the card say signal">"Recent points "
                <input type="number" min="1" data-testid="recent" size="5"
                    prop:value=move || c7().recent.unwrap_or(DEFAULT_RECENT).to_string()
                    on:change=move |ev| { let v = num(&ev).map(|n| n as usize); u7(Box::new(move |s| s.recent = v.filter(|n| *n >= 1))) }/>
            </label>
        </fieldset>
        <CauseSettings id=key2/>
    }
}

/// The session's assignable causes: the causes and actions offered for the stream's domain
/// (one a line), and the option that makes acknowledging wait for a cause. HTML text, written
/// when the view opens, with one change handler (typed views per control weigh more in the
/// site's wasm).
#[component]
fn CauseSettings(id: String) -> impl IntoView {
    let (d, nav) = (data(), nav());
    let (which, html) = d.session.with_untracked(|s| {
        let which = s.stream(&id).map_or(Domain::Plant, domain);
        let l = s.causes.taxonomy.lists(which);
        let esc = llmscope_app_lazy::text::esc;
        let html = format!(
            "<legend>Assignable causes ({} streams)</legend>\
             <label title=\"the dashboard keeps calling the stream's signals news until each \
             episode has a cause\"><input type=\"checkbox\" data-testid=\"require-cause\"{}> \
             Require a cause before an alert is acknowledged</label>\
             <label>Causes (one a line) <textarea data-testid=\"taxonomy-causes\" rows=\"4\">{}\
             </textarea></label><label>Actions (one a line) <textarea \
             data-testid=\"taxonomy-actions\" rows=\"4\">{}</textarea></label>",
            if which == Domain::Llm { "LLM" } else { "plant" },
            if s.causes.require { " checked" } else { "" },
            esc(&l.causes.join("\n")),
            esc(&l.actions.join("\n")),
        );
        (which, html)
    });
    let change = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let Some(el) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        let prop = |name: &str| js_sys::Reflect::get(&el, &name.into()).ok();
        let testid = el.get_attribute("data-testid").unwrap_or_default();
        d.session.update(|s| {
            let l = s.causes.taxonomy.lists_mut(which);
            let text = || {
                prop("value")
                    .and_then(|v| v.as_string())
                    .unwrap_or_default()
            };
            match testid.as_str() {
                "require-cause" => {
                    s.causes.require = prop("checked").and_then(|v| v.as_bool()).unwrap_or(false)
                }
                "taxonomy-causes" => l.causes = lines(&text()),
                "taxonomy-actions" => l.actions = lines(&text()),
                _ => {}
            }
        })
    };
    view! {
        <fieldset class="settings causes" disabled=move || nav.readonly.get().is_some()
            on:change=change inner_html=html></fieldset>
    }
}
