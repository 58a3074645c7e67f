//! AWS Bedrock ConverseStream: `POST /model/{modelId}/converse-stream`, signed with SigV4, and
//! answered in AWS event-stream binary framing (`application/vnd.amazon.eventstream`). The
//! encoder is written here so the probe's decoder is tested against an independent one.
//!
//! The signature itself is not verified (the script knows only the access key id); its shape
//! is: `AWS4-HMAC-SHA256 Credential=AKID/..., SignedHeaders=..., Signature=<64 hex>`, an
//! `x-amz-date` header, and `x-amz-content-sha256` (when sent) equal to the body's hash.

use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::wire::{self, ApiError, Ctx, Timeline, Wire};

/// One header of an event-stream frame; values are always strings (type 7).
#[derive(Clone, Copy, Debug)]
pub struct EventHeader<'a> {
    /// The header's name, e.g. `:event-type`.
    pub name: &'a str,
    /// Its string value.
    pub value: &'a str,
}

/// Encodes one AWS event-stream frame, big-endian: total length (u32), headers length (u32),
/// prelude CRC32 (over the first 8 bytes), headers, payload, message CRC32 (over everything
/// before it). A header is name length (u8), name, type 7 (string), value length (u16), value.
/// Names longer than 255 bytes or values longer than 65535 bytes are truncated.
pub fn encode_frame(headers: &[EventHeader<'_>], payload: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    for hd in headers {
        let name = &hd.name.as_bytes()[..hd.name.len().min(255)];
        let value = &hd.value.as_bytes()[..hd.value.len().min(65_535)];
        h.push(name.len() as u8);
        h.extend_from_slice(name);
        h.push(7);
        h.extend_from_slice(&(value.len() as u16).to_be_bytes());
        h.extend_from_slice(value);
    }
    let total = 12 + h.len() + payload.len() + 4;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(total as u32).to_be_bytes());
    out.extend_from_slice(&(h.len() as u32).to_be_bytes());
    let prelude_crc = crc32fast::hash(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(payload);
    let message_crc = crc32fast::hash(&out);
    out.extend_from_slice(&message_crc.to_be_bytes());
    out
}

fn event(event_type: &str, payload: &Value) -> Bytes {
    let headers = [
        EventHeader {
            name: ":event-type",
            value: event_type,
        },
        EventHeader {
            name: ":content-type",
            value: "application/json",
        },
        EventHeader {
            name: ":message-type",
            value: "event",
        },
    ];
    Bytes::from(encode_frame(&headers, payload.to_string().as_bytes()))
}

fn exception(exception_type: &str, message: &str) -> Bytes {
    let headers = [
        EventHeader {
            name: ":exception-type",
            value: exception_type,
        },
        EventHeader {
            name: ":content-type",
            value: "application/json",
        },
        EventHeader {
            name: ":message-type",
            value: "exception",
        },
    ];
    let payload = json!({ "message": message }).to_string();
    Bytes::from(encode_frame(&headers, payload.as_bytes()))
}

pub(crate) async fn handle(ctx: Ctx, model_id: &str) -> Response {
    if let Err(e) = check_request(&ctx) {
        return error(&e, model_id);
    }
    if !ctx
        .json_object()
        .is_some_and(|b| b.get("messages").is_some_and(Value::is_array))
    {
        let msg = "The model returned the following errors: messages: field required";
        return error(&ApiError::BadRequest(msg.into()), model_id);
    }
    if let Some(e) = ctx.early_fault().await {
        return error(&e, model_id);
    }
    let s = &ctx.script;
    let tl = ctx.timeline();
    let w = Bedrock {
        tl,
        input: s.input_tokens,
        output: s.output_tokens,
    };
    let steps = ctx.plan(&w);
    wire::stream_response("application/vnd.amazon.eventstream", steps)
}

