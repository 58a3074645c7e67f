//! Alerts that trigger work (issue 16): where each alert goes and what it says there. Pure, so
//! every message, route and signature is tested natively; `runtime/webhook.rs` only reads the
//! outbox, sends and records.
//!
//! - [`destination`]: the destinations' configuration, routing (targets, severities), quiet
//!   hours and re-notification.
//! - [`template`]: the message templates' placeholders.
//! - [`slack`]: Slack's request signature and its interaction payloads (the Acknowledge
//!   button and the Set cause menu).
//! - here: the message of each kind (Slack Block Kit, a Teams Adaptive Card, signed JSON, the
//!   Slack-compatible message `LLMSCOPE_WEBHOOK` always had) and the generic signature.

pub mod destination;
pub mod slack;
pub mod template;

use crate::alert::Alert;
use destination::{Destination, Kind};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::BTreeMap;

/// How urgent an alert is, for routing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// A control chart rejected a point: the process has changed.
    Signal,
    /// A forecast says a limit will be reached: it has not changed yet.
    Predictive,
}

impl Severity {
    /// The alert's severity.
    pub fn of(alert: &Alert) -> Severity {
        if alert.forecast.is_some() {
            Severity::Predictive
        } else {
            Severity::Signal
        }
    }

    /// The name in the configuration and the messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Signal => "signal",
            Severity::Predictive => "predictive",
        }
    }

    /// Reads a severity's name.
    pub fn parse(s: &str) -> Result<Severity, String> {
        [Severity::Signal, Severity::Predictive]
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not a severity: use signal or predictive"))
    }
}

/// The assignable causes a person may set on an alert (Slack's Set cause menu, `POST
/// /alerts/{id}/ack`): the ones the dashboard offers for LLM targets.
pub use llmscope_protocol::causes::LLM as CAUSES;

/// Checks a cause a person set: one of [`CAUSES`].
pub fn cause(s: &str) -> Result<&'static str, String> {
    CAUSES
        .into_iter()
        .find(|c| *c == s)
        .ok_or_else(|| format!("cause: {s:?} is not one of: {}", CAUSES.join(", ")))
}

/// Who sends, and where a reader goes to look.
pub struct Sender<'a> {
    /// The brand's name (`LLMSCOPE_BRAND`).
    pub brand: &'a str,
    /// `LLMSCOPE_DASHBOARD_URL`.
    pub link: Option<&'a str>,
}

/// One alert to send: its outbox id and which send to its destination this is.
#[derive(Clone, Debug)]
pub struct Notice {
    /// The alert's id in D1 (`GET /alerts`).
    pub id: i64,
    /// The alert.
    pub alert: Alert,
    /// 1 for the first send; more for a re-notification (sent before, unacknowledged).
    pub send: i64,
}

impl Notice {
    /// Whether it was sent before.
    pub fn reminder(&self) -> bool {
        self.send > 1
    }
}

/// What a re-notification says first.
pub const REMINDER: &str = "Reminder, still unacknowledged:";

/// The notices of one cron run for one destination, in messages: one per target for a
/// `slack-compatible` destination (a shift moves TTFT and total latency together: one
/// incident, one message, as `LLMSCOPE_WEBHOOK` always did), one per alert otherwise (so its
/// buttons act on one alert).
pub fn batches(kind: Kind, notices: Vec<Notice>) -> Vec<Vec<Notice>> {
    if kind != Kind::SlackCompatible {
        return notices.into_iter().map(|n| vec![n]).collect();
    }
    let mut out: Vec<Vec<Notice>> = Vec::new();
    for n in notices {
        let at = out
            .iter()
            .position(|b| b[0].alert.target == n.alert.target && b[0].reminder() == n.reminder());
        match at {
            Some(i) => out[i].push(n),
            None => out.push(vec![n]),
        }
    }
    out
}

