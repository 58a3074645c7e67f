//! What a profile does with a request: its timing, its usage report, the credential it accepts,
//! the fault it injects and the answer it gives (right, or wrong on a fraction of requests).
//! One `Script` per profile, set from the tests (`Standin::set`) or over HTTP
//! (`PUT /profiles/{profile}` with the script as JSON; missing fields take defaults).

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
    /// Number of text chunks; chunk `i` carries [`chunk_text`]`(i)`, e.g. `" tok3"`, unless
    /// the script has an `answer`.
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
    /// The reply's visible text, spread over the `chunks` chunks ([`split_answer`]) in place
    /// of [`chunk_text`]'s `" tok0 tok1..."`: a known answer for a quality check.
    ///
    /// [`chunk_text`]: crate::chunk_text
    pub answer: Option<String>,
    /// Answers wrongly on some requests, drawn per request.
    pub wrong: Option<Wrong>,
    /// The model the response names (OpenAI's and Ollama's `model`, Anthropic's
    /// `message.model`, Gemini's `modelVersion`) instead of the one asked for: a provider
    /// that moved an alias to a new version. Bedrock's stream names none.
    pub response_model: Option<String>,
    /// OpenAI's `openai-processing-ms` header; unset: the ttft (with its jitter).
    pub processing_ms: Option<u64>,
    /// The rate-limit headers every answer carries (OpenAI `x-ratelimit-*`, Anthropic
    /// `anthropic-ratelimit-*`).
    pub quota: Quota,
    /// Answers 429 (the provider's rate-limit error, with `retry-after`) on a drawn fraction
    /// of requests: a burst of throttling among normal answers.
    pub throttle: Option<Throttle>,
    /// The Cloudflare colo OpenAI's and Anthropic's answers come through, sent as the
    /// suffix of `cf-ray` (`8e1b9c2d3f4a5b6c-SJC`), as both APIs sit behind Cloudflare;
    /// unset: no `cf-ray`.
    pub colo: Option<String>,
}

/// The rate-limit state the headers report: OpenAI's `x-ratelimit-{limit,remaining}-{requests,tokens}`
/// and Anthropic's `anthropic-ratelimit-{requests,tokens}-{limit,remaining}`, with their resets.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default)]
pub struct Quota {
    /// Requests per minute allowed.
    pub requests_limit: u64,
    /// Requests left in the window.
    pub requests_remaining: u64,
    /// Tokens per minute allowed.
    pub tokens_limit: u64,
    /// Tokens left in the window.
    pub tokens_remaining: u64,
}

impl Default for Quota {
    fn default() -> Self {
        Quota {
            requests_limit: 5000,
            requests_remaining: 4999,
            tokens_limit: 2_000_000,
            tokens_remaining: 1_999_980,
        }
    }
}

/// 429s on a fraction of requests.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Throttle {
    /// Probability per request, 0 to 1, drawn from the profile's seeded `Rng` (after the
    /// wrong-answer draw); each request records whether it was throttled
    /// ([`Recorded::throttled`]).
    ///
    /// [`Recorded::throttled`]: crate::Recorded::throttled
    pub rate: f64,
    /// The `retry-after` header's seconds.
    pub retry_after_s: u64,
}

/// A wrong answer, given instead of the script's `answer` on a fraction of requests.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Wrong {
    /// Probability per request, 0 to 1 (1: always), drawn from the profile's seeded `Rng`
    /// (after its jitter), so a run is reproducible; each request records whether it was
    /// answered wrongly ([`Recorded::wrong`]).
    ///
    /// [`Recorded::wrong`]: crate::Recorded::wrong
    pub rate: f64,
    /// The wrong answer's text, spread over the chunks like `answer`.
    pub text: String,
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
            answer: None,
            wrong: None,
            response_model: None,
            processing_ms: None,
            quota: Quota::default(),
            throttle: None,
            colo: None,
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

/// The text of each of `chunks` chunks: `answer` cut into `chunks` pieces of near-equal
/// length in characters, longer pieces first, so an answer shorter than `chunks` characters
/// leaves the last chunks empty (as providers sometimes send) and never the first; without an
/// answer, [`chunk_text`]`(i)`.
///
/// [`chunk_text`]: crate::chunk_text
pub(crate) fn chunk_texts(answer: Option<&str>, chunks: u32) -> Vec<String> {
    let Some(answer) = answer else {
        return (0..chunks).map(crate::chunk_text).collect();
    };
    let chars: Vec<char> = answer.chars().collect();
    let (n, k) = (chars.len(), chunks as usize);
    // The first n mod k pieces get one character more than the others.
    let (q, r) = (n / k.max(1), n % k.max(1));
    let at = |i: usize| i * q + i.min(r);
    (0..k)
        .map(|i| chars[at(i)..at(i + 1)].iter().collect())
        .collect()
}

/// Whether this request is answered wrongly: a draw from the profile's generator, taken only
/// when the script can answer wrongly, so other profiles' jitter sequences are unchanged.
pub(crate) fn answers_wrongly(rng: &mut Rng, wrong: Option<&Wrong>) -> bool {
    match wrong {
        Some(w) if w.rate > 0.0 => rng.uniform() < w.rate,
        _ => false,
    }
}

/// Whether this request is throttled (429): a draw taken only when the script throttles.
pub(crate) fn throttled(rng: &mut Rng, throttle: Option<&Throttle>) -> bool {
    match throttle {
        Some(t) if t.rate > 0.0 => rng.uniform() < t.rate,
        _ => false,
    }
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
    fn an_answer_is_spread_over_the_chunks_first_pieces_first() {
        assert_eq!(chunk_texts(Some("Paris"), 2), ["Par", "is"]);
        assert_eq!(chunk_texts(Some("42"), 4), ["4", "2", "", ""]);
        assert_eq!(
            chunk_texts(Some("café au lait"), 3),
            ["café", " au ", "lait"]
        );
        assert_eq!(chunk_texts(Some("x"), 0), Vec::<String>::new());
        assert_eq!(chunk_texts(None, 2), [" tok0", " tok1"]);
        for k in 1..9 {
            let text = "The answer is 42.";
            assert_eq!(chunk_texts(Some(text), k).concat(), text, "{k} chunks");
        }
    }

    #[test]
    fn a_wrong_answer_comes_at_its_rate_and_only_then_draws() {
        let wrong = |rate| Wrong {
            rate,
            text: "no".into(),
        };
        let mut r = profile_rng("q");
        let n = (0..10_000)
            .filter(|_| answers_wrongly(&mut r, Some(&wrong(0.2))))
            .count();
        // Binomial(10000, 0.2): sd 40, so ±200 is 5 sd.
        assert!((1800..=2200).contains(&n), "{n}");
        let mut r = profile_rng("q");
        assert!((0..100).all(|_| answers_wrongly(&mut r, Some(&wrong(1.0)))));
        let (mut a, mut b) = (profile_rng("q"), profile_rng("q"));
        assert!(!answers_wrongly(&mut a, Some(&wrong(0.0))));
        assert!(!answers_wrongly(&mut a, None));
        assert_eq!(a.next_u64(), b.next_u64(), "no draw without a rate");
    }

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
