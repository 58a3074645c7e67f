//! The workspace panel in the page: a `<section data-testid="workspace">` put before the
//! dashboard's `<main>`, written from [`Panel`] by `html::render` after each change, with one
//! click and one submit handler; the Worker's endpoints fetched with the member's token; the
//! remembered sign-in in `sessionStorage` (this tab only, never `localStorage`). The token is
//! kept in memory, here and in the dashboard's probe connection (`window.llmscopeTeamHost`,
//! `connect`), which polls the Worker with it; signing out forgets it in both.

use super::{html, member, opened, said, save_body, slug, view_stream, Conflict, Listed, Panel};
use js_sys::{Function, Reflect};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{HtmlElement, HtmlInputElement};

/// The `sessionStorage` key of a sign-in remembered on this tab: `{"url", "token"}`.
const REMEMBERED: &str = "llmscope.signin";

thread_local! {
    static PANEL: RefCell<Panel> = RefCell::new(Panel::default());
    static ROOT: RefCell<Option<HtmlElement>> = const { RefCell::new(None) };
    /// The panel's HTML as last written.
    static LAST: RefCell<String> = const { RefCell::new(String::new()) };
    /// The signed-in member's token (memory only).
    static TOKEN: RefCell<String> = const { RefCell::new(String::new()) };
}

fn window() -> Result<web_sys::Window, String> {
    web_sys::window().ok_or_else(|| "no window".into())
}

/// Shows the panel. `start`: at the page's start, with the version of the Worker that serves
/// the page (empty when none: a remembered sign-in); `None`: the header's button, which
/// shows or hides it.
pub async fn open(start: Option<String>) -> Result<(), String> {
    if !app_ready().await {
        return Ok(()); // a shared session, shown read-only: no workspace
    }
    let root = mount()?;
    match start {
        Some(version) => {
            if !version.is_empty() {
                let origin = window()?.location().origin().unwrap_or_default();
                PANEL.with_borrow_mut(|p| {
                    p.served_by = Some(version);
                    if p.url.is_empty() {
                        p.url = origin;
                    }
                });
                root.set_hidden(false);
            }
        }
        None => root.set_hidden(!root.hidden()),
    }
    render();
    if PANEL.with_borrow(|p| p.me.is_none()) {
        if let Some((url, token)) = remembered() {
            sign_in(url, token, true).await;
        }
    }
    Ok(())
}

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Waits (at most 20 s) for the dashboard to show the user's own session: at the page's
/// start the module may be ready first. A shared session never is.
async fn app_ready() -> bool {
    for _ in 0..200 {
        if host("ready", "", "").is_ok_and(|r| r == "ready") {
            return true;
        }
        sleep(100).await;
    }
    false
}

/// The panel's element, made and wired the first time.
fn mount() -> Result<HtmlElement, String> {
    if let Some(root) = ROOT.with_borrow(Clone::clone) {
        return Ok(root);
    }
    let document = window()?.document().ok_or("no document")?;
    let root: HtmlElement = document
        .create_element("section")
        .map_err(|_| "cannot make the workspace's element")?
        .unchecked_into();
    root.set_class_name("team");
    let _ = root.set_attribute("data-testid", "workspace");
    let _ = root.set_attribute("aria-label", "Workspace");
    root.set_hidden(true);
    match document.query_selector("main").ok().flatten() {
        Some(main) => {
            let _ = main.before_with_node_1(&root);
        }
        None => {
            let body = document.body().ok_or("no body")?;
            let _ = body.append_child(&root);
        }
    }
    let click = Closure::<dyn Fn(web_sys::Event)>::new(|ev: web_sys::Event| {
        let Some(button) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|e| e.closest("[data-action]").ok().flatten())
        else {
            return;
        };
        let action = button.get_attribute("data-action").unwrap_or_default();
        let id = button.get_attribute("data-id").unwrap_or_default();
        spawn_local(act(action, id));
    });
    let submit = Closure::<dyn Fn(web_sys::Event)>::new(|ev: web_sys::Event| {
        ev.prevent_default();
        let remember = checked("remember");
        spawn_local(sign_in(field("url"), field("token"), remember));
    });
    let _ = root.add_event_listener_with_callback("click", click.as_ref().unchecked_ref());
    let _ = root.add_event_listener_with_callback("submit", submit.as_ref().unchecked_ref());
    // They listen for the page's whole life.
    click.forget();
    submit.forget();
    ROOT.set(Some(root.clone()));
    Ok(root)
}

