//! A raw HTTP/1.1 client over TcpStream: it sees exactly what went over the wire (each HTTP
//! chunk with its arrival time, and whether the chunked body ended with its final chunk).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// When the client finished writing the request.
    pub sent_at: Instant,
    pub head_at: Instant,
    /// Each HTTP chunk (or the whole content-length body) with its arrival time.
    pub chunks: Vec<(Instant, Vec<u8>)>,
    /// The body ended properly: a final `0` chunk, or all of content-length.
    pub complete: bool,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn body(&self) -> Vec<u8> {
        self.chunks.iter().flat_map(|(_, c)| c.clone()).collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body()).unwrap()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body()).unwrap()
    }

    /// Time from sending to the arrival of the chunk in which `needle` first appears.
    pub fn until(&self, needle: &str) -> Option<Duration> {
        let mut seen = Vec::new();
        for (at, c) in &self.chunks {
            seen.extend_from_slice(c);
            if String::from_utf8_lossy(&seen).contains(needle) {
                return Some(at.duration_since(self.sent_at));
            }
        }
        None
    }

    /// Server-sent events as (event name, data).
    pub fn sse(&self) -> Vec<(Option<String>, String)> {
        self.text()
            .split("\n\n")
            .filter(|e| !e.trim().is_empty())
            .map(|e| {
                let mut name = None;
                let mut data = String::new();
                for line in e.lines() {
                    if let Some(n) = line.strip_prefix("event: ") {
                        name = Some(n.to_string());
                    } else if let Some(d) = line.strip_prefix("data: ") {
                        data.push_str(d);
                    }
                }
                (name, data)
            })
            .collect()
    }

    /// The `data:` payloads that parse as JSON.
    pub fn sse_json(&self) -> Vec<Value> {
        self.sse()
            .iter()
            .filter_map(|(_, d)| serde_json::from_str(d).ok())
            .collect()
    }

    /// NDJSON lines (raw).
    pub fn lines(&self) -> Vec<String> {
        self.text().lines().map(str::to_string).collect()
    }
}

/// Sends one request (with `connection: close`), returns the reader positioned at the reply.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (BufReader<TcpStream>, Instant) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.set_nodelay(true).unwrap();
    // Taken before writing, so the server's clock origin is never earlier than ours.
    let sent_at = Instant::now();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (n, v) in headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    s.write_all(&bytes).await.unwrap();
    s.flush().await.unwrap();
    (BufReader::new(s), sent_at)
}

/// Reads the status line and headers.
pub async fn read_head(r: &mut BufReader<TcpStream>) -> (u16, Vec<(String, String)>) {
    let mut line = String::new();
    r.read_line(&mut line).await.unwrap();
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("bad status line {line:?}"))
        .parse()
        .unwrap();
    let mut headers = Vec::new();
    loop {
        let mut l = String::new();
        r.read_line(&mut l).await.unwrap();
        let l = l.trim_end();
        if l.is_empty() {
            break;
        }
        let (n, v) = l.split_once(':').unwrap();
        headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    (status, headers)
}

/// Reads a whole reply (the body until its end, EOF or a connection error).
pub async fn read_response(mut r: BufReader<TcpStream>, sent_at: Instant) -> Resp {
    let (status, headers) = read_head(&mut r).await;
    let head_at = Instant::now();
    let mut resp = Resp {
        status,
        headers,
        sent_at,
        head_at,
        chunks: Vec::new(),
        complete: false,
    };
    if let Some(len) = resp.header("content-length") {
        let len: usize = len.parse().unwrap();
        let mut buf = vec![0; len];
        resp.complete = r.read_exact(&mut buf).await.is_ok();
        resp.chunks.push((Instant::now(), buf));
        return resp;
    }
    if resp.status == 204 || resp.status == 304 {
        resp.complete = true;
        return resp;
    }
    assert_eq!(resp.header("transfer-encoding"), Some("chunked"));
    loop {
        let mut size = String::new();
        match r.read_line(&mut size).await {
            Ok(0) | Err(_) => return resp,
            Ok(_) => {}
        }
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            return resp;
        };
        if n == 0 {
            let mut end = String::new();
            let _ = r.read_line(&mut end).await;
            resp.complete = end == "\r\n";
            return resp;
        }
        let mut buf = vec![0; n + 2];
        if r.read_exact(&mut buf).await.is_err() {
            return resp;
        }
        buf.truncate(n);
        resp.chunks.push((Instant::now(), buf));
    }
}

pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    let (r, sent) = send(addr, method, path, headers, body).await;
    tokio::time::timeout(Duration::from_secs(5), read_response(r, sent))
        .await
        .expect("no complete reply within 5 s")
}

pub async fn post(addr: SocketAddr, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
    let mut h = vec![("content-type", "application/json")];
    h.extend_from_slice(headers);
    request(addr, "POST", path, &h, body.as_bytes()).await
}

/// One decoded AWS event-stream frame.
#[derive(Debug)]
pub struct Frame {
    pub headers: Vec<(String, String)>,
    pub payload: Vec<u8>,
    pub prelude_crc_ok: bool,
    pub message_crc_ok: bool,
}

impl Frame {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.payload).unwrap()
    }
}

