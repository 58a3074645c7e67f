//! Reading a value (and optionally a timestamp) out of an MQTT payload: a plain number as text,
//! or JSON with a JSON pointer (RFC 6901) to the value and one to the time. Every way a payload
//! can be unusable becomes a one-line message that quotes the payload, so the operator can see
//! what the device sent; the caller reports it as `malformed` and carries on.
//!
//! Timestamps are Unix epoch milliseconds (a JSON number or numeric string) or RFC 3339 text
//! (`2025-11-27T00:00:00.123Z`, `...+01:00`). Numbers outside the years 2000 to 2100 are rejected
//! rather than guessed at, because a value in seconds or microseconds read as milliseconds would
//! silently put every sample in the wrong decade.

use serde_json::Value;

/// Why a payload gave no reading; the subscription reports it as `malformed` with its topic.
/// Payloads are quoted shortened (at most 60 characters).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PayloadError {
    /// Not text.
    #[error("payload is not UTF-8 text ({bytes} bytes)")]
    NotUtf8 {
        /// The payload's length.
        bytes: usize,
    },
    /// Not JSON, where `value` names a pointer.
    #[error("payload '{payload}' is not JSON: {cause}")]
    NotJson {
        /// The payload.
        payload: String,
        /// serde_json's words, with line and column.
        cause: String,
    },
    /// The document lacks a configured pointer.
    #[error("payload '{document}' has no {pointer}")]
    Missing {
        /// The document.
        document: String,
        /// The pointer.
        pointer: String,
    },
    /// Text that should be a number (the whole payload, or a string at a pointer).
    #[error("{subject} '{text}' {why}")]
    Text {
        /// `payload`, or the pointer.
        subject: String,
        /// The text.
        text: String,
        /// Why it is not a number.
        why: NotNumber,
    },
    /// A JSON number beyond f64.
    #[error("{pointer} is {number}, not a finite number")]
    Infinite {
        /// The pointer.
        pointer: String,
        /// The number as written.
        number: String,
    },
    /// A JSON value of another type (true, an object...).
    #[error("{pointer} is {value}, not a number")]
    Type {
        /// The pointer.
        pointer: String,
        /// The value.
        value: String,
    },
    /// The value at the `time` pointer is no usable timestamp.
    #[error("{pointer} {why}")]
    Time {
        /// The pointer.
        pointer: String,
        /// What is wrong with it.
        why: TimeError,
    },
}

/// Why text is not a number.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
pub enum NotNumber {
    /// Not a number at all.
    #[error("is not a number")]
    Text,
    /// NaN or an infinity.
    #[error("is not a finite number")]
    Infinite,
}

/// Why a value is not a timestamp of the years 2000 to 2100.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TimeError {
    /// Text that is neither a number nor RFC 3339.
    #[error("'{0}' is neither epoch milliseconds nor an RFC 3339 time")]
    Text(String),
    /// A JSON value of another type.
    #[error("is {0}, not epoch milliseconds or an RFC 3339 time")]
    Type(String),
    /// NaN, an infinity, or a number beyond f64.
    #[error("is {0}, not a finite number")]
    Infinite(String),
    /// Before 2000: `seconds` when it would fit as seconds.
    #[error(
        "{ms} is before the year 2000 as epoch milliseconds{}",
        if *seconds { " (it looks like seconds: send milliseconds)" } else { "" }
    )]
    Before2000 {
        /// The value, rounded to whole milliseconds.
        ms: i64,
        /// Read as seconds it would be a plausible time.
        seconds: bool,
    },
    /// From 2100 on.
    #[error(
        "{0} is after the year 2100 as epoch milliseconds (it looks like micro- or \
         nanoseconds: send milliseconds)"
    )]
    After2100(i64),
}

/// Why a `value` or `time` key is not a JSON pointer.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PointerError {
    /// It does not start with `/`.
    #[error("'{0}' is not a JSON pointer: it must start with '/', e.g. /rms or /data/0/value")]
    NoSlash(String),
    /// A `~` not followed by 0 or 1.
    #[error("'{0}': '~' must be written ~0 and '/' inside a key ~1 (RFC 6901)")]
    Tilde(String),
}

/// A received payload, parsed as JSON at most once however many subscriptions read it.
pub struct Payload<'a> {
    raw: &'a [u8],
    json: Option<Result<Value, PayloadError>>,
}

/// Epoch ms of 2000-01-01 and 2100-01-01: the plausible range for numeric timestamps.
const MS_2000: i64 = 946_684_800_000;
const MS_2100: i64 = 4_102_444_800_000;

