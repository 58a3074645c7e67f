//! Turns one OPC-UA `DataValue` from a data-change notification into a reading, or says why it
//! is not one. Kept apart from the session code so that the rules (which types count as numbers,
//! which timestamp wins, what a bad status means) are plain functions with their own tests.
//!
//! Rules: Double, Float, every integer type, and Boolean (as 0 or 1) are numbers; NaN and
//! infinities are not. A bad status code is reported as such, whatever the value; an uncertain
//! status still gives a reading (OPC-UA allows using such values with care). The time is the
//! source timestamp, else the server timestamp, else the time of arrival.

use ::opcua::types::{DataValue, DateTime, StatusCode, Variant};

/// What a data change means for its stream.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Decoded {
    /// A number at Unix epoch ms `t`.
    Reading { t: i64, value: f64 },
    /// A value that is not a number; says what it is.
    NotANumber(String),
    /// The server says the value is bad: the status code's name.
    BadStatus(String),
}

/// Decodes a data change; `now` is used when the value carries no timestamp.
pub(super) fn decode(dv: &DataValue, now: i64) -> Decoded {
    let status = dv.status.unwrap_or(StatusCode::Good);
    if status.is_bad() {
        return Decoded::BadStatus(status.to_string());
    }
    let Some(v) = dv.value.as_ref() else {
        return Decoded::NotANumber("no value".into());
    };
    match number(v) {
        Ok(value) if value.is_finite() => Decoded::Reading {
            t: timestamp(dv, now),
            value,
        },
        Ok(value) => Decoded::NotANumber(format!("{value} is not a finite number")),
        Err(what) => Decoded::NotANumber(what.to_string()),
    }
}

/// What a value is instead of a number.
#[derive(Debug, thiserror::Error)]
enum NotNumber {
    /// A Variant with nothing in it.
    #[error("empty value")]
    Empty,
    /// Text, shown cut to 40 characters.
    #[error("String value \"{0}\" is not a number")]
    Text(String),
    /// Another type, by its name.
    #[error("{0} value is not a number")]
    Type(&'static str),
}

/// The value as a number, or what it is instead.
fn number(v: &Variant) -> Result<f64, NotNumber> {
    Ok(match v {
        Variant::Boolean(b) => f64::from(u8::from(*b)),
        Variant::SByte(x) => f64::from(*x),
        Variant::Byte(x) => f64::from(*x),
        Variant::Int16(x) => f64::from(*x),
        Variant::UInt16(x) => f64::from(*x),
        Variant::Int32(x) => f64::from(*x),
        Variant::UInt32(x) => f64::from(*x),
        // Beyond 2^53 the nearest double; SPC has no use for more digits.
        Variant::Int64(x) => *x as f64,
        Variant::UInt64(x) => *x as f64,
        Variant::Float(x) => f64::from(*x),
        Variant::Double(x) => *x,
        Variant::Empty => return Err(NotNumber::Empty),
        Variant::String(s) => return Err(NotNumber::Text(s.as_ref().chars().take(40).collect())),
        other => return Err(NotNumber::Type(kind(other))),
    })
}

/// The type name of a non-numeric variant, for messages.
fn kind(v: &Variant) -> &'static str {
    match v {
        Variant::DateTime(_) => "DateTime",
        Variant::Guid(_) => "Guid",
        Variant::StatusCode(_) => "StatusCode",
        Variant::ByteString(_) => "ByteString",
        Variant::XmlElement(_) => "XmlElement",
        Variant::QualifiedName(_) => "QualifiedName",
        Variant::LocalizedText(_) => "LocalizedText",
        Variant::NodeId(_) => "NodeId",
        Variant::ExpandedNodeId(_) => "ExpandedNodeId",
        Variant::ExtensionObject(_) => "ExtensionObject (structure)",
        Variant::Variant(_) => "nested Variant",
        Variant::DataValue(_) => "DataValue",
        Variant::DiagnosticInfo(_) => "DiagnosticInfo",
        Variant::Array(_) => "Array",
        _ => "non-numeric",
    }
}

