//! The AWS event-stream binary framing (`application/vnd.amazon.eventstream`), in which
//! Bedrock's ConverseStream sends its events.
//!
//! Each message is one frame (all integers big-endian), as specified by AWS's reference
//! implementation, aws-c-event-stream (<https://github.com/awslabs/aws-c-event-stream>), and
//! the Transcribe streaming docs
//! (<https://docs.aws.amazon.com/transcribe/latest/dg/streaming-setting-up.html>):
//!
//! ```text
//! total length u32 | headers length u32 | prelude CRC u32 | headers | payload | message CRC u32
//! ```
//!
//! The prelude CRC covers the first 8 bytes and the message CRC every byte before it; both are
//! the standard CRC-32 (IEEE, as zlib and `crc32fast`). The prelude CRC is checked before the
//! lengths are trusted, so a corrupted length is reported as such instead of making us wait
//! for (or allocate) a frame that never comes.
//!
//! A header is: name length u8, name, value type u8, value. Value types: 0 true and 1 false
//! (no bytes), 2 byte (1), 3 short (2), 4 int (4), 5 long (8), 6 byte array (u16 length +
//! bytes), 7 string (u16 length + UTF-8), 8 timestamp (8, epoch ms), 9 UUID (16). Bedrock's
//! headers (`:message-type`, `:event-type`, `:exception-type`, `:content-type`) are strings,
//! so [`Message`] keeps the string headers and skips the others.
//!
//! Pure code: no I/O, the caller [`Decoder::push`]es bytes as they arrive.

use std::fmt;

/// Bytes before the headers: total length, headers length, prelude CRC.
const PRELUDE_LEN: usize = 12;
/// Prelude plus the trailing message CRC: the size of a frame with no headers and no payload.
const MIN_FRAME_LEN: usize = PRELUDE_LEN + 4;
/// Upper bound (exclusive) on a frame's total length. AWS caps messages at 16 MiB
/// (aws-c-event-stream's `AWS_EVENT_STREAM_MAX_MESSAGE_SIZE`); a larger declared length is
/// corruption, and rejecting it keeps a bad prelude from making us buffer without limit.
const MAX_FRAME_LEN: usize = 16 * 1024 * 1024;

/// One decoded message.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The string-typed headers (type 7), in frame order; headers of other types are skipped.
    pub headers: Vec<(String, String)>,
    /// The payload bytes (JSON for Bedrock).
    pub payload: Vec<u8>,
}

impl Message {
    /// The value of the first string header called `name` (exact, case-sensitive match:
    /// event-stream header names are bytes, e.g. ":event-type").
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a frame could not be decoded. Any of these means the stream is corrupt: frames carry
/// no resynchronisation marker, so nothing after the bad frame can be trusted.
#[derive(Debug, Clone, PartialEq)]
pub enum FrameError {
    /// The CRC-32 of the first 8 bytes does not match the prelude CRC.
    PreludeCrc {
        /// The CRC the frame carries.
        expected: u32,
        /// The CRC of the bytes received.
        actual: u32,
    },
    /// The CRC-32 of the frame (all bytes before the last 4) does not match the message CRC.
    MessageCrc {
        /// The CRC the frame carries.
        expected: u32,
        /// The CRC of the bytes received.
        actual: u32,
    },
    /// The declared lengths are impossible (too small, too large, headers beyond the frame).
    Length(String),
    /// The header block is malformed (truncated, unknown value type, invalid UTF-8).
    Header(String),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::PreludeCrc { expected, actual } => write!(
                f,
                "event-stream frame: prelude CRC mismatch (expected {expected:#010x}, got {actual:#010x})"
            ),
            FrameError::MessageCrc { expected, actual } => write!(
                f,
                "event-stream frame: message CRC mismatch (expected {expected:#010x}, got {actual:#010x})"
            ),
            FrameError::Length(why) => write!(f, "event-stream frame: bad length: {why}"),
            FrameError::Header(why) => write!(f, "event-stream frame: bad header: {why}"),
        }
    }
}

impl std::error::Error for FrameError {}

/// Incremental decoder: feed bytes as they arrive (split anywhere, one byte at a time works),
/// take whole messages out with [`Decoder::next_message`].
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    /// Set by the first corrupt frame; every later call returns it again, because the frame
    /// boundaries after a corrupt frame are unknown.
    failed: Option<FrameError>,
}

