//! The workspace view (issue 16, "Teams on the Worker"): signing in to a probe Worker with a
//! member's token, the member's name and role, the workspace's dashboards (`GET /dashboards`),
//! opening one (`GET /dashboards/{id}`), and saving the page's view as a new dashboard or over
//! the opened one (`PUT /dashboards/{id}` with `If-Match`), with the conflict of a stale save
//! said in words and neither change lost.
//!
//! This part is plain data and text, tested natively: the panel's state ([`Panel`]), the
//! Worker's answers read ([`member`], [`listed`], [`opened`]), the new dashboard's id
//! ([`slug`]) and the conflict's words ([`Conflict::words`]); `html` writes the panel, and
//! `page` (wasm32 only) does the requests and the page's DOM, and asks the dashboard (the main
//! module's `team_host`) for the view to save, to open a saved one, and to poll the Worker with
//! the member's token.

pub mod html;
#[cfg(all(feature = "module", target_arch = "wasm32"))]
pub mod page;

use serde_json::Value;

pub use llmscope_protocol::team::Role;

/// Whether `role` may save dashboards (`PUT /dashboards/{id}`: editors and above).
pub fn can_save(role: Role) -> bool {
    role >= Role::Editor
}

/// Who is signed in, as the Worker's `/health` said with the token.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    /// The member's name (`bootstrap` for `LLMSCOPE_TOKEN`).
    pub name: String,
    /// Their role.
    pub role: Role,
}

/// A dashboard of the workspace, as `GET /dashboards` lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct Listed {
    /// Its id in URLs.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its stored version.
    pub version: i64,
    /// Who saved that version, as the Worker authenticated them (none when it does not know:
    /// a version saved before it kept that).
    pub saved_by: Option<String>,
}

/// A save that came too late: another member saved the dashboard since it was opened here.
#[derive(Clone, Debug, PartialEq)]
pub struct Conflict {
    /// The dashboard's name.
    pub name: String,
    /// Who saved the newer version (the Worker's `saved_by`), when it says.
    pub by: Option<String>,
    /// The version opened here, which the save named.
    pub mine: i64,
    /// The version stored now.
    pub theirs: i64,
}

impl Conflict {
    /// The conflict in words: who saved what, that nothing was saved and nothing lost here,
    /// and the two ways on.
    pub fn words(&self) -> String {
        let who = self.by.as_deref().unwrap_or("Someone else");
        format!(
            "{who} saved a newer version of “{}” (version {}; you opened version {}). Nothing \
             was saved, and your view on this page is unchanged: reload theirs, or save yours \
             as a copy.",
            self.name, self.theirs, self.mine
        )
    }
}

/// The workspace panel's state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Panel {
    /// The version of the Worker that serves this page, when one does (then the panel offers
    /// to sign in to it).
    pub served_by: Option<String>,
    /// The Worker's URL: the one signed in to, or proposed.
    pub url: String,
    /// Who is signed in.
    pub me: Option<Member>,
    /// The workspace's dashboards, as last listed.
    pub dashboards: Vec<Listed>,
    /// The dashboard opened (or last saved) here: what "Save" saves over.
    pub opened: Option<Listed>,
    /// A save refused because the dashboard changed meanwhile.
    pub conflict: Option<Conflict>,
    /// The dashboard whose "Delete" was pressed, asking to confirm.
    pub deleting: Option<Listed>,
    /// What just happened, or went wrong, in words.
    pub status: String,
    /// Whether a request is on its way (the buttons wait).
    pub busy: bool,
    /// Whether the user set the offer aside ("Not now").
    pub dismissed: bool,
}

/// The member `/health` names for a token, or why it cannot be read.
pub fn member(health: &str) -> Result<Member, String> {
    let v: Value = serde_json::from_str(health).map_err(|e| format!("/health: not JSON: {e}"))?;
    let name = v["member"].as_str();
    let role = v["role"].as_str().and_then(|w| Role::parse(w).ok());
    match (name, role) {
        (Some(name), Some(role)) => Ok(Member {
            name: name.to_string(),
            role,
        }),
        _ => Err(
            "this Worker's /health names no member and role: it predates teams \
                  (workers/README.md, \"Teams\"); deploy the current Worker"
                .into(),
        ),
    }
}

fn listed_one(v: &Value) -> Option<Listed> {
    Some(Listed {
        id: v["id"].as_str()?.to_string(),
        name: v["name"].as_str()?.to_string(),
        version: v["version"].as_i64()?,
        saved_by: v["saved_by"].as_str().map(str::to_string),
    })
}

/// `GET /dashboards`'s answer read: `[{"id", "name", "version", "saved_by"}]`.
pub fn listed(answer: &str) -> Result<Vec<Listed>, String> {
    let v: Value =
        serde_json::from_str(answer).map_err(|e| format!("/dashboards: not JSON: {e}"))?;
    v.as_array()
        .ok_or("/dashboards: not a list")?
        .iter()
        .map(|d| {
            listed_one(d).ok_or_else(|| format!("/dashboards: an item is not a dashboard: {d}"))
        })
        .collect()
}

/// `GET /dashboards/{id}`'s answer read: the dashboard (with who saved it), and its `body`
/// (the saved view) as JSON text.
pub fn opened(answer: &str) -> Result<(Listed, String), String> {
    let v: Value =
        serde_json::from_str(answer).map_err(|e| format!("the dashboard is not JSON: {e}"))?;
    let d = listed_one(&v).ok_or("the Worker's answer is not a dashboard")?;
    Ok((d, v["body"].to_string()))
}

