//! The forecast of one stream (issue 14), run here so the dashboard's wasm carries none of the
//! engine's `forecast` (PELT, the fits, the simulated times to limit): the dashboard sends a
//! [`Request`] (the stream's values and the limits it is held against), this module answers
//! with a [`Reply`]: the engine's `predict` (degradation, time to limit, predictive alert)
//! and, when asked, the band of its `outlook` and a step back (`forecast::step`); with the
//! HTML the dashboard shows ([`html`]: the header, a card's line, the band as SVG).
//!
//! The limits are the caller's choice (spec limits when the stream has them, else its control
//! limits), as `llmscope-shim forecast --limit` does.

pub mod html;
pub mod words;

use crate::codec::{reading, In, Out, Read};

/// The most points read: the newest ones (the degradation window starts at the last
/// changepoint, so older points rarely matter, and a card must stay cheap).
pub const MAX_POINTS: usize = 5_000;

/// The longest horizon, in points (the time to limit is solved per line, not per step).
pub const MAX_HORIZON: u64 = 1_000_000;

/// What the dashboard asks.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// The stream's name (the event's summary).
    pub name: String,
    /// The product's name, or a white-label brand's: the calendar event's producer.
    pub product: String,
    /// The limits are control limits (UCL/LCL), not spec limits.
    pub control: bool,
    /// Now (epoch ms): the event's time stamp.
    pub now: f64,
    /// The stream's values (the newest [`MAX_POINTS`] are read).
    pub values: Vec<f64>,
    /// The newest samples' times (epoch ms), to turn points into time; empty or not clock
    /// times: the forecast is in points.
    pub times: Vec<f64>,
    /// The lower limit held against, if any.
    pub lower: Option<f64>,
    /// The upper limit held against, if any.
    pub upper: Option<f64>,
    /// Points ahead the time to limit and the alert look, when `times` give no interval (with
    /// one, the horizon is [`HORIZON_SECS`] of points).
    pub horizon: u64,
    /// Steps of the band wanted (0: none, a card).
    pub band: u64,
}

/// The horizon in time: the default H, 24 hours.
pub const HORIZON_SECS: f64 = 86_400.0;
/// Epoch ms after which a time is a clock time (2001), not a row number.
pub const CLOCK: f64 = 1e12;

/// One band step: median, 80% low and high, 95% low and high.
pub type Step = [f64; 5];

/// What the module answers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reply {
    /// Points read.
    pub n: u64,
    /// Seconds per point (the median sampling interval), when the times are clock times.
    pub interval: Option<f64>,
    /// There were enough points to forecast (else the rest is empty).
    pub enough: bool,
    /// The slope test found a degradation.
    pub detected: bool,
    /// The limit the forecast heads for: `true` the upper, with its value.
    pub limit: Option<(bool, f64)>,
    /// Time to limit in points after the last point: median, 80% and 95% ends (`None`: not
    /// within the horizon).
    pub crossing: [Option<f64>; 5],
    /// The predictive alert.
    pub alert: bool,
    /// The band, one step per point after the last.
    pub band: Vec<Step>,
    /// The stream view's header: the time to limit in words ([`words::Outlook::words`]) and,
    /// when asked for a band, a step back to confirm ([`html::header`]).
    pub header: String,
    /// A card's "due in" line, HTML ([`html::card`]; empty when nothing is due).
    pub card: String,
    /// The band chart as inline SVG ([`html::svg`]; empty without a band).
    pub svg: String,
    /// The limit it heads for in words ("USL 4.5").
    pub limit_name: Option<String>,
    /// A card's "due in" line, when a degradation heads to a limit within the horizon.
    pub due_in: Option<String>,
    /// When it is due (epoch ms), when the times are clock times.
    pub due_at: Option<f64>,
    /// The maintenance event (`.ics` text), with `due_at`.
    pub ics: Option<String>,
}

impl Request {
    /// The request as bytes for the module.
    pub fn encode(&self) -> Vec<u8> {
        let mut o = Out::default();
        o.str(&self.name);
        o.str(&self.product);
        o.bool(self.control);
        o.f64(self.now);
        o.list(&self.values, |o, v| o.f64(*v));
        o.list(&self.times, |o, v| o.f64(*v));
        o.opt(&self.lower, |o, v| o.f64(*v));
        o.opt(&self.upper, |o, v| o.f64(*v));
        o.u64(self.horizon);
        o.u64(self.band);
        o.0
    }