impl<'a> Payload<'a> {
    /// Wraps the raw bytes.
    pub fn new(raw: &'a [u8]) -> Payload<'a> {
        Payload { raw, json: None }
    }

    fn json(&mut self) -> Result<&Value, PayloadError> {
        let raw = self.raw;
        let parsed = self.json.get_or_insert_with(|| {
            text(raw).and_then(|t| {
                serde_json::from_str(t).map_err(|e| PayloadError::NotJson {
                    payload: quote(t),
                    cause: e.to_string(),
                })
            })
        });
        parsed.as_ref().map_err(Clone::clone)
    }

    /// The value (at pointer `value`, or the whole payload as a plain number) and the timestamp
    /// at pointer `time` if one is configured.
    pub fn read(
        &mut self,
        value: Option<&str>,
        time: Option<&str>,
    ) -> Result<(f64, Option<i64>), PayloadError> {
        let Some(pointer) = value else {
            let text = text(self.raw)?;
            return number_text(text.trim())
                .map(|v| (v, None))
                .map_err(|why| PayloadError::Text {
                    subject: "payload".into(),
                    text: quote(text),
                    why,
                });
        };
        let doc = self.json()?;
        let v = at(doc, pointer)?;
        let v = match v {
            Value::Number(n) => {
                n.as_f64()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| PayloadError::Infinite {
                        pointer: pointer.into(),
                        number: n.to_string(),
                    })?
            }
            Value::String(s) => number_text(s.trim()).map_err(|why| PayloadError::Text {
                subject: pointer.into(),
                text: quote(s),
                why,
            })?,
            other => {
                return Err(PayloadError::Type {
                    pointer: pointer.into(),
                    value: quote(&other.to_string()),
                })
            }
        };
        let t = match time {
            Some(pointer) => {
                Some(
                    timestamp(at(doc, pointer)?).map_err(|why| PayloadError::Time {
                        pointer: pointer.into(),
                        why,
                    })?,
                )
            }
            None => None,
        };
        Ok((v, t))
    }
}

/// The payload as text.
fn text(raw: &[u8]) -> Result<&str, PayloadError> {
    std::str::from_utf8(raw).map_err(|_| PayloadError::NotUtf8 { bytes: raw.len() })
}

/// The value at `pointer`, or an error that names the pointer and shows the document.
fn at<'v>(doc: &'v Value, pointer: &str) -> Result<&'v Value, PayloadError> {
    doc.pointer(pointer).ok_or_else(|| PayloadError::Missing {
        document: quote(&doc.to_string()),
        pointer: pointer.into(),
    })
}

/// A number written as text: finite, nothing else around it.
fn number_text(text: &str) -> Result<f64, NotNumber> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(NotNumber::Infinite),
        Err(_) => Err(NotNumber::Text),
    }
}

/// A timestamp value as Unix epoch milliseconds.
fn timestamp(v: &Value) -> Result<i64, TimeError> {
    let ms = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.trim().parse::<f64>() {
            Ok(x) => Some(x),
            Err(_) => return rfc3339_ms(s.trim()).ok_or_else(|| TimeError::Text(quote(s))),
        },
        other => return Err(TimeError::Type(quote(&other.to_string()))),
    };
    let ms = ms
        .filter(|x| x.is_finite())
        .ok_or_else(|| TimeError::Infinite(v.to_string()))?;
    let ms = ms.round() as i64;
    if ms < MS_2000 {
        return Err(TimeError::Before2000 {
            ms,
            seconds: ms >= MS_2000 / 1000,
        });
    }
    if ms >= MS_2100 {
        return Err(TimeError::After2100(ms));
    }
    Ok(ms)
}

/// At most 60 characters of a payload, for messages.
fn quote(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// Checks a JSON pointer (RFC 6901): empty or starting with `/`, `~` only as `~0` or `~1`.
pub fn check_pointer(pointer: &str) -> Result<(), PointerError> {
    if !pointer.starts_with('/') {
        return Err(PointerError::NoSlash(pointer.into()));
    }
    let mut chars = pointer.chars();
    while let Some(c) = chars.next() {
        if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
            return Err(PointerError::Tilde(pointer.into()));
        }
    }
    Ok(())
}

