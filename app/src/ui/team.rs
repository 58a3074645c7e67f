//! Teams on the Worker (issue 16), the dashboard's hook: the workspace view itself (signing in
//! with a member's token, the member's role, the workspace's dashboards, saving, conflicts) is
//! the second module's (`llmscope_app_lazy::team`), loaded on first use: by the header's
//! "Team" button, or at start when the page's own origin is a probe Worker (its `/health`
//! answers a `version`: the page offers to sign in to it, sending no token before the user
//! gives one) or when a sign-in was remembered on this tab.
//!
//! The module asks the dashboard through [`team_host`] for what only the dashboard has: the
//! view to save (the session's IndexedDB format without its points, `crate::idb::view_meta`,
//! with the open stream and zoom), opening a saved view, and the Worker's connection: the
//! member's token is held where the Sources panel's probe connection holds it (polling the
//! Worker with it, and `Controls::worker` for shares), never in the session, a URL or a link.

use super::context::{controls, data, nav, Controls, Data, Nav};
use crate::model::Session;
use crate::sources::probe;
use leptos::prelude::*;
use std::cell::Cell;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

thread_local! {
    /// The app's state, for [`team_host`] (set when the user's own session mounts).
    static APP: Cell<Option<(Data, Nav, Controls)>> = const { Cell::new(None) };
}

/// The `sessionStorage` key of a sign-in remembered on this tab (the module writes it).
const REMEMBERED: &str = "llmscope.signin";

/// Starts the hook: the workspace opens at once when this page is served by a probe Worker,
/// or a sign-in was remembered on this tab.
pub fn start() {
    APP.set(Some((data(), nav(), controls())));
    wasm_bindgen_futures::spawn_local(async {
        let remembered = web_sys::window()
            .and_then(|w| w.session_storage().ok().flatten())
            .and_then(|s| s.get_item(REMEMBERED).ok().flatten())
            .is_some();
        let version = worker_version().await;
        if remembered || version.is_some() {
            open(Some(version.unwrap_or_default()));
        }
    });
}

/// The version the page's own origin answers on `/health` when it is a probe Worker (the
/// shim's `/health` has none, a plain web server no such JSON). No token is sent.
async fn worker_version() -> Option<String> {
    let answer = JsFuture::from(web_sys::window()?.fetch_with_str("health"))
        .await
        .ok()?;
    let answer: web_sys::Response = answer.dyn_into().ok()?;
    let text = JsFuture::from(answer.text().ok()?).await.ok()?.as_string()?;
    let health: serde_json::Value = serde_json::from_str(&text).ok()?;
    health["version"].as_str().map(str::to_string)
}

/// Opens the workspace view (the second module's): at start with the page's Worker's version
/// (empty when none), or `None` from the header's button (which shows or hides it).
pub fn open(start: Option<String>) {
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(e) = crate::lazy::team(start).await {
            if let Some((d, _, _)) = APP.get() {
                d.notice.set(Some(format!("the workspace could not open: {e}")));
            }
        }
    });
}

/// What the workspace view (the second module) asks the dashboard for, by `op`:
/// - `view`: the view to save as a dashboard's `body` (README, "Teams");
/// - `open`, `a` a saved body: puts it on the session; answers what is wrong, else nothing;
/// - `connect`, `a` the Worker's URL, `b` the member's token: polls the Worker with it;
/// - `signout`, `a` the Worker's URL: stops polling it and forgets its token;
/// - `worker`: the Worker polled and its token, `url\ntoken` (empty when none).
#[wasm_bindgen]
pub fn team_host(op: &str, a: String, b: String) -> String {
    let Some((d, nav, k)) = APP.get() else {
        return "the dashboard has not started".into();
    };
    match op {
        "view" => saved_view(d, nav),
        "open" => open_view(d, nav, &a).err().unwrap_or_default(),
        "connect" => {
            k.worker.set(Some((a.clone(), b.clone())));
            probe::start(d, k.probe, a, b);
            String::new()
        }
        "signout" => {
            let row = k.probe.with_untracked(|l| {
                l.iter()
                    .find(|(_, s)| s.url.as_deref() == Some(a.as_str()))
                    .map(|(id, _)| *id)
            });
            if let Some(id) = row {
                probe::remove(k.probe, id);
            }
            k.worker.set(None);
            String::new()
        }
        "worker" => k
            .worker
            .get_untracked()
            .map(|(url, token)| format!("{url}\n{token}"))
            .unwrap_or_default(),
        _ => format!("unknown request {op}"),
    }
}