    /// The request of `bytes`; damaged bytes are an error in words.
    pub fn decode(bytes: &[u8]) -> Read<Request> {
        reading(bytes, |r| {
            Ok(Request {
                name: r.str()?,
                product: r.str()?,
                control: r.bool()?,
                now: r.f64()?,
                values: r.list(In::f64)?,
                times: r.list(In::f64)?,
                lower: r.opt(In::f64)?,
                upper: r.opt(In::f64)?,
                horizon: r.u64()?,
                band: r.u64()?,
            })
        })
    }
}

/// What the dashboard shows of a [`Reply`]: its HTML and the maintenance list's fields. It
/// crosses as one string, the fields joined by [`SEP`] (splitting it is all the dashboard's
/// wasm carries for it).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Shown {
    /// [`Reply::header`].
    pub header: String,
    /// [`Reply::card`].
    pub card: String,
    /// [`Reply::svg`].
    pub svg: String,
    /// The maintenance list's row, when the crossing has a date ([`html::row`]; else empty).
    pub row: String,
    /// [`Reply::ics`] (empty: none).
    pub ics: String,
    /// [`Reply::due_at`].
    pub due_at: Option<f64>,
}

/// The separator of [`Shown`]'s fields (taken out of the fields themselves).
pub const SEP: char = '\u{1}';

/// `fields` as one string, joined by [`SEP`] (taken out of each).
pub fn join(fields: &[&String]) -> String {
    fields
        .iter()
        .map(|f| f.replace(SEP, ""))
        .collect::<Vec<_>>()
        .join(&SEP.to_string())
}

impl Shown {
    /// What the dashboard shows of `reply`, the forecast of stream `name`.
    pub fn of(reply: Reply, name: &str) -> Shown {
        let due_in = reply.due_in.unwrap_or_default();
        let ics = reply.ics.unwrap_or_default();
        Shown {
            header: reply.header,
            card: reply.card,
            svg: reply.svg,
            row: if ics.is_empty() {
                String::new()
            } else {
                html::row(name, &due_in)
            },
            ics,
            due_at: reply.due_at,
        }
    }

    /// As one string for the dashboard.
    pub fn encode(&self) -> String {
        let due = self.due_at.map_or(String::new(), |t| t.to_string());
        join(&[
            &self.header,
            &self.card,
            &self.svg,
            &self.row,
            &self.ics,
            &due,
        ])
    }

    /// Of `text` ([`Shown::encode`]'s); missing fields are empty.
    pub fn decode(text: &str) -> Shown {
        let mut f = text.split(SEP).map(str::to_string);
        let mut next = || f.next().unwrap_or_default();
        Shown {
            header: next(),
            card: next(),
            svg: next(),
            row: next(),
            ics: next(),
            due_at: next().parse().ok(),
        }
    }
}

/// The median interval between `times` in seconds, when they are clock times.
pub fn interval(times: &[f64]) -> Option<f64> {
    if times.first()? < &CLOCK {
        return None;
    }
    let mut gaps: Vec<f64> = times.windows(2).map(|w| (w[1] - w[0]) / 1000.0).collect();
    gaps.retain(|g| g.is_finite() && *g > 0.0);
    gaps.sort_by(f64::total_cmp);
    gaps.get(gaps.len() / 2).copied()
}

/// The forecast of `request`: too few points is a reply that says so (`enough: false`); an
/// engine error (a non-finite value, limits the wrong way round) is in the engine's words.
#[cfg(feature = "module")]
pub fn run(request: &Request) -> Read<Reply> {
    let mut reply = forecast(request)?;
    let last = request.times.last().copied().filter(|t| *t >= CLOCK);
    let o = words::Outlook {
        reply: &reply,
        control: request.control,
        last,
    };
    let (text, limit_name, due_in) = (o.words(), o.limit(), o.due_in());
    let due = o.due_at();
    let ics = due.map(|d| {
        let summary = format!(
            "{} reaches {}",
            request.name,
            limit_name.clone().unwrap_or_default()
        );
        words::ics(&request.name, &request.product, &summary, d, request.now)
    });
    let back = (request.band > 0).then(|| step_back(request, &o)).flatten();
    reply.header = html::header(&text, back.as_ref().map(|(w, at)| (w.as_str(), *at)));
    reply.card = html::card(due_in.as_deref());
    if request.band > 0 {
        let v = &request.values;
        let history = &v[v.len().saturating_sub((reply.band.len() * 2).max(60))..];
        let limit = reply.limit.map(|l| l.1).zip(limit_name.as_deref());
        reply.svg = html::svg(history, &reply.band, limit, reply.crossing[0]);
    }
    reply.due_at = due.map(|d| d.0);
    (reply.limit_name, reply.due_in, reply.ics) = (limit_name, due_in, ics);
    Ok(reply)
}

