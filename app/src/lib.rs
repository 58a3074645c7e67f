//! # The LLMscope dashboard
//!
//! A Leptos client-side app: every stream is a card; a stream's view shows its control chart
//! with zones, limits, Phase I shading and signals, its companion chart, a histogram,
//! capability and the false-alarm rate of the tests in use. Every calculation runs here, in
//! WebAssembly, with the SPC engine (`llmscope-spc`), called directly from Rust.
//!
//! - `model`: the session and its streams, plain types with their own methods (merging an
//!   import, retention, the cached chart);
//! - `sources/`: where streams come from: `sim` (the built-in simulators), `live` (WebSocket
//!   streams from the shim), `probe` (results polled from a probe Worker), `import` (CSV and
//!   session JSON files);
//! - `decode`: outside data checked on the way in (finite numbers only; a bad sample in a
//!   batch, or a bad probe result, is named and the rest kept);
//! - `idb/`: the session in IndexedDB (incremental, two generations, never over one it could
//!   not read), and the older localStorage copy it migrates from;
//! - `export/`: what leaves the page: `report` (PNG, and the PDF described for `lazy`, the
//!   second wasm module the page loads on first use, to lay out and write),
//!   `telemetry` (the full JSON export, OpenTelemetry GenAI names), `share` and `link` (share
//!   links), `download`;
//! - `draw`: plotters on canvas; `ui/`: the components;
//! - `brand`: white-label, `brand.json` beside the page, read and applied before the app mounts.

#![deny(missing_docs)]

pub mod brand;
pub mod decode;
pub mod draw;
pub mod export;
pub mod idb;
pub mod lazy;
pub mod model;
pub mod sources;
pub mod ui;

use export::{download, link, share};
use sources::{import, live, sim};

use leptos::prelude::*;
use std::time::Duration;
use ui::{Compare, Dashboard, Data, Header, Nav, StreamView};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsCast;

/// How often the simulators add a point to each stream; `?tick=<ms>` in the URL changes it
/// (demos and tests that cannot wait a minute for an incident).
const TICK: Duration = Duration::from_millis(500);

/// A query parameter of the page's URL, decoded (the first, when it repeats).
fn query_param(name: &str) -> Option<String> {
    query_params(name).into_iter().next()
}

/// Every value of a query parameter of the page's URL, decoded, in order.
fn query_params(name: &str) -> Vec<String> {
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    let prefix = format!("{name}=");
    search
        .trim_start_matches('?')
        .split('&')
        .filter_map(|kv| kv.strip_prefix(prefix.as_str()))
        .filter_map(|v| js_sys::decode_uri_component(v).ok()?.as_string())
        .collect()
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

/// How long the app waits for IndexedDB before starting without the saved session (which it
/// then neither shows nor writes over until it has been read).
const LOAD_WAIT: Duration = Duration::from_secs(3);

/// Points each live or probe stream keeps: `?keep=<points>` in the URL, else
/// [`model::DEFAULT_KEEP`]; at least 10.
pub fn keep_points() -> usize {
    thread_local! {
        static KEEP: usize = query_param("keep")
            .and_then(|v| v.trim().parse::<usize>().ok())
            .map_or(model::DEFAULT_KEEP, |n| n.max(10));
    }
    KEEP.with(|k| *k)
}

/// What the app knows of the saved session when it mounts.
type Loaded = Result<(Option<model::Session>, idb::Saver), idb::Unread>;

/// Loads the saved session (IndexedDB), then mounts the app on the page's body. IndexedDB can
/// stall (another tab of the page frozen mid-upgrade, a browser that blocks it): after
/// [`LOAD_WAIT`] the app starts without it, says so, and picks it up if it arrives later.
#[wasm_bindgen(start)]
pub fn start() {
    let slot: Slot = std::rc::Rc::new(std::cell::RefCell::new(None));
    let fill = slot.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let loaded = idb::open_saved().await;
        *fill.borrow_mut() = Some(loaded);
    });
    wasm_bindgen_futures::spawn_local(async move {
        let brand_problem = brand::load().await;
        // A share link opens the shared session read-only; the user's own is not touched.
        let link_problem = match link::opened().await {
            Some(Ok(shared)) => {
                leptos::mount::mount_to_body(move || app(None, brand_problem, Some(shared)));
                return;
            }
            Some(Err(e)) => Some(e.to_string()),
            None => brand_problem,
        };
        let waited = js_sys::Date::now();
        while slot.borrow().is_none() && js_sys::Date::now() - waited < LOAD_WAIT.as_millis() as f64
        {
            import::sleep(Duration::from_millis(20)).await;
        }
        leptos::mount::mount_to_body(move || own(slot, link_problem));
    });
}

