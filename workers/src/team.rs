//! Teams (issue 16): members with roles, their tokens, and the one permission matrix every
//! endpoint is checked against. Pure, so the matrix is tested natively; the runtime only looks
//! a token's hash up in D1 and asks [`may`].
//!
//! A member's token is 256 random bits shown once, in the answer to `POST /members`; D1 keeps
//! only its SHA-256 digest, under a unique index, so a request's token is found by hashing it
//! and looking the digest up, never by scanning members and comparing.

use serde::Deserialize;
use sha2::{Digest, Sha256};

pub use llmscope_protocol::team::Role;

/// A row of the permission matrix: what a role must be allowed to do an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// `GET /results`, `/targets`, `/dashboards`, `/dashboards/{id}`, `/compare` (and `/health`'s details).
    Read,
    /// `POST /probe/{t}`, `PUT /dashboards/{id}`, `POST /share`, `DELETE /dashboards/{id}`.
    Edit,
    /// `PUT /targets`, `GET /members`, `POST`/`PATCH`/`DELETE /members` of editors and
    /// viewers, `GET /audit`.
    Administer,
    /// `POST`/`PATCH /members` (and `DELETE`) of admins and owners.
    Own,
}

/// The permission matrix (issue 16's Roles table, and workers/README.md's, which a test
/// compares with this one): each row's action as the README writes it, and whether a viewer,
/// an editor, an admin and an owner may do it. The first four rows are the issue's; a
/// dashboard's deletion and the alerts' endpoints follow, each in the row of the permission
/// it needs.
pub const MATRIX: [(Permission, &str, [bool; 4]); 8] = [
    (
        Permission::Read,
        "`GET /results`, `/targets`, `/dashboards`, `/dashboards/{id}`, `/compare`",
        [true, true, true, true],
    ),
    (
        Permission::Edit,
        "`POST /probe/{t}`, `PUT /dashboards/{id}`, `POST /share`",
        [false, true, true, true],
    ),
    (
        Permission::Administer,
        "`PUT /targets`, `GET /members`, `POST`/`PATCH`/`DELETE /members` (editor/viewer), `GET /audit`",
        [false, false, true, true],
    ),
    (
        Permission::Own,
        "`POST`/`PATCH /members` for admin or owner",
        [false, false, false, true],
    ),
    (
        Permission::Edit,
        "`DELETE /dashboards/{id}`",
        [false, true, true, true],
    ),
    (Permission::Read, "`GET /alerts`", [true, true, true, true]),
    (
        Permission::Edit,
        "`POST /alerts/{id}/ack`",
        [false, true, true, true],
    ),
    (
        Permission::Administer,
        "`GET`/`PUT /destinations`",
        [false, false, true, true],
    ),
];

/// Whether `role` may do what `permission` covers: a look-up in [`MATRIX`].
pub fn may(role: Role, permission: Permission) -> bool {
    MATRIX
        .iter()
        .find(|(p, _, _)| *p == permission)
        .is_some_and(|(_, _, allowed)| allowed[role as usize])
}

/// What changing a member takes: creating one with `roles[0]`, or moving one from
/// `roles[0]` to `roles[1]`, or revoking one of `roles[0]`. Admins manage editors and
/// viewers; anything that makes, changes or removes an admin or an owner is an owner's.
pub fn member_change(roles: &[Role]) -> Permission {
    if roles.iter().any(|r| *r >= Role::Admin) {
        Permission::Own
    } else {
        Permission::Administer
    }
}

/// The permission an endpoint needs, by method and path segments; `None` for an endpoint
/// whose need depends on its body (`POST`/`PATCH`/`DELETE /members`: [`member_change`]) or
/// that does not exist. `/health` and `GET /share/{id}` take no token and are not here.
pub fn endpoint(method: &str, segments: &[&str]) -> Option<Permission> {
    use Permission::*;
    Some(match (method, segments) {
        ("GET", ["results" | "targets" | "dashboards" | "compare" | "alerts"]) => Read,
        ("POST", ["alerts", _, "ack"]) => Edit,
        ("GET" | "PUT", ["destinations"]) => Administer,
        ("GET", ["dashboards", _]) => Read,
        ("POST", ["probe", _]) | ("PUT" | "DELETE", ["dashboards", _]) | ("POST", ["share"]) => {
            Edit
        }
        ("PUT", ["targets"]) | ("GET", ["members" | "audit"]) => Administer,
        _ => return None,
    })
}

