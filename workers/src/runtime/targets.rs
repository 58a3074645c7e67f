//! Targets editable at run time (issue 16): `PUT /targets` stores a new list, in the
//! `LLMSCOPE_TARGETS` shape, in D1; from then on every request and the cron use D1's list.
//! Until the first `PUT`, `LLMSCOPE_TARGETS` is the list (it seeds D1's). Targets name their
//! secrets (`key_secret`, ...), which stay Worker secrets: D1 never holds a key.

use super::config::{self, Config};
use super::http::{self, json};
use super::store::{num, Store};
use super::team::audit;
use crate::error::ApiError;
use crate::target;
use crate::team::Caller;
use serde::Deserialize;
use worker::{Env, Request, Response};

type Answer<T> = std::result::Result<T, ApiError>;

/// The largest target list accepted, bytes.
const MAX_BYTES: usize = 1024 * 1024;

#[derive(Deserialize)]
struct Stored {
    json: String,
}

/// Replaces `config`'s targets with D1's, when a `PUT /targets` stored some.
pub async fn load(store: &Store, config: &mut Config) -> Answer<()> {
    let stored = store
        .db()
        .prepare("SELECT json FROM targets WHERE id = 1")
        .first::<Stored>(None)
        .await
        .map_err(|e| format!("D1: cannot read the targets: {e}"))?;
    if let Some(s) = stored {
        config.targets = target::parse(&s.json);
    }
    Ok(())
}

/// `PUT /targets`: checks the list with `LLMSCOPE_TARGETS`'s parser (any problem refuses it
/// whole, naming the target and field), refuses one that holds a secret's value, stores it,
/// and answers what `GET /targets` will.
pub async fn put(
    mut req: Request,
    env: &Env,
    store: &Store,
    caller: &Caller,
    config: &mut Config,
) -> Answer<Response> {
    let bytes = super::share::body_within(&mut req, MAX_BYTES, |n| {
        ApiError::TooLarge(format!(
            "the targets are {n} bytes; this Worker takes at most {MAX_BYTES}"
        ))
    })
    .await?;
    let text = String::from_utf8(bytes).map_err(|_| {
        ApiError::BadRequest("the body is not UTF-8: send a JSON array of targets".into())
    })?;
    let targets = target::parse(&text);
    if !targets.errors.is_empty() {
        let all: Vec<String> = targets.errors.iter().map(ToString::to_string).collect();
        return Err(ApiError::BadRequest(format!(
            "nothing was changed: {}",
            all.join("; ")
        )));
    }
    let mut secrets = config::all_secret_values(env, config);
    secrets.extend(
        targets
            .valid
            .iter()
            .flat_map(|t| config::secret_values(env, t)),
    );
    // Values of 8 characters or more: a shorter secret would match ordinary words.
    if secrets
        .iter()
        .any(|s| s.len() >= 8 && text.contains(s.as_str()))
    {
        return Err(ApiError::BadRequest(
            "nothing was changed: the targets hold the value of one of the Worker's secrets; name the secret instead (key_secret, access_key_secret, ...) and keep its value a Worker secret (wrangler secret put)".into(),
        ));
    }
    store
        .db()
        .prepare("INSERT INTO targets (id, json, t) VALUES (1, ?1, ?2) ON CONFLICT (id) DO UPDATE SET json = excluded.json, t = excluded.t")
        .bind(&[text.as_str().into(), num(http::now_ms() as i64)])?
        .run()
        .await
        .map_err(|e| format!("D1: cannot store the targets: {e}"))?;
    let names: Vec<&str> = targets.valid.iter().map(|t| t.name.as_str()).collect();
    audit(
        store,
        caller,
        "targets.replace",
        &format!("[{}]", names.join(", ")),
    )
    .await?;
    config.targets = targets;
    list(config)
}

/// `GET /targets`: `[{"name", "provider", "model"}]`, never a key or a secret's name.
pub fn list(config: &Config) -> Answer<Response> {
    let list: Vec<_> = config
        .targets
        .valid
        .iter()
        .map(|t| serde_json::json!({"name": t.name, "provider": t.provider.as_str(), "model": t.model}))
        .collect();
    json(200, &serde_json::Value::Array(list))
}