/// SigV4 shape and the access key id; a wrong shape is a 400 (the probe's bug), a wrong or
/// missing key id a 403.
fn check_request(ctx: &Ctx) -> Result<(), ApiError> {
    let auth = ctx.header("authorization").unwrap_or("");
    let Some(rest) = auth.strip_prefix("AWS4-HMAC-SHA256 Credential=") else {
        // No SigV4 at all: AWS says MissingAuthenticationToken; here it is an auth failure.
        let sent = (!auth.is_empty()).then_some(auth);
        ctx.auth(&[sent])?;
        return Err(ApiError::BadRequest(
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'.".into(),
        ));
    };
    let access_key_id = rest.split(['/', ',', ' ']).next().unwrap_or("");
    ctx.auth(&[Some(access_key_id)])?;
    let signature_ok = auth
        .split("Signature=")
        .nth(1)
        .map(|s| s.trim())
        .is_some_and(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()));
    if !auth.contains("SignedHeaders=") || !signature_ok {
        return Err(ApiError::BadRequest(
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' \
             (a 64-digit hex signature)."
                .into(),
        ));
    }
    if ctx.header("x-amz-date").is_none() {
        return Err(ApiError::BadRequest(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' \
             header."
                .into(),
        ));
    }
    if let Some(claimed) = ctx.header("x-amz-content-sha256") {
        if claimed != "UNSIGNED-PAYLOAD" {
            let actual: String = Sha256::digest(&ctx.body)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            if !claimed.eq_ignore_ascii_case(&actual) {
                return Err(ApiError::BadRequest(
                    "The provided 'x-amz-content-sha256' header does not match what was \
                     computed."
                        .into(),
                ));
            }
        }
    }
    Ok(())
}

struct Bedrock {
    tl: Timeline,
    input: u64,
    output: u64,
}

impl Wire for Bedrock {
    fn opening(&self) -> Vec<Bytes> {
        vec![event("messageStart", &json!({"role": "assistant"}))]
    }

    fn chunk(&self, _i: u32, text: &str, _last: bool) -> Bytes {
        event(
            "contentBlockDelta",
            &json!({"contentBlockIndex": 0, "delta": {"text": text}}),
        )
    }

    /// A well-formed delta whose message CRC is wrong.
    fn corrupt(&self) -> Bytes {
        let mut frame = event(
            "contentBlockDelta",
            &json!({"contentBlockIndex": 0, "delta": {"text": " corrupt"}}),
        )
        .to_vec();
        if let Some(last) = frame.last_mut() {
            *last ^= 0xff;
        }
        Bytes::from(frame)
    }

    fn stream_error(&self) -> Bytes {
        exception(
            "internalServerException",
            "The system encountered an unexpected error during processing. Try your request \
             again.",
        )
    }

    fn closing(&self) -> Vec<Bytes> {
        let latency_ms = u64::try_from(self.tl.end_offset().as_millis()).unwrap_or(u64::MAX);
        vec![
            event("contentBlockStop", &json!({"contentBlockIndex": 0})),
            event("messageStop", &json!({"stopReason": "end_turn"})),
            event(
                "metadata",
                &json!({
                    "usage": {
                        "inputTokens": self.input,
                        "outputTokens": self.output,
                        "totalTokens": self.input.saturating_add(self.output)
                    },
                    "metrics": {"latencyMs": latency_ms}
                }),
            ),
        ]
    }
}

/// Bedrock's error replies: JSON `{"message"}` plus the `x-amzn-errortype` header. The 403
/// appends the access key id as received (AWS does not; the tests use it to check that the
/// probe redacts what it stores).
/// Every Bedrock runtime answer's `x-amzn-requestid` (a UUID; AWS API conventions).
pub(crate) fn headers(ctx: &Ctx) -> Vec<(&'static str, String)> {
    let n = u128::from(ctx.serial).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834);
    let hex = format!("{n:032x}");
    let id = format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    );
    vec![("x-amzn-requestid", id)]
}

fn error(e: &ApiError, model_id: &str) -> Response {
    let (status, kind, message) = match e {
        ApiError::Unauthorized(sent) => (
            StatusCode::FORBIDDEN,
            "UnrecognizedClientException",
            format!(
                "The security token included in the request is invalid. (Credential: {})",
                sent.as_deref().unwrap_or("")
            ),
        ),
        ApiError::NotFound => (
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            format!("Could not resolve the foundation model from the provided model identifier: {model_id}."),
        ),
        ApiError::RateLimited(..) => (
            StatusCode::TOO_MANY_REQUESTS,
            "ThrottlingException",
            "Too many requests, please wait before trying again.".to_string(),
        ),
        ApiError::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerException",
            "The system encountered an unexpected error during processing. Try your request \
             again."
                .to_string(),
        ),
        ApiError::BadRequest(msg) => (StatusCode::BAD_REQUEST, "ValidationException", msg.clone()),
    };
    let body = json!({ "message": message });
    wire::json_error(status, &body, &[("x-amzn-errortype", kind)], e)
}
