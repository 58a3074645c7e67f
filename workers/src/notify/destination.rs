//! Where alerts go (issue 16, "Alerts that trigger work"): destinations, each with its kind,
//! the secret holding its URL (the configuration names secrets, never holds them), its
//! message template, which targets and severities it takes, its quiet hours and its
//! re-notification interval. `LLMSCOPE_DESTINATIONS` seeds the list, `PUT /destinations`
//! replaces it at run time; `LLMSCOPE_WEBHOOK` stays a destination of its own (`webhook`,
//! kind `slack-compatible`, everything routed to it) unless a listed one names it.

use super::template::Template;
use super::Severity;
use serde::Deserialize;
use serde_json::{json, Value};

/// The secret of the destination `LLMSCOPE_WEBHOOK` makes.
pub const LEGACY_SECRET: &str = "LLMSCOPE_WEBHOOK";
/// That destination's name.
pub const LEGACY_NAME: &str = "webhook";
/// Where a Slack bot posts: Slack's Web API method `chat.postMessage`.
pub const SLACK_POST_MESSAGE: &str = "https://slack.com/api/chat.postMessage";
/// Destinations at most: each costs D1 queries and subrequests in every cron run.
pub const MAX_DESTINATIONS: usize = 20;
/// The longest template, characters (Slack cuts a section's text at 3000).
const MAX_TEMPLATE: usize = 3000;
/// The longest re-notification interval, minutes: a week.
const MAX_RENOTIFY_MIN: u64 = 10_080;

/// What a destination speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A Slack incoming webhook: `text` and Block Kit `blocks`, with the Acknowledge button
    /// and the Set cause menu when `interactive`.
    Slack,
    /// A Microsoft Teams incoming webhook or Workflows trigger: a message with one Adaptive
    /// Card attachment.
    Teams,
    /// Any receiver: the alert as JSON, signed (HMAC-SHA256 of `{timestamp}.{body}`).
    Json,
    /// The message `LLMSCOPE_WEBHOOK` always had: `{"text", "llmscope": {"target",
    /// "alerts"}}`, one message per target (Slack, Mattermost, Discord's `/slack` endpoint).
    SlackCompatible,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::Slack, Kind::Teams, Kind::Json, Kind::SlackCompatible];

    /// The name in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Slack => "slack",
            Kind::Teams => "teams",
            Kind::Json => "json",
            Kind::SlackCompatible => "slack-compatible",
        }
    }

    /// The template used when a destination gives none.
    pub fn default_template(self) -> &'static str {
        match self {
            Kind::SlackCompatible => "• {summary}\n{why}",
            Kind::Slack => "*{brand}* {severity} alert: *{target}*\n{summary}\n{why}",
            Kind::Teams | Kind::Json => "{brand} {severity} alert: {target}\n{summary}\n{why}",
        }
    }
}

/// Hours in which a destination is not disturbed: from `from` to `to` (minutes after local
/// midnight) in a time zone, on some days of the week. What falls in them is held, and
/// delivered at the first cron run after they end.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuietHours {
    /// Start, minutes after local midnight.
    pub from: u32,
    /// End (not included), minutes after local midnight; before `from` when they span midnight.
    pub to: u32,
    /// Whose clock `from` and `to` are read on.
    pub zone: Zone,
    /// The days they start on (bit 0 Monday .. bit 6 Sunday); every day when all are set. A
    /// span past midnight ends on the next morning, whatever day that is.
    pub days: u8,
}

/// A quiet-hours clock: a fixed offset from UTC, or an IANA zone (its daylight saving
/// followed, from the tz database chrono-tz ships).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Zone {
    /// Local time minus UTC, minutes.
    Offset(i32),
    /// An IANA zone (`Europe/Berlin`).
    Tz(chrono_tz::Tz),
}

