//! Targets editable at run time (issue 16): `PUT /targets` stores a new list, in the
//! `LLMSCOPE_TARGETS` shape, in D1; from then on every request and the cron use D1's list.
//! Until the first `PUT`, `LLMSCOPE_TARGETS` is the list (it seeds D1's). Targets name their
//! secrets (`key_secret`, ...), which stay Worker secrets: D1 never holds a key.

use super::config::{self, Config};
use super::http::json;
use super::store::Store;
use super::stored;
use super::team::audit;
use crate::error::ApiError;
use crate::target;
use crate::team::Caller;
use worker::{Env, Request, Response};

type Answer<T> = std::result::Result<T, ApiError>;

/// The largest target list accepted, bytes.
const MAX_BYTES: usize = 1024 * 1024;

/// Replaces `config`'s targets with D1's, when a `PUT /targets` stored some.
pub async fn load(store: &Store, config: &mut Config) -> Answer<()> {
    if let Some(json) = stored::load(store, "targets").await? {
        config.targets = target::parse(&json);
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
    let text = stored::body(&mut req, MAX_BYTES, "targets").await?;
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
    let fields = "key_secret, access_key_secret, ...";
    stored::refuse_secret_values(&text, &secrets, "targets", fields)?;
    stored::save(store, "targets", &text).await?;
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
