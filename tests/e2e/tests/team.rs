//! Teams on the Worker (issue 16), the dashboard's side, end to end: the probe Worker under
//! `wrangler dev` serves the built dashboard (`[assets]`) and its API on one origin, members
//! are made with the bootstrap `LLMSCOPE_TOKEN`, and three headless Chromiums sign in as two
//! editors and a viewer. The page offers to sign in to the Worker that serves it; each sees
//! their name and role; an editor saves the view as a dashboard and the other reopens it
//! with the view restored (the open stream, its tests and baseline); the two editors race on
//! it, and the second is told who saved first (the Worker's `saved_by`), keeps its change on
//! the page and saves it as a copy (both changes stored); the Compare view's setup travels
//! with the dashboard; opening one keeps its stream order and seen marks; an editor deletes
//! the copy after confirming; the viewer lists and opens dashboards but cannot save or delete. A
//! member's token is never in the URL, localStorage, IndexedDB, a dashboard or a share
//! link, and is in sessionStorage only when "remember on this tab" was ticked.

use fantoccini::{Client, Locator};
use llmscope_e2e::{
    click, eventually, js, saved_session, screenshot_at, set, text_of, type_into, wait_for, Driver,
    APP_MOUNTED, DEADLINE,
};
use llmscope_probe_tests::Wrangler;
use serde_json::{json, Value};

const BOOT: &str = "team-ui-bootstrap-token-5c1e07";
const STREAM: &str = "press1/barrel_temperature";