/// Every day of the week, as [`QuietHours::days`].
pub const EVERY_DAY: u8 = 0b111_1111;
/// The days' names in the configuration, Monday first.
const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl QuietHours {
    /// The local minute of the day and the local weekday (0 Monday) of `now_ms` (epoch ms).
    fn local(&self, now_ms: i64) -> (i64, u32) {
        use chrono::{Datelike, TimeZone, Timelike};
        let utc = chrono::DateTime::from_timestamp_millis(now_ms).unwrap_or_default();
        let (minute, day) = match self.zone {
            Zone::Offset(off) => {
                let t = utc + chrono::Duration::minutes(i64::from(off));
                (t.hour() * 60 + t.minute(), t.weekday())
            }
            Zone::Tz(tz) => {
                let t = tz.from_utc_datetime(&utc.naive_utc());
                (t.hour() * 60 + t.minute(), t.weekday())
            }
        };
        (i64::from(minute), day.num_days_from_monday())
    }

    fn starts_on(&self, weekday: u32) -> bool {
        self.days & (1 << (weekday % 7)) != 0
    }

    /// Whether `now_ms` (epoch ms) falls in them.
    pub fn covers(&self, now_ms: i64) -> bool {
        let (local, day) = self.local(now_ms);
        let (from, to) = (i64::from(self.from), i64::from(self.to));
        if from < to {
            self.starts_on(day) && from <= local && local < to
        } else {
            (local >= from && self.starts_on(day)) || (local < to && self.starts_on(day + 6))
        }
    }

    fn to_json(self) -> Value {
        let hm = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
        let mut v = json!({"from": hm(self.from), "to": hm(self.to)});
        match self.zone {
            Zone::Offset(off) => {
                let sign = if off < 0 { '-' } else { '+' };
                v["utc_offset"] = json!(format!("{sign}{}", hm(off.unsigned_abs())));
            }
            Zone::Tz(tz) => v["tz"] = json!(tz.name()),
        }
        if self.days != EVERY_DAY {
            let days: Vec<&str> = (0..7)
                .filter(|d| self.starts_on(*d))
                .map(|d| DAY_NAMES[d as usize])
                .collect();
            v["days"] = json!(days);
        }
        v
    }
}

/// A Slack bot: `chat.postMessage` with a bot token (scope `chat:write`) to a channel.
#[derive(Clone, Debug, PartialEq)]
pub struct Bot {
    /// The secret holding the bot token (`xoxb-...`).
    pub token_secret: String,
    /// The channel's id (`C0123ABCD`) or name.
    pub channel: String,
}

/// One destination, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Destination {
    /// Its name: the key of its outbox rows and of `/health`'s counts.
    pub name: String,
    /// What it speaks.
    pub kind: Kind,
    /// The secret holding its URL; `None` for a Slack bot, which posts to
    /// [`SLACK_POST_MESSAGE`].
    pub url_secret: Option<String>,
    /// A Slack bot instead of an incoming webhook: its token's secret and its channel.
    pub bot: Option<Bot>,
    /// The secret holding its signing key (`json` only).
    pub signing_secret: Option<String>,
    /// Target names or globs (`*`, `?`) it takes; empty: every target.
    pub targets: Vec<String>,
    /// Severities it takes; empty: every one.
    pub severities: Vec<Severity>,
    /// Its message.
    pub template: Template,
    /// When it is not disturbed.
    pub quiet_hours: Option<QuietHours>,
    /// Minutes after which an unacknowledged alert is sent again.
    pub renotify_after_min: Option<u64>,
    /// Slack: whether the message carries the Acknowledge button and the Set cause menu.
    pub interactive: bool,
    /// Whether it takes the daily digest (`LLMSCOPE_DIGEST=daily`); by default only a
    /// destination whose URL is `LLMSCOPE_WEBHOOK`'s, where the digest always went.
    pub digest: bool,
}

impl Destination {
    /// The destination `LLMSCOPE_WEBHOOK` makes: everything, as it always was.
    pub fn legacy() -> Destination {
        let kind = Kind::SlackCompatible;
        Destination {
            name: LEGACY_NAME.into(),
            kind,
            url_secret: Some(LEGACY_SECRET.into()),
            bot: None,
            signing_secret: None,
            targets: Vec::new(),
            severities: Vec::new(),
            template: Template::parse(kind.default_template()).unwrap_or_else(|_| unreachable!()),
            quiet_hours: None,
            renotify_after_min: None,
            interactive: false,
            digest: true,
        }
    }

