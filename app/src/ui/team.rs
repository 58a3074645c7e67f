//! Teams on the Worker (issue 16), the dashboard's hook: the workspace view itself (signing in
//! with a member's token, the member's role, the workspace's dashboards, saving, conflicts) is
//! the second module's (`llmscope_app_lazy::team`), loaded on first use: by the header's
//! "Team" button (`window.llmscopeTeam`, `static/index.template.html`), or by the page at
//! start when its own origin is a probe Worker (its `/health` answers a `version`: the page
//! offers to sign in to it, sending no token before the user gives one) or a sign-in was
//! remembered on this tab. Both checks are the page's script's, so the dashboard's wasm
//! carries only this hook (its size budget: docs/benchmarks.md).
//!
//! The module asks the dashboard through [`team_host`] (`window.llmscopeTeamHost`) for what only the dashboard has: the
//! view to save (the session's IndexedDB format without its points, `crate::idb::view_meta`,
//! and the open stream), opening a saved view as it was saved ([`adopt`]), and the Worker's connection: the member's
//! token goes to the Sources panel's probe connection (polling the Worker with it, and
//! `Controls::worker` for shares), in memory, never in the session, a URL or a link.

use super::context::{controls, data, nav, Controls, Data, Nav};
use crate::model::Session;
use crate::sources::probe;
use leptos::prelude::*;
use std::cell::Cell;
use wasm_bindgen::closure::Closure;

thread_local! {
    /// The app's state, for [`team_host`] (set when the user's own session mounts).
    static APP: Cell<Option<(Data, Nav, Controls)>> = const { Cell::new(None) };
}

/// Lets the workspace view in: [`team_host`] answers from now on, as the page's
/// `window.llmscopeTeamHost(op, a, b)` (not for a shared session, which never calls this).
pub fn start() {
    APP.set(Some((data(), nav(), controls())));
    let host = Closure::<dyn Fn(String, String, String) -> String>::new(
        |op: String, a: String, b: String| team_host(&op, a, b),
    );
    if let Some(window) = web_sys::window() {
        let _ = js_sys::Reflect::set(&window, &"llmscopeTeamHost".into(), host.as_ref());
    }
    // It answers for the page's whole life.
    host.forget();
}

/// What the workspace view (the second module) asks the dashboard for, by `op`:
/// - `view`: the view to save as a dashboard's `body` (README, "Teams"), then a new line and
///   the open stream's id (empty when none);
/// - `open`, `a` a saved body, `b` the stream to open (or empty): puts the view on the
///   session; answers what is wrong, else nothing;
/// - `connect`, `a` the Worker's URL, `b` the member's token: polls the Worker with it;
/// - `signout`, `a` the Worker's URL: stops polling it and forgets its token;
/// - anything else: `ready` (nothing before the user's own session is shown).
pub fn team_host(op: &str, a: String, b: String) -> String {
    let Some((d, nav, k)) = APP.get() else {
        return String::new();
    };
    match op {
        "view" => format!(
            "{}\n{}",
            d.session.with_untracked(crate::idb::view_meta),
            nav.selected.get_untracked().unwrap_or_default()
        ),
        "open" => match crate::idb::read_view(&a) {
            Ok(saved) => {
                d.session.update(|s| adopt(s, saved));
                nav.open(Some(b).filter(|b| !b.is_empty()));
                String::new()
            }
            Err(e) => e,
        },
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
        _ => "ready".into(),
    }
}

