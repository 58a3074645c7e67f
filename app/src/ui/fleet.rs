//! The "MQTT broker" source on the page (docs/fleet.md): its form in the Sources panel and the
//! grouped list of its streams on the dashboard. Everything but drawing happens in the broker
//! source's Web Worker (`app/fleet`, started by `window.llmscopeFleetWorker()`): the MQTT
//! session, the charts, the roll-up of thousands of streams into groups, reconnecting, and
//! the HTML of the rows the page can see. The page only sends what it wants (connect, the
//! open groups and the visible rows, the stream whose chart is open) and sets the HTML it
//! gets back, so a batch of 20,000 changed streams never reaches the main thread.
//!
//! The username and password are held in this page's memory and the worker's only: never
//! saved, never in a link.

use leptos::prelude::*;
use serde_json::json;
use std::cell::RefCell;
use std::collections::BTreeSet;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// Every row's height in CSS pixels: the worker's `view::ROW_PX`, and `.fleet-row` in app.css.
const ROW_PX: f64 = 28.0;
/// Rows asked for above and below the visible ones, so a scroll shows rows at once.
const MARGIN: f64 = 10.0;

/// The broker source's state the components share.
#[derive(Clone, Copy)]
pub struct Fleet {
    /// The connection's state (`connecting`, `connected`, `closed`, `error`) and its words.
    pub status: RwSignal<(String, String)>,
    /// Whether a connection is wanted (Disconnect stops it).
    pub active: RwSignal<bool>,
    /// The groups in words: "1000 groups · 3 with signals · 1 with stale streams".
    pub summary: RwSignal<String>,
    /// The form's first URL and topic filters (`?mqtt=` and `?topic=`), one per line.
    start: StoredValue<(String, String)>,
}

/// The worker and what the page asked it for.
#[derive(Default)]
struct Page {
    worker: Option<web_sys::Worker>,
    open: BTreeSet<String>,
    chart: Option<String>,
    /// The row under the last pointer press: the worker's next batch may replace that row
    /// before the button is released, and the click then lands on the list itself.
    pressed: Option<(bool, String)>,
}

thread_local! {
    static PAGE: RefCell<Page> = RefCell::default();
}

impl Fleet {
    /// The state, with the form filled from `?mqtt=` and `?topic=`.
    pub fn new(url: String, topics: Vec<String>) -> Fleet {
        Fleet {
            status: RwSignal::new(("closed".into(), "not connected".into())),
            active: RwSignal::new(false),
            summary: RwSignal::new(String::new()),
            start: StoredValue::new((url, topics.join("\n"))),
        }
    }
}

/// The filters typed: one per line or comma-separated, blanks ignored.
pub fn filters(text: &str) -> Vec<String> {
    text.split(['\n', ','])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect()
}

/// The worker's `connect` config for the form's values; `silent` is the seconds after which
/// a quiet source is silent (`silent_after_s`; the worker's default when NaN: the number
/// input's `valueAsNumber` when empty).
pub fn config(
    url: &str,
    topics: &[String],
    user: &str,
    password: &str,
    silent: f64,
) -> serde_json::Value {
    // The worker names a plain filter's streams by the topic (`plant/+/t` → `plant/{1}/t`).
    let mut config = json!({ "url": url.trim(), "topics": topics });
    if !user.is_empty() {
        config["username"] = user.into();
    }
    if !password.is_empty() {
        config["password"] = password.into();
    }
    if silent.is_finite() {
        config["silent_after_s"] = silent.into();
    }
    config
}

/// Whether the broker at `url` is on the page's own host name (any port): a link connects to
/// it at start, to another host only once the user agrees (as `?live=`).
pub fn is_page_host(url: &str) -> bool {
    let page = web_sys::window().and_then(|w| w.location().host().ok());
    page.is_some_and(|page| same_host(url, &page))
}

/// `name:port`, `[v6]:port` or `[v6]` without the port (after the last `:` outside brackets).
fn name(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if !port.contains(']') => name,
        _ => host,
    }
}

