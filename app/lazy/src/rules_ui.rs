//! The rule editor (issue 16), written into the settings by this module: a text area for a
//! set in the rule language, presets to start from, the set's false-alarm rate as the user
//! types (the engine's `custom::check`: a Markov chain when every rule is zone-based, a seeded
//! simulation otherwise), the part that does not parse with its line and column, and "Apply",
//! which hands the set to the dashboard ([`crate::rules::applied`]) with the text as typed,
//! comments and layout kept, which the editor shows again while it is what runs
//! ([`crate::rules::opening`]; at most [`crate::rules::MAX_TEXT`] bytes).
//!
//! Typing stays responsive: the text is parsed 250 ms after the last keystroke, and its rate is
//! computed in a module Web Worker that imports this module (a simulation takes about a second);
//! a newer text ends a computation still running with its worker, and a stale answer is never
//! shown.

use crate::rules::{applied as applied_set, keepable, opening};
use crate::text::esc;
use llmscope_spc::arl::ArlMethod;
use llmscope_spc::custom::{check, parse_tests, WESTGARD_TEXT};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlSelectElement, HtmlTextAreaElement};

/// Milliseconds after the last keystroke before the set is parsed.
const PAUSE_MS: i32 = 250;

/// The presets: the built-in sets keep Nelson's numbers; Westgard's rules are written out to
/// edit.
fn preset(name: &str) -> Option<&'static str> {
    match name {
        "nelson" => Some("nelson"),
        "we" => Some("western-electric"),
        "westgard" => Some(WESTGARD_TEXT),
        _ => None,
    }
}

/// Writes the editor into the page's `.rules-host` (the open stream's settings) for `input`:
/// the stream's `tests`, its named rules' saved form, the plotted statistic's center and sigma,
/// the LSL and USL (NaN when unknown; for rules with fixed values), and the set's text as last
/// applied, separated by U+0001 (the text last, so it may hold anything). Resolves when the
/// user applies a valid set, to its `tests`, named rules and text, separated so; the editor
/// then closes.
#[wasm_bindgen]
pub async fn rules_editor(input: String) -> Result<String, JsError> {
    let host = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector(".rules-host").ok().flatten())
        .ok_or_else(|| JsError::new("the rule editor has no place on this page"))?;
    let parts: Vec<&str> = input.splitn(7, '\u{1}').collect();
    let part = |i: usize| parts.get(i).copied().unwrap_or("");
    let number = |i: usize| part(i).parse::<f64>().ok().filter(|v| v.is_finite());
    host.set_inner_html(&html(&opening(part(0), part(1), part(6))));
    let find = |id: &str| {
        host.query_selector(&format!("[data-testid={id}]"))
            .ok()
            .flatten()
            .ok_or_else(|| JsError::new(&format!("rules_editor: no {id}")))
    };
    let editor = Rc::new(Editor {
        text: find("rule-text")?.unchecked_into(),
        far: find("rule-far")?,
        error: find("rule-error")?,
        apply: find("rule-apply")?,
        scale: number(2).zip(number(3)),
        lsl: number(4),
        usl: number(5),
        generation: Cell::new(0),
        timer: Cell::new(0),
        worker: Default::default(),
        busy: Cell::new(false),
    });
    let typed = editor.clone();
    listen(&editor.text, "input", move |_| typed.schedule(PAUSE_MS));
    let picked = editor.clone();
    let select: HtmlSelectElement = find("rule-preset")?.unchecked_into();
    let chosen = select.clone();
    listen(&select, "change", move |_| {
        if let Some(text) = preset(&chosen.value()) {
            picked.text.set_value(text);
            picked.schedule(0);
        }
    });
    let mut resolve = None;
    let applied = js_sys::Promise::new(&mut |yes, _| resolve = Some(yes));
    let applying = editor.clone();
    let closing = host.clone();
    listen(&editor.apply, "click", move |_| {
        let text = applying.text.value();
        if let Err(e) = keepable(&text) {
            return applying.problem(&e, "", "");
        }
        match applied_set(&text) {
            Ok((tests, code)) => {
                let answer = format!("{tests}\u{1}{code}\u{1}{text}");
                if let Some(resolve) = &resolve {
                    let _ = resolve.call1(&JsValue::NULL, &answer.into());
                }
                applying.generation.set(0);
                if let Some(w) = applying.worker.take() {
                    w.terminate();
                }
                closing.set_inner_html("");
            }
            Err(e) => applying.show_error(e.line, e.column, &e.message),
        }
    });
    editor.schedule(0);
    let answer = wasm_bindgen_futures::JsFuture::from(applied)
        .await
        .map_err(|_| JsError::new("the rule editor closed"))?;
    Ok(answer.as_string().unwrap_or_default())
}

