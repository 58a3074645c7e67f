//! Teams on the Worker (issue 16) through the real Worker in `wrangler dev` (local D1): the
//! permission matrix cell by cell (every endpoint and action, the alerts' too, × no token, a wrong, a revoked and
//! an expired token, each role, and the bootstrap owner), the audit log of every action that
//! changed something, the wrong-token throttle with member tokens, two editors racing on one
//! dashboard (who saved each version, as the Worker saw them; deleting), and targets replaced at run time changing what the next cron run probes.

use llmscope_probe_tests::{targets, Wrangler};
use llmscope_probes::team::token_hash;
use llmscope_standin::{Script, Standin};
use serde_json::{json, Value};
use std::sync::Mutex;

const BOOT: &str = "teams-bootstrap-token-8d41c2";
const KEY: &str = "sk-openai-teams-test-52ab90";
const SECRETS: [(&str, &str); 2] = [("LLMSCOPE_TOKEN", BOOT), ("OPENAI_API_KEY", KEY)];

fn quick() -> Script {
    Script {
        ttft_ms: 5,
        gap_ms: 1,
        chunks: 3,
        ..Script::default()
    }
}

fn target(name: &str, standin: &Standin) -> Value {
    let mut t = targets::target("openai", name, standin).expect("an OpenAI target");
    t["timeout_ms"] = json!(5000);
    t
}

/// The Worker's API, remembering every answer (to look for leaked secrets) but the ones that
/// hand out a member's token.
struct Api {
    http: reqwest::Client,
    url: String,
    seen: Mutex<String>,
}