/// The placeholders' values for one alert; `escape` makes a value safe in the kind's markup.
fn values(n: &Notice, s: &Sender, escape: fn(&str) -> String) -> BTreeMap<&'static str, String> {
    let a = &n.alert;
    let why = a.why.as_ref();
    let time = chrono::DateTime::from_timestamp_millis(a.t)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default();
    let why_lines: Vec<String> = why
        .map(|w| w.describe())
        .unwrap_or_default()
        .iter()
        .map(|l| format!("  {l}"))
        .collect();
    let cause = why
        .and_then(|w| w.suggestion.as_ref())
        .map_or("none suggested".to_string(), |c| c.cause.clone());
    let raw = [
        ("brand", s.brand.to_string()),
        ("target", a.target.clone()),
        ("severity", Severity::of(a).as_str().into()),
        ("metric", a.metric.into()),
        ("value", format!("{:.3}", a.value)),
        ("center", format!("{:.3}", a.center)),
        ("limits", a.limits()),
        ("rules", a.fired()),
        ("summary", a.describe()),
        ("why", why_lines.join("\n")),
        ("cause", cause),
        ("shape", why.map_or("unknown".into(), |w| w.shape.clone())),
        ("time", time),
        ("id", n.id.to_string()),
        ("link", s.link.unwrap_or_default().to_string()),
    ];
    raw.into_iter().map(|(k, v)| (k, escape(&v))).collect()
}

fn plain(s: &str) -> String {
    s.to_string()
}

/// Slack's mrkdwn escapes: `&`, `<` and `>` only (Slack, "Formatting text for app surfaces").
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One alert's text under `d`'s template.
pub fn text(d: &Destination, n: &Notice, s: &Sender) -> String {
    let escape: fn(&str) -> String = if d.kind == Kind::Slack {
        slack_escape
    } else {
        plain
    };
    let body = d.template.render(&values(n, s, escape));
    if n.reminder() && d.kind != Kind::SlackCompatible {
        format!("{REMINDER} {body}")
    } else {
        body
    }
}

/// The body of one message to `d` (a batch of [`batches`]).
pub fn message(d: &Destination, batch: &[Notice], s: &Sender) -> Value {
    let Some(first) = batch.first() else {
        return Value::Null;
    };
    match d.kind {
        Kind::SlackCompatible => slack_compatible(d, batch, s),
        Kind::Slack => {
            let mut body = slack_blocks(d, first, s);
            if let Some(bot) = &d.bot {
                body["channel"] = json!(bot.channel);
            }
            body
        }
        Kind::Teams => teams_card(&text(d, first, s), s.link),
        Kind::Json => json_body(d, first, s),
    }
}

/// `{"text": "<brand>: <target>\n<each alert>", "llmscope": {"target", "alerts"}}`: the
/// message `LLMSCOPE_WEBHOOK` always had.
fn slack_compatible(d: &Destination, batch: &[Notice], s: &Sender) -> Value {
    let target = &batch[0].alert.target;
    let lines: Vec<String> = batch.iter().map(|n| text(d, n, s)).collect();
    let reminder = if batch[0].reminder() {
        format!("{REMINDER} ")
    } else {
        String::new()
    };
    let text = format!("{reminder}{}: {target}\n{}", s.brand, lines.join("\n"));
    let alerts: Vec<&Alert> = batch.iter().map(|n| &n.alert).collect();
    json!({ "text": text, "llmscope": { "target": target, "alerts": alerts } })
}

/// The most characters of a Slack section's text.
const SLACK_SECTION: usize = 3000;

fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &s[..end]),
        None => s.to_string(),
    }
}

/// A Slack message: `text` (notifications, and clients without blocks), the same text as a
/// section, and when interactive an actions block whose `block_id` is `alert:<id>`: the
/// Acknowledge button (`action_id` `ack`) and the Set cause menu (`cause`, a static select
/// of [`CAUSES`]).
fn slack_blocks(d: &Destination, n: &Notice, s: &Sender) -> Value {
    let text = text(d, n, s);
    let section = cut(&text, SLACK_SECTION - 1);
    let mut blocks = vec![json!({"type": "section", "text": {"type": "mrkdwn", "text": section}})];
    if d.interactive {
        blocks.push(actions(n.id, &Marks::default()));
    }
    json!({ "text": text, "blocks": blocks })
}