/// The set's in-control ARL as the engine's `check` gives it (its words, and how it was found),
/// as `value \t method \t words`: what the editor's worker answers.
fn rated(text: &str, scale: Option<(f64, f64)>, lsl: Option<f64>, usl: Option<f64>) -> String {
    let Ok(checked) = check(text, scale, lsl, usl) else {
        return String::new(); // parsed before it was sent: it does not fail now
    };
    let (method, how) = match checked.arl.as_ref().map(|a| a.method) {
        Some(ArlMethod::MarkovChain) => ("markov-chain", "exact, by Markov chain".into()),
        Some(ArlMethod::Simulation { runs, seed }) => (
            "simulation",
            format!("by seeded simulation: {runs} runs, seed {seed}"),
        ),
        None => ("", checked.arl_error.clone().unwrap_or_default()),
    };
    let value = checked.arl.map_or(String::new(), |a| a.value.to_string());
    format!("{value}\t{method}\t{} ({how})", checked.words)
}

/// [`rated`] for the editor's worker; NaN is an unknown number.
#[wasm_bindgen]
pub fn rules_rate(text: &str, center: f64, sigma: f64, lsl: f64, usl: f64) -> String {
    let known = |v: f64| Some(v).filter(|v| v.is_finite());
    rated(
        text,
        known(center).zip(known(sigma)),
        known(lsl),
        known(usl),
    )
}

#[wasm_bindgen]
extern "C" {
    /// `import.meta` of this module's script: its URL, which the worker imports.
    type ImportMeta;
    #[wasm_bindgen(method, getter)]
    fn url(this: &ImportMeta) -> String;
    #[wasm_bindgen(thread_local_v2, js_namespace = import, js_name = meta)]
    static IMPORT_META: ImportMeta;
}

/// The editor's HTML, with `text` in its text area.
fn html(text: &str) -> String {
    format!(
        "<div class=\"rule-editor\" data-testid=\"rule-editor\">\
         <label>Start from <select data-testid=\"rule-preset\"><option value=\"\">a preset…\
         </option><option value=\"nelson\">Nelson (all eight)</option><option value=\"we\">\
         Western Electric</option><option value=\"westgard\">Westgard</option></select></label>\
         <textarea data-testid=\"rule-text\" rows=\"7\" spellcheck=\"false\" \
         aria-label=\"rule set\">{}</textarea>\
         <p class=\"arl\" data-testid=\"rule-far\" aria-live=\"polite\"></p>\
         <p class=\"error\" data-testid=\"rule-error\" role=\"alert\" hidden></p>\
         <p class=\"hint\">One rule a line, e.g. <code>2-2s: 2 of 2 beyond 2s same side</code>, \
         or a built-in set (<code>nelson</code>, <code>western-electric</code>, \
         <code>1,2:8,5</code>). A trailing <code>, warning</code> marks a rule that does not \
         count as an alarm.</p>\
         <button type=\"button\" data-testid=\"rule-apply\">Apply to this stream</button></div>",
        esc(text)
    )
}

/// Calls `f` on each `event` of `target`, for the life of the page (the editor's elements are
/// replaced when it is opened again; their few closures stay).
fn listen(target: &web_sys::EventTarget, event: &str, f: impl FnMut(web_sys::Event) + 'static) {
    let f = Closure::<dyn FnMut(web_sys::Event)>::new(f);
    let _ = target.add_event_listener_with_callback(event, f.as_ref().unchecked_ref());
    f.forget();
}

/// Runs `f` after `ms` milliseconds; the timer's id.
fn later(ms: i32, f: impl FnOnce() + 'static) -> i32 {
    let f = Closure::once_into_js(f);
    web_sys::window()
        .and_then(|w| {
            w.set_timeout_with_callback_and_timeout_and_arguments_0(f.unchecked_ref(), ms)
                .ok()
        })
        .unwrap_or(0)
}

struct Editor {
    text: HtmlTextAreaElement,
    far: Element,
    error: Element,
    apply: Element,
    scale: Option<(f64, f64)>,
    lsl: Option<f64>,
    usl: Option<f64>,
    /// The text's number: a result for an older one is stale.
    generation: Cell<u32>,
    timer: Cell<i32>,
    /// The worker that computes rates, and whether it is computing one.
    worker: RefCell<Option<web_sys::Worker>>,
    busy: Cell<bool>,
}

impl Editor {
    /// Checks the text `ms` from now, unless the user types again before.
    fn schedule(self: &Rc<Self>, ms: i32) {
        let generation = self.generation.get().wrapping_add(1);
        self.generation.set(generation);
        if let Some(w) = web_sys::window() {
            w.clear_timeout_with_handle(self.timer.get());
        }
        let me = self.clone();
        self.timer.set(later(ms, move || me.parse(generation)));
    }

