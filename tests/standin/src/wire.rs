//! What the six providers share: the request context, the timeline of a reply, the plan of a
//! stream (which bytes go out when) and the task that writes it with exact delays.

use std::io;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tokio::time::sleep_until;

use crate::script::{Fault, Script};

/// A cut stream is dropped at least this long after its last bytes, so hyper has flushed them
/// (an error from the body aborts the connection without flushing what is buffered).
const CUT_AFTER: Duration = Duration::from_millis(20);

/// One request to a provider route, with the script it runs against.
pub(crate) struct Ctx {
    /// When the request was fully received: the origin of every delay.
    pub t0: Instant,
    pub script: Script,
    /// `ttft_ms` plus this request's jitter.
    pub ttft: Duration,
    /// The text of each chunk of this reply: the script's answer (right or wrong), or
    /// `" tok0"`, `" tok1"`, ...
    pub text: Vec<String>,
    pub headers: HeaderMap,
    pub query: Option<String>,
    pub body: Bytes,
    /// A per-server request number, for response ids.
    pub serial: u64,
}

/// The errors that replace a whole reply; each provider renders them in its own format.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// The credential as received (`None`: none was sent), to be echoed.
    Unauthorized(Option<String>),
    NotFound,
    /// Seconds to wait; `true`: `retry-after` says when, as an HTTP date.
    RateLimited(u64, bool),
    ServerError,
    BadRequest(String),
}

impl Ctx {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The token of `Authorization: Bearer TOKEN`, or the whole value if it is not Bearer.
    pub(crate) fn bearer(&self) -> Option<&str> {
        self.header("authorization").map(|v| {
            let t = v.trim();
            match t.get(..7) {
                Some(p) if p.eq_ignore_ascii_case("bearer ") => t[7..].trim(),
                _ => t,
            }
        })
    }

    /// A query parameter, percent-decoded.
    pub(crate) fn query_param(&self, name: &str) -> Option<String> {
        let q = self.query.as_deref()?;
        q.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let dec = |s: &str| percent_decode(&s.replace('+', " "));
            (dec(k) == name).then(|| dec(v))
        })
    }

    /// Checks the credentials sent (any one matching `Script.key` passes). An `Unauthorized`
    /// fault fails whatever was sent. The error carries the first credential sent, to be echoed.
    pub(crate) fn auth(&self, sent: &[Option<&str>]) -> Result<(), ApiError> {
        let first = sent.iter().flatten().next().map(|s| s.to_string());
        if self.script.fault == Some(Fault::Unauthorized) {
            return Err(ApiError::Unauthorized(first));
        }
        match &self.script.key {
            None => Ok(()),
            Some(k) if sent.iter().flatten().any(|s| s == k) => Ok(()),
            Some(_) => Err(ApiError::Unauthorized(first)),
        }
    }

    /// The faults that replace the whole reply. `Hang` sleeps an hour first (the client gives
    /// up long before; the future is dropped with the connection).
    pub(crate) async fn early_fault(&self) -> Option<ApiError> {
        match self.script.fault {
            Some(Fault::Hang) => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Some(ApiError::ServerError)
            }
            Some(Fault::NotFound) => Some(ApiError::NotFound),
            Some(Fault::RateLimited { retry_after_s }) => {
                Some(ApiError::RateLimited(retry_after_s, false))
            }
            Some(Fault::RateLimitedUntil { retry_after_s }) => {
                Some(ApiError::RateLimited(retry_after_s, true))
            }
            Some(Fault::ServerError) => Some(ApiError::ServerError),
            _ => None,
        }
    }

    /// The body as a JSON object, if it is one.
    pub(crate) fn json_object(&self) -> Option<Map<String, Value>> {
        match serde_json::from_slice(&self.body) {
            Ok(Value::Object(m)) => Some(m),
            _ => None,
        }
    }

    pub(crate) fn timeline(&self) -> Timeline {
        Timeline {
            t0: self.t0,
            ttft: self.ttft,
            gap: Duration::from_millis(self.script.gap_ms),
            chunks: self.script.chunks,
        }
    }

    pub(crate) fn fault(&self) -> Option<&Fault> {
        self.script.fault.as_ref()
    }

    /// The model the response names: the script's `response_model`, else the one asked for.
    pub(crate) fn reported_model(&self, asked: &str) -> String {
        self.script
            .response_model
            .clone()
            .unwrap_or_else(|| asked.to_string())
    }

    /// The reply's whole text, for a reply that is not streamed.
    pub(crate) fn full_text(&self) -> String {
        self.text.concat()
    }

    /// Lays out this reply's stream ([`plan`]) in `w`'s wire format.
    pub(crate) fn plan(&self, w: &dyn Wire) -> Vec<Step> {
        plan(&self.timeline(), self.fault(), w, &self.text)
    }
}

/// When each text chunk of a reply is due.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timeline {
    pub t0: Instant,
    pub ttft: Duration,
    pub gap: Duration,
    pub chunks: u32,
}

