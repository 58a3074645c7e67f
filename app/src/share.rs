//! Share links: a session, with the view it was shown in, as a URL fragment.
//!
//! - Small sessions travel whole in the fragment: `#s=<payload>`, where the payload is
//!   base64url (no padding) of `LS` + the format version + zlib(postcard(wire)). Version 2
//!   sends times as millisecond deltas and values with few decimals as scaled-integer deltas
//!   (two or three bytes each instead of eight); version 1 links still open. The fragment
//!   never reaches a server. Links longer than [`FRAGMENT_LIMIT`] characters are refused here
//!   (chat tools and mail clients mangle longer URLs); those go through the probe Worker.
//! - Larger ones are encrypted here with AES-256-GCM under a random key; the Worker stores
//!   only the ciphertext (`POST /share`) and the link is `#share=<id>&key=<key>&w=<Worker URL>`:
//!   the key never leaves the fragment, so the server cannot read what it stores.
//!
//! The wire types below are frozen per version: the session's own types may change, old links
//! keep opening. Chart settings travel as JSON, which tolerates added settings. Nothing secret
//! is part of a session (tokens stay in memory), so nothing secret can be part of a link.

use crate::model::{Origin, Sample, Session, Settings, Stream};
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The format version this build writes; it reads every version up to it.
pub const VERSION: u8 = 2;
/// The longest `#s=` fragment this app makes, in characters (64 KiB).
pub const FRAGMENT_LIMIT: usize = 64 * 1024;
const MAGIC: &[u8; 2] = b"LS";
/// The version of the encrypted envelope (nonce, then ciphertext).
const SEALED_VERSION: u8 = 1;

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
    pub session: Session,
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
    TooLarge { chars: usize },
    /// The Worker has no such share (never existed, or expired).
    NotFound,
    /// The Worker could not be reached or refused.
    Worker(String),
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
                "this share link was made by a newer LLMscope (format {v}; this one reads up to {VERSION}): open it with the newer version"
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
        }
    }
}

// ---- wire format, version 1 (frozen) ----

#[derive(Serialize, Deserialize)]
struct WireV1 {
    created_ms: f64,
    view_stream: Option<String>,
    view_range: Option<(u64, u64)>,
    streams: Vec<WireStreamV1>,
}

#[derive(Serialize, Deserialize)]
struct WireStreamV1 {
    id: String,
    unit: String,
    /// The origin as JSON (`Origin`'s serde form).
    origin: String,
    /// The settings as JSON (`Settings`' serde form).
    settings: String,
    stale: Option<String>,
    times: TimesV1,
    values: Vec<f64>,
}

/// Sample times: whole milliseconds as deltas (two bytes each at a steady rate), or raw.
#[derive(Serialize, Deserialize)]
enum TimesV1 {
    Deltas { first: i64, deltas: Vec<i64> },
    Raw(Vec<f64>),
}

// ---- wire format, version 2 (frozen): version 1 with values as scaled integers ----

#[derive(Serialize, Deserialize)]
struct WireV2 {
    created_ms: f64,
    view_stream: Option<String>,
    view_range: Option<(u64, u64)>,
    streams: Vec<WireStreamV2>,
}

#[derive(Serialize, Deserialize)]
struct WireStreamV2 {
    id: String,
    unit: String,
    origin: String,
    settings: String,
    stale: Option<String>,
    times: TimesV1,
    values: ValuesV2,
}

/// Values: when every value has at most `places` decimals (exactly, as f64), deltas of the
/// values times 10^places; otherwise raw.
#[derive(Serialize, Deserialize)]
enum ValuesV2 {
    Raw(Vec<f64>),
    Decimal {
        places: u8,
        first: i64,
        deltas: Vec<i64>,
    },
}

fn values(v: &[f64]) -> ValuesV2 {
    for places in 0..=6u8 {
        let scale = 10f64.powi(i32::from(places));
        let ints: Option<Vec<i64>> = v
            .iter()
            .map(|x| {
                let n = (x * scale).round();
                // Exact as the decoder will rebuild it (this also keeps -0.0 and NaN raw).
                let exact = n.abs() < 9e15 && ((n as i64) as f64 / scale).to_bits() == x.to_bits();
                exact.then_some(n as i64)
            })
            .collect();
        if let Some(ints) = ints.filter(|i| !i.is_empty()) {
            return ValuesV2::Decimal {
                places,
                first: ints[0],
                deltas: ints.windows(2).map(|w| w[1] - w[0]).collect(),
            };
        }
    }
    ValuesV2::Raw(v.to_vec())
}

fn unvalues(v: ValuesV2) -> Vec<f64> {
    match v {
        ValuesV2::Raw(v) => v,
        ValuesV2::Decimal {
            places,
            first,
            deltas,
        } => {
            let scale = 10f64.powi(i32::from(places.min(18)));
            let mut at = first;
            let mut out = Vec::with_capacity(deltas.len() + 1);
            out.push(at as f64 / scale);
            for d in deltas {
                at = at.saturating_add(d);
                out.push(at as f64 / scale);
            }
            out
        }
    }
}