/// The session's view: [`crate::idb::view_meta`] with `"view": {"stream", "range"}`.
fn saved_view(d: Data, nav: Nav) -> String {
    let meta = d.session.with_untracked(crate::idb::view_meta);
    let stream = serde_json::to_string(&nav.selected.get_untracked()).unwrap_or_default();
    let range = nav
        .range
        .get_untracked()
        .map_or("null".into(), |(a, b)| format!("[{a},{b}]"));
    let head = meta.strip_suffix('}').unwrap_or(&meta);
    format!("{head},\"view\":{{\"stream\":{stream},\"range\":{range}}}}}")
}

/// Puts the saved view `body` on the session, and opens its stream and zoom.
fn open_view(d: Data, nav: Nav, body: &str) -> Result<(), String> {
    let saved = crate::idb::read_view(body)?;
    let view: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    d.session.update(|s| adopt(s, saved));
    nav.open(view["view"]["stream"].as_str().map(str::to_string));
    let at = |i: usize| view["view"]["range"][i].as_u64().map(|n| n as usize);
    if let (Some(a), Some(b)) = (at(0), at(1)) {
        nav.range.set(Some((a, b)));
    }
    Ok(())
}

/// Puts the saved view `saved` (streams without points) on `now`: each saved stream's
/// settings on the stream of its id (one not here yet is added, and fills when its source
/// sends), the saved annotations in place of this session's for those streams, and the
/// saved derived streams in place of those of the same name.
pub fn adopt(now: &mut Session, saved: Session) {
    let ids: Vec<String> = saved.streams.iter().map(|s| s.id.clone()).collect();
    now.causes.retain_streams(|id| !ids.iter().any(|x| x == id));
    now.causes.merge(saved.causes);
    for stream in saved.streams {
        match now.stream_mut(&stream.id) {
            Some(mine) => mine.settings = stream.settings,
            None => now.streams.push(stream),
        }
    }
    for def in saved.derived {
        now.derived.retain(|x| x.name != def.name);
        now.derived.push(def);
    }
    now.derive();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Origin, Sample};

    #[test]
    fn a_saved_view_carries_settings_not_points_and_applies_them_to_the_streams() {
        let probe = Origin::Probe {
            url: "http://127.0.0.1:8787".into(),
        };
        let mut mine = Session::default();
        mine.push("a/ttft_ms", "ms", &probe, Sample { t: 1.0, value: 300.0 });
        mine.push("b", "", &Origin::Simulator, Sample { t: 1.0, value: 1.0 });
        let mut theirs = mine.clone();
        let stream = theirs.stream_mut("a/ttft_ms").unwrap();
        stream.settings.usl = Some(800.0);
        stream.settings.chart.phase1 = Some(30);
        theirs.push("c/new", "", &probe, Sample { t: 2.0, value: 5.0 });
        let body = crate::idb::view_meta(&theirs);
        assert!(!body.contains("300"), "no points in a view: {body}");
        let saved = crate::idb::read_view(&body).unwrap();
        assert!(saved.streams.iter().all(|s| s.samples.is_empty()));
        adopt(&mut mine, saved);
        let a = mine.stream("a/ttft_ms").unwrap();
        assert_eq!((a.settings.usl, a.settings.chart.phase1), (Some(800.0), Some(30)));
        assert_eq!(a.samples.len(), 1, "the data stay");
        let ids: Vec<&str> = mine.streams.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["a/ttft_ms", "b", "c/new"]);
        assert_eq!(mine.stream("c/new").unwrap().origin, probe);
        assert!(crate::idb::read_view("{\"format\": 9}").is_err());
    }
}
