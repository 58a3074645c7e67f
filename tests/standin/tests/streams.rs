//! Each provider's stream: shape, usage and timing, read off the wire.

mod common;

use std::time::Duration;

use common::*;
use llmscope_standin::{chunk_text, full_text, thinking_text, Script, Standin, Wrong};
use serde_json::{json, Value};

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

#[tokio::test]
async fn every_provider_streams_on_time() {
    let s = Standin::start().await.unwrap();
    let script = Script {
        ttft_ms: 120,
        gap_ms: 15,
        chunks: 4,
        key: Some("k-good".into()),
        ..Script::default()
    };
    s.set("t", script);
    for p in ALL {
        let r = p.call(s.addr(), "t", "k-good").await;
        assert_eq!(r.status, 200, "{p:?}: {}", r.text());
        assert!(r.complete, "{p:?}");
        assert_eq!(p.text(&r), full_text(4), "{p:?}");
        assert!(p.terminal(&r), "{p:?}");
        let first = r.until(&chunk_text(0)).unwrap();
        assert!(
            first >= Duration::from_millis(120),
            "{p:?}: first text at {first:?}"
        );
        assert!(
            first <= Duration::from_millis(150),
            "{p:?}: first text at {first:?}"
        );
        // Chunk i is not sent before ttft + i·gap.
        for i in 1..4u32 {
            let at = r.until(&chunk_text(i)).unwrap();
            let due = Duration::from_millis(120 + 15 * u64::from(i));
            assert!(at >= due, "{p:?}: chunk {i} at {at:?}, due {due:?}");
            assert!(
                at <= due + Duration::from_millis(200),
                "{p:?}: chunk {i} at {at:?}"
            );
        }
    }
}

#[tokio::test]
async fn openai_role_chunk_first_then_text_then_usage_and_done() {
    let s = Standin::start().await.unwrap();
    s.set(
        "o",
        Script {
            ttft_ms: 150,
            gap_ms: 5,
            chunks: 3,
            input_tokens: 20,
            output_tokens: 7,
            cached_input_tokens: 4,
            ..Script::default()
        },
    );
    let r = P::OpenAi.call(s.addr(), "o", "anything").await;
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("text/event-stream"));
    // The role-only chunk goes out at once, well before the ttft.
    let role_at = r.until("\"role\":\"assistant\"").unwrap();
    assert!(ms(role_at) < 100, "role chunk at {role_at:?}");
    let events = r.sse();
    assert!(events.iter().all(|(name, _)| name.is_none()));
    assert_eq!(events.last().unwrap().1, "[DONE]");
    let chunks = r.sse_json();
    assert_eq!(chunks.len(), 1 + 3 + 1 + 1);
    let first = &chunks[0];
    assert_eq!(
        first["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    for c in &chunks[..5] {
        assert_eq!(c["object"], "chat.completion.chunk");
        assert_eq!(c["model"], "gpt-4o-mini");
        assert!(c["id"].as_str().unwrap().starts_with("chatcmpl-"));
        assert!(c["created"].as_u64().unwrap() > 1_600_000_000);
        // With include_usage, every chunk but the last says `"usage": null`.
        assert!(c.as_object().unwrap().contains_key("usage") && c["usage"].is_null());
    }
    assert_eq!(chunks[1]["choices"][0]["delta"]["content"], chunk_text(0));
    assert_eq!(chunks[4]["choices"][0]["finish_reason"], "stop");
    let usage = &chunks[5];
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["prompt_tokens"], 20);
    assert_eq!(usage["usage"]["completion_tokens"], 7);
    assert_eq!(usage["usage"]["total_tokens"], 27);
    assert_eq!(usage["usage"]["prompt_tokens_details"]["cached_tokens"], 4);
}

