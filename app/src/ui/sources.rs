//! The Sources panel: every source of the session in one place (the simulators, each live
//! shim, each probe Worker, each imported file), with its state, its counts and the buttons
//! that start or stop it; under them, the forms that add a shim or a Worker.
//!
//! The rows are made by [`rows`] from the session and the connections, a plain function with
//! tests; the panel shows them as a keyed `<For>`, so a new point changes a row's texts but
//! keeps its buttons (a click is never lost to a redraw).

use super::context::{controls, data, Controls, Data};
use crate::model::{Origin, Session};
use crate::sources::live::{self, LiveStatus};
use crate::sources::probe::{self, ProbeStatus};
use leptos::prelude::*;

/// Which source a row is, and how to reach it: a listed connection by its number, a source
/// only the saved session knows by its URL or file name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    /// The built-in simulators.
    Simulator,
    /// A live shim connection asked for in this page.
    Live(u64),
    /// Streams of a live shim this page is not connected to (a saved session's).
    SavedLive(String),
    /// A probe Worker polled from this page.
    Probe(u64),
    /// Streams of a probe Worker this page does not poll (a saved session's).
    SavedProbe(String),
    /// An imported file.
    Import(String),
}

impl Key {
    /// The kind, as the row's `data-kind` says it.
    fn kind(&self) -> &'static str {
        match self {
            Key::Simulator => "simulator",
            Key::Live(_) | Key::SavedLive(_) => "live",
            Key::Probe(_) | Key::SavedProbe(_) => "probe",
            Key::Import(_) => "import",
        }
    }
}

/// One source as the panel lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Which source.
    pub key: Key,
    /// Its name: "simulators", a URL, a file name.
    pub name: String,
    /// Its state in a word: running, paused, connected, reconnecting, disconnected, polling,
    /// stopped, not connected, imported.
    pub state: &'static str,
    /// What its connection says, with errors (empty for simulators and imports).
    pub status: String,
    /// Its streams in the session.
    pub streams: usize,
    /// Their points in the session.
    pub points: usize,
    /// Frames or samples it sent that could not be read.
    pub invalid: u64,
}

/// The streams and points of the session that came from `origin`.
fn counts(session: &Session, origin: &Origin) -> (usize, usize) {
    session
        .streams
        .iter()
        .filter(|s| &s.origin == origin)
        .fold((0, 0), |(n, p), s| (n + 1, p + s.samples.len()))
}

fn row(session: &Session, key: Key, origin: &Origin, name: String, state: &'static str) -> Row {
    let (streams, points) = counts(session, origin);
    Row {
        key,
        name,
        state,
        status: String::new(),
        streams,
        points,
        invalid: 0,
    }
}

fn live_row(session: &Session, id: u64, s: &LiveStatus) -> Row {
    let url = s.url.clone().unwrap_or_default();
    let state = match (s.stopped, s.connected) {
        (true, _) => "disconnected",
        (false, true) => "connected",
        (false, false) => "reconnecting",
    };
    let origin = Origin::Live { url: url.clone() };
    Row {
        status: s.describe(),
        invalid: s.invalid_frames,
        ..row(session, Key::Live(id), &origin, url, state)
    }
}

fn probe_row(session: &Session, id: u64, s: &ProbeStatus) -> Row {
    let url = s.url.clone().unwrap_or_default();
    let state = if s.stopped { "stopped" } else { "polling" };
    let origin = Origin::Probe { url: url.clone() };
    Row {
        status: s.describe(),
        ..row(session, Key::Probe(id), &origin, url, state)
    }
}

/// Every source: the simulators first, then the live shims, the probe Workers (those of this
/// page, then those only the session's streams name), then the imported files, each once.
pub fn rows(
    session: &Session,
    simulating: bool,
    lives: &[(u64, LiveStatus)],
    probes: &[(u64, ProbeStatus)],
) -> Vec<Row> {
    let sim = if simulating { "running" } else { "paused" };
    let mut out = vec![row(
        session,
        Key::Simulator,
        &Origin::Simulator,
        "simulators".into(),
        sim,
    )];
    out.extend(lives.iter().map(|(id, s)| live_row(session, *id, s)));
    let mut origins: Vec<&Origin> = Vec::new();
    for s in &session.streams {
        if !origins.contains(&&s.origin) {
            origins.push(&s.origin);
        }
    }
    let listed = |url: &String, of: &[Option<String>]| of.contains(&Some(url.clone()));
    let live_urls: Vec<_> = lives.iter().map(|(_, s)| s.url.clone()).collect();
    let probe_urls: Vec<_> = probes.iter().map(|(_, s)| s.url.clone()).collect();
    for origin in &origins {
        if let Origin::Live { url } = origin {
            if !listed(url, &live_urls) {
                let key = Key::SavedLive(url.clone());
                out.push(row(session, key, origin, url.clone(), "not connected"));
            }
        }
    }
    out.extend(probes.iter().map(|(id, s)| probe_row(session, *id, s)));
    for origin in &origins {
        match origin {
            Origin::Probe { url } if !listed(url, &probe_urls) => {
                let key = Key::SavedProbe(url.clone());
                out.push(row(session, key, origin, url.clone(), "not polled"));
            }
            Origin::Import { file } => {
                let key = Key::Import(file.clone());
                out.push(row(session, key, origin, file.clone(), "imported"));
            }
            _ => {}
        }
    }
    out
}

