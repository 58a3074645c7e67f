//! Turning what a probe saw into a [`ProbeResult`], with the definitions of
//! ../shared/reference/providers.md (after ray-project/llmperf): TTFT is request sent to the
//! first chunk carrying non-empty text (reasoning text never counts: it is not shown), while
//! `extra.ttfb_ms` is request sent to the first byte of any kind; total is request sent to
//! the end of the stream;
//! output speed is output tokens / (total − TTFT), never folding TTFT in; token counts come
//! from the provider's usage report; a failed probe carries no latency at all, and no quality
//! verdict (a failed call is an error, not a wrong answer).

use crate::provider::{Failure, Outcome};
use crate::target::{ConfigError, Target};
use llmscope_protocol::prices::{Price, PriceTable, SHIPPED_TAKEN};
use llmscope_protocol::probe::{ErrorKind, ProbeError, ProbeResult};

/// What the runtime observed of one probe.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    /// When the request was sent, epoch ms.
    pub t: i64,
    /// The response status, if headers arrived.
    pub status: Option<u16>,
    /// ms from sending to the first byte of the body, of any kind (a role-only chunk, a
    /// ping, thinking): how soon the provider answered, apart from how soon it said something.
    pub ttfb_ms: Option<f64>,
    /// ms from sending to the first text chunk.
    pub ttft_ms: Option<f64>,
    /// ms from sending to the first reasoning chunk (thinking text).
    pub first_reasoning_ms: Option<f64>,
    /// ms from sending to the end of the body.
    pub total_ms: Option<f64>,
    /// `retry-after` of an error response, in seconds.
    pub retry_after_s: Option<f64>,
    /// A failure the transport saw (timeout, cut body, HTTP error), which wins over the
    /// parser's view.
    pub transport: Option<Failure>,
    /// The response's headers named in [`crate::context::HEADERS`] (lowercase), for `extra`.
    pub headers: Vec<(String, String)>,
    /// The Cloudflare colo the Worker ran in (`request.cf.colo`), when known.
    pub colo: Option<String>,
}

/// The price for a target: its own override, else the table's (the shipped one overlaid with
/// `LLMSCOPE_PRICES`).
pub fn price_of(target: &Target, table: &PriceTable) -> Option<Price> {
    target.price.or_else(|| {
        table
            .lookup(target.provider.as_str(), &target.model)
            .map(|row| row.price)
    })
}

/// The price table of `LLMSCOPE_PRICES` (the shipped one overlaid with it). A bad one is a
/// problem for `/health`, not a stop: the probes go on with the shipped table.
pub fn price_table(llmscope_prices: Option<&str>) -> (PriceTable, Option<ConfigError>) {
    match PriceTable::with_override(llmscope_prices) {
        Ok(table) => (table, None),
        Err(e) => {
            let message = format!(
                "{}: {}; the shipped table ({SHIPPED_TAKEN}) is used until it is fixed",
                e.at, e.message
            );
            let problem = ConfigError::new("*", "LLMSCOPE_PRICES", message);
            (PriceTable::shipped(), Some(problem))
        }
    }
}

/// The most characters of an error message a result keeps.
pub const MESSAGE_CHARS: usize = 300;

/// Replaces every secret value in `text` (providers echo keys in auth errors). Every
/// non-empty secret counts, however short, and the longest go first, so a secret that
/// contains another is replaced whole.
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut secrets: Vec<&String> = secrets.iter().filter(|s| !s.is_empty()).collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.iter().fold(text.to_string(), |acc, s| {
        acc.replace(s.as_str(), "[redacted]")
    })
}

/// What a result or a log may show of a message: secrets redacted first, then cut to
/// [`MESSAGE_CHARS`], so a secret cut in half cannot show its first part.
pub fn shown(message: &str, secrets: &[String]) -> String {
    let clean = redact(message, secrets);
    match clean.char_indices().nth(MESSAGE_CHARS) {
        Some((end, _)) => format!("{}…", &clean[..end]),
        None => clean,
    }
}

