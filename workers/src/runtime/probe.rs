//! Running one probe: build the request, send it, time the stream chunk by chunk, and turn
//! what was seen into a result. The whole probe has one deadline (`timeout_ms`), covering a
//! server that never answers as well as one that stops mid-stream.

use super::config::{secret_values, EnvSecrets};
use super::http::{self, now_ms};
use crate::measure::{self, Observed};
use crate::provider::{self, Failure, HttpRequest, Outcome, StreamParser};
use crate::target::Target;
use futures_util::future::{select, Either};
use futures_util::StreamExt;
use llmscope_protocol::prices::PriceTable;
use llmscope_protocol::probe::{ErrorKind, ProbeError, ProbeResult};
use std::pin::pin;
use std::time::Duration;
use worker::{AbortController, Delay, Env};

/// Probes `target` once, pricing the result with `prices`; `colo` is where the Worker runs,
/// when known (`request.cf.colo` of `POST /probe`; a cron run has no request).
pub async fn run(
    env: &Env,
    target: &Target,
    prices: &PriceTable,
    colo: Option<String>,
) -> ProbeResult {
    let secrets = EnvSecrets(env);
    let prompt = target.prompt_to_send();
    let started = now_ms();
    let ctx = provider::Context {
        target,
        prompt: &prompt,
        now_ms: started as i64,
        secrets: &secrets,
    };
    let adapter = provider::adapter(target.provider);
    let request = match adapter.request(&ctx) {
        Ok(r) => r,
        Err(e) => return not_sent(target, started as i64, e.to_string()),
    };
    let mut parser = adapter.parser(target);
    let mut seen = Observed {
        t: started as i64,
        colo,
        ..Observed::default()
    };
    let mut outcome = Outcome::for_target(target);
    let controller = AbortController::default();
    let timed_out = {
        let exchange = pin!(exchange(
            &request,
            parser.as_mut(),
            &mut seen,
            &mut outcome,
            &controller
        ));
        let deadline = pin!(Delay::from(Duration::from_millis(target.timeout_ms)));
        matches!(select(exchange, deadline).await, Either::Right(_))
    };
    if timed_out {
        controller.abort();
        seen.transport = Some(Failure {
            kind: ErrorKind::Timeout,
            message: format!(
                "no complete answer within {} ms (timeout_ms)",
                target.timeout_ms
            ),
        });
    }
    measure::result(target, prices, seen, outcome, &secret_values(env, target))
}

/// Sends the request and reads the body, noting when its first byte, its first reasoning and
/// its first text arrived.
async fn exchange(
    request: &HttpRequest,
    parser: &mut dyn StreamParser,
    seen: &mut Observed,
    outcome: &mut Outcome,
    controller: &AbortController,
) {
    let t0 = now_ms();
    let fail = |seen: &mut Observed, kind, message: String| {
        seen.transport = Some(Failure { kind, message });
    };
    let signal = controller.signal();
    let mut response = match http::send(request, Some(&signal)).await {
        Ok(r) => r,
        Err(e) => {
            return fail(
                seen,
                ErrorKind::Server,
                format!("cannot reach the provider: {e}"),
            )
        }
    };
    let status = response.status_code();
    seen.status = Some(status);
    seen.headers = crate::context::HEADERS
        .iter()
        .filter_map(|&name| {
            let value = response.headers().get(name).ok().flatten()?;
            Some((name.to_string(), value))
        })
        .collect();
    if !(200..300).contains(&status) {
        let header = response.headers().get("retry-after").ok().flatten();
        seen.retry_after_s = measure::retry_after(header.as_deref(), now_ms() as i64);
        let body = error_body(&mut response).await;
        let message = format!("HTTP {status}: {}", provider::error_message(&body));
        return fail(seen, ErrorKind::of_status(status), message);
    }
    let mut body = match response.stream() {
        Ok(b) => b,
        Err(e) => return fail(seen, ErrorKind::StreamCut, format!("no response body: {e}")),
    };
    let mark_first_text = |outcome: &Outcome, seen: &mut Observed| {
        if seen.ttft_ms.is_none() && outcome.text_chunks > 0 {
            seen.ttft_ms = Some(now_ms() - t0);
        }
        if seen.first_reasoning_ms.is_none() && outcome.reasoning_chunks > 0 {
            seen.first_reasoning_ms = Some(now_ms() - t0);
        }
    };
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(bytes) => {
                if seen.ttfb_ms.is_none() && !bytes.is_empty() {
                    seen.ttfb_ms = Some(now_ms() - t0);
                }
                parser.feed(&bytes, outcome);
                mark_first_text(outcome, seen);
                if outcome.failure.is_some() {
                    seen.total_ms = Some(now_ms() - t0);
                    return;
                }
            }
            Err(e) => {
                return fail(
                    seen,
                    ErrorKind::StreamCut,
                    format!("the stream broke off: {e}"),
                );
            }
        }
    }
    parser.finish(outcome);
    mark_first_text(outcome, seen);
    seen.total_ms = Some(now_ms() - t0);
}

/// The most of an error response's body read: enough for any provider's error JSON.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// An error response's body, read up to [`MAX_ERROR_BODY`] (the rest is not read).
async fn error_body(response: &mut worker::Response) -> String {
    let mut body = Vec::new();
    if let Ok(mut stream) = response.stream() {
        while let Some(Ok(chunk)) = stream.next().await {
            let room = MAX_ERROR_BODY - body.len();
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if body.len() == MAX_ERROR_BODY {
                break;
            }
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

/// A probe that could not be sent: its configuration is incomplete (a missing secret).
fn not_sent(target: &Target, t: i64, message: String) -> ProbeResult {
    let kind = if message.contains("secret") {
        ErrorKind::Auth
    } else {
        ErrorKind::Malformed
    };
    ProbeResult {
        target: target.name.clone(),
        provider: target.provider.as_str().into(),
        model: target.model.clone(),
        t,
        ok: false,
        status: None,
        ttft_ms: None,
        total_ms: None,
        input_tokens: None,
        output_tokens: None,
        cached_input_tokens: None,
        tokens_per_s: None,
        cost_usd: None,
        error: Some(ProbeError {
            kind,
            message,
            retry_after_s: None,
        }),
        quality_pass: None,
        extra: Default::default(),
    }
}
