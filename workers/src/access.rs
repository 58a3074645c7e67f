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

/// A share id from random bytes: base64url without padding (16 bytes, 128 bits: 22 characters,
/// which nobody guesses).
pub fn share_id(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `id` has the shape of a share id this Worker makes.
pub fn is_share_id(id: &str) -> bool {
    id.len() == 22
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
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

    #[test]
    fn share_ids_are_base64url_of_128_bits() {
        // RFC 4648 §10's vectors, in the URL-safe alphabet without padding.
        assert_eq!(share_id(b"foob"), "Zm9vYg");
        assert_eq!(share_id(b"foobar"), "Zm9vYmFy");
        assert_eq!(share_id(&[0xfb, 0xff]), "-_8");
        let id = share_id(&[0xfb; 16]);
        assert_eq!(id.len(), 22);
        assert!(is_share_id(&id));
        assert!(!is_share_id("../../etc"));
    }
}