/// The result of one probe, priced with `prices`.
pub fn result(
    target: &Target,
    prices: &PriceTable,
    seen: Observed,
    outcome: Outcome,
    secrets: &[String],
) -> ProbeResult {
    let failure = seen.transport.or(outcome.failure).or_else(|| {
        if !outcome.done {
            Some(Failure {
                kind: ErrorKind::StreamCut,
                message: "the stream ended before the provider's end event".into(),
            })
        } else if outcome.text_chunks == 0 {
            Some(Failure {
                kind: ErrorKind::Malformed,
                message: "the stream completed without any text".into(),
            })
        } else {
            None
        }
    });
    // Judged only when the probe succeeded: a cut stream's text is not the model's answer.
    let quality_pass = match (&target.check, &outcome.answer, &failure) {
        (Some(check), Some(answer), None) => Some(check.passes(answer)),
        _ => None,
    };
    let usage = outcome.usage;
    let mut extra = outcome.extra;
    if let Some(n) = usage.cache_write {
        extra.insert("cache_write_input_tokens".into(), n.into());
    }
    if let Some(n) = outcome.reasoning_tokens {
        extra.insert("reasoning_tokens".into(), n.into());
    }
    if outcome.reasoning_chars > 0 {
        extra.insert("reasoning_chars".into(), outcome.reasoning_chars.into());
    }
    crate::context::from_headers(&seen.headers, &mut extra);
    if let Some(colo) = seen.colo {
        extra.insert("colo".into(), colo.into());
    }
    let mut r = ProbeResult {
        target: target.name.clone(),
        provider: target.provider.as_str().into(),
        model: target.model.clone(),
        t: seen.t,
        ok: failure.is_none(),
        status: seen.status,
        ttft_ms: None,
        total_ms: None,
        input_tokens: usage.input,
        output_tokens: usage.output,
        cached_input_tokens: usage.cached_input,
        tokens_per_s: None,
        cost_usd: price_of(target, prices).and_then(|p| p.cost(&usage)),
        error: None,
        quality_pass,
        extra,
    };
    match failure {
        Some(f) => {
            r.error = Some(ProbeError {
                kind: f.kind,
                message: shown(&f.message, secrets),
                retry_after_s: seen
                    .retry_after_s
                    .filter(|_| f.kind == ErrorKind::RateLimited),
            });
        }
        None => {
            // Latencies: only for a successful probe, like TTFT itself.
            if let Some(ms) = seen.ttfb_ms {
                r.extra.insert("ttfb_ms".into(), ms.into());
            }
            if let (Some(reasoning), Some(text)) = (seen.first_reasoning_ms, seen.ttft_ms) {
                r.extra
                    .insert("reasoning_ms".into(), (text - reasoning).max(0.0).into());
            }
            r.ttft_ms = seen.ttft_ms;
            r.total_ms = seen.total_ms;
            r.tokens_per_s = match (usage.output, seen.ttft_ms, seen.total_ms) {
                (Some(n), Some(ttft), Some(total)) if total > ttft => {
                    Some(n as f64 / ((total - ttft) / 1000.0))
                }
                _ => None,
            };
        }
    }
    r
}

/// `retry-after` in seconds (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date, taken
/// against `now_ms` (the Worker's clock, epoch ms); a date already past means 0. A value that
/// is neither is left out rather than guessed.
pub fn retry_after(header: Option<&str>, now_ms: i64) -> Option<f64> {
    let value = header?.trim();
    if let Ok(s) = value.parse::<f64>() {
        return Some(s).filter(|s| s.is_finite() && *s >= 0.0);
    }
    let at_ms = http_date_ms(value, now_ms)?;
    Some(at_ms.saturating_sub(now_ms).max(0) as f64 / 1000.0)
}