/// Source timestamp, else server timestamp, else `now`, as Unix epoch ms.
fn timestamp(dv: &DataValue, now: i64) -> i64 {
    let ms = |d: &Option<DateTime>| {
        d.as_ref()
            .filter(|d| !d.is_null())
            .map(|d| d.as_chrono().timestamp_millis())
    };
    ms(&dv.source_timestamp)
        .or_else(|| ms(&dv.server_timestamp))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dv(value: Variant) -> DataValue {
        DataValue {
            value: Some(value),
            ..Default::default()
        }
    }

    #[test]
    fn numbers() {
        let now = 1_700_000_000_000;
        let cases = [
            (Variant::Double(10.25), 10.25),
            (Variant::Float(1.5), 1.5),
            (Variant::SByte(-3), -3.0),
            (Variant::Byte(200), 200.0),
            (Variant::Int16(-300), -300.0),
            (Variant::UInt16(60000), 60000.0),
            (Variant::Int32(-70000), -70000.0),
            (Variant::UInt32(4_000_000_000), 4e9),
            (Variant::Int64(-5), -5.0),
            (Variant::UInt64(7), 7.0),
            (Variant::Boolean(true), 1.0),
            (Variant::Boolean(false), 0.0),
        ];
        for (v, want) in cases {
            assert_eq!(
                decode(&dv(v.clone()), now),
                Decoded::Reading {
                    t: now,
                    value: want
                },
                "{v:?}"
            );
        }
    }

    #[test]
    fn not_numbers() {
        for v in [
            Variant::String("batch-7".into()),
            Variant::Empty,
            Variant::Double(f64::NAN),
            Variant::Float(f32::INFINITY),
            Variant::DateTime(Box::new(DateTime::now())),
            Variant::from(vec![1.0f64, 2.0]),
        ] {
            assert!(
                matches!(decode(&dv(v.clone()), 0), Decoded::NotANumber(_)),
                "{v:?}"
            );
        }
        let missing = DataValue {
            value: None,
            ..Default::default()
        };
        assert!(matches!(decode(&missing, 0), Decoded::NotANumber(_)));
        let said = |v: Variant| match decode(&dv(v), 0) {
            Decoded::NotANumber(what) => what,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            said(Variant::String("batch-7".into())),
            "String value \"batch-7\" is not a number"
        );
        assert_eq!(said(Variant::Empty), "empty value");
        assert_eq!(
            said(Variant::from(vec![1.0f64, 2.0])),
            "Array value is not a number"
        );
    }

    #[test]
    fn bad_status_wins() {
        let mut v = dv(Variant::Double(1.0));
        v.status = Some(StatusCode::BadSensorFailure);
        assert_eq!(decode(&v, 0), Decoded::BadStatus("BadSensorFailure".into()));
        v.status = Some(StatusCode::UncertainLastUsableValue);
        assert!(matches!(decode(&v, 0), Decoded::Reading { value, .. } if value == 1.0));
    }

    #[test]
    fn timestamps() {
        let source = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.678Z").unwrap();
        let server = DateTime::parse_from_rfc3339("2026-01-02T03:04:06Z").unwrap();
        let mut v = dv(Variant::Int32(1));
        v.server_timestamp = Some(server);
        assert!(matches!(
            decode(&v, 0),
            Decoded::Reading {
                t: 1_767_323_046_000,
                ..
            }
        ));
        v.source_timestamp = Some(source);
        assert!(matches!(
            decode(&v, 0),
            Decoded::Reading {
                t: 1_767_323_045_678,
                ..
            }
        ));
        v.source_timestamp = Some(DateTime::null());
        v.server_timestamp = None;
        assert!(matches!(decode(&v, 42), Decoded::Reading { t: 42, .. }));
    }
}
