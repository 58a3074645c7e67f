//! Small helpers over the Workers runtime: the clock, outgoing requests, JSON
//! responses, and the one way an [`ApiError`] becomes an answer and a log line.

use crate::error::ApiError;
use crate::provider::HttpRequest;
use worker::{
    AbortController, AbortSignal, Fetch, Headers, Method, Request, RequestInit, Response,
};

/// Milliseconds since the epoch. In Workers the clock advances with I/O (it is frozen during
/// computation), which is what a probe wants: the time a chunk arrived.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Sends a request; the signal aborts it (the probe's deadline).
pub async fn send(req: &HttpRequest, signal: Option<&AbortSignal>) -> worker::Result<Response> {
    let headers = Headers::new();
    for (k, v) in &req.headers {
        headers.set(k, v)?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::from(req.method.clone()))
        .with_headers(headers);
    if !req.body.is_empty() {
        init.with_body(Some(js_sys::Uint8Array::from(req.body.as_slice()).into()));
    }
    let request = Request::new_with_init(&req.url, &init)?;
    match signal {
        Some(s) => Fetch::Request(request).send_with_signal(s).await,
        None => Fetch::Request(request).send().await,
    }
}

/// Sends a request and waits at most `timeout_ms` for its status and, when `read_body`, its
/// body (else empty): the answer, or why there is none. The URL is left out of errors (a
/// webhook URL is a secret).
pub async fn send_within(
    req: &HttpRequest,
    timeout_ms: u64,
    read_body: bool,
) -> Result<(u16, String), String> {
    use futures_util::future::{select, Either};
    let controller = AbortController::default();
    let signal = controller.signal();
    let answered = std::pin::pin!(async {
        let mut r = send(req, Some(&signal)).await?;
        let body = if read_body {
            r.text().await?
        } else {
            String::new()
        };
        Ok::<_, worker::Error>((r.status_code(), body))
    });
    let deadline = std::pin::pin!(worker::Delay::from(std::time::Duration::from_millis(
        timeout_ms
    )));
    match select(answered, deadline).await {
        Either::Left((Ok(answer), _)) => Ok(answer),
        Either::Left((Err(_), _)) => Err("cannot reach it".into()),
        Either::Right(_) => {
            controller.abort();
            Err(format!("no answer within {timeout_ms} ms"))
        }
    }
}

/// A JSON response with `status`.
pub fn json(status: u16, value: &serde_json::Value) -> Result<Response, ApiError> {
    Ok(Response::from_json(value)?.with_status(status))
}

/// The answer to an error: its status, plain words and headers. An internal error's details
/// are logged (secrets redacted), never sent.
pub fn refusal(e: &ApiError, secrets: &[String]) -> worker::Result<Response> {
    log(e, secrets);
    let mut r = Response::from_json(&e.body())?.with_status(e.status());
    for (name, value) in e.headers() {
        r.headers_mut().set(name, &value)?;
    }
    Ok(r)
}

/// Writes an internal error's details to the Worker's log (`wrangler tail`), secrets redacted.
pub fn log(e: &ApiError, secrets: &[String]) {
    if let Some(line) = e.log_line(secrets) {
        worker::console_error!("{line}");
    }
}

impl From<worker::Error> for ApiError {
    /// A failure of the runtime (D1, KV, a header, a body): internal.
    fn from(e: worker::Error) -> ApiError {
        ApiError::Internal(e.to_string())
    }
}
