//! The Compare view's form. Its fields are HTML written once (the browser keeps what is
//! typed, no signal per field), read back when "Compare" is pressed and turned into the
//! report's [`Settings`], naming the field that is wrong. Few typed views keep the site's wasm
//! small.

use super::html::{attr, esc};
use crate::model::CompareSetup;
use llmscope_protocol::compare::{parse_weights, Metric, Settings};
use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;

/// The two modes.
pub const MODES: &str = "<fieldset class=\"compare-mode\"><legend>Compare</legend>\
    <label class=\"check\"><input type=\"radio\" name=\"compare-mode\" value=\"targets\" \
    id=\"compare-mode-targets\" data-testid=\"compare-mode-targets\" checked>Targets (probe Workers)</label>\
    <label class=\"check\"><input type=\"radio\" name=\"compare-mode\" value=\"machines\" \
    id=\"compare-mode-machines\" data-testid=\"compare-mode-machines\">Machines (shims, simulators, files)</label></fieldset>";

/// The settings' fields: (id and test id, label, placeholder, starting value).
const FIELDS: [(&str, &str, &str, &str); 6] = [
    ("compare-max-ttft", "Max TTFT P95 (ms)", "none", ""),
    ("compare-max-error", "Max error rate (0–1)", "none", ""),
    ("compare-min-pass", "Min pass rate (0–1)", "none", ""),
    ("compare-max-cost", "Max cost per success (USD)", "none", ""),
    (
        "compare-weights",
        "Weights",
        "cost=1,latency=1,speed=1,quality=1",
        "cost=1,latency=1,speed=1,quality=1",
    ),
    ("compare-volume", "Requests a month", "e.g. 100000", ""),
];

/// The fields' names in a saved setup (`CompareSetup::fields`), in [`FIELDS`]' order.
const NAMES: [&str; 6] = [
    "max_ttft_p95_ms",
    "max_error_rate",
    "min_pass_rate",
    "max_cost_usd",
    "weights",
    "volume",
];

/// The constraints, weights and volume, and the scores file input.
pub fn settings_html() -> String {
    let fields: String = FIELDS
        .iter()
        .map(|(id, label, hint, value)| {
            format!(
                "<label class=\"compare-field\">{} <input id=\"{id}\" data-testid=\"{id}\" \
                 placeholder=\"{}\" value=\"{}\"></label>",
                esc(label),
                attr(hint),
                attr(value)
            )
        })
        .collect();
    format!(
        "<legend>Constraints and weights</legend>{fields}<label class=\"check\" \
         title=\"Above {} targets each is compared with the one of the best median, unless this \
         is ticked\"><input type=\"checkbox\" id=\"compare-all-pairs\" \
         data-testid=\"compare-all-pairs\">All pairs</label><label class=\"button\">Import quality \
         scores (CSV or JSON)<input type=\"file\" accept=\".csv,.json,text/csv,application/json\" \
         data-testid=\"compare-scores-file\"></label>",
        llmscope_app_lazy::compare::ALL_PAIRS_UP_TO
    )
}

/// Whether "All pairs" is ticked.
pub fn all_pairs() -> bool {
    element("compare-all-pairs")
        .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
        .is_some_and(|i| i.checked())
}

/// The fields as typed, in [`FIELDS`]' order.
pub type Typed = [String; 6];

/// What is typed in the page's fields.
pub fn typed() -> Typed {
    FIELDS.map(|(id, ..)| {
        element(id)
            .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
            .map_or(String::new(), |i| i.value())
    })
}

fn element(id: &str) -> Option<web_sys::Element> {
    web_sys::window()?.document()?.get_element_by_id(id)
}

/// The checkboxes' HTML: one per choice `(key, label)`, ticked unless `unticked`.
pub fn picks_html(choices: &[(String, String)], unticked: &[String]) -> String {
    choices
        .iter()
        .enumerate()
        .map(|(i, (key, label))| {
            let on = if unticked.contains(key) {
                ""
            } else {
                " checked"
            };
            format!(
                "<label class=\"check\"><input type=\"checkbox\" id=\"compare-pick-{i}\" \
                 data-testid=\"compare-pick\" data-name=\"{}\"{on}>{}</label>",
                attr(key),
                esc(label)
            )
        })
        .collect()
}

/// The page's checkboxes, in order.
fn picks() -> impl Iterator<Item = web_sys::HtmlInputElement> {
    (0..).map_while(|i| element(&format!("compare-pick-{i}"))?.dyn_into().ok())
}

/// The setup's fields as typed, by name.
pub fn fields() -> Vec<(String, String)> {
    NAMES.iter().map(|n| n.to_string()).zip(typed()).collect()
}

