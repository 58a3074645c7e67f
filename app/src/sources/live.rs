//! A live stream from the shim over WebSocket (docs/protocol.md): hello, sample, batch, status
//! and gap frames. Reconnects with exponential backoff and asks for what it missed with
//! `?since=<last seq>`. Samples are gathered and added to the session four times a second, so a
//! fast stream does not redraw on every frame. An invalid frame is counted and shown, never
//! fatal.
//!
//! A token typed into the URL (`?token=`) is taken out before anything is kept: it is sent in
//! the `auth` frame only, and the URL the session, the status line and exports see has none.
//!
//! Several shims can be connected at once (two plant PCs): each URL is one connection, listed
//! in [`Lives`] with its own status. Connecting to a URL already listed restarts that one.
//! [`disconnect`] closes the WebSocket and stops its reconnects and its flushes for good;
//! [`resume`] opens it again with the token it was given.

use crate::model::{Origin, Sample, SourceEvent};
use crate::ui::Data;
use leptos::prelude::*;
use llmscope_protocol::{ClientFrame, ServerFrame, StreamState};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

/// How often gathered samples are added to the session.
const FLUSH: Duration = Duration::from_millis(250);
/// Backoff between reconnects: from 0.5 s, doubling, to 30 s.
const BACKOFF_MIN: f64 = 500.0;
const BACKOFF_MAX: f64 = 30_000.0;

/// What the Sources panel shows about one connection.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveStatus {
    /// The shim's URL (its token taken out), once a connection was asked for.
    pub url: Option<String>,
    /// Whether the WebSocket is open now.
    pub connected: bool,
    /// Whether the user disconnected it (no reconnects until they connect it again).
    pub stopped: bool,
    /// How many frames or batch samples could not be read.
    pub invalid_frames: u64,
    /// The latest error (a refused connection, a bad frame), cleared on connecting.
    pub last_error: Option<String>,
}

impl LiveStatus {
    /// The status in words: "live from URL", "reconnecting to URL", "disconnected from URL",
    /// then the invalid frames ignored and the latest error, if any.
    pub fn describe(&self) -> String {
        let state = match (&self.url, self.stopped, self.connected) {
            (None, _, _) => "not connected".to_string(),
            (Some(u), true, _) => format!("disconnected from {u}"),
            (Some(u), false, true) => format!("live from {u}"),
            (Some(u), false, false) => format!("reconnecting to {u}"),
        };
        let invalid = if self.invalid_frames > 0 {
            format!("; {} invalid frames ignored", self.invalid_frames)
        } else {
            String::new()
        };
        let error = self
            .last_error
            .as_ref()
            .map_or(String::new(), |e| format!("; {e}"));
        format!("{state}{invalid}{error}")
    }
}

/// Every connection asked for, in the order they were added: its number and status.
pub type Lives = RwSignal<Vec<(u64, LiveStatus)>>;

/// The number of the listed connection to `url`, if there is one.
pub fn listed(lives: &[(u64, LiveStatus)], url: &str) -> Option<u64> {
    lives
        .iter()
        .find(|(_, s)| s.url.as_deref() == Some(url))
        .map(|(id, _)| *id)
}

/// Changes the status of connection `id` (gone from the list: nothing to change).
fn update(lives: Lives, id: u64, f: impl FnOnce(&mut LiveStatus)) {
    lives.update(|l| {
        if let Some((_, s)) = l.iter_mut().find(|(n, _)| *n == id) {
            f(s)
        }
    });
}

struct Link {
    id: u64,
    url: String,
    token: Option<String>,
    since: Option<u64>,
    backoff: f64,
    pending: Vec<llmscope_protocol::Sample>,
    socket: Option<web_sys::WebSocket>,
    /// Counts the sockets opened: a socket's handlers act only while theirs is the newest.
    generation: u64,
    /// The timer that adds gathered samples to the session; cleared on disconnect.
    flusher: Option<IntervalHandle>,
}

