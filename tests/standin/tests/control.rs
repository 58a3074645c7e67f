//! Profiles, recording, the HTTP control routes and the binary.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::*;
use llmscope_standin::{Script, Standin};

#[tokio::test]
async fn unknown_profile_is_a_plain_404_but_recorded() {
    let s = Standin::start().await.unwrap();
    assert_eq!(s.base_url("x"), format!("http://{}/p/x", s.addr()));
    let r = P::OpenAi.call(s.addr(), "nobody", "k").await;
    assert_eq!(r.status, 404);
    assert!(r.text().contains("unknown profile 'nobody'"));
    assert_eq!(s.requests("nobody").len(), 1);
    s.set("x", Script::default());
    let r = post(s.addr(), "/p/x/v2/nothing", &[], "{}").await;
    assert_eq!(r.status, 404);
    let r = request(s.addr(), "GET", "/p/x/v1/chat/completions", &[], b"").await;
    assert_eq!(r.status, 405);
}

#[tokio::test]
async fn requests_are_recorded_before_auth() {
    let s = Standin::start().await.unwrap();
    s.set(
        "r",
        Script {
            ttft_ms: 1,
            gap_ms: 0,
            chunks: 1,
            key: Some("good".into()),
            ..Script::default()
        },
    );
    let before = std::time::Instant::now();
    let r = P::Anthropic.call(s.addr(), "r", "bad-key").await;
    assert_eq!(r.status, 401);
    let r = P::Gemini.call(s.addr(), "r", "good").await;
    assert_eq!(r.status, 200);
    let rec = s.requests("r");
    assert_eq!(rec.len(), 2);
    assert_eq!(rec[0].method, "POST");
    assert_eq!(rec[0].path_and_query, "/p/r/v1/messages");
    assert_eq!(rec[0].header("x-api-key"), Some("bad-key"));
    assert_eq!(rec[0].header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(rec[0].body, P::Anthropic.body());
    assert!(rec[0].headers.iter().all(|(n, _)| *n == n.to_lowercase()));
    assert!(rec[0].received_at >= before && rec[1].received_at >= rec[0].received_at);
    assert_eq!(
        rec[1].path_and_query,
        "/p/r/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse"
    );
    assert!(s.requests("other").is_empty());
}

#[tokio::test]
async fn profiles_over_http() {
    let s = Standin::start().await.unwrap();
    let body = br#"{"ttft_ms": 5, "gap_ms": 1, "chunks": 2, "output_tokens": 42}"#;
    let r = request(
        s.addr(),
        "PUT",
        "/profiles/h",
        &[("content-type", "application/json")],
        body,
    )
    .await;
    assert_eq!(r.status, 204);
    let r = P::Custom.call(s.addr(), "h", "k").await;
    assert_eq!(r.status, 200);
    assert_eq!(ndjson(&r)[2]["stats"]["generated_tokens"], 42);
    let r = request(s.addr(), "GET", "/profiles/h/requests", &[], b"").await;
    let list = r.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["method"], "POST");
    assert_eq!(list[0]["path_and_query"], "/p/h/generate");
    assert_eq!(list[0]["body"], P::Custom.body());
    assert!(list[0]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h[0] == "authorization"));
    let r = request(
        s.addr(),
        "PUT",
        "/profiles/h",
        &[],
        b"{\"ttft_ms\": \"soon\"}",
    )
    .await;
    assert_eq!(r.status, 400);
}

/// Kills the child however the test ends (a failing assert must not leave it running).
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_binary_prints_its_address_and_serves() {
    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_llmscope-standin"))
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap()
        .to_string();
    let addr = url.parse().unwrap();
    let r = request(
        addr,
        "PUT",
        "/profiles/b",
        &[],
        br#"{"ttft_ms": 1, "gap_ms": 0}"#,
    )
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(P::Ollama.call(addr, "b", "k").await.status, 200);
}