/// What is unticked now: `before`'s names not on the page, and the page's boxes not ticked.
pub fn unticked(before: &[String]) -> Vec<String> {
    let (mut shown, mut out) = (Vec::new(), Vec::new());
    for b in picks() {
        let name = b.get_attribute("data-name").unwrap_or_default();
        if !b.checked() {
            out.push(name.clone());
        }
        shown.push(name);
    }
    out.extend(before.iter().filter(|n| !shown.contains(n)).cloned());
    out
}

/// Puts a saved setup on the form: the mode, the metric shown (`selected`, if one), the
/// fields, "All pairs" and the ticks.
pub fn apply(setup: &CompareSetup, selected: Option<&str>) {
    let input = |id: &str| element(id).and_then(|e| e.dyn_into::<HtmlInputElement>().ok());
    for (mode, on) in [("targets", !setup.machines), ("machines", setup.machines)] {
        if let Some(i) = input(&format!("compare-mode-{mode}")) {
            i.set_checked(on);
        }
    }
    if let (Some(select), Some(value)) = (element("compare-metric"), selected) {
        let _ = js_sys::Reflect::set(&select, &"value".into(), &value.into());
    }
    for ((id, _, _, start), name) in FIELDS.iter().zip(NAMES) {
        if let Some(i) = input(id) {
            i.set_value(setup.field(name).unwrap_or(start));
        }
    }
    if let Some(i) = input("compare-all-pairs") {
        i.set_checked(setup.all_pairs);
    }
    for b in picks() {
        let name = b.get_attribute("data-name").unwrap_or_default();
        b.set_checked(!setup.unticked.contains(&name));
    }
}

/// The settings from what is typed; an error names the field and says what would do.
pub fn settings(typed: &Typed, metric: Metric) -> Result<Settings, String> {
    let number = |at: usize| -> Result<Option<f64>, String> {
        let text = typed[at].trim();
        if text.is_empty() {
            return Ok(None);
        }
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Some(v)),
            _ => Err(format!(
                "{}: \"{text}\" is not a number (leave it empty for no limit)",
                FIELDS[at].1
            )),
        }
    };
    let volume = match number(5)? {
        Some(v) if v >= 0.0 && v.fract() == 0.0 => Some(v as u64),
        Some(v) => return Err(format!("Requests a month: {v} is not a whole number")),
        None => None,
    };
    let settings = Settings {
        metric,
        max_ttft_p95_ms: number(0)?,
        max_error_rate: number(1)?,
        min_pass_rate: number(2)?,
        max_cost_usd: number(3)?,
        weights: parse_weights(&typed[4]).map_err(|e| e.to_string())?,
        volume,
        // The shipped table: the browser has no LLMSCOPE_PRICES (the Worker's overlay stays
        // in the Worker).
        ..Settings::default()
    };
    // Their other checks (rates, constraints, weights: `Settings::check`, with the
    // recommendation's) run where the comparison does, in the second module, and come back
    // in the same words: running them here too would put the recommendation in the site's
    // main wasm.
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(values: [&str; 6]) -> Typed {
        values.map(String::from)
    }

    #[test]
    fn typed_fields_become_settings_and_errors_name_the_field() {
        let s = settings(
            &typed(["800", " 0.02 ", "", "", "latency=2", "100000"]),
            Metric::TotalMs,
        )
        .unwrap();
        assert_eq!(s.max_ttft_p95_ms, Some(800.0));
        assert_eq!(s.max_error_rate, Some(0.02));
        assert_eq!((s.min_pass_rate, s.max_cost_usd), (None, None));
        assert_eq!((s.weights.latency, s.weights.cost), (2.0, 1.0));
        assert_eq!((s.volume, s.metric), (Some(100_000), Metric::TotalMs));
        let bad = settings(&typed(["fast", "", "", "", "", ""]), Metric::TtftMs).unwrap_err();
        assert_eq!(
            bad,
            "Max TTFT P95 (ms): \"fast\" is not a number (leave it empty for no limit)"
        );
        // A rate out of range is the comparison's error, in these words.
        let pct = settings(&typed(["", "5", "", "", "", ""]), Metric::TtftMs).unwrap();
        let pct = pct.check().unwrap_err().to_string();
        assert!(pct.starts_with("max_error_rate: 5 is not a rate"), "{pct}");
        let w = settings(&typed(["", "", "", "", "speed", ""]), Metric::TtftMs).unwrap_err();
        assert!(w.starts_with("weights: 'speed'"), "{w}");
        let v = settings(&typed(["", "", "", "", "", "1.5"]), Metric::TtftMs).unwrap_err();
        assert_eq!(v, "Requests a month: 1.5 is not a whole number");
    }
}