/// An HTTP-date (RFC 9110 §5.6.7) as epoch ms: the IMF-fixdate every sender must use
/// (`Wed, 21 Oct 2015 07:28:00 GMT`), and the two obsolete forms recipients should still
/// read: RFC 850 (`Wednesday, 21-Oct-15 07:28:00 GMT`; the two-digit year is read near
/// `now_ms`, never more than 50 years ahead) and asctime (`Wed Oct 21 07:28:00 2015`). Read by
/// hand into chrono's calendar: chrono's format parser would add ~20 KB to the Worker.
pub fn http_date_ms(value: &str, now_ms: i64) -> Option<i64> {
    let words: Vec<&str> = value.split_ascii_whitespace().collect();
    let year4 = |y: &str| digits(y, 4..=4).map(|y| y as i32);
    let (weekday, day, month, year, time) = match words.as_slice() {
        // IMF-fixdate: day-name "," SP day SP month SP year SP time SP "GMT"
        [wd, day, month, year, time, "GMT"] if wd.ends_with(',') => {
            (&wd[..wd.len() - 1], *day, *month, year4(year)?, *time)
        }
        // RFC 850: day-name-l "," SP day "-" month "-" 2DIGIT SP time SP "GMT"
        [wd, date, time, "GMT"] if wd.ends_with(',') => {
            let mut parts = date.split('-');
            let (day, month, yy) = (parts.next()?, parts.next()?, parts.next()?);
            if parts.next().is_some() {
                return None;
            }
            let year = two_digit_year(digits(yy, 2..=2)? as i32, now_ms)?;
            (&wd[..wd.len() - 1], day, month, year, *time)
        }
        // asctime: day-name SP month SP ( 2DIGIT / ( SP DIGIT ) ) SP time SP year
        [wd, month, day, time, year] => (*wd, *day, *month, year4(year)?, *time),
        _ => return None,
    };
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const LONG: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    let weekday = DAYS
        .iter()
        .position(|d| *d == weekday)
        .or_else(|| LONG.iter().position(|d| *d == weekday))?;
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == month)? as u32 + 1;
    let day: u32 = digits(day, 1..=2)?;
    let mut hms = time.split(':');
    let (h, m, s) = (hms.next()?, hms.next()?, hms.next()?);
    if hms.next().is_some() {
        return None;
    }
    let (h, m, s) = (digits(h, 2..=2)?, digits(m, 2..=2)?, digits(s, 2..=2)?);
    // Second 60 is a leap second (RFC 9110's `second = 2DIGIT` with 00-60): read as the
    // start of the next second, which is when it ends.
    let leap = s == 60;
    let date = chrono::NaiveDate::from_ymd_opt(year, month, day)?;
    // A day name that contradicts the date: which one is wrong cannot be told.
    if chrono::Datelike::weekday(&date).num_days_from_monday() as usize != weekday {
        return None;
    }
    let t = date.and_hms_opt(h, m, if leap { 59 } else { s })?.and_utc();
    Some(t.timestamp_millis() + if leap { 1000 } else { 0 })
}

