//! The messages of every kind, for the alerts the charts of `crate::alert` raise.

use super::destination::{parse, Destination};
use super::*;
use crate::alert::Alert;

/// The message `LLMSCOPE_WEBHOOK` gets for one target's alerts, unbranded (other modules'
/// tests read it).
pub(crate) fn legacy_body(target: &str, alerts: &[Alert]) -> Value {
    let notices: Vec<Notice> = alerts
        .iter()
        .enumerate()
        .map(|(i, a)| Notice {
            id: i as i64 + 1,
            alert: Alert {
                target: target.into(),
                ..a.clone()
            },
            send: 1,
        })
        .collect();
    message(&Destination::legacy(), &notices, &UNBRANDED)
}

/// Its text.
pub(crate) fn legacy_text(alerts: &[Alert]) -> String {
    let target = alerts.first().map_or("x", |a| a.target.as_str());
    legacy_body(target, alerts)["text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

const UNBRANDED: Sender = Sender {
    brand: "LLMscope",
    link: None,
};

fn alert(target: &str, predictive: bool) -> Alert {
    let stored = if predictive {
        r#"{"target":"T","metric":"ttft_ms","t":1765000000000,"value":900.0,"center":500.0,"lcl":null,"ucl":null,"tests":[],"kind":"predictive","limit_name":"SLO","limit":2000.0,"median":31.0,"lo80":25.0,"hi80":40.0,"probability":0.9,"horizon":288,"median_h":2.6}"#
    } else {
        r#"{"target":"T","metric":"ttft_ms","t":1765000000000,"value":320.5,"center":60.0,"lcl":0.0,"ucl":120.0,"tests":[1],"shape":"step","shape_evidence":{"points":6,"episode_points":6,"mean_z":9.1,"variance_ratio":1.0,"trend":0.2},"since_t":1764999000000,"suggestion":{"cause":"rate limiting","score":0.8,"evidence":"5 rate-limited probes (429) & <more>"},"co_moving":[]}"#
    };
    let mut a = Alert::from_stored(stored).unwrap();
    a.target = target.into();
    a
}

fn notice(id: i64, a: Alert) -> Notice {
    Notice {
        id,
        alert: a,
        send: 1,
    }
}

fn dest(json: &str) -> Destination {
    let mut d = parse(&format!("[{json}]"));
    assert!(d.errors.is_empty(), "{:?}", d.errors);
    d.valid.remove(0)
}

#[test]
fn the_webhook_message_is_the_one_it_always_was() {
    let body = legacy_body("gpt", &[alert("gpt", false), alert("gpt", true)]);
    let text = body["text"].as_str().unwrap();
    let want = "LLMscope: gpt\n• ttft_ms is out of control: 320.500 (center 60.000, limits 0.000 to 120.000); test 1: 1 point more than 3 sigma from the center line\n  shape: step (6 point(s), mean +9.1 sigma, variance ratio 1.00, trend +0.2 sigma)\n  likely cause: rate limiting (score 0.80): 5 rate-limited probes (429) & <more>\n• gpt/ttft reaches its SLO 2000 ms in about 31 probes (≈ 2.6 h) (80%: 25–40)";
    assert_eq!(text, want);
    assert_eq!(body["llmscope"]["target"], "gpt");
    assert_eq!(body["llmscope"]["alerts"][1]["kind"], "predictive");
    assert_eq!(body.as_object().unwrap().len(), 2);
}

#[test]
fn a_slack_compatible_destination_groups_by_target_and_others_send_each_alert() {
    let n = |id, t: &str| notice(id, alert(t, false));
    let grouped = batches(Kind::SlackCompatible, vec![n(1, "a"), n(2, "b"), n(3, "a")]);
    let ids: Vec<Vec<i64>> = grouped
        .iter()
        .map(|b| b.iter().map(|n| n.id).collect())
        .collect();
    assert_eq!(ids, [vec![1, 3], vec![2]]);
    assert_eq!(batches(Kind::Slack, vec![n(1, "a"), n(3, "a")]).len(), 2);
}

#[test]
fn slack_messages_carry_acknowledge_and_the_causes_escaped() {
    let d = dest(r#"{"name": "ops", "kind": "slack", "url_secret": "OPS"}"#);
    let body = message(&d, &[notice(42, alert("gpt", false))], &UNBRANDED);
    let text = body["text"].as_str().unwrap();
    assert!(
        text.starts_with("*LLMscope* signal alert: *gpt*\nttft_ms is out of control"),
        "{text}"
    );
    assert!(text.contains("(429) &amp; &lt;more&gt;"), "{text}");
    assert_eq!(body["blocks"][0]["text"]["text"], text);
    let actions = &body["blocks"][1];
    assert_eq!(actions["block_id"], "alert:42");
    assert_eq!(actions["elements"][0]["action_id"], "ack");
    assert_eq!(actions["elements"][0]["text"]["text"], "Acknowledge");
    assert_eq!(actions["elements"][1]["placeholder"]["text"], "Set cause");
    let options: Vec<&str> = actions["elements"][1]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["value"].as_str().unwrap())
        .collect();
    assert_eq!(options, CAUSES);
    let quiet =
        dest(r#"{"name": "q", "kind": "slack", "url_secret": "OPS", "interactive": false}"#);
    let body = message(&quiet, &[notice(1, alert("gpt", false))], &UNBRANDED);
    assert_eq!(body["blocks"].as_array().unwrap().len(), 1);
}

#[test]
fn teams_gets_an_adaptive_card_and_templates_fill_their_placeholders() {
    let d = dest(
        r#"{"name": "t", "kind": "teams", "url_secret": "T", "template": "{brand} | {target} | {severity} | {metric}={value} ({limits}) | {rules} | {cause} | {shape} | {time} | #{id} | {link}\n{why}"}"#,
    );
    let sender = Sender {
        brand: "Acme Watch",
        link: Some("https://dash.example/"),
    };
    let mut n = notice(7, alert("claude", false));
    n.send = 2;
    let body = message(&d, &[n], &sender);
    assert_eq!(body["type"], "message");
    let attachment = &body["attachments"][0];
    assert_eq!(
        attachment["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    let card = &attachment["content"];
    assert_eq!(
        (card["type"].clone(), card["version"].clone()),
        (json!("AdaptiveCard"), json!("1.4"))
    );
    assert_eq!(
        card["body"][0]["text"],
        "Reminder, still unacknowledged: Acme Watch | claude | signal | ttft_ms=320.500 (limits 0.000 to 120.000) | test 1: 1 point more than 3 sigma from the center line | rate limiting | step | 2025-12-06 05:46:40 UTC | #7 | https://dash.example/"
    );
    assert_eq!(
        card["body"][1]["text"],
        "shape: step (6 point(s), mean +9.1 sigma, variance ratio 1.00, trend +0.2 sigma)"
    );
    assert_eq!(card["actions"][0]["url"], "https://dash.example/");
    let p = dest(
        r#"{"name": "p", "kind": "teams", "url_secret": "T", "template": "{severity}: {limits}; {cause}; {shape}"}"#,
    );
    let body = message(&p, &[notice(8, alert("claude", true))], &sender);
    assert_eq!(
        body["attachments"][0]["content"]["body"][0]["text"],
        "predictive: SLO 2000 ms; none suggested; unknown"
    );
}

#[test]
fn the_generic_json_names_the_alert_and_is_signed_over_timestamp_and_body() {
    let d = dest(r#"{"name": "pager", "kind": "json", "url_secret": "U", "signing_secret": "K"}"#);
    let body = message(&d, &[notice(9, alert("gpt", true))], &UNBRANDED);
    assert_eq!(body["type"], "alert");
    assert_eq!(body["destination"], "pager");
    assert_eq!(body["alert"]["id"], 9);
    assert_eq!(body["alert"]["severity"], "predictive");
    assert_eq!(body["alert"]["limit"], 2000.0);
    assert!(body["text"]
        .as_str()
        .unwrap()
        .starts_with("LLMscope predictive alert: gpt\n"));
    // Python: hmac.new(b'whsec-test-key', b'1765000000.{"a":1}', hashlib.sha256).hexdigest()
    assert_eq!(
        signature("whsec-test-key", 1_765_000_000, r#"{"a":1}"#),
        "v1=a96821f4d0326d5a2eea79534271c2ca41309c6faeb935cb780bb63f5315d707"
    );
}

#[test]
fn a_branded_worker_never_says_llmscope() {
    let sender = Sender {
        brand: "Acme Watch",
        link: None,
    };
    let kinds = [
        r#"{"name": "s", "kind": "slack", "url_secret": "U"}"#,
        r#"{"name": "t", "kind": "teams", "url_secret": "U"}"#,
        r#"{"name": "j", "kind": "json", "url_secret": "U", "signing_secret": "K"}"#,
    ];
    let mut all: Vec<Destination> = kinds.iter().map(|k| dest(k)).collect();
    all.push(Destination::legacy());
    for d in &all {
        for predictive in [false, true] {
            for reminder in [false, true] {
                let n = Notice {
                    id: 1,
                    alert: alert("gpt", predictive),
                    send: if reminder { 2 } else { 1 },
                };
                let body = message(d, &[n], &sender).to_string();
                assert!(!body.contains("LLMscope"), "{}: {body}", d.name);
                assert!(body.contains("Acme Watch"), "{}: {body}", d.name);
            }
        }
    }
}

#[test]
fn a_set_cause_is_one_of_the_offered_ones() {
    assert_eq!(cause("rate limiting"), Ok("rate limiting"));
    assert!(cause("gremlins")
        .unwrap_err()
        .starts_with("cause: \"gremlins\" is not one of: provider incident"));
}

#[test]
fn a_slack_bot_names_its_channel_and_reads_slacks_ok() {
    let d =
        dest(r#"{"name": "bot", "kind": "slack", "token_secret": "BOT", "channel": "C0ALERTS"}"#);
    let body = message(&d, &[notice(3, alert("gpt", false))], &UNBRANDED);
    assert_eq!(body["channel"], "C0ALERTS");
    assert_eq!(body["blocks"][1]["block_id"], "alert:3");
    assert_eq!(slack_api_ok(r#"{"ok": true, "ts": "1.2"}"#), Ok(()));
    assert_eq!(
        slack_api_ok(r#"{"ok": false, "error": "channel_not_found"}"#),
        Err("Slack answered ok: false (channel_not_found)".into())
    );
    assert!(slack_api_ok("ok")
        .unwrap_err()
        .starts_with("Slack's answer is not JSON"));
}

#[test]
fn the_digest_speaks_each_destinations_kind_under_the_brand() {
    let s = Sender {
        brand: "Acme Watch",
        link: Some("https://watch.example"),
    };
    let text = "Acme Watch daily digest, 2026-12-07\nRecommended: a<b>\n#1 a<b>: n 60";
    let data = json!({"date": "2026-12-07", "recommended": "a<b>"});
    let legacy = digest_message(&Destination::legacy(), text, data.clone(), &s);
    assert_eq!(legacy, json!({"text": text, "llmscope": {"digest": data}}));
    let bot = dest(r#"{"name": "b", "kind": "slack", "token_secret": "T", "channel": "C1"}"#);
    let slack = digest_message(&bot, text, data.clone(), &s);
    assert_eq!(slack["channel"], "C1");
    assert_eq!(slack["blocks"].as_array().unwrap().len(), 1, "no buttons");
    assert_eq!(
        slack["blocks"][0]["text"]["text"],
        "Acme Watch daily digest, 2026-12-07\nRecommended: a&lt;b&gt;\n#1 a&lt;b&gt;: n 60"
    );
    let teams = dest(r#"{"name": "t", "kind": "teams", "url_secret": "U"}"#);
    let card = &digest_message(&teams, text, data.clone(), &s)["attachments"][0]["content"];
    assert_eq!(
        card["body"][0]["text"],
        "Acme Watch daily digest, 2026-12-07"
    );
    assert_eq!(card["body"][2]["text"], "#1 a<b>: n 60");
    assert_eq!(card["actions"][0]["url"], "https://watch.example");
    let signed = dest(r#"{"name": "j", "kind": "json", "url_secret": "U", "signing_secret": "K"}"#);
    assert_eq!(
        digest_message(&signed, text, data.clone(), &s),
        json!({"type": "digest", "sender": "Acme Watch", "destination": "j", "text": text,
               "link": "https://watch.example", "digest": data})
    );
}

#[test]
fn a_press_updates_the_message_with_who_and_which_cause() {
    let d = dest(r#"{"name": "s", "kind": "slack", "url_secret": "U"}"#);
    let original = message(&d, &[notice(7, alert("a", false))], &UNBRANDED);
    let acked = Marks {
        acked_by: Some("slack:ada".into()),
        ..Marks::default()
    };
    let u = slack_update(Some(&original), 7, &acked);
    assert_eq!(u["replace_original"], true);
    assert_eq!(u["text"], original["text"]);
    assert_eq!(
        u["blocks"][0], original["blocks"][0],
        "the alert's text stays"
    );
    assert_eq!(u["blocks"][1]["block_id"], "marks:7");
    assert_eq!(u["blocks"][1]["elements"][0]["text"], "Acknowledged by ada");
    let elements = u["blocks"][2]["elements"].as_array().unwrap();
    assert_eq!(u["blocks"][2]["block_id"], "alert:7");
    assert_eq!(elements.len(), 1, "no Acknowledge button once acknowledged");
    assert_eq!(elements[0]["action_id"], "cause");
    // A cause set next: both said, the menu shows it; an update of an update keeps one of each.
    let both = Marks {
        cause: Some("rate limiting".into()),
        cause_by: Some("Bo <ops>".into()),
        ..acked
    };
    let again = slack_update(Some(&u), 7, &both);
    let blocks = again["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 3, "{again:#}");
    assert_eq!(
        blocks[1]["elements"][0]["text"],
        "Acknowledged by ada · Cause: rate limiting (set by Bo &lt;ops&gt;)"
    );
    assert_eq!(
        blocks[2]["elements"][0]["initial_option"]["value"],
        "rate limiting"
    );
    // A cause before any acknowledgement keeps the button.
    let cause_only = Marks {
        cause: Some("region routing".into()),
        cause_by: Some("slack:cy".into()),
        acked_by: None,
    };
    let c = slack_update(Some(&original), 7, &cause_only);
    assert_eq!(c["blocks"][2]["elements"][0]["action_id"], "ack");
    // Without the original (an ephemeral message), the update still says it all.
    let bare = slack_update(None, 9, &both);
    assert_eq!(bare["text"], "alert 9");
    assert_eq!(bare["blocks"].as_array().unwrap().len(), 3);
}