thread_local! {
    /// The connections running now, by number; a disconnected one is not here.
    static LINKS: RefCell<Vec<Rc<RefCell<Link>>>> = const { RefCell::new(Vec::new()) };
    /// The last connection number given.
    static NEXT: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// Disconnected connections, kept to resume them with their token.
    static STOPPED: RefCell<Vec<(u64, String, Option<String>)>> = const { RefCell::new(Vec::new()) };
}

/// The same-origin endpoint, for a page served by the shim itself.
pub fn same_origin_url() -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    Some(format!("{scheme}://{}/ws", location.host().ok()?))
}

/// The URL without its `token` query parameters, and the (last) token it held. The rest of the
/// query stays as written.
pub fn split_token(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None);
    };
    let mut token = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|kv| match kv.strip_prefix("token=") {
            Some(t) => {
                token = Some(decode(t));
                false
            }
            None => *kv != "token",
        })
        .collect();
    let url = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (url, token)
}

/// A percent-encoded query value, decoded (as typed when it is not valid UTF-8 encoding).
fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| value.to_string())
}

/// The URL asking for what came after `since`: `?since=` or, when it has a query, `&since=`.
pub fn with_since(url: &str, since: Option<u64>) -> String {
    match since {
        Some(s) if url.contains('?') => format!("{url}&since={s}"),
        Some(s) => format!("{url}?since={s}"),
        None => url.to_string(),
    }
}

/// Whether a WebSocket URL reaches the origin the page came from (`ws` for an `http:` page,
/// `wss` for `https:`, the same host and port). `page_protocol` is `location.protocol`
/// (`"http:"`), `page_host` is `location.host`.
pub fn same_origin(url: &str, page_protocol: &str, page_host: &str) -> bool {
    let scheme = if page_protocol == "https:" {
        "wss"
    } else {
        "ws"
    };
    let Some(rest) = url.strip_prefix(scheme).and_then(|r| r.strip_prefix("://")) else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    host.eq_ignore_ascii_case(page_host)
}

/// Whether `url` is the page's own origin (see [`same_origin`]).
pub fn is_page_origin(url: &str) -> bool {
    let Some(location) = web_sys::window().map(|w| w.location()) else {
        return false;
    };
    match (location.protocol(), location.host()) {
        (Ok(protocol), Ok(host)) => same_origin(url, &protocol, &host),
        _ => false,
    }
}

/// Connects to `url`: a new connection, or the listed one to the same URL started again. A
/// `?token=` in the URL is used for this connection only (when no `token` is given) and never
/// kept.
pub fn connect(c: Data, lives: Lives, url: String, token: Option<String>) {
    let (url, in_url) = split_token(url.trim());
    let token = token.or(in_url);
    let known = lives.with_untracked(|l| listed(l, &url));
    let id = known.unwrap_or_else(|| {
        NEXT.with(|n| {
            n.set(n.get() + 1);
            n.get()
        })
    });
    let fresh = LiveStatus {
        url: Some(url.clone()),
        ..LiveStatus::default()
    };
    if known.is_some() {
        stop(c, id);
        update(lives, id, |s| *s = fresh);
    } else {
        lives.update(|l| l.push((id, fresh)));
    }
    if !(url.starts_with("ws://") || url.starts_with("wss://")) {
        update(lives, id, |s| {
            s.stopped = true;
            s.last_error = Some(format!(
                "'{url}' is not a WebSocket URL (ws://host:port/ws)"
            ))
        });
        STOPPED.with(|s| s.borrow_mut().push((id, url, token)));
        return;
    }
    start(c, lives, id, url, token);
}

fn start(c: Data, lives: Lives, id: u64, url: String, token: Option<String>) {
    let link = Rc::new(RefCell::new(Link {
        id,
        url,
        token,
        since: None,
        backoff: BACKOFF_MIN,
        pending: Vec::new(),
        socket: None,
        generation: 0,
        flusher: None,
    }));
    LINKS.with(|l| l.borrow_mut().push(link.clone()));
    open(c, lives, link.clone());
    let flusher = link.clone();
    link.borrow_mut().flusher = set_interval_with_handle(move || flush(c, &flusher), FLUSH).ok();
}