/// An independent event-stream decoder (checks both CRCs, panics on a malformed layout).
pub fn decode_frames(mut buf: &[u8]) -> Vec<Frame> {
    let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let mut frames = Vec::new();
    while !buf.is_empty() {
        let total = be32(&buf[0..4]) as usize;
        let hlen = be32(&buf[4..8]) as usize;
        let prelude_crc_ok = crc32fast::hash(&buf[0..8]) == be32(&buf[8..12]);
        let message_crc_ok = crc32fast::hash(&buf[..total - 4]) == be32(&buf[total - 4..total]);
        let mut h = &buf[12..12 + hlen];
        let mut headers = Vec::new();
        while !h.is_empty() {
            let nlen = h[0] as usize;
            let name = String::from_utf8(h[1..1 + nlen].to_vec()).unwrap();
            assert_eq!(h[1 + nlen], 7, "header value type must be string");
            let vlen = u16::from_be_bytes([h[2 + nlen], h[3 + nlen]]) as usize;
            let value = String::from_utf8(h[4 + nlen..4 + nlen + vlen].to_vec()).unwrap();
            headers.push((name, value));
            h = &h[4 + nlen + vlen..];
        }
        frames.push(Frame {
            headers,
            payload: buf[12 + hlen..total - 4].to_vec(),
            prelude_crc_ok,
            message_crc_ok,
        });
        buf = &buf[total..];
    }
    frames
}

pub const SIG: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// A SigV4-shaped authorization header for access key id `akid`.
pub fn sigv4(akid: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={akid}/20240101/us-east-1/bedrock/aws4_request, \
         SignedHeaders=content-type;host;x-amz-date, Signature={SIG}"
    )
}

/// The six providers, with a valid streaming request each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum P {
    OpenAi,
    Anthropic,
    Gemini,
    Bedrock,
    Ollama,
    Custom,
}

pub const ALL: [P; 6] = [
    P::OpenAi,
    P::Anthropic,
    P::Gemini,
    P::Bedrock,
    P::Ollama,
    P::Custom,
];

pub const BEDROCK_MODEL: &str = "anthropic.claude-3-haiku-20240307-v1%3A0";

impl P {
    pub fn path(self, profile: &str) -> String {
        let rest = match self {
            P::OpenAi => "v1/chat/completions".to_string(),
            P::Anthropic => "v1/messages".to_string(),
            P::Gemini => "v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse".to_string(),
            P::Bedrock => format!("model/{BEDROCK_MODEL}/converse-stream"),
            P::Ollama => "api/chat".to_string(),
            P::Custom => "generate".to_string(),
        };
        format!("/p/{profile}/{rest}")
    }

    /// The credential headers carrying `key` (plus the other headers the route requires).
    pub fn headers(self, key: &str) -> Vec<(String, String)> {
        let h = |n: &str, v: String| (n.to_string(), v);
        match self {
            P::OpenAi | P::Ollama | P::Custom => vec![h("authorization", format!("Bearer {key}"))],
            P::Anthropic => vec![
                h("x-api-key", key.to_string()),
                h("anthropic-version", "2023-06-01".to_string()),
            ],
            P::Gemini => vec![h("x-goog-api-key", key.to_string())],
            P::Bedrock => vec![
                h("authorization", sigv4(key)),
                h("x-amz-date", "20240101T000000Z".to_string()),
            ],
        }
    }

    pub fn body(self) -> &'static str {
        match self {
            P::OpenAi => {
                r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}"#
            }
            P::Anthropic => {
                r#"{"model":"claude-3-5-haiku-latest","max_tokens":64,"messages":[{"role":"user","content":"hi"}],"stream":true}"#
            }
            P::Gemini => r#"{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"#,
            P::Bedrock => r#"{"messages":[{"role":"user","content":[{"text":"hi"}]}]}"#,
            P::Ollama => r#"{"model":"llama3.2","messages":[{"role":"user","content":"hi"}]}"#,
            P::Custom => r#"{"prompt":"hi","stream":true}"#,
        }
    }

    pub async fn call(self, addr: SocketAddr, profile: &str, key: &str) -> Resp {
        let hs = self.headers(key);
        let hs: Vec<(&str, &str)> = hs.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        post(addr, &self.path(profile), &hs, self.body()).await
    }

    /// The generated text, from the frames that are valid.
    pub fn text(self, r: &Resp) -> String {
        let s = |v: &Value| v.as_str().unwrap_or("").to_string();
        match self {
            P::OpenAi => r
                .sse_json()
                .iter()
                .map(|v| s(&v["choices"][0]["delta"]["content"]))
                .collect(),
            P::Anthropic => r
                .sse_json()
                .iter()
                .filter(|v| v["type"] == "content_block_delta")
                .map(|v| s(&v["delta"]["text"]))
                .collect(),
            P::Gemini => r
                .sse_json()
                .iter()
                .map(|v| s(&v["candidates"][0]["content"]["parts"][0]["text"]))
                .collect(),
            P::Bedrock => decode_frames(&r.body())
                .iter()
                .filter(|f| {
                    f.message_crc_ok && f.header(":event-type") == Some("contentBlockDelta")
                })
                .map(|f| s(&f.json()["delta"]["text"]))
                .collect(),
            P::Ollama => ndjson(r)
                .iter()
                .map(|v| s(&v["message"]["content"]))
                .collect(),
            P::Custom => ndjson(r).iter().map(|v| s(&v["token"]["text"])).collect(),
        }
    }

    /// Whether the stream's terminal event (the one carrying the usage or the end) arrived.
    pub fn terminal(self, r: &Resp) -> bool {
        match self {
            P::OpenAi => r.text().contains("data: [DONE]"),
            P::Anthropic => r
                .sse()
                .iter()
                .any(|(e, _)| e.as_deref() == Some("message_stop")),
            P::Gemini => r
                .sse_json()
                .iter()
                .any(|v| v["candidates"][0]["finishReason"] == "STOP"),
            P::Bedrock => decode_frames(&r.body())
                .iter()
                .any(|f| f.header(":event-type") == Some("metadata")),
            P::Ollama | P::Custom => ndjson(r).iter().any(|v| v["done"] == true),
        }
    }
}

/// NDJSON lines that parse.
pub fn ndjson(r: &Resp) -> Vec<Value> {
    r.lines()
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}
