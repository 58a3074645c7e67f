//! The header: title, import, simulators, clear, Compare, export, report, share, theme (in a menu on a
//! narrow screen), the toggle of the Sources panel; under it, the Sources panel, import
//! progress, the notice and the last share link.

use super::context::{controls, data, nav, theme, Controls, Data};
use super::sources::Sources;
use crate::export::download;
use crate::model::Session;
use crate::sources::import;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// The header: title, actions, the Sources toggle; the Sources panel under it.
#[component]
pub fn Header() -> impl IntoView {
    let (d, n, k, theme) = (data(), nav(), controls(), theme());
    let (skip_bad, progress) = (k.skip_bad, k.progress);
    let on_file = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            import_file(d, k, file);
        }
        input.set_value("");
    };
    let export = move |_| {
        let session = d
            .session
            .with_untracked(crate::export::telemetry::session_json);
        let failed = Box::new(move |e| d.notice.set(Some(e)));
        let (name, mime) = ("llmscope-session.json", "application/json");
        crate::lazy::download("telemetry_export", session.into(), name, mime, failed);
    };
    let clear = move |_| {
        let sure = web_sys::window().and_then(|w| {
            w.confirm_with_message("Delete every stream and its data?")
                .ok()
        });
        if sure == Some(true) {
            k.simulating.set(false);
            n.selected.set(None);
            d.session.set(Session::default());
            crate::model::clear_charts();
            wasm_bindgen_futures::spawn_local(async move {
                if let Err(e) = crate::idb::clear().await {
                    d.notice.set(Some(e));
                }
            });
        }
    };
    // On a narrow screen the actions sit in a menu and the sources in a panel, both closed
    // at first so that the first screen shows data (a wide screen shows both, always).
    let menu = RwSignal::new(false);
    let menu_button = NodeRef::<leptos::html::Button>::new();
    // Escape closes the menu and gives the focus back to its button (not to a hidden action).
    let escape = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" && menu.get_untracked() {
            menu.set(false);
            if let Some(button) = menu_button.get_untracked() {
                let _ = button.focus();
            }
        }
    };
    let sources = RwSignal::new(false);
    let source_count = move || {
        let simulating = k.simulating.get();
        k.live.with(|lives| {
            k.probe.with(|probes| {
                d.session
                    .with(|s| super::sources::rows(s, simulating, lives, probes).len())
            })
        })
    };
    let viewing = move || n.readonly.get().is_some();
    view! {
        {move || n.readonly.get().map(|made| view! {
            <div class="shared-banner" role="status" data-testid="shared-banner">
                <strong>"Shared session, read-only"</strong>
                {format!(" ({made}). Nothing here is saved unless you copy it. ")}
                <button data-testid="copy-shared" on:click=move |_| crate::export::link::copy_into_mine(d)>"Copy into my session"</button>
                <button data-testid="leave-shared" on:click=move |_| crate::export::link::leave()>"Back to my session"</button>
            </div>
        })}
        <header class="bar">
            <h1 class="brand" on:click=move |_| n.open(None) inner_html=crate::brand::mark()></h1>
            <button class="sources-toggle" data-testid="sources-toggle" aria-controls="sources" hidden=viewing
                aria-expanded=move || sources.get().to_string() on:click=move |_| sources.update(|o| *o = !*o)>
                {move || format!("Sources ({})", source_count())}
            </button>
            <button class="menu-toggle" data-testid="menu" aria-controls="actions" node_ref=menu_button
                aria-expanded=move || menu.get().to_string() on:click=move |_| menu.update(|o| *o = !*o)>
                "Menu"
            </button>
            <div id="actions" class="actions" class:open=move || menu.get() data-testid="actions"
                on:keydown=escape>
            <span class="controls" hidden=viewing>
            <label class="button">
                "Import CSV or JSON"
                <input type="file" accept=".csv,.json,text/csv,application/json" data-testid="import-file" on:change=on_file/>
            </label>
            <label class="check">
                <input type="checkbox" data-testid="skip-bad-rows" prop:checked=move || skip_bad.get()
                    on:change=move |ev| skip_bad.set(event_target_checked(&ev))/>
                "skip bad rows"
            </label>
            <button data-testid="simulators" aria-pressed=move || k.simulating.get().to_string()
                on:click=move |_| k.simulating.update(|s| *s = !*s)>
                {move || if k.simulating.get() { "Pause simulators" } else { "Run simulators" }}
            </button>
            <button on:click=clear>"Clear…"</button>
            </span>
            <button data-testid="compare-open" aria-pressed=move || n.compare.get().to_string()
                on:click=move |_| n.compare.update(|c| *c = !*c)>"Compare"</button>
            <button data-testid="export-json" on:click=export>"Export session"</button>
            <button data-testid="report-pdf" on:click=move |_| report_pdf(d, k)>"Report (PDF)"</button>
            <button data-testid="team-open" hidden=viewing onclick="llmscopeTeam(null)">"Team"</button>
            <button data-testid="share" hidden=viewing on:click=move |_| crate::export::link::make(d, n, k)>"Share link"</button>
            <button aria-label="toggle dark theme" on:click=move |_| k.set_dark.update(|d| *d = !*d)>
                {move || if theme.dark.get() { "Light" } else { "Dark" }}
            </button>
            </div>
        </header>
        {move || (!viewing()).then(|| view! { <Sources open=sources/> })}
        {move || progress.get().map(|p| view! {
            <progress class="import-progress" data-testid="import-progress" max="1" value=p.to_string()
                aria-label="import progress"></progress>
        })}
        {move || k.notice.get().map(|n| view! { <p class="notice" role="status" data-testid="notice">{n}</p> })}
        {move || k.share_link.get().map(|link| view! {
            <p class="share-link">
                <label>"Share link "
                    <input readonly data-testid="share-link" prop:value=link.clone() on:focus=move |ev| {
                        if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                            input.select();
                        }
                    }/>
                </label>
                <button on:click=move |_| copy_text(&link)>"Copy"</button>
            </p>
        })}
    }
}