/// Closes connection `id` for good: its socket, its reconnects, its timer. What it gathered
/// is added to the session first. Returns its URL and token.
fn stop(c: Data, id: u64) -> Option<(String, Option<String>)> {
    let link = LINKS.with(|l| {
        let mut l = l.borrow_mut();
        let at = l.iter().position(|x| x.borrow().id == id)?;
        Some(l.remove(at))
    });
    let Some(link) = link else {
        return STOPPED.with(|s| {
            let mut s = s.borrow_mut();
            let at = s.iter().position(|x| x.0 == id)?;
            let (_, url, token) = s.remove(at);
            Some((url, token))
        });
    };
    flush(c, &link);
    let mut l = link.borrow_mut();
    if let Some(timer) = l.flusher.take() {
        timer.clear();
    }
    if let Some(socket) = l.socket.take() {
        let _ = socket.close();
    }
    Some((l.url.clone(), l.token.take()))
}

/// Disconnects connection `id`: its WebSocket is closed and nothing more arrives from it
/// until [`resume`]. It stays listed, as disconnected.
pub fn disconnect(c: Data, lives: Lives, id: u64) {
    if let Some((url, token)) = stop(c, id) {
        STOPPED.with(|s| s.borrow_mut().push((id, url, token)));
    }
    update(lives, id, |s| {
        s.connected = false;
        s.stopped = true;
    });
}

/// Connects a disconnected connection again, with the token it was first given. What the shim
/// sent while it was disconnected is not asked for: disconnecting means not wanting it.
pub fn resume(c: Data, lives: Lives, id: u64) {
    let kept = STOPPED.with(|s| {
        let mut s = s.borrow_mut();
        let at = s.iter().position(|x| x.0 == id)?;
        Some(s.remove(at))
    });
    if let Some((_, url, token)) = kept {
        connect(c, lives, url, token);
    }
}

/// Disconnects connection `id` and takes it off the list (its streams stay in the session).
pub fn remove(c: Data, lives: Lives, id: u64) {
    stop(c, id);
    lives.update(|l| l.retain(|(n, _)| *n != id));
}

/// Whether `link` still runs and `generation` is its newest socket.
fn current(link: &Rc<RefCell<Link>>, generation: u64) -> bool {
    link.borrow().generation == generation
        && LINKS.with(|l| l.borrow().iter().any(|cur| Rc::ptr_eq(cur, link)))
}

fn open(c: Data, lives: Lives, link: Rc<RefCell<Link>>) {
    let last = link.borrow().generation;
    if !current(&link, last) {
        return;
    }
    let (id, url, generation) = {
        let mut l = link.borrow_mut();
        l.generation += 1;
        (l.id, with_since(&l.url, l.since), l.generation)
    };
    let status = move |f: &dyn Fn(&mut LiveStatus)| update(lives, id, f);
    let socket = match web_sys::WebSocket::new(&url) {
        Ok(s) => s,
        Err(_) => {
            status(&|s| s.last_error = Some(format!("cannot open {url}")));
            return;
        }
    };
    let on_open = {
        let link = link.clone();
        let socket = socket.clone();
        Closure::<dyn FnMut()>::new(move || {
            if !current(&link, generation) {
                return;
            }
            let mut l = link.borrow_mut();
            l.backoff = BACKOFF_MIN;
            if let Some(token) = &l.token {
                let auth = ClientFrame::Auth {
                    token: token.clone(),
                };
                let _ = socket.send_with_str(&serde_json::to_string(&auth).unwrap_or_default());
            }
            status(&|s| {
                s.connected = true;
                s.last_error = None;
            });
        })
    };
    let on_message = {
        let link = link.clone();
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            if !current(&link, generation) {
                return; // disconnected, or replaced: nothing more from this socket
            }
            let Some(text) = ev.data().as_string() else {
                status(&|s| s.invalid_frames += 1);
                return;
            };
            // A batch's unreadable samples are counted as invalid frames; its others are kept.
            match crate::decode::frame(&text) {
                Ok(read) => {
                    if let Some(why) = read.rejected.last() {
                        status(&|s| {
                            s.invalid_frames += read.rejected.len() as u64;
                            s.last_error = Some(why.clone());
                        });
                    }
                    receive(c, &link, read.frame)
                }
                Err(_) => status(&|s| s.invalid_frames += 1),
            }
        })
    };
    let on_close = {
        let link = link.clone();
        Closure::<dyn FnMut(web_sys::CloseEvent)>::new(move |ev: web_sys::CloseEvent| {
            if !current(&link, generation) {
                return; // disconnected (the list says so already), or replaced
            }
            status(&|s| {
                s.connected = false;
                if !ev.reason().is_empty() {
                    s.last_error = Some(ev.reason());
                }
            });
            let url = link.borrow().url.clone();
            dropped(c, &url, ev.reason());
            let delay = {
                let mut l = link.borrow_mut();
                let d = l.backoff;
                l.backoff = (l.backoff * 2.0).min(BACKOFF_MAX);
                d
            };
            let again = link.clone();
            set_timeout(
                move || open(c, lives, again),
                Duration::from_millis(delay as u64),
            );
        })
    };
    socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    // The socket owns its handlers for its whole life.
    on_open.forget();
    on_message.forget();
    on_close.forget();
    link.borrow_mut().socket = Some(socket);
}