/// Where the load's outcome lands, whenever it comes.
type Slot = std::rc::Rc<std::cell::RefCell<Option<Loaded>>>;

/// The user's own session: the app, and the saving that follows what could be read.
fn own(slot: Slot, problem: Option<String>) -> impl IntoView {
    let loaded = slot.borrow_mut().take();
    let (saved, saver, unread) = match loaded {
        Some(Ok((saved, saver))) => (saved, Some(saver), None),
        Some(Err(unread)) => (None, None, Some(unread)),
        None => {
            let waiting = idb::Unread {
                reason: format!(
                    "the browser's database did not answer within {} s",
                    LOAD_WAIT.as_secs()
                ),
                ..idb::Unread::default()
            };
            (None, None, Some(waiting))
        }
    };
    let fresh = saved.is_none() && unread.is_none();
    let view = app(saved, problem, None);
    let (d, k) = (ui::context::data(), ui::context::controls());
    k.simulating.set(fresh);
    SAVER.with(|s| *s.borrow_mut() = saver);
    let kept = RwSignal::new(unread);
    autosave(d);
    ui::team::start();
    if kept.get_untracked().is_some() {
        pick_up_late(d, slot, kept);
    }
    view! {
        {move || kept.get().map(|unread| kept_banner(d, unread, kept))}
        {view}
    }
}

thread_local! {
    /// Saves the user's session; none until the saved one was read (or set aside).
    static SAVER: std::cell::RefCell<Option<idb::Saver>> = const { std::cell::RefCell::new(None) };
}

fn saving() -> bool {
    SAVER.with(|s| s.borrow().is_some())
}

/// Saves every few seconds when the session changed, only once it was read (a saver exists),
/// one save at a time. The page's part of a save (hashing, copying changed chunks) is timed
/// into `window.__llmscope.save_ms` (and its maximum, `save_max_ms`) for the benchmark.
fn autosave(c: Data) {
    let saved_version = std::rc::Rc::new(std::cell::Cell::new(0u64));
    let version = std::rc::Rc::new(std::cell::Cell::new(1u64));
    let busy = std::rc::Rc::new(std::cell::Cell::new(false));
    let bump = version.clone();
    Effect::new(move |_| {
        c.session.track();
        bump.set(bump.get() + 1);
    });
    set_interval(
        move || {
            if busy.get() || saved_version.get() == version.get() {
                return;
            }
            let started = ui::now_ms();
            let ready = SAVER.with(|saver| {
                let mut saver = saver.borrow_mut();
                // Without a saver the saved session was not read: it is never written over.
                let saver = saver.as_mut()?;
                Some(c.session.with_untracked(|s| saver.prepare(s)))
            });
            let Some(ready) = ready else { return };
            let ready = match ready {
                Ok(r) => r,
                Err(e) => {
                    c.notice.set(Some(e));
                    saved_version.set(version.get());
                    return;
                }
            };
            ui::record_timing("save", ui::now_ms() - started);
            saved_version.set(version.get());
            busy.set(true);
            let busy = busy.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match ready.write().await {
                    Ok(()) => SAVER.with(|saver| {
                        if let Some(s) = saver.borrow_mut().as_mut() {
                            s.commit(ready);
                        }
                    }),
                    Err(e) => c.notice.set(Some(e)),
                }
                busy.set(false);
            });
        },
        SAVE_EVERY,
    );
}