/// Who is calling: the bootstrap owner (`LLMSCOPE_TOKEN`) or a member.
#[derive(Clone, Debug, PartialEq)]
pub struct Caller {
    /// The member's id; `None` for the bootstrap owner.
    pub id: Option<String>,
    /// The member's name; `bootstrap` for the bootstrap owner.
    pub name: String,
    /// What the caller may do.
    pub role: Role,
}

impl Caller {
    /// The holder of `LLMSCOPE_TOKEN`: an owner.
    pub fn bootstrap() -> Caller {
        Caller {
            id: None,
            name: "bootstrap".into(),
            role: Role::Owner,
        }
    }
}

/// Random bytes in a member token: 256 bits.
const TOKEN_BYTES: usize = 32;

/// A new member token: 256 bits from the platform's random source, base64url (43
/// characters).
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::getrandom(&mut bytes)?;
    Ok(crate::access::share_id(&bytes))
}

/// The digest D1 keeps of a member token: SHA-256, hex. A slow password hash (Argon2,
/// bcrypt) exists to make guessing a low-entropy password from its hash expensive; a token
/// of 256 random bits cannot be guessed from its digest at any speed, so one fast,
/// unsalted hash is enough, and it lets the token be found by an indexed equality look-up.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether a member whose token expires at `expires_at` (epoch ms; `None`: never) may still
/// use it at `now_ms`.
pub fn live(expires_at: Option<i64>, now_ms: i64) -> bool {
    expires_at.is_none_or(|e| now_ms < e)
}

/// The body of `POST /members`.
#[derive(Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    /// Who the token is for, in words.
    pub name: String,
    /// What they may do.
    pub role: Role,
    /// When the token stops working (epoch ms); absent: never.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

/// The longest member name, in characters.
const MAX_NAME: usize = 100;