/// Parses RFC 3339 date-time text (`YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`; `t`, `z` and a space
/// for `T` are accepted) into Unix epoch milliseconds. Fractions beyond milliseconds are cut; a
/// leap second (`:60`) counts as `:59.999`.
pub fn rfc3339_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        part.iter().all(u8::is_ascii_digit).then(|| {
            part.iter()
                .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0'))
        })
    };
    let sep = |at: usize, allowed: &[u8]| b.get(at).is_some_and(|c| allowed.contains(c));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, mut second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut millis = 0;
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
        let digits = &s[start..i.min(start + 3)];
        millis = digits.parse::<i64>().ok()? * 10i64.pow(3 - digits.len() as u32);
    }
    if second == 60 {
        second = 59;
        millis = 999;
    }
    let offset_min = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && sep(i + 3, b":") => {
            let (oh, om) = (num(i + 1, 2)?, num(i + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let m = oh * 60 + om;
            if *sign == b'-' {
                -m
            } else {
                m
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_min * 60;
    Some(secs * 1000 + millis)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant, "chrono-compatible
/// low-level date algorithms", `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(
        raw: &[u8],
        value: Option<&str>,
        time: Option<&str>,
    ) -> Result<(f64, Option<i64>), String> {
        Payload::new(raw)
            .read(value, time)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn plain_numbers() {
        assert_eq!(read(b" 42.5\n", None, None), Ok((42.5, None)));
        assert_eq!(read(b"-1e3", None, None), Ok((-1000.0, None)));
        assert_eq!(
            read(b"abc", None, None).unwrap_err(),
            "payload 'abc' is not a number"
        );
        assert_eq!(
            read(b"NaN", None, None).unwrap_err(),
            "payload 'NaN' is not a finite number"
        );
        assert_eq!(
            read(b"", None, None).unwrap_err(),
            "payload '' is not a number"
        );
        assert_eq!(
            read(&[0xff, 0xfe], None, None).unwrap_err(),
            "payload is not UTF-8 text (2 bytes)"
        );
    }

    #[test]
    fn json_values_and_times() {
        let doc = br#"{"rms": 1.5, "s": " 7 ", "ts": 1764201600123, "iso": "2025-11-27T00:00:00.123Z", "b": true, "a": [3]}"#;
        assert_eq!(read(doc, Some("/rms"), None), Ok((1.5, None)));
        assert_eq!(
            read(doc, Some("/s"), Some("/ts")),
            Ok((7.0, Some(1_764_201_600_123)))
        );
        assert_eq!(
            read(doc, Some("/a/0"), Some("/iso")),
            Ok((3.0, Some(1_764_201_600_123)))
        );
        assert!(read(doc, Some("/b"), None)
            .unwrap_err()
            .contains("/b is true, not a number"));
        assert!(read(doc, Some("/nope"), None)
            .unwrap_err()
            .contains("has no /nope"));
        assert!(read(doc, Some("/rms"), Some("/nope"))
            .unwrap_err()
            .contains("has no /nope"));
        assert!(read(b"{bad", Some("/rms"), None)
            .unwrap_err()
            .starts_with("payload '{bad' is not JSON"));
        assert_eq!(
            read(br#"{"t": 1764201600}"#, Some("/t"), Some("/t")).unwrap_err(),
            "/t 1764201600 is before the year 2000 as epoch milliseconds (it looks like seconds: \
             send milliseconds)"
        );
        assert_eq!(
            read(br#"{"v": 1, "t": [1]}"#, Some("/v"), Some("/t")).unwrap_err(),
            "/t is [1], not epoch milliseconds or an RFC 3339 time"
        );
        assert!(read(br#"{"t": 1764201600000000}"#, Some("/t"), Some("/t"))
            .unwrap_err()
            .contains("micro"));
        assert!(read(br#"{"t": "yesterday"}"#, Some("/t"), Some("/t")).is_err());
        assert_eq!(
            read(br#"{"v": 1, "t": "1764201600123"}"#, Some("/v"), Some("/t")),
            Ok((1.0, Some(1_764_201_600_123)))
        );
    }

    #[test]
    fn long_payloads_are_shortened_in_messages() {
        let long = "x".repeat(500);
        let e = read(long.as_bytes(), None, None).unwrap_err();
        assert!(e.len() < 100, "{e}");
    }

    #[test]
    fn pointers() {
        assert!(check_pointer("/rms").is_ok());
        assert!(check_pointer("/a~1b/~0c/0").is_ok());
        assert!(check_pointer("rms").is_err());
        assert!(check_pointer("").is_err());
        assert!(check_pointer("/a~2").is_err());
        assert!(check_pointer("/a~").is_err());
    }

    #[test]
    fn rfc3339() {
        assert_eq!(rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339_ms("2025-11-27T00:00:00Z"), Some(1_764_201_600_000));
        assert_eq!(
            rfc3339_ms("2025-11-27t01:00:00.5+01:00"),
            Some(1_764_201_600_500)
        );
        assert_eq!(
            rfc3339_ms("2025-11-26 23:00:00.123456-01:00"),
            Some(1_764_201_600_123)
        );
        assert_eq!(rfc3339_ms("2024-02-29T12:00:00Z"), Some(1_709_208_000_000));
        assert_eq!(rfc3339_ms("2016-12-31T23:59:60Z"), Some(1_483_228_799_999));
        for bad in [
            "2023-02-29T00:00:00Z",
            "2025-13-01T00:00:00Z",
            "2025-11-27T24:00:00Z",
            "2025-11-27T00:00:00",
            "2025-11-27T00:00:00.Z",
            "2025-11-27T00:00:00+0100",
            "2025-11-27",
            "2025-11-27T00:00:00Zjunk",
        ] {
            assert_eq!(rfc3339_ms(bad), None, "{bad}");
        }
    }
}
