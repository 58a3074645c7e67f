//! Destinations editable at run time (issue 16): `PUT /destinations` stores a new list, in the
//! `LLMSCOPE_DESTINATIONS` shape, in D1; from then on every request and the cron use D1's.
//! Until the first `PUT`, `LLMSCOPE_DESTINATIONS` is the list. Destinations name their
//! secrets (`url_secret`, `signing_secret`), which stay Worker secrets: D1 never holds a URL
//! or a key, and no answer shows one.

use super::config::{self, Config};
use super::http::json;
use super::store::Store;
use super::stored;
use super::team::audit;
use crate::error::ApiError;
use crate::notify::destination;
use crate::team::Caller;
use worker::{Env, Request, Response};

type Answer<T> = std::result::Result<T, ApiError>;

/// The largest list accepted, bytes.
const MAX_BYTES: usize = 256 * 1024;

/// Replaces `config`'s destinations with D1's, when a `PUT /destinations` stored some.
pub async fn load(store: &Store, config: &mut Config) -> Answer<()> {
    if let Some(json) = stored::load(store, "destinations").await? {
        let webhook = config.webhook.is_some();
        config.destinations = destination::with_legacy(destination::parse(&json), webhook);
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
/// and field), refuses one that holds a secret's value, stores it, re-routes the alerts that
/// waited for a destination it no longer has, and answers what `GET /destinations` will, with
/// the [`REROUTED`] and [`UNROUTABLE`] counts in headers.
pub async fn put(
    mut req: Request,
    env: &Env,
    store: &Store,
    caller: &Caller,
    config: &mut Config,
) -> Answer<Response> {
    let text = stored::body(&mut req, MAX_BYTES, "destinations").await?;
    let list = destination::with_legacy(destination::parse(&text), config.webhook.is_some());
    if !list.errors.is_empty() {
        return Err(ApiError::BadRequest(format!(
            "nothing was changed: {}",
            list.errors.join("; ")
        )));
    }
    let mut secrets = config::all_secret_values(env, config);
    secrets.extend(config::destination_secret_values(env, &list));
    let fields = "url_secret, signing_secret";
    stored::refuse_secret_values(&text, &secrets, "destinations", fields)?;
    stored::save(store, "destinations", &text).await?;
    let names: Vec<&str> = list.valid.iter().map(|d| d.name.as_str()).collect();
    let target = format!("[{}]", names.join(", "));
    audit(store, caller, "destinations.replace", &target).await?;
    config.destinations = list;
    let moved = super::webhook::reroute_orphans(config, store, caller).await?;
    let mut answer = self::list(config)?;
    let h = answer.headers_mut();
    h.set(REROUTED, &moved.rerouted.to_string())?;
    h.set(UNROUTABLE, &moved.unroutable.len().to_string())?;
    Ok(answer)
}

/// `PUT /destinations`' headers: alerts that waited for a destination no longer listed, given
/// to the current routing, and those no destination takes.
pub const REROUTED: &str = "x-alerts-rerouted";
/// See [`REROUTED`].
pub const UNROUTABLE: &str = "x-alerts-unroutable";