/// The newest step back in `request`'s values (the newest [`MAX_POINTS`]), in words, with its
/// first point (an index into the values sent).
#[cfg(feature = "module")]
fn step_back(request: &Request, o: &words::Outlook) -> Option<(String, u64)> {
    let cut = request.values.len().saturating_sub(MAX_POINTS);
    let values = &request.values[cut..];
    let s = llmscope_spc::forecast::step::step_back(values).ok()??;
    Some((o.step_back(&s, values.len()), (cut + s.at) as u64))
}

/// The engine's forecast of `request`, without its words.
#[cfg(feature = "module")]
fn forecast(request: &Request) -> Read<Reply> {
    use llmscope_spc::forecast::{outlook, predict, Settings, Side};
    let values = &request.values[request.values.len().saturating_sub(MAX_POINTS)..];
    let interval = interval(&request.times);
    let horizon = interval.map_or(request.horizon, |i| (HORIZON_SECS / i).ceil() as u64);
    let settings = Settings {
        horizon: horizon.clamp(1, MAX_HORIZON) as usize,
        lower: request.lower,
        upper: request.upper,
        ..Settings::default()
    };
    let p = match predict(values, &settings) {
        Ok(p) => p,
        Err(llmscope_spc::SpcError::TooFewPoints { .. }) => {
            return Ok(Reply {
                n: values.len() as u64,
                interval,
                ..Reply::default()
            })
        }
        Err(e) => return Err(e.to_string()),
    };
    let band = if request.band == 0 {
        Vec::new()
    } else {
        let steps = request.band.min(settings.horizon as u64) as usize;
        let o = outlook(
            values,
            &Settings {
                horizon: steps,
                ..settings
            },
        )
        .map_err(|e| e.to_string())?;
        o.forecast
            .iter()
            .map(|s| [s.median, s.lo80, s.hi80, s.lo95, s.hi95])
            .collect()
    };
    let t = p.time_to_limit;
    let c = t.crossing;
    Ok(Reply {
        n: p.n as u64,
        interval,
        enough: true,
        detected: p.degradation.detected,
        limit: t.side.zip(t.limit).map(|(s, v)| (s == Side::Upper, v)),
        crossing: [c.median, c.lo80, c.hi80, c.lo95, c.hi95],
        alert: p.alert,
        band,
        ..Reply::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wearing(n: usize) -> Vec<f64> {
        // A rise of 0.01 a point with a small, fixed wiggle: it reaches 4.5 near point 300.
        (0..n)
            .map(|i| 1.5 + 0.01 * i as f64 + [0.02, -0.01, 0.0, 0.015, -0.02][i % 5])
            .collect()
    }

    #[test]
    fn a_request_and_what_is_shown_cross_unchanged_and_damaged_bytes_are_an_error() {
        let q = Request {
            name: "a/x".into(),
            product: "LLMscope".into(),
            control: false,
            now: 1.7e12,
            values: vec![1.0, 2.5],
            times: vec![1.7e12, 1.7e12 + 1000.0],
            lower: None,
            upper: Some(4.5),
            horizon: 100,
            band: 3,
        };
        let bytes = q.encode();
        assert_eq!(Request::decode(&bytes), Ok(q));
        assert!(Request::decode(&bytes[..bytes.len() - 1]).is_err());
        let a = Shown {
            header: "Reaches USL 4.5 in about 3 points".into(),
            card: "<p>due</p>".into(),
            svg: "<svg></svg>".into(),
            row: "<li>a/x</li>".into(),
            ics: "BEGIN:VCALENDAR\r\n".into(),
            due_at: Some(1.7e12 + 0.5),
        };
        assert_eq!(Shown::decode(&a.encode()), a);
        let none = Shown::default();
        assert_eq!(Shown::decode(&none.encode()), none);
        // The separator inside a field is taken out, not read as a field's end.
        let odd = Shown {
            header: format!("a{SEP}b"),
            ..Shown::default()
        };
        assert_eq!(Shown::decode(&odd.encode()).header, "ab");
    }

    #[test]
    fn a_wearing_stream_reaches_its_upper_limit_near_where_the_line_does() {
        let q = Request {
            name: "a/x".into(),
            product: "LLMscope".into(),
            control: false,
            now: 1.7e12,
            values: wearing(200),
            times: Vec::new(),
            lower: None,
            upper: Some(4.5),
            horizon: 1000,
            band: 50,
        };
        let a = run(&q).expect("a forecast");
        assert!(a.detected && a.alert);
        assert_eq!(a.limit, Some((true, 4.5)));
        // 1.5 + 0.01 i = 4.5 at i = 300: 101 points after the last (199).
        let median = a.crossing[0].expect("a crossing");
        assert!((median - 101.0).abs() < 5.0, "{median}");
        let (lo, hi) = (a.crossing[1].expect("lo80"), a.crossing[2].expect("hi80"));
        assert!(lo <= median && median <= hi);
        assert_eq!(a.band.len(), 50);
        assert!(a.header.starts_with("Reaches USL 4.5"), "{}", a.header);
        assert!(a.svg.starts_with("<svg") && a.card.contains("due in about"));
        assert!(
            !a.header.contains("forecast-rebaseline"),
            "no step back in a steady rise"
        );
        assert!(
            a.due_in.is_some() && a.ics.is_none(),
            "no clock times, no date"
        );
        assert!(a
            .band
            .iter()
            .all(|s| s[3] <= s[1] && s[1] <= s[0] && s[0] <= s[2] && s[2] <= s[4]));
    }

    #[test]
    fn too_few_points_say_so_and_bad_values_are_an_error_in_words() {
        let few = Request {
            name: "a/x".into(),
            product: "LLMscope".into(),
            control: false,
            now: 1.7e12,
            values: vec![1.0, 2.0],
            times: Vec::new(),
            lower: None,
            upper: Some(4.5),
            horizon: 10,
            band: 0,
        };
        assert!(!run(&few).expect("a reply").enough);
        let mut bad = few.clone();
        bad.values = wearing(50);
        bad.values[7] = f64::NAN;
        assert!(run(&bad).expect_err("NaN").contains('7'));
    }

    #[test]
    fn the_interval_is_the_median_gap_of_clock_times_only() {
        let t0 = 1.7e12;
        let times = [t0, t0 + 1000.0, t0 + 2000.0, t0 + 60_000.0, t0 + 61_000.0];
        assert_eq!(interval(&times), Some(1.0));
        assert_eq!(interval(&[0.0, 1.0, 2.0]), None);
        assert_eq!(interval(&[]), None);
    }

    #[test]
    fn a_step_back_is_offered_with_its_point_in_the_view_not_on_a_card() {
        // Flat, a rise of 4 over 80 points, back down at point 140.
        let wiggle = [0.1, -0.05, 0.0, 0.08, -0.1, 0.03, -0.07];
        let values: Vec<f64> = (0..220)
            .map(|i| {
                let level = if (60..140).contains(&i) {
                    0.05 * (i - 60) as f64
                } else {
                    0.0
                };
                2.0 + level + wiggle[i % 7]
            })
            .collect();
        let mut q = Request {
            name: "a/x".into(),
            product: "LLMscope".into(),
            control: false,
            now: 1.7e12,
            values,
            times: Vec::new(),
            lower: None,
            upper: Some(9.0),
            horizon: 100,
            band: 50,
        };
        let a = run(&q).expect("a forecast");
        assert!(
            a.header.contains("Step back 80 points ago (-3.9"),
            "{}",
            a.header
        );
        assert!(a.header.contains("data-at=\"140\""), "{}", a.header);
        q.band = 0;
        assert!(!run(&q).expect("a forecast").header.contains("Step back"));
    }

    #[test]
    fn a_flat_stream_is_not_due() {
        let q = Request {
            name: "a/x".into(),
            product: "LLMscope".into(),
            control: false,
            now: 1.7e12,
            values: (0..200).map(|i| 2.0 + [0.02, -0.01, 0.0][i % 3]).collect(),
            times: Vec::new(),
            lower: Some(1.0),
            upper: Some(3.0),
            horizon: 100,
            band: 0,
        };
        let a = run(&q).expect("a forecast");
        assert!(!a.alert);
        assert_eq!(a.crossing[0], None);
    }
}
