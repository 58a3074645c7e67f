//! Delivering alerts: D1 is an outbox per destination ([`super::outbox`]). Each cron run
//! routes the new alerts to the destinations that take them (targets, severities), then, per
//! destination outside its quiet hours, sends what waits there and, when it re-notifies, the
//! unacknowledged alerts sent longer ago than its interval: each message with a timeout,
//! [`DELIVERY_ATTEMPTS`] per run with a backoff between them. Only a 2xx answer marks an
//! alert sent there; `/health` counts what still waits, per destination.

use super::config::{string, Config};
use super::http;
use super::outbox::{self, Waiting};
use super::store::Store;
use crate::alert::{delivery_backoff_ms, DELIVERY_ATTEMPTS};
use crate::measure::redact;
use crate::notify::destination::{Destination, Kind, SLACK_POST_MESSAGE};
use crate::notify::{self, batches, Notice, Sender, Severity};
use crate::provider::HttpRequest;
use std::time::Duration;
use worker::{Delay, Env};

/// Alerts routed, and sent per destination, per cron run at most (oldest first).
const PER_RUN: u32 = 50;

/// Routes new alerts, then delivers every destination's; returns how many alerts were sent
/// (a re-notification counts again). A destination whose message is refused after every
/// attempt is left for the next run (it is down: the rest would only wait for it too); the
/// other destinations go on.
pub async fn deliver_pending(
    env: &Env,
    config: &Config,
    store: &Store,
    secrets: &[String],
) -> Result<usize, String> {
    route_new(config, store).await?;
    let now = http::now_ms() as i64;
    let sender = Sender {
        brand: &config.brand,
        link: config.link.as_deref(),
    };
    let mut sent = 0;
    for d in &config.destinations.valid {
        if d.quiet_hours.is_some_and(|q| q.covers(now)) {
            continue; // held: sent at the first run after the quiet hours
        }
        let url = match &d.url_secret {
            Some(name) => secret(env, name),
            None => Some(SLACK_POST_MESSAGE.to_string()),
        };
        let (key, token) = (
            lookup(env, &d.signing_secret),
            lookup(env, &d.bot.as_ref().map(|b| b.token_secret.clone())),
        );
        let (Some(url), Some(key), Some(token)) = (url, key, token) else {
            continue; // `/health` names the missing secret
        };
        let out = Out {
            d,
            url: &url,
            key,
            token,
            secrets,
            timeout_ms: config.webhook_timeout_ms,
        };
        let mut due = notices(outbox::waiting(store, &d.name, PER_RUN).await?);
        if let Some(min) = d.renotify_after_min {
            let before = now - min as i64 * 60_000;
            due.extend(notices(
                outbox::due_again(store, &d.name, before, PER_RUN).await?,
            ));
        }
        sent += out.send(store, due, &sender).await?;
    }
    Ok(sent)
}

fn secret(env: &Env, name: &str) -> Option<String> {
    string(env, name).filter(|v| !v.is_empty())
}

/// An optional secret's value: `Some(None)` when none is named, `None` when the named one is
/// not set.
fn lookup(env: &Env, name: &Option<String>) -> Option<Option<String>> {
    match name {
        None => Some(None),
        Some(n) => secret(env, n).map(Some),
    }
}

fn notices(rows: Vec<Waiting>) -> Vec<Notice> {
    rows.into_iter()
        .map(|w| Notice {
            id: w.id,
            alert: w.alert,
            send: w.sends + 1,
        })
        .collect()
}

/// Gives each unrouted alert a waiting row at every destination that takes it.
async fn route_new(config: &Config, store: &Store) -> Result<(), String> {
    for w in outbox::unrouted(store, PER_RUN).await? {
        let severity = Severity::of(&w.alert);
        let to: Vec<&str> = config
            .destinations
            .valid
            .iter()
            .filter(|d| d.routes(&w.alert.target, severity))
            .map(|d| d.name.as_str())
            .collect();
        outbox::route(store, w.id, &to).await?;
    }
    Ok(())
}

