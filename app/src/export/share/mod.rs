//! Share links: a session, with the view it was shown in, as a URL fragment.
//!
//! - Small sessions travel whole in the fragment: `#s=<payload>`, where the payload is
//!   base64url (no padding) of `LS` + the format version + zlib(postcard(wire)). Version 2
//!   sends times as millisecond deltas and values with few decimals as scaled-integer deltas
//!   (two or three bytes each instead of eight); version 3 adds the assignable causes
//!   (annotations and their taxonomy, as JSON); version 1 and 2 links still open. The fragment
//!   never reaches a server. Links longer than [`FRAGMENT_LIMIT`] characters are refused here
//!   (chat tools and mail clients mangle longer URLs); those go through the probe Worker.
//! - Larger ones are encrypted here with AES-256-GCM under a random key; the Worker stores
//!   only the ciphertext (`POST /share`) and the link is `#share=<id>&key=<key>&w=<Worker URL>`:
//!   the key never leaves the fragment, so the server cannot read what it stores.
//!
//! Opening a link is bounded: its data inflates to at most [`MAX_INFLATED`] bytes and holds at
//! most [`MAX_SAMPLES`] samples (checked as each list's length is read, before it is
//! allocated), so a small crafted link cannot claim gigabytes and abort the page. Every time
//! and value must be finite (the session is saved as JSON, where NaN becomes `null`).
//!
//! The wire types below are frozen per version: the session's own types may change, old links
//! keep opening. Chart settings travel as JSON, which tolerates added settings. Nothing secret
//! is part of a session (tokens stay in memory), so nothing secret can be part of a link.
//!
//! The zlib and AES-256-GCM under the format are the second module's
//! (`llmscope_app_lazy::pack`), behind [`Pack`]: the page loads the module before it makes or
//! opens a link (`crate::lazy::Pack`), so they stay out of the first download.

mod wire;

use crate::model::Session;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::fmt;
pub use wire::{from_bytes, to_bytes};

/// The format version this build writes; it reads every version up to it.
pub const VERSION: u8 = 3;
/// The longest `#s=` fragment this app makes, in characters (64 KiB).
pub const FRAGMENT_LIMIT: usize = 64 * 1024;
const MAGIC: &[u8; 2] = b"LS";
/// The version of the encrypted envelope (nonce, then ciphertext).
const SEALED_VERSION: u8 = 1;
/// The most bytes a link's compressed data may inflate to (96 MiB): room for [`MAX_SAMPLES`]
/// samples with times and values both raw (about 18 bytes each), and a stop for a zlib bomb.
pub const MAX_INFLATED: usize = 96 * 1024 * 1024;
/// The most samples a link may hold, all streams together (5 million; the Worker's default
/// 8 MiB share holds one to four million).
pub const MAX_SAMPLES: usize = 5_000_000;
/// The most bytes of a sealed session read from a Worker (64 MiB; the Worker itself takes at
/// most 8 MiB by default, `LLMSCOPE_SHARE_MAX_BYTES`).
pub const MAX_SEALED: usize = 64 * 1024 * 1024;

/// The byte work under a link: zlib, and AES-256-GCM for the Worker's kind.
pub trait Pack {
    /// zlib at level 9.
    fn deflate(&self, bytes: &[u8]) -> Vec<u8>;
    /// zlib inflated, at most `limit` bytes.
    fn inflate(
        &self,
        body: &[u8],
        limit: usize,
    ) -> Result<Vec<u8>, llmscope_app_lazy::pack::Inflate>;
    /// AES-256-GCM's ciphertext and tag.
    fn seal(&self, plain: &[u8], key: &[u8; 32], nonce: &[u8; 12]) -> Vec<u8>;
    /// The plain text, or `None` when the key, nonce or data was altered.
    fn unseal(&self, sealed: &[u8], key: &[u8; 32], nonce: &[u8; 12]) -> Option<Vec<u8>>;
}

/// [`Pack`] in this module's own code (`llmscope_app_lazy::pack` linked in): for host tests
/// and tools. The page never uses it, so its wasm does not link the byte work.
pub struct Native;

