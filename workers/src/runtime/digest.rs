//! The daily digest in the cron run (`LLMSCOPE_DIGEST=daily`): at most once per UTC day, the
//! comparison of every target POSTed to the webhook like the alerts (the same URL, the same
//! attempts and backoff, secrets redacted). Only a delivered digest is recorded in D1; one the
//! webhook refused is tried again on the next cron run.

use super::compare::report;
use super::config::Config;
use super::http;
use super::store::Store;
use super::webhook::post_json;
use crate::compare::Query;
use crate::digest::{day, message, DigestState};
use crate::error::ApiError;
use crate::measure::redact;
use llmscope_protocol::compare::Settings;

/// Sends today's digest unless it was sent already: `true` when one was delivered now.
pub async fn send_daily(
    config: &Config,
    store: &Store,
    secrets: &[String],
) -> Result<bool, ApiError> {
    let Some(url) = config.webhook.as_deref().filter(|_| config.digest) else {
        return Ok(false);
    };
    let today = day(http::now_ms());
    let last = store.last_digest().await?;
    if last.as_ref().is_some_and(|(day, _)| *day >= today) {
        return Ok(false);
    }
    // A state this version cannot read is taken as none: this digest is then a first one.
    let previous: Option<DigestState> = last.and_then(|(_, s)| serde_json::from_str(&s).ok());
    let query = Query {
        targets: config
            .targets
            .valid
            .iter()
            .map(|t| t.name.clone())
            .collect(),
        since: 0,
        settings: Settings {
            prices: config.prices.clone(),
            ..Settings::default()
        },
    };
    let (report, window) = match report(store, &query).await {
        Ok(r) => r,
        Err(ApiError::NotFound(_)) => return Ok(false), // nothing probed yet
        Err(e) => return Err(e),
    };
    let body = message(&config.brand, &report, &window, previous.as_ref(), today);
    let body = redact(&body.to_string(), secrets);
    if let Err(why) = post_json(url, body, config.webhook_timeout_ms).await {
        worker::console_error!(
            "llmscope: the webhook did not take the daily digest ({why}); the next cron run tries again"
        );
        return Ok(false);
    }
    let state = serde_json::to_string(&DigestState::of(&report, today))?;
    store.save_digest(today, &state).await?;
    Ok(true)
}