/// A load that answered after [`LOAD_WAIT`]: its session joins what the page has now, and
/// saving starts; or, when it could not be read, the banner says so.
fn pick_up_late(c: Data, slot: Slot, kept: RwSignal<Option<idb::Unread>>) {
    wasm_bindgen_futures::spawn_local(async move {
        let loaded = loop {
            if let Some(loaded) = slot.borrow_mut().take() {
                break loaded;
            }
            import::sleep(Duration::from_millis(100)).await;
        };
        if saving() {
            return; // the user started fresh meanwhile
        }
        match loaded {
            Ok((saved, found)) => {
                c.session.update(|now| {
                    let mut merged = saved.unwrap_or_default();
                    for stream in std::mem::take(&mut now.streams) {
                        if merged.stream(&stream.id).is_none() {
                            merged.streams.push(stream);
                        }
                    }
                    *now = merged;
                    now.derive();
                });
                SAVER.with(|s| *s.borrow_mut() = Some(found));
                kept.set(None);
                c.notice.set(Some(
                    "your saved session was read after all: it is back".into(),
                ));
            }
            Err(unread) => kept.set(Some(unread)),
        }
    });
}

/// The banner over a saved session that could not be read: it is kept, never written over,
/// until the user exports it, restores the previous save, or starts fresh.
fn kept_banner(c: Data, unread: idb::Unread, kept: RwSignal<Option<idb::Unread>>) -> impl IntoView {
    let raw = unread.raw.clone();
    let previous = unread.previous.clone();
    let resume = move |restore: Option<model::Session>| {
        wasm_bindgen_futures::spawn_local(async move {
            let made = match idb::set_aside().await {
                Ok(()) => idb::Saver::from_storage().await,
                Err(e) => Err(e),
            };
            match made {
                Ok(found) => {
                    if let Some(session) = restore {
                        c.session.set(session);
                    }
                    SAVER.with(|s| *s.borrow_mut() = Some(found));
                    kept.set(None);
                    c.notice.set(Some(
                        "the unreadable session is kept in this browser (IndexedDB, \"kept\"); \
                         saving has resumed"
                            .into(),
                    ));
                }
                Err(e) => c.notice.set(Some(format!("{e}; nothing was written"))),
            }
        });
    };
    let fresh = resume;
    view! {
        <div class="kept-banner" role="alert" data-testid="kept-banner">
            <strong>"Your saved session could not be read; it is kept."</strong>
            {format!(" ({}.) Nothing is saved until you choose: ", unread.reason)}
            {raw.map(|text| view! {
                <button data-testid="kept-export" on:click=move |_| {
                    download::download("llmscope-unreadable-session.json", "application/json", &text)
                }>"Export it"</button>
            })}
            {previous.map(|session| view! {
                <button data-testid="kept-previous" on:click=move |_| resume(Some(*session.clone()))>
                    "Restore the previous save"
                </button>
            })}
            <button data-testid="kept-fresh" on:click=move |_| fresh(None)>"Start fresh"</button>
        </div>
    }
}

fn location_stream() -> Option<String> {
    let hash = web_sys::window()?.location().hash().ok()?;
    let id = hash.strip_prefix("#stream=")?;
    js_sys::decode_uri_component(id).ok()?.as_string()
}

