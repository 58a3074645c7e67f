//! The team in D1 (issue 16): who a bearer token belongs to, the members' endpoints, the audit
//! log and its writes. What a role may do is [`crate::team`]'s matrix; here are only the
//! look-ups and writes.

use super::http::{self, json};
use super::store::{num, Store};
use crate::error::ApiError;
use crate::team::{self, Caller, Permission, Role};
use serde::Deserialize;
use serde_json::json;
use wasm_bindgen::JsValue;
use worker::Request;

type Answer<T> = std::result::Result<T, ApiError>;

/// A member as D1 holds it (never the token, only its digest, which is not read back).
#[derive(Deserialize)]
struct MemberRow {
    id: String,
    name: String,
    role: String,
    expires_at: Option<f64>,
}

impl MemberRow {
    fn role(&self) -> Answer<Role> {
        Role::parse(&self.role).map_err(|e| ApiError::Internal(format!("members: {e}")))
    }

    fn expires_at(&self) -> Option<i64> {
        self.expires_at.map(|e| e as i64)
    }

    /// What `GET /members` shows of a member.
    fn public(&self) -> serde_json::Value {
        json!({"id": self.id, "name": self.name, "role": self.role, "expires_at": self.expires_at()})
    }

    /// How the audit log names it.
    fn described(&self) -> String {
        format!("{} {:?} ({})", self.id, self.name, self.role)
    }
}

/// The member whose token has this digest, if it is live at `now_ms`: one indexed look-up
/// (the digest is unique). A revoked member's row is gone; an expired one's is refused here.
pub async fn member_by_token(store: &Store, token: &str, now_ms: i64) -> Answer<Option<Caller>> {
    let row = store
        .db()
        .prepare("SELECT id, name, role, expires_at FROM members WHERE token_hash = ?1")
        .bind(&[team::token_hash(token).into()])?
        .first::<MemberRow>(None)
        .await
        .map_err(|e| format!("D1: cannot look a token up: {e}"))?;
    let Some(row) = row.filter(|r| team::live(r.expires_at(), now_ms)) else {
        return Ok(None);
    };
    Ok(Some(Caller {
        role: row.role()?,
        id: Some(row.id),
        name: row.name,
    }))
}

/// Refuses with 403, naming who may, unless `caller`'s role may do what `permission` covers.
pub fn need(caller: &Caller, permission: Permission) -> Answer<()> {
    if team::may(caller.role, permission) {
        return Ok(());
    }
    let who = match permission {
        Permission::Read => "every member",
        Permission::Edit => "editors, admins and owners",
        Permission::Administer => "admins and owners",
        Permission::Own => "owners (admins manage editors and viewers only)",
    };
    Err(ApiError::Forbidden(format!(
        "your role, {}, may not do this: only {who} may",
        caller.role
    )))
}

/// Writes one line of the audit log: `caller` did `action` to `target`, now.
pub async fn audit(store: &Store, caller: &Caller, action: &str, target: &str) -> Answer<()> {
    let member_id = caller.id.as_deref().map_or(JsValue::NULL, JsValue::from);
    store
        .db()
        .prepare(
            "INSERT INTO audit (t, member, member_id, action, target) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(&[
            num(http::now_ms() as i64),
            caller.name.as_str().into(),
            member_id,
            action.into(),
            target.into(),
        ])?
        .run()
        .await
        .map_err(|e| format!("D1: cannot write the audit log: {e}"))?;
    Ok(())
}

/// The most audit lines one answer holds.
const MAX_AUDIT: i64 = 10_000;

/// `GET /audit?since=<epoch ms>`: `[{"t", "member", "member_id", "action", "target"}]`, oldest
/// first, after `since` (default 0), at most [`MAX_AUDIT`].
pub async fn read_audit(req: &Request, store: &Store) -> Answer<worker::Response> {
    let mut since = 0i64;
    for (k, v) in req.url()?.query_pairs() {
        match (k.as_ref(), v.parse::<f64>()) {
            ("since", Ok(s)) if s.is_finite() => since = s as i64,
            ("since", _) => {
                return Err(ApiError::BadRequest(format!(
                    "since={v}: must be epoch milliseconds"
                )))
            }
            (other, _) => {
                return Err(ApiError::BadRequest(format!(
                    "unknown parameter {other:?}: use since"
                )))
            }
        }
    }
    #[derive(Deserialize)]
    struct Line {
        t: f64,
        member: String,
        member_id: Option<String>,
        action: String,
        target: String,
    }
    let lines = store
        .db()
        .prepare("SELECT t, member, member_id, action, target FROM audit WHERE t > ?1 ORDER BY t, id LIMIT ?2")
        .bind(&[num(since), num(MAX_AUDIT)])?
        .all()
        .await
        .map_err(|e| format!("D1: cannot read the audit log: {e}"))?
        .results::<Line>()?;
    let list: Vec<_> = lines
        .into_iter()
        .map(|l| json!({"t": l.t as i64, "member": l.member, "member_id": l.member_id, "action": l.action, "target": l.target}))
        .collect();
    json(200, &serde_json::Value::Array(list))
}

