//! Who may call the Worker: a bearer token compared in constant time, and CORS for the origins
//! listed in `LLMSCOPE_ORIGINS`.

/// Compares in time that depends only on the lengths, so the token cannot be guessed byte by
/// byte from response times.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether an `Authorization` header carries the token. An empty configured token admits
/// nobody: a Worker without `LLMSCOPE_TOKEN` is closed, not open.
pub fn authorized(header: Option<&str>, token: &str) -> bool {
    let Some(given) = header.and_then(|h| h.strip_prefix("Bearer ")) else {
        return false;
    };
    !token.is_empty() && constant_time_eq(given.trim().as_bytes(), token.as_bytes())
}

/// The origin to echo in `Access-Control-Allow-Origin`, if `origin` is allowed. The list is
/// comma-separated; `*` allows any origin.
pub fn allowed_origin<'a>(origin: Option<&'a str>, allowed: &str) -> Option<&'a str> {
    let origin = origin?;
    allowed
        .split(',')
        .map(str::trim)
        .any(|a| a == "*" || a.trim_end_matches('/') == origin)
        .then_some(origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_token_passes() {
        assert!(authorized(Some("Bearer s3cret"), "s3cret"));
        assert!(!authorized(Some("Bearer s3cre"), "s3cret"));
        assert!(!authorized(Some("Bearer s3cretX"), "s3cret"));
        assert!(!authorized(Some("s3cret"), "s3cret"));
        assert!(!authorized(None, "s3cret"));
        assert!(!authorized(Some("Bearer "), ""));
    }

    #[test]
    fn origins_come_from_the_list() {
        let list = "http://127.0.0.1:8080, https://llmscope.example/";
        assert_eq!(
            allowed_origin(Some("https://llmscope.example"), list),
            Some("https://llmscope.example")
        );
        assert_eq!(allowed_origin(Some("https://evil.example"), list), None);
        assert_eq!(
            allowed_origin(Some("https://a.b"), "*"),
            Some("https://a.b")
        );
        assert_eq!(allowed_origin(None, "*"), None);
    }
}