impl Pack for Native {
    fn deflate(&self, bytes: &[u8]) -> Vec<u8> {
        llmscope_app_lazy::pack::deflate(bytes)
    }
    fn inflate(
        &self,
        body: &[u8],
        limit: usize,
    ) -> Result<Vec<u8>, llmscope_app_lazy::pack::Inflate> {
        llmscope_app_lazy::pack::inflate(body, limit)
    }
    fn seal(&self, plain: &[u8], key: &[u8; 32], nonce: &[u8; 12]) -> Vec<u8> {
        llmscope_app_lazy::pack::seal(plain, key, nonce)
    }
    fn unseal(&self, sealed: &[u8], key: &[u8; 32], nonce: &[u8; 12]) -> Option<Vec<u8>> {
        llmscope_app_lazy::pack::unseal(sealed, key, nonce)
    }
}

/// What a link shows besides the data: the open stream and its zoom.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct View {
    /// The stream that was open, if any.
    pub stream: Option<String>,
    /// The zoomed range of points, if zoomed.
    pub range: Option<(usize, usize)>,
}

/// A session as shared.
#[derive(Clone, Debug, PartialEq)]
pub struct Shared {
    /// The shared streams, their settings and telemetry.
    pub session: Session,
    /// The stream and zoom that were open.
    pub view: View,
    /// When the link was made, Unix epoch ms.
    pub created_ms: f64,
}

/// Why a link cannot be opened. Each says what happened and what to do.
#[derive(Clone, Debug, PartialEq)]
pub enum ShareError {
    /// Not base64url, or cut short.
    Damaged(String),
    /// Made by a newer LLMscope.
    NewerVersion(u8),
    /// The encrypted data failed authentication: the key or the data was altered.
    Tampered,
    /// Too large for a fragment link.
    TooLarge {
        /// The payload's length in characters.
        chars: usize,
    },
    /// The Worker has no such share (never existed, or expired).
    NotFound,
    /// The Worker could not be reached or refused.
    Worker(String),
    /// Larger than this app opens ([`MAX_INFLATED`], [`MAX_SAMPLES`], [`MAX_SEALED`]).
    Oversized(String),
}

impl fmt::Display for ShareError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShareError::Damaged(why) => write!(
                f,
                "this share link is damaged ({why}); ask for the link again, copied whole"
            ),
            ShareError::NewerVersion(v) => write!(
                f,
                "this share link was made by a newer version of this dashboard (format {v}; this one reads up to {VERSION}): open it with the newer version"
            ),
            ShareError::Tampered => write!(
                f,
                "this shared session failed its authenticity check: the link's key or the stored data was altered"
            ),
            ShareError::TooLarge { chars } => write!(
                f,
                "the session needs a {chars}-character link, above the {FRAGMENT_LIMIT} limit: connect a probe Worker to share it through the Worker"
            ),
            ShareError::NotFound => write!(
                f,
                "the Worker has no such shared session: it expired, or the link's id was altered"
            ),
            ShareError::Worker(e) => write!(f, "cannot fetch the shared session: {e}"),
            ShareError::Oversized(what) => write!(
                f,
                "this session is too large for a share link: {what}; share fewer streams or a shorter time range"
            ),
        }
    }
}

/// Refuses to make a link this app could not open again: one above [`MAX_SAMPLES`].
pub fn check_size(shared: &Shared) -> Result<(), ShareError> {
    let samples: usize = shared.session.streams.iter().map(|s| s.samples.len()).sum();
    if samples > MAX_SAMPLES {
        return Err(ShareError::Oversized(format!(
            "it holds {samples} samples, more than the {MAX_SAMPLES} a link may carry"
        )));
    }
    Ok(())
}

/// The `#s=` fragment's payload, or [`ShareError::TooLarge`].
pub fn to_fragment(shared: &Shared, pack: &dyn Pack) -> Result<String, ShareError> {
    let text = URL_SAFE_NO_PAD.encode(to_bytes(shared, pack));
    if text.len() > FRAGMENT_LIMIT {
        return Err(ShareError::TooLarge { chars: text.len() });
    }
    Ok(text)
}

