//! A probe's context (issue 13, "System metrics at that time"): what the Worker keeps in a
//! result's `extra` besides its measurements, so that a signal's suggested causes can be
//! confirmed (rate limiting by 429s, region routing by the colo, a model version change by
//! the model the response names). Every key is documented in workers/README.md ("The
//! result") and in `llmscope_protocol::probe::ProbeResult::extra`.
//!
//! Only what identifies or counts is kept, each value cleaned by [`identifier`] or read as a
//! number: never a header that could hold a secret, never the prompt or the answer.

use serde_json::{Map, Value};

/// The longest identifier kept (a request id, a model name, a colo).
pub const IDENTIFIER_CHARS: usize = 128;

/// An identifier as kept: trimmed, only visible ASCII, at most [`IDENTIFIER_CHARS`]; `None`
/// when empty or holding anything else (a control character, a space inside: not an id).
pub fn identifier(value: &str) -> Option<String> {
    let v = value.trim();
    let clean =
        !v.is_empty() && v.len() <= IDENTIFIER_CHARS && v.bytes().all(|b| b.is_ascii_graphic());
    clean.then(|| v.to_string())
}

/// The response headers read (lowercase), in the order a key takes its first match.
pub const HEADERS: [&str; 13] = [
    "x-request-id",
    "request-id",
    "x-amzn-requestid",
    "openai-processing-ms",
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-tokens",
    "anthropic-ratelimit-requests-limit",
    "anthropic-ratelimit-requests-remaining",
    "anthropic-ratelimit-tokens-limit",
    "anthropic-ratelimit-tokens-remaining",
    "cf-ray",
];

/// `extra` key, and the headers that give it (the first present wins): ids are kept as
/// identifiers, the rest as non-negative whole numbers.
const IDS: [(&str, &[&str]); 1] = [(
    "request_id",
    // OpenAI, Anthropic, Bedrock (Gemini's `responseId` is in the body).
    &["x-request-id", "request-id", "x-amzn-requestid"],
)];
const NUMBERS: [(&str, &[&str]); 5] = [
    ("processing_ms", &["openai-processing-ms"]),
    (
        "ratelimit_limit_requests",
        &[
            "x-ratelimit-limit-requests",
            "anthropic-ratelimit-requests-limit",
        ],
    ),
    (
        "ratelimit_remaining_requests",
        &[
            "x-ratelimit-remaining-requests",
            "anthropic-ratelimit-requests-remaining",
        ],
    ),
    (
        "ratelimit_limit_tokens",
        &[
            "x-ratelimit-limit-tokens",
            "anthropic-ratelimit-tokens-limit",
        ],
    ),
    (
        "ratelimit_remaining_tokens",
        &[
            "x-ratelimit-remaining-tokens",
            "anthropic-ratelimit-tokens-remaining",
        ],
    ),
];

/// Adds to `extra` what the response headers (lowercase names, as read from [`HEADERS`]) say
/// of the probe's context: `request_id`, `processing_ms`, the rate limits, and
/// `provider_colo`, the Cloudflare colo in `cf-ray` (`8e1b9c2d3f4a5b6c-SJC`: OpenAI and
/// Anthropic sit behind Cloudflare, so it names where their edge took the Worker's request).
/// A value that does not read is left out, never guessed.
pub fn from_headers(headers: &[(String, String)], extra: &mut Map<String, Value>) {
    let get = |names: &[&str]| {
        names.iter().find_map(|n| {
            headers
                .iter()
                .find(|(h, _)| h == n)
                .map(|(_, v)| v.as_str())
        })
    };
    for (key, names) in IDS {
        if let Some(id) = get(names).and_then(identifier) {
            extra.insert(key.into(), id.into());
        }
    }
    for (key, names) in NUMBERS {
        if let Some(n) = get(names).and_then(|v| v.trim().parse::<u64>().ok()) {
            extra.insert(key.into(), n.into());
        }
    }
    let colo = get(&["cf-ray"])
        .and_then(|ray| ray.trim().rsplit_once('-'))
        .map(|(_, colo)| colo)
        .filter(|c| (2..=5).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_alphabetic()));
    if let Some(colo) = colo {
        extra.insert("provider_colo".into(), colo.to_ascii_uppercase().into());
    }
}

