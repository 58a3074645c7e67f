//! A target's quality check (`check` in `LLMSCOPE_TARGETS`): whether a probe's visible answer
//! is the known right one. Exactly one kind per target:
//!
//! - `{"exact": "4"}`: the answer, trimmed of white space at both ends, equals the string,
//!   case and inner spaces included.
//! - `{"regex": "\\b4\\b"}`: the pattern matches anywhere in the answer (not anchored: use
//!   `^` and `$` for that). The syntax is the `regex` crate's, as `regex-lite` implements it:
//!   no look-around or backreferences, and `\w`, `\d`, `\s`, `\b` and `(?i)` are ASCII-only.
//! - `{"json_pointer": "/answer", "equals": 4}`: the answer is read as JSON (the whole
//!   trimmed answer, else the first fenced code block, e.g. ```` ```json ... ``` ````), and
//!   the value at the pointer (RFC 6901) equals `equals`: numbers by value (4 equals 4.0),
//!   objects whatever their key order, everything else exactly. A missing pointer is not
//!   `null`.
//! - `{"number": 3.14, "tolerance": 0.01}`: the first number in the answer ([`first_number`])
//!   is within `number ± tolerance`, both ends included (up to binary rounding: 3.13 is
//!   within 3.14 ± 0.01).
//!
//! An answer that is not there (no number, not JSON) fails the check; it is never an error.
//! A probe that failed is not judged at all (`measure`): a failed call is an error, not a
//! wrong answer.

use regex_lite::{Regex, RegexBuilder};
use serde_json::{Map, Value};

/// The most of the answer's text kept for the check: the first 64 KiB (cut at a character
/// boundary); a longer answer is judged on its start.
pub const ANSWER_BYTES: usize = 64 * 1024;

/// The largest compiled pattern accepted: a regex search costs up to pattern size × answer
/// length, and a Workers Free invocation has 10 ms of CPU.
const REGEX_SIZE: usize = 256 * 1024;

/// The check's kinds, as the configuration names them.
const KINDS: &str = r#"exactly one of {"exact": "..."}, {"regex": "..."}, {"json_pointer": "/a/b", "equals": <JSON>} or {"number": <number>, "tolerance": <number>}"#;

/// A target's check, ready to judge answers.
#[derive(Clone, Debug)]
pub enum Check {
    /// The trimmed answer equals this.
    Exact(String),
    /// The pattern matches somewhere in the answer.
    Regex(Regex),
    /// The answer's JSON has `equals` at `pointer`.
    JsonPointer {
        /// An RFC 6901 pointer: empty (the whole value) or starting with `/`.
        pointer: String,
        /// The value it must have.
        equals: Value,
    },
    /// The answer's first number is within `number ± tolerance`.
    Number {
        /// The right number.
        number: f64,
        /// How far from it still passes (≥ 0).
        tolerance: f64,
    },
}

impl PartialEq for Check {
    fn eq(&self, other: &Check) -> bool {
        use Check::*;
        match (self, other) {
            (Exact(a), Exact(b)) => a == b,
            (Regex(a), Regex(b)) => a.as_str() == b.as_str(),
            (
                JsonPointer { pointer, equals },
                JsonPointer {
                    pointer: p,
                    equals: e,
                },
            ) => pointer == p && equals == e,
            (
                Number { number, tolerance },
                Number {
                    number: n,
                    tolerance: t,
                },
            ) => number == n && tolerance == t,
            _ => false,
        }
    }
}

/// What is wrong with a `check`: the key at fault (`check` itself when it is the shape) and
/// what would be right.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckError {
    /// `check`, or `check.<key>`.
    pub key: String,
    /// What is wrong, and what is expected.
    pub message: String,
}

impl CheckError {
    fn new(key: &str, message: impl Into<String>) -> CheckError {
        let key = if key.is_empty() {
            "check".to_string()
        } else {
            format!("check.{key}")
        };
        CheckError {
            key,
            message: message.into(),
        }
    }
}