/// One destination's delivery in this run.
struct Out<'a> {
    d: &'a Destination,
    url: &'a str,
    key: Option<String>,
    /// A Slack bot's token.
    token: Option<String>,
    secrets: &'a [String],
    timeout_ms: u64,
}

impl Out<'_> {
    /// Sends the notices in the kind's messages, stopping at the first refused one.
    async fn send(
        &self,
        store: &Store,
        notices: Vec<Notice>,
        sender: &Sender<'_>,
    ) -> Result<usize, String> {
        let mut sent = 0;
        for batch in batches(self.d.kind, notices) {
            let body = redact(
                &notify::message(self.d, &batch, sender).to_string(),
                self.secrets,
            );
            let ids: Vec<i64> = batch.iter().map(|n| n.id).collect();
            let headers = self.headers(&body, &batch[0]);
            let slack_api = self.token.is_some();
            if let Err(why) = post(self.url, headers, body, self.timeout_ms, slack_api).await {
                worker::console_error!(
                    "llmscope: destination {} did not take {} alert(s) after {DELIVERY_ATTEMPTS} attempts ({why}); they wait for the next cron run",
                    self.d.name,
                    ids.len()
                );
                break;
            }
            outbox::sent(store, &self.d.name, &ids, http::now_ms() as i64).await?;
            sent += ids.len();
        }
        Ok(sent)
    }

    /// `content-type`, and for a signed (json) destination `x-webhook-id`
    /// (`<destination>-<alert id>-<send>`: the same for every attempt of one send, so a
    /// receiver can drop a repeat), `x-webhook-timestamp` and `x-webhook-signature`.
    fn headers(&self, body: &str, n: &Notice) -> Vec<(String, String)> {
        let mut h = vec![("content-type".to_string(), "application/json".to_string())];
        if let Some(token) = &self.token {
            h[0].1 = "application/json; charset=utf-8".into();
            h.push(("authorization".into(), format!("Bearer {token}")));
        }
        if let (Kind::Json, Some(key)) = (self.d.kind, &self.key) {
            let now_s = (http::now_ms() / 1000.0) as i64;
            h.push((
                "x-webhook-id".into(),
                format!("{}-{}-{}", self.d.name, n.id, n.send),
            ));
            h.push(("x-webhook-timestamp".into(), now_s.to_string()));
            h.push((
                "x-webhook-signature".into(),
                notify::signature(key, now_s, body),
            ));
        }
        h
    }
}

/// POSTs one message with `headers`, retrying: `Ok` once the receiver answers 2xx (and, for
/// Slack's Web API, `"ok": true`: it answers 200 to a refused call too).
pub async fn post(
    url: &str,
    headers: Vec<(String, String)>,
    body: String,
    timeout_ms: u64,
    slack_api: bool,
) -> Result<(), String> {
    let request = HttpRequest {
        method: "POST".into(),
        url: url.to_string(),
        headers,
        body: body.into_bytes(),
    };
    let mut why = String::new();
    for attempt in 0..DELIVERY_ATTEMPTS {
        let wait = delivery_backoff_ms(attempt);
        if wait > 0 {
            Delay::from(Duration::from_millis(wait)).await;
        }
        match http::send_within(&request, timeout_ms, slack_api).await {
            Ok((status, _)) if !(200..300).contains(&status) => {
                why = format!("it answered HTTP {status}")
            }
            Ok((_, answer)) if slack_api => match notify::slack_api_ok(&answer) {
                Ok(()) => return Ok(()),
                Err(e) => why = e,
            },
            Ok(_) => return Ok(()),
            Err(e) => why = e,
        }
    }
    Err(why)
}

/// POSTs JSON (the daily digest), retrying as alerts are.
pub async fn post_json(url: &str, body: String, timeout_ms: u64) -> Result<(), String> {
    let headers = vec![("content-type".to_string(), "application/json".to_string())];
    post(url, headers, body, timeout_ms, false).await
}
