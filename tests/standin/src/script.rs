//! What a profile does with a request: its timing, its usage report, the credential it accepts
//! and the fault it injects. One `Script` per profile, set from the tests (`Standin::set`) or
//! over HTTP (`PUT /profiles/{profile}` with the script as JSON; missing fields take defaults).

use serde::{Deserialize, Serialize};

/// The behaviour of one profile. Every provider reads the same script, so one test can run the
/// same timing against all six wire formats.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default)]
pub struct Script {
    /// Request fully received -> first chunk with non-empty text, in ms. Role-only or metadata
    /// events (OpenAI's first delta, Anthropic's message_start, Bedrock's messageStart) go out
    /// at once, because real providers send them before any text and a probe must not count
    /// them as the first token.
    pub ttft_ms: u64,
    /// Between successive text chunks, in ms.
    pub gap_ms: u64,
    /// Number of text chunks; chunk `i` carries [`chunk_text`]`(i)`, e.g. `" tok3"`.
    ///
    /// [`chunk_text`]: crate::chunk_text
    pub chunks: u32,
    /// Adds a uniform `0..=jitter_ms` to the ttft, from a xorshift PRNG seeded per profile
    /// (reset by every `set`), which advances once per request: runs are reproducible.
    pub jitter_ms: u64,
    /// Adds a uniform `0..=gap_jitter_ms` to this request's gap between chunks (same PRNG), so
    /// output speed varies from request to request as a real model's does.
    pub gap_jitter_ms: u64,
    /// Usage reported by the provider (prompt tokens).
    pub input_tokens: u64,
    /// Usage reported by the provider (generated tokens). Deliberately independent of `chunks`:
    /// a probe must take counts from the usage report, not count chunks.
    pub output_tokens: u64,
    /// Prompt tokens served from the provider's cache (OpenAI cached_tokens, Anthropic
    /// cache_read_input_tokens, Gemini cachedContentTokenCount).
    pub cached_input_tokens: u64,
    /// Anthropic's cache_creation_input_tokens.
    pub cache_write_tokens: u64,
    /// The credential this profile accepts (an API key, or for Bedrock the access key id);
    /// `None` accepts anything.
    pub key: Option<String>,
    /// The fault to inject, if any.
    pub fault: Option<Fault>,
    /// Ollama's `load_duration` (reported in ns). It is part of the ttft, only reported.
    pub load_duration_ms: u64,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            ttft_ms: 50,
            gap_ms: 5,
            chunks: 8,
            jitter_ms: 0,
            gap_jitter_ms: 0,
            input_tokens: 12,
            output_tokens: 8,
            cached_input_tokens: 0,
            cache_write_tokens: 0,
            key: None,
            fault: None,
            load_duration_ms: 0,
        }
    }
}

/// The failures a probe must classify (never hide, never count as a latency).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// 401 (Bedrock: 403) with the provider's own error body, echoing the credential sent.
    Unauthorized,
    /// 404 model not found, with the provider's error body.
    NotFound,
    /// 429 with a `retry-after` header, with the provider's error body.
    RateLimited { retry_after_s: u64 },
    /// 500 with the provider's error body.
    ServerError,
    /// Headers and the first half of the chunks, then the connection is dropped: no terminal
    /// event, no usage, no final HTTP chunk.
    CutMidway,
    /// After the first text chunk, one invalid frame (truncated JSON, or for Bedrock a wrong
    /// message CRC), then the stream continues normally.
    CorruptFrame,
    /// The request is accepted and the response headers never come (an hour's sleep).
    Hang,
    /// The provider's in-stream error after the first text chunk, then the stream ends.
    StreamError,
}

/// xorshift64: tiny, seedable, good enough for jitter.
#[derive(Clone, Debug)]
pub(crate) struct Prng(u64);

impl Prng {
    /// Seeded from the profile name (FNV-1a), so each profile has its own reproducible sequence.
    pub(crate) fn for_profile(profile: &str) -> Prng {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in profile.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Prng(h | 1)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform in `0..=max` (the modulo bias is irrelevant for jitter).
    pub(crate) fn upto(&mut self, max: u64) -> u64 {
        let r = self.next_u64();
        match max.checked_add(1) {
            Some(m) => r % m,
            None => r,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prng_is_per_profile_reproducible_and_bounded() {
        let draw = |name: &str| {
            let mut r = Prng::for_profile(name);
            (0..50).map(|_| r.upto(20)).collect::<Vec<_>>()
        };
        assert_eq!(draw("a"), draw("a"));
        assert_ne!(draw("a"), draw("b"));
        assert!(draw("a").iter().all(|&j| j <= 20));
        assert!(draw("a").iter().any(|&j| j != draw("a")[0]));
        assert_eq!(Prng::for_profile("z").upto(0), 0);
        let _ = Prng::for_profile("z").upto(u64::MAX);
    }
}