    /// The names of the secrets it uses, by field: its URL's, its signing key's, its bot
    /// token's.
    pub fn secrets(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("url_secret", self.url_secret.as_deref()),
            ("signing_secret", self.signing_secret.as_deref()),
            (
                "token_secret",
                self.bot.as_ref().map(|b| b.token_secret.as_str()),
            ),
        ]
        .into_iter()
        .filter_map(|(field, name)| Some((field, name?)))
    }

    /// Whether an alert of `target` with `severity` goes here.
    pub fn routes(&self, target: &str, severity: Severity) -> bool {
        (self.targets.is_empty() || self.targets.iter().any(|g| glob(g, target)))
            && (self.severities.is_empty() || self.severities.contains(&severity))
    }

    /// As `GET /destinations` shows it: every field, secrets by name only.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "name": self.name, "kind": self.kind.as_str(), "url_secret": self.url_secret,
            "targets": self.targets,
            "severities": self.severities.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            "template": self.template.source(),
            "quiet_hours": self.quiet_hours.map(QuietHours::to_json),
            "renotify_after_min": self.renotify_after_min,
        });
        if let Some(s) = &self.signing_secret {
            v["signing_secret"] = json!(s);
        }
        if let Some(b) = &self.bot {
            v["token_secret"] = json!(b.token_secret);
            v["channel"] = json!(b.channel);
        }
        if self.kind == Kind::Slack {
            v["interactive"] = json!(self.interactive);
        }
        v["digest"] = json!(self.digest);
        v
    }
}

/// Whether `name` matches `pattern`: `*` any run of characters, `?` one character, the rest
/// itself.
pub fn glob(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // matched[j]: the pattern so far matches n[..j].
    let mut matched = vec![false; n.len() + 1];
    matched[0] = true;
    for c in p {
        let mut next = vec![false; n.len() + 1];
        for j in 0..=n.len() {
            next[j] = match c {
                '*' => matched[j] || (j > 0 && next[j - 1]),
                '?' => j > 0 && matched[j - 1],
                c => j > 0 && matched[j - 1] && n[j - 1] == c,
            };
        }
        matched = next;
    }
    matched[n.len()]
}

/// A destination as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    name: String,
    kind: String,
    #[serde(default)]
    url_secret: Option<String>,
    #[serde(default)]
    token_secret: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    signing_secret: Option<String>,
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    severities: Vec<String>,
    #[serde(default)]
    template: Option<String>,
    #[serde(default)]
    quiet_hours: Option<RawQuiet>,
    #[serde(default)]
    renotify_after_min: Option<u64>,
    #[serde(default)]
    interactive: Option<bool>,
    #[serde(default)]
    digest: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuiet {
    from: String,
    to: String,
    #[serde(default)]
    utc_offset: Option<String>,
    #[serde(default)]
    tz: Option<String>,
    #[serde(default)]
    days: Option<Vec<String>>,
}

/// The destinations that are valid, and a message for each problem
/// (`destination NAME: field: what is wrong`).
#[derive(Clone, Debug, Default)]
pub struct Destinations {
    /// Usable destinations, in configuration order.
    pub valid: Vec<Destination>,
    /// One line per problem.
    pub errors: Vec<String>,
}

/// Reads a list of destinations (`LLMSCOPE_DESTINATIONS`, `PUT /destinations`); each is
/// checked on its own, so a bad one is named and the rest still work.
pub fn parse(json: &str) -> Destinations {
    let mut out = Destinations::default();
    let items: Vec<Value> = match serde_json::from_str(json) {
        Ok(Value::Array(items)) => items,
        Ok(_) => {
            out.errors
                .push("destinations: must be a JSON array of destination objects".into());
            return out;
        }
        Err(e) => {
            out.errors.push(format!("destinations: invalid JSON: {e}"));
            return out;
        }
    };
    if items.len() > MAX_DESTINATIONS {
        out.errors.push(format!(
            "destinations: {} destinations; at most {MAX_DESTINATIONS}",
            items.len()
        ));
        return out;
    }
    for (i, item) in items.into_iter().enumerate() {
        let label = item
            .get("name")
            .and_then(Value::as_str)
            .map_or_else(|| format!("#{i}"), str::to_string);
        let checked = serde_json::from_value::<Raw>(item)
            .map_err(|e| format!("{e}{}", hint(&e.to_string())))
            .and_then(check);
        match checked {
            Ok(d) if out.valid.iter().any(|o| o.name == d.name) => out.errors.push(format!(
                "destination {label}: name: used by an earlier destination; names must be unique"
            )),
            Ok(d) => out.valid.push(d),
            Err(e) => out.errors.push(format!("destination {label}: {e}")),
        }
    }
    out
}