impl Decoder {
    /// A decoder with nothing buffered (same as `Decoder::default()`).
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends received bytes. Ignored once the decoder has failed.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.failed.is_none() {
            self.buf.extend_from_slice(bytes);
        }
    }

    /// The next complete message, `Ok(None)` when more bytes are needed, `Err` on a corrupt
    /// frame (after an `Err` the decoder stays failed: further calls return the same error).
    pub fn next_message(&mut self) -> Result<Option<Message>, FrameError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        match decode_frame(&self.buf) {
            Ok(None) => Ok(None),
            Ok(Some((message, used))) => {
                self.buf.drain(..used);
                Ok(Some(message))
            }
            Err(err) => {
                self.buf = Vec::new();
                self.failed = Some(err.clone());
                Err(err)
            }
        }
    }

    /// Bytes buffered that do not yet form a whole frame (a stream that ends with these was
    /// cut). Call after [`Decoder::next_message`] has returned `Ok(None)`.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

/// Decodes the frame at the start of `buf`: `Ok(None)` if it is not complete yet, else the
/// message and the number of bytes it used.
fn decode_frame(buf: &[u8]) -> Result<Option<(Message, usize)>, FrameError> {
    let Some(prelude) = buf.get(..PRELUDE_LEN) else {
        return Ok(None);
    };
    let total = be_u32(&prelude[0..4]);
    let headers_len = be_u32(&prelude[4..8]);
    let prelude_crc = be_u32(&prelude[8..12]);
    let actual = crc32fast::hash(&prelude[..8]);
    if actual != prelude_crc {
        return Err(FrameError::PreludeCrc {
            expected: prelude_crc,
            actual,
        });
    }
    let total = usize::try_from(total).unwrap_or(usize::MAX);
    let headers_len = usize::try_from(headers_len).unwrap_or(usize::MAX);
    if total < MIN_FRAME_LEN {
        return Err(FrameError::Length(format!(
            "total length {total} is below the {MIN_FRAME_LEN}-byte minimum"
        )));
    }
    if total >= MAX_FRAME_LEN {
        return Err(FrameError::Length(format!(
            "total length {total} is not below the {MAX_FRAME_LEN}-byte limit"
        )));
    }
    if headers_len > total - MIN_FRAME_LEN {
        return Err(FrameError::Length(format!(
            "headers length {headers_len} does not fit in a {total}-byte frame"
        )));
    }
    let Some(frame) = buf.get(..total) else {
        return Ok(None);
    };
    let (body, crc) = frame.split_at(total - 4);
    let message_crc = be_u32(crc);
    let actual = crc32fast::hash(body);
    if actual != message_crc {
        return Err(FrameError::MessageCrc {
            expected: message_crc,
            actual,
        });
    }
    let (header_bytes, payload) = body[PRELUDE_LEN..].split_at(headers_len);
    let headers = parse_headers(header_bytes)?;
    Ok(Some((
        Message {
            headers,
            payload: payload.to_vec(),
        },
        total,
    )))
}

/// Parses the header block, keeping string headers and skipping the other value types.
fn parse_headers(mut rest: &[u8]) -> Result<Vec<(String, String)>, FrameError> {
    let mut headers = Vec::new();
    while let Some((&name_len, after)) = rest.split_first() {
        let (name, after) = take(after, usize::from(name_len), "header name")?;
        let name = std::str::from_utf8(name)
            .map_err(|_| FrameError::Header("header name is not UTF-8".to_string()))?;
        let (&value_type, after) = after.split_first().ok_or_else(|| {
            FrameError::Header(format!("header {name:?} is cut before its value type"))
        })?;
        rest = match value_type {
            // bool true, bool false: the type is the value.
            0 | 1 => after,
            2 => take(after, 1, name)?.1,
            3 => take(after, 2, name)?.1,
            4 => take(after, 4, name)?.1,
            5 | 8 => take(after, 8, name)?.1,
            9 => take(after, 16, name)?.1,
            6 | 7 => {
                let (len, after) = take(after, 2, name)?;
                let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
                let (value, after) = take(after, len, name)?;
                if value_type == 7 {
                    let value = std::str::from_utf8(value).map_err(|_| {
                        FrameError::Header(format!("header {name:?}: string value is not UTF-8"))
                    })?;
                    headers.push((name.to_string(), value.to_string()));
                }
                after
            }
            other => {
                return Err(FrameError::Header(format!(
                    "header {name:?} has unknown value type {other}"
                )))
            }
        };
    }
    Ok(headers)
}