/// Makes the view follow the URL's `#stream=` when it changes without the app (an edited
/// fragment, Back, Forward).
fn follow_location(nav: Nav) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let follow = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
        let id = location_stream();
        if nav.selected.get_untracked() != id {
            nav.open(id);
        }
    });
    for event in ["hashchange", "popstate"] {
        let _ = window.add_event_listener_with_callback(event, follow.as_ref().unchecked_ref());
    }
    // It listens for the page's whole life.
    follow.forget();
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
    let ui::context::Provided {
        data: d,
        nav,
        theme,
        controls: ctl,
    } = ui::context::provide(
        session,
        view.stream,
        view.range,
        readonly,
        prefers_dark(),
        problem,
    );
    let viewing = nav.readonly.get_untracked().is_some();

    let noise = llmscope_spc::Rng::new(0x5EED_0F11_5C09_EEEEu64 ^ js_sys::Date::now() as u64);
    let k = d.session.with_untracked(|s| {
        s.streams
            .iter()
            .map(|x| x.samples.len() as u64)
            .max()
            .unwrap_or(0)
    });
    let state = std::cell::RefCell::new((noise, k));
    set_interval(
        move || {
            if !ctl.simulating.get_untracked() {
                return;
            }
            let (noise, k) = &mut *state.borrow_mut();
            d.session.update(|s| {
                sim::tick(s, noise, *k, js_sys::Date::now());
                s.derive();
                s.retain(SIMULATED_KEEP, |o| *o == model::Origin::Simulator);
            });
            *k += 1;
        },
        tick_from_url(),
    );
    // `?live=1` connects to the shim that serves this page; `?live=ws://...` to another one,
    // once the user agrees: a link must not make the page fetch and keep another server's data.
    let ask_live = RwSignal::new(None::<String>);
    if let Some(target) = query_param("live").filter(|_| !viewing) {
        let url = if target == "1" {
            live::same_origin_url()
        } else {
            Some(target)
        };
        match url {
            Some(url) if live::is_page_origin(&url) => live::connect(d, ctl.live, url, None),
            Some(url) => ask_live.set(Some(url)),
            None => {}
        }
    }

    // `?mqtt=<ws url>&topic=<filter>` (topic may repeat) subscribes to a broker at start when
    // it is on the page's host name, else once the user agrees; its data stays in the broker
    // source's worker, never in the saved session.
    let broker = ui::fleet::Fleet::new(
        query_param("mqtt").unwrap_or_default(),
        query_params("topic"),
    );
    provide_context(broker);
    let mqtt =
        move |url: &str| ui::fleet::connect(broker, url, &query_params("topic"), "", "", f64::NAN);
    // Whether the question is about `?mqtt=`'s broker (set once, here).
    let mut is_mqtt = false;
    match query_param("mqtt").filter(|_| !viewing) {
        Some(url) if ui::fleet::is_page_host(&url) => mqtt(&url),
        Some(url) => {
            is_mqtt = true;
            ask_live.set(Some(url));
        }
        None => {}
    }

    // The open stream is in the URL (#stream=<id>), so a reload or a bookmark returns to it,
    // and the view follows the URL: an edited fragment, Back and Forward.
    if let Some(id) = location_stream() {
        nav.selected.set(Some(id));
    }
    if !viewing {
        follow_location(nav);
    }
    Effect::new(move |_| {
        if viewing {
            return; // the fragment holds the share link
        }
        let selected = nav.selected.get();
        if location_stream() == selected {
            return;
        }
        let hash = selected.map_or(String::new(), |id| {
            format!("#stream={}", js_sys::encode_uri_component(&id))
        });
        if let Some(w) = web_sys::window() {
            let _ = w.location().set_hash(&hash);
        }
    });

    // The theme lives on <html>, where the stylesheet's variables are defined.
    Effect::new(move |_| {
        let theme = if theme.dark.get() { "dark" } else { "light" };
        if let Some(html) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = html.set_attribute("data-theme", theme);
        }
    });

    let asked = match is_mqtt {
        true => ", which is not the server of this page, and to show its broker's streams.",
        false => ", which is not the server of this page, and to keep its streams in your session.",
    };
    view! {
        {move || ask_live.get().map(|url| view! {
            <div class="ask-live" role="alertdialog" data-testid="ask-live" aria-label="connect to another server?">
                <p>
                    "This link asks to connect to "<code>{live::split_token(&url).0}</code>{asked}
                </p>
                <button data-testid="ask-live-connect" on:click=move |_| {
                    ask_live.set(None);
                    match is_mqtt {
                        true => mqtt(&url),
                        false => live::connect(d, ctl.live, url.clone(), None),
                    }
                }>"Connect"</button>
                <button data-testid="ask-live-cancel" on:click=move |_| ask_live.set(None)>"Don't connect"</button>
            </div>
        })}
        <div class="app">
            <Header/>
            <main
                on:dragover=move |ev: leptos::ev::DragEvent| ev.prevent_default()
                on:drop=move |ev: leptos::ev::DragEvent| {
                    ev.prevent_default();
                    if let Some(file) = ev.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)) {
                        ui::import_file(d, ctl, file);
                    }
                }>
                {move || match (nav.compare.get(), nav.selected.get()) {
                    (true, _) => view! { <Compare/> }.into_any(),
                    (false, None) => view! { <Dashboard/> }.into_any(),
                    (false, Some(id)) => view! { <StreamView id/> }.into_any(),
                }}
            </main>
            <footer class="brand-footer" data-testid="brand-footer" inner_html=brand::footer()></footer>
        </div>
    }
}
