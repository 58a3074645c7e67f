//! The one error type of the Worker's HTTP answers (workers-rs `examples/axum`'s shape): each
//! kind maps to a status and plain words. An internal error's details (a D1 or KV failure, a
//! runtime error) go to the log only; the client reads that something failed on the Worker's
//! side and where to look, never the details.

use std::fmt;

/// Why a request was not answered normally.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The request is wrong; the text says how to fix it.
    BadRequest(String),
    /// No such endpoint, target or share.
    NotFound(String),
    /// Missing or wrong token.
    Unauthorized,
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
            ApiError::Unauthorized => 401,
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
            | ApiError::QuotaExceeded(m) => m.clone(),
            ApiError::Unauthorized => {
                "missing or wrong token: send Authorization: Bearer <LLMSCOPE_TOKEN>".into()
            }
            ApiError::TooManyAttempts { retry_after_s } => format!(
                "too many wrong tokens from this address: try again in {retry_after_s} s"
            ),
            ApiError::Internal(_) => {
                "internal error: the Worker could not complete this request; its log (wrangler tail) has the details".into()
            }
        }
    }

    /// What the log gets: the details, for internal errors only.
    pub fn log_detail(&self) -> Option<&str> {
        match self {
            ApiError::Internal(d) => Some(d),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_details_stay_in_the_log() {
        let e = ApiError::from("D1: no such table: results (at /var/db/x.sqlite)".to_string());
        assert_eq!(e.status(), 500);
        assert!(!e.public_message().contains("D1"), "{e}");
        assert!(e.log_detail().unwrap().contains("no such table"));
        let bad = ApiError::BadRequest("limit=lots: must be 1 to 10000".into());
        assert_eq!((bad.status(), bad.log_detail()), (400, None));
        assert_eq!(bad.public_message(), "limit=lots: must be 1 to 10000");
    }
}