fn times(samples: &[Sample]) -> TimesV1 {
    let whole = samples
        .iter()
        .all(|s| s.t.fract() == 0.0 && s.t.abs() < 9e15);
    if !whole || samples.is_empty() {
        return TimesV1::Raw(samples.iter().map(|s| s.t).collect());
    }
    let ints: Vec<i64> = samples.iter().map(|s| s.t as i64).collect();
    TimesV1::Deltas {
        first: ints[0],
        deltas: ints.windows(2).map(|w| w[1] - w[0]).collect(),
    }
}

fn untimes(t: TimesV1) -> Vec<f64> {
    match t {
        TimesV1::Raw(v) => v,
        TimesV1::Deltas { first, deltas } => {
            let mut out = Vec::with_capacity(deltas.len() + 1);
            let mut at = first;
            out.push(at as f64);
            for d in deltas {
                at = at.saturating_add(d);
                out.push(at as f64);
            }
            out
        }
    }
}

/// The shared session as bytes: `LS`, version, zlib(postcard(wire)).
pub fn to_bytes(shared: &Shared) -> Vec<u8> {
    let wire = WireV2 {
        created_ms: shared.created_ms,
        view_stream: shared.view.stream.clone(),
        view_range: shared.view.range.map(|(a, b)| (a as u64, b as u64)),
        streams: shared
            .session
            .streams
            .iter()
            .map(|s| {
                let v: Vec<f64> = s.samples.iter().map(|x| x.value).collect();
                WireStreamV2 {
                    id: s.id.clone(),
                    unit: s.unit.clone(),
                    origin: serde_json::to_string(&s.origin).unwrap_or_default(),
                    settings: serde_json::to_string(&s.settings).unwrap_or_default(),
                    stale: s.stale.clone(),
                    times: times(&s.samples),
                    values: values(&v),
                }
            })
            .collect(),
    };
    let packed = postcard::to_allocvec(&wire).unwrap_or_default();
    let mut out = Vec::with_capacity(packed.len() / 2 + 3);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.extend(miniz_oxide::deflate::compress_to_vec_zlib(&packed, 9));
    out
}

/// One stream as a version's wire types carry it.
struct WireStream {
    id: String,
    unit: String,
    origin: String,
    settings: String,
    stale: Option<String>,
    times: Vec<f64>,
    values: Vec<f64>,
}

impl From<WireStreamV1> for WireStream {
    fn from(w: WireStreamV1) -> WireStream {
        WireStream {
            id: w.id,
            unit: w.unit,
            origin: w.origin,
            settings: w.settings,
            stale: w.stale,
            times: untimes(w.times),
            values: w.values,
        }
    }
}

impl From<WireStreamV2> for WireStream {
    fn from(w: WireStreamV2) -> WireStream {
        WireStream {
            id: w.id,
            unit: w.unit,
            origin: w.origin,
            settings: w.settings,
            stale: w.stale,
            times: untimes(w.times),
            values: unvalues(w.values),
        }
    }
}

/// Reads what [`to_bytes`] wrote, any version up to [`VERSION`].
pub fn from_bytes(bytes: &[u8]) -> Result<Shared, ShareError> {
    let damaged = |why: &str| ShareError::Damaged(why.to_string());
    let (head, body) = bytes
        .split_at_checked(3)
        .ok_or_else(|| damaged("too short"))?;
    if &head[..2] != MAGIC {
        return Err(damaged("not an LLMscope share"));
    }
    let version = head[2];
    if version > VERSION {
        return Err(ShareError::NewerVersion(version));
    }
    let packed = miniz_oxide::inflate::decompress_to_vec_zlib(body)
        .map_err(|_| damaged("the compressed data is cut or altered"))?;
    let unreadable = |_| damaged("unreadable data");
    let (created_ms, view_stream, view_range, wire_streams): (_, _, _, Vec<WireStream>) =
        match version {
            1 => {
                let w: WireV1 = postcard::from_bytes(&packed).map_err(unreadable)?;
                let streams = w.streams.into_iter().map(WireStream::from).collect();
                (w.created_ms, w.view_stream, w.view_range, streams)
            }
            2 => {
                let w: WireV2 = postcard::from_bytes(&packed).map_err(unreadable)?;
                let streams = w.streams.into_iter().map(WireStream::from).collect();
                (w.created_ms, w.view_stream, w.view_range, streams)
            }
            _ => return Err(damaged("unknown format")),
        };
    let mut streams = Vec::with_capacity(wire_streams.len());
    for w in wire_streams {
        let origin: Origin =
            serde_json::from_str(&w.origin).map_err(|_| damaged("a stream's origin"))?;
        let settings: Settings =
            serde_json::from_str(&w.settings).map_err(|_| damaged("a stream's settings"))?;
        if w.times.len() != w.values.len() {
            return Err(damaged("times and values disagree"));
        }
        let samples = w
            .times
            .into_iter()
            .zip(w.values)
            .map(|(t, value)| Sample { t, value })
            .collect();
        streams.push(Stream {
            id: w.id,
            unit: w.unit,
            origin,
            samples,
            settings,
            stale: w.stale,
            seqs: Vec::new(),
        });
    }
    Ok(Shared {
        session: Session {
            streams,
            ..Session::default()
        },
        view: View {
            stream: view_stream,
            range: view_range.map(|(a, b)| (a as usize, b as usize)),
        },
        created_ms,
    })
}

