//! # The LLMscope dashboard
//!
//! A Leptos client-side app: every stream is a card; a stream's view shows its control chart
//! with zones, limits, Phase I shading and signals, its companion chart, a histogram,
//! capability and the false-alarm rate of the tests in use. Every calculation runs here, in
//! WebAssembly, with the SPC engine (`llmscope-spc`), called directly from Rust.
//!
//! - `model`: the session and its streams, plain types;
//! - `sim`: the built-in simulators (LLM latency, machine signals);
//! - `import`: CSV and session JSON import; `store`: persistence and downloads; `telemetry`:
//!   the full JSON export (raw probe results and samples, OpenTelemetry GenAI names);
//! - `live`: WebSocket streams from the shim; `probe`: results polled from a probe Worker;
//! - `decode`: outside data checked on the way in (finite numbers only; a bad sample in a
//!   batch, or a bad probe result, is named and the rest kept);
//! - `share`: share links (the session in the URL fragment, or encrypted on the Worker), and
//!   `link`: making and opening them in the page;
//! - `draw`: plotters on canvas; `report`: exports for other people (PNG, PDF); `ui`: the
//!   components.

pub mod decode;
pub mod draw;
pub mod idb;
pub mod import;
pub mod link;
pub mod live;
pub mod model;
pub mod pdf;
pub mod probe;
pub mod report;
pub mod share;
pub mod sim;
pub mod store;
pub mod telemetry;
pub mod ui;

use leptos::prelude::*;
use std::time::Duration;
use ui::{Ctx, Dashboard, Header, StreamView};
use wasm_bindgen::prelude::wasm_bindgen;

/// How often the simulators add a point to each stream; `?tick=<ms>` in the URL changes it
/// (demos and tests that cannot wait a minute for an incident).
const TICK: Duration = Duration::from_millis(500);

/// A query parameter of the page's URL, decoded.
fn query_param(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    let prefix = format!("{name}=");
    let value = search
        .trim_start_matches('?')
        .split('&')
        .find_map(|kv| kv.strip_prefix(prefix.as_str()))?;
    js_sys::decode_uri_component(value).ok()?.as_string()
}

fn tick_from_url() -> Duration {
    query_param("tick")
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(TICK, |ms| Duration::from_millis(ms.clamp(10, 60_000)))
}
/// How often the session is saved.
const SAVE_EVERY: Duration = Duration::from_secs(3);
/// Simulated streams keep at most this many points.
const SIMULATED_KEEP: usize = 20_000;

/// How long the app waits for IndexedDB before starting without it.
const LOAD_WAIT: Duration = Duration::from_secs(3);

/// Loads the saved session (IndexedDB), then mounts the app on the page's body. IndexedDB can
/// stall (another tab of the page frozen mid-upgrade, a browser that blocks it): after
/// [`LOAD_WAIT`] the app starts from the localStorage copy, if any, and says so.
#[wasm_bindgen(start)]
pub fn start() {
    let slot = std::rc::Rc::new(std::cell::RefCell::new(None));
    let fill = slot.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let loaded = idb::load().await;
        *fill.borrow_mut() = Some(loaded);
    });
    wasm_bindgen_futures::spawn_local(async move {
        // A share link opens the shared session read-only; the user's own is not touched.
        let link_problem = match link::opened().await {
            Some(Ok(shared)) => {
                leptos::mount::mount_to_body(move || app(None, None, Some(shared)));
                return;
            }
            Some(Err(e)) => Some(e.to_string()),
            None => None,
        };
        let waited = js_sys::Date::now();
        let loaded = loop {
            if let Some(loaded) = slot.borrow_mut().take() {
                break match loaded {
                    Ok(s) => (s, None),
                    Err(e) => (None, Some(e)),
                };
            }
            if js_sys::Date::now() - waited > LOAD_WAIT.as_millis() as f64 {
                let slow = format!(
                    "the browser's database did not answer within {} s",
                    LOAD_WAIT.as_secs()
                );
                break match store::load() {
                    Ok(Some(s)) => (
                        Some(s),
                        Some(format!(
                            "{slow}; started from the older local copy of the session"
                        )),
                    ),
                    Ok(None) => (None, Some(format!("{slow}; started with an empty session"))),
                    Err(e) => (None, Some(format!("{slow}; {e}"))),
                };
            }
            import::sleep(Duration::from_millis(20)).await;
        };
        let (saved, problem) = loaded;
        let problem = match (link_problem, problem) {
            (Some(a), Some(b)) => Some(format!("{a}. {b}")),
            (a, b) => a.or(b),
        };
        leptos::mount::mount_to_body(move || app(saved, problem, None));
    });
}

fn location_stream() -> Option<String> {
    let hash = web_sys::window()?.location().hash().ok()?;
    let id = hash.strip_prefix("#stream=")?;
    js_sys::decode_uri_component(id).ok()?.as_string()
}

