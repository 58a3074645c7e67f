//! What a profile does with a request: its timing, its usage report, the credential it accepts
//! and the fault it injects. One `Script` per profile, set from the tests (`Standin::set`) or
//! over HTTP (`PUT /profiles/{profile}` with the script as JSON; missing fields take defaults).

use llmscope_spc::Rng;
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
    /// Adds a uniform `0..=jitter_ms` to the ttft, from the engine's `Rng` seeded per profile
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
    /// Output tokens spent reasoning, part of `output_tokens`, reported where the provider
    /// reports them apart: OpenAI's `completion_tokens_details.reasoning_tokens`, Gemini's
    /// `thoughtsTokenCount` (whose `candidatesTokenCount` is then `output_tokens` minus these).
    /// Anthropic reports none.
    pub reasoning_tokens: u64,
    /// Thinking chunks (chunk `i` carries [`thinking_text`]`(i)`), sent at half the ttft,
    /// when the request asks to see the thinking as the real API wants: Anthropic
    /// `"thinking": {"type": "enabled", ...}`, Gemini
    /// `generationConfig.thinkingConfig.includeThoughts: true`. OpenAI streams none.
    ///
    /// [`thinking_text`]: crate::thinking_text
    pub thinking_chunks: u32,
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
            reasoning_tokens: 0,
            thinking_chunks: 0,
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
    RateLimited {
        /// The `retry-after` header's seconds.
        retry_after_s: u64,
    },
    /// 429 whose `retry-after` is an HTTP date (IMF-fixdate, RFC 9110 §10.2.3) this many
    /// seconds ahead, with the provider's error body.
    RateLimitedUntil {
        /// Seconds from now to the date sent.
        retry_after_s: u64,
    },
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

/// A profile's jitter generator: the engine's seeded [`Rng`], seeded from the profile's name
/// (its FNV-1a hash), so each profile has its own reproducible sequence.
pub(crate) fn profile_rng(profile: &str) -> Rng {
    let fnv1a = profile.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    Rng::new(fnv1a)
}

/// Uniform in `0..=max`.
pub(crate) fn jitter(rng: &mut Rng, max: u64) -> u64 {
    rng.below(max.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_is_per_profile_reproducible_and_bounded() {
        let draw = |name: &str| {
            let mut r = profile_rng(name);
            (0..200).map(|_| jitter(&mut r, 20)).collect::<Vec<_>>()
        };
        assert_eq!(draw("a"), draw("a"));
        assert_ne!(draw("a"), draw("b"));
        let a = draw("a");
        assert!(a.iter().all(|&j| j <= 20), "{a:?}");
        // 200 draws from 21 values: a fair generator misses an end with probability
        // (20/21)^200 ≈ 6e-5, and the seed is fixed.
        assert!(a.contains(&0) && a.contains(&20), "{a:?}");
        assert_eq!(jitter(&mut profile_rng("z"), 0), 0);
        let mut r = profile_rng("z");
        assert!((0..100).any(|_| jitter(&mut r, u64::MAX) > u64::MAX / 2));
    }
}