fn receive(c: Data, link: &Rc<RefCell<Link>>, frame: ServerFrame) {
    let url = link.borrow().url.clone();
    match frame {
        ServerFrame::Hello { streams, .. } => c.session.update(|s| {
            let origin = Origin::Live { url: url.clone() };
            for info in streams {
                let unit = info.unit.clone().unwrap_or_default();
                let (stream, fresh) = s.slot(&origin, &info.id, &unit);
                if fresh {
                    stream.settings.lsl = info.lsl;
                    stream.settings.usl = info.usl;
                }
            }
        }),
        ServerFrame::Sample(sample) => gather(link, sample),
        ServerFrame::Batch { samples } => samples.into_iter().for_each(|s| gather(link, s)),
        ServerFrame::Status {
            stream,
            state,
            reason,
        } => c.session.update(|s| {
            let origin = Origin::Live { url: url.clone() };
            if let Some(st) = s.find(&origin, &stream).map(|at| &mut s.streams[at]) {
                let kind = if state == StreamState::Stale {
                    "stale"
                } else {
                    "live"
                };
                st.record(SourceEvent {
                    t: js_sys::Date::now(),
                    kind: kind.into(),
                    message: reason.clone().unwrap_or_default(),
                });
                st.stale =
                    (state == StreamState::Stale).then(|| reason.unwrap_or_else(|| "stale".into()));
                st.touch();
            }
        }),
        ServerFrame::Gap { missed } => c.notice.set(Some(format!(
            "{missed} samples from {url} were lost (the connection was down or fell behind)"
        ))),
    }
}

/// The connection to `url` dropped: an event on each of its streams (the why panel's).
fn dropped(c: Data, url: &str, reason: String) {
    let origin = Origin::Live { url: url.into() };
    let t = js_sys::Date::now();
    c.session.update(|s| {
        for st in s.streams.iter_mut().filter(|st| st.origin == origin) {
            st.record(SourceEvent {
                t,
                kind: "disconnected".into(),
                message: reason.clone(),
            });
        }
    });
}

fn gather(link: &Rc<RefCell<Link>>, s: llmscope_protocol::Sample) {
    let mut l = link.borrow_mut();
    l.since = Some(s.seq);
    l.pending.push(s);
}

