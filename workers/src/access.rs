//! Who may call the Worker: a bearer token compared in constant time (the helper shared with
//! the shim, [`same_token`]), a slowdown for clients that keep sending wrong tokens, CORS for
//! the origins listed in `LLMSCOPE_ORIGINS`, and the unguessable ids of shares.

pub use llmscope_protocol::token::same_token;
use std::collections::HashMap;

/// The credentials of an `Authorization` header: `Bearer <token>`, the scheme matched
/// case-insensitively (RFC 9110 §11.1).
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Whether an `Authorization` header carries the token. An empty configured token admits
/// nobody: a Worker without `LLMSCOPE_TOKEN` is closed, not open.
pub fn authorized(header: Option<&str>, token: &str) -> bool {
    let Some(given) = header.and_then(bearer) else {
        return false;
    };
    !token.is_empty() && same_token(given, token)
}

/// Wrong tokens a client may send before it is slowed down.
pub const FREE_FAILURES: u32 = 10;
/// The longest a client is made to wait, seconds.
pub const MAX_WAIT_S: f64 = 300.0;
/// Clients remembered at most; past this the oldest entries are forgotten.
const MAX_CLIENTS: usize = 10_000;

/// Slows down repeated wrong tokens. After [`FREE_FAILURES`] wrong tokens from one client (by
/// address), each further one makes it wait twice as long before its next attempt is even
/// checked (1 s, 2 s, 4 s, ... up to [`MAX_WAIT_S`]); a right token clears its count. Memory
/// is per isolate (a Worker runs in several, and an isolate can be recycled), so this slows a
/// guesser down by orders of magnitude rather than stopping one outright.
#[derive(Default)]
pub struct Throttle {
    clients: HashMap<String, Failures>,
}

#[derive(Clone, Copy)]
struct Failures {
    count: u32,
    until_ms: f64,
}

impl Throttle {
    /// Seconds `client` must still wait at `now_ms`, if it must.
    pub fn wait_s(&self, client: &str, now_ms: f64) -> Option<f64> {
        let f = self.clients.get(client)?;
        (f.until_ms > now_ms).then(|| ((f.until_ms - now_ms) / 1000.0).ceil())
    }

    /// Records a wrong token from `client` at `now_ms`.
    pub fn failed(&mut self, client: &str, now_ms: f64) {
        if self.clients.len() >= MAX_CLIENTS && !self.clients.contains_key(client) {
            self.clients.retain(|_, f| f.until_ms > now_ms);
            if self.clients.len() >= MAX_CLIENTS {
                self.clients.clear();
            }
        }
        let f = self.clients.entry(client.to_string()).or_insert(Failures {
            count: 0,
            until_ms: 0.0,
        });
        f.count = f.count.saturating_add(1);
        if let Some(over) = f.count.checked_sub(FREE_FAILURES).filter(|n| *n > 0) {
            let wait_s = 2f64.powi(over.min(30) as i32 - 1).min(MAX_WAIT_S);
            f.until_ms = now_ms + wait_s * 1000.0;
        }
    }

    /// A right token from `client`: its count starts again.
    pub fn succeeded(&mut self, client: &str) {
        self.clients.remove(client);
    }
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

/// Random bytes in a share id: 128 bits, so ids cannot be guessed.
const ID_BYTES: usize = 16;

/// A new share id: [`share_id`] of 128 bits from the platform's random source (`getrandom`:
/// Web Crypto's `getRandomValues` in Workers, the OS elsewhere).
pub fn new_share_id() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; ID_BYTES];
    getrandom::getrandom(&mut bytes)?;
    Ok(share_id(&bytes))
}

/// Smallest stored size of a share.
const MIN_BUCKET: usize = 4096;

/// The size a share of `len` bytes is stored at: the next power of two (at least 4 KiB), so
/// what KV holds tells only the bucket, not the session's size; never above `max` (the
/// largest share accepted) unless `len` itself is.
pub fn padded_len(len: usize, max: usize) -> usize {
    len.max(MIN_BUCKET)
        .checked_next_power_of_two()
        .unwrap_or(len)
        .min(max.max(len))
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
        assert!(authorized(Some("bearer s3cret"), "s3cret"));
        assert!(authorized(Some("BEARER  s3cret "), "s3cret"));
        assert!(!authorized(Some("Basic s3cret"), "s3cret"));
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
        let (a, b) = (new_share_id().unwrap(), new_share_id().unwrap());
        assert!(is_share_id(&a) && is_share_id(&b), "{a} {b}");
        assert_ne!(a, b);
    }

    #[test]
    fn repeated_wrong_tokens_wait_longer_and_longer() {
        let mut t = Throttle::default();
        for _ in 0..FREE_FAILURES {
            t.failed("1.2.3.4", 0.0);
        }
        assert_eq!(t.wait_s("1.2.3.4", 0.0), None, "the first ten are free");
        t.failed("1.2.3.4", 0.0);
        assert_eq!(t.wait_s("1.2.3.4", 0.0), Some(1.0));
        assert_eq!(
            t.wait_s("5.6.7.8", 0.0),
            None,
            "other clients are not slowed"
        );
        t.failed("1.2.3.4", 1000.0);
        assert_eq!(t.wait_s("1.2.3.4", 1000.0), Some(2.0));
        for _ in 0..40 {
            t.failed("1.2.3.4", 0.0);
        }
        assert_eq!(t.wait_s("1.2.3.4", 0.0), Some(MAX_WAIT_S));
        t.succeeded("1.2.3.4");
        assert_eq!(t.wait_s("1.2.3.4", 0.0), None);
    }

    #[test]
    fn shares_are_stored_in_buckets() {
        let max = 8 << 20;
        assert_eq!(padded_len(1, max), 4096);
        assert_eq!(padded_len(4097, max), 8192);
        assert_eq!(padded_len(3_000_000, max), 4 << 20);
        assert_eq!(padded_len(5_000_000, max), max);
        assert_eq!(padded_len(max, max), max);
        assert_eq!(padded_len(100, 50), 100);
    }
}
