//! The daily digest in the cron run (`LLMSCOPE_DIGEST=daily`): at most once per UTC day, the
//! comparison of every target sent to each destination that takes the digest (`"digest":
//! true`; `LLMSCOPE_WEBHOOK`'s by default), in its kind's message, signed like its alerts, with
//! the same attempts and backoff, secrets redacted, held by its quiet hours. Each destination
//! keeps the state of the last digest it took in D1 (`digest_sent`), so its "changes since"
//! are its own; one a destination refused is tried again on the next cron run.

use super::compare::report;
use super::config::Config;
use super::http;
use super::store::Store;
use super::webhook::Out;
use crate::compare::Query;
use crate::digest::{date, day, message, DigestState};
use crate::error::ApiError;
use crate::notify::destination::{Destination, LEGACY_SECRET};
use crate::notify::{digest_message, Sender};
use llmscope_protocol::compare::Settings;
use worker::Env;

/// Sends today's digest to every destination that takes it and has not had it: how many
/// took it now.
pub async fn send_daily(
    env: &Env,
    config: &Config,
    store: &Store,
    secrets: &[String],
) -> Result<usize, ApiError> {
    if !config.digest {
        return Ok(0);
    }
    let now = http::now_ms();
    let today = day(now);
    let mut due: Vec<(&Destination, Option<DigestState>)> = Vec::new();
    for d in config.destinations.valid.iter().filter(|d| d.digest) {
        if d.quiet_hours.is_some_and(|q| q.covers(now as i64)) {
            continue; // held, as its alerts are
        }
        let legacy = d.url_secret.as_deref() == Some(LEGACY_SECRET);
        let last = store.last_digest(&d.name, legacy).await?;
        if last.as_ref().is_some_and(|(day, _)| *day >= today) {
            continue;
        }
        // A state this version cannot read is taken as none: this digest is then a first one.
        due.push((d, last.and_then(|(_, s)| serde_json::from_str(&s).ok())));
    }
    if due.is_empty() {
        return Ok(0);
    }
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
        Err(ApiError::NotFound(_)) => return Ok(0), // nothing probed yet
        Err(e) => return Err(e),
    };
    let sender = Sender {
        brand: &config.brand,
        link: config.link.as_deref(),
    };
    let state = serde_json::to_string(&DigestState::of(&report, today))?;
    let mut sent = 0;
    for (d, previous) in due {
        let Some(out) = Out::new(env, d, secrets, config.webhook_timeout_ms) else {
            continue; // `/health` names the missing secret
        };
        let (text, data) = message(&config.brand, &report, &window, previous.as_ref(), today);
        let body = digest_message(d, &text, data, &sender);
        let id = format!("{}-digest-{}", d.name, date(today));
        if let Err(why) = out.post_one(&body, &id).await {
            worker::console_error!(
                "llmscope: destination {} did not take the daily digest ({why}); the next cron run tries again",
                d.name
            );
            continue;
        }
        store.save_digest(&d.name, today, &state).await?;
        sent += 1;
    }
    Ok(sent)
}
