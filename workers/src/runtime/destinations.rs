//! Destinations editable at run time (issue 16): `PUT /destinations` stores a new list, in the
//! `LLMSCOPE_DESTINATIONS` shape, in D1; from then on every request and the cron use D1's.
//! Until the first `PUT`, `LLMSCOPE_DESTINATIONS` is the list. Destinations name their
//! secrets (`url_secret`, `signing_secret`), which stay Worker secrets: D1 never holds a URL
//! or a key, and no answer shows one.

use super::config::{self, Config};
use super::http::{self, json};
use super::store::{num, Store};
use super::team::audit;
use crate::error::ApiError;
use crate::notify::destination::{self, Destinations};
use crate::team::Caller;
use serde::Deserialize;
use worker::{Env, Request, Response};

type Answer<T> = std::result::Result<T, ApiError>;

/// The largest list accepted, bytes.
const MAX_BYTES: usize = 256 * 1024;

#[derive(Deserialize)]
struct Stored {
    json: String,
}

/// Replaces `config`'s destinations with D1's, when a `PUT /destinations` stored some.
pub async fn load(store: &Store, config: &mut Config) -> Answer<()> {
    let stored = store
        .db()
        .prepare("SELECT json FROM destinations WHERE id = 1")
        .first::<Stored>(None)
        .await
        .map_err(|e| format!("D1: cannot read the destinations: {e}"))?;
    if let Some(s) = stored {
        let webhook = config.webhook.is_some();
        config.destinations = destination::with_legacy(destination::parse(&s.json), webhook);
    }
    Ok(())
}

/// `GET /destinations`: every destination as configured, secrets by name only.
pub fn list(config: &Config) -> Answer<Response> {
    let list: Vec<_> = config
        .destinations
        .valid
        .iter()
        .map(|d| d.to_json())
        .collect();
    json(200, &serde_json::Value::Array(list))
}

/// `PUT /destinations`: checks the list (any problem refuses it whole, naming the destination
/// and field), refuses one that holds a secret's value, stores it, and answers what
/// `GET /destinations` will.
pub async fn put(
    mut req: Request,
    env: &Env,
    store: &Store,
    caller: &Caller,
    config: &mut Config,
) -> Answer<Response> {
    let bytes = super::share::body_within(&mut req, MAX_BYTES, |n| {
        ApiError::TooLarge(format!(
            "the destinations are {n} bytes; at most {MAX_BYTES}"
        ))
    })
    .await?;
    let text = String::from_utf8(bytes).map_err(|_| {
        ApiError::BadRequest("the body is not UTF-8: send a JSON array of destinations".into())
    })?;
    let list = destination::with_legacy(destination::parse(&text), config.webhook.is_some());
    refuse_problems(&list)?;
    let mut secrets = config::all_secret_values(env, config);
    secrets.extend(config::destination_secret_values(env, &list));
    // Values of 8 characters or more: a shorter secret would match ordinary words.
    if secrets
        .iter()
        .any(|s| s.len() >= 8 && text.contains(s.as_str()))
    {
        return Err(ApiError::BadRequest(
            "nothing was changed: the destinations hold the value of one of the Worker's secrets; name the secret instead (url_secret, signing_secret) and keep its value a Worker secret (wrangler secret put)".into(),
        ));
    }
    store
        .db()
        .prepare("INSERT INTO destinations (id, json, t) VALUES (1, ?1, ?2) ON CONFLICT (id) DO UPDATE SET json = excluded.json, t = excluded.t")
        .bind(&[text.as_str().into(), num(http::now_ms() as i64)])?
        .run()
        .await
        .map_err(|e| format!("D1: cannot store the destinations: {e}"))?;
    let names: Vec<&str> = list.valid.iter().map(|d| d.name.as_str()).collect();
    audit(
        store,
        caller,
        "destinations.replace",
        &format!("[{}]", names.join(", ")),
    )
    .await?;
    config.destinations = list;
    self::list(config)
}

fn refuse_problems(list: &Destinations) -> Answer<()> {
    if list.errors.is_empty() {
        return Ok(());
    }
    Err(ApiError::BadRequest(format!(
        "nothing was changed: {}",
        list.errors.join("; ")
    )))
}