/// The body of `PUT /dashboards/{id}`: `{"name", "body"}`, the body being the session's view
/// as the dashboard writes it (`view`: its saved form, JSON text of an object, then a new line
/// and the open stream's id) with `"view": {"stream"}`. Who saved it is the Worker's to say
/// (`saved_by` in its answers), from the token it checked, not the page's.
pub fn save_body(name: &str, view: &str) -> Result<String, String> {
    let (meta, stream) = view.split_once('\n').unwrap_or((view, ""));
    let mut body: Value =
        serde_json::from_str(meta).map_err(|e| format!("the view is not JSON: {e}"))?;
    let fields = body
        .as_object_mut()
        .ok_or("the view is not a JSON object")?;
    let stream = Some(stream).filter(|s| !s.is_empty());
    fields.insert("view".into(), serde_json::json!({ "stream": stream }));
    Ok(serde_json::json!({"name": name, "body": body}).to_string())
}

/// The stream a saved view opens (its `view.stream`), or empty.
pub fn view_stream(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or_default();
    v["view"]["stream"].as_str().unwrap_or_default().to_string()
}

/// A new dashboard's id from its name: lower-case letters and digits, other runs as one `-`,
/// at most 48 characters (the Worker takes 1 to 64 of `[A-Za-z0-9_-]`), `dashboard` when
/// nothing is left; `n` > 1 appends `-n` (the name taken).
pub fn slug(name: &str, n: u32) -> String {
    let mut id = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            id.push(c);
        } else if !id.is_empty() && !id.ends_with('-') {
            id.push('-');
        }
        if id.len() >= 48 {
            break;
        }
    }
    let mut id = id.trim_end_matches('-').to_string();
    if id.is_empty() {
        id = "dashboard".into();
    }
    if n > 1 {
        id += &format!("-{n}");
    }
    id
}

/// The Worker's error words in an answer (`{"error": "..."}`), else the answer itself.
pub fn said(status: u16, answer: &str) -> String {
    let v: Value = serde_json::from_str(answer).unwrap_or(Value::Null);
    let words = v["error"].as_str().unwrap_or(answer);
    format!("HTTP {status}: {words}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_names_the_member_and_role_or_says_the_worker_is_old() {
        let m = member(r#"{"ok":true,"version":"0.1.0","member":"Ada","role":"editor"}"#);
        assert_eq!(
            m,
            Ok(Member {
                name: "Ada".into(),
                role: Role::Editor
            })
        );
        assert!(member(r#"{"ok":true,"version":"0.1.0"}"#)
            .unwrap_err()
            .contains("predates teams"));
        assert!(member("<html>")
            .unwrap_err()
            .starts_with("/health: not JSON"));
        assert!(!can_save(Role::Viewer));
        assert!(can_save(Role::Editor) && can_save(Role::Admin) && can_save(Role::Owner));
    }

    #[test]
    fn dashboards_are_read_and_a_bad_item_named() {
        let got = listed(r#"[{"id":"ops","name":"Ops","version":3,"saved_by":"Ada"},{"id":"old","name":"Old","version":1,"saved_by":null}]"#).unwrap();
        assert_eq!(
            got,
            [
                Listed {
                    id: "ops".into(),
                    name: "Ops".into(),
                    version: 3,
                    saved_by: Some("Ada".into()),
                },
                Listed {
                    id: "old".into(),
                    name: "Old".into(),
                    version: 1,
                    saved_by: None,
                }
            ]
        );
        assert!(listed(r#"[{"id":"ops"}]"#)
            .unwrap_err()
            .contains("not a dashboard"));
        // Who saved it is the Worker's word, not the body's (an old body may still say).
        let (d, body) = opened(
            r#"{"id":"ops","name":"Ops","version":4,"body":{"format":2,"saved_by":"Mallory"},"saved_by":"Bo"}"#,
        )
        .unwrap();
        assert_eq!(
            (d.version, d.saved_by.as_deref(), body.as_str()),
            (4, Some("Bo"), r#"{"format":2,"saved_by":"Mallory"}"#)
        );
    }

    #[test]
    fn a_save_carries_the_view() {
        let body = save_body("Ops", "{\"format\":2,\"streams\":[]}\npress1/t").unwrap();
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"name": "Ops", "body": {"format": 2, "streams": [],
                "view": {"stream": "press1/t"}}})
        );
        assert_eq!(view_stream(&v["body"].to_string()), "press1/t");
        let none = save_body("Ops", "{}\n").unwrap();
        assert!(none.contains(r#""view":{"stream":null}"#), "{none}");
        assert_eq!(view_stream("{}"), "");
        assert!(save_body("Ops", "[]").is_err());
    }

    #[test]
    fn ids_are_made_from_names() {
        assert_eq!(slug("Ops: line 1 / TTFT", 1), "ops-line-1-ttft");
        assert_eq!(slug("Ops", 2), "ops-2");
        assert_eq!(slug("  ", 1), "dashboard");
        assert_eq!(slug("Überwachung", 1), "berwachung");
        assert_eq!(slug(&"x".repeat(100), 3).len(), 50);
    }

    #[test]
    fn the_conflict_says_who_and_what_to_do() {
        let c = Conflict {
            name: "Ops".into(),
            by: Some("Ada".into()),
            mine: 1,
            theirs: 2,
        };
        let words = c.words();
        assert!(words
            .starts_with("Ada saved a newer version of “Ops” (version 2; you opened version 1)"));
        assert!(words.contains("reload theirs, or save yours as a copy"));
        let anon = Conflict { by: None, ..c };
        assert!(anon.words().starts_with("Someone else saved"));
        assert_eq!(
            said(409, r#"{"error":"dashboard ops changed"}"#),
            "HTTP 409: dashboard ops changed"
        );
    }
}