impl Api {
    fn new(url: &str) -> Api {
        Api {
            http: reqwest::Client::new(),
            url: url.into(),
            seen: Mutex::default(),
        }
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        if_match: Option<i64>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        if let Some(v) = if_match {
            req = req.header("if-match", format!("\"{v}\""));
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text.clone()));
        if value.get("token").is_none() {
            self.seen.lock().unwrap().push_str(&text);
        }
        (status, value)
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        self.send(method, path, token, body, None).await
    }

    /// A new member, made by the bootstrap owner: (id, token).
    async fn member(&self, name: &str, role: &str, expires_at: Option<i64>) -> (String, String) {
        let mut body = json!({"name": name, "role": role});
        if let Some(e) = expires_at {
            body["expires_at"] = json!(e);
        }
        let (status, m) = self.call("POST", "/members", Some(BOOT), Some(&body)).await;
        assert_eq!(status, 201, "{m}");
        let token = m["token"].as_str().unwrap().to_string();
        assert_eq!(token.len(), 43, "{m}");
        assert_eq!(
            m,
            json!({"id": m["id"], "name": name, "role": role, "token": token, "expires_at": expires_at}),
        );
        (m["id"].as_str().unwrap().to_string(), token)
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Who calls, in the order each endpoint is called by them: the three refused tokens come
/// before the valid ones, whose success clears the throttle's count again, so the matrix never
/// trips it.
const CALLERS: [&str; 9] = [
    "none",
    "wrong",
    "revoked",
    "expired",
    "viewer",
    "editor",
    "admin",
    "owner",
    "bootstrap",
];

/// The least role each cell needs, written from issue 16's Roles table (not from the code's
/// matrix, which this checks): 0 viewer, 1 editor, 2 admin, 3 owner.
fn least_role(caller: &str) -> Option<usize> {
    match caller {
        "viewer" => Some(0),
        "editor" => Some(1),
        "admin" => Some(2),
        "owner" | "bootstrap" => Some(3),
        _ => None,
    }
}

/// One action of the matrix: a name, the least role (index) that may, the status it answers
/// when allowed, and whether it changes something (then the audit log gets its line).
struct Action {
    name: &'static str,
    least: usize,
    ok: u16,
    audit: Option<&'static str>,
}

const ACTIONS: [Action; 24] = [
    Action {
        name: "GET /results",
        least: 0,
        ok: 200,
        audit: None,
    },
    Action {
        name: "GET /targets",
        least: 0,
        ok: 200,
        audit: None,
    },
    Action {
        name: "GET /dashboards",
        least: 0,
        ok: 200,
        audit: None,
    },
    Action {
        name: "GET /dashboards/{id}",
        least: 0,
        ok: 200,
        audit: None,
    },
    Action {
        name: "GET /compare",
        least: 0,
        ok: 200,
        audit: None,
    },
    Action {
        name: "POST /probe/{t}",
        least: 1,
        ok: 200,
        audit: Some("probe"),
    },
    Action {
        name: "PUT /dashboards/{id}",
        least: 1,
        ok: 200,
        audit: Some("dashboard.save"),
    },
    Action {
        name: "DELETE /dashboards/{id}",
        least: 1,
        ok: 204,
        audit: Some("dashboard.delete"),
    },
    Action {
        name: "POST /share",
        least: 1,
        ok: 201,
        audit: Some("share"),
    },
    Action {
        name: "PUT /targets",
        least: 2,
        ok: 200,
        audit: Some("targets.replace"),
    },
    Action {
        name: "GET /members",
        least: 2,
        ok: 200,
        audit: None,
    },
    Action {
        name: "POST /members (viewer)",
        least: 2,
        ok: 201,
        audit: Some("member.create"),
    },
    Action {
        name: "POST /members (editor)",
        least: 2,
        ok: 201,
        audit: Some("member.create"),
    },
    Action {
        name: "PATCH /members (editor → viewer)",
        least: 2,
        ok: 200,
        audit: Some("member.role"),
    },
    Action {
        name: "DELETE /members (viewer)",
        least: 2,
        ok: 200,
        audit: Some("member.revoke"),
    },
    Action {
        name: "GET /audit",
        least: 2,
        ok: 200,
        audit: None,
    },
    Action {
        name: "GET /alerts",
        least: 0,
        ok: 200,
        audit: None,
    },
    Action {
        name: "POST /alerts/{id}/ack",
        least: 1,
        ok: 200,
        audit: Some("alert.ack"),
    },
    Action {
        name: "GET /destinations",
        least: 2,
        ok: 200,
        audit: None,
    },
    Action {
        name: "PUT /destinations",
        least: 2,
        ok: 200,
        audit: Some("destinations.replace"),
    },
    Action {
        name: "POST /members (admin)",
        least: 3,
        ok: 201,
        audit: Some("member.create"),
    },
    Action {
        name: "POST /members (owner)",
        least: 3,
        ok: 201,
        audit: Some("member.create"),
    },
    Action {
        name: "PATCH /members (viewer → admin)",
        least: 3,
        ok: 200,
        audit: Some("member.role"),
    },
    Action {
        name: "PATCH /members (admin → editor)",
        least: 3,
        ok: 200,
        audit: Some("member.role"),
    },
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_cell_of_the_permission_matrix_and_the_audit_log() {
    let standin = Standin::start().await.unwrap();
    standin.set("a", quick());
    let targets_json = json!([target("a", &standin)]);
    let vars = [("LLMSCOPE_TARGETS", targets_json.to_string())];
    let wrangler = Wrangler::start("teams-matrix", &vars, &SECRETS).await;
    let api = Api::new(&wrangler.url);

    // The members, made by the bootstrap owner; one is revoked, one expires shortly.
    let mut tokens = std::collections::HashMap::new();
    for role in ["viewer", "editor", "admin", "owner"] {
        let (_, token) = api.member(&format!("the {role}"), role, None).await;
        tokens.insert(role, token);
    }
    let (revoked_id, revoked) = api.member("revoked", "editor", None).await;
    let expires_at = now_ms() + 20_000;
    let (_, expired) = api.member("expiring", "viewer", Some(expires_at)).await;
    for t in [&revoked, &expired] {
        assert_eq!(
            api.call("GET", "/targets", Some(t), None).await.0,
            200,
            "valid until revoked or expired"
        );
    }
    let (status, gone) = api
        .call(
            "DELETE",
            &format!("/members/{revoked_id}"),
            Some(BOOT),
            None,
        )
        .await;
    assert_eq!(status, 200, "{gone}");
    assert_eq!(
        api.call("GET", "/targets", Some(&revoked), None).await.0,
        401,
        "revoked at once"
    );
    tokens.insert("revoked", revoked.clone());
    tokens.insert("expired", expired.clone());
    tokens.insert("wrong", "teams-not-a-token-9f0e".into());
    tokens.insert("bootstrap", BOOT.into());

    // /health tells a token who it is and its role (the dashboard shows it).
    for role in ["viewer", "admin"] {
        let (status, h) = api.call("GET", "/health", Some(&tokens[role]), None).await;
        assert_eq!(status, 200, "{h}");
        assert_eq!(
            (h["member"].clone(), h["role"].clone()),
            (json!(format!("the {role}")), json!(role)),
            "{h}"
        );
    }
    let (_, h) = api.call("GET", "/health", Some(BOOT), None).await;
    assert_eq!(
        (h["member"].clone(), h["role"].clone()),
        (json!("bootstrap"), json!("owner")),
        "{h}"
    );

    // D1 holds each token's SHA-256 digest, never the token.
    let rows = wrangler.d1("SELECT * FROM members");
    let stored = rows.to_string();
    for role in ["viewer", "editor", "admin", "owner"] {
        let t = &tokens[role];
        assert!(!stored.contains(t.as_str()), "D1 holds the {role}'s token");
        assert!(
            stored.contains(&token_hash(t)),
            "D1 lacks the {role}'s digest: {stored}"
        );
    }

    // What the read cells read, made by the bootstrap owner.
    let (status, r) = api.call("POST", "/probe/a", Some(BOOT), None).await;
    assert_eq!(status, 200, "{r}");
    let (status, r) = api
        .call(
            "PUT",
            "/dashboards/shared",
            Some(BOOT),
            Some(&json!({"name": "Shared", "body": {}})),
        )
        .await;
    assert_eq!(status, 200, "{r}");

    // An alert for the alerts' cells, recorded as the cron records one (the schema exists:
    // the Worker has answered requests).
    let stored = json!({"target": "a", "metric": "ttft_ms", "t": now_ms(), "value": 900.0,
        "center": 50.0, "lcl": 0.0, "ucl": 120.0, "tests": [1]});
    wrangler.d1(&format!(
        "INSERT INTO alerts (id, target, metric, t, json, delivered) VALUES (1, 'a', 'ttft_ms', {}, '{stored}', 1)",
        now_ms()
    ));

    let left = expires_at - now_ms();
    if left >= 0 {
        tokio::time::sleep(std::time::Duration::from_millis(left as u64 + 50)).await;
    }

    let since = now_ms() - 1;
    // (member, action) of every line the audit log must get, in order.
    let mut want_audit: Vec<(String, String)> = Vec::new();
    let mut cell = 0;
    for action in &ACTIONS {
        for caller in CALLERS {
            cell += 1;
            let token = (caller != "none").then(|| tokens[caller].as_str());
            // What a member action acts on, made fresh for each cell by the bootstrap owner.
            let subject = |role: &'static str| {
                let api = &api;
                async move { api.member(&format!("subject {cell}"), role, None).await.0 }
            };
            let (method, path, body) = match action.name {
                "GET /results" => ("GET", "/results?target=a".to_string(), None),
                "GET /targets" => ("GET", "/targets".into(), None),
                "GET /dashboards" => ("GET", "/dashboards".into(), None),
                "GET /dashboards/{id}" => ("GET", "/dashboards/shared".into(), None),
                "GET /compare" => ("GET", "/compare?targets=a".into(), None),
                "POST /probe/{t}" => ("POST", "/probe/a".into(), None),
                "PUT /dashboards/{id}" => (
                    "PUT",
                    format!("/dashboards/cell-{cell}"),
                    Some(json!({"name": caller, "body": {"cell": cell}})),
                ),
                "DELETE /dashboards/{id}" => {
                    // Made fresh for each cell by the bootstrap owner.
                    want_audit.push(("bootstrap".into(), "dashboard.save".into()));
                    let path = format!("/dashboards/gone-{cell}");
                    let body = json!({"name": "Gone", "body": {}});
                    let made = api.call("PUT", &path, Some(BOOT), Some(&body)).await;
                    assert_eq!(made.0, 200, "{}", made.1);
                    ("DELETE", path, None)
                }
                "POST /share" => ("POST", "/share".into(), Some(json!("ciphertext"))),
                "PUT /targets" => ("PUT", "/targets".into(), Some(targets_json.clone())),
                "GET /members" => ("GET", "/members".into(), None),
                "GET /audit" => ("GET", "/audit?since=0".into(), None),
                "GET /alerts" => ("GET", "/alerts?target=a".into(), None),
                "POST /alerts/{id}/ack" => ("POST", "/alerts/1/ack".into(), None),
                "GET /destinations" => ("GET", "/destinations".into(), None),
                "PUT /destinations" => ("PUT", "/destinations".into(), Some(json!([]))),
                "POST /members (viewer)" => (
                    "POST",
                    "/members".into(),
                    Some(json!({"name": "v", "role": "viewer"})),
                ),
                "POST /members (editor)" => (
                    "POST",
                    "/members".into(),
                    Some(json!({"name": "e", "role": "editor"})),
                ),
                "POST /members (admin)" => (
                    "POST",
                    "/members".into(),
                    Some(json!({"name": "a", "role": "admin"})),
                ),
                "POST /members (owner)" => (
                    "POST",
                    "/members".into(),
                    Some(json!({"name": "o", "role": "owner"})),
                ),
                "PATCH /members (editor → viewer)" => {
                    want_audit.push(("bootstrap".into(), "member.create".into()));
                    let id = subject("editor").await;
                    (
                        "PATCH",
                        format!("/members/{id}"),
                        Some(json!({"role": "viewer"})),
                    )
                }
                "DELETE /members (viewer)" => {
                    want_audit.push(("bootstrap".into(), "member.create".into()));
                    let id = subject("viewer").await;
                    ("DELETE", format!("/members/{id}"), None)
                }
                "PATCH /members (viewer → admin)" => {
                    want_audit.push(("bootstrap".into(), "member.create".into()));
                    let id = subject("viewer").await;
                    (
                        "PATCH",
                        format!("/members/{id}"),
                        Some(json!({"role": "admin"})),
                    )
                }
                "PATCH /members (admin → editor)" => {
                    want_audit.push(("bootstrap".into(), "member.create".into()));
                    let id = subject("admin").await;
                    (
                        "PATCH",
                        format!("/members/{id}"),
                        Some(json!({"role": "editor"})),
                    )
                }
                other => unreachable!("{other}"),
            };
            let (status, answer) = api.call(method, &path, token, body.as_ref()).await;
            let want = match least_role(caller) {
                None => 401,
                Some(r) if r >= action.least => action.ok,
                Some(_) => 403,
            };
            assert_eq!(status, want, "{} by {caller}: {answer}", action.name);
            match status {
                401 => assert!(
                    answer["error"]
                        .as_str()
                        .unwrap()
                        .contains("missing, wrong, revoked or expired token"),
                    "{answer}"
                ),
                403 => assert!(
                    answer["error"].as_str().unwrap().starts_with("your role, "),
                    "{answer}"
                ),
                _ => {
                    if let Some(a) = action.audit {
                        let who = match caller {
                            "bootstrap" => "bootstrap".to_string(),
                            role => format!("the {role}"),
                        };
                        want_audit.push((who, a.into()));
                    }
                }
            }
        }
    }
    assert_eq!(cell, ACTIONS.len() * CALLERS.len());

    // The audit log: exactly the actions that changed something, by whom, in order.
    let (status, log) = api
        .call(
            "GET",
            &format!("/audit?since={since}"),
            Some(&tokens["admin"]),
            None,
        )
        .await;
    assert_eq!(status, 200, "{log}");
    let lines = log.as_array().unwrap();
    // The admin's own GET /audit cells are reads: not in the log.
    let got: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            (
                l["member"].as_str().unwrap().into(),
                l["action"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(got, want_audit, "{log:#}");
    for l in lines {
        let t = l["t"].as_i64().unwrap();
        assert!(t > since && t <= now_ms(), "{l}");
        assert!(!l["target"].as_str().unwrap().is_empty(), "{l}");
        assert_eq!(l["member_id"].is_null(), l["member"] == "bootstrap", "{l}");
    }
    let first_probe = lines.iter().find(|l| l["action"] == "probe").unwrap();
    assert_eq!(first_probe["target"], "a", "{first_probe}");

    // The role of a member is checked on both sides of a change, and a bad role is named.
    let (status, r) = api
        .call(
            "POST",
            "/members",
            Some(&tokens["admin"]),
            Some(&json!({"name": "x", "role": "root"})),
        )
        .await;
    assert_eq!(status, 400, "{r}");
    assert!(
        r["error"]
            .as_str()
            .unwrap()
            .contains("unknown variant `root`"),
        "{r}"
    );

    // Wrong tokens still slow a client down: ten are free, a member's token clears the count,
    // then the eleventh wrong one makes the client wait, even with a member's right token.
    for _ in 0..10 {
        assert_eq!(
            api.call("GET", "/targets", Some("guess"), None).await.0,
            401
        );
    }
    assert_eq!(
        api.call("GET", "/targets", Some(&tokens["viewer"]), None)
            .await
            .0,
        200
    );
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(api.call("GET", "/targets", Some(&expired), None).await.0);
    }
    assert_eq!(statuses, [[401; 11].as_slice(), &[429]].concat());
    let (status, body) = api
        .call("GET", "/targets", Some(&tokens["viewer"]), None)
        .await;
    assert_eq!(status, 429, "{body}");

    // No answer but its creation holds a member's token, none holds a key or LLMSCOPE_TOKEN,
    // and the log holds none of them.
    let seen = api.seen.lock().unwrap().clone();
    let log = wrangler.log();
    for (what, value) in tokens
        .iter()
        .filter(|(k, _)| **k != "wrong")
        .map(|(k, v)| (*k, v.as_str()))
        .chain([("key", KEY)])
    {
        assert!(!seen.contains(value), "an answer holds the {what} token");
        assert!(
            !log.contains(value),
            "wrangler's log holds the {what} token"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_editors_racing_on_one_dashboard_lose_no_change() {
    let standin = Standin::start().await.unwrap();
    let vars = [(
        "LLMSCOPE_TARGETS",
        json!([target("a", &standin)]).to_string(),
    )];
    let wrangler = Wrangler::start("teams-dashboards", &vars, &SECRETS).await;
    let api = Api::new(&wrangler.url);
    let (_, ada) = api.member("Ada", "editor", None).await;
    let (_, bo) = api.member("Bo", "editor", None).await;
    let (_, viewer) = api.member("Cy", "viewer", None).await;

    let (status, r) = api
        .call(
            "PUT",
            "/dashboards/ops",
            Some(&ada),
            Some(&json!({"name": "Ops", "body": {"notes": []}})),
        )
        .await;
    assert_eq!((status, r.clone()), (200, json!({"version": 1})), "{r}");
    let again = api
        .call(
            "PUT",
            "/dashboards/ops",
            Some(&bo),
            Some(&json!({"name": "Ops", "body": {}})),
        )
        .await;
    assert_eq!(again.0, 409, "creating it twice: {}", again.1);
    assert!(
        again.1["error"]
            .as_str()
            .unwrap()
            .contains("exists already at version 1"),
        "{}",
        again.1
    );

    // Each round both editors read the same version and save a change of their own at once:
    // exactly one wins; the other is told, reloads, applies its change and saves again.
    let get = |token: String| {
        let api = &api;
        async move {
            let (status, d) = api.call("GET", "/dashboards/ops", Some(&token), None).await;
            assert_eq!(status, 200, "{d}");
            d
        }
    };
    let with_note = |d: &Value, note: String| {
        let mut body = d["body"].clone();
        body["notes"].as_array_mut().unwrap().push(json!(note));
        json!({"name": "Ops", "body": body})
    };
    const ROUNDS: usize = 12;
    for round in 0..ROUNDS {
        let (da, db) = tokio::join!(get(ada.clone()), get(bo.clone()));
        assert_eq!(da["version"], db["version"]);
        let base = da["version"].as_i64().unwrap();
        let (a, b) = (
            with_note(&da, format!("ada {round}")),
            with_note(&db, format!("bo {round}")),
        );
        let (ra, rb) = tokio::join!(
            api.send("PUT", "/dashboards/ops", Some(&ada), Some(&a), Some(base)),
            api.send("PUT", "/dashboards/ops", Some(&bo), Some(&b), Some(base)),
        );
        let mut statuses = [ra.0, rb.0];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "round {round}: {ra:?} {rb:?}");
        let (winner, winner_name, (loser_token, loser_name, conflict)) = if ra.0 == 200 {
            (ra.1, "Ada", (bo.clone(), "bo", rb.1))
        } else {
            (rb.1, "Bo", (ada.clone(), "ada", ra.1))
        };
        assert_eq!(winner, json!({"version": base + 1}));
        // The conflict says who saved the version that won, as the Worker saw them.
        let message = conflict["error"].as_str().unwrap();
        assert!(
            message.contains(&format!(
                "you saved over version {base}, it is at version {} (saved by {winner_name}) now",
                base + 1
            )) && message.contains("Nothing was saved"),
            "{message}"
        );
        // The loser reloads (who saved it comes with it) and saves its change over the
        // winner's.
        let fresh = get(loser_token.clone()).await;
        assert_eq!(fresh["version"], base + 1);
        assert_eq!(fresh["saved_by"], winner_name, "{fresh}");
        let (status, r) = api
            .send(
                "PUT",
                "/dashboards/ops",
                Some(&loser_token),
                Some(&with_note(&fresh, format!("{loser_name} {round}"))),
                Some(base + 1),
            )
            .await;
        assert_eq!(
            (status, r.clone()),
            (200, json!({"version": base + 2})),
            "{r}"
        );
    }

    // Every change of every round is there, each once; a viewer reads it but cannot save.
    let d = get(viewer.clone()).await;
    assert_eq!(d["version"], 1 + 2 * ROUNDS as i64);
    let mut notes: Vec<String> = d["body"]["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().into())
        .collect();
    notes.sort();
    let mut want: Vec<String> = (0..ROUNDS)
        .flat_map(|r| [format!("ada {r}"), format!("bo {r}")])
        .collect();
    want.sort();
    assert_eq!(notes, want);
    let (status, r) = api
        .send(
            "PUT",
            "/dashboards/ops",
            Some(&viewer),
            Some(&json!({"name": "Mine", "body": {}})),
            Some(25),
        )
        .await;
    assert_eq!(status, 403, "{r}");
    let (status, list) = api.call("GET", "/dashboards", Some(&viewer), None).await;
    let last = d["saved_by"].clone();
    assert!(last == "Ada" || last == "Bo", "{d}");
    assert_eq!(
        (status, list.clone()),
        (
            200,
            json!([{"id": "ops", "name": "Ops", "version": 25, "saved_by": last}])
        ),
        "{list}"
    );

    // Who saved is the member the Worker authenticated, whatever the body says.
    let (status, r) = api
        .send(
            "PUT",
            "/dashboards/ops",
            Some(&ada),
            Some(&json!({"name": "Ops", "body": {"saved_by": "Mallory"}})),
            Some(25),
        )
        .await;
    assert_eq!((status, r.clone()), (200, json!({"version": 26})), "{r}");
    let d = get(viewer.clone()).await;
    assert_eq!(
        (d["saved_by"].clone(), d["version"].clone()),
        (json!("Ada"), json!(26))
    );

    // Deleting: a viewer may not; an editor may, once (then 404, as for an unknown id or a
    // bad one); it is audited; the id can be made anew, at version 1, saved by its new maker.
    let (status, r) = api
        .call("DELETE", "/dashboards/ops", Some(&viewer), None)
        .await;
    assert_eq!(status, 403, "{r}");
    let (status, r) = api.call("DELETE", "/dashboards/ops", Some(&bo), None).await;
    assert_eq!((status, r), (204, json!("")));
    for (path, said) in [
        ("/dashboards/ops", "no dashboard \"ops\""),
        ("/dashboards/nope", "no dashboard \"nope\""),
        ("/dashboards/a.b", "is not a dashboard id"),
    ] {
        let (status, r) = api.call("DELETE", path, Some(&bo), None).await;
        assert_eq!(status, 404, "{path}: {r}");
        assert!(r["error"].as_str().unwrap().contains(said), "{r}");
    }
    let (status, r) = api
        .call("GET", "/dashboards/ops", Some(&viewer), None)
        .await;
    assert_eq!(status, 404, "{r}");
    let (status, log) = api.call("GET", "/audit?since=0", Some(BOOT), None).await;
    assert_eq!(status, 200, "{log}");
    let deleted: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["action"] == "dashboard.delete")
        .collect();
    assert_eq!(deleted.len(), 1, "{log}");
    assert_eq!(
        (deleted[0]["member"].clone(), deleted[0]["target"].clone()),
        (json!("Bo"), json!("ops v26"))
    );
    let (status, r) = api
        .call(
            "PUT",
            "/dashboards/ops",
            Some(&bo),
            Some(&json!({"name": "Ops again", "body": {}})),
        )
        .await;
    assert_eq!((status, r.clone()), (200, json!({"version": 1})), "{r}");
    let d = get(viewer.clone()).await;
    assert_eq!(d["saved_by"], "Bo", "{d}");
    // A stale If-Match on a dashboard that does not exist, a bad id, a bad body: each named.
    let (status, r) = api
        .send(
            "PUT",
            "/dashboards/nope",
            Some(&ada),
            Some(&json!({"name": "N", "body": {}})),
            Some(3),
        )
        .await;
    assert_eq!(status, 404, "{r}");
    let (status, r) = api
        .call(
            "PUT",
            "/dashboards/a.b",
            Some(&ada),
            Some(&json!({"name": "N", "body": {}})),
        )
        .await;
    assert_eq!(status, 400, "{r}");
    let (status, r) = api
        .call(
            "PUT",
            "/dashboards/new",
            Some(&ada),
            Some(&json!({"body": {}})),
        )
        .await;
    assert_eq!(status, 400, "{r}");
    assert!(
        r["error"]
            .as_str()
            .unwrap()
            .contains("missing field `name`"),
        "{r}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn targets_put_at_run_time_are_what_the_next_cron_run_probes() {
    let standin = Standin::start().await.unwrap();
    standin.set("a", quick());
    standin.set("b", quick());
    let vars = [(
        "LLMSCOPE_TARGETS",
        json!([target("a", &standin)]).to_string(),
    )];
    let wrangler = Wrangler::start("teams-targets", &vars, &SECRETS).await;
    let api = Api::new(&wrangler.url);
    let (_, admin) = api.member("Ada", "admin", None).await;
    let (_, editor) = api.member("Bo", "editor", None).await;
    let cron = || async {
        let url = format!("{}/__scheduled?cron=*/5+*+*+*+*", wrangler.url);
        assert_eq!(reqwest::get(url).await.unwrap().status(), 200);
    };
    let stored = |name: &'static str| {
        let api = &api;
        async move {
            let (status, r) = api
                .call("GET", &format!("/results?target={name}"), Some(BOOT), None)
                .await;
            assert_eq!(status, 200, "{r}");
            r.as_array().unwrap().len()
        }
    };

    // LLMSCOPE_TARGETS seeds the list.
    let (_, list) = api.call("GET", "/targets", Some(&editor), None).await;
    assert_eq!(
        list,
        json!([{"name": "a", "provider": "openai", "model": "gpt-4o-mini"}])
    );
    cron().await;
    assert_eq!((stored("a").await, stored("b").await), (1, 0));

    // A bad list is refused whole, naming the target and the field; so is one holding a key.
    let mut typo = target("b", &standin);
    typo["max_tokenz"] = json!(5);
    let (status, r) = api
        .call("PUT", "/targets", Some(&admin), Some(&json!([typo])))
        .await;
    assert_eq!(status, 400, "{r}");
    let message = r["error"].as_str().unwrap();
    assert!(
        message.starts_with("nothing was changed: target b: ") && message.contains("max_tokenz"),
        "{message}"
    );
    let mut holding_a_key = json!({"name": "h", "provider": "http", "url": standin.base_url("b"),
        "headers": {"authorization": format!("Bearer {KEY}")}, "body": {"prompt": "{{prompt}}"},
        "stream": "none", "text_pointer": "/text"});
    let (status, r) = api
        .call(
            "PUT",
            "/targets",
            Some(&admin),
            Some(&json!([holding_a_key.take()])),
        )
        .await;
    assert_eq!(status, 400, "{r}");
    assert!(
        r["error"]
            .as_str()
            .unwrap()
            .contains("name the secret instead"),
        "{r}"
    );
    let (status, r) = api
        .call(
            "PUT",
            "/targets",
            Some(&editor),
            Some(&json!([target("b", &standin)])),
        )
        .await;
    assert_eq!(status, 403, "{r}");

    // An admin replaces a with b: the next cron run probes b, with its key, and not a.
    let (status, list) = api
        .call(
            "PUT",
            "/targets",
            Some(&admin),
            Some(&json!([target("b", &standin)])),
        )
        .await;
    assert_eq!(
        (status, list.clone()),
        (
            200,
            json!([{"name": "b", "provider": "openai", "model": "gpt-4o-mini"}])
        ),
        "{list}"
    );
    let (_, listed) = api.call("GET", "/targets", Some(&editor), None).await;
    assert_eq!(listed, list);
    let a_requests = standin.requests("a").len();
    cron().await;
    assert_eq!((stored("a").await, stored("b").await), (1, 1));
    assert_eq!(
        standin.requests("a").len(),
        a_requests,
        "a is no longer probed"
    );
    let sent = standin.requests("b");
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    let (status, r) = api.call("POST", "/probe/a", Some(&editor), None).await;
    assert_eq!(status, 404, "{r}");

    // D1 holds the list as sent: secrets by name, never a value; no answer holds a key.
    let rows = wrangler.d1("SELECT json FROM targets").to_string();
    assert!(
        rows.contains("OPENAI_API_KEY") && !rows.contains(KEY),
        "{rows}"
    );
    let (status, log) = api.call("GET", "/audit", Some(&admin), None).await;
    assert_eq!(status, 200, "{log}");
    let replaced: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["action"] == "targets.replace")
        .collect();
    assert_eq!(replaced.len(), 1, "{log}");
    assert_eq!(
        (replaced[0]["member"].clone(), replaced[0]["target"].clone()),
        (json!("Ada"), json!("[b]"))
    );
    assert!(!api.seen.lock().unwrap().contains(KEY));
    assert!(!wrangler.log().contains(KEY));
}

/// One deploy, one origin: the Worker serves the built dashboard (`[assets]` in
/// wrangler.toml) and its API on the same address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_origin_serves_the_dashboard_and_the_api() {
    let site = llmscope_probe_tests::workers_dir().join("../static");
    let index = std::fs::read_to_string(site.join("index.html"))
        .expect("static/index.html: build the dashboard first (cargo xtask site)");
    let vars = [("LLMSCOPE_TARGETS", "[]".to_string())];
    let wrangler = Wrangler::start("teams-assets", &vars, &SECRETS).await;
    let http = reqwest::Client::new();
    let page = http.get(format!("{}/", wrangler.url)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let kind = page.headers()["content-type"].to_str().unwrap().to_string();
    assert!(kind.starts_with("text/html"), "{kind}");
    assert_eq!(page.text().await.unwrap(), index);
    let css = http
        .get(format!("{}/app.css", wrangler.url))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), 200);
    assert_eq!(
        css.bytes().await.unwrap(),
        std::fs::read(site.join("app.css")).unwrap()
    );
    // The API answers beside it, token and all.
    let health: Value = http
        .get(format!("{}/health", wrangler.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["version"], env!("CARGO_PKG_VERSION"), "{health}");
    let api = Api::new(&wrangler.url);
    assert_eq!(api.call("GET", "/targets", None, None).await.0, 401);
    assert_eq!(
        api.call("GET", "/targets", Some(BOOT), None).await,
        (200, json!([]))
    );
}