    /// Parses the text: its error at once, its rate from the worker.
    fn parse(self: &Rc<Self>, generation: u32) {
        if generation != self.generation.get() {
            return;
        }
        let text = self.text.value();
        let parsed = keepable(&text).map_err(|e| (e, String::new(), String::new()));
        let parsed = parsed.and_then(|()| {
            parse_tests(&text).map_err(|e| {
                let at = format!("line {}, column {}: {}", e.line, e.column, e.message);
                (at, e.line.to_string(), e.column.to_string())
            })
        });
        match parsed {
            Err((message, line, column)) => {
                self.problem(&message, &line, &column);
                self.far.set_text_content(None);
                self.set(&self.far, &[("data-arl", ""), ("data-method", "")]);
            }
            Ok(_) => {
                self.error.set_attribute("hidden", "").ok();
                self.apply.remove_attribute("disabled").ok();
                self.far
                    .set_text_content(Some("computing the false-alarm rate…"));
                self.set(&self.far, &[("data-arl", ""), ("data-method", "computing")]);
                self.rate(generation);
            }
        }
    }

    /// Asks the worker for the set's rate; a request still running (a simulation) is dropped
    /// with its worker.
    fn rate(self: &Rc<Self>, generation: u32) {
        if generation != self.generation.get() {
            return;
        }
        let (center, sigma) = self.scale.unzip();
        let nan = |v: Option<f64>| v.unwrap_or(f64::NAN);
        let message = js_sys::Array::of2(&generation.into(), &self.text.value().into());
        for v in [center, sigma, self.lsl, self.usl] {
            message.push(&nan(v).into());
        }
        if self.busy.replace(true) {
            if let Some(w) = self.worker.take() {
                w.terminate();
            }
        }
        let worker = self.worker.take().or_else(|| self.start_worker());
        match worker {
            Some(w) if w.post_message(&message).is_ok() => {
                self.worker.replace(Some(w));
            }
            // No worker (a page that cannot start one): here, between keystrokes.
            _ => {
                self.busy.set(false);
                let text = self.text.value();
                self.show(&rated(&text, self.scale, self.lsl, self.usl), "page");
            }
        }
    }

    /// A module worker that imports this module and answers with [`rules_rate`].
    fn start_worker(self: &Rc<Self>) -> Option<web_sys::Worker> {
        let url = IMPORT_META.with(ImportMeta::url);
        let source = format!(
            "import init, {{ rules_rate }} from {url:?};\n\
             const ready = init();\n\
             onmessage = async ({{ data }}) => {{ await ready; \
             postMessage([data[0], rules_rate(data[1], data[2], data[3], data[4], data[5])]); }};"
        );
        let options = web_sys::BlobPropertyBag::new();
        options.set_type("text/javascript");
        let parts = js_sys::Array::of1(&source.into());
        let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).ok()?;
        let script = web_sys::Url::create_object_url_with_blob(&blob).ok()?;
        let worker_options = web_sys::WorkerOptions::new();
        worker_options.set_type(web_sys::WorkerType::Module);
        let worker = web_sys::Worker::new_with_options(&script, &worker_options).ok()?;
        let me = Rc::downgrade(self);
        let answer =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                let Some(me) = me.upgrade() else { return };
                let data = js_sys::Array::from(&e.data());
                if data.get(0).as_f64() == Some(f64::from(me.generation.get())) {
                    me.busy.set(false);
                    me.show(&data.get(1).as_string().unwrap_or_default(), "worker");
                }
            });
        worker.set_onmessage(Some(answer.as_ref().unchecked_ref()));
        answer.forget();
        // A worker that cannot start: the rate is computed here, and the next one tries again.
        let me = Rc::downgrade(self);
        let failed = Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| {
            let Some(me) = me.upgrade() else { return };
            me.busy.set(false);
            me.worker.take();
            me.show(&rated(&me.text.value(), me.scale, me.lsl, me.usl), "page");
        });
        worker.set_onerror(Some(failed.as_ref().unchecked_ref()));
        failed.forget();
        Some(worker)
    }

    /// Shows a rate, [`rated`]'s `value \t method \t words`, computed `by` the worker or the
    /// page (when no worker could start).
    fn show(&self, rated: &str, by: &str) {
        let mut parts = rated.splitn(3, '\t');
        let (value, method) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        self.far.set_text_content(parts.next());
        let attributes = [
            ("data-arl", value),
            ("data-method", method),
            ("data-by", by),
        ];
        self.set(&self.far, &attributes);
    }

    fn show_error(&self, line: usize, column: usize, message: &str) {
        let at = format!("line {line}, column {column}: {message}");
        self.problem(&at, &line.to_string(), &column.to_string());
    }

    /// Shows what is wrong with the text (where, when it is a part of it: line and column, else
    /// empty), and keeps it from being applied.
    fn problem(&self, message: &str, line: &str, column: &str) {
        self.error.set_text_content(Some(message));
        self.error.remove_attribute("hidden").ok();
        self.set(&self.error, &[("data-line", line), ("data-column", column)]);
        self.apply.set_attribute("disabled", "").ok();
    }

    fn set(&self, element: &Element, attributes: &[(&str, &str)]) {
        for (name, value) in attributes {
            element.set_attribute(name, value).ok();
        }
    }
}