impl Check {
    /// Reads a target's `check` value: one kind, its keys and nothing else.
    pub fn parse(value: &Value) -> Result<Check, CheckError> {
        let Value::Object(o) = value else {
            return Err(CheckError::new(
                "",
                format!("must be an object, {KINDS}; not {value}"),
            ));
        };
        let kinds: Vec<&str> = ["exact", "regex", "json_pointer", "number"]
            .into_iter()
            .filter(|k| o.contains_key(*k))
            .collect();
        let allowed: &[&str] = match kinds.as_slice() {
            [] => &[],
            ["json_pointer"] => &["json_pointer", "equals"],
            ["number"] => &["number", "tolerance"],
            [one] => std::slice::from_ref(one),
            several => {
                return Err(CheckError::new(
                    "",
                    format!(
                        "has {} kinds ({}); give {KINDS}",
                        several.len(),
                        several.join(", ")
                    ),
                ))
            }
        };
        if let Some(unknown) = o.keys().find(|k| !allowed.contains(&k.as_str())) {
            let message = match kinds.first() {
                Some(kind) => format!("is not a key of the {kind} check, which takes {allowed:?}"),
                None => format!("is not a kind of check; give {KINDS}"),
            };
            return Err(CheckError::new(unknown, message));
        }
        match kinds.first().copied() {
            Some("exact") => exact(o),
            Some("regex") => regex(o),
            Some("json_pointer") => json_pointer(o),
            Some("number") => number(o),
            _ => Err(CheckError::new("", format!("is empty; give {KINDS}"))),
        }
    }

    /// Whether `answer` (the probe's visible text) passes.
    pub fn passes(&self, answer: &str) -> bool {
        match self {
            Check::Exact(expected) => answer.trim() == expected,
            Check::Regex(re) => re.is_match(answer),
            Check::JsonPointer { pointer, equals } => json_of(answer)
                .and_then(|v| v.pointer(pointer).map(|found| same_json(found, equals)))
                .unwrap_or(false),
            Check::Number { number, tolerance } => {
                first_number(answer).is_some_and(|x| within(x, *number, *tolerance))
            }
        }
    }
}

fn string<'a>(o: &'a Map<String, Value>, key: &str) -> Result<&'a str, CheckError> {
    o.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| CheckError::new(key, "must be a string"))
}

fn exact(o: &Map<String, Value>) -> Result<Check, CheckError> {
    let s = string(o, "exact")?;
    if s.is_empty() {
        return Err(CheckError::new(
            "exact",
            "is empty: a probe that succeeded always has some text",
        ));
    }
    if s.trim() != s {
        return Err(CheckError::new(
            "exact",
            format!(
                "{s:?} can never equal a trimmed answer: give it without white space at its ends"
            ),
        ));
    }
    Ok(Check::Exact(s.to_string()))
}

fn regex(o: &Map<String, Value>) -> Result<Check, CheckError> {
    let pattern = string(o, "regex")?;
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE)
        .build()
        .map(Check::Regex)
        .map_err(|e| {
            let said = e.to_string().replace('\n', " ");
            CheckError::new("regex", format!("is not a valid pattern: {said}"))
        })
}

fn json_pointer(o: &Map<String, Value>) -> Result<Check, CheckError> {
    let pointer = string(o, "json_pointer")?;
    if !(pointer.is_empty() || pointer.starts_with('/')) {
        return Err(CheckError::new(
            "json_pointer",
            format!("{pointer:?} is not a JSON pointer: it starts with /, as in \"/answer\""),
        ));
    }
    let equals = o.get("equals").cloned().ok_or_else(|| {
        CheckError::new(
            "equals",
            "is required with json_pointer: the value the pointer must find (any JSON, null too)",
        )
    })?;
    Ok(Check::JsonPointer {
        pointer: pointer.to_string(),
        equals,
    })
}

fn number(o: &Map<String, Value>) -> Result<Check, CheckError> {
    let finite = |key: &str| {
        o.get(key)
            .and_then(Value::as_f64)
            .filter(|x| x.is_finite())
            .ok_or_else(|| CheckError::new(key, "must be a number"))
    };
    let number = finite("number")?;
    let tolerance = match o.get("tolerance") {
        None => {
            return Err(CheckError::new(
                "tolerance",
                "is required with number: how far from it still passes (0 for exactly)",
            ))
        }
        Some(_) => finite("tolerance")?,
    };
    if tolerance < 0.0 {
        return Err(CheckError::new(
            "tolerance",
            format!("must be 0 or more, not {tolerance}"),
        ));
    }
    Ok(Check::Number { number, tolerance })
}

/// `|x − number| ≤ tolerance`, with slack for binary rounding: the decimals were each read to
/// the nearest f64 (relative error ε/2, ε = 2⁻⁵²), so the computed difference may be off by
/// ε·(|x| + |number| + tolerance), and 3.13 is within 3.14 ± 0.01 as it is on paper.
fn within(x: f64, number: f64, tolerance: f64) -> bool {
    let slack = f64::EPSILON * (x.abs() + number.abs() + tolerance);
    x.is_finite() && (x - number).abs() <= tolerance + slack
}