/// What people did to an alert so far: who acknowledged it, its cause and who set it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Marks {
    /// Who acknowledged it (a member's name, or `slack:<user>`).
    pub acked_by: Option<String>,
    /// Its cause.
    pub cause: Option<String>,
    /// Who set the cause.
    pub cause_by: Option<String>,
}

fn option(c: &str) -> Value {
    json!({"text": {"type": "plain_text", "text": c}, "value": c})
}

/// An alert's actions block, `block_id` `alert:<id>`: the Acknowledge button (`ack`) until
/// it is acknowledged, and the Set cause menu (`cause`, a static select of [`CAUSES`]) showing
/// the cause once one is set.
fn actions(id: i64, marks: &Marks) -> Value {
    let mut elements = Vec::new();
    if marks.acked_by.is_none() {
        elements.push(
            json!({"type": "button", "action_id": "ack", "style": "primary",
            "value": id.to_string(), "text": {"type": "plain_text", "text": "Acknowledge"}}),
        );
    }
    let mut menu = json!({"type": "static_select", "action_id": "cause",
        "options": CAUSES.iter().map(|c| option(c)).collect::<Vec<_>>(),
        "placeholder": {"type": "plain_text", "text": "Set cause"}});
    if let Some(c) = marks.cause.as_deref().filter(|c| CAUSES.contains(c)) {
        menu["initial_option"] = option(c);
    }
    elements.push(menu);
    json!({"type": "actions", "block_id": format!("alert:{id}"), "elements": elements})
}

/// How a Slack message names a person: a Slack user by their Slack name, a member by theirs.
fn who(name: &str) -> String {
    slack_escape(name.strip_prefix("slack:").unwrap_or(name))
}

/// The update of a Slack message after a press (POSTed to its `response_url`): the original
/// message (`original`, as Slack sent it back) with `replace_original`, a context block
/// (`block_id` `marks:<id>`) saying who acknowledged it and which cause was set by whom, and
/// the actions block as [`actions`] has it now (no Acknowledge button once acknowledged).
pub fn slack_update(original: Option<&Value>, id: i64, marks: &Marks) -> Value {
    let ours = [format!("alert:{id}"), format!("marks:{id}")];
    let mut blocks: Vec<Value> = original
        .and_then(|m| m["blocks"].as_array())
        .map(|b| {
            b.iter()
                .filter(|b| !ours.iter().any(|o| b["block_id"] == o.as_str()))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let text = original
        .and_then(|m| m["text"].as_str())
        .map_or_else(|| format!("alert {id}"), str::to_string);
    if blocks.is_empty() {
        let section = cut(&text, SLACK_SECTION - 1);
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": section}}));
    }
    let mut said = Vec::new();
    if let Some(by) = &marks.acked_by {
        said.push(format!("Acknowledged by {}", who(by)));
    }
    if let Some(c) = &marks.cause {
        let by = marks.cause_by.as_deref().map(who).unwrap_or_default();
        said.push(format!("Cause: {} (set by {by})", slack_escape(c)));
    }
    if !said.is_empty() {
        blocks.push(json!({"type": "context", "block_id": format!("marks:{id}"),
            "elements": [{"type": "mrkdwn", "text": said.join(" · ")}]}));
    }
    blocks.push(actions(id, marks));
    json!({"replace_original": true, "text": text, "blocks": blocks})
}

/// A Teams message with one Adaptive Card (Microsoft, "Create and send messages" for
/// incoming webhooks and Workflows: `type` `message`, an attachment of `contentType`
/// `application/vnd.microsoft.card.adaptive`): the first line as the title, a text block a
/// line, and a button to the dashboard when there is a link.
pub fn teams_card(text: &str, link: Option<&str>) -> Value {
    let mut lines = text.lines();
    let title = lines.next().unwrap_or_default();
    let mut body = vec![
        json!({"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium", "wrap": true}),
    ];
    body.extend(
        lines.filter(|l| !l.trim().is_empty()).map(
            |l| json!({"type": "TextBlock", "text": l.trim(), "wrap": true, "spacing": "Small"}),
        ),
    );
    let mut card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    });
    if let Some(url) = link.filter(|l| !l.is_empty()) {
        card["actions"] =
            json!([{"type": "Action.OpenUrl", "title": "Open the dashboard", "url": url}]);
    }
    json!({
        "type": "message",
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": null, "content": card}]
    })
}