#[tokio::test]
async fn openai_usage_only_when_asked() {
    let s = Standin::start().await.unwrap();
    s.set(
        "o",
        Script {
            ttft_ms: 5,
            gap_ms: 1,
            ..Script::default()
        },
    );
    let body = r#"{"model":"m","messages":[],"stream":true}"#;
    let r = post(s.addr(), "/p/o/v1/chat/completions", &[], body).await;
    assert_eq!(r.status, 200);
    assert!(r.text().ends_with("data: [DONE]\n\n"));
    assert!(!r.text().contains("\"usage\""), "{}", r.text());
    let body =
        r#"{"model":"m","messages":[],"stream":true,"stream_options":{"include_usage":false}}"#;
    let r = post(s.addr(), "/p/o/v1/chat/completions", &[], body).await;
    assert!(!r.text().contains("prompt_tokens"));
}

#[tokio::test]
async fn openai_reasoning_models_refuse_max_tokens_as_openai_does() {
    let s = Standin::start().await.unwrap();
    s.set("o", Script::default());
    for model in [
        "o1",
        "o3-mini",
        "o4-mini-2025-04-16",
        "gpt-5",
        "gpt-5.1",
        "openai/o3",
    ] {
        let body = json!({"model": model, "messages": [], "stream": true, "max_tokens": 64});
        let r = post(s.addr(), "/p/o/v1/chat/completions", &[], &body.to_string()).await;
        assert_eq!(r.status, 400, "{model}");
        assert_eq!(
            r.json(),
            json!({"error": {
                "message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
                "type": "invalid_request_error",
                "param": "max_tokens",
                "code": "unsupported_parameter"
            }}),
            "{model}"
        );
        let body =
            json!({"model": model, "messages": [], "stream": true, "max_completion_tokens": 64});
        let r = post(s.addr(), "/p/o/v1/chat/completions", &[], &body.to_string()).await;
        assert_eq!(r.status, 200, "{model}: {}", r.text());
    }
    // Chat models take either.
    for field in ["max_tokens", "max_completion_tokens"] {
        let body = json!({"model": "gpt-4o-mini", "messages": [], "stream": true, field: 64});
        let r = post(s.addr(), "/p/o/v1/chat/completions", &[], &body.to_string()).await;
        assert_eq!(r.status, 200, "{field}");
    }
}

#[tokio::test]
async fn openai_auth_bearer_or_azure_api_key() {
    let s = Standin::start().await.unwrap();
    s.set(
        "o",
        Script {
            ttft_ms: 1,
            gap_ms: 0,
            chunks: 1,
            key: Some("sk-right".into()),
            ..Script::default()
        },
    );
    let body = P::OpenAi.body();
    let path = "/p/o/v1/chat/completions";
    let r = post(
        s.addr(),
        path,
        &[("authorization", "Bearer sk-right")],
        body,
    )
    .await;
    assert_eq!(r.status, 200);
    let r = post(s.addr(), path, &[("api-key", "sk-right")], body).await;
    assert_eq!(r.status, 200);
    let r = post(
        s.addr(),
        path,
        &[("authorization", "Bearer sk-WRONG-123")],
        body,
    )
    .await;
    assert_eq!(r.status, 401);
    let e = r.json();
    assert_eq!(e["error"]["code"], "invalid_api_key");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("sk-WRONG-123"));
    let r = post(s.addr(), path, &[], body).await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn openai_without_stream_answers_one_completion() {
    let s = Standin::start().await.unwrap();
    s.set(
        "o",
        Script {
            ttft_ms: 60,
            gap_ms: 10,
            chunks: 3,
            ..Script::default()
        },
    );
    let r = post(
        s.addr(),
        "/p/o/v1/chat/completions",
        &[],
        r#"{"model":"m","messages":[]}"#,
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.until("chat.completion").unwrap() >= Duration::from_millis(80));
    let v = r.json();
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["choices"][0]["message"]["content"], full_text(3));
    assert_eq!(v["usage"]["completion_tokens"], 8);
}

