//! A forecast in words (the stream view's header, a card's "due in") and as an iCalendar
//! event (RFC 5545: CRLF line endings, lines folded at 75 octets, text escaped, §3.1 and
//! §3.3.11; times in UTC), written here so the dashboard's wasm carries none of it.

use super::Reply;
use crate::text::fmt;

/// A reply with what its words need.
pub struct Outlook<'a> {
    /// The forecast.
    pub reply: &'a Reply,
    /// The limits are control limits (UCL/LCL), not spec limits.
    pub control: bool,
    /// The last sample's time (epoch ms), when a clock time.
    pub last: Option<f64>,
}

/// A span of time in words: seconds, minutes, hours or days, rounded for reading.
fn span(secs: f64) -> (String, &'static str) {
    let (v, unit) = match secs {
        s if s < 90.0 => (s, "s"),
        s if s < 5400.0 => (s / 60.0, "min"),
        s if s < 172_800.0 => (s / 3600.0, "h"),
        s => (s / 86_400.0, "d"),
    };
    let v = if v < 10.0 {
        (v * 10.0).round() / 10.0
    } else {
        v.round()
    };
    (format!("{v}"), unit)
}

impl Outlook<'_> {
    /// "USL 4.5", the limit it heads for.
    pub fn limit(&self) -> Option<String> {
        let (up, v) = self.reply.limit?;
        let name = match (self.control, up) {
            (false, true) => "USL",
            (false, false) => "LSL",
            (true, true) => "UCL",
            (true, false) => "LCL",
        };
        Some(format!("{name} {}", fmt(v)))
    }

    /// `points` after the last point in words: "4 h", or "120 points".
    fn after(&self, points: f64) -> String {
        match self.reply.interval {
            Some(i) => {
                let (v, u) = span(points * i);
                format!("{v} {u}")
            }
            None => format!("{} points", points.round()),
        }
    }

    /// The 80% interval in words: "3–6 h" (one unit when both ends share it).
    fn range80(&self) -> String {
        let c = self.reply.crossing;
        let lo = c[1].map_or("now".into(), |x| self.after(x));
        let hi = c[2].map_or("beyond the horizon".into(), |x| self.after(x));
        match (lo.split_once(' '), hi.split_once(' ')) {
            (Some((a, u)), Some((b, w))) if u == w => format!("{a}–{b} {u}"),
            _ => format!("{lo} to {hi}"),
        }
    }

    /// The time to limit as the stream view's header says it.
    pub fn words(&self) -> String {
        let r = &self.reply;
        if !r.enough {
            return format!("Time to limit: not enough data ({} points).", r.n);
        }
        let Some(limit) = self.limit() else {
            return "Time to limit: not within the horizon (heading to no limit).".into();
        };
        match r.crossing[0] {
            Some(m) => format!(
                "Reaches {limit} in about {} (80%: {}){}.",
                self.after(m),
                self.range80(),
                if r.detected {
                    ""
                } else {
                    "; no degradation detected"
                }
            ),
            None => format!("Time to limit: {limit} not within the horizon."),
        }
    }

    /// A step back in words: "Step back 2 h ago (−3.1; 95%: −3.3 to −2.9)", of `n` values.
    pub fn step_back(&self, s: &llmscope_spc::forecast::step::StepBack, n: usize) -> String {
        format!(
            "Step back {} ago ({}; 95%: {} to {})",
            self.after((n - s.at) as f64),
            fmt(s.size),
            fmt(s.lo),
            fmt(s.hi)
        )
    }

    /// The card's line: "due in about 4 h", when a degradation heads to a limit within the
    /// horizon.
    pub fn due_in(&self) -> Option<String> {
        let m = self.reply.crossing[0].filter(|_| self.reply.detected)?;
        Some(format!(
            "due in about {} ({})",
            self.after(m),
            self.limit()?
        ))
    }

    /// When the median crossing falls (epoch ms), with the 80% ends.
    pub fn due_at(&self) -> Option<(f64, Option<f64>, Option<f64>)> {
        self.due_in()?;
        let (last, i) = (self.last?, self.reply.interval?);
        let at = |p: f64| last + p * i * 1000.0;
        let c = self.reply.crossing;
        Some((at(c[0]?), c[1].map(at), c[2].map(at)))
    }
}

