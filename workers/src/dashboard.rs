//! Team dashboards' rules (issue 16), pure: what an id may be, what a save must hold, how
//! `If-Match` names the version a save was made from, and the words of a conflict. The
//! conditional write itself is D1's (`runtime/dashboards.rs`).

use serde::Deserialize;

/// The largest dashboard body accepted, bytes (a D1 value holds at most 2 MB).
pub const MAX_BYTES: usize = 1024 * 1024;

/// The longest dashboard id.
const MAX_ID: usize = 64;

/// A dashboard id: 1 to 64 ASCII letters, digits, `-` and `_` (it sits in a URL path).
pub fn check_id(id: &str) -> Result<(), String> {
    let fine = (1..=MAX_ID).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if fine {
        Ok(())
    } else {
        Err(format!(
            "{id:?} is not a dashboard id: use 1 to {MAX_ID} letters, digits, - and _"
        ))
    }
}

/// A save: the new name and body, and the version it was made from (`None`: create).
#[derive(Debug, PartialEq)]
pub struct Save {
    /// The dashboard's name.
    pub name: String,
    /// The saved view, as JSON text (whatever the dashboard keeps: streams, settings,
    /// baselines, annotations, comparisons).
    pub body: String,
    /// The version named by `If-Match`.
    pub base: Option<i64>,
}

/// The version an `If-Match` header names: `3` or an entity tag `"3"` (`W/"3"` too, as
/// the dashboard's version is its only validator).
pub fn if_match(header: &str) -> Result<i64, String> {
    let tag = header.trim();
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    let tag = tag
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(tag);
    tag.parse::<i64>().ok().filter(|v| *v >= 1).ok_or_else(|| {
        format!(
            "If-Match: {header:?} is not a version: send the \"version\" GET /dashboards/ID answered, or no If-Match to create"
        )
    })
}

/// Reads `PUT /dashboards/{id}`'s body `{"name", "body"}` and its `If-Match`.
pub fn save(text: &str, if_match_header: Option<&str>) -> Result<Save, String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Put {
        name: String,
        body: serde_json::Value,
    }
    let put: Put = serde_json::from_str(text)
        .map_err(|e| format!("{e}: send {{\"name\": \"...\", \"body\": {{...}}}}"))?;
    crate::team::check_name("name", &put.name)?;
    Ok(Save {
        name: put.name,
        body: put.body.to_string(),
        base: if_match_header.map(if_match).transpose()?,
    })
}

/// Who saved a version, in the words of a conflict: ` (saved by Ada)`, or nothing when the
/// Worker does not know.
fn by(saved_by: Option<&str>) -> String {
    saved_by.map_or(String::new(), |name| format!(" (saved by {name})"))
}

/// Why a save over version `base` was refused: `now` is stored, saved by `saved_by`.
pub fn stale(id: &str, base: i64, now: i64, saved_by: Option<&str>) -> String {
    format!(
        "dashboard {id} changed since you loaded it: you saved over version {base}, it is at version {now}{} now. Nothing was saved: GET /dashboards/{id}, apply your change to it, and PUT again with If-Match: {now}",
        by(saved_by)
    )
}

/// Why a create was refused: the dashboard exists (at `now`, if it still does, saved by
/// `saved_by`).
pub fn exists(id: &str, now: Option<i64>, saved_by: Option<&str>) -> String {
    let at = now.map_or(String::new(), |v| {
        format!(" at version {v}{}", by(saved_by))
    });
    format!(
        "dashboard {id} exists already{at}: nothing was saved; GET /dashboards/{id}, apply your change, and PUT with If-Match: <its version>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_fit_in_a_path() {
        assert!(check_id("ops-latency_2").is_ok());
        assert!(check_id("").is_err());
        assert!(check_id("../x").unwrap_err().contains("letters, digits"));
        assert!(check_id(&"a".repeat(65)).is_err());
    }

    #[test]
    fn if_match_names_a_version() {
        assert_eq!(if_match("3"), Ok(3));
        assert_eq!(if_match("\"12\""), Ok(12));
        assert_eq!(if_match("W/\"7\""), Ok(7));
        assert!(if_match("*").unwrap_err().contains("is not a version"));
        assert!(if_match("0").is_err());
    }

    #[test]
    fn saves_hold_a_name_and_a_body() {
        let s = save(r#"{"name": "Ops", "body": {"streams": ["a"]}}"#, Some("2")).unwrap();
        assert_eq!(
            s,
            Save {
                name: "Ops".into(),
                body: r#"{"streams":["a"]}"#.into(),
                base: Some(2)
            }
        );
        assert_eq!(
            save(r#"{"name": "Ops", "body": 1}"#, None).unwrap().base,
            None
        );
        assert!(save(r#"{"name": "Ops"}"#, None)
            .unwrap_err()
            .contains("missing field `body`"));
        assert!(save(r#"{"name": "", "body": 1}"#, None)
            .unwrap_err()
            .starts_with("name:"));
        assert!(save(r#"{"name": "Ops", "body": 1}"#, Some("x"))
            .unwrap_err()
            .starts_with("If-Match"));
    }

    #[test]
    fn conflicts_say_what_happened_and_what_to_do() {
        let m = stale("ops", 3, 4, Some("Ada"));
        assert!(
            m.contains("version 3") && m.contains("version 4 (saved by Ada) now"),
            "{m}"
        );
        assert!(stale("ops", 3, 4, None).contains("version 4 now"));
        assert!(
            m.contains("Nothing was saved") && m.contains("If-Match: 4"),
            "{m}"
        );
        assert!(exists("ops", Some(2), None).contains("exists already at version 2:"));
        assert!(exists("ops", Some(2), Some("Bo")).contains("at version 2 (saved by Bo):"));
    }
}