#[tokio::test]
async fn anthropic_events_and_cumulative_usage() {
    let s = Standin::start().await.unwrap();
    s.set(
        "a",
        Script {
            ttft_ms: 80,
            chunks: 3,
            input_tokens: 30,
            output_tokens: 9,
            cached_input_tokens: 5,
            cache_write_tokens: 6,
            ..Script::default()
        },
    );
    let r = P::Anthropic.call(s.addr(), "a", "x").await;
    assert_eq!(r.status, 200);
    let names: Vec<String> = r.sse().into_iter().map(|(n, _)| n.unwrap()).collect();
    let expected = [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ];
    assert_eq!(names, expected);
    assert!(ms(r.until("message_start").unwrap()) < 60);
    let ev = r.sse_json();
    for (v, name) in ev.iter().zip(expected) {
        assert_eq!(v["type"], name);
    }
    let start = &ev[0]["message"];
    assert_eq!(start["model"], "claude-3-5-haiku-latest");
    assert_eq!(start["usage"]["input_tokens"], 30);
    assert_eq!(start["usage"]["cache_read_input_tokens"], 5);
    assert_eq!(start["usage"]["cache_creation_input_tokens"], 6);
    assert_eq!(start["usage"]["output_tokens"], 1);
    assert_eq!(ev[3]["delta"]["type"], "text_delta");
    assert_eq!(ev[3]["delta"]["text"], chunk_text(0));
    // Cumulative: the final count itself, not an increment on message_start's 1.
    assert_eq!(ev[7]["delta"]["stop_reason"], "end_turn");
    assert_eq!(ev[7]["usage"]["output_tokens"], 9);
}

#[tokio::test]
async fn anthropic_requires_version_header() {
    let s = Standin::start().await.unwrap();
    s.set("a", Script::default());
    let r = post(
        s.addr(),
        "/p/a/v1/messages",
        &[("x-api-key", "k")],
        P::Anthropic.body(),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["type"], "invalid_request_error");
}

#[tokio::test]
async fn gemini_frames_and_final_usage() {
    let s = Standin::start().await.unwrap();
    s.set(
        "g",
        Script {
            ttft_ms: 10,
            gap_ms: 2,
            chunks: 4,
            input_tokens: 11,
            output_tokens: 17,
            cached_input_tokens: 3,
            key: Some("AIza-good".into()),
            ..Script::default()
        },
    );
    let r = P::Gemini.call(s.addr(), "g", "AIza-good").await;
    assert_eq!(r.status, 200);
    assert!(!r.text().contains("[DONE]"));
    let frames = r.sse_json();
    assert_eq!(frames.len(), 4);
    for f in &frames {
        assert_eq!(f["candidates"][0]["content"]["role"], "model");
        assert_eq!(f["usageMetadata"]["promptTokenCount"], 11);
        assert_eq!(f["modelVersion"], "gemini-2.0-flash");
    }
    assert!(frames[..3]
        .iter()
        .all(|f| f["candidates"][0].get("finishReason").is_none()));
    let last = &frames[3];
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert_eq!(last["usageMetadata"]["candidatesTokenCount"], 17);
    assert_eq!(last["usageMetadata"]["totalTokenCount"], 28);
    assert_eq!(last["usageMetadata"]["cachedContentTokenCount"], 3);
    // The key may come as ?key= too.
    let path = "/p/g/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse&key=AIza-good";
    let r = post(s.addr(), path, &[], P::Gemini.body()).await;
    assert_eq!(r.status, 200);
    let path = "/p/g/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse&key=AIza-bad";
    let r = post(s.addr(), path, &[], P::Gemini.body()).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["status"], "UNAUTHENTICATED");
    assert!(r.text().contains("AIza-bad"));
}

#[tokio::test]
async fn gemini_omits_cached_count_when_zero() {
    let s = Standin::start().await.unwrap();
    s.set(
        "g",
        Script {
            ttft_ms: 1,
            gap_ms: 0,
            chunks: 2,
            ..Script::default()
        },
    );
    let r = P::Gemini.call(s.addr(), "g", "k").await;
    let frames = r.sse_json();
    assert!(frames[1]["usageMetadata"]
        .get("cachedContentTokenCount")
        .is_none());
}