/// A number of `len` ASCII digits.
fn digits(s: &str, len: std::ops::RangeInclusive<usize>) -> Option<u32> {
    (len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// A two-digit year as the year with those digits in the window from 49 years before now to
/// 50 after: RFC 9110 §5.6.7 wants a year more than 50 years ahead read as the most recent
/// past one, and the window keeps near-future years (in 2099, "10" is 2110).
fn two_digit_year(yy: i32, now_ms: i64) -> Option<i32> {
    use chrono::Datelike;
    let now = chrono::DateTime::from_timestamp_millis(now_ms)?.year();
    let year = now - now.rem_euclid(100) + yy;
    Some(if year > now + 50 {
        year - 100
    } else if year < now - 49 {
        year + 100
    } else {
        year
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use llmscope_protocol::prices::Usage;

    fn target() -> Target {
        crate::target::parse(
            r#"[{"name":"t","provider":"openai","model":"gpt-4o-mini","key_secret":"K"}]"#,
        )
        .valid[0]
            .clone()
    }

    fn done() -> Outcome {
        Outcome {
            text_chunks: 3,
            usage: Usage {
                input: Some(1000),
                output: Some(40),
                cached_input: None,
                cache_write: None,
            },
            done: true,
            ..Outcome::default()
        }
    }

    #[test]
    fn speed_excludes_ttft_and_cost_uses_the_table() {
        let seen = Observed {
            t: 5,
            status: Some(200),
            ttft_ms: Some(200.0),
            total_ms: Some(1200.0),
            ..Observed::default()
        };
        let r = result(&target(), &PriceTable::shipped(), seen, done(), &[]);
        assert!(r.ok);
        assert_eq!(r.tokens_per_s, Some(40.0));
        // 1000 * 0.15 / 1e6 + 40 * 0.60 / 1e6
        assert!((r.cost_usd.unwrap() - 0.000174).abs() < 1e-12);
    }

    #[test]
    fn llmscope_prices_wins_over_the_shipped_table_and_a_targets_price_over_both() {
        let table = PriceTable::with_override(Some(
            r#"{"taken": "2026-12-01", "prices": [{"provider": "openai", "model": "gpt-4o-mini", "input": 0.1, "output": 0.5}]}"#,
        ))
        .unwrap();
        let r = result(&target(), &table, Observed::default(), done(), &[]);
        // 1000 * 0.1 / 1e6 + 40 * 0.5 / 1e6
        assert!((r.cost_usd.unwrap() - 0.00012).abs() < 1e-15, "{r:?}");
        let mut own = target();
        own.price = Some(Price {
            input: 1.0,
            output: 2.0,
            cached_input: None,
            cache_write: None,
        });
        let r = result(&own, &table, Observed::default(), done(), &[]);
        // 1000 * 1 / 1e6 + 40 * 2 / 1e6
        assert!((r.cost_usd.unwrap() - 0.00108).abs() < 1e-15, "{r:?}");
    }

    #[test]
    fn a_bad_llmscope_prices_is_a_problem_and_the_shipped_table_is_used() {
        let (table, problem) = price_table(Some(
            r#"{"taken": "2026-12-01", "prices": [{"provider": "openai", "model": "gpt-4o-mini", "input": -1, "output": 0.5}]}"#,
        ));
        assert_eq!(table, PriceTable::shipped());
        let problem = problem.unwrap();
        assert_eq!(
            (problem.target.as_str(), problem.field.as_str()),
            ("*", "LLMSCOPE_PRICES")
        );
        assert!(
            problem
                .message
                .starts_with("prices[0].input: -1 is not a price")
                && problem.message.ends_with(&format!(
                    "the shipped table ({SHIPPED_TAKEN}) is used until it is fixed"
                )),
            "{problem}"
        );
        let (table, problem) = price_table(Some(r#"{"taken": "2026-12-01", "prices": []}"#));
        assert_eq!((table.taken.as_str(), problem), ("2026-12-01", None));
        assert_eq!(price_table(None), (PriceTable::shipped(), None));
    }

    #[test]
    fn reasoning_is_counted_in_extra_and_timed_only_when_the_probe_succeeds() {
        let seen = Observed {
            first_reasoning_ms: Some(40.0),
            ttft_ms: Some(250.0),
            total_ms: Some(300.0),
            ..Observed::default()
        };
        let thought = Outcome {
            reasoning_tokens: Some(30),
            reasoning_chunks: 4,
            reasoning_chars: 120,
            ..done()
        };
        let r = result(
            &target(),
            &PriceTable::shipped(),
            seen.clone(),
            thought.clone(),
            &[],
        );
        assert_eq!(r.extra["reasoning_tokens"], 30);
        assert_eq!(r.extra["reasoning_chars"], 120);
        assert_eq!(r.extra["reasoning_ms"], 210.0);
        assert!(!r.extra.contains_key("ttfb_ms"), "not seen, not reported");
        assert_eq!(r.ttft_ms, Some(250.0));
        let cut = Outcome {
            done: false,
            ..thought
        };
        let r = result(&target(), &PriceTable::shipped(), seen, cut, &[]);
        assert!(!r.ok);
        assert_eq!(r.extra["reasoning_tokens"], 30);
        assert!(!r.extra.contains_key("reasoning_ms"), "{:?}", r.extra);
        // Nothing reported, nothing invented.
        let r = result(
            &target(),
            &PriceTable::shipped(),
            Observed::default(),
            done(),
            &[],
        );
        assert!(r.extra.is_empty(), "{:?}", r.extra);
    }

    #[test]
    fn the_first_byte_is_in_extra_for_a_successful_probe_only() {
        let seen = Observed {
            ttfb_ms: Some(12.5),
            ttft_ms: Some(200.0),
            total_ms: Some(300.0),
            ..Observed::default()
        };
        let r = result(&target(), &PriceTable::shipped(), seen.clone(), done(), &[]);
        assert_eq!(
            (r.extra["ttfb_ms"].as_f64(), r.ttft_ms),
            (Some(12.5), Some(200.0))
        );
        let cut = Outcome {
            done: false,
            ..done()
        };
        assert!(!result(&target(), &PriceTable::shipped(), seen, cut, &[])
            .extra
            .contains_key("ttfb_ms"));
    }

    #[test]
    fn quality_is_judged_for_a_successful_probe_of_a_checked_target_only() {
        let checked = |check: &str| {
            crate::target::parse(&format!(
                r#"[{{"name":"t","provider":"ollama","model":"m","check":{check}}}]"#
            ))
            .valid[0]
                .clone()
        };
        let answered = |target: &Target, text: &str, done: bool| {
            let mut out = Outcome {
                done,
                ..Outcome::for_target(target)
            };
            out.text(Some(text));
            result(
                target,
                &PriceTable::shipped(),
                Observed::default(),
                out,
                &[],
            )
            .quality_pass
        };
        let four = checked(r#"{"exact": "4"}"#);
        assert_eq!(answered(&four, " 4\n", true), Some(true));
        assert_eq!(answered(&four, "5", true), Some(false));
        assert_eq!(
            answered(&four, "4", false),
            None,
            "a cut stream is an error"
        );
        assert_eq!(answered(&target(), "4", true), None, "no check, no verdict");
        // A failure the transport saw wins too.
        let mut out = Outcome {
            done: true,
            ..Outcome::for_target(&four)
        };
        out.text(Some("4"));
        let seen = Observed {
            transport: Some(Failure {
                kind: ErrorKind::Timeout,
                message: "late".into(),
            }),
            ..Observed::default()
        };
        assert_eq!(
            result(&four, &PriceTable::shipped(), seen, out, &[]).quality_pass,
            None
        );
        let json = serde_json::to_value(result(
            &target(),
            &PriceTable::shipped(),
            Observed::default(),
            done(),
            &[],
        ));
        assert_eq!(
            json.ok().map(|v| v["quality_pass"].clone()),
            Some(serde_json::Value::Null)
        );
    }

    #[test]
    fn a_failed_probe_has_no_latency_and_keys_are_redacted() {
        let seen = Observed {
            t: 5,
            status: Some(401),
            ttft_ms: Some(3.0),
            total_ms: Some(4.0),
            transport: Some(Failure {
                kind: ErrorKind::Auth,
                message: "Incorrect API key provided: sk-secret-1".into(),
            }),
            ..Observed::default()
        };
        let r = result(
            &target(),
            &PriceTable::shipped(),
            seen,
            Outcome::default(),
            &["sk-secret-1".into()],
        );
        assert!(!r.ok);
        assert_eq!((r.ttft_ms, r.total_ms, r.tokens_per_s), (None, None, None));
        let e = r.error.unwrap();
        assert_eq!(e.kind, ErrorKind::Auth);
        assert_eq!(e.message, "Incorrect API key provided: [redacted]");
    }

    #[test]
    fn a_stream_without_its_end_is_cut_and_an_unknown_model_has_no_cost() {
        let seen = Observed {
            ttft_ms: Some(1.0),
            total_ms: Some(2.0),
            ..Observed::default()
        };
        let cut = Outcome {
            done: false,
            ..done()
        };
        let r = result(&target(), &PriceTable::shipped(), seen.clone(), cut, &[]);
        assert_eq!(r.error.map(|e| e.kind), Some(ErrorKind::StreamCut));
        let mut t = target();
        t.model = "my-finetune".into();
        assert_eq!(
            result(&t, &PriceTable::shipped(), seen, done(), &[]).cost_usd,
            None
        );
    }

    /// 2015-10-21T07:28:00Z, the RFC's example date, in epoch ms.
    const OCT_21_2015: i64 = 1_445_412_480_000;

    #[test]
    fn retry_after_is_seconds_or_an_http_date_on_the_workers_clock() {
        let now = OCT_21_2015 - 90_500; // 90.5 s before the date
        assert_eq!(retry_after(Some(" 7 "), now), Some(7.0));
        assert_eq!(retry_after(Some("0"), now), Some(0.0));
        for form in [
            "Wed, 21 Oct 2015 07:28:00 GMT",
            "Wednesday, 21-Oct-15 07:28:00 GMT",
            "Wed Oct 21 07:28:00 2015",
        ] {
            assert_eq!(retry_after(Some(form), now), Some(90.5), "{form}");
        }
        assert_eq!(
            retry_after(Some("Sun Nov  6 08:49:37 1994"), now).map(|_| ()),
            Some(())
        );
        // A date already past means now.
        assert_eq!(
            retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT"), OCT_21_2015 + 5_000),
            Some(0.0)
        );
        for bad in [
            "",
            "-3",
            "NaN",
            "inf",
            "soon",
            "Wed, 21 Oct 2015 07:28:00 UTC",
            "Wed, 32 Oct 2015 07:28:00 GMT",
            "Wed, 21 Oct 2015 25:28:00 GMT",
            "Wed, 21 Okt 2015 07:28:00 GMT",
            "Wed, 21 Oct 15 07:28:00 GMT",
            "Xyz, 21 Oct 2015 07:28:00 GMT",
            "Wed, 21 Oct 2015 07:28 GMT",
            "Wed, 21-Oct-2015 07:28:00 GMT",
            "Wed, 21 Oct 2015 07:28:61 GMT",
            "Thu, 21 Oct 2015 07:28:00 GMT",
        ] {
            assert_eq!(retry_after(Some(bad), now), None, "{bad:?}");
        }
        assert_eq!(retry_after(None, now), None);
        assert_eq!(
            http_date_ms("Sat, 31 Dec 2016 23:59:60 GMT", 0),
            http_date_ms("Sun, 01 Jan 2017 00:00:00 GMT", 0)
        );
    }

    #[test]
    fn an_rfc850_year_is_never_more_than_50_years_ahead() {
        let same = |rfc850: &str, fixdate: &str, now: i64| {
            assert_eq!(
                http_date_ms(rfc850, now),
                http_date_ms(fixdate, 0),
                "{rfc850} at {now}"
            );
            assert!(http_date_ms(rfc850, now).is_some(), "{rfc850}");
        };
        // In 2015: "94" is 1994, "60" is 2060 (45 years ahead), "66" is 1966 (not 51 ahead).
        same(
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT",
            OCT_21_2015,
        );
        same(
            "Thursday, 01-Jan-60 00:00:00 GMT",
            "Thu, 01 Jan 2060 00:00:00 GMT",
            OCT_21_2015,
        );
        same(
            "Saturday, 01-Jan-66 00:00:00 GMT",
            "Sat, 01 Jan 1966 00:00:00 GMT",
            OCT_21_2015,
        );
        // In 2099, "10" is 2110: a window around now, not the current century.
        let in_2099 = http_date_ms("Thu, 01 Jan 2099 00:00:00 GMT", 0).unwrap();
        same(
            "Wednesday, 01-Jan-10 00:00:00 GMT",
            "Wed, 01 Jan 2110 00:00:00 GMT",
            in_2099,
        );
    }

    #[test]
    fn secrets_are_redacted_before_messages_are_cut() {
        // The key straddles the cut at 300 characters: its first part must not show.
        let key = "sk-live-0123456789abcdef".to_string();
        let message = format!("{}{key} rest", "x".repeat(290));
        let cut = shown(&message, std::slice::from_ref(&key));
        assert!(!cut.contains("sk-live"), "{cut}");
        assert!(
            cut.starts_with(&"x".repeat(290)) && cut.contains("[redac"),
            "{cut}"
        );
        // Short secrets are secrets too, and a longer secret holding a shorter one goes whole.
        let said = redact(
            "pin 42, url https://hooks.example/T0/42",
            &["42".into(), "https://hooks.example/T0/42".into()],
        );
        assert_eq!(said, "pin [redacted], url [redacted]");
        assert_eq!(
            shown(&"é".repeat(400), &[]).chars().count(),
            MESSAGE_CHARS + 1
        );
    }
}