/// `GET /members`: `[{"id", "name", "role", "expires_at"}]`, oldest first; never a token.
pub async fn list(store: &Store) -> Answer<worker::Response> {
    let rows = store
        .db()
        .prepare("SELECT id, name, role, expires_at FROM members ORDER BY created_at, id")
        .all()
        .await
        .map_err(|e| format!("D1: cannot read members: {e}"))?
        .results::<MemberRow>()?;
    json(
        200,
        &serde_json::Value::Array(rows.iter().map(MemberRow::public).collect()),
    )
}

/// `POST /members`: a new member and its token, shown in this answer only (201).
pub async fn create(mut req: Request, store: &Store, caller: &Caller) -> Answer<worker::Response> {
    let now = http::now_ms() as i64;
    let m = team::new_member(&small_body(&mut req).await?, now).map_err(ApiError::BadRequest)?;
    need(caller, team::member_change(&[m.role]))?;
    let no_random = |e| ApiError::Internal(format!("no random bytes for a member: {e}"));
    let token = team::new_token().map_err(no_random)?;
    let id = crate::access::new_share_id().map_err(no_random)?;
    let expires_at = m.expires_at.map_or(JsValue::NULL, num);
    store
        .db()
        .prepare("INSERT INTO members (id, name, role, token_hash, expires_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .bind(&[
            id.as_str().into(),
            m.name.as_str().into(),
            m.role.as_str().into(),
            team::token_hash(&token).into(),
            expires_at,
            num(now),
        ])?
        .run()
        .await
        .map_err(|e| format!("D1: cannot add a member: {e}"))?;
    let row = MemberRow {
        id,
        name: m.name,
        role: m.role.as_str().into(),
        expires_at: m.expires_at.map(|e| e as f64),
    };
    audit(store, caller, "member.create", &row.described()).await?;
    let mut body = row.public();
    body["token"] = token.into();
    json(201, &body)
}

/// The largest body of a members' request, bytes: a name and a role.
const MAX_MEMBER_BODY: usize = 4096;

/// A members' request body, read up to [`MAX_MEMBER_BODY`] (413 past it).
async fn small_body(req: &mut Request) -> Answer<String> {
    let max = MAX_MEMBER_BODY;
    let bytes = super::share::body_within(req, max, |n| {
        ApiError::TooLarge(format!(
            "the body is {n} bytes; a member takes at most {max}"
        ))
    })
    .await?;
    String::from_utf8(bytes)
        .map_err(|_| ApiError::BadRequest("the body is not UTF-8: send JSON".into()))
}

/// The member `id`, or 404.
async fn member(store: &Store, id: &str) -> Answer<MemberRow> {
    let missing = || ApiError::NotFound(format!("no member {id:?}: GET /members lists them"));
    if !crate::access::is_share_id(id) {
        return Err(missing());
    }
    store
        .db()
        .prepare("SELECT id, name, role, expires_at FROM members WHERE id = ?1")
        .bind(&[id.into()])?
        .first::<MemberRow>(None)
        .await
        .map_err(|e| format!("D1: cannot read a member: {e}"))?
        .ok_or_else(missing)
}

/// Someone else changed the member between our read and our write.
fn changed_meanwhile(id: &str) -> ApiError {
    ApiError::Conflict(format!(
        "member {id} changed while this request ran: GET /members and try again"
    ))
}

/// `PATCH /members/{id}` `{"role"}`: changes a member's role; the row only changes if its role
/// is still the one the permission was checked against.
pub async fn set_role(
    mut req: Request,
    store: &Store,
    caller: &Caller,
    id: &str,
) -> Answer<worker::Response> {
    let role = team::new_role(&small_body(&mut req).await?).map_err(ApiError::BadRequest)?;
    let mut row = member(store, id).await?;
    need(caller, team::member_change(&[row.role()?, role]))?;
    let changed = store
        .db()
        .prepare("UPDATE members SET role = ?1 WHERE id = ?2 AND role = ?3 RETURNING id")
        .bind(&[role.as_str().into(), id.into(), row.role.as_str().into()])?
        .first::<serde_json::Value>(None)
        .await
        .map_err(|e| format!("D1: cannot change a role: {e}"))?;
    if changed.is_none() {
        return Err(changed_meanwhile(id));
    }
    let was = std::mem::replace(&mut row.role, role.as_str().into());
    let target = format!("{} {:?} ({was} → {role})", row.id, row.name);
    audit(store, caller, "member.role", &target).await?;
    json(200, &row.public())
}

/// `DELETE /members/{id}`: revokes the member's token at once (its row, digest included, is
/// deleted: the next request with it is 401).
pub async fn revoke(store: &Store, caller: &Caller, id: &str) -> Answer<worker::Response> {
    let row = member(store, id).await?;
    need(caller, team::member_change(&[row.role()?]))?;
    let gone = store
        .db()
        .prepare("DELETE FROM members WHERE id = ?1 AND role = ?2 RETURNING id")
        .bind(&[id.into(), row.role.as_str().into()])?
        .first::<serde_json::Value>(None)
        .await
        .map_err(|e| format!("D1: cannot revoke a member: {e}"))?;
    if gone.is_none() {
        return Err(changed_meanwhile(id));
    }
    audit(store, caller, "member.revoke", &row.described()).await?;
    json(200, &row.public())
}