#[tokio::test]
async fn bedrock_frames_are_valid_event_stream() {
    let s = Standin::start().await.unwrap();
    s.set(
        "b",
        Script {
            ttft_ms: 40,
            gap_ms: 10,
            chunks: 3,
            input_tokens: 13,
            output_tokens: 5,
            key: Some("AKIDEXAMPLE".into()),
            ..Script::default()
        },
    );
    let r = P::Bedrock.call(s.addr(), "b", "AKIDEXAMPLE").await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body()));
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.amazon.eventstream")
    );
    let frames = decode_frames(&r.body());
    let types: Vec<&str> = frames
        .iter()
        .map(|f| f.header(":event-type").unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "messageStart",
            "contentBlockDelta",
            "contentBlockDelta",
            "contentBlockDelta",
            "contentBlockStop",
            "messageStop",
            "metadata"
        ]
    );
    for f in &frames {
        assert!(f.prelude_crc_ok && f.message_crc_ok);
        assert_eq!(f.header(":content-type"), Some("application/json"));
        assert_eq!(f.header(":message-type"), Some("event"));
    }
    assert_eq!(frames[0].json(), json!({"role": "assistant"}));
    assert_eq!(
        frames[1].json(),
        json!({"contentBlockIndex": 0, "delta": {"text": chunk_text(0)}})
    );
    assert_eq!(frames[4].json(), json!({"contentBlockIndex": 0}));
    assert_eq!(frames[5].json(), json!({"stopReason": "end_turn"}));
    let meta = frames[6].json();
    assert_eq!(
        meta["usage"],
        json!({"inputTokens": 13, "outputTokens": 5, "totalTokens": 18})
    );
    assert_eq!(meta["metrics"]["latencyMs"], 60);
    assert!(ms(r.until("messageStart").unwrap()) < 30);
    // The model id arrived percent-encoded, as the SigV4 path has it.
    let rec = s.requests("b");
    assert!(rec[0].path_and_query.contains(BEDROCK_MODEL));
}

