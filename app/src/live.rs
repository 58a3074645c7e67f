//! A live stream from the shim over WebSocket (docs/protocol.md): hello, sample, batch, status
//! and gap frames. Reconnects with exponential backoff and asks for what it missed with
//! `?since=<last seq>`. Samples are gathered and added to the session four times a second, so a
//! fast stream does not redraw on every frame. An invalid frame is counted and shown, never
//! fatal.

use crate::model::{Origin, Sample};
use crate::ui::Ctx;
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

/// What the header shows about the connection.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveStatus {
    pub url: Option<String>,
    pub connected: bool,
    pub invalid_frames: u64,
    pub last_error: Option<String>,
}

struct Link {
    url: String,
    token: Option<String>,
    since: Option<u64>,
    backoff: f64,
    pending: Vec<llmscope_protocol::Sample>,
    socket: Option<web_sys::WebSocket>,
    generation: u64,
}

thread_local! {
    static LINK: RefCell<Option<Rc<RefCell<Link>>>> = const { RefCell::new(None) };
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

/// Connects (or reconnects to a new URL), replacing any current connection.
pub fn connect(c: Ctx, status: RwSignal<LiveStatus>, url: String, token: Option<String>) {
    if !(url.starts_with("ws://") || url.starts_with("wss://")) {
        status.update(|s| {
            s.last_error = Some(format!(
                "'{url}' is not a WebSocket URL (ws://host:port/ws)"
            ))
        });
        return;
    }
    let generation = LINK.with(|l| {
        let old = l.borrow_mut().take();
        let generation = old.as_ref().map_or(0, |o| o.borrow().generation + 1);
        if let Some(old) = old {
            if let Some(s) = old.borrow_mut().socket.take() {
                let _ = s.close();
            }
        }
        generation
    });
    let link = Rc::new(RefCell::new(Link {
        url: url.clone(),
        token,
        since: None,
        backoff: BACKOFF_MIN,
        pending: Vec::new(),
        socket: None,
        generation,
    }));
    LINK.with(|l| *l.borrow_mut() = Some(link.clone()));
    status.set(LiveStatus {
        url: Some(url),
        ..LiveStatus::default()
    });
    open(c, status, link.clone());
    let flusher = link;
    set_interval(move || flush(c, &flusher), FLUSH);
}

fn current(link: &Rc<RefCell<Link>>) -> bool {
    LINK.with(|l| l.borrow().as_ref().is_some_and(|cur| Rc::ptr_eq(cur, link)))
}

fn open(c: Ctx, status: RwSignal<LiveStatus>, link: Rc<RefCell<Link>>) {
    if !current(&link) {
        return;
    }
    let url = {
        let l = link.borrow();
        match l.since {
            Some(s) => format!("{}?since={s}", l.url),
            None => l.url.clone(),
        }
    };
    let socket = match web_sys::WebSocket::new(&url) {
        Ok(s) => s,
        Err(_) => {
            status.update(|s| s.last_error = Some(format!("cannot open {url}")));
            return;
        }
    };
    let on_open = {
        let link = link.clone();
        let socket = socket.clone();
        Closure::<dyn FnMut()>::new(move || {
            let mut l = link.borrow_mut();
            l.backoff = BACKOFF_MIN;
            if let Some(token) = &l.token {
                let auth = ClientFrame::Auth {
                    token: token.clone(),
                };
                let _ = socket.send_with_str(&serde_json::to_string(&auth).unwrap_or_default());
            }
            status.update(|s| {
                s.connected = true;
                s.last_error = None;
            });
        })
    };
    let on_message = {
        let link = link.clone();
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            let Some(text) = ev.data().as_string() else {
                status.update(|s| s.invalid_frames += 1);
                return;
            };
            // A batch's unreadable samples are counted as invalid frames; its others are kept.
            match crate::decode::frame(&text) {
                Ok(read) => {
                    if let Some(why) = read.rejected.last() {
                        status.update(|s| {
                            s.invalid_frames += read.rejected.len() as u64;
                            s.last_error = Some(why.clone());
                        });
                    }
                    receive(c, &link, read.frame)
                }
                Err(_) => status.update(|s| s.invalid_frames += 1),
            }
        })
    };
    let on_close = {
        let link = link.clone();
        Closure::<dyn FnMut(web_sys::CloseEvent)>::new(move |ev: web_sys::CloseEvent| {
            status.update(|s| {
                s.connected = false;
                if !ev.reason().is_empty() {
                    s.last_error = Some(ev.reason());
                }
            });
            if !current(&link) {
                return;
            }
            let delay = {
                let mut l = link.borrow_mut();
                let d = l.backoff;
                l.backoff = (l.backoff * 2.0).min(BACKOFF_MAX);
                d
            };
            let again = link.clone();
            set_timeout(
                move || open(c, status, again),
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

fn receive(c: Ctx, link: &Rc<RefCell<Link>>, frame: ServerFrame) {
    let url = link.borrow().url.clone();
    match frame {
        ServerFrame::Hello { streams, .. } => c.session.update(|s| {
            for info in streams {
                if s.stream(&info.id).is_none() {
                    let mut stream = crate::model::Stream::new(
                        info.id.clone(),
                        info.unit.clone().unwrap_or_default(),
                        Origin::Live { url: url.clone() },
                    );
                    stream.settings.lsl = info.lsl;
                    stream.settings.usl = info.usl;
                    s.streams.push(stream);
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
            if let Some(st) = s.stream_mut(&stream) {
                st.stale =
                    (state == StreamState::Stale).then(|| reason.unwrap_or_else(|| "stale".into()));
            }
        }),
        ServerFrame::Gap { missed } => c.notice.set(Some(format!(
            "{missed} samples were lost while disconnected from {url}"
        ))),
    }
}

fn gather(link: &Rc<RefCell<Link>>, s: llmscope_protocol::Sample) {
    let mut l = link.borrow_mut();
    l.since = Some(s.seq);
    l.pending.push(s);
}

fn flush(c: Ctx, link: &Rc<RefCell<Link>>) {
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
    });
}