/// The counts in words: "3 streams · 1200 points", and the invalid frames when there are some.
fn counts_text(r: &Row) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut text = format!(
        "{} · {}",
        plural(r.streams, "stream"),
        plural(r.points, "point")
    );
    if r.invalid > 0 {
        text += &format!(" · {} invalid", r.invalid);
    }
    text
}

/// The Sources panel. `open` shows it on a narrow screen (a wide one always shows it).
#[component]
pub fn Sources(open: RwSignal<bool>) -> impl IntoView {
    let (d, k) = (data(), controls());
    let all = Memo::new(move |_| {
        let simulating = k.simulating.get();
        k.live.with(|lives| {
            k.probe
                .with(|probes| d.session.with(|s| rows(s, simulating, lives, probes)))
        })
    });
    let keys = move || all.with(|r| r.iter().map(|r| r.key.clone()).collect::<Vec<_>>());
    view! {
        <section id="sources" class="sources" class:open=move || open.get() data-testid="sources"
            aria-label="Sources">
            <h2 class="visually-hidden">"Sources"</h2>
            <ul class="source-list">
                <For each=keys key=|key| key.clone() let:key>
                    <SourceRow key all/>
                </For>
            </ul>
            <AddForms/>
            <super::fleet::FleetForm/>
        </section>
    }
}

/// One source's line: name, state, counts, status, and its buttons.
#[component]
fn SourceRow(key: Key, all: Memo<Vec<Row>>) -> impl IntoView {
    let (d, k) = (data(), controls());
    let kind = key.kind();
    let find = key.clone();
    let row = Memo::new(move |_| all.with(|r| r.iter().find(|r| r.key == find).cloned()));
    let field = move |f: fn(&Row) -> String| row.with(|r| r.as_ref().map(f).unwrap_or_default());
    let state = move || row.with(|r| r.as_ref().map_or("", |r| r.state));
    // The connection's words keep the test ids the one-connection header had.
    let status_id = match kind {
        "live" => "live-status",
        "probe" => "probe-status",
        _ => "source-status",
    };
    view! {
        <li class="source" data-testid="source" data-kind=kind data-state=state>
            <span class="source-name">{move || field(|r| r.name.clone())}</span>
            <span class="badge" data-testid="source-state">{state}</span>
            <span class="source-counts" data-testid="source-counts">{move || field(counts_text)}</span>
            <span class="live" data-testid=status_id role="status">{move || field(|r| r.status.clone())}</span>
            {move || buttons(d, k, &key, state())}
        </li>
    }
}

/// The buttons a source offers in its state.
fn buttons(d: Data, k: Controls, key: &Key, state: &str) -> impl IntoView {
    let button = |testid: &'static str, text: &'static str, act: Box<dyn Fn()>| {
        view! { <button data-testid=testid on:click=move |_| act()>{text}</button> }
    };
    let mut out = Vec::new();
    match (key.clone(), state) {
        (Key::Simulator, "running") => out.push(button(
            "source-disconnect",
            "Pause",
            Box::new(move || k.simulating.set(false)),
        )),
        (Key::Simulator, _) => out.push(button(
            "source-connect",
            "Run",
            Box::new(move || k.simulating.set(true)),
        )),
        (Key::Live(id), "disconnected") => {
            out.push(button(
                "source-connect",
                "Connect",
                Box::new(move || live::resume(d, k.live, id)),
            ));
            out.push(button(
                "source-remove",
                "Remove",
                Box::new(move || live::remove(d, k.live, id)),
            ));
        }
        (Key::Live(id), _) => out.push(button(
            "source-disconnect",
            "Disconnect",
            Box::new(move || live::disconnect(d, k.live, id)),
        )),
        (Key::SavedLive(url), _) => out.push(button(
            "source-connect",
            "Connect",
            Box::new(move || live::connect(d, k.live, url.clone(), None)),
        )),
        (Key::Probe(id), "stopped") => {
            out.push(button(
                "source-connect",
                "Poll",
                Box::new(move || probe::resume(d, k.probe, id)),
            ));
            out.push(button(
                "source-remove",
                "Remove",
                Box::new(move || probe::remove(k.probe, id)),
            ));
        }
        (Key::Probe(id), _) => out.push(button(
            "source-disconnect",
            "Stop",
            Box::new(move || probe::stop(k.probe, id)),
        )),
        (Key::SavedProbe(_) | Key::Import(_), _) => {}
    }
    out
}

