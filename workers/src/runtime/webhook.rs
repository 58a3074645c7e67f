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
use crate::error::ApiError;
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
        let Some(out) = Out::new(env, d, secrets, config.webhook_timeout_ms) else {
            continue; // `/health` names the missing secret
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

/// What [`reroute_orphans`] did: alerts moved to the destinations that take them now, and
/// alerts no destination takes (their ids).
#[derive(Default)]
pub struct Rerouted {
    /// Alerts given to the current routing.
    pub rerouted: usize,
    /// Alerts no destination takes.
    pub unroutable: Vec<i64>,
}

/// Re-routes the alerts waiting for destinations that are gone (removed, or renamed: a
/// `PUT /destinations` or a redeploy) through the current routing, at most [`PER_RUN`] * 20 a
/// call, and writes what it did to the audit log as `who`. Nothing is done while the list has
/// problems (a destination with a typo would otherwise lose its alerts).
pub async fn reroute_orphans(
    config: &Config,
    store: &Store,
    who: &crate::team::Caller,
) -> Result<Rerouted, ApiError> {
    let mut done = Rerouted::default();
    if !config.destinations.errors.is_empty() {
        return Ok(done);
    }
    let valid = &config.destinations.valid;
    let names: Vec<&str> = valid.iter().map(|d| d.name.as_str()).collect();
    let orphans = outbox::orphans(store, &names, PER_RUN * 20).await?;
    let mut gone: Vec<&str> = Vec::new();
    let mut rerouted: Vec<i64> = Vec::new();
    for o in &orphans {
        let to = takers(config, &o.waiting.alert);
        outbox::rehome(store, o, &to).await?;
        let ids = if to.is_empty() {
            &mut done.unroutable
        } else {
            &mut rerouted
        };
        if !ids.contains(&o.waiting.id) {
            ids.push(o.waiting.id);
        }
        if !gone.contains(&o.destination.as_str()) {
            gone.push(&o.destination);
        }
    }
    done.rerouted = rerouted.len();
    if !orphans.is_empty() {
        let ids: Vec<String> = done.unroutable.iter().map(i64::to_string).collect();
        let what = format!(
            "from [{}]: {} re-routed, {} taken by no destination ({})",
            gone.join(", "),
            done.rerouted,
            ids.len(),
            ids.join(", ")
        );
        super::team::audit(store, who, "alerts.reroute", &what).await?;
    }
    Ok(done)
}

/// Gives each unrouted alert a waiting row at every destination that takes it.
async fn route_new(config: &Config, store: &Store) -> Result<(), String> {
    for w in outbox::unrouted(store, PER_RUN).await? {
        outbox::route(store, w.id, &takers(config, &w.alert)).await?;
    }
    Ok(())
}

/// The destinations that take `alert`: its target's and its severity's.
fn takers<'a>(config: &'a Config, alert: &crate::alert::Alert) -> Vec<&'a str> {
    let severity = Severity::of(alert);
    config
        .destinations
        .valid
        .iter()
        .filter(|d| d.routes(&alert.target, severity))
        .map(|d| d.name.as_str())
        .collect()
}

/// One destination's delivery in this run.
pub struct Out<'a> {
    d: &'a Destination,
    url: String,
    key: Option<String>,
    /// A Slack bot's token.
    token: Option<String>,
    secrets: &'a [String],
    timeout_ms: u64,
}

impl<'a> Out<'a> {
    /// `d`'s delivery, when the Worker has every secret it names.
    pub fn new(
        env: &Env,
        d: &'a Destination,
        secrets: &'a [String],
        timeout_ms: u64,
    ) -> Option<Self> {
        let url = match &d.url_secret {
            Some(name) => secret(env, name)?,
            None => SLACK_POST_MESSAGE.to_string(),
        };
        let key = lookup(env, &d.signing_secret)?;
        let token = lookup(env, &d.bot.as_ref().map(|b| b.token_secret.clone()))?;
        Some(Out {
            d,
            url,
            key,
            token,
            secrets,
            timeout_ms,
        })
    }

    /// POSTs one message (`id` is its `x-webhook-id` when signed), secrets redacted, with
    /// the retries of [`post`].
    pub async fn post_one(&self, body: &serde_json::Value, id: &str) -> Result<(), String> {
        let body = redact(&body.to_string(), self.secrets);
        let headers = self.headers(&body, id);
        let slack_api = self.token.is_some();
        post(&self.url, headers, body, self.timeout_ms, slack_api).await
    }

    /// Sends the notices in the kind's messages, stopping at the first refused one.
    async fn send(
        &self,
        store: &Store,
        notices: Vec<Notice>,
        sender: &Sender<'_>,
    ) -> Result<usize, String> {
        let mut sent = 0;
        for batch in batches(self.d.kind, notices) {
            let body = notify::message(self.d, &batch, sender);
            let ids: Vec<i64> = batch.iter().map(|n| n.id).collect();
            let id = format!("{}-{}-{}", self.d.name, batch[0].id, batch[0].send);
            if let Err(why) = self.post_one(&body, &id).await {
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

    /// `content-type`, and for a signed (json) destination `x-webhook-id` (an alert's
    /// `<destination>-<alert id>-<send>`, a digest's `<destination>-digest-<date>`: the same
    /// for every attempt of one send, so a receiver can drop a repeat), `x-webhook-timestamp`
    /// and `x-webhook-signature`.
    fn headers(&self, body: &str, id: &str) -> Vec<(String, String)> {
        let mut h = vec![("content-type".to_string(), "application/json".to_string())];
        if let Some(token) = &self.token {
            h[0].1 = "application/json; charset=utf-8".into();
            h.push(("authorization".into(), format!("Bearer {token}")));
        }
        if let (Kind::Json, Some(key)) = (self.d.kind, &self.key) {
            let now_s = (http::now_ms() / 1000.0) as i64;
            h.push(("x-webhook-id".into(), id.to_string()));
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