/// The answer as JSON: the whole trimmed answer, or else the inside of its first fenced code
/// block (a line starting with three backticks, with any info string such as `json`, up to
/// the next line that starts with three backticks, or the end).
fn json_of(answer: &str) -> Option<Value> {
    if let Ok(v) = serde_json::from_str(answer.trim()) {
        return Some(v);
    }
    let mut lines = answer
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("```"));
    lines.next()?;
    let inside: Vec<&str> = lines
        .take_while(|l| !l.trim_start().starts_with("```"))
        .collect();
    serde_json::from_str(&inside.join("\n")).ok()
}

/// JSON equality with numbers compared by value: two integers exactly, otherwise as f64 (so
/// 4 equals 4.0); objects regardless of key order; arrays in order.
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
                (Some(i), Some(j), _, _) => i == j,
                (_, _, Some(i), Some(j)) => i == j,
                _ => x.as_f64() == y.as_f64(),
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_json(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// The first number in `text`: ASCII digits, then optionally `.` and digits, then optionally
/// an exponent (`e` or `E`, a sign, digits); a `-` or `−` (U+2212) right before the digits makes
/// it negative unless a letter or digit comes before the sign (so "GPT-4" reads 4, not −4).
/// Thousands separators are not read: "1,234" is 1. A number too large for f64 is infinite,
/// which no tolerance reaches.
pub fn first_number(text: &str) -> Option<f64> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let before = &text[..start];
    let mut sign = before.chars().rev();
    let negative =
        matches!(sign.next(), Some('-' | '−')) && !sign.next().is_some_and(char::is_alphanumeric);
    let rest = &text[start..];
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let mut end = digits(rest);
    if let Some(after) = rest[end..].strip_prefix('.') {
        let n = digits(after);
        if n > 0 {
            end += 1 + n;
        }
    }
    if let Some(after) = rest[end..].strip_prefix(['e', 'E']) {
        let signed = after.strip_prefix(['+', '-']).unwrap_or(after);
        let n = digits(signed);
        if n > 0 {
            end += 1 + (after.len() - signed.len()) + n;
        }
    }
    let x: f64 = rest[..end].parse().ok()?;
    Some(if negative { -x } else { x })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(v: Value) -> Check {
        Check::parse(&v).unwrap_or_else(|e| panic!("{v}: {e:?}"))
    }

    fn refused(v: Value) -> CheckError {
        match Check::parse(&v) {
            Ok(c) => panic!("{v} was accepted as {c:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn exact_trims_the_answer_only() {
        let c = check(json!({"exact": "Paris"}));
        for yes in ["Paris", "  Paris\n", "\tParis "] {
            assert!(c.passes(yes), "{yes:?}");
        }
        for no in ["paris", "Paris.", "Paris is the capital", "", "P aris"] {
            assert!(!c.passes(no), "{no:?}");
        }
        let inner = check(json!({"exact": "New York"}));
        assert!(inner.passes(" New York ") && !inner.passes("New  York"));
    }

    #[test]
    fn regex_matches_anywhere_and_its_syntax_is_regex_lite() {
        let c = check(json!({"regex": r"\b4\b"}));
        assert!(c.passes("The answer is 4."));
        assert!(c.passes("4"));
        assert!(!c.passes("42") && !c.passes("four"));
        let anchored = check(json!({"regex": r"^\s*(?i)yes\b"}));
        assert!(anchored.passes("  YES, it is") && !anchored.passes("I say yes"));
        // Codepoint by codepoint: non-ASCII text matches literally.
        assert!(check(json!({"regex": "café"})).passes("un café noir"));
        // \d is ASCII-only in regex-lite: an Arabic-Indic digit is not a digit.
        assert!(!check(json!({"regex": r"\d"})).passes("٤"));
    }

    #[test]
    fn json_pointer_reads_the_answer_or_its_first_fenced_block() {
        let c = check(json!({"json_pointer": "/answer/value", "equals": 4}));
        assert!(c.passes(r#"{"answer": {"value": 4}}"#));
        assert!(
            c.passes(" {\"answer\": {\"value\": 4.0}}\n"),
            "4 equals 4.0"
        );
        assert!(c.passes("Here it is:\n```json\n{\"answer\": {\"value\": 4}}\n```\nDone."));
        assert!(
            c.passes("```\n{\"answer\": {\"value\": 4}}"),
            "an unclosed fence"
        );
        for no in [
            r#"{"answer": {"value": 5}}"#,
            r#"{"answer": {"value": "4"}}"#,
            r#"{"answer": {}}"#,
            "4",
            "not JSON at all",
            "```json\n{\"answer\": \n```",
        ] {
            assert!(!c.passes(no), "{no:?}");
        }
        let null = check(json!({"json_pointer": "/x", "equals": null}));
        assert!(null.passes(r#"{"x": null}"#));
        assert!(!null.passes(r#"{"y": 1}"#), "a missing pointer is not null");
        let whole = check(json!({"json_pointer": "", "equals": {"b": [1, 2], "a": "x"}}));
        assert!(
            whole.passes(r#"{"a": "x", "b": [1.0, 2]}"#),
            "any key order"
        );
        assert!(
            !whole.passes(r#"{"a": "x", "b": [2, 1]}"#),
            "arrays in order"
        );
        assert!(!whole.passes(r#"{"a": "x", "b": [1, 2], "c": 0}"#));
        let big = check(json!({"json_pointer": "/n", "equals": 9007199254740993u64}));
        assert!(
            !big.passes(r#"{"n": 9007199254740992}"#),
            "integers exactly"
        );
    }

    #[test]
    fn number_takes_the_first_number_within_the_tolerance() {
        let c = check(json!({"number": 1.25, "tolerance": 0.01}));
        for yes in ["1.25", "It is about 1.26.", "1.24 or so", "x=1.250000"] {
            assert!(c.passes(yes), "{yes:?}");
        }
        for no in ["1.3", "about 1", "one", "", "2 then 1.25"] {
            assert!(!c.passes(no), "{no:?}");
        }
        let exactly = check(json!({"number": -40, "tolerance": 0}));
        assert!(exactly.passes("It is -40 degrees") && exactly.passes("−40"));
        assert!(!exactly.passes("40"));
        // Both ends included.
        let band = check(json!({"number": 10, "tolerance": 0.5}));
        assert!(band.passes("9.5") && band.passes("10.5") && !band.passes("10.51"));
        // The rounding slack is far below the next decimal.
        let tight = check(json!({"number": 1.25, "tolerance": 0.01}));
        assert!(tight.passes("1.26") && !tight.passes("1.2600001"));
        assert!(!tight.passes("1e999"), "infinity is never within");
    }

    #[test]
    fn the_first_number_is_read_as_documented() {
        let cases: [(&str, Option<f64>); 13] = [
            ("42", Some(42.0)),
            ("The answer: 42.", Some(42.0)),
            ("-7 and 8", Some(-7.0)),
            ("GPT-4 says 42", Some(4.0)),
            ("1,234", Some(1.0)),
            ("6.02e23 atoms", Some(6.02e23)),
            ("1.5E-3", Some(1.5e-3)),
            ("5e", Some(5.0)),
            ("3.", Some(3.0)),
            ("v2.x", Some(2.0)),
            ("no digits", None),
            ("1e999", Some(f64::INFINITY)),
            ("-0.5", Some(-0.5)),
        ];
        for (text, want) in cases {
            assert_eq!(first_number(text), want, "{text:?}");
        }
    }

    #[test]
    fn a_bad_check_names_its_key() {
        let cases = [
            (json!("4"), "check", "must be an object"),
            (json!({}), "check", "is empty"),
            (
                json!({"exactly": "4"}),
                "check.exactly",
                "is not a kind of check",
            ),
            (
                json!({"exact": "4", "regex": "4"}),
                "check",
                "has 2 kinds (exact, regex)",
            ),
            (json!({"exact": 4}), "check.exact", "must be a string"),
            (
                json!({"exact": " 4"}),
                "check.exact",
                "\" 4\" can never equal a trimmed answer",
            ),
            (json!({"exact": ""}), "check.exact", "is empty"),
            (
                json!({"exact": "4", "equals": 4}),
                "check.equals",
                "is not a key of the exact check",
            ),
            (
                json!({"regex": "(4"}),
                "check.regex",
                "is not a valid pattern",
            ),
            (
                json!({"regex": "a{1000}{1000}"}),
                "check.regex",
                "is not a valid pattern",
            ),
            (
                json!({"json_pointer": "answer", "equals": 4}),
                "check.json_pointer",
                "\"answer\" is not a JSON pointer",
            ),
            (json!({"json_pointer": "/a"}), "check.equals", "is required"),
            (json!({"number": 4}), "check.tolerance", "is required"),
            (
                json!({"number": "4", "tolerance": 0}),
                "check.number",
                "must be a number",
            ),
            (
                json!({"number": 4, "tolerance": -0.1}),
                "check.tolerance",
                "must be 0 or more",
            ),
            (
                json!({"number": 4, "tolerance": 1, "unit": "ms"}),
                "check.unit",
                "is not a key of the number check",
            ),
        ];
        for (value, key, message) in cases {
            let e = refused(value.clone());
            assert_eq!(e.key, key, "{value}: {e:?}");
            assert!(e.message.starts_with(message), "{value}: {e:?}");
        }
    }
}