/// Writes the panel from its state.
fn render() {
    let Some(root) = ROOT.with_borrow(Clone::clone) else {
        return;
    };
    let html = PANEL.with_borrow(html::render);
    if LAST.with_borrow(|last| *last != html) {
        root.set_inner_html(&html);
        LAST.set(html);
    }
}

/// Changes the state, then writes the panel.
fn update(f: impl FnOnce(&mut Panel)) {
    PANEL.with_borrow_mut(f);
    render();
}

fn say(words: impl Into<String>) {
    let words = words.into();
    update(|p| {
        p.status = words;
        p.busy = false;
    });
}

/// The panel's input `name`.
fn input(name: &str) -> Option<HtmlInputElement> {
    let root = ROOT.with_borrow(Clone::clone)?;
    root.query_selector(&format!("[name={name}]"))
        .ok()
        .flatten()?
        .dyn_into()
        .ok()
}

fn field(name: &str) -> String {
    input(name).map(|i| i.value()).unwrap_or_default()
}

fn checked(name: &str) -> bool {
    input(name).is_some_and(|i| i.checked())
}

/// The dashboard's answer to `op` (`window.llmscopeTeamHost`, the main module's `team_host`),
/// empty before the dashboard shows the user's own session.
fn host(op: &str, a: &str, b: &str) -> Result<String, String> {
    let window: JsValue = window()?.into();
    let Some(f) = Reflect::get(&window, &"llmscopeTeamHost".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
    else {
        return Ok(String::new());
    };
    f.call3(&JsValue::NULL, &op.into(), &a.into(), &b.into())
        .map(|v| v.as_string().unwrap_or_default())
        .map_err(|_| format!("the dashboard could not {op}"))
}

/// The sign-in remembered on this tab.
fn remembered() -> Option<(String, String)> {
    let storage = window().ok()?.session_storage().ok().flatten()?;
    let text = storage.get_item(REMEMBERED).ok().flatten()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some((
        v["url"].as_str()?.to_string(),
        v["token"].as_str()?.to_string(),
    ))
}

/// Remembers the sign-in on this tab, or forgets it (`None`).
fn remember(sign_in: Option<(&str, &str)>) {
    let Some(storage) = window()
        .ok()
        .and_then(|w| w.session_storage().ok().flatten())
    else {
        return;
    };
    let _ = match sign_in {
        Some((url, token)) => storage.set_item(
            REMEMBERED,
            &serde_json::json!({"url": url, "token": token}).to_string(),
        ),
        None => storage.remove_item(REMEMBERED),
    };
}

/// One request to the Worker at `url` with `token`: its status and body.
async fn request(
    method: &str,
    url: &str,
    token: &str,
    body: Option<&str>,
    if_match: Option<i64>,
) -> Result<(u16, String), String> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        init.set_body(&body.into());
    }
    let request = web_sys::Request::new_with_str_and_init(url, &init)
        .map_err(|_| format!("bad URL {url}"))?;
    let headers = request.headers();
    let _ = headers.set("Authorization", &format!("Bearer {token}"));
    if body.is_some() {
        let _ = headers.set("Content-Type", "application/json");
    }
    if let Some(v) = if_match {
        let _ = headers.set("If-Match", &format!("\"{v}\""));
    }
    let answer = JsFuture::from(window()?.fetch_with_request(&request))
        .await
        .map_err(|_| {
            format!("cannot reach {url} (is the Worker up, and does it allow this origin?)")
        })?;
    let answer: web_sys::Response = answer.dyn_into().map_err(|_| "not a response")?;
    let text = JsFuture::from(answer.text().map_err(|_| "no body")?)
        .await
        .ok()
        .and_then(|t| t.as_string())
        .unwrap_or_default();
    Ok((answer.status(), text))
}

/// A request to the signed-in Worker, at `path`.
async fn call(
    method: &str,
    path: &str,
    body: Option<&str>,
    if_match: Option<i64>,
) -> Result<(u16, String), String> {
    let url = PANEL.with_borrow(|p| p.url.clone());
    let token = TOKEN.with_borrow(Clone::clone);
    if token.is_empty() {
        return Err("not signed in".into());
    }
    request(method, &format!("{url}{path}"), &token, body, if_match).await
}