/// Reads a `#s=` payload.
pub fn from_fragment(text: &str, pack: &dyn Pack) -> Result<Shared, ShareError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(text.trim())
        .map_err(|e| ShareError::Damaged(format!("not base64url: {e}")))?;
    from_bytes(&bytes, pack)
}

/// Encrypts the shared session under `key` with a fresh `nonce`: the envelope version, the
/// nonce, then AES-256-GCM's ciphertext and tag (NIST SP 800-38D; 96-bit nonce).
pub fn seal(shared: &Shared, key: &[u8; 32], nonce: &[u8; 12], pack: &dyn Pack) -> Vec<u8> {
    let ciphertext = pack.seal(&to_bytes(shared, pack), key, nonce);
    let mut out = Vec::with_capacity(ciphertext.len() + 13);
    out.push(SEALED_VERSION);
    out.extend_from_slice(nonce);
    out.extend(ciphertext);
    out
}

/// Decrypts and reads a sealed session; any change to the data or the key fails here.
pub fn open(sealed: &[u8], key: &[u8], pack: &dyn Pack) -> Result<Shared, ShareError> {
    let key: &[u8; 32] = key
        .try_into()
        .map_err(|_| ShareError::Damaged("the key has the wrong length".into()))?;
    let (version, rest) = sealed
        .split_first()
        .ok_or_else(|| ShareError::Damaged("no data".into()))?;
    if *version > SEALED_VERSION {
        return Err(ShareError::NewerVersion(*version));
    }
    let (nonce, ciphertext) = rest
        .split_first_chunk::<12>()
        .ok_or_else(|| ShareError::Damaged("too short".into()))?;
    let plain = pack
        .unseal(ciphertext, key, nonce)
        .ok_or(ShareError::Tampered)?;
    from_bytes(&plain, pack)
}

/// base64url without padding (keys in links).
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Reads base64url without padding.
pub fn unb64(text: &str) -> Result<Vec<u8>, ShareError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|e| ShareError::Damaged(format!("not base64url: {e}")))
}

/// A link's fragment, parsed.
#[derive(Clone, Debug, PartialEq)]
pub enum Link {
    /// `#s=<payload>`.
    Inline(String),
    /// `#share=<id>&key=<key>&w=<Worker URL>`.
    Stored {
        /// The share's id on the Worker (`share=`).
        id: String,
        /// The key the session was sealed with, base64url (`key=`).
        key: String,
        /// The Worker's URL (`w=`, percent-decoded), if the link names one.
        worker: Option<String>,
    },
}

/// The share link in a fragment (with or without its `#`), if it holds one.
pub fn parse_fragment(hash: &str) -> Option<Link> {
    let hash = hash.trim_start_matches('#');
    if let Some(payload) = hash.strip_prefix("s=") {
        return Some(Link::Inline(payload.to_string()));
    }
    if !hash.starts_with("share=") {
        return None;
    }
    let (mut id, mut key, mut worker) = (String::new(), String::new(), None);
    for pair in hash.split('&') {
        match pair.split_once('=') {
            Some(("share", v)) => id = v.to_string(),
            Some(("key", v)) => key = v.to_string(),
            Some(("w", v)) => worker = Some(percent_decode(v)),
            _ => {}
        }
    }
    Some(Link::Stored { id, key, worker })
}

