//! The one error type of the Worker's HTTP answers and its cron run (workers-rs
//! `examples/axum`'s shape): each kind maps to a status, plain words and the headers that go
//! with it. An internal error's details (a D1 or KV failure, a runtime error) go to the log only,
//! with every secret redacted; the client reads that something failed on the Worker's side and
//! where to look, never the details.
//!
//! Everything here is pure, so what a client and the log see is tested natively; the runtime
//! only turns [`ApiError::body`] and [`ApiError::headers`] into a response and writes
//! [`ApiError::log_line`] with `console_error!`.

use crate::measure::redact;
use std::fmt;

/// Why a request (or the cron run) was not answered normally.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The request is wrong; the text says how to fix it.
    BadRequest(String),
    /// No such endpoint, target or share.
    NotFound(String),
    /// Missing, wrong, revoked or expired token.
    Unauthorized,
    /// A request signed by someone else (Slack's signature): the text says what is wrong.
    BadSignature(String),
    /// A valid token whose role may not do this; the text says which role may.
    Forbidden(String),
    /// The thing changed since the client read it; the text says how to catch up.
    Conflict(String),
    /// Too many wrong tokens: wait this many seconds.
    TooManyAttempts {
        /// Seconds to wait before the next attempt.
        retry_after_s: f64,
    },
    /// The body is over a limit; the text names the limit and its variable.
    TooLarge(String),
    /// A quota is used up; the text names it.
    QuotaExceeded(String),
    /// A failure on the Worker's side, with details for the log only.
    Internal(String),
}

impl ApiError {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::BadRequest(_) => 400,
            ApiError::Unauthorized | ApiError::BadSignature(_) => 401,
            ApiError::Forbidden(_) => 403,
            ApiError::Conflict(_) => 409,
            ApiError::NotFound(_) => 404,
            ApiError::TooLarge(_) => 413,
            ApiError::TooManyAttempts { .. } | ApiError::QuotaExceeded(_) => 429,
            ApiError::Internal(_) => 500,
        }
    }

    /// What the client reads: never an internal error's details.
    pub fn public_message(&self) -> String {
        match self {
            ApiError::BadRequest(m)
            | ApiError::NotFound(m)
            | ApiError::TooLarge(m)
            | ApiError::QuotaExceeded(m)
            | ApiError::Forbidden(m)
            | ApiError::BadSignature(m)
            | ApiError::Conflict(m) => m.clone(),
            ApiError::Unauthorized => {
                "missing, wrong, revoked or expired token: send Authorization: Bearer <a member's token or LLMSCOPE_TOKEN>".into()
            }
            ApiError::TooManyAttempts { retry_after_s } => format!(
                "too many wrong tokens from this address: try again in {retry_after_s} s"
            ),
            ApiError::Internal(_) => {
                "internal error: the Worker could not complete this request; its log (wrangler tail) has the details".into()
            }
        }
    }

    /// The JSON body of the answer: `{"error": <plain words>}`.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({ "error": self.public_message() })
    }

    /// The headers the status calls for: `www-authenticate` with a 401 (RFC 9110 §11.6.1),
    /// `retry-after` with the throttle's 429.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        match self {
            ApiError::Unauthorized => vec![("www-authenticate", "Bearer".into())],
            ApiError::TooManyAttempts { retry_after_s } => {
                vec![("retry-after", retry_after_s.to_string())]
            }
            _ => Vec::new(),
        }
    }

    /// What the log gets: an internal error's details with every secret in `secrets` redacted;
    /// `None` for the others (the client already read all there is to say).
    pub fn log_line(&self, secrets: &[String]) -> Option<String> {
        match self {
            ApiError::Internal(detail) => Some(format!("llmscope: {}", redact(detail, secrets))),
            _ => None,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.public_message())
    }
}

impl From<String> for ApiError {
    /// Errors of the store and the runtime arrive as text: internal.
    fn from(detail: String) -> ApiError {
        ApiError::Internal(detail)
    }
}

impl From<serde_json::Error> for ApiError {
    /// Writing our own types as JSON does not fail; if it ever did, it is the Worker's fault.
    fn from(e: serde_json::Error) -> ApiError {
        ApiError::Internal(format!("JSON: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_details_stay_in_the_log_without_secrets() {
        let e = ApiError::from(
            "D1: no such table: results (at /var/db/x.sqlite, token tok-123)".to_string(),
        );
        assert_eq!(e.status(), 500);
        assert_eq!(
            e.body(),
            serde_json::json!({"error": "internal error: the Worker could not complete this request; its log (wrangler tail) has the details"})
        );
        assert!(e.headers().is_empty());
        assert_eq!(
            e.log_line(&["tok-123".into()]).as_deref(),
            Some("llmscope: D1: no such table: results (at /var/db/x.sqlite, token [redacted])")
        );
        let json = ApiError::from(serde_json::from_str::<u8>("x").unwrap_err());
        assert_eq!(json.status(), 500);
        assert!(json.log_line(&[]).unwrap().starts_with("llmscope: JSON: "));
    }

    #[test]
    fn client_errors_say_what_to_do_and_log_nothing() {
        let bad = ApiError::BadRequest("limit=lots: must be 1 to 10000".into());
        assert_eq!((bad.status(), bad.log_line(&[])), (400, None));
        assert_eq!(
            bad.body(),
            serde_json::json!({"error": "limit=lots: must be 1 to 10000"})
        );
        assert_eq!(bad.to_string(), "limit=lots: must be 1 to 10000");
        let cases = [
            (ApiError::NotFound("no such share".into()), 404),
            (ApiError::TooLarge("at most 4096".into()), 413),
            (ApiError::QuotaExceeded("quota".into()), 429),
            (ApiError::Forbidden("admins only".into()), 403),
            (ApiError::Conflict("stale".into()), 409),
            (ApiError::BadSignature("stale timestamp".into()), 401),
        ];
        for (e, status) in cases {
            assert_eq!(
                (e.status(), e.headers(), e.log_line(&[])),
                (status, vec![], None)
            );
        }
    }

    #[test]
    fn refusals_carry_their_headers() {
        let who = ApiError::Unauthorized;
        assert_eq!(who.status(), 401);
        assert_eq!(
            who.headers(),
            vec![("www-authenticate", "Bearer".to_string())]
        );
        assert!(who
            .public_message()
            .contains("Authorization: Bearer <a member's token or LLMSCOPE_TOKEN>"));
        let wait = ApiError::TooManyAttempts { retry_after_s: 4.0 };
        assert_eq!(wait.status(), 429);
        assert_eq!(wait.headers(), vec![("retry-after", "4".to_string())]);
        assert_eq!(
            wait.public_message(),
            "too many wrong tokens from this address: try again in 4 s"
        );
    }
}
