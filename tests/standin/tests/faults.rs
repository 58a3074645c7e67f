//! Faults, on every provider: error statuses and bodies, cut and corrupt streams, in-stream
//! errors, hangs.

mod common;

use std::time::Duration;

use common::*;
use llmscope_standin::{chunk_text, full_text, Fault, Script, Standin};
use serde_json::Value;

fn with_fault(fault: Fault) -> Script {
    Script {
        ttft_ms: 10,
        gap_ms: 5,
        chunks: 6,
        fault: Some(fault),
        ..Script::default()
    }
}

/// The error message of each provider's JSON error body.
fn message(p: P, body: &Value) -> String {
    let m = match p {
        P::OpenAi | P::Gemini => &body["error"]["message"],
        P::Anthropic => &body["error"]["message"],
        P::Bedrock => &body["message"],
        P::Ollama | P::Custom => &body["error"],
    };
    m.as_str()
        .unwrap_or_else(|| panic!("{p:?}: no message in {body}"))
        .to_string()
}

#[tokio::test]
async fn unauthorized_echoes_the_credential() {
    let s = Standin::start().await.unwrap();
    s.set("u", with_fault(Fault::Unauthorized));
    s.set(
        "k",
        Script {
            key: Some("right-key".into()),
            ..Script::default()
        },
    );
    for p in ALL {
        for profile in ["u", "k"] {
            let r = p.call(s.addr(), profile, "SECRET-abc123").await;
            let want = if p == P::Bedrock { 403 } else { 401 };
            assert_eq!(r.status, want, "{p:?} {profile}");
            let body = r.json();
            assert!(message(p, &body).contains("SECRET-abc123"), "{p:?}: {body}");
        }
    }
    let b = P::Anthropic.call(s.addr(), "u", "x").await.json();
    assert_eq!(b["type"], "error");
    assert_eq!(b["error"]["type"], "authentication_error");
}

#[tokio::test]
async fn not_found_rate_limited_server_error() {
    let s = Standin::start().await.unwrap();
    s.set("nf", with_fault(Fault::NotFound));
    s.set("rl", with_fault(Fault::RateLimited { retry_after_s: 7 }));
    s.set("se", with_fault(Fault::ServerError));
    s.set(
        "rd",
        with_fault(Fault::RateLimitedUntil { retry_after_s: 120 }),
    );
    for p in ALL {
        let r = p.call(s.addr(), "nf", "k").await;
        assert_eq!(r.status, 404, "{p:?}");
        assert!(!message(p, &r.json()).is_empty());
        let r = p.call(s.addr(), "rl", "k").await;
        assert_eq!(r.status, 429, "{p:?}");
        assert_eq!(r.header("retry-after"), Some("7"), "{p:?}");
        assert!(!message(p, &r.json()).is_empty());
        let r = p.call(s.addr(), "rd", "k").await;
        assert_eq!(r.status, 429, "{p:?}");
        let date = r.header("retry-after").unwrap();
        assert!(
            date.ends_with(" GMT") && date.contains(", "),
            "{p:?}: {date}"
        );
        assert!(!message(p, &r.json()).is_empty());
        let r = p.call(s.addr(), "se", "k").await;
        assert_eq!(r.status, 500, "{p:?}");
        assert!(!message(p, &r.json()).is_empty());
    }
    let r = P::Ollama.call(s.addr(), "nf", "k").await;
    assert_eq!(r.json()["error"], "model 'llama3.2' not found");
    let r = P::Gemini.call(s.addr(), "rl", "k").await;
    assert_eq!(r.json()["error"]["status"], "RESOURCE_EXHAUSTED");
    assert_eq!(r.json()["error"]["code"], 429);
    let r = P::Bedrock.call(s.addr(), "rl", "k").await;
    assert_eq!(r.header("x-amzn-errortype"), Some("ThrottlingException"));
    assert_eq!(
        r.json()["message"],
        "Too many requests, please wait before trying again."
    );
    let r = P::Bedrock.call(s.addr(), "nf", "k").await;
    assert_eq!(
        r.header("x-amzn-errortype"),
        Some("ResourceNotFoundException")
    );
    let r = P::Anthropic.call(s.addr(), "se", "k").await;
    assert_eq!(r.json()["error"]["type"], "api_error");
}