/// Whether the `ws://` or `wss://` `url` names the host of `page_host` (`name[:port]`), ports
/// aside. Read as the browser's URL parser reads it where that matters: a backslash ends the
/// host as a slash does (`ws://evil\@127.0.0.1` is evil's), and tabs and newlines are dropped.
pub fn same_host(url: &str, page_host: &str) -> bool {
    let url: String = url
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let rest = url.trim().split_once("://").map_or("", |(_, r)| r);
    let authority = rest.split(['/', '\\', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    !host.is_empty() && name(host).eq_ignore_ascii_case(name(page_host))
}

fn post(message: serde_json::Value) {
    let Ok(value) = js_sys::JSON::parse(&message.to_string()) else {
        return;
    };
    PAGE.with_borrow(|p| {
        if let Some(w) = &p.worker {
            let _ = w.post_message(&value);
        }
    });
}

fn element(id: &str) -> Option<web_sys::Element> {
    web_sys::window()?.document()?.get_element_by_id(id)
}

/// Asks the worker for the rows the list shows now, and the open chart.
fn ask() {
    let (from, count) = element("fleet-scroll").map_or((0.0, 40.0), |e| {
        let first = (f64::from(e.scroll_top()) / ROW_PX - MARGIN)
            .max(0.0)
            .floor();
        (
            first,
            (f64::from(e.client_height()) / ROW_PX + 2.0 * MARGIN).ceil(),
        )
    });
    let (open, chart) = PAGE.with_borrow(|p| (p.open.clone(), p.chart.clone()));
    post(
        json!({ "type": "view", "ask": { "open": open, "from": from, "count": count, "chart": chart } }),
    );
}

fn get(value: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(value, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

fn text(value: &JsValue, key: &str) -> String {
    get(value, key).as_string().unwrap_or_default()
}

/// Shows the worker's window of the list (`view` in docs/fleet.md).
fn show(fleet: Fleet, view: &JsValue) {
    let number = |key: &str| get(view, key).as_f64().unwrap_or(0.0);
    if let Some(rows) = element("fleet-rows") {
        rows.set_inner_html(&text(view, "html"));
        let _ = rows.set_attribute("style", &format!("top:{}px", number("from") * ROW_PX));
    }
    if let Some(space) = element("fleet-space") {
        let _ = space.set_attribute("style", &format!("height:{}px", number("total") * ROW_PX));
    }
    if let Some(chart) = element("fleet-chart") {
        chart.set_inner_html(&text(view, "chart"));
    }
    let groups = js_sys::Array::from(&get(view, "groups"));
    let n = |i: u32| groups.get(i).as_f64().unwrap_or(0.0);
    fleet.summary.set(format!(
        "{} groups · {} with signals · {} with stale streams",
        n(0),
        n(1),
        n(2)
    ));
}

/// A message from the worker: a status, an update (its status and view) or a view.
fn receive(fleet: Fleet, data: &JsValue) {
    let status = match text(data, "type").as_str() {
        "status" => data.clone(),
        _ => get(data, "status"),
    };
    if !status.is_undefined() {
        fleet
            .status
            .set((text(&status, "state"), text(&status, "detail")));
    }
    let view = get(data, "view");
    if view.is_object() {
        show(fleet, &view);
    }
}

/// The worker, started on first use.
fn worker(fleet: Fleet) -> Result<(), String> {
    if PAGE.with_borrow(|p| p.worker.is_some()) {
        return Ok(());
    }
    let window = web_sys::window().ok_or("no window")?;
    let start = js_sys::Reflect::get(&window, &"llmscopeFleetWorker".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .ok_or("this page cannot start the broker source's worker: serve the site that `cargo xtask site` builds")?;
    let worker: web_sys::Worker = start
        .call0(&window)
        .map_err(|e| format!("the broker source's worker did not start: {e:?}"))?
        .dyn_into()
        .map_err(|_| "window.llmscopeFleetWorker() did not return a Worker")?;
    let on = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
        receive(fleet, &e.data())
    });
    worker.set_onmessage(Some(on.as_ref().unchecked_ref()));
    on.forget(); // the worker lives as long as the page
    let failed = Closure::<dyn Fn(web_sys::Event)>::new(move |_| {
        fleet.status.set((
            "error".into(),
            "the broker source's worker could not be loaded: reload the page".into(),
        ))
    });
    worker.set_onerror(Some(failed.as_ref().unchecked_ref()));
    failed.forget();
    PAGE.with_borrow_mut(|p| p.worker = Some(worker));
    Ok(())
}

/// Connects to the broker at `url` with `topics` (`silent`: see [`config`]); the worker
/// reconnects by itself.
pub fn connect(
    fleet: Fleet,
    url: &str,
    topics: &[String],
    user: &str,
    password: &str,
    silent: f64,
) {
    if let Err(e) = worker(fleet) {
        fleet.status.set(("error".into(), e));
        return;
    }
    fleet.active.set(true);
    fleet.status.set(("connecting".into(), format!("to {url}")));
    post(json!({ "type": "connect", "config": config(url, topics, user, password, silent) }));
    ask();
}

/// Closes the connection (and stops reconnecting).
pub fn disconnect(fleet: Fleet) {
    fleet.active.set(false);
    post(json!({ "type": "disconnect" }));
    fleet.status.set(("closed".into(), "disconnected".into()));
}

/// Text for HTML.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

/// The form's controls as HTML, filled with `url` and `topics`: plain HTML read back on
/// submit, so the main module carries no typed view per control.
fn form_html(url: &str, topics: &str) -> String {
    format!(
        "<span class=\"source-name\">MQTT broker</span>\
         <input type=\"url\" id=\"mqtt-url\" data-testid=\"mqtt-url\" aria-label=\"broker WebSocket URL\" \
         placeholder=\"ws://broker:9001\" value=\"{}\">\
         <textarea id=\"mqtt-topic\" data-testid=\"mqtt-topic\" rows=\"2\" \
         aria-label=\"topic filters, one per line or comma-separated\" \
         placeholder=\"spBv1.0/# (one filter per line or comma-separated)\">{}</textarea>\
         <input id=\"mqtt-username\" data-testid=\"mqtt-username\" aria-label=\"username (optional)\" \
         placeholder=\"username (optional)\" autocomplete=\"off\">\
         <input type=\"password\" id=\"mqtt-password\" data-testid=\"mqtt-password\" \
         aria-label=\"password (optional)\" placeholder=\"password (optional)\" autocomplete=\"off\">\
         <input type=\"number\" min=\"0\" step=\"any\" id=\"mqtt-silent\" data-testid=\"mqtt-silent\" \
         aria-label=\"a source is silent after this many seconds without a message\" placeholder=\"silent after 10 s\">\
         <button type=\"submit\" id=\"mqtt-connect\" data-testid=\"mqtt-connect\">Connect</button>\
         <span class=\"live\" id=\"mqtt-status\" data-testid=\"mqtt-status\" role=\"status\"></span>",
        esc(url),
        esc(topics)
    )
}

/// A form control's value.
fn value(id: &str) -> String {
    element(id).map_or(String::new(), |e| text(&e, "value"))
}

/// The "MQTT broker" row of the Sources panel.
#[component]
pub fn FleetForm() -> impl IntoView {
    let fleet = expect_context::<Fleet>();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if fleet.active.get_untracked() {
            return disconnect(fleet);
        }
        let topics = filters(&value("mqtt-topic"));
        let (user, password) = (value("mqtt-username"), value("mqtt-password"));
        connect(
            fleet,
            &value("mqtt-url"),
            &topics,
            &user,
            &password,
            element("mqtt-silent").map_or(f64::NAN, |e| {
                get(&e, "valueAsNumber").as_f64().unwrap_or(f64::NAN)
            }),
        );
    };
    // The state shown where the form's HTML has its places.
    Effect::new(move |_| {
        let (state, detail) = fleet.status.get();
        let active = fleet.active.get();
        if let Some(e) = element("mqtt-status") {
            e.set_text_content(Some(&format!("{state}: {detail}")));
            let _ = e.set_attribute("data-state", &state);
        }
        if let Some(b) = element("mqtt-connect") {
            b.set_text_content(Some(if active { "Disconnect" } else { "Connect" }));
        }
    });
    let html = fleet
        .start
        .with_value(|(url, topics)| form_html(url, topics));
    view! {
        <form class="connect fleet-form" on:submit=submit aria-label="subscribe to an MQTT broker" inner_html=html></form>
    }
}

/// The row (a group: `true`, and its key; a stream: `false`, and its id) at `target`.
fn row_at(target: Option<web_sys::EventTarget>) -> Option<(bool, String)> {
    let el = target?.dyn_into::<web_sys::Element>().ok()?;
    let row = el.closest("[data-group],[data-stream]").ok()??;
    match row.get_attribute("data-group") {
        Some(g) => Some((true, g)),
        None => Some((false, row.get_attribute("data-stream")?)),
    }
}

/// Opens or closes the group or stream of a clicked (or Enter-pressed) row.
fn toggle(target: Option<web_sys::EventTarget>) {
    let pressed = PAGE.with_borrow_mut(|p| p.pressed.take());
    let row = row_at(target).or(pressed);
    let Some((group, key)) = row else { return };
    PAGE.with_borrow_mut(|p| {
        if group {
            if !p.open.remove(&key) {
                p.open.insert(key);
            }
        } else {
            p.chart = (p.chart.as_deref() != Some(key.as_str())).then_some(key);
        }
    });
    ask();
}

/// The broker's streams, grouped: only the rows in or near view exist.
#[component]
pub fn FleetView() -> impl IntoView {
    let fleet = expect_context::<Fleet>();
    let shown = move || fleet.active.get() || !fleet.summary.get().is_empty();
    view! {
        <section class="fleet" data-testid="fleet" aria-label="MQTT broker streams" hidden=move || !shown()>
            <h2>"MQTT broker"</h2>
            <p class="muted" data-testid="fleet-summary">{move || fleet.summary.get()}</p>
            <div id="fleet-chart" on:click=move |ev| toggle(ev.target())></div>
            <div class="fleet-scroll" id="fleet-scroll" on:scroll=move |_| ask()
                on:pointerdown=move |ev| PAGE.with_borrow_mut(|p| p.pressed = row_at(ev.target()))
                on:click=move |ev| toggle(ev.target())
                on:keydown=move |ev| if ev.key() == "Enter" { toggle(ev.target()) }>
                <div class="fleet-space" id="fleet-space"><div class="fleet-rows" id="fleet-rows"></div></div>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_is_filled_with_escaped_values() {
        let html = form_html("ws://b\"x", "a/#\n<b>");
        assert!(html.contains("value=\"ws://b&quot;x\""), "{html}");
        assert!(html.contains(">a/#\n&lt;b></textarea>"), "{html}");
    }

    #[test]
    fn a_broker_on_the_pages_host_name_is_the_same_host_whatever_its_port() {
        assert!(same_host("ws://127.0.0.1:9001", "127.0.0.1:8080"));
        assert!(same_host(
            "wss://user@Plant.example:8084/mqtt",
            "plant.example"
        ));
        assert!(same_host("ws://[::1]:9001", "[::1]:8080"));
        assert!(!same_host("ws://localhost:9001", "127.0.0.1:8080"));
        assert!(!same_host("ws://127.0.0.1.evil:9001", "127.0.0.1:8080"));
        assert!(!same_host("127.0.0.1:9001", "127.0.0.1:8080"), "no scheme");
        // The browser reads these hosts as evil.example's.
        assert!(!same_host(
            "ws://evil.example\\@127.0.0.1:9001",
            "127.0.0.1:8080"
        ));
        assert!(!same_host(
            "ws://evil.example\\x@127.0.0.1",
            "127.0.0.1:8080"
        ));
    }

    #[test]
    fn filters_are_split_on_lines_and_commas() {
        assert_eq!(
            filters("spBv1.0/#\n plant/+/t , \n\nline/#"),
            ["spBv1.0/#", "plant/+/t", "line/#"]
        );
    }

    #[test]
    fn the_config_carries_the_forms_values() {
        let c = config(" ws://b:9001 ", &["spBv1.0/#".into()], "", "", f64::NAN);
        assert_eq!(c, json!({"url": "ws://b:9001", "topics": ["spBv1.0/#"]}));
        let c = config("ws://b", &["a".into()], "me", "secret", 30.0);
        assert_eq!(
            (c["username"].as_str(), c["password"].as_str()),
            (Some("me"), Some("secret"))
        );
        assert_eq!(c["silent_after_s"], 30.0);
    }
}