/// The generic JSON: `{"type": "alert"|"reminder", "sender", "destination", "text", "link",
/// "alert": {"id", "severity", <the alert's fields>}}`.
fn json_body(d: &Destination, n: &Notice, s: &Sender) -> Value {
    let mut alert = serde_json::to_value(&n.alert).unwrap_or(Value::Null);
    if let Some(o) = alert.as_object_mut() {
        o.insert("id".into(), json!(n.id));
        o.insert("severity".into(), json!(Severity::of(&n.alert).as_str()));
    }
    json!({
        "type": if n.reminder() { "reminder" } else { "alert" },
        "sender": s.brand,
        "destination": d.name,
        "text": text(d, n, s),
        "link": s.link,
        "alert": alert,
    })
}

/// The daily digest's message to `d` (`text` and `data` from [`crate::digest::message`]):
/// `slack-compatible` `{"text", "llmscope": {"digest": data}}` as the digest always was;
/// `slack` the text as a section (and a bot's channel); `teams` an Adaptive Card; `json`
/// `{"type": "digest", "sender", "destination", "text", "link", "digest": data}`, signed as
/// alerts are.
pub fn digest_message(d: &Destination, text: &str, data: Value, s: &Sender) -> Value {
    match d.kind {
        Kind::SlackCompatible => json!({ "text": text, "llmscope": { "digest": data } }),
        Kind::Slack => {
            let escaped = slack_escape(text);
            let section = cut(&escaped, SLACK_SECTION - 1);
            let mut body = json!({
                "text": escaped,
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": section}}],
            });
            if let Some(bot) = &d.bot {
                body["channel"] = json!(bot.channel);
            }
            body
        }
        Kind::Teams => teams_card(text, s.link),
        Kind::Json => json!({
            "type": "digest",
            "sender": s.brand,
            "destination": d.name,
            "text": text,
            "link": s.link,
            "digest": data,
        }),
    }
}

/// The generic webhook's signature header (`X-Webhook-Signature`): `v1=` and the hex
/// HMAC-SHA256, keyed with the signing secret's bytes, of `{timestamp}.{body}`, where
/// `timestamp` is `X-Webhook-Timestamp` (Unix seconds) and `body` the exact bytes sent: the
/// form Stripe and GitHub use, so a receiver checks both that the body is ours and that it is
/// recent.
pub fn signature(key: &str, timestamp_s: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256>>::new_from_slice(key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(format!("{timestamp_s}.").as_bytes());
    mac.update(body.as_bytes());
    format!("v1={}", hex(&mac.finalize().into_bytes()))
}

/// Whether Slack's Web API took a call: it answers 200 with `{"ok": false, "error"}` when it
/// did not, so a bot's delivery reads the body, not only the status.
pub fn slack_api_ok(body: &str) -> Result<(), String> {
    let v: Value = serde_json::from_str(body).map_err(|_| {
        let start: String = body.chars().take(100).collect();
        format!("Slack's answer is not JSON: {start:?}")
    })?;
    if v["ok"] == json!(true) {
        return Ok(());
    }
    let error = v["error"].as_str().unwrap_or("no error given");
    Err(format!("Slack answered ok: false ({error})"))
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
pub(crate) mod tests;