impl Timeline {
    /// Offset of text chunk `i` from `t0`: ttft + i·gap.
    pub(crate) fn chunk_offset(&self, i: u32) -> Duration {
        let gaps = self
            .gap
            .checked_mul(i)
            .unwrap_or(Duration::from_secs(u64::from(u32::MAX)));
        self.ttft.saturating_add(gaps)
    }

    pub(crate) fn chunk_at(&self, i: u32) -> Instant {
        later(self.t0, self.chunk_offset(i))
    }

    /// Offset of the end of the reply (the last chunk; the terminal events follow at once).
    pub(crate) fn end_offset(&self) -> Duration {
        self.chunk_offset(self.chunks.saturating_sub(1))
    }

    pub(crate) fn end_at(&self) -> Instant {
        later(self.t0, self.end_offset())
    }
}

fn later(t: Instant, d: Duration) -> Instant {
    t.checked_add(d)
        .unwrap_or_else(|| t + Duration::from_secs(365 * 24 * 3600))
}

/// One step of a streamed reply.
#[derive(Debug)]
pub(crate) enum Step {
    /// Send these bytes at this instant.
    Data(Instant, Bytes),
    /// Drop the connection at this instant, without the final chunk.
    Abort(Instant),
}

/// How one provider renders the parts of a stream.
pub(crate) trait Wire {
    /// Sent at once, before any text (role-only delta, message_start, ...).
    fn opening(&self) -> Vec<Bytes>;
    /// The reasoning shown before the text (thinking blocks, thought parts), sent at half the
    /// ttft; none by default.
    fn thinking(&self) -> Vec<Bytes> {
        Vec::new()
    }
    /// Text chunk `i`, carrying `text` (`last`: the final one, which Gemini marks with
    /// finishReason).
    fn chunk(&self, i: u32, text: &str, last: bool) -> Bytes;
    /// An invalid frame (CorruptFrame).
    fn corrupt(&self) -> Bytes;
    /// The provider's in-stream error (StreamError).
    fn stream_error(&self) -> Bytes;
    /// Sent right after the last chunk (stop events, usage, `[DONE]`).
    fn closing(&self) -> Vec<Bytes>;
}

/// Lays out a stream: opening at `t0`, thinking at half the ttft, chunk `i` (carrying
/// `text[i]`) at ttft + i·gap, closing right after the last chunk, with the script's in-stream
/// fault applied.
pub(crate) fn plan(
    tl: &Timeline,
    fault: Option<&Fault>,
    w: &dyn Wire,
    text: &[String],
) -> Vec<Step> {
    let mut steps: Vec<Step> = w
        .opening()
        .into_iter()
        .map(|b| Step::Data(tl.t0, b))
        .collect();
    let thinking_at = later(tl.t0, tl.ttft / 2);
    steps.extend(w.thinking().into_iter().map(|b| Step::Data(thinking_at, b)));
    let after_first = |steps: &mut Vec<Step>, at: Instant| -> bool {
        match fault {
            Some(Fault::CorruptFrame) => {
                steps.push(Step::Data(at, w.corrupt()));
                false
            }
            Some(Fault::StreamError) => {
                steps.push(Step::Data(at, w.stream_error()));
                true
            }
            _ => false,
        }
    };
    let sent = match fault {
        Some(Fault::CutMidway) => tl.chunks / 2,
        _ => tl.chunks,
    };
    let mut last_at = tl.t0;
    for i in 0..sent {
        let at = tl.chunk_at(i);
        let piece = text.get(i as usize).map_or("", String::as_str);
        steps.push(Step::Data(at, w.chunk(i, piece, i + 1 == tl.chunks)));
        last_at = at;
        if i == 0 && after_first(&mut steps, at) {
            return steps;
        }
    }
    if tl.chunks == 0 && after_first(&mut steps, tl.chunk_at(0)) {
        return steps;
    }
    if fault == Some(&Fault::CutMidway) {
        steps.push(Step::Abort(
            tl.chunk_at(sent).max(later(last_at, CUT_AFTER)),
        ));
        return steps;
    }
    let end = tl.end_at();
    steps.extend(w.closing().into_iter().map(|b| Step::Data(end, b)));
    steps
}