/// The colo of the Worker's own request (`request.cf.colo`), unless `cf` is the placeholder
/// miniflare (`wrangler dev`) hands out when it cannot fetch a real one: colo `DFW` with the
/// placeholder's AS 395747 and postal code 78701. A fake colo would read as region routing.
pub fn worker_colo(
    colo: Option<&str>,
    asn: Option<f64>,
    postal_code: Option<&str>,
) -> Option<String> {
    let placeholder = colo == Some("DFW") && asn == Some(395_747.0) && postal_code == Some("78701");
    if placeholder {
        return None;
    }
    colo.and_then(identifier)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn openai_headers_give_the_id_the_processing_time_and_the_limits() {
        let mut extra = Map::new();
        from_headers(
            &headers(&[
                ("x-request-id", "req_0f3a"),
                ("openai-processing-ms", "412"),
                ("x-ratelimit-limit-requests", "5000"),
                ("x-ratelimit-remaining-requests", "4999"),
                ("x-ratelimit-limit-tokens", "2000000"),
                ("x-ratelimit-remaining-tokens", "1999980"),
                ("x-ratelimit-reset-requests", "12ms"),
                ("cf-ray", "8e1b9c2d3f4a5b6c-sjc"),
            ]),
            &mut extra,
        );
        assert_eq!(
            Value::Object(extra),
            serde_json::json!({"request_id": "req_0f3a", "processing_ms": 412,
                "ratelimit_limit_requests": 5000, "ratelimit_remaining_requests": 4999,
                "ratelimit_limit_tokens": 2000000, "ratelimit_remaining_tokens": 1999980,
                "provider_colo": "SJC"})
        );
    }

    #[test]
    fn anthropic_and_bedrock_headers_map_to_the_same_keys() {
        let mut extra = Map::new();
        from_headers(
            &headers(&[
                ("request-id", "req_011CSHoEeqs5C35K2UUqR7Fy"),
                ("anthropic-ratelimit-requests-remaining", "49"),
                ("anthropic-ratelimit-tokens-remaining", "39000"),
            ]),
            &mut extra,
        );
        assert_eq!(extra["request_id"], "req_011CSHoEeqs5C35K2UUqR7Fy");
        assert_eq!(extra["ratelimit_remaining_requests"], 49);
        assert_eq!(extra["ratelimit_remaining_tokens"], 39000);
        let mut extra = Map::new();
        let id = "a1b2c3d4-5e6f-7a8b-9c0d-e1f2a3b4c5d6";
        from_headers(&headers(&[("x-amzn-requestid", id)]), &mut extra);
        assert_eq!(
            Value::Object(extra),
            serde_json::json!({ "request_id": id })
        );
    }

    #[test]
    fn what_does_not_read_is_left_out() {
        let mut extra = Map::new();
        from_headers(
            &headers(&[
                ("x-request-id", "two words"),
                ("openai-processing-ms", "-3"),
                ("x-ratelimit-remaining-requests", "many"),
                ("cf-ray", "8e1b9c2d3f4a5b6c"),
            ]),
            &mut extra,
        );
        assert!(extra.is_empty(), "{extra:?}");
        assert_eq!(identifier(&"x".repeat(IDENTIFIER_CHARS + 1)), None);
        assert_eq!(
            identifier(" gpt-4o-2024-08-06\n"),
            Some("gpt-4o-2024-08-06".into())
        );
        assert_eq!(identifier("a\u{7}b"), None);
    }

    #[test]
    fn miniflares_placeholder_colo_is_not_a_colo() {
        assert_eq!(
            worker_colo(Some("DFW"), Some(395_747.0), Some("78701")),
            None
        );
        assert_eq!(
            worker_colo(Some("DFW"), Some(13_335.0), None),
            Some("DFW".into())
        );
        assert_eq!(worker_colo(Some("AMS"), None, None), Some("AMS".into()));
        assert_eq!(worker_colo(None, None, None), None);
    }
}
