//! Share links in the browser: making one from the open session (in the fragment, or sealed
//! and uploaded to the probe Worker), opening one (read-only), and copying a shared session
//! into one's own. The format is `share`'s; this module does the I/O around it.

use crate::export::share::{self, Link, ShareError, Shared, View};
use crate::model::Session;
use crate::ui::{Controls, Data, Nav};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// `n` random bytes from Web Crypto.
fn random<const N: usize>() -> Result<[u8; N], String> {
    let mut bytes = [0u8; N];
    let crypto = web_sys::window()
        .ok_or("no window")?
        .crypto()
        .map_err(|_| "this browser has no Web Crypto")?;
    crypto
        .get_random_values_with_u8_array(&mut bytes)
        .map_err(|_| "crypto.getRandomValues failed")?;
    Ok(bytes)
}

/// The page's address without its fragment.
fn page_url() -> String {
    web_sys::window()
        .and_then(|w| w.location().href().ok())
        .map(|h| h.split('#').next().unwrap_or_default().to_string())
        .unwrap_or_default()
}

async fn fetch(request: web_sys::Request) -> Result<web_sys::Response, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response = wasm_bindgen_futures::JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|_| "cannot reach the Worker (is it up, and does it allow this origin?)")?;
    response
        .dyn_into()
        .map_err(|_| "not a response".to_string())
}

/// The body, at most [`share::MAX_SEALED`] bytes of it: a larger one is refused before it is
/// copied into the app's memory (the `w=` server is whoever made the link).
async fn body_bytes(response: &web_sys::Response) -> Result<Vec<u8>, ShareError> {
    let too_large = |bytes: f64| {
        ShareError::Oversized(format!(
            "the Worker sent {bytes} bytes; this app opens at most {} MiB",
            share::MAX_SEALED / (1024 * 1024)
        ))
    };
    let length = response.headers().get("Content-Length").ok().flatten();
    if let Some(n) = length.and_then(|n| n.trim().parse::<f64>().ok()) {
        if n > share::MAX_SEALED as f64 {
            return Err(too_large(n));
        }
    }
    let buffer = response
        .array_buffer()
        .map_err(|_| ShareError::Worker("no body".into()))?;
    let buffer = wasm_bindgen_futures::JsFuture::from(buffer)
        .await
        .map_err(|_| ShareError::Worker("the body could not be read".into()))?;
    let bytes = js_sys::Uint8Array::new(&buffer);
    if bytes.length() as usize > share::MAX_SEALED {
        return Err(too_large(f64::from(bytes.length())));
    }
    Ok(bytes.to_vec())
}

/// Seals the session and stores it on the Worker; the link carries the key.
async fn upload(shared: &Shared, worker: &str, token: &str) -> Result<String, String> {
    let key = random::<32>()?;
    let nonce = random::<12>()?;
    let pack = crate::lazy::Pack::load().await?;
    let sealed = share::seal(shared, &key, &nonce, &pack);
    if sealed.len() <= 13 {
        return Err("the session could not be encrypted: reload the page and try again".into());
    }
    let base = worker.trim_end_matches('/');
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_mode(web_sys::RequestMode::Cors);
    let body = js_sys::Uint8Array::from(sealed.as_slice());
    init.set_body(&body);
    let request = web_sys::Request::new_with_str_and_init(&format!("{base}/share"), &init)
        .map_err(|_| format!("bad Worker URL {base}"))?;
    let _ = request
        .headers()
        .set("Authorization", &format!("Bearer {token}"));
    let _ = request
        .headers()
        .set("Content-Type", "application/octet-stream");
    let response = fetch(request).await?;
    let text = wasm_bindgen_futures::JsFuture::from(response.text().map_err(|_| "no body")?)
        .await
        .ok()
        .and_then(|t| t.as_string())
        .unwrap_or_default();
    let answer: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    if response.status() != 201 {
        let why = answer["error"].as_str().unwrap_or(&text).to_string();
        return Err(format!(
            "the Worker refused the share (HTTP {}): {why}",
            response.status()
        ));
    }
    let id = answer["id"].as_str().ok_or("the Worker answered no id")?;
    Ok(format!(
        "{}#share={id}&key={}&w={}",
        page_url(),
        share::b64(&key),
        js_sys::encode_uri_component(base)
    ))
}

/// Makes a link for the open session and view; sessions too large for the fragment go through
/// the polled probe Worker. Tokens are never part of the session, so never of the link.
pub fn make(d: Data, nav: Nav, k: Controls) {
    let shared = Shared {
        session: d.session.get_untracked(),
        view: View {
            stream: nav.selected.get_untracked(),
            range: nav.range.get_untracked(),
        },
        created_ms: js_sys::Date::now(),
    };
    if let Err(e) = share::check_size(&shared) {
        d.notice.set(Some(e.to_string()));
        return;
    }
    wasm_bindgen_futures::spawn_local(async move {
        let pack = match crate::lazy::Pack::load().await {
            Ok(pack) => pack,
            Err(e) => return d.notice.set(Some(e)),
        };
        match share::to_fragment(&shared, &pack) {
            Ok(payload) => {
                k.share_link
                    .set(Some(format!("{}#s={payload}", page_url())));
                d.notice.set(Some(format!(
                    "share link made ({} characters); the data is in the link itself",
                    payload.len() + 3
                )));
            }
            Err(too_large @ ShareError::TooLarge { .. }) => {
                let Some((worker, token)) = k.worker.get_untracked() else {
                    d.notice.set(Some(too_large.to_string()));
                    return;
                };
                d.notice
                    .set(Some("encrypting and uploading to the Worker…".into()));
                match upload(&shared, &worker, &token).await {
                    Ok(link) => {
                        k.share_link.set(Some(link));
                        d.notice.set(Some(
                            "share link made: the session is stored encrypted on the Worker; the key is only in the link".into(),
                        ));
                    }
                    Err(e) => d.notice.set(Some(e)),
                }
            }
            Err(e) => d.notice.set(Some(e.to_string())),
        }
    });
}