/// Decodes `%XX` escapes (the Worker URL in a link).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied(),
            bytes.get(i + 2).copied(),
        ) {
            (b'%', Some(h), Some(l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Origin, Sample, Stream};
    use llmscope_app_lazy::pack;
    use llmscope_spc::ChartConfig;

    pub(crate) const NATIVE: &Native = &Native;

    pub(super) fn fixture_session() -> Shared {
        session(12)
    }

    fn session(points: usize) -> Shared {
        let mut a = Stream::new("press1/barrel_temp", "°C", Origin::Simulator);
        a.samples = (0..points)
            .map(|i| Sample {
                t: 1_795_000_000_000.0 + 500.0 * i as f64,
                value: 200.0 + (i as f64 * 0.37).sin(),
            })
            .collect();
        a.settings.chart = ChartConfig {
            chart: Some("ewma".into()),
            baseline_range: Some((5, 40)),
            lambda: Some(0.1),
            ..ChartConfig::default()
        };
        a.settings.usl = Some(205.0);
        let mut b = Stream::new(
            "gpt/ttft_ms",
            "ms",
            Origin::Import {
                file: "x.csv".into(),
            },
        );
        b.samples = vec![Sample { t: 0.5, value: 1.0 }, Sample { t: 1.5, value: 2.0 }];
        b.stale = Some("source quiet".into());
        Shared {
            session: Session {
                streams: vec![a, b],
                ..Session::default()
            },
            view: View {
                stream: Some("press1/barrel_temp".into()),
                range: Some((10, 60)),
            },
            created_ms: 1_795_000_000_123.0,
        }
    }

    #[test]
    fn a_fragment_round_trips_exactly() {
        let s = session(500);
        let text = to_fragment(&s, NATIVE).unwrap();
        assert!(text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(from_fragment(&text, NATIVE).unwrap(), s);
    }

    #[test]
    fn the_rule_editor_s_text_travels_in_a_link() {
        let mut s = session(20);
        s.session.streams[0].settings.rules_text =
            Some("# the lab's set\n2-2s: 2 in a row beyond 2s same side  # Westgard".into());
        let text = to_fragment(&s, NATIVE).unwrap();
        assert_eq!(from_fragment(&text, NATIVE).unwrap(), s);
    }

    #[test]
    fn every_altered_character_is_an_error_not_another_session() {
        let text = to_fragment(&session(50), NATIVE).unwrap();
        let mut wrong = 0;
        for i in 0..text.len() {
            let mut t = text.clone().into_bytes();
            t[i] = if t[i] == b'A' { b'B' } else { b'A' };
            let t = String::from_utf8(t).unwrap();
            if from_fragment(&t, NATIVE).is_ok() {
                wrong += 1;
            }
        }
        assert_eq!(wrong, 0, "altered links that still opened");
        assert!(matches!(
            from_fragment(&text[..text.len() / 2], NATIVE),
            Err(ShareError::Damaged(_))
        ));
    }

    #[test]
    fn a_newer_format_is_named_and_sizes_are_limited() {
        let mut bytes = to_bytes(&session(5), NATIVE);
        bytes[2] = VERSION + 1;
        assert_eq!(
            from_fragment(&b64(&bytes), NATIVE),
            Err(ShareError::NewerVersion(VERSION + 1))
        );
        // Noise does not compress: 100,000 points cannot fit a fragment.
        let mut big = session(0);
        big.session.streams[0].samples = (0..100_000)
            .map(|i| Sample {
                t: i as f64 * 1000.0,
                value: ((i as f64) * 12.9898).sin() * 43758.5453 % 1.0,
            })
            .collect();
        assert!(matches!(
            to_fragment(&big, NATIVE),
            Err(ShareError::TooLarge { .. })
        ));
    }

    #[test]
    fn sealed_sessions_open_with_their_key_only() {
        let s = session(100);
        let key = [7u8; 32];
        let sealed = seal(&s, &key, &[9u8; 12], NATIVE);
        assert_eq!(open(&sealed, &key, NATIVE).unwrap(), s);
        let mut other = key;
        other[31] ^= 1;
        assert_eq!(open(&sealed, &other, NATIVE), Err(ShareError::Tampered));
        let mut altered = sealed.clone();
        altered[40] ^= 0x10;
        assert_eq!(open(&altered, &key, NATIVE), Err(ShareError::Tampered));
        // The stored bytes do not contain the stream names.
        let needle = b"barrel_temp";
        assert!(!sealed.windows(needle.len()).any(|w| w == needle));
    }

    #[test]
    fn a_version_1_link_still_opens() {
        // Made by the version-1 encoder before version 2 existed (app/tests/data).
        let v1 = include_str!("../../../tests/data/share-v1.txt");
        assert_eq!(from_fragment(v1, NATIVE).unwrap(), fixture_session());
        assert_ne!(to_fragment(&fixture_session(), NATIVE).unwrap(), v1.trim());
    }

    #[test]
    fn a_version_2_link_still_opens_without_annotations() {
        // Made by the version-2 encoder before version 3 existed (app/tests/data).
        let v2 = include_str!("../../../tests/data/share-v2.txt");
        let opened = from_fragment(v2, NATIVE).unwrap();
        assert_eq!(opened, fixture_session());
        assert!(opened.session.causes.is_default());
    }

    #[test]
    fn annotations_round_trip_in_a_fragment() {
        let mut s = session(60);
        s.session
            .causes
            .taxonomy
            .llm
            .causes
            .push("tokenizer change".into());
        s.session.causes.annotate(crate::model::Annotation {
            stream: "gpt/ttft_ms".into(),
            from: 3.0,
            to: 9.0,
            cause: "model version change".into(),
            action: "pinned the model version".into(),
            note: "gpt-4o-2024-08-06 → 11-20".into(),
        });
        let text = to_fragment(&s, NATIVE).unwrap();
        assert_eq!(from_fragment(&text, NATIVE).unwrap(), s);
    }

    #[test]
    fn a_link_with_a_non_finite_value_or_time_does_not_open() {
        for (at, bad) in [(3, f64::NAN), (7, f64::INFINITY), (0, f64::NEG_INFINITY)] {
            let mut s = session(20);
            s.session.streams[0].samples[at].value = bad;
            let e = from_fragment(&to_fragment(&s, NATIVE).unwrap(), NATIVE).unwrap_err();
            assert_eq!(
                e,
                ShareError::Damaged(format!(
                    "stream 'press1/barrel_temp', sample {at}: the value is {bad}, not a finite number"
                ))
            );
            // The Worker's kind of link too.
            let key = [1u8; 32];
            assert_eq!(
                open(&seal(&s, &key, &[2u8; 12], NATIVE), &key, NATIVE).unwrap_err(),
                e
            );
        }
        let mut s = session(20);
        s.session.streams[1].samples[1].t = f64::NAN;
        assert!(from_fragment(&to_fragment(&s, NATIVE).unwrap(), NATIVE)
            .unwrap_err()
            .to_string()
            .contains("stream 'gpt/ttft_ms', sample 1: the time is NaN"));
    }

    /// postcard bytes of a version-2 session whose streams each claim `n` samples: times and
    /// values as deltas of zero, one byte each, so the bytes compress about a thousand times.
    fn claimed_samples(streams: usize, n: usize) -> Vec<u8> {
        let varint = |out: &mut Vec<u8>, mut x: usize| {
            while x >= 0x80 {
                out.push((x as u8) | 0x80);
                x >>= 7;
            }
            out.push(x as u8);
        };
        let mut out = vec![0u8; 8]; // created_ms
        out.extend([0, 0]); // no view
        varint(&mut out, streams);
        for _ in 0..streams {
            out.extend([0, 0, 0, 0, 0]); // id, unit, origin, settings, stale
            out.extend([0, 0]); // times: Deltas, first 0
            varint(&mut out, n);
            out.resize(out.len() + n, 0);
            out.extend([1, 0, 0]); // values: Decimal, places 0, first 0
            varint(&mut out, n);
            out.resize(out.len() + n, 0);
        }
        out
    }

    fn link_bytes(packed: &[u8]) -> Vec<u8> {
        let mut bytes = b"LS".to_vec();
        bytes.push(2);
        bytes.extend(pack::deflate(packed));
        bytes
    }

    #[test]
    fn a_zlib_bomb_stops_at_the_caps() {
        // About 12 KB that would become 6 million samples (200 MB once decoded).
        let bomb = link_bytes(&claimed_samples(1, MAX_SAMPLES + 1_000_000));
        assert!(bomb.len() < 48 * 1024, "{}", bomb.len());
        let e = from_bytes(&bomb, NATIVE).unwrap_err();
        assert_eq!(
            e,
            ShareError::Oversized(format!("it holds more than {MAX_SAMPLES} samples"))
        );
        assert!(e
            .to_string()
            .starts_with("this session is too large for a share link: it holds more than"));
        // Each stream under the cap, together over it.
        let spread = link_bytes(&claimed_samples(3, MAX_SAMPLES / 3 + 10));
        assert!(matches!(
            from_bytes(&spread, NATIVE),
            Err(ShareError::Oversized(_))
        ));
        // Through the Worker's sealed kind of link as well.
        let key = [3u8; 32];
        let nonce = [4u8; 12];
        let mut sealed = vec![SEALED_VERSION];
        sealed.extend_from_slice(&nonce);
        sealed.extend(pack::seal(&bomb, &key, &nonce));
        assert_eq!(open(&sealed, &key, NATIVE).unwrap_err(), e);
        // Under the caps, reading goes on (to the empty origin, which is not JSON).
        let fine = link_bytes(&claimed_samples(1, 1000));
        assert!(matches!(
            from_bytes(&fine, NATIVE),
            Err(ShareError::Damaged(why)) if why == "a stream's origin"
        ));
    }

    /// A zlib stream that inflates to at least `len` zero bytes: one literal 0, then
    /// "copy 258 bytes from 1 back" over and over (fixed Huffman codes, 13 bits each).
    pub(crate) fn zero_bomb(len: usize) -> Vec<u8> {
        let mut out = vec![0x78, 0x01];
        let (mut acc, mut used) = (0u8, 0);
        let mut bit = |b: u32, out: &mut Vec<u8>| {
            acc |= (b as u8 & 1) << used;
            used += 1;
            if used == 8 {
                out.push(acc);
                (acc, used) = (0, 0);
            }
        };
        bit(1, &mut out); // the last block
        bit(1, &mut out); // fixed Huffman codes: type 01, low bit first
        bit(0, &mut out);
        let mut code = |c: u32, n: u32, out: &mut Vec<u8>| {
            (0..n).rev().for_each(|i| bit(c >> i, out));
        };
        code(0x30, 8, &mut out); // literal 0
        for _ in 0..=len / 258 {
            code(0b1100_0101, 8, &mut out); // length 258
            code(0, 5, &mut out); // distance 1
        }
        code(0, 7, &mut out); // end of block
        code(0, 8, &mut out); // flush the last bits
        out.extend([0; 4]); // no reader gets as far as the checksum
        out
    }

    #[test]
    fn a_zlib_bomb_of_zeros_stops_at_the_inflated_size() {
        let mut bomb = b"LS\x02".to_vec();
        bomb.extend(zero_bomb(MAX_INFLATED + 1));
        assert!(bomb.len() < MAX_INFLATED / 100, "{}", bomb.len());
        assert_eq!(
            from_bytes(&bomb, NATIVE),
            Err(ShareError::Oversized(format!(
                "its data inflates to more than {} MiB",
                MAX_INFLATED >> 20
            )))
        );
        // Four times over the cap stops at the same place.
        let mut huge = b"LS\x02".to_vec();
        huge.extend(zero_bomb(4 * MAX_INFLATED));
        assert!(matches!(
            from_bytes(&huge, NATIVE),
            Err(ShareError::Oversized(_))
        ));
    }

    #[test]
    fn a_session_above_the_sample_cap_is_not_shared() {
        let mut s = session(0);
        let sample = Sample { t: 1.0, value: 2.0 };
        s.session.streams[0].samples = vec![sample; MAX_SAMPLES / 2];
        s.session.streams[1].samples = vec![sample; MAX_SAMPLES / 2];
        assert_eq!(check_size(&s), Ok(()));
        s.session.streams[1].samples.push(sample);
        assert_eq!(
            check_size(&s),
            Err(ShareError::Oversized(format!(
                "it holds {} samples, more than the {MAX_SAMPLES} a link may carry",
                MAX_SAMPLES + 1
            )))
        );
    }

    #[test]
    fn fragments_are_recognised() {
        assert_eq!(parse_fragment("#s=abc"), Some(Link::Inline("abc".into())));
        assert_eq!(
            parse_fragment("#share=ID&key=K&w=http%3A%2F%2F127.0.0.1%3A8787"),
            Some(Link::Stored {
                id: "ID".into(),
                key: "K".into(),
                worker: Some("http://127.0.0.1:8787".into())
            })
        );
        assert_eq!(parse_fragment("#stream=x"), None);
    }
}