/// A name given to a member or a dashboard: 1 to 100 characters, no control characters.
pub fn check_name(field: &str, name: &str) -> Result<(), String> {
    let n = name.chars().count();
    if name.trim().is_empty() || n > MAX_NAME {
        return Err(format!(
            "{field}: must be 1 to {MAX_NAME} characters, not {n}"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(format!("{field}: must not hold control characters"));
    }
    Ok(())
}

/// Reads and checks `POST /members`'s body at `now_ms`: an error names the field and says
/// what to send.
pub fn new_member(body: &str, now_ms: i64) -> Result<NewMember, String> {
    let m: NewMember = serde_json::from_str(body).map_err(|e| {
        format!(
            "{e}: send {{\"name\": \"Ada\", \"role\": \"owner|admin|editor|viewer\", \"expires_at\": <epoch ms, optional>}}"
        )
    })?;
    check_name("name", &m.name)?;
    if let Some(e) = m.expires_at {
        if e <= now_ms {
            return Err(format!(
                "expires_at: {e} is not in the future (now is {now_ms}, epoch ms)"
            ));
        }
    }
    Ok(m)
}

/// Reads `PATCH /members/{id}`'s body: `{"role"}`.
pub fn new_role(body: &str) -> Result<Role, String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Patch {
        role: Role,
    }
    serde_json::from_str::<Patch>(body)
        .map(|p| p.role)
        .map_err(|e| format!("{e}: send {{\"role\": \"owner|admin|editor|viewer\"}}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_of_one_permission_agree() {
        for (p, action, allowed) in MATRIX {
            let first = MATRIX.iter().find(|(q, _, _)| *q == p).map(|r| r.2);
            assert_eq!(first, Some(allowed), "{action}");
        }
    }

    #[test]
    fn the_matrix_is_the_issues_roles_table() {
        use Permission::*;
        let yes = |p, roles: &[Role]| {
            for r in Role::ALL {
                assert_eq!(may(r, p), roles.contains(&r), "{r} {p:?}");
            }
        };
        yes(Read, &Role::ALL);
        yes(Edit, &[Role::Editor, Role::Admin, Role::Owner]);
        yes(Administer, &[Role::Admin, Role::Owner]);
        yes(Own, &[Role::Owner]);
    }

    /// workers/README.md's table is this one, row by row: the documentation cannot drift.
    #[test]
    fn the_readme_shows_this_matrix() {
        let readme = include_str!("../README.md");
        let rows: Vec<(String, Vec<bool>)> = readme
            .lines()
            .skip_while(|l| !l.starts_with("| action | viewer | editor | admin | owner |"))
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .map(|l| {
                l.trim_matches('|')
                    .split(" | ")
                    .map(str::trim)
                    .collect::<Vec<_>>()
            })
            // A row whose cells are not yes or no takes no role (`POST /slack/actions`).
            .filter(|cells| cells[1..].iter().all(|c| matches!(*c, "yes" | "no")))
            .map(|cells| {
                let allowed = cells[1..].iter().map(|c| *c == "yes").collect();
                (cells[0].to_string(), allowed)
            })
            .collect();
        let want: Vec<(String, Vec<bool>)> = MATRIX
            .iter()
            .map(|(_, action, allowed)| (action.to_string(), allowed.to_vec()))
            .collect();
        assert_eq!(rows, want);
    }

    #[test]
    fn endpoints_need_their_row() {
        use Permission::*;
        let cases: [(&str, &[&str], Option<Permission>); 19] = [
            ("GET", &["alerts"], Some(Read)),
            ("POST", &["alerts", "7", "ack"], Some(Edit)),
            ("GET", &["destinations"], Some(Administer)),
            ("PUT", &["destinations"], Some(Administer)),
            ("POST", &["slack", "actions"], None),
            ("GET", &["results"], Some(Read)),
            ("GET", &["targets"], Some(Read)),
            ("GET", &["dashboards"], Some(Read)),
            ("GET", &["dashboards", "ops"], Some(Read)),
            ("GET", &["compare"], Some(Read)),
            ("POST", &["probe", "a"], Some(Edit)),
            ("PUT", &["dashboards", "ops"], Some(Edit)),
            ("DELETE", &["dashboards", "ops"], Some(Edit)),
            ("POST", &["share"], Some(Edit)),
            ("PUT", &["targets"], Some(Administer)),
            ("GET", &["members"], Some(Administer)),
            ("GET", &["audit"], Some(Administer)),
            ("POST", &["members"], None),
            ("DELETE", &["results"], None),
        ];
        for (method, segments, want) in cases {
            assert_eq!(endpoint(method, segments), want, "{method} {segments:?}");
        }
    }

    #[test]
    fn admins_manage_editors_and_viewers_only() {
        use Role::*;
        assert_eq!(member_change(&[Viewer]), Permission::Administer);
        assert_eq!(member_change(&[Viewer, Editor]), Permission::Administer);
        assert_eq!(member_change(&[Editor, Admin]), Permission::Own);
        assert_eq!(member_change(&[Admin, Viewer]), Permission::Own);
        assert_eq!(member_change(&[Owner]), Permission::Own);
        assert!(!may(Admin, member_change(&[Admin])));
        assert!(may(Owner, member_change(&[Admin, Owner])));
    }

    #[test]
    fn tokens_are_random_and_kept_as_digests() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "{a}");
        // FIPS 180-2's example: SHA-256("abc").
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(live(None, i64::MAX));
        assert!(live(Some(1000), 999));
        assert!(!live(Some(1000), 1000));
    }

    #[test]
    fn member_bodies_are_checked_field_by_field() {
        let ok = new_member(
            r#"{"name": "Ada", "role": "editor", "expires_at": 2000}"#,
            1000,
        );
        assert_eq!(
            ok,
            Ok(NewMember {
                name: "Ada".into(),
                role: Role::Editor,
                expires_at: Some(2000)
            })
        );
        let err = |body: &str| new_member(body, 1000).unwrap_err();
        assert!(err(r#"{"name": "Ada", "role": "boss"}"#).contains("unknown variant `boss`"));
        assert!(err(r#"{"name": "", "role": "viewer"}"#).starts_with("name: must be 1 to 100"));
        assert!(err(r#"{"name": "Ada", "role": "viewer", "expires_at": 5}"#)
            .starts_with("expires_at: 5 is not in the future"));
        assert!(err(r#"{"name": "Ada", "role": "viewer", "token": "x"}"#)
            .contains("unknown field `token`"));
        assert!(err("[").contains("send {\"name\""));
        assert_eq!(new_role(r#"{"role": "admin"}"#), Ok(Role::Admin));
        assert!(new_role(r#"{"role": "Admin"}"#).is_err());
        assert_eq!(Role::parse("owner"), Ok(Role::Owner));
        assert!(Role::parse("root")
            .unwrap_err()
            .contains("use owner, admin"));
    }
}