/// Splits `n` bytes off the front of `bytes`, or says which header was cut short.
fn take<'a>(bytes: &'a [u8], n: usize, what: &str) -> Result<(&'a [u8], &'a [u8]), FrameError> {
    if bytes.len() < n {
        return Err(FrameError::Header(format!(
            "{what:?} needs {n} bytes, only {} left in the header block",
            bytes.len()
        )));
    }
    Ok(bytes.split_at(n))
}

/// Reads a big-endian u32 from a 4-byte slice (callers always pass exactly 4 bytes).
fn be_u32(b: &[u8]) -> u32 {
    b.iter().fold(0, |acc, &x| acc << 8 | u32::from(x))
}

/// Encodes a message with string headers (used by tests and documentation examples).
///
/// ```
/// use llmscope_probes::aws::eventstream::{encode, Decoder};
/// let mut d = Decoder::default();
/// d.push(&encode(&[(":event-type", "messageStop")], br#"{"stopReason":"end_turn"}"#));
/// let m = d.next_message().unwrap().unwrap();
/// assert_eq!(m.header(":event-type"), Some("messageStop"));
/// ```
///
/// The format cannot carry a name over 255 bytes or a value over 65535 bytes, so longer ones
/// are cut at the last UTF-8 character boundary that fits; a message too big for the 16 MiB
/// limit encodes to a frame the decoder rejects.
pub fn encode(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut header_bytes = Vec::new();
    for (name, value) in headers {
        let name = truncate(name, usize::from(u8::MAX));
        let value = truncate(value, usize::from(u16::MAX));
        header_bytes.push(u8::try_from(name.len()).unwrap_or(u8::MAX));
        header_bytes.extend_from_slice(name.as_bytes());
        header_bytes.push(7);
        header_bytes
            .extend_from_slice(&u16::try_from(value.len()).unwrap_or(u16::MAX).to_be_bytes());
        header_bytes.extend_from_slice(value.as_bytes());
    }
    let total = MIN_FRAME_LEN + header_bytes.len() + payload.len();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&u32::try_from(total).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(
        &u32::try_from(header_bytes.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    let prelude_crc = crc32fast::hash(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&header_bytes);
    out.extend_from_slice(payload);
    let message_crc = crc32fast::hash(&out);
    out.extend_from_slice(&message_crc.to_be_bytes());
    out
}

/// `s` cut to at most `max` bytes, at a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(bytes: &[u8]) -> Vec<Message> {
        let mut d = Decoder::default();
        d.push(bytes);
        let mut out = Vec::new();
        while let Some(m) = d.next_message().expect("valid frames") {
            out.push(m);
        }
        assert_eq!(d.pending(), 0, "no bytes left over");
        out
    }

    /// aws-c-event-stream tests/message_deserializer_test.c, `test_outgoing_no_op_valid`:
    /// the empty message (prelude CRC 0x05c248eb, message CRC 0x7d98c8ff).
    #[test]
    fn published_vector_empty_message() {
        let bytes = [
            0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x05, 0xc2, 0x48, 0xeb, 0x7d, 0x98,
            0xc8, 0xff,
        ];
        assert_eq!(encode(&[], b""), bytes);
        let m = decode_all(&bytes);
        assert_eq!(
            m,
            [Message {
                headers: vec![],
                payload: vec![]
            }]
        );
    }

    /// aws-c-event-stream `test_outgoing_application_data_no_headers_valid`: payload
    /// "{'foo':'bar'}", no headers.
    #[test]
    fn published_vector_payload_no_headers() {
        let bytes = [
            0x00, 0x00, 0x00, 0x1D, 0x00, 0x00, 0x00, 0x00, 0xfd, 0x52, 0x8c, 0x5a, 0x7b, 0x27,
            0x66, 0x6f, 0x6f, 0x27, 0x3a, 0x27, 0x62, 0x61, 0x72, 0x27, 0x7d, 0xc3, 0x65, 0x39,
            0x36,
        ];
        assert_eq!(encode(&[], b"{'foo':'bar'}"), bytes);
        let m = decode_all(&bytes);
        assert_eq!(m.len(), 1);
        assert!(m[0].headers.is_empty());
        assert_eq!(m[0].payload, b"{'foo':'bar'}");
    }

    /// aws-c-event-stream `test_outgoing_application_one_compressed_header_pair_valid`: one
    /// string header content-type: application/json and payload "{'foo':'bar'}".
    #[test]
    fn published_vector_one_string_header() {
        let mut bytes = vec![
            0x00, 0x00, 0x00, 0x3D, 0x00, 0x00, 0x00, 0x20, 0x07, 0xFD, 0x83, 0x96,
        ];
        bytes.push(0x0C);
        bytes.extend_from_slice(b"content-type");
        bytes.extend_from_slice(&[0x07, 0x00, 0x10]);
        bytes.extend_from_slice(b"application/json");
        bytes.extend_from_slice(b"{'foo':'bar'}");
        bytes.extend_from_slice(&[0x8D, 0x9C, 0x08, 0xB1]);
        assert_eq!(bytes.len(), 0x3D);
        assert_eq!(
            encode(&[("content-type", "application/json")], b"{'foo':'bar'}"),
            bytes
        );
        let m = decode_all(&bytes);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].header("content-type"), Some("application/json"));
        assert_eq!(m[0].payload, b"{'foo':'bar'}");
    }

    fn bedrock_frame() -> Vec<u8> {
        encode(
            &[
                (":event-type", "contentBlockDelta"),
                (":content-type", "application/json"),
                (":message-type", "event"),
            ],
            br#"{"contentBlockIndex":0,"delta":{"text":"Hi"},"p":"abcd"}"#,
        )
    }

    #[test]
    fn round_trip() {
        let m = decode_all(&bedrock_frame());
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].header(":event-type"), Some("contentBlockDelta"));
        assert_eq!(m[0].header(":message-type"), Some("event"));
        assert_eq!(m[0].header(":content-type"), Some("application/json"));
        assert_eq!(m[0].header("missing"), None);
        assert_eq!(m[0].headers.len(), 3);
        assert_eq!(
            m[0].payload,
            br#"{"contentBlockIndex":0,"delta":{"text":"Hi"},"p":"abcd"}"#
        );
    }

    #[test]
    fn byte_by_byte_feeding() {
        let mut stream = bedrock_frame();
        stream.extend(encode(&[(":event-type", "messageStop")], b"{}"));
        let mut d = Decoder::new();
        let mut got = Vec::new();
        for (i, b) in stream.iter().enumerate() {
            d.push(std::slice::from_ref(b));
            while let Some(m) = d.next_message().expect("valid") {
                got.push((i, m));
            }
        }
        assert_eq!(got.len(), 2);
        // Each message comes out exactly when its last byte arrives.
        assert_eq!(got[0].0, bedrock_frame().len() - 1);
        assert_eq!(got[1].0, stream.len() - 1);
        assert_eq!(got[1].1.header(":event-type"), Some("messageStop"));
        assert_eq!(d.pending(), 0);
    }

    #[test]
    fn two_frames_in_one_push_and_a_cut_tail() {
        let a = encode(&[("n", "1")], b"one");
        let b = encode(&[("n", "2")], b"two");
        let mut d = Decoder::default();
        let mut bytes = [a.clone(), b.clone()].concat();
        bytes.extend_from_slice(&a[..5]);
        d.push(&bytes);
        assert_eq!(d.next_message().unwrap().unwrap().payload, b"one");
        assert_eq!(d.next_message().unwrap().unwrap().header("n"), Some("2"));
        assert_eq!(d.next_message(), Ok(None));
        assert_eq!(d.pending(), 5);
    }

    #[test]
    fn flipped_payload_bit_is_a_message_crc_error() {
        let mut bytes = bedrock_frame();
        let i = bytes.len() - 6;
        bytes[i] ^= 0x01;
        let mut d = Decoder::default();
        d.push(&bytes);
        let err = d.next_message().unwrap_err();
        assert!(matches!(err, FrameError::MessageCrc { .. }), "{err:?}");
        assert!(err.to_string().contains("message CRC mismatch"), "{err}");
        // The decoder stays failed, even when valid bytes follow.
        d.push(&bedrock_frame());
        assert_eq!(d.next_message(), Err(err.clone()));
        assert_eq!(d.next_message(), Err(err));
    }

    #[test]
    fn flipped_length_byte_is_a_prelude_crc_error() {
        for i in 0..8 {
            let mut bytes = bedrock_frame();
            bytes[i] ^= 0x80;
            let mut d = Decoder::default();
            d.push(&bytes);
            let err = d.next_message().unwrap_err();
            assert!(
                matches!(err, FrameError::PreludeCrc { .. }),
                "byte {i}: {err:?}"
            );
            assert!(err.to_string().contains("prelude CRC mismatch"), "{err}");
        }
    }

    /// A prelude with a valid CRC around impossible lengths.
    fn prelude(total: u32, headers_len: u32) -> Vec<u8> {
        let mut p = total.to_be_bytes().to_vec();
        p.extend_from_slice(&headers_len.to_be_bytes());
        let crc = crc32fast::hash(&p);
        p.extend_from_slice(&crc.to_be_bytes());
        p
    }

    #[test]
    fn impossible_lengths_are_length_errors() {
        for (total, headers_len) in [(15, 0), (16 * 1024 * 1024, 0), (u32::MAX, 0), (20, 5)] {
            let mut d = Decoder::default();
            d.push(&prelude(total, headers_len));
            let err = d.next_message().unwrap_err();
            assert!(
                matches!(err, FrameError::Length(_)),
                "{total}/{headers_len}: {err:?}"
            );
        }
        // headers length == total - 16 is the largest allowed (no payload).
        let mut d = Decoder::default();
        d.push(&prelude(20, 4));
        assert_eq!(d.next_message(), Ok(None));
    }

    /// Builds a frame by hand with every header value type, CRCs from crc32fast, and checks
    /// that the non-string values are skipped at their correct widths.
    #[test]
    fn hand_built_frame_with_every_header_type() {
        let mut h = Vec::new();
        let mut header = |name: &str, ty: u8, value: &[u8]| {
            h.push(name.len() as u8);
            h.extend_from_slice(name.as_bytes());
            h.push(ty);
            h.extend_from_slice(value);
        };
        header("t", 0, &[]);
        header("f", 1, &[]);
        header("byte", 2, &[0x07]);
        header("short", 3, &[0x00, 0x07]);
        header(":message-type", 7, b"\x00\x05event");
        header("int", 4, &[0, 0, 0, 7]);
        header("long", 5, &[0, 0, 0, 0, 0, 0, 0, 7]);
        header("bytes", 6, b"\x00\x03\x01\x02\x03");
        header("ts", 8, &[0, 0, 1, 0x8c, 0, 0, 0, 0]);
        header("uuid", 9, &[0xab; 16]);
        header(":event-type", 7, b"\x00\x0bmessageStop");
        let payload = br#"{"stopReason":"end_turn"}"#;

        let total = (16 + h.len() + payload.len()) as u32;
        let mut frame = Vec::new();
        frame.extend_from_slice(&total.to_be_bytes());
        frame.extend_from_slice(&(h.len() as u32).to_be_bytes());
        let crc = crc32fast::hash(&frame);
        frame.extend_from_slice(&crc.to_be_bytes());
        frame.extend_from_slice(&h);
        frame.extend_from_slice(payload);
        let crc = crc32fast::hash(&frame);
        frame.extend_from_slice(&crc.to_be_bytes());

        let m = decode_all(&frame);
        assert_eq!(
            m,
            [Message {
                headers: vec![
                    (":message-type".to_string(), "event".to_string()),
                    (":event-type".to_string(), "messageStop".to_string()),
                ],
                payload: payload.to_vec(),
            }]
        );
    }

    /// Frames with valid CRCs whose header block is malformed.
    #[test]
    fn malformed_headers_are_header_errors() {
        let cases: [&[u8]; 5] = [
            b"\x05ab",                    // name cut short
            b"\x01a",                     // no value type
            b"\x01a\x0a",                 // unknown value type 10
            b"\x01a\x07\x00\x09abc",      // string value cut short
            b"\x01a\x07\x00\x02\xff\xfe", // string value not UTF-8
        ];
        for h in cases {
            let total = (16 + h.len()) as u32;
            let mut frame = prelude(total, h.len() as u32);
            frame.extend_from_slice(h);
            let crc = crc32fast::hash(&frame);
            frame.extend_from_slice(&crc.to_be_bytes());
            let mut d = Decoder::default();
            d.push(&frame);
            let err = d.next_message().unwrap_err();
            assert!(matches!(err, FrameError::Header(_)), "{h:?}: {err:?}");
        }
    }

    #[test]
    fn encode_truncates_oversized_names_and_values() {
        let long_name = "é".repeat(200); // 400 bytes
        let long_value = "x".repeat(70_000);
        let m = decode_all(&encode(&[(&long_name, &long_value)], b""));
        assert_eq!(m[0].headers[0].0, "é".repeat(127));
        assert_eq!(m[0].headers[0].1.len(), 65_535);
    }
}