/// The shared session in the page's fragment, if it holds a link: `None` when it does not,
/// else the session or why it cannot be opened.
pub async fn opened() -> Option<Result<Shared, ShareError>> {
    let hash = web_sys::window()?.location().hash().ok()?;
    let link = share::parse_fragment(&hash)?;
    let pack = match crate::lazy::Pack::load().await {
        Ok(pack) => pack,
        Err(e) => return Some(Err(ShareError::Worker(e))),
    };
    Some(match link {
        Link::Inline(payload) => share::from_fragment(&payload, &pack),
        Link::Stored { id, key, worker } => fetch_stored(&id, &key, worker.as_deref(), &pack).await,
    })
}

async fn fetch_stored(
    id: &str,
    key: &str,
    worker: Option<&str>,
    pack: &crate::lazy::Pack,
) -> Result<Shared, ShareError> {
    let key = share::unb64(key)?;
    let worker = worker.ok_or_else(|| ShareError::Damaged("no Worker address".into()))?;
    let url = format!("{}/share/{id}", worker.trim_end_matches('/'));
    let init = web_sys::RequestInit::new();
    init.set_method("GET");
    init.set_mode(web_sys::RequestMode::Cors);
    let request = web_sys::Request::new_with_str_and_init(&url, &init)
        .map_err(|_| ShareError::Damaged("a bad Worker address".into()))?;
    let response = fetch(request).await.map_err(ShareError::Worker)?;
    match response.status() {
        200 => {}
        404 | 400 => return Err(ShareError::NotFound),
        code => return Err(ShareError::Worker(format!("{url}: HTTP {code}"))),
    }
    let sealed = body_bytes(&response).await?;
    share::open(&sealed, &key, pack)
}

/// Adds the shared streams to `own`; a name already taken gets " (shared)" (then a number).
/// The shared Compare setup, if any, replaces `own`'s.
pub fn merge(mut own: Session, shared: Session) -> Session {
    for mut stream in shared.streams {
        let base = format!("{} (shared)", stream.id);
        let mut name = stream.id.clone();
        let mut n = 1;
        while own.stream(&name).is_some() {
            name = if n == 1 {
                base.clone()
            } else {
                format!("{base} {n}")
            };
            n += 1;
        }
        stream.id = name;
        own.streams.push(stream);
    }
    if shared.compare.is_some() {
        own.compare = shared.compare;
    }
    own
}

/// Copies the shared session into the user's own (IndexedDB), then opens their own dashboard.
pub fn copy_into_mine(c: Data) {
    let shared = c.session.get_untracked();
    wasm_bindgen_futures::spawn_local(async move {
        let own = match within(COPY_WAIT, crate::idb::load()).await {
            Some(Ok(own)) => own.unwrap_or_default(),
            Some(Err(e)) => {
                c.notice.set(Some(format!(
                    "cannot read your session, so nothing was copied: {e}"
                )));
                return;
            }
            None => {
                c.notice.set(Some(format!(
                    "nothing was copied: your saved session did not answer within {} s (another \
                     tab of this dashboard may be holding it: close other tabs of this page and try again)",
                    COPY_WAIT.as_secs()
                )));
                return;
            }
        };
        if let Err(e) = crate::idb::save(&merge(own, shared)).await {
            c.notice.set(Some(format!("cannot save: {e}")));
            return;
        }
        leave();
    });
}

/// How long copying waits for the saved session. IndexedDB can stall without an error (another
/// tab, or a page frozen in the back/forward cache, mid-upgrade), and a click must not hang.
const COPY_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// `task`'s outcome, or `None` when it takes longer than `wait` (it then runs on, ignored).
async fn within<T: 'static>(
    wait: std::time::Duration,
    task: impl std::future::Future<Output = T> + 'static,
) -> Option<T> {
    let slot = std::rc::Rc::new(std::cell::RefCell::new(None));
    let fill = slot.clone();
    wasm_bindgen_futures::spawn_local(async move {
        *fill.borrow_mut() = Some(task.await);
    });
    let started = js_sys::Date::now();
    while slot.borrow().is_none() && js_sys::Date::now() - started < wait.as_millis() as f64 {
        crate::sources::import::sleep(std::time::Duration::from_millis(20)).await;
    }
    let outcome = slot.borrow_mut().take();
    outcome
}

/// Back to the user's own session: the page without the link.
pub fn leave() {
    if let Some(w) = web_sys::window() {
        let _ = w.location().set_href(&page_url());
    }
}