/// The `#s=` fragment's payload, or [`ShareError::TooLarge`].
pub fn to_fragment(shared: &Shared) -> Result<String, ShareError> {
    let text = URL_SAFE_NO_PAD.encode(to_bytes(shared));
    if text.len() > FRAGMENT_LIMIT {
        return Err(ShareError::TooLarge { chars: text.len() });
    }
    Ok(text)
}

/// Reads a `#s=` payload.
pub fn from_fragment(text: &str) -> Result<Shared, ShareError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(text.trim())
        .map_err(|e| ShareError::Damaged(format!("not base64url: {e}")))?;
    from_bytes(&bytes)
}

/// Encrypts the shared session under `key` with a fresh `nonce`: the envelope version, the
/// nonce, then AES-256-GCM's ciphertext and tag (NIST SP 800-38D; 96-bit nonce).
pub fn seal(shared: &Shared, key: &[u8; 32], nonce: &[u8; 12]) -> Vec<u8> {
    let cipher = Aes256Gcm::new(key.into());
    let ciphertext = cipher
        .encrypt(Nonce::from_slice(nonce), to_bytes(shared).as_slice())
        .unwrap_or_default();
    let mut out = Vec::with_capacity(ciphertext.len() + 13);
    out.push(SEALED_VERSION);
    out.extend_from_slice(nonce);
    out.extend(ciphertext);
    out
}

/// Decrypts and reads a sealed session; any change to the data or the key fails here.
pub fn open(sealed: &[u8], key: &[u8]) -> Result<Shared, ShareError> {
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
        .split_at_checked(12)
        .ok_or_else(|| ShareError::Damaged("too short".into()))?;
    let plain = Aes256Gcm::new(key.into())
        .decrypt(Nonce::from_slice(nonce), ciphertext)
        .map_err(|_| ShareError::Tampered)?;
    from_bytes(&plain)
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
        id: String,
        key: String,
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
    use llmscope_spc::ChartConfig;

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
        let text = to_fragment(&s).unwrap();
        assert!(text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(from_fragment(&text).unwrap(), s);
    }

    #[test]
    fn every_altered_character_is_an_error_not_another_session() {
        let text = to_fragment(&session(50)).unwrap();
        let mut wrong = 0;
        for i in 0..text.len() {
            let mut t = text.clone().into_bytes();
            t[i] = if t[i] == b'A' { b'B' } else { b'A' };
            let t = String::from_utf8(t).unwrap();
            if from_fragment(&t).is_ok() {
                wrong += 1;
            }
        }
        assert_eq!(wrong, 0, "altered links that still opened");
        assert!(matches!(
            from_fragment(&text[..text.len() / 2]),
            Err(ShareError::Damaged(_))
        ));
    }

    #[test]
    fn a_newer_format_is_named_and_sizes_are_limited() {
        let mut bytes = to_bytes(&session(5));
        bytes[2] = VERSION + 1;
        assert_eq!(
            from_fragment(&b64(&bytes)),
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
            to_fragment(&big),
            Err(ShareError::TooLarge { .. })
        ));
    }

    #[test]
    fn sealed_sessions_open_with_their_key_only() {
        let s = session(100);
        let key = [7u8; 32];
        let sealed = seal(&s, &key, &[9u8; 12]);
        assert_eq!(open(&sealed, &key).unwrap(), s);
        let mut other = key;
        other[31] ^= 1;
        assert_eq!(open(&sealed, &other), Err(ShareError::Tampered));
        let mut altered = sealed.clone();
        altered[40] ^= 0x10;
        assert_eq!(open(&altered, &key), Err(ShareError::Tampered));
        // The stored bytes do not contain the stream names.
        let needle = b"barrel_temp";
        assert!(!sealed.windows(needle.len()).any(|w| w == needle));
    }

    #[test]
    fn a_version_1_link_still_opens() {
        // Made by the version-1 encoder before version 2 existed (app/tests/data).
        let v1 = include_str!("../tests/data/share-v1.txt");
        assert_eq!(from_fragment(v1).unwrap(), fixture_session());
        assert_ne!(to_fragment(&fixture_session()).unwrap(), v1.trim());
    }

    #[test]
    fn decimals_travel_as_integers_and_odd_values_raw() {
        let v = [420.123, -0.5, 7.0, 1e-6];
        assert!(matches!(values(&v), ValuesV2::Decimal { places: 6, .. }));
        assert_eq!(unvalues(values(&v)), v);
        let odd = [0.1 + 0.2, f64::NAN];
        assert!(matches!(values(&odd), ValuesV2::Raw(_)));
        let neg_zero = [-0.0];
        assert_eq!(
            unvalues(values(&neg_zero))[0].to_bits(),
            (-0.0f64).to_bits()
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