#[tokio::test]
async fn cut_midway_drops_the_connection_without_an_end() {
    let s = Standin::start().await.unwrap();
    s.set("cut", with_fault(Fault::CutMidway));
    for p in ALL {
        let r = p.call(s.addr(), "cut", "k").await;
        assert_eq!(r.status, 200, "{p:?}");
        assert!(!r.complete, "{p:?}: the chunked body must not end cleanly");
        assert_eq!(p.text(&r), full_text(3), "{p:?}");
        assert!(!p.terminal(&r), "{p:?}");
    }
    let r = P::OpenAi.call(s.addr(), "cut", "k").await;
    assert!(!r.text().contains("[DONE]"));
    assert!(!r.text().contains("prompt_tokens"));
    // Bedrock: the frames that did arrive are all valid.
    let r = P::Bedrock.call(s.addr(), "cut", "k").await;
    assert!(decode_frames(&r.body()).iter().all(|f| f.message_crc_ok));
}

#[tokio::test]
async fn corrupt_frame_then_the_stream_goes_on() {
    let s = Standin::start().await.unwrap();
    s.set("bad", with_fault(Fault::CorruptFrame));
    for p in ALL {
        let r = p.call(s.addr(), "bad", "k").await;
        assert_eq!(r.status, 200, "{p:?}");
        assert!(r.complete, "{p:?}");
        assert_eq!(p.text(&r), full_text(6), "{p:?}");
        assert!(p.terminal(&r), "{p:?}");
        match p {
            P::OpenAi | P::Anthropic | P::Gemini => {
                let bad: Vec<_> = r
                    .sse()
                    .into_iter()
                    .filter(|(_, d)| d != "[DONE]" && serde_json::from_str::<Value>(d).is_err())
                    .collect();
                assert_eq!(bad.len(), 1, "{p:?}: {bad:?}");
            }
            P::Ollama | P::Custom => {
                let bad = r
                    .lines()
                    .iter()
                    .filter(|l| serde_json::from_str::<Value>(l).is_err())
                    .count();
                assert_eq!(bad, 1, "{p:?}");
            }
            P::Bedrock => {
                let frames = decode_frames(&r.body());
                assert_eq!(frames.iter().filter(|f| !f.message_crc_ok).count(), 1);
                assert!(frames.iter().all(|f| f.prelude_crc_ok));
                assert!(!frames[1].json().is_null());
                assert!(
                    !frames[2].message_crc_ok,
                    "the corrupt frame follows the first text"
                );
            }
        }
    }
    let r = P::OpenAi.call(s.addr(), "bad", "k").await;
    assert!(r.text().contains("data: {\"choices\":[{\"delta\":\n\n"));
}

#[tokio::test]
async fn stream_error_after_the_first_chunk() {
    let s = Standin::start().await.unwrap();
    s.set("se", with_fault(Fault::StreamError));
    for p in ALL {
        let r = p.call(s.addr(), "se", "k").await;
        assert_eq!(r.status, 200, "{p:?}");
        assert!(
            r.complete,
            "{p:?}: the stream ends normally after the error"
        );
        assert_eq!(p.text(&r), chunk_text(0), "{p:?}");
        assert!(!p.terminal(&r), "{p:?}");
    }
    let r = P::OpenAi.call(s.addr(), "se", "k").await;
    let last = r.sse_json().pop().unwrap();
    assert_eq!(last["error"]["type"], "server_error");
    let r = P::Anthropic.call(s.addr(), "se", "k").await;
    let (name, data) = r.sse().pop().unwrap();
    assert_eq!(name.as_deref(), Some("error"));
    let v: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(v["error"]["type"], "overloaded_error");
    let r = P::Gemini.call(s.addr(), "se", "k").await;
    assert_eq!(r.sse_json().pop().unwrap()["error"]["status"], "INTERNAL");
    let r = P::Bedrock.call(s.addr(), "se", "k").await;
    let f = decode_frames(&r.body()).pop().unwrap();
    assert!(f.message_crc_ok);
    assert_eq!(f.header(":message-type"), Some("exception"));
    assert_eq!(f.header(":exception-type"), Some("internalServerException"));
    assert!(f.json()["message"].is_string());
    let r = P::Ollama.call(s.addr(), "se", "k").await;
    assert!(ndjson(&r).pop().unwrap()["error"].is_string());
}

#[tokio::test]
async fn hang_never_answers() {
    let s = Standin::start().await.unwrap();
    s.set("h", with_fault(Fault::Hang));
    let mut waits = Vec::new();
    for p in ALL {
        let hs = p.headers("k");
        let path = p.path("h");
        let addr = s.addr();
        waits.push(tokio::spawn(async move {
            let hs: Vec<(&str, &str)> = hs.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            let (mut r, _) = send(addr, "POST", &path, &hs, p.body().as_bytes()).await;
            let head = tokio::time::timeout(Duration::from_secs(1), read_head(&mut r)).await;
            assert!(head.is_err(), "{p:?} answered");
        }));
    }
    for w in waits {
        w.await.unwrap();
    }
    assert_eq!(s.requests("h").len(), 6);
}
