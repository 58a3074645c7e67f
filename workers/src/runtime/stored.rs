//! A list editable at run time and kept whole in one D1 row (`targets`, `destinations`): read
//! it, take a new one from a request, refuse one holding a secret's value, store it.

use super::http;
use super::store::{num, Store};
use crate::error::ApiError;
use serde::Deserialize;
use worker::Request;

type Answer<T> = std::result::Result<T, ApiError>;

#[derive(Deserialize)]
struct Row {
    json: String,
}

/// The list `table` holds, when a `PUT` stored one.
pub async fn load(store: &Store, table: &str) -> Answer<Option<String>> {
    let row = store
        .db()
        .prepare(format!("SELECT json FROM {table} WHERE id = 1"))
        .first::<Row>(None)
        .await
        .map_err(|e| format!("D1: cannot read the {table}: {e}"))?;
    Ok(row.map(|r| r.json))
}

/// A `PUT`'s body, at most `max` bytes (413 past it), as text.
pub async fn body(req: &mut Request, max: usize, what: &str) -> Answer<String> {
    let bytes = super::share::body_within(req, max, |n| {
        ApiError::TooLarge(format!(
            "the {what} are {n} bytes; this Worker takes at most {max}"
        ))
    })
    .await?;
    String::from_utf8(bytes).map_err(|_| {
        ApiError::BadRequest(format!(
            "the body is not UTF-8: send a JSON array of {what}"
        ))
    })
}

/// Refuses a list holding the value of any of `secrets` of 8 characters or more (a shorter
/// one would match ordinary words); `fields` says which fields name secrets instead.
pub fn refuse_secret_values(
    text: &str,
    secrets: &[String],
    what: &str,
    fields: &str,
) -> Answer<()> {
    if secrets
        .iter()
        .any(|s| s.len() >= 8 && text.contains(s.as_str()))
    {
        return Err(ApiError::BadRequest(format!(
            "nothing was changed: the {what} hold the value of one of the Worker's secrets; name the secret instead ({fields}) and keep its value a Worker secret (wrangler secret put)"
        )));
    }
    Ok(())
}

/// Stores the list in `table`, replacing the one there.
pub async fn save(store: &Store, table: &str, text: &str) -> Answer<()> {
    store
        .db()
        .prepare(format!("INSERT INTO {table} (id, json, t) VALUES (1, ?1, ?2) ON CONFLICT (id) DO UPDATE SET json = excluded.json, t = excluded.t"))
        .bind(&[text.into(), num(http::now_ms() as i64)])?
        .run()
        .await
        .map_err(|e| format!("D1: cannot store the {table}: {e}"))?;
    Ok(())
}
