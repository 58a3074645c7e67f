//! Delivering alerts: D1's `alerts` table is an outbox. The cron run records each new alert
//! undelivered, then POSTs every undelivered one (new, and those earlier runs could not
//! deliver), one message per target, each attempt with a timeout, [`DELIVERY_ATTEMPTS`] per
//! run with a backoff between them. Only a 2xx answer marks an alert delivered; `/health`
//! (with the token) counts those still waiting.

use super::config::Config;
use super::http;
use super::store::Store;
use crate::alert::{delivery_backoff_ms, pending_messages, DELIVERY_ATTEMPTS};
use crate::measure::redact;
use crate::provider::HttpRequest;
use std::time::Duration;
use worker::Delay;

/// Undelivered alerts sent per cron run at most (oldest first).
const PER_RUN: u32 = 50;

/// Sends every undelivered alert it can; returns how many were delivered. A message refused
/// after every attempt ends this run's deliveries (the webhook is down: the rest would only
/// wait for it too) and stays in the outbox for the next run.
pub async fn deliver_pending(
    config: &Config,
    store: &Store,
    secrets: &[String],
) -> Result<usize, String> {
    let Some(url) = &config.webhook else {
        return Ok(0);
    };
    let pending = store.undelivered(PER_RUN).await?;
    let mut delivered = 0;
    for (ids, body) in pending_messages(&pending) {
        let body = redact(&body.to_string(), secrets);
        match post(url, body, config.webhook_timeout_ms).await {
            Ok(()) => {
                store.mark_delivered(&ids).await?;
                delivered += ids.len();
            }
            Err(why) => {
                worker::console_error!(
                    "llmscope: the webhook did not take {} alert(s) after {DELIVERY_ATTEMPTS} attempts ({why}); they wait for the next cron run",
                    ids.len()
                );
                break;
            }
        }
    }
    Ok(delivered)
}

/// POSTs one message, retrying: `Ok` once the webhook answers 2xx. The daily digest is
/// delivered with it too.
pub async fn post(url: &str, body: String, timeout_ms: u64) -> Result<(), String> {
    let request = HttpRequest {
        method: "POST".into(),
        url: url.to_string(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.into_bytes(),
    };
    let mut why = String::new();
    for attempt in 0..DELIVERY_ATTEMPTS {
        let wait = delivery_backoff_ms(attempt);
        if wait > 0 {
            Delay::from(Duration::from_millis(wait)).await;
        }
        match http::send_within(&request, timeout_ms).await {
            Ok(status) if (200..300).contains(&status) => return Ok(()),
            Ok(status) => why = format!("it answered HTTP {status}"),
            Err(e) => why = e,
        }
    }
    Err(why)
}