/// The Worker's API with the bootstrap token.
async fn api(wrangler: &Wrangler, method: &str, path: &str, body: Option<Value>) -> Value {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", wrangler.url))
        .bearer_auth(BOOT);
    if let Some(b) = body {
        request = request.body(b.to_string());
    }
    let answer = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let status = answer.status();
    let text = answer.text().await.unwrap_or_default();
    assert!(status.is_success(), "{path}: {status}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
}

/// A new member's token, made with the bootstrap token.
async fn member(wrangler: &Wrangler, name: &str, role: &str) -> String {
    let made = api(
        wrangler,
        "POST",
        "/members",
        Some(json!({"name": name, "role": role})),
    )
    .await;
    made["token"].as_str().expect("a token").to_string()
}

/// A browser with a fresh profile at the Worker's page, which offers to sign in to it.
async fn page(driver: &Driver, wrangler: &Wrangler) -> Client {
    let client = driver.browser().await;
    client.goto(&wrangler.url).await.expect("open the page");
    wait_for(&client, APP_MOUNTED, DEADLINE).await;
    let offer = wait_for(&client, "[data-testid=ask-worker]", DEADLINE).await;
    assert_eq!(
        offer.attr("data-version").await.ok().flatten().as_deref(),
        Some(env!("CARGO_PKG_VERSION")),
        "the page's own Worker is offered"
    );
    client
}

/// Signs in with `token` in the offer's form, ticking "remember on this tab" when asked, and
/// waits for the member's role.
async fn sign_in(client: &Client, token: &str, remember: bool, role: &str) {
    type_into(client, "signin-token", token).await;
    if remember {
        click(client, Locator::Css("[data-testid=signin-remember]")).await;
    }
    click(client, Locator::Css("[data-testid=signin]")).await;
    let css = format!("[data-testid=member-role][data-role={role}]");
    wait_for(client, &css, DEADLINE).await;
}

/// An input's value.
async fn value(client: &Client, testid: &str) -> String {
    let v = js(
        client,
        &format!("return document.querySelector('[data-testid={testid}]').value"),
    )
    .await;
    v.as_str().unwrap_or_default().to_string()
}

/// Waits until the opened dashboard is `id` at `version`.
async fn opened(client: &Client, id: &str, version: u32) {
    let css = format!("[data-testid=dashboard-opened][data-id='{id}'][data-version='{version}']");
    wait_for(client, &css, DEADLINE).await;
}

/// Opens the stream view of [`STREAM`] once the simulators have made it.
async fn open_stream(client: &Client) {
    let card = format!("//article[.//h2[. = '{STREAM}']]");
    eventually("the simulator's stream", DEADLINE, || async {
        client
            .find(Locator::XPath(&card))
            .await
            .map_err(|e| e.to_string())
    })
    .await;
    click(client, Locator::XPath(&card)).await;
    wait_for(client, "[data-testid=phase1]", DEADLINE).await;
}

/// Where the browser keeps things: its URL, every localStorage and sessionStorage value, and
/// the session saved in IndexedDB.
async fn kept(client: &Client) -> (String, String, String, String) {
    let url = client.current_url().await.expect("the URL").to_string();
    let local = js(client, "return JSON.stringify({...localStorage})").await;
    let tab = js(client, "return JSON.stringify({...sessionStorage})").await;
    let saved = saved_session(client, "current").await.to_string();
    let s = |v: Value| v.as_str().unwrap_or_default().to_string();
    (url, s(local), s(tab), saved)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_sign_in_see_their_role_and_save_dashboards_without_losing_a_change() {
    let vars = [("LLMSCOPE_TARGETS", "[]".to_string())];
    let wrangler = Wrangler::start("team-ui", &vars, &[("LLMSCOPE_TOKEN", BOOT)]).await;
    let ada_token = member(&wrangler, "Ada", "editor").await;
    let bo_token = member(&wrangler, "Bo", "editor").await;
    let cy_token = member(&wrangler, "Cy", "viewer").await;
    let driver = Driver::start();

    // Ada, an editor, signs in without "remember", sets a view up and saves it as "Ops".
    let ada = page(&driver, &wrangler).await;
    sign_in(&ada, &ada_token, false, "editor").await;
    assert_eq!(text_of(&ada, "member-name").await, "Ada");
    wait_for(&ada, "[data-testid=dashboard-none]", DEADLINE).await;
    open_stream(&ada).await;
    set(&ada, "tests", "1").await;
    set(&ada, "phase1", "30").await;
    // And a comparison over the stream view: a limit typed and "All pairs" ticked (the
    // settings show for targets), then machines with the first (the simulators' one) unticked.
    click(&ada, Locator::Css("[data-testid=compare-open]")).await;
    wait_for(&ada, "[data-testid=compare-all-pairs]", DEADLINE).await;
    set(&ada, "compare-max-error", "0.05").await;
    click(&ada, Locator::Css("[data-testid=compare-all-pairs]")).await;
    click(&ada, Locator::Css("[data-testid=compare-mode-machines]")).await;
    wait_for(&ada, "#compare-pick-0", DEADLINE).await;
    let unticked = js(
        &ada,
        "return document.getElementById('compare-pick-0').dataset.name",
    )
    .await;
    click(&ada, Locator::Css("#compare-pick-0")).await;
    click(&ada, Locator::Css("[data-testid=compare-open]")).await;
    wait_for(&ada, "[data-testid=phase1]", DEADLINE).await;
    type_into(&ada, "dashboard-name", "Ops").await;
    click(&ada, Locator::Css("[data-testid=dashboard-save-as]")).await;
    opened(&ada, "ops", 1).await;
    wait_for(&ada, "[data-testid=dashboard-row][data-id=ops]", DEADLINE).await;
    screenshot_at(&ada, "workspace", "team-workspace").await;
    // The body is the saved view: settings and the open stream, no points, no token.
    let ops = api(&wrangler, "GET", "/dashboards/ops", None).await;
    let body = &ops["body"];
    assert_eq!(ops["saved_by"], "Ada", "{ops}");
    assert!(body.get("saved_by").is_none(), "{body}");
    assert_eq!(body["view"]["stream"], STREAM, "{body}");
    let setup = &body["compare"];
    assert_eq!(
        (setup["machines"].clone(), setup["unticked"].clone()),
        (json!(true), json!([unticked])),
        "{body}"
    );
    assert_eq!(
        (
            setup["fields"]["max_error_rate"].clone(),
            setup["all_pairs"].clone()
        ),
        (json!("0.05"), json!(true)),
        "{body}"
    );
    let settings = |body: &Value| {
        let stream = body["streams"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["id"] == STREAM))
            .unwrap_or_else(|| panic!("{STREAM} in {body}"))
            .clone();
        (
            stream["settings"]["chart"]["tests"].clone(),
            stream["settings"]["chart"]["phase1"].clone(),
        )
    };
    assert_eq!(settings(body), (json!("1"), json!(30)));
    assert!(body["streams"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["len"] == 0));

    // Bo, the other editor, ticks "remember", opens "Ops": the same stream, tests, baseline.
    let bo = page(&driver, &wrangler).await;
    sign_in(&bo, &bo_token, true, "editor").await;
    wait_for(&bo, "[data-testid=dashboard-open][data-id=ops]", DEADLINE).await;
    click(
        &bo,
        Locator::Css("[data-testid=dashboard-open][data-id=ops]"),
    )
    .await;
    opened(&bo, "ops", 1).await;
    wait_for(&bo, "[data-testid=phase1]", DEADLINE).await;
    let url = bo.current_url().await.expect("a URL").to_string();
    assert!(
        url.ends_with("#stream=press1%2Fbarrel_temperature"),
        "{url}"
    );
    assert_eq!(
        (value(&bo, "tests").await, value(&bo, "phase1").await),
        ("1".to_string(), "30".to_string())
    );
    // Ada's comparison setup, on Bo's Compare view.
    click(&bo, Locator::Css("[data-testid=compare-open]")).await;
    eventually("Ada's comparison setup", DEADLINE, || async {
        let form = js(
            &bo,
            "const q = s => document.querySelector(s); \
             return [q('[data-testid=compare-mode-machines]').checked, \
             [...document.querySelectorAll('[data-testid=compare-pick]')].filter(b => !b.checked).map(b => b.dataset.name), \
             q('[data-testid=compare-max-error]').value, q('[data-testid=compare-all-pairs]').checked]",
        )
        .await;
        if form == json!([true, [unticked.clone()], "0.05", true]) {
            Ok(())
        } else {
            Err(form.to_string())
        }
    })
    .await;
    click(&bo, Locator::Css("[data-testid=compare-open]")).await;
    wait_for(&bo, "[data-testid=phase1]", DEADLINE).await;

    // Both have version 1 open. Ada saves a change first; Bo's save of another is refused,
    // said in words, and stays on Bo's page, which saves it as a copy: both changes stored.
    set(&ada, "tests", "1,2").await;
    click(&ada, Locator::Css("[data-testid=dashboard-save]")).await;
    opened(&ada, "ops", 2).await;
    set(&bo, "phase1", "40").await;
    click(&bo, Locator::Css("[data-testid=dashboard-save]")).await;
    let conflict = wait_for(&bo, "[data-testid=dashboard-conflict]", DEADLINE).await;
    let words = conflict.text().await.unwrap_or_default();
    assert!(
        words.contains("Ada saved a newer version of “Ops” (version 2; you opened version 1)")
            && words.contains("reload theirs, or save yours as a copy"),
        "{words}"
    );
    assert_eq!(
        value(&bo, "phase1").await,
        "40",
        "Bo's change is still on the page"
    );
    screenshot_at(&bo, "workspace", "team-conflict").await;
    assert_eq!(
        settings(&api(&wrangler, "GET", "/dashboards/ops", None).await["body"]),
        (json!("1,2"), json!(30))
    );
    click(&bo, Locator::Css("[data-testid=dashboard-save-copy]")).await;
    opened(&bo, "ops-copy-by-bo", 1).await;
    let list = api(&wrangler, "GET", "/dashboards", None).await;
    assert_eq!(
        list,
        json!([{"id": "ops", "name": "Ops", "version": 2, "saved_by": "Ada"},
               {"id": "ops-copy-by-bo", "name": "Ops (copy by Bo)", "version": 1, "saved_by": "Bo"}])
    );
    let copy = api(&wrangler, "GET", "/dashboards/ops-copy-by-bo", None).await;
    assert_eq!(settings(&copy["body"]), (json!("1"), json!(40)));
    assert_eq!(copy["saved_by"], "Bo");

    // Cy, a viewer, sees both and opens one, but saving is off, with the reason.
    let cy = page(&driver, &wrangler).await;
    sign_in(&cy, &cy_token, false, "viewer").await;
    eventually("both dashboards listed", DEADLINE, || async {
        let rows = js(&cy, "return [...document.querySelectorAll('[data-testid=dashboard-row]')].map(r => r.dataset.id + ' ' + r.dataset.version)").await;
        if rows == json!(["ops 2", "ops-copy-by-bo 1"]) {
            Ok(())
        } else {
            Err(rows.to_string())
        }
    })
    .await;
    click(
        &cy,
        Locator::Css("[data-testid=dashboard-open][data-id=ops]"),
    )
    .await;
    opened(&cy, "ops", 2).await;
    wait_for(&cy, "[data-testid=phase1]", DEADLINE).await;
    assert_eq!(value(&cy, "tests").await, "1,2");
    for testid in ["dashboard-save", "dashboard-save-as"] {
        let disabled = js(
            &cy,
            &format!("const b = document.querySelector('[data-testid={testid}]'); return [b.disabled, b.title]"),
        )
        .await;
        assert_eq!(disabled[0], true, "{testid}: {disabled}");
        assert!(
            disabled[1]
                .as_str()
                .unwrap_or_default()
                .contains("read-only"),
            "{disabled}"
        );
    }
    assert!(text_of(&cy, "dashboard-readonly").await.contains("viewer"));
    let delete_off = js(
        &cy,
        "return [...document.querySelectorAll('[data-testid=dashboard-delete]')].map(b => b.disabled && b.title.includes('read-only'))",
    )
    .await;
    assert_eq!(delete_off, json!([true, true]));
    click(&cy, Locator::Css("[data-testid=dashboard-save]")).await;
    assert_eq!(
        api(&wrangler, "GET", "/dashboards", None).await,
        list,
        "nothing saved"
    );

    // Opening shows the view as saved: its stream order and seen marks, not merged. The
    // stored view gets its streams reversed and a seen mark, as another page could have
    // saved it; Cy opens it and has that order first and that mark.
    let mut body = api(&wrangler, "GET", "/dashboards/ops", None).await["body"].clone();
    let mut ids: Vec<Value> = body["streams"]
        .as_array()
        .map(|s| s.iter().map(|s| s["id"].clone()).collect())
        .unwrap_or_default();
    ids.reverse();
    if let Some(streams) = body["streams"].as_array_mut() {
        streams.reverse();
    }
    // Not the open stream's: opening a stream's view marks its signals seen.
    let other = ids
        .iter()
        .filter_map(Value::as_str)
        .find(|id| *id != STREAM)
        .expect("another stream")
        .to_string();
    body["acknowledged"] = json!({ other.clone(): 123456.0 });
    let answer = reqwest::Client::new()
        .put(format!("{}/dashboards/ops", wrangler.url))
        .bearer_auth(BOOT)
        .header("if-match", "2")
        .body(json!({"name": "Ops", "body": body}).to_string())
        .send()
        .await
        .expect("PUT /dashboards/ops");
    assert_eq!(answer.status().as_u16(), 200);
    click(&cy, Locator::Css("[data-testid=dashboard-refresh]")).await;
    wait_for(
        &cy,
        "[data-testid=dashboard-row][data-id=ops][data-version='3']",
        DEADLINE,
    )
    .await;
    click(
        &cy,
        Locator::Css("[data-testid=dashboard-open][data-id=ops]"),
    )
    .await;
    opened(&cy, "ops", 3).await;
    eventually("the saved order and seen marks", DEADLINE, || async {
        let saved = saved_session(&cy, "current").await;
        let session = &saved["session"];
        let mine: Vec<Value> = session["streams"]
            .as_array()
            .map(|s| s.iter().map(|s| s["id"].clone()).collect())
            .unwrap_or_default();
        let seen = session["acknowledged"][other.as_str()].as_f64();
        if mine.len() >= ids.len() && mine[..ids.len()] == ids[..] && seen == Some(123456.0) {
            Ok(())
        } else {
            Err(format!("{mine:?} {seen:?}"))
        }
    })
    .await;

    // The tokens: never in a URL, localStorage, IndexedDB, a dashboard or a share link; in
    // sessionStorage only on Bo's tab, which ticked "remember".
    for (client, token, remembered) in [
        (&ada, &ada_token, false),
        (&bo, &bo_token, true),
        (&cy, &cy_token, false),
    ] {
        eventually("the session saved", DEADLINE, || async {
            let (_, _, _, saved) = kept(client).await;
            if saved.contains(STREAM) {
                Ok(())
            } else {
                Err(saved)
            }
        })
        .await;
        let (url, local, tab, saved) = kept(client).await;
        for (place, held) in [
            ("URL", &url),
            ("localStorage", &local),
            ("IndexedDB", &saved),
        ] {
            assert!(
                !held.contains(token.as_str()),
                "the token is in the {place}: {held}"
            );
        }
        assert_eq!(
            tab.contains(token.as_str()),
            remembered,
            "sessionStorage: {tab}"
        );
    }
    for id in ["ops", "ops-copy-by-bo"] {
        let d = api(&wrangler, "GET", &format!("/dashboards/{id}"), None)
            .await
            .to_string();
        for token in [&ada_token, &bo_token, &cy_token] {
            assert!(!d.contains(token.as_str()), "a token in dashboard {id}");
        }
    }
    click(&ada, Locator::Css("[data-testid=share]")).await;
    wait_for(&ada, "[data-testid=share-link]", DEADLINE).await;
    let link = value(&ada, "share-link").await;
    assert!(link.contains("#s="), "{link}");
    assert!(!link.contains(ada_token.as_str()), "{link}");

    // Bo's tab signs in again after a reload, with what it remembered; signing out forgets it.
    bo.refresh().await.expect("reload");
    wait_for(&bo, "[data-testid=member-role][data-role=editor]", DEADLINE).await;
    click(&bo, Locator::Css("[data-testid=signout]")).await;
    wait_for(&bo, "[data-testid=signin-token]", DEADLINE).await;
    let (_, _, tab, _) = kept(&bo).await;
    assert!(!tab.contains(bo_token.as_str()), "{tab}");
    // Ada deletes Bo's copy, after confirming; it is gone for everyone.
    click(&ada, Locator::Css("[data-testid=dashboard-refresh]")).await;
    let copy_row = "[data-testid=dashboard-delete][data-id=ops-copy-by-bo]";
    wait_for(&ada, copy_row, DEADLINE).await;
    click(&ada, Locator::Css(copy_row)).await;
    wait_for(
        &ada,
        "[data-testid=dashboard-delete-ask][data-id=ops-copy-by-bo]",
        DEADLINE,
    )
    .await;
    click(&ada, Locator::Css("[data-testid=dashboard-delete-confirm]")).await;
    eventually("the copy deleted", DEADLINE, || async {
        let rows = js(&ada, "return [...document.querySelectorAll('[data-testid=dashboard-row]')].map(r => r.dataset.id)").await;
        if rows == json!(["ops"]) {
            Ok(())
        } else {
            Err(rows.to_string())
        }
    })
    .await;
    let list = api(&wrangler, "GET", "/dashboards", None).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    for client in [ada, bo, cy] {
        let _ = client.close().await;
    }
}