/// What the panel's buttons do.
async fn act(action: String, id: String) {
    if PANEL.with_borrow(|p| p.busy) {
        return;
    }
    match action.as_str() {
        "close" => {
            if let Some(root) = ROOT.with_borrow(Clone::clone) {
                root.set_hidden(true);
            }
        }
        "dismiss" => update(|p| p.dismissed = true),
        "signout" => sign_out(),
        "refresh" => settle(|_| {}).await,
        "open" => open_dashboard(&id).await,
        "delete" => update(|p| p.deleting = p.dashboards.iter().find(|d| d.id == id).cloned()),
        "delete-cancel" => update(|p| p.deleting = None),
        "delete-confirm" => delete().await,
        "save" => save().await,
        "save-as" => {
            let name = field("name");
            save_as(name.trim()).await;
        }
        "save-copy" => {
            let (name, me) = PANEL.with_borrow(|p| {
                let name = p
                    .conflict
                    .as_ref()
                    .map(|c| c.name.clone())
                    .unwrap_or_default();
                (
                    name,
                    p.me.as_ref().map(|m| m.name.clone()).unwrap_or_default(),
                )
            });
            save_as(&format!("{name} (copy by {me})")).await;
        }
        "reload" => {
            let id = PANEL.with_borrow(|p| p.opened.as_ref().map(|o| o.id.clone()));
            if let Some(id) = id {
                open_dashboard(&id).await;
            }
        }
        _ => {}
    }
}

/// Signs in to the Worker at `url` with `token`: `/health` names the member and role, then
/// the dashboard polls the Worker with the token, and the workspace's dashboards are listed.
async fn sign_in(url: String, token: String, keep: bool) {
    let url = url.trim().trim_end_matches('/').to_string();
    let token = token.trim().to_string();
    if url.is_empty() || token.is_empty() {
        say("type the Worker's URL and your member token");
        return;
    }
    update(|p| {
        p.busy = true;
        p.status = format!("signing in to {url}…");
    });
    let answer = request("GET", &format!("{url}/health"), &token, None, None).await;
    let me = match answer {
        Ok((200, text)) => member(&text),
        Ok((401, _)) => Err(format!(
            "{url} refused this token: it is missing, wrong, revoked or expired"
        )),
        Ok((status, text)) => Err(format!("{url}/health: {}", said(status, &text))),
        Err(e) => Err(e),
    };
    let me = match me {
        Ok(me) => me,
        Err(e) => {
            say(e);
            return;
        }
    };
    if let Err(e) = host("connect", &url, &token) {
        say(e);
        return;
    }
    remember(keep.then_some((url.as_str(), token.as_str())));
    TOKEN.set(token);
    PANEL.with_borrow_mut(|p| p.url = url);
    settle(|p| {
        p.status = format!("signed in as {} ({})", me.name, me.role.as_str());
        p.me = Some(me);
    })
    .await;
}

/// Signs out: the dashboard stops polling the Worker and forgets the token, and so does this
/// tab's storage.
fn sign_out() {
    let url = PANEL.with_borrow(|p| p.url.clone());
    let _ = host("signout", &url, "");
    TOKEN.take();
    remember(None);
    update(|p| {
        *p = Panel {
            served_by: p.served_by.clone(),
            url: p.url.clone(),
            dismissed: true,
            status: "signed out: the token is forgotten".into(),
            ..Panel::default()
        }
    });
}

/// A request is on its way: the buttons wait (without writing the panel again, so nothing a
/// click or a test holds is replaced under it).
fn busy() {
    PANEL.with_borrow_mut(|p| p.busy = true);
}

/// Lists the workspace's dashboards anew, then changes the state with `f` and writes the
/// panel once.
async fn settle(f: impl FnOnce(&mut Panel)) {
    busy();
    let listed = match call("GET", "/dashboards", None, None).await {
        Ok((200, text)) => super::listed(&text),
        Ok((status, text)) => Err(format!("GET /dashboards: {}", said(status, &text))),
        Err(e) => Err(e),
    };
    update(|p| {
        f(p);
        match listed {
            Ok(all) => p.dashboards = all,
            Err(e) => p.status = e,
        }
        p.busy = false;
    });
}

fn encode(id: &str) -> String {
    String::from(js_sys::encode_uri_component(id))
}