/// `t` (epoch ms) as an iCalendar UTC date-time, `YYYYMMDDTHHMMSSZ` (civil from days:
/// H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").
fn utc(t: f64) -> String {
    let secs = (t / 1000.0).floor() as i64;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let (h, mi, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
    format!("{y:04}{m:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

/// Text as an iCalendar TEXT value (RFC 5545 §3.3.11).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | ';' | ',' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// A content line folded at 75 octets (RFC 5545 §3.1), never inside a character, with CRLF.
fn fold(line: &str, out: &mut String) {
    let mut used = 0;
    for c in line.chars() {
        if used + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += c.len_utf8();
    }
    out.push_str("\r\n");
}

/// The maintenance event of `stream` due at `due` (epoch ms, with the 80% ends), made at `now`
/// by `product` (the product's name, or a white-label brand's: the event's PRODID, its UID's
/// domain and its description's last words).
pub fn ics(
    stream: &str,
    product: &str,
    summary: &str,
    due: (f64, Option<f64>, Option<f64>),
    now: f64,
) -> String {
    let end = |t: Option<f64>, none: &str| t.map_or(none.to_string(), utc);
    let description = format!(
        "{summary}. Median crossing {}; 80% interval {} to {} (UTC). Forecast by {product}.",
        utc(due.0),
        end(due.1, "now"),
        end(due.2, "beyond the horizon")
    );
    let id = |text: &str| -> String {
        text.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect()
    };
    let uid = id(stream);
    let lines = [
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".into(),
        format!("PRODID:-//{}//forecast//EN", escape(product)),
        "BEGIN:VEVENT".into(),
        format!(
            "UID:{uid}-{}@{}",
            due.0 as i64,
            id(product).to_ascii_lowercase()
        ),
        format!("DTSTAMP:{}", utc(now)),
        format!("DTSTART:{}", utc(due.0)),
        format!("SUMMARY:{}", escape(&format!("Maintenance: {summary}"))),
        format!("DESCRIPTION:{}", escape(&description)),
        "END:VEVENT".into(),
        "END:VCALENDAR".into(),
    ];
    let mut out = String::new();
    for l in &lines {
        fold(l, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates_match_known_instants() {
        assert_eq!(utc(0.0), "19700101T000000Z");
        // 2000-02-29 12:34:56 UTC (a leap day).
        assert_eq!(utc(951_827_696_000.0), "20000229T123456Z");
        // 2026-12-31 23:59:59 UTC.
        assert_eq!(utc(1_798_761_599_000.0), "20261231T235959Z");
    }

    #[test]
    fn an_event_has_crlf_lines_of_at_most_75_octets_and_escaped_text() {
        let name = "cnc1/spindle_vibration; the long name, with a comma and ünïcödé".repeat(2);
        let text = ics(
            &name,
            "Acme Scope",
            &format!("{name} reaches USL 4.5"),
            (1.8e12, Some(1.79e12), None),
            1.7e12,
        );
        assert!(text.ends_with("END:VCALENDAR\r\n"));
        assert!(!text.replace("\r\n", "").contains('\n'));
        for line in text.split("\r\n") {
            assert!(line.len() <= 75, "{line:?}");
        }
        // Unfolded, the summary reads back with its specials escaped.
        let unfolded = text.replace("\r\n ", "");
        assert!(unfolded
            .contains("SUMMARY:Maintenance: cnc1/spindle_vibration\\; the long name\\, with"));
        assert!(unfolded.contains("DTSTART:20270115T080000Z"));
        // The product is a white-label brand's, and the product's own name appears nowhere.
        assert!(unfolded.contains("PRODID:-//Acme Scope//forecast//EN"));
        assert!(unfolded.contains("-1800000000000@acme-scope\r\n"));
        assert!(unfolded.contains("Forecast by Acme Scope."));
        assert!(!unfolded.to_lowercase().contains("llmscope"), "{unfolded}");
        for key in [
            "UID:",
            "DTSTAMP:20231114T221320Z",
            "DESCRIPTION:",
            "BEGIN:VEVENT",
            "END:VEVENT",
        ] {
            assert!(unfolded.contains(key), "{key}");
        }
    }

    fn reply(crossing: [Option<f64>; 5], interval: Option<f64>) -> Reply {
        Reply {
            n: 500,
            interval,
            enough: true,
            detected: true,
            limit: Some((true, 80.0)),
            crossing,
            alert: true,
            band: Vec::new(),
            ..Reply::default()
        }
    }

    fn outlook(reply: &Reply) -> Outlook<'_> {
        Outlook {
            reply,
            control: false,
            last: Some(1.7e12),
        }
    }

    #[test]
    fn the_time_to_limit_reads_in_hours_with_its_80_percent_interval() {
        // 1 point a minute: 240 points are 4 h.
        let r = reply(
            [Some(240.0), Some(180.0), Some(360.0), Some(150.0), None],
            Some(60.0),
        );
        let o = outlook(&r);
        assert_eq!(
            o.words(),
            "Reaches USL 80.000 in about 4 h (80%: 3–6 h).".replace("80.000", &fmt(80.0))
        );
        assert_eq!(
            o.due_in().as_deref(),
            Some(&*format!("due in about 4 h (USL {})", fmt(80.0)))
        );
        assert_eq!(o.due_at().map(|d| d.0), Some(1.7e12 + 240.0 * 60_000.0));
        let far = reply([None; 5], Some(60.0));
        assert!(outlook(&far).words().contains("not within the horizon"));
        assert_eq!(outlook(&far).due_in(), None);
        let mut few = far.clone();
        few.enough = false;
        assert!(outlook(&few).words().contains("not enough data"));
        let rows = reply([Some(12.0), Some(10.0), Some(15.0), None, None], None);
        let words = outlook(&rows).words();
        assert!(words.contains("12 points (80%: 10–15 points)"), "{words}");
    }
}