fn flush(c: Data, link: &Rc<RefCell<Link>>) {
    let (url, pending) = {
        let mut l = link.borrow_mut();
        if l.pending.is_empty() {
            return;
        }
        (l.url.clone(), std::mem::take(&mut l.pending))
    };
    let origin = Origin::Live { url };
    c.session.update(|s| {
        for raw in pending {
            let sample = Sample {
                t: raw.t as f64,
                value: raw.value,
            };
            s.push(&raw.stream, "", &origin, sample).seqs.push(raw.seq);
        }
        s.derive();
        s.retain(crate::keep_points(), Origin::grows);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 10: `?since=` was appended with a second `?`.
    #[test]
    fn since_joins_an_existing_query_with_an_ampersand() {
        assert_eq!(with_since("ws://h:1/ws", Some(7)), "ws://h:1/ws?since=7");
        assert_eq!(
            with_since("ws://h:1/ws?x=1", Some(7)),
            "ws://h:1/ws?x=1&since=7"
        );
        assert_eq!(with_since("ws://h:1/ws?x=1", None), "ws://h:1/ws?x=1");
    }

    /// Issue 10: a token typed into the URL was saved with the session.
    #[test]
    fn a_token_in_the_url_is_taken_out() {
        assert_eq!(
            split_token("ws://h:1/ws?token=s3cret"),
            ("ws://h:1/ws".into(), Some("s3cret".into()))
        );
        assert_eq!(
            split_token("ws://h:1/ws?a=1&token=s3cret&b=2"),
            ("ws://h:1/ws?a=1&b=2".into(), Some("s3cret".into()))
        );
        assert_eq!(
            split_token("ws://h:1/ws?token=a%2Fb%20c"),
            ("ws://h:1/ws".into(), Some("a/b c".into()))
        );
        assert_eq!(
            split_token("ws://h:1/ws?a=1"),
            ("ws://h:1/ws?a=1".into(), None)
        );
        assert_eq!(split_token("ws://h:1/ws"), ("ws://h:1/ws".into(), None));
        assert_eq!(
            split_token("ws://h:1/ws?token"),
            ("ws://h:1/ws".into(), None)
        );
    }

    #[test]
    fn a_url_already_listed_is_that_connection_and_the_status_says_its_state() {
        let at = |url: &str, connected, stopped| LiveStatus {
            url: Some(url.into()),
            connected,
            stopped,
            ..LiveStatus::default()
        };
        let lives = [
            (3, at("ws://pc1/ws", true, false)),
            (5, at("ws://pc2/ws", false, true)),
        ];
        assert_eq!(listed(&lives, "ws://pc2/ws"), Some(5));
        assert_eq!(listed(&lives, "ws://pc3/ws"), None);
        assert_eq!(lives[0].1.describe(), "live from ws://pc1/ws");
        assert_eq!(lives[1].1.describe(), "disconnected from ws://pc2/ws");
        let failing = LiveStatus {
            invalid_frames: 2,
            last_error: Some("refused".into()),
            ..at("ws://pc3/ws", false, false)
        };
        assert_eq!(
            failing.describe(),
            "reconnecting to ws://pc3/ws; 2 invalid frames ignored; refused"
        );
        assert_eq!(LiveStatus::default().describe(), "not connected");
    }

    #[test]
    fn only_the_pages_own_host_and_matching_scheme_are_its_origin() {
        assert!(same_origin(
            "ws://127.0.0.1:8080/ws",
            "http:",
            "127.0.0.1:8080"
        ));
        assert!(same_origin(
            "wss://plant.example/ws",
            "https:",
            "plant.example"
        ));
        assert!(!same_origin(
            "ws://plant.example/ws",
            "https:",
            "plant.example"
        ));
        assert!(!same_origin(
            "wss://elsewhere.example/ws",
            "https:",
            "plant.example"
        ));
        assert!(!same_origin(
            "ws://127.0.0.1:9999/ws",
            "http:",
            "127.0.0.1:8080"
        ));
        assert!(!same_origin(
            "ws://127.0.0.1:8080.evil/ws",
            "http:",
            "127.0.0.1:8080"
        ));
        assert!(!same_origin(
            "ws://127.0.0.1:8080@evil/ws",
            "http:",
            "127.0.0.1:8080"
        ));
    }
}