/// Builds the PDF report of the whole session, with a progress bar, and downloads it.
fn report_pdf(d: Data, k: Controls) {
    if k.progress.get_untracked().is_some() {
        return; // one long job at a time
    }
    k.progress.set(Some(0.0));
    d.notice.set(Some("making the report…".into()));
    wasm_bindgen_futures::spawn_local(async move {
        let session = d.session.get_untracked();
        let started = js_sys::Date::now();
        let made = crate::export::report::pdf(&session, |p| k.progress.set(Some(p))).await;
        k.progress.set(None);
        match made {
            Ok(bytes) => {
                download::download_bytes("llmscope-report.pdf", "application/pdf", &bytes);
                d.notice.set(Some(format!(
                    "report ready: {} KB in {:.1} s",
                    bytes.len() / 1024,
                    (js_sys::Date::now() - started) / 1000.0
                )));
            }
            Err(e) => d.notice.set(Some(format!("cannot make the report: {e}"))),
        }
    });
}

/// Puts text on the clipboard (the user can still select the field by hand).
fn copy_text(text: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.navigator().clipboard().write_text(text);
    }
}

/// Reads a file the user picked or dropped and imports it, telling them how it went.
pub fn import_file(d: Data, k: Controls, file: web_sys::File) {
    let name = file.name();
    let skip = k.skip_bad.get_untracked();
    d.notice.set(Some(format!("importing {name}…")));
    wasm_bindgen_futures::spawn_local(async move {
        let text = match wasm_bindgen_futures::JsFuture::from(file.text()).await {
            Ok(t) => t.as_string().unwrap_or_default(),
            Err(_) => {
                d.notice.set(Some(format!("{name}: cannot read the file")));
                return;
            }
        };
        let said = import_text(d, k, &name, &text, skip).await;
        k.progress.set(None);
        d.notice.set(Some(said));
    });
}

/// Imports a file's text into the session, showing progress; returns what to tell the user.
async fn import_text(d: Data, k: Controls, name: &str, text: &str, skip_bad: bool) -> String {
    if name.ends_with(".json") {
        return match import::session_json(text).await {
            Ok(s) => {
                let mut n = 0;
                d.session.update(|mine| n = mine.merge(s));
                format!("{name}: imported {n} streams")
            }
            Err(e) => format!("{name}: {e}"),
        };
    }
    match import::csv_in_chunks(text, skip_bad, |p| k.progress.set(Some(p))).await {
        Ok(got) => {
            let mut n = 0;
            d.session.update(|s| n = s.add_columns(name, got.columns));
            let skipped = if got.skipped.is_empty() {
                String::new()
            } else {
                format!(
                    "; skipped {} bad rows (lines {:?})",
                    got.skipped.len(),
                    &got.skipped[..got.skipped.len().min(10)]
                )
            };
            format!(
                "{name}: imported {} rows into {n} stream(s){skipped}",
                got.rows - got.skipped.len()
            )
        }
        Err(e) => format!("{name}: {e}"),
    }
}