#[tokio::test]
async fn bedrock_checks_the_sigv4_shape() {
    let s = Standin::start().await.unwrap();
    s.set(
        "b",
        Script {
            ttft_ms: 1,
            gap_ms: 0,
            chunks: 1,
            key: Some("AKIDGOOD".into()),
            ..Script::default()
        },
    );
    let path = P::Bedrock.path("b");
    let body = P::Bedrock.body();
    let auth = sigv4("AKIDGOOD");
    let date = ("x-amz-date", "20240101T000000Z");
    // Wrong access key id: 403, UnrecognizedClientException, the key id echoed.
    let bad = sigv4("AKIDBAD");
    let r = post(s.addr(), &path, &[("authorization", &bad), date], body).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.header("x-amzn-errortype"),
        Some("UnrecognizedClientException")
    );
    let msg = r.json()["message"].as_str().unwrap().to_string();
    assert!(msg.starts_with("The security token included in the request is invalid."));
    assert!(msg.contains("AKIDBAD"));
    // No x-amz-date.
    let r = post(s.addr(), &path, &[("authorization", &auth)], body).await;
    assert_eq!(r.status, 400);
    // No 64-hex signature.
    let short = auth.replace(SIG, "abc");
    let r = post(s.addr(), &path, &[("authorization", &short), date], body).await;
    assert_eq!(r.status, 400);
    let nosh = auth.replace("SignedHeaders=", "Signed=");
    let r = post(s.addr(), &path, &[("authorization", &nosh), date], body).await;
    assert_eq!(r.status, 400);
    // x-amz-content-sha256 must be the body's hash when present.
    let wrong = "0".repeat(64);
    let r = post(
        s.addr(),
        &path,
        &[
            ("authorization", &auth),
            date,
            ("x-amz-content-sha256", &wrong),
        ],
        body,
    )
    .await;
    assert_eq!(r.status, 400);
    use sha2::Digest;
    let right: String = sha2::Sha256::digest(body.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let r = post(
        s.addr(),
        &path,
        &[
            ("authorization", &auth),
            date,
            ("x-amz-content-sha256", &right),
        ],
        body,
    )
    .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn ollama_lines_and_nanosecond_timings() {
    let s = Standin::start().await.unwrap();
    s.set(
        "l",
        Script {
            ttft_ms: 70,
            gap_ms: 10,
            chunks: 3,
            input_tokens: 26,
            output_tokens: 3,
            load_duration_ms: 40,
            ..Script::default()
        },
    );
    let r = P::Ollama.call(s.addr(), "l", "none").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/x-ndjson"));
    let lines = ndjson(&r);
    assert_eq!(lines.len(), 4);
    assert_eq!(r.lines().len(), 4);
    for l in &lines[..3] {
        assert_eq!(l["done"], false);
        assert_eq!(l["model"], "llama3.2");
        assert_eq!(l["message"]["role"], "assistant");
        assert!(l["created_at"].as_str().unwrap().ends_with('Z'));
    }
    let last = &lines[3];
    assert_eq!(last["done"], true);
    assert_eq!(last["done_reason"], "stop");
    assert_eq!(last["message"]["content"], "");
    assert_eq!(last["load_duration"], 40_000_000u64);
    assert_eq!(last["total_duration"], 90_000_000u64);
    assert_eq!(last["prompt_eval_duration"], 30_000_000u64);
    assert_eq!(last["eval_duration"], 20_000_000u64);
    assert_eq!(last["prompt_eval_count"], 26);
    assert_eq!(last["eval_count"], 3);
    assert!(r.until(&chunk_text(0)).unwrap() >= Duration::from_millis(70));
}

#[tokio::test]
async fn ollama_key_only_when_scripted() {
    let s = Standin::start().await.unwrap();
    s.set(
        "l",
        Script {
            ttft_ms: 1,
            gap_ms: 0,
            chunks: 1,
            key: Some("olk".into()),
            ..Script::default()
        },
    );
    let path = P::Ollama.path("l");
    let r = post(s.addr(), &path, &[], P::Ollama.body()).await;
    assert_eq!(r.status, 401);
    let r = post(
        s.addr(),
        &path,
        &[("authorization", "Bearer olk")],
        P::Ollama.body(),
    )
    .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn custom_streams_ndjson_or_answers_once() {
    let s = Standin::start().await.unwrap();
    s.set(
        "c",
        Script {
            ttft_ms: 50,
            gap_ms: 20,
            chunks: 3,
            input_tokens: 4,
            output_tokens: 6,
            ..Script::default()
        },
    );
    let r = P::Custom.call(s.addr(), "c", "t").await;
    let lines = ndjson(&r);
    assert_eq!(lines[0], json!({"token": {"text": chunk_text(0)}}));
    assert_eq!(
        lines[3],
        json!({"done": true, "stats": {"prompt_tokens": 4, "generated_tokens": 6}})
    );
    let r = post(s.addr(), "/p/c/generate", &[], r#"{"prompt":"hi"}"#).await;
    assert_eq!(r.status, 200);
    assert!(r.head_at.duration_since(r.sent_at) >= Duration::from_millis(90));
    assert_eq!(
        r.json(),
        json!({"output": {"text": full_text(3)}, "stats": {"prompt_tokens": 4, "generated_tokens": 6}})
    );
    let r = post(s.addr(), "/p/c/generate", &[], r#"{"stream":true}"#).await;
    assert_eq!(r.status, 400);
    assert!(r.json()["error"].is_string());
}

#[tokio::test]
async fn jitter_is_added_within_bounds_and_varies() {
    let s = Standin::start().await.unwrap();
    s.set(
        "j",
        Script {
            ttft_ms: 20,
            gap_ms: 0,
            chunks: 1,
            jitter_ms: 150,
            ..Script::default()
        },
    );
    let mut seen = Vec::new();
    for _ in 0..5 {
        let r = P::Custom.call(s.addr(), "j", "k").await;
        let t = r.until(&chunk_text(0)).unwrap();
        assert!(t >= Duration::from_millis(20) && t <= Duration::from_millis(20 + 150 + 200));
        seen.push(ms(t));
    }
    let (lo, hi) = (seen.iter().min().unwrap(), seen.iter().max().unwrap());
    assert!(hi - lo >= 10, "jitter did not vary: {seen:?}");
}

#[test]
fn script_json_defaults_and_fault_tags() {
    let s: Script = serde_json::from_str(
        r#"{"ttft_ms": 7, "fault": {"kind": "rate_limited", "retry_after_s": 3}}"#,
    )
    .unwrap();
    assert_eq!(
        (
            s.ttft_ms,
            s.gap_ms,
            s.chunks,
            s.input_tokens,
            s.output_tokens
        ),
        (7, 5, 8, 12, 8)
    );
    assert_eq!(
        s.fault,
        Some(llmscope_standin::Fault::RateLimited { retry_after_s: 3 })
    );
    let v: Value = serde_json::to_value(Script {
        fault: Some(llmscope_standin::Fault::CutMidway),
        ..Script::default()
    })
    .unwrap();
    assert_eq!(v["fault"], json!({"kind": "cut_midway"}));
}

/// A thinking model's script: 40 reasoning tokens of 50 output, two thinking chunks.
fn thinker() -> Script {
    Script {
        ttft_ms: 100,
        gap_ms: 2,
        chunks: 2,
        output_tokens: 50,
        reasoning_tokens: 40,
        thinking_chunks: 2,
        ..Script::default()
    }
}

#[tokio::test]
async fn openai_reports_reasoning_tokens_and_streams_no_reasoning_text() {
    let s = Standin::start().await.unwrap();
    s.set("o", thinker());
    let r = P::OpenAi.call(s.addr(), "o", "k").await;
    assert!(!r.text().contains("thought"), "{}", r.text());
    let usage = &r.sse_json()[4]["usage"];
    assert_eq!(usage["completion_tokens"], 50);
    assert_eq!(usage["completion_tokens_details"]["reasoning_tokens"], 40);
}

#[tokio::test]
async fn anthropic_thinking_block_comes_first_when_asked_for() {
    let s = Standin::start().await.unwrap();
    s.set("a", thinker());
    let headers = P::Anthropic.headers("k");
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let ask = |thinking: Value| {
        json!({"model": "claude-sonnet-4-5", "max_tokens": 2048, "stream": true,
               "messages": [{"role": "user", "content": "hi"}], "thinking": thinking})
        .to_string()
    };
    let r = post(
        s.addr(),
        "/p/a/v1/messages",
        &headers,
        &ask(json!({"type": "enabled", "budget_tokens": 1024})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let ev = r.sse_json();
    let kinds: Vec<String> = ev
        .iter()
        .map(|v| {
            let d = v["delta"]["type"]
                .as_str()
                .or(v["content_block"]["type"].as_str());
            format!(
                "{}{}",
                v["type"].as_str().unwrap(),
                d.map(|d| format!(":{d}")).unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "message_start",
            "ping",
            "content_block_start:thinking",
            "content_block_delta:thinking_delta",
            "content_block_delta:thinking_delta",
            "content_block_delta:signature_delta",
            "content_block_stop",
            "content_block_start:text",
            "content_block_delta:text_delta",
            "content_block_delta:text_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    );
    assert_eq!(ev[3]["delta"]["thinking"], thinking_text(0));
    assert_eq!(
        (
            ev[7]["index"].clone(),
            ev[8]["index"].clone(),
            ev[10]["index"].clone()
        ),
        (json!(1), json!(1), json!(1))
    );
    // Thinking comes at half the ttft, the text at the ttft; its tokens are in output_tokens.
    let thought_at = r.until(&thinking_text(0)).unwrap();
    assert!(thought_at >= Duration::from_millis(50), "{thought_at:?}");
    assert!(r.until(&chunk_text(0)).unwrap() >= Duration::from_millis(100));
    assert_eq!(ev[11]["usage"]["output_tokens"], 50);
    // Not asked for, no block; a budget the API refuses is a 400.
    let r = post(
        s.addr(),
        "/p/a/v1/messages",
        &headers,
        &ask(json!({"type": "disabled"})),
    )
    .await;
    assert!(!r.text().contains("thinking_delta"), "{}", r.text());
    for budget in [512, 4096] {
        let r = post(
            s.addr(),
            "/p/a/v1/messages",
            &headers,
            &ask(json!({"type": "enabled", "budget_tokens": budget})),
        )
        .await;
        assert_eq!(r.status, 400, "{budget}");
        assert_eq!(r.json()["error"]["type"], "invalid_request_error");
    }
}

#[tokio::test]
async fn gemini_counts_thoughts_apart_and_shows_them_only_when_asked() {
    let s = Standin::start().await.unwrap();
    s.set("g", thinker());
    let r = P::Gemini.call(s.addr(), "g", "k").await;
    let frames = r.sse_json();
    assert_eq!(frames.len(), 2, "no thought parts unless includeThoughts");
    let usage = &frames[1]["usageMetadata"];
    assert_eq!(usage["candidatesTokenCount"], 10);
    assert_eq!(usage["thoughtsTokenCount"], 40);
    assert_eq!(usage["totalTokenCount"], 12 + 50);
    let body = json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}],
                      "generationConfig": {"thinkingConfig": {"includeThoughts": true}}});
    let r = post(s.addr(), &P::Gemini.path("g"), &[], &body.to_string()).await;
    let frames = r.sse_json();
    assert_eq!(frames.len(), 4);
    let first = &frames[0]["candidates"][0]["content"]["parts"][0];
    assert_eq!(
        (first["text"].clone(), first["thought"].clone()),
        (json!(thinking_text(0)), json!(true))
    );
    assert!(frames[2]["candidates"][0]["content"]["parts"][0]
        .get("thought")
        .is_none());
}

#[tokio::test]
async fn every_provider_carries_the_scripted_answer_or_the_wrong_one() {
    let s = Standin::start().await.unwrap();
    let answer = "The answer is 42.";
    s.set(
        "right",
        Script {
            chunks: 3,
            answer: Some(answer.into()),
            ..Script::default()
        },
    );
    // Half wrong, drawn per request from the profile's seeded generator.
    let wrong = Wrong {
        rate: 0.5,
        text: "It is 41.".into(),
    };
    s.set(
        "half",
        Script {
            chunks: 3,
            answer: Some(answer.into()),
            wrong: Some(wrong.clone()),
            ..Script::default()
        },
    );
    for p in ALL {
        let r = p.call(s.addr(), "right", "k").await;
        assert_eq!(p.text(&r), answer, "{p:?}");
    }
    let mut texts = Vec::new();
    for _ in 0..4 {
        for p in ALL {
            let r = p.call(s.addr(), "half", "k").await;
            texts.push(p.text(&r));
        }
    }
    let said: Vec<bool> = s.requests("half").iter().map(|r| r.wrong).collect();
    let sent: Vec<bool> = texts.iter().map(|t| t == &wrong.text).collect();
    assert_eq!(
        said, sent,
        "each request records what it was answered: {texts:?}"
    );
    assert!(
        texts.iter().all(|t| t == answer || t == &wrong.text),
        "{texts:?}"
    );
    assert!(said.contains(&true) && said.contains(&false), "{said:?}");
    // Over HTTP too: a script as JSON, and each request's `wrong` in the record.
    let all_wrong = r#"{"chunks": 2, "answer": "4", "wrong": {"rate": 1, "text": "5"}}"#;
    let put = request(s.addr(), "PUT", "/profiles/w", &[], all_wrong.as_bytes()).await;
    assert_eq!(put.status, 204, "{}", put.text());
    let r = P::Ollama.call(s.addr(), "w", "k").await;
    assert_eq!(P::Ollama.text(&r), "5");
    let record = request(s.addr(), "GET", "/profiles/w/requests", &[], b"").await;
    assert_eq!(record.json()[0]["wrong"], true, "{}", record.text());
}
