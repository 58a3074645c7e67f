//! Slack talks back (issue 16): its interaction requests, verified and read. Slack signs every
//! request it sends (Slack, "Verifying requests from Slack"): `X-Slack-Signature` is `v0=` and
//! the hex HMAC-SHA256, keyed with the app's signing secret, of the basestring
//! `v0:{X-Slack-Request-Timestamp}:{raw body}`. A request whose timestamp is more than five
//! minutes from now is refused whatever its signature, so a captured request cannot be
//! replayed later.
//!
//! An interaction (a button pressed, a menu option picked) arrives form-encoded: `payload=`
//! and the JSON of a `block_actions` payload, whose `user` pressed and whose `actions` say
//! what; the alert is the `block_id` (`alert:<id>`) our message gave the actions block.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

/// How far a request's timestamp may be from now, seconds: Slack's five minutes.
pub const REPLAY_WINDOW_S: i64 = 300;

/// Checks a request's signature at `now_s` (Unix seconds): `Err` says why it is refused.
/// The comparison is the `hmac` crate's, in constant time.
pub fn verify(
    secret: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now_s: i64,
) -> Result<(), String> {
    let timestamp = timestamp.ok_or("no X-Slack-Request-Timestamp header")?;
    let at: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| "X-Slack-Request-Timestamp is not Unix seconds")?;
    let age = now_s - at;
    if age.abs() > REPLAY_WINDOW_S {
        let when = if age > 0 {
            format!("{age} s old")
        } else {
            format!("{} s in the future", -age)
        };
        return Err(format!(
            "X-Slack-Request-Timestamp is {when}; at most {REPLAY_WINDOW_S} s either way is taken (a replay?)"
        ));
    }
    let given = signature
        .and_then(|s| s.trim().strip_prefix("v0="))
        .and_then(unhex)
        .ok_or("X-Slack-Signature is not v0= and 64 hex digits")?;
    let mut mac = <Hmac<Sha256>>::new_from_slice(secret.as_bytes())
        .map_err(|_| "the signing secret cannot key an HMAC")?;
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    mac.verify_slice(&given).map_err(|_| {
        "X-Slack-Signature does not match the body: not from Slack, or changed on the way".into()
    })
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// What a person did on an alert in Slack.
#[derive(Clone, Debug, PartialEq)]
pub enum Act {
    /// Pressed Acknowledge.
    Ack,
    /// Picked a cause from Set cause.
    Cause(&'static str),
}

/// One interaction: who, and what they did to which alert.
#[derive(Clone, Debug, PartialEq)]
pub struct Interaction {
    /// The Slack user's id (`U...`).
    pub user_id: String,
    /// Their user name, when Slack sent one.
    pub user_name: Option<String>,
    /// (alert id, what) for each action.
    pub acts: Vec<(i64, Act)>,
    /// Where to update the message pressed on (`replace_original`), when Slack gave one.
    pub response_url: Option<String>,
    /// The message pressed on, as Slack sent it back (`text`, `blocks`).
    pub message: Option<serde_json::Value>,
}

impl Interaction {
    /// How the audit log names the Slack user: `slack:<name>` (or their id).
    pub fn member(&self) -> String {
        format!(
            "slack:{}",
            self.user_name.as_deref().unwrap_or(&self.user_id)
        )
    }
}

#[derive(Deserialize)]
struct Payload {
    #[serde(rename = "type")]
    kind: String,
    user: User,
    #[serde(default)]
    actions: Vec<Action>,
    #[serde(default)]
    response_url: Option<String>,
    #[serde(default)]
    message: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct User {
    id: String,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct Action {
    action_id: String,
    #[serde(default)]
    block_id: String,
    #[serde(default)]
    selected_option: Option<Selected>,
}

#[derive(Deserialize)]
struct Selected {
    value: String,
}

/// Reads an interaction request's body: `payload=<URL-encoded JSON>` (an
/// `application/x-www-form-urlencoded` form, `+` for a space). Actions that are not ours
/// are an error naming them.
pub fn interaction(body: &str) -> Result<Interaction, String> {
    let encoded = body
        .split('&')
        .find_map(|pair| pair.strip_prefix("payload="))
        .ok_or("no payload= field: Slack sends interactions as a form with a payload")?;
    let json = percent_encoding::percent_decode_str(&encoded.replace('+', " "))
        .decode_utf8()
        .map_err(|_| "payload is not UTF-8")?
        .into_owned();
    let p: Payload = serde_json::from_str(&json).map_err(|e| format!("payload: {e}"))?;
    if p.kind != "block_actions" {
        return Err(format!(
            "payload type {:?}: only block_actions (a button or a menu) is handled",
            p.kind
        ));
    }
    let acts = p.actions.iter().map(act).collect::<Result<Vec<_>, _>>()?;
    Ok(Interaction {
        user_id: p.user.id,
        user_name: p.user.username.or(p.user.name),
        acts,
        response_url: p.response_url,
        message: p.message,
    })
}

/// Where Slack's `response_url`s live: a message is updated only there, so a forged payload
/// (signed with a leaked secret, say) cannot make the Worker POST anywhere else.
pub const RESPONSE_URL_PREFIX: &str = "https://hooks.slack.com/";

/// Whether the Worker may POST a message update to `url`: on Slack's host, or under
/// `dev_prefix` (`LLMSCOPE_DEV_SLACK_RESPONSE_PREFIX`, for a local stand-in in tests and
/// development); `Err` says why not.
pub fn response_url_allowed(url: &str, dev_prefix: Option<&str>) -> Result<(), String> {
    let dev = dev_prefix.filter(|p| !p.is_empty());
    if url.starts_with(RESPONSE_URL_PREFIX) || dev.is_some_and(|p| url.starts_with(p)) {
        return Ok(());
    }
    let host: String = url.chars().take(60).collect();
    Err(format!(
        "response_url {host:?} is not on Slack's hooks.slack.com: the message is not updated"
    ))
}

fn act(a: &Action) -> Result<(i64, Act), String> {
    let id = a
        .block_id
        .strip_prefix("alert:")
        .and_then(|n| n.parse::<i64>().ok())
        .ok_or_else(|| format!("block_id {:?} is not an alert's (alert:<id>)", a.block_id))?;
    let what = match a.action_id.as_str() {
        "ack" => Act::Ack,
        "cause" => {
            let picked = a
                .selected_option
                .as_ref()
                .ok_or("cause: no option selected")?;
            Act::Cause(super::cause(&picked.value)?)
        }
        other => return Err(format!("action_id {other:?}: only ack and cause are ours")),
    };
    Ok((id, what))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Slack's worked example ("Verifying requests from Slack"): its signing secret, timestamp
    /// and body (a slash command's form), and the signature it gives.
    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const TIMESTAMP: &str = "1531420618";
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SIGNATURE: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    #[test]
    fn slacks_documented_example_verifies() {
        let now = 1_531_420_618 + 10;
        assert_eq!(
            verify(
                SECRET,
                Some(TIMESTAMP),
                Some(SIGNATURE),
                BODY.as_bytes(),
                now
            ),
            Ok(())
        );
    }

    #[test]
    fn a_changed_body_a_stale_or_missing_timestamp_and_a_bad_signature_are_refused() {
        let now = 1_531_420_618;
        let refused = |ts: Option<&str>, sig: Option<&str>, body: &str, now: i64| {
            verify(SECRET, ts, sig, body.as_bytes(), now).unwrap_err()
        };
        let tampered = BODY.replace("roadrunner", "coyote");
        assert!(
            refused(Some(TIMESTAMP), Some(SIGNATURE), &tampered, now).contains("does not match")
        );
        assert!(refused(Some(TIMESTAMP), Some(SIGNATURE), BODY, now + 301).contains("is 301 s old"));
        assert!(refused(Some(TIMESTAMP), Some(SIGNATURE), BODY, now - 301)
            .contains("301 s in the future"));
        assert_eq!(
            verify(
                SECRET,
                Some(TIMESTAMP),
                Some(SIGNATURE),
                BODY.as_bytes(),
                now + 300
            ),
            Ok(())
        );
        assert!(refused(None, Some(SIGNATURE), BODY, now).contains("no X-Slack-Request-Timestamp"));
        assert!(refused(Some("soon"), Some(SIGNATURE), BODY, now).contains("not Unix seconds"));
        assert!(refused(Some(TIMESTAMP), None, BODY, now).contains("is not v0="));
        assert!(refused(
            Some(TIMESTAMP),
            Some(&SIGNATURE.replace("v0=", "v1=")),
            BODY,
            now
        )
        .contains("is not v0="));
        // Another timestamp signs another basestring.
        assert!(refused(Some("1531420619"), Some(SIGNATURE), BODY, now).contains("does not match"));
        assert!(verify(
            "another secret",
            Some(TIMESTAMP),
            Some(SIGNATURE),
            BODY.as_bytes(),
            now
        )
        .is_err());
    }

    fn form(payload: &serde_json::Value) -> String {
        let encoded: String = percent_encoding::utf8_percent_encode(
            &payload.to_string(),
            percent_encoding::NON_ALPHANUMERIC,
        )
        .to_string();
        format!("payload={encoded}")
    }

    #[test]
    fn block_actions_name_the_user_the_alert_and_what() {
        let body = form(&serde_json::json!({
            "type": "block_actions",
            "user": {"id": "U2CERLKJA", "username": "roadrunner", "team_id": "T1"},
            "actions": [
                {"action_id": "ack", "block_id": "alert:42", "value": "42", "type": "button"},
                {"action_id": "cause", "block_id": "alert:42", "type": "static_select",
                 "selected_option": {"text": {"type": "plain_text", "text": "rate limiting"}, "value": "rate limiting"}}
            ]
        }));
        let i = interaction(&body).unwrap();
        assert_eq!(i.acts, [(42, Act::Ack), (42, Act::Cause("rate limiting"))]);
        assert_eq!((&i.response_url, &i.message), (&None, &None));
        let answered = form(&serde_json::json!({
            "type": "block_actions", "user": {"id": "U1"}, "actions": [],
            "response_url": "https://hooks.slack.com/actions/T1/2/abc",
            "message": {"text": "hello", "blocks": []},
        }));
        let j = interaction(&answered).unwrap();
        assert_eq!(
            j.response_url.as_deref(),
            Some("https://hooks.slack.com/actions/T1/2/abc")
        );
        assert_eq!(j.message.unwrap()["text"], "hello");
        assert_eq!(i.member(), "slack:roadrunner");
        // A form's + is a space.
        let plus = "payload=%7B%22type%22%3A%22block_actions%22%2C%22user%22%3A%7B%22id%22%3A%22U1%22%7D%2C%22actions%22%3A%5B%7B%22action_id%22%3A%22cause%22%2C%22block_id%22%3A%22alert%3A7%22%2C%22selected_option%22%3A%7B%22value%22%3A%22region+routing%22%7D%7D%5D%7D";
        let i = interaction(plus).unwrap();
        assert_eq!(
            (i.member(), i.acts),
            ("slack:U1".into(), vec![(7, Act::Cause("region routing"))])
        );
    }

    #[test]
    fn only_slacks_host_or_the_dev_prefix_is_answered() {
        let slack = "https://hooks.slack.com/actions/T1/2/abc";
        assert_eq!(response_url_allowed(slack, None), Ok(()));
        for bad in [
            "https://hooks.slack.com.evil.example/actions/x",
            "http://hooks.slack.com/actions/x",
            "https://evil.example/https://hooks.slack.com/",
            "https://user@hooks.slack.com.evil/x",
            "http://127.0.0.1:9/respond",
        ] {
            let e = response_url_allowed(bad, None).unwrap_err();
            assert!(
                e.contains("is not on Slack's hooks.slack.com"),
                "{bad}: {e}"
            );
        }
        let dev = Some("http://127.0.0.1:9/respond");
        assert_eq!(
            response_url_allowed("http://127.0.0.1:9/respond/1", dev),
            Ok(())
        );
        assert!(response_url_allowed("http://127.0.0.1:9/other", dev).is_err());
        assert!(response_url_allowed("http://127.0.0.1:9/x", Some("")).is_err());
    }

    #[test]
    fn foreign_or_bad_interactions_are_named() {
        let err = |p: serde_json::Value| interaction(&form(&p)).unwrap_err();
        let user = serde_json::json!({"id": "U1"});
        assert!(
            err(serde_json::json!({"type": "view_submission", "user": user}))
                .contains("only block_actions")
        );
        assert!(err(serde_json::json!({"type": "block_actions", "user": user, "actions": [{"action_id": "ack", "block_id": "x"}]})).contains("block_id \"x\""));
        assert!(err(serde_json::json!({"type": "block_actions", "user": user, "actions": [{"action_id": "delete", "block_id": "alert:1"}]})).contains("only ack and cause"));
        assert!(err(serde_json::json!({"type": "block_actions", "user": user, "actions": [{"action_id": "cause", "block_id": "alert:1", "selected_option": {"value": "gremlins"}}]})).contains("\"gremlins\" is not one of"));
        assert!(interaction("text=hi").unwrap_err().contains("no payload="));
    }
}