/// Opens dashboard `id`: its saved view is put on the dashboard's session.
async fn open_dashboard(id: &str) {
    busy();
    let answer = match call("GET", &format!("/dashboards/{}", encode(id)), None, None).await {
        Ok((200, text)) => opened(&text),
        Ok((status, text)) => Err(format!("GET /dashboards/{id}: {}", said(status, &text))),
        Err(e) => Err(e),
    };
    let (d, body) = match answer {
        Ok(found) => found,
        Err(e) => return say(e),
    };
    match host("open", &body, &view_stream(&body)) {
        Ok(problem) if problem.is_empty() => {
            settle(|p| {
                let by = d
                    .saved_by
                    .as_ref()
                    .map_or(String::new(), |b| format!(", saved by {b}"));
                p.status = format!(
                    "opened “{}”, version {}{by}: its streams, settings, baselines, annotations \
                     and comparison are on this page as saved",
                    d.name, d.version
                );
                p.opened = Some(d);
                p.conflict = None;
            })
            .await;
        }
        Ok(problem) | Err(problem) => say(problem),
    }
}

/// The view to save.
fn body(name: &str) -> Result<String, String> {
    if PANEL.with_borrow(|p| p.me.is_none()) {
        return Err("sign in first".into());
    }
    save_body(name, &host("view", "", "")?)
}

/// Saves the view over the opened dashboard, if nobody saved it since it was opened; else
/// the conflict is shown and nothing changes on either side.
async fn save() {
    let Some(o) = PANEL.with_borrow(|p| p.opened.clone()) else {
        return;
    };
    let typed = field("name");
    let name = Some(typed.trim())
        .filter(|n| !n.is_empty())
        .unwrap_or(&o.name)
        .to_string();
    let body = match body(&name) {
        Ok(b) => b,
        Err(e) => return say(e),
    };
    busy();
    let path = format!("/dashboards/{}", encode(&o.id));
    match call("PUT", &path, Some(&body), Some(o.version)).await {
        Ok((200, text)) => saved(o.id, name, &text).await,
        Ok((409, _)) => {
            let now = call("GET", &path, None, None).await;
            let (theirs, by) = match now.map(|(status, text)| (status, opened(&text))) {
                Ok((200, Ok((d, _)))) => (d.version, d.saved_by),
                _ => (0, None),
            };
            settle(|p| {
                p.conflict = Some(Conflict {
                    name: o.name.clone(),
                    by,
                    mine: o.version,
                    theirs,
                });
                p.status = "not saved: the dashboard changed since you opened it".into();
            })
            .await;
        }
        Ok((status, text)) => say(format!("PUT {path}: {}", said(status, &text))),
        Err(e) => say(e),
    }
}

/// Saves the view as a new dashboard named `name` (its id from the name; `-2`, `-3`... when
/// taken).
async fn save_as(name: &str) {
    if name.is_empty() {
        return say("type the new dashboard's name");
    }
    let body = match body(name) {
        Ok(b) => b,
        Err(e) => return say(e),
    };
    busy();
    for n in 1..=20 {
        let id = slug(name, n);
        match call("PUT", &format!("/dashboards/{id}"), Some(&body), None).await {
            Ok((200, text)) => return saved(id, name.to_string(), &text).await,
            Ok((409, _)) => continue,
            Ok((status, text)) => {
                return say(format!("PUT /dashboards/{id}: {}", said(status, &text)))
            }
            Err(e) => return say(e),
        }
    }
    say(format!(
        "“{name}”: 20 dashboards have ids like it; choose another name"
    ));
}

/// A save answered 200 `{"version"}`: it is the opened dashboard now, saved by the member
/// signed in (whom the Worker recorded from the same token).
async fn saved(id: String, name: String, answer: &str) {
    let v: serde_json::Value = serde_json::from_str(answer).unwrap_or_default();
    let version = v["version"].as_i64().unwrap_or(0);
    settle(|p| {
        p.status = format!("saved “{name}” as version {version}");
        let saved_by = p.me.as_ref().map(|m| m.name.clone());
        p.opened = Some(Listed {
            id,
            name,
            version,
            saved_by,
        });
        p.conflict = None;
    })
    .await;
}

/// Deletes the dashboard whose deletion was confirmed (`DELETE /dashboards/{id}`); the view on
/// this page stays, and the workspace's list is read anew.
async fn delete() {
    let Some(d) = PANEL.with_borrow(|p| p.deleting.clone()) else {
        return;
    };
    busy();
    let path = format!("/dashboards/{}", encode(&d.id));
    let status = match call("DELETE", &path, None, None).await {
        Ok((204, _)) => format!("deleted “{}”", d.name),
        Ok((status, text)) => format!("DELETE {path}: {}", said(status, &text)),
        Err(e) => e,
    };
    settle(|p| {
        if p.opened.as_ref().is_some_and(|o| o.id == d.id) {
            p.opened = None;
        }
        p.deleting = None;
        p.status = status;
    })
    .await;
}