/// The forms that add a live shim (URL and optional token) or a probe Worker (URL and token).
#[component]
fn AddForms() -> impl IntoView {
    let (d, k) = (data(), controls());
    let url = RwSignal::new(live::same_origin_url().unwrap_or_default());
    let token = RwSignal::new(String::new());
    let connect = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let t = token.get_untracked();
        live::connect(d, k.live, url.get_untracked(), (!t.is_empty()).then_some(t));
    };
    let worker = RwSignal::new(String::new());
    let worker_token = RwSignal::new(String::new());
    let poll = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (base, token) = (worker.get_untracked(), worker_token.get_untracked());
        k.worker.set(Some((base.clone(), token.clone())));
        probe::start(d, k.probe, base, token);
    };
    view! {
        <form class="connect" on:submit=connect aria-label="connect to a live stream">
            <input type="url" data-testid="connect-url" aria-label="WebSocket URL" placeholder="ws://127.0.0.1:9750/ws"
                prop:value=move || url.get() on:input=move |ev| url.set(event_target_value(&ev))/>
            <input type="password" data-testid="connect-token" aria-label="token (optional)" placeholder="token (optional)"
                prop:value=move || token.get() on:input=move |ev| token.set(event_target_value(&ev))/>
            <button type="submit" data-testid="connect">"Connect"</button>
        </form>
        <form class="connect" on:submit=poll aria-label="poll a probe Worker">
            <input type="url" data-testid="probe-url" aria-label="probe Worker URL" placeholder="https://probes.example.workers.dev"
                prop:value=move || worker.get() on:input=move |ev| worker.set(event_target_value(&ev))/>
            <input type="password" data-testid="probe-token" aria-label="Worker token" placeholder="Worker token"
                prop:value=move || worker_token.get() on:input=move |ev| worker_token.set(event_target_value(&ev))/>
            <button type="submit" data-testid="probe-connect">"Poll"</button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Sample;

    fn session() -> Session {
        let mut s = Session::default();
        let point = |t| Sample { t, value: 1.0 };
        let plant = |url: &str| Origin::Live { url: url.into() };
        for (id, origin, n) in [
            ("a", Origin::Simulator, 3),
            ("b", Origin::Simulator, 2),
            ("p1/x", plant("ws://pc1/ws"), 4),
            ("p2/x", plant("ws://pc2/ws"), 5),
            (
                "m/error_rate",
                Origin::Probe {
                    url: "https://w".into(),
                },
                1,
            ),
            (
                "c",
                Origin::Import {
                    file: "run.csv".into(),
                },
                7,
            ),
        ] {
            for t in 0..n {
                s.push(id, "", &origin, point(t as f64));
            }
        }
        s
    }

    fn live(url: &str, connected: bool, stopped: bool) -> LiveStatus {
        LiveStatus {
            url: Some(url.into()),
            connected,
            stopped,
            invalid_frames: 2,
            last_error: None,
        }
    }

    #[test]
    fn every_source_is_listed_once_with_its_state_and_counts() {
        let lives = [
            (1, live("ws://pc1/ws", true, false)),
            (2, live("ws://pc3/ws", false, false)),
        ];
        let got = rows(&session(), true, &lives, &[]);
        let seen: Vec<(&str, &str, usize, usize)> = got
            .iter()
            .map(|r| (r.name.as_str(), r.state, r.streams, r.points))
            .collect();
        assert_eq!(
            seen,
            [
                ("simulators", "running", 2, 5),
                ("ws://pc1/ws", "connected", 1, 4),
                ("ws://pc3/ws", "reconnecting", 0, 0),
                ("ws://pc2/ws", "not connected", 1, 5),
                ("https://w", "not polled", 1, 1),
                ("run.csv", "imported", 1, 7),
            ]
        );
        assert_eq!(got[1].key, Key::Live(1));
        assert_eq!(got[1].invalid, 2);
        assert_eq!(
            got[1].status,
            "live from ws://pc1/ws; 2 invalid frames ignored"
        );
        assert_eq!(counts_text(&got[1]), "1 stream · 4 points · 2 invalid");
    }

    #[test]
    fn stopped_connections_say_so_and_a_polled_worker_is_not_listed_twice() {
        let lives = [(4, live("ws://pc1/ws", true, true))];
        let probes = [(
            9,
            ProbeStatus {
                url: Some("https://w".into()),
                stopped: true,
                targets: 1,
                ..ProbeStatus::default()
            },
        )];
        let got = rows(&session(), false, &lives, &probes);
        let states: Vec<(&Key, &str)> = got.iter().map(|r| (&r.key, r.state)).collect();
        assert_eq!(
            states,
            [
                (&Key::Simulator, "paused"),
                (&Key::Live(4), "disconnected"),
                (&Key::SavedLive("ws://pc2/ws".into()), "not connected"),
                (&Key::Probe(9), "stopped"),
                (&Key::Import("run.csv".into()), "imported"),
            ]
        );
        assert!(got[1].status.starts_with("disconnected from ws://pc1/ws"));
        assert_eq!(got[3].status, "stopped polling https://w");
    }
}