/// Puts the saved view `saved` (streams without points) on `now` as it was saved, not merged
/// as an import is: its streams first, in its order, each with its settings and annotations
/// and keeping the points it has here (a stream not here yet fills when its source sends);
/// their seen marks as saved (a signal its saver had seen stays seen, one they had not is
/// new); then the streams here that it lacks, unchanged. The saved derived streams not here
/// are added, and its Compare setup, when it has one, replaces the one here.
pub fn adopt(now: &mut Session, mut saved: Session) {
    let mut rest = std::mem::take(&mut now.streams);
    for s in &mut saved.streams {
        if let Some(at) = rest.iter().position(|m| m.id == s.id) {
            let mut mine = rest.remove(at);
            std::mem::swap(&mut s.samples, &mut mine.samples);
            std::mem::swap(&mut s.seqs, &mut mine.seqs);
            std::mem::swap(&mut s.sizes, &mut mine.sizes);
            std::mem::swap(&mut s.events, &mut mine.events);
            s.stale = mine.stale.take();
        }
        match saved.acknowledged.get(&s.id) {
            Some(t) => now.acknowledged.insert(s.id.clone(), *t),
            None => now.acknowledged.remove(&s.id),
        };
    }
    let ids: Vec<&str> = saved.streams.iter().map(|s| s.id.as_str()).collect();
    now.causes.retain_streams(|id| !ids.contains(&id));
    now.causes.merge(std::mem::take(&mut saved.causes));
    for def in std::mem::take(&mut saved.derived) {
        if !now.derived.contains(&def) {
            now.derived.push(def);
        }
    }
    if saved.compare.is_some() {
        now.compare = saved.compare;
    }
    now.streams = saved.streams;
    now.streams.extend(rest);
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
        mine.push(
            "a/ttft_ms",
            "ms",
            &probe,
            Sample {
                t: 1.0,
                value: 300.0,
            },
        );
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
        assert_eq!(
            (a.settings.usl, a.settings.chart.phase1),
            (Some(800.0), Some(30))
        );
        assert_eq!(a.samples.len(), 1, "the data stay");
        let mut ids: Vec<&str> = mine.streams.iter().map(|s| s.id.as_str()).collect();
        ids.sort();
        assert_eq!(ids, ["a/ttft_ms", "b", "c/new"]);
        assert_eq!(mine.stream("b").unwrap().samples.len(), 1);
        assert_eq!(mine.stream("c/new").unwrap().origin, probe);
        assert!(crate::idb::read_view("{\"format\": 9}").is_err());
    }

    fn streams(ids: &[&str]) -> Session {
        let mut s = Session::default();
        for id in ids {
            s.push(id, "", &Origin::Simulator, Sample { t: 1.0, value: 1.0 });
        }
        s
    }

    /// Opening a saved view shows it as it was saved, not merged as an import: its streams in
    /// its order (those it lacks after them), and its signals' seen marks, so a signal its
    /// saver had seen is not new again, and one they had not is.
    #[test]
    fn opening_a_saved_view_keeps_its_order_and_seen_marks() {
        let mut saver = streams(&["c", "a", "b"]);
        saver.acknowledged.insert("a".into(), 5.0);
        saver.acknowledged.insert("c".into(), 7.0);
        let body = crate::idb::view_meta(&saver);
        let mut opener = streams(&["a", "b", "d", "c"]);
        opener.acknowledged.insert("b".into(), 9.0);
        opener.acknowledged.insert("d".into(), 3.0);
        adopt(&mut opener, crate::idb::read_view(&body).unwrap());
        let ids: Vec<&str> = opener.streams.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["c", "a", "b", "d"]);
        let marks: Vec<(&str, f64)> = opener
            .acknowledged
            .iter()
            .map(|(id, t)| (id.as_str(), *t))
            .collect();
        assert_eq!(marks, [("a", 5.0), ("c", 7.0), ("d", 3.0)]);
    }

    /// The Compare view's setup rides in the saved view; a view saved before it was kept
    /// leaves the setup here as it is.
    #[test]
    fn a_saved_view_carries_the_comparison_setup() {
        let mut saver = streams(&["a"]);
        let setup = crate::model::CompareSetup {
            metric: "total_ms".into(),
            unticked: vec!["b".into()],
            fields: vec![("volume".into(), "1000".into())],
            ..Default::default()
        };
        saver.compare = Some(setup.clone());
        let body = crate::idb::view_meta(&saver);
        assert!(body.contains(r#""compare":{"#), "{body}");
        let mut opener = streams(&["a"]);
        adopt(&mut opener, crate::idb::read_view(&body).unwrap());
        assert_eq!(opener.compare, Some(setup.clone()));
        let old = crate::idb::view_meta(&streams(&["a"]));
        assert!(!old.contains("compare"), "{old}");
        adopt(&mut opener, crate::idb::read_view(&old).unwrap());
        assert_eq!(opener.compare, Some(setup), "kept");
    }
}