/// A body that writes each step at its instant. Each step is its own HTTP chunk, and the
/// producer sleeps between steps, so hyper flushes every one as soon as it is due.
pub(crate) fn stream_body(steps: Vec<Step>) -> Body {
    let (tx, rx) = mpsc::channel::<Result<Bytes, io::Error>>(8);
    tokio::spawn(async move {
        for step in steps {
            match step {
                Step::Data(at, bytes) => {
                    sleep_until(at.into()).await;
                    if tx.send(Ok(bytes)).await.is_err() {
                        return; // the client went away
                    }
                }
                Step::Abort(at) => {
                    sleep_until(at.into()).await;
                    let cut = io::Error::new(io::ErrorKind::ConnectionAborted, "cut midway");
                    let _ = tx.send(Err(cut)).await;
                    return;
                }
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Body::from_stream(stream)
}

/// A 200 streamed reply.
pub(crate) fn stream_response(content_type: &'static str, steps: Vec<Step>) -> Response {
    let mut resp = Response::new(stream_body(steps));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// A non-streamed reply, sent once the whole generation is done (ttft + (chunks-1)·gap).
/// CutMidway sends half the body and drops the connection; CorruptFrame truncates the body;
/// StreamError becomes the provider's server error.
pub(crate) async fn whole(
    ctx: &Ctx,
    body: Value,
    server_error: impl FnOnce(&ApiError) -> Response,
) -> Response {
    let tl = ctx.timeline();
    sleep_until(tl.end_at().into()).await;
    let bytes = body.to_string().into_bytes();
    let half = bytes.len() / 2;
    match ctx.fault() {
        Some(Fault::CutMidway) => {
            let now = Instant::now();
            let steps = vec![
                Step::Data(now, Bytes::copy_from_slice(&bytes[..half])),
                Step::Abort(later(now, CUT_AFTER)),
            ];
            let mut resp = Response::new(stream_body(steps));
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            resp
        }
        Some(Fault::CorruptFrame) => raw_json(StatusCode::OK, bytes[..half].to_vec()),
        Some(Fault::StreamError) => server_error(&ApiError::ServerError),
        _ => raw_json(StatusCode::OK, bytes),
    }
}

fn raw_json(status: StatusCode, bytes: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

/// A JSON reply with extra headers; for a rate-limit error, adds `retry-after`.
pub(crate) fn json_error(
    status: StatusCode,
    body: &Value,
    extra: &[(&'static str, &'static str)],
    e: &ApiError,
) -> Response {
    let mut resp = raw_json(status, body.to_string().into_bytes());
    let h = resp.headers_mut();
    for (name, value) in extra {
        h.insert(*name, HeaderValue::from_static(value));
    }
    match e {
        ApiError::RateLimited(s, false) => {
            h.insert(header::RETRY_AFTER, HeaderValue::from(*s));
        }
        ApiError::RateLimited(s, true) => {
            if let Ok(v) = HeaderValue::from_str(&http_date_in(*s)) {
                h.insert(header::RETRY_AFTER, v);
            }
        }
        _ => {}
    }
    resp
}

/// Now plus `seconds` as an IMF-fixdate (RFC 9110 §5.6.7), e.g. `Wed, 21 Oct 2015 07:28:00 GMT`:
/// the form of `retry-after` a server may send instead of seconds.
pub(crate) fn http_date_in(seconds: u64) -> String {
    let wait = chrono::TimeDelta::try_seconds(i64::try_from(seconds).unwrap_or(i64::MAX))
        .unwrap_or(chrono::TimeDelta::MAX);
    let at = chrono::Utc::now()
        .checked_add_signed(wait)
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC);
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Adds `headers` to a response (a value that is not a valid header value is left out).
pub(crate) fn add_headers(resp: &mut Response, headers: Vec<(&'static str, String)>) {
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            resp.headers_mut().insert(name, v);
        }
    }
}

/// Cloudflare's `cf-ray` for request `serial` through `colo`: 16 hex digits, `-`, the colo.
pub(crate) fn cf_ray(serial: u64, colo: &str) -> String {
    format!("{:016x}-{colo}", serial.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// `data: JSON\n\n`.
pub(crate) fn sse_data(v: &Value) -> Bytes {
    Bytes::from(format!("data: {v}\n\n"))
}

/// `event: NAME\ndata: JSON\n\n`.
pub(crate) fn sse_event(name: &str, v: &Value) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {v}\n\n"))
}

/// One NDJSON line.
pub(crate) fn ndjson(v: &Value) -> Bytes {
    Bytes::from(format!("{v}\n"))
}

pub(crate) fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Now as RFC 3339 with nanoseconds, like Ollama's `created_at`.
pub(crate) fn rfc3339_now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// Percent-decodes a path segment or query component (`+` stays `+` in paths; in queries
/// it is a space); a '%' not followed by two hex digits stays as it is.
pub(crate) fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_percent() {
        assert_eq!(percent_decode("a%3A0"), "a:0");
        assert_eq!(percent_decode("a%3"), "a%3");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%41"), "A");
        assert_eq!(percent_decode("%+1"), "%+1");
        assert_eq!(percent_decode("caf%C3%A9"), "café");
    }

    #[test]
    fn a_retry_date_is_an_imf_fixdate_seconds_ahead() {
        let said = http_date_in(120);
        let at = chrono::DateTime::parse_from_rfc2822(&said).unwrap();
        let ahead = at.timestamp() - chrono::Utc::now().timestamp();
        assert!((119..=120).contains(&ahead), "{said}: {ahead} s");
        assert_eq!(said.len(), "Wed, 21 Oct 2015 07:28:00 GMT".len(), "{said}");
        assert!(said.ends_with(" GMT"), "{said}");
    }

    #[test]
    fn now_is_rfc3339_with_nanoseconds() {
        let now = rfc3339_now();
        let parsed = chrono::DateTime::parse_from_rfc3339(&now).unwrap();
        assert_eq!(now.len(), "2024-02-29T12:34:56.123456789Z".len(), "{now}");
        assert!(now.ends_with('Z'), "{now}");
        assert!(parsed.timestamp() > 1_700_000_000, "{now}");
    }
}