/// Adds `LLMSCOPE_WEBHOOK`'s destination when the Worker has that secret and no listed
/// destination names it (one that does takes its place, with its own routing).
pub fn with_legacy(mut list: Destinations, webhook_set: bool) -> Destinations {
    let named = list
        .valid
        .iter()
        .any(|d| d.url_secret.as_deref() == Some(LEGACY_SECRET));
    if !webhook_set || named {
        return list;
    }
    if list.valid.iter().any(|d| d.name == LEGACY_NAME) {
        list.errors.push(format!(
            "destination {LEGACY_NAME}: name: is LLMSCOPE_WEBHOOK's destination; rename this one or give it \"url_secret\": \"{LEGACY_SECRET}\""
        ));
        return list;
    }
    list.valid.push(Destination::legacy());
    list
}

/// What to write instead of a field that is not one (a URL or a key in the configuration).
fn hint(serde_message: &str) -> &'static str {
    if serde_message.contains("unknown field `url`")
        || serde_message.contains("unknown field `secret`")
    {
        ": name a secret instead (url_secret, signing_secret) and keep its value a Worker secret (wrangler secret put)"
    } else {
        ""
    }
}

fn check(raw: Raw) -> Result<Destination, String> {
    name(&raw.name)?;
    let kind = Kind::ALL
        .into_iter()
        .find(|k| k.as_str() == raw.kind)
        .ok_or_else(|| {
            format!(
                "kind: {:?} is not a kind: use slack, teams, json or slack-compatible",
                raw.kind
            )
        })?;
    for (field, name) in [
        ("url_secret", &raw.url_secret),
        ("signing_secret", &raw.signing_secret),
        ("token_secret", &raw.token_secret),
    ] {
        if let Some(s) = name {
            secret_name(field, s)?;
        }
    }
    let bot = bot(kind, &raw)?;
    if let Some(s) = &raw.signing_secret {
        secret_name("signing_secret", s)?;
    }
    match (kind, &raw.signing_secret) {
        (Kind::Json, None) => {
            return Err(
                "signing_secret: a json destination is signed: name the secret holding its key"
                    .into(),
            )
        }
        (Kind::Json, Some(_)) | (_, None) => {}
        (_, Some(_)) => {
            return Err(format!(
                "signing_secret: only a json destination is signed, not {}",
                kind.as_str()
            ))
        }
    }
    if raw.interactive.is_some() && kind != Kind::Slack {
        return Err(format!(
            "interactive: only a slack destination has buttons, not {}",
            kind.as_str()
        ));
    }
    if let Some(bad) = raw.targets.iter().find(|t| t.is_empty()) {
        return Err(format!(
            "targets: {bad:?} is empty: give target names or globs (gpt-*)"
        ));
    }
    let severities = raw
        .severities
        .iter()
        .map(|s| Severity::parse(s).map_err(|e| format!("severities: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let source = raw.template.as_deref().unwrap_or(kind.default_template());
    if source.chars().count() > MAX_TEMPLATE {
        return Err(format!("template: longer than {MAX_TEMPLATE} characters"));
    }
    let template = Template::parse(source).map_err(|e| format!("template: {e}"))?;
    let quiet_hours = raw.quiet_hours.map(quiet).transpose()?;
    if let Some(m) = raw.renotify_after_min {
        if !(1..=MAX_RENOTIFY_MIN).contains(&m) {
            return Err(format!(
                "renotify_after_min: must be 1 to {MAX_RENOTIFY_MIN} (a week), not {m}"
            ));
        }
    }
    let digest = raw
        .digest
        .unwrap_or(raw.url_secret.as_deref() == Some(LEGACY_SECRET));
    Ok(Destination {
        name: raw.name,
        kind,
        url_secret: raw.url_secret,
        bot,
        signing_secret: raw.signing_secret,
        targets: raw.targets,
        severities,
        template,
        quiet_hours,
        renotify_after_min: raw.renotify_after_min,
        interactive: raw.interactive.unwrap_or(true),
        digest,
    })
}

/// A Slack bot's token and channel: both or neither, Slack only; without a bot the URL's
/// secret is required.
fn bot(kind: Kind, raw: &Raw) -> Result<Option<Bot>, String> {
    match (&raw.token_secret, &raw.channel) {
        (None, None) if raw.url_secret.is_none() => Err("url_secret: required: name the Worker secret holding the URL (a Slack bot gives token_secret and channel instead)".into()),
        (None, None) => Ok(None),
        _ if kind != Kind::Slack => Err(format!("token_secret: only a slack destination posts as a bot, not {}", kind.as_str())),
        (Some(t), Some(c)) if !c.trim().is_empty() => Ok(Some(Bot { token_secret: t.clone(), channel: c.trim().to_string() })),
        (Some(_), _) => Err("channel: a Slack bot posts to a channel: give its id (C0123ABCD)".into()),
        (None, Some(_)) => Err("token_secret: a channel is for a Slack bot: name the secret holding its token (xoxb-...)".into()),
    }
}

fn name(n: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&n.len())
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    ok.then_some(())
        .ok_or_else(|| format!("name: {n:?} must be 1 to 64 letters, digits, '-', '_' or '.'"))
}

/// A secret's name as Workers bindings take it: a letter or `_`, then letters, digits, `_`.
fn secret_name(field: &str, s: &str) -> Result<(), String> {
    let mut chars = s.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    ok.then_some(()).ok_or_else(|| {
        format!("{field}: {s:?} is not a secret's name: name the Worker secret (OPS_SLACK_URL) holding the value, never the value")
    })
}

fn quiet(q: RawQuiet) -> Result<QuietHours, String> {
    let from = clock("quiet_hours.from", &q.from)?;
    let to = clock("quiet_hours.to", &q.to)?;
    if from == to {
        return Err(format!(
            "quiet_hours: from and to are both {}: give two different times",
            q.from
        ));
    }
    let zone = match (q.tz.as_deref(), q.utc_offset.as_deref()) {
        (Some(_), Some(_)) => return Err("quiet_hours: give tz or utc_offset, not both".into()),
        (Some(name), None) => Zone::Tz(zone(name)?),
        (None, None | Some("Z")) => Zone::Offset(0),
        (None, Some(o)) => Zone::Offset(offset(o)?),
    };
    let days = match q.days {
        None => EVERY_DAY,
        Some(names) => days(&names)?,
    };
    Ok(QuietHours {
        from,
        to,
        zone,
        days,
    })
}

/// An IANA time zone's name, as the tz database spells it.
fn zone(name: &str) -> Result<chrono_tz::Tz, String> {
    name.parse::<chrono_tz::Tz>().map_err(|_| {
        format!("quiet_hours.tz: {name:?} is not an IANA time zone: write one as the tz database names it (Europe/Berlin, America/New_York, UTC)")
    })
}

/// Day names (`mon` .. `sun`, each once at most) as [`QuietHours::days`]' bits.
fn days(names: &[String]) -> Result<u8, String> {
    if names.is_empty() {
        return Err(
            "quiet_hours.days: empty: name the days (\"mon\", ...) or leave days out for every day"
                .into(),
        );
    }
    let mut bits = 0u8;
    for n in names {
        let at = DAY_NAMES
            .iter()
            .position(|d| d.eq_ignore_ascii_case(n.trim()))
            .ok_or_else(|| {
                format!(
                    "quiet_hours.days: {n:?} is not a day: use {}",
                    DAY_NAMES.join(", ")
                )
            })?;
        bits |= 1 << at;
    }
    Ok(bits)
}

/// `HH:MM`, 00:00 to 23:59, as minutes after midnight.
fn clock(field: &str, s: &str) -> Result<u32, String> {
    let bad = || format!("{field}: {s:?} is not a time: write HH:MM, 00:00 to 23:59");
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    (h < 24 && m < 60).then_some(h * 60 + m).ok_or_else(bad)
}

/// `+HH:MM` or `-HH:MM`, at most 14 hours, as minutes.
fn offset(s: &str) -> Result<i32, String> {
    let bad = || {
        format!(
            "quiet_hours.utc_offset: {s:?} is not an offset: write +HH:MM or -HH:MM (+01:00), or Z"
        )
    };
    let (sign, rest) = match s.split_at_checked(1) {
        Some(("+", r)) => (1, r),
        Some(("-", r)) => (-1, r),
        _ => return Err(bad()),
    };
    let minutes = clock("quiet_hours.utc_offset", rest).map_err(|_| bad())?;
    (minutes <= 14 * 60)
        .then_some(sign * minutes as i32)
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(json: &str) -> Result<Destination, String> {
        let mut d = parse(&format!("[{json}]"));
        match d.errors.pop() {
            Some(e) => Err(e),
            None => Ok(d.valid.remove(0)),
        }
    }

    #[test]
    fn globs_match_whole_names() {
        assert!(glob("gpt-*", "gpt-4o"));
        assert!(glob("*", ""));
        assert!(glob("a?c", "abc"));
        assert!(glob("*mini*", "gpt-4o-mini-2024"));
        assert!(!glob("gpt-*", "my-gpt-4o"));
        assert!(!glob("a?c", "ac"));
        assert!(glob("claude", "claude"));
        assert!(!glob("claude", "claude-2"));
    }

    #[test]
    fn routing_takes_targets_and_severities() {
        let d = one(r#"{"name": "ops", "kind": "slack", "url_secret": "OPS", "targets": ["a", "gpt-*"], "severities": ["signal"]}"#).unwrap();
        assert!(d.routes("a", Severity::Signal));
        assert!(d.routes("gpt-4o", Severity::Signal));
        assert!(!d.routes("b", Severity::Signal));
        assert!(!d.routes("a", Severity::Predictive));
        let all = one(r#"{"name": "all", "kind": "teams", "url_secret": "T"}"#).unwrap();
        assert!(all.routes("anything", Severity::Predictive));
    }

    const DAY_MIN: i64 = 1440;

    #[test]
    fn quiet_hours_span_midnight_at_an_offset() {
        let q = one(r#"{"name": "q", "kind": "teams", "url_secret": "T", "quiet_hours": {"from": "22:00", "to": "07:00", "utc_offset": "+02:00"}}"#)
            .unwrap()
            .quiet_hours
            .unwrap();
        let at = |h: i64, m: i64| (h * 60 + m) * 60_000 + 20_000 * DAY_MIN * 60_000;
        assert!(q.covers(at(20, 0)), "22:00 local is 20:00 UTC");
        assert!(q.covers(at(4, 59)), "06:59 local");
        assert!(!q.covers(at(5, 0)), "07:00 local ends them");
        assert!(!q.covers(at(19, 59)));
        let day = QuietHours {
            from: 540,
            to: 1020,
            zone: Zone::Offset(-300),
            days: EVERY_DAY,
        };
        assert!(day.covers(at(14, 0)), "09:00 at UTC-5");
        assert!(!day.covers(at(13, 59)));
        assert_eq!(
            q.to_json(),
            json!({"from": "22:00", "to": "07:00", "utc_offset": "+02:00"})
        );
    }

    fn quiet(json: &str) -> QuietHours {
        let d = format!(
            r#"{{"name": "q", "kind": "teams", "url_secret": "T", "quiet_hours": {json}}}"#
        );
        one(&d).unwrap().quiet_hours.unwrap()
    }

    /// Epoch ms of a UTC date and time.
    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
        chrono::NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|d| d.and_hms_opt(h, mi, 0))
            .unwrap()
            .and_utc()
            .timestamp_millis()
    }

    #[test]
    fn quiet_hours_follow_a_time_zones_daylight_saving() {
        let q = quiet(r#"{"from": "22:00", "to": "07:00", "tz": "Europe/Berlin"}"#);
        // Winter: CET, UTC+1; summer: CEST, UTC+2 (the switch was 2026-03-29 01:00 UTC).
        assert!(!q.covers(utc(2026, 1, 15, 20, 30)), "21:30 CET");
        assert!(q.covers(utc(2026, 7, 15, 20, 30)), "22:30 CEST");
        assert!(q.covers(utc(2026, 1, 15, 5, 30)), "06:30 CET");
        assert!(!q.covers(utc(2026, 7, 15, 5, 30)), "07:30 CEST");
        assert!(
            q.covers(utc(2026, 3, 29, 4, 59)),
            "06:59 CEST, the night of the switch"
        );
        assert!(!q.covers(utc(2026, 3, 29, 5, 0)), "07:00 CEST");
        assert_eq!(
            q.to_json(),
            json!({"from": "22:00", "to": "07:00", "tz": "Europe/Berlin"})
        );
    }

    #[test]
    fn quiet_hours_start_on_the_days_given() {
        // 2026-01-16 is a Friday, the 17th a Saturday.
        let weekend = quiet(
            r#"{"from": "09:00", "to": "17:00", "tz": "Europe/Berlin", "days": ["sat", "Sun"]}"#,
        );
        assert!(weekend.covers(utc(2026, 1, 17, 10, 0)), "Saturday 11:00");
        assert!(!weekend.covers(utc(2026, 1, 16, 10, 0)), "Friday 11:00");
        assert_eq!(weekend.to_json()["days"], json!(["sat", "sun"]));
        // A night past midnight belongs to the day it starts on.
        let friday_night = quiet(r#"{"from": "22:00", "to": "07:00", "days": ["fri"]}"#);
        assert!(friday_night.covers(utc(2026, 1, 16, 23, 0)), "Friday 23:00");
        assert!(
            friday_night.covers(utc(2026, 1, 17, 6, 0)),
            "Saturday 06:00, Friday's night"
        );
        assert!(
            !friday_night.covers(utc(2026, 1, 17, 23, 0)),
            "Saturday 23:00"
        );
        assert!(
            !friday_night.covers(utc(2026, 1, 16, 6, 0)),
            "Friday 06:00, Thursday's night"
        );
        assert_eq!(
            friday_night.to_json(),
            json!({"from": "22:00", "to": "07:00", "utc_offset": "+00:00", "days": ["fri"]})
        );
    }

    #[test]
    fn bad_zones_and_days_are_named() {
        let cases = [
            (
                r#"{"from": "22:00", "to": "07:00", "tz": "Europe/Berln"}"#,
                "quiet_hours.tz: \"Europe/Berln\" is not an IANA time zone",
            ),
            (
                r#"{"from": "22:00", "to": "07:00", "tz": "UTC", "utc_offset": "+01:00"}"#,
                "give tz or utc_offset, not both",
            ),
            (
                r#"{"from": "22:00", "to": "07:00", "days": ["mon", "monday"]}"#,
                "quiet_hours.days: \"monday\" is not a day: use mon, tue, wed, thu, fri, sat, sun",
            ),
            (
                r#"{"from": "22:00", "to": "07:00", "days": []}"#,
                "quiet_hours.days: empty",
            ),
        ];
        for (q, want) in cases {
            let d = format!(
                r#"{{"name": "x", "kind": "teams", "url_secret": "T", "quiet_hours": {q}}}"#
            );
            let e = one(&d).unwrap_err();
            assert!(
                e.starts_with("destination x: ") && e.contains(want),
                "{q}: {e}"
            );
        }
    }

    #[test]
    fn every_bad_field_is_named() {
        let cases = [
            (r#"{"name": "x", "kind": "email", "url_secret": "U"}"#, "destination x: kind: \"email\" is not a kind"),
            (r#"{"name": "x", "kind": "slack", "url": "https://hooks.slack.com/x", "url_secret": "U"}"#, "name a secret instead"),
            (r#"{"name": "x", "kind": "slack", "url_secret": "https://hooks"}"#, "destination x: url_secret: \"https://hooks\" is not a secret's name"),
            (r#"{"name": "x", "kind": "json", "url_secret": "U"}"#, "destination x: signing_secret: a json destination is signed"),
            (r#"{"name": "x", "kind": "teams", "url_secret": "U", "signing_secret": "K"}"#, "signing_secret: only a json destination"),
            (r#"{"name": "x", "kind": "slack", "url_secret": "U", "template": "{target} {valeu}"}"#, "destination x: template: unknown placeholder {valeu} at character 10"),
            (r#"{"name": "x", "kind": "slack", "url_secret": "U", "severities": ["critical"]}"#, "destination x: severities: \"critical\" is not a severity: use signal or predictive"),
            (r#"{"name": "x", "kind": "slack", "url_secret": "U", "quiet_hours": {"from": "7:00", "to": "08:00"}}"#, "quiet_hours.from: \"7:00\" is not a time"),
            (r#"{"name": "x", "kind": "slack", "url_secret": "U", "quiet_hours": {"from": "07:00", "to": "07:00"}}"#, "from and to are both 07:00"),
            (r#"{"name": "x", "kind": "slack", "url_secret": "U", "quiet_hours": {"from": "07:00", "to": "08:00", "utc_offset": "+15:00"}}"#, "utc_offset: \"+15:00\" is not an offset"),
            (r#"{"name": "x", "kind": "slack", "url_secret": "U", "renotify_after_min": 0}"#, "renotify_after_min: must be 1 to 10080"),
            (r#"{"name": "x", "kind": "teams", "url_secret": "U", "interactive": true}"#, "interactive: only a slack destination"),
            (r#"{"name": "x y", "kind": "slack", "url_secret": "U"}"#, "destination x y: name: \"x y\" must be"),
            (r#"{"kind": "slack", "url_secret": "U"}"#, "destination #0: missing field `name`"),
        ];
        for (json, want) in cases {
            let e = one(json).unwrap_err();
            assert!(e.contains(want), "{json}: {e}");
        }
        let twice = parse(
            r#"[{"name": "a", "kind": "slack", "url_secret": "U"}, {"name": "a", "kind": "teams", "url_secret": "V"}]"#,
        );
        assert_eq!(twice.valid.len(), 1);
        assert!(
            twice.errors[0].contains("names must be unique"),
            "{:?}",
            twice.errors
        );
        assert!(parse("{}").errors[0].contains("must be a JSON array"));
    }

    #[test]
    fn the_webhook_secret_is_a_destination_unless_one_names_it() {
        let none = with_legacy(parse("[]"), true);
        assert_eq!(none.valid, [Destination::legacy()]);
        assert!(with_legacy(parse("[]"), false).valid.is_empty());
        let own = with_legacy(
            parse(
                r#"[{"name": "hook", "kind": "slack-compatible", "url_secret": "LLMSCOPE_WEBHOOK", "targets": ["a"]}]"#,
            ),
            true,
        );
        assert_eq!(own.valid.len(), 1);
        assert_eq!(own.valid[0].targets, ["a"]);
        let taken = with_legacy(
            parse(r#"[{"name": "webhook", "kind": "slack", "url_secret": "S"}]"#),
            true,
        );
        assert!(
            taken.errors[0].contains("is LLMSCOPE_WEBHOOK's destination"),
            "{:?}",
            taken.errors
        );
        let bot = one(r#"{"name": "b", "kind": "slack", "token_secret": "BOT", "channel": "C1"}"#)
            .unwrap();
        let want = Bot {
            token_secret: "BOT".into(),
            channel: "C1".into(),
        };
        assert_eq!(
            (bot.url_secret.clone(), bot.bot.clone()),
            (None, Some(want))
        );
        assert_eq!(bot.secrets().collect::<Vec<_>>(), [("token_secret", "BOT")]);
        assert_eq!(bot.to_json()["channel"], "C1");
        for (json, want) in [
            (r#"{"name": "b", "kind": "slack"}"#, "url_secret: required"),
            (
                r#"{"name": "b", "kind": "slack", "token_secret": "BOT"}"#,
                "channel: a Slack bot posts to a channel",
            ),
            (
                r#"{"name": "b", "kind": "slack", "url_secret": "U", "channel": "C1"}"#,
                "token_secret: a channel is for a Slack bot",
            ),
            (
                r#"{"name": "b", "kind": "teams", "token_secret": "BOT", "channel": "C1"}"#,
                "only a slack destination posts as a bot",
            ),
        ] {
            assert!(one(json).unwrap_err().contains(want), "{json}");
        }
        let shown = Destination::legacy().to_json();
        assert_eq!(shown["digest"], true);
        assert!(
            own.valid[0].digest,
            "LLMSCOPE_WEBHOOK's URL takes the digest, as it did"
        );
        assert!(!bot.digest, "others only when they ask");
        let asks = one(r#"{"name": "t", "kind": "teams", "url_secret": "T", "digest": true}"#);
        assert!(asks.unwrap().digest);
        assert_eq!(shown["kind"], "slack-compatible");
        assert_eq!(shown["template"], "• {summary}\n{why}");
    }
}