fn prefers_dark() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .is_some_and(|m| m.matches())
}

/// The whole app, given the saved session (if any) and anything to tell the user about it; or
/// a shared session, shown read-only: never saved, no simulators, no sources, settings locked.
pub fn app(
    saved: Option<model::Session>,
    problem: Option<String>,
    shared: Option<share::Shared>,
) -> impl IntoView {
    let first_visit = saved.is_none() && shared.is_none();
    let readonly = shared.as_ref().map(|s| {
        let when = String::from(js_sys::Date::new(&s.created_ms.into()).to_iso_string());
        format!(
            "made {} UTC",
            when.get(..16).unwrap_or(&when).replace('T', " ")
        )
    });
    let (session, view) = match shared {
        Some(s) => (s.session, s.view),
        None => (saved.unwrap_or_default(), share::View::default()),
    };
    let c = Ctx {
        session: RwSignal::new(session),
        selected: RwSignal::new(view.stream),
        dark: RwSignal::new(prefers_dark()),
        simulating: RwSignal::new(first_visit),
        notice: RwSignal::new(problem),
        live: RwSignal::new(live::LiveStatus::default()),
        probe: RwSignal::new(probe::ProbeStatus::default()),
        skip_bad: RwSignal::new(false),
        progress: RwSignal::new(None),
        readonly: RwSignal::new(readonly),
        range: RwSignal::new(view.range),
        worker: RwSignal::new(None),
        share_link: RwSignal::new(None),
    };
    provide_context(c);
    let viewing = c.readonly.get_untracked().is_some();

    let noise = sim::Noise::new(0x5EED_0F11_5C09_EEEEu64 ^ js_sys::Date::now() as u64);
    let k = c.session.with_untracked(|s| {
        s.streams
            .iter()
            .map(|x| x.samples.len() as u64)
            .max()
            .unwrap_or(0)
    });
    let state = std::cell::RefCell::new((noise, k));
    set_interval(
        move || {
            if !c.simulating.get_untracked() {
                return;
            }
            let (noise, k) = &mut *state.borrow_mut();
            c.session.update(|s| {
                sim::tick(s, noise, *k, js_sys::Date::now());
                for st in s
                    .streams
                    .iter_mut()
                    .filter(|st| st.origin == model::Origin::Simulator)
                {
                    let extra = st.samples.len().saturating_sub(SIMULATED_KEEP);
                    st.samples.drain(..extra);
                }
            });
            *k += 1;
        },
        tick_from_url(),
    );
    // Saved every few seconds when it changed; saves run in order (one IndexedDB transaction
    // each), so the last one wins.
    let saved_version = std::cell::Cell::new(0u64);
    let version = std::rc::Rc::new(std::cell::Cell::new(1u64));
    let bump = version.clone();
    Effect::new(move |_| {
        c.session.track();
        bump.set(bump.get() + 1);
    });
    set_interval(
        move || {
            if viewing || saved_version.get() == version.get() {
                return; // a shared session is never saved over the user's own
            }
            saved_version.set(version.get());
            let session = c.session.get_untracked();
            wasm_bindgen_futures::spawn_local(async move {
                if let Err(e) = idb::save(&session).await {
                    c.notice.set(Some(e));
                }
            });
        },
        SAVE_EVERY,
    );

    // `?live=1` connects to the shim that serves this page; `?live=ws://...` to another one.
    if let Some(target) = query_param("live").filter(|_| !viewing) {
        let url = if target == "1" {
            live::same_origin_url()
        } else {
            Some(target)
        };
        if let Some(url) = url {
            live::connect(c, c.live, url, None);
        }
    }

    // The open stream is in the URL (#stream=<id>), so a reload or a bookmark returns to it.
    if let Some(id) = location_stream() {
        c.selected.set(Some(id));
    }
    Effect::new(move |_| {
        if viewing {
            return; // the fragment holds the share link
        }
        let hash = c.selected.get().map_or(String::new(), |id| {
            format!("#stream={}", js_sys::encode_uri_component(&id))
        });
        if let Some(w) = web_sys::window() {
            let _ = w.location().set_hash(&hash);
        }
    });

    // The theme lives on <html>, where the stylesheet's variables are defined.
    Effect::new(move |_| {
        let theme = if c.dark.get() { "dark" } else { "light" };
        if let Some(html) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = html.set_attribute("data-theme", theme);
        }
    });

    view! {
        <div class="app">
            <Header/>
            <main
                on:dragover=move |ev: leptos::ev::DragEvent| ev.prevent_default()
                on:drop=move |ev: leptos::ev::DragEvent| {
                    ev.prevent_default();
                    if let Some(file) = ev.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)) {
                        ui::import_file(c, file);
                    }
                }>
                {move || match c.selected.get() {
                    None => view! { <Dashboard/> }.into_any(),
                    Some(id) => view! { <StreamView id/> }.into_any(),
                }}
            </main>
        </div>
    }
}
