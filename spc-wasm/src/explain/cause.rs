//! Suggested causes of an episode, in the domain's words, from one transparent table
//! ([`TABLE`]): each row says which shape a cause produces, a prior score, and which piece of
//! context, when present, confirms it. Nothing is learned here except from the user: a cause
//! recorded on a similar past episode ranks first ([`suggest`]'s `recorded`).
//!
//! Scores are in [0, 1] and only order the suggestions: a row's prior when its shape matches,
//! raised to at least 0.8 when its confirming context is present (e.g. "rate limiting" when
//! the episode saw 429s), and a cause with specific confirming context (not merely another
//! stream moving) but another shape keeps half its prior.

use super::co_moving::{CoMoving, BASELINE_FACTOR};
use super::shape::Shape;

/// Whose words: a probe target's (LLM) or a machine's (plant).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    /// Probe targets: latency, speed, errors of LLM providers.
    Llm,
    /// Machines: the shim's registers and topics.
    Plant,
}

/// What else is known about the episode's window against its baseline window. Every field is
/// optional: a shim stream knows no HTTP status.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Context {
    /// The other streams that changed most (from [`super::co_moving::rank`]).
    pub co_moving: Vec<CoMoving>,
    /// Rate-limited probes (429) in the window and in the baseline.
    pub rate_limited: Option<(u64, u64)>,
    /// Failed probes of any other kind, window and baseline.
    pub errors: Option<(u64, u64)>,
    /// The `model` the responses named, before and during, when it changed.
    pub model_change: Option<(String, String)>,
    /// The Cloudflare colo the probes ran from, before and during, when it changed.
    pub colo_change: Option<(String, String)>,
    /// Share of input tokens served from cache, baseline and window.
    pub cached_share: Option<(f64, f64)>,
    /// Mean input tokens per probe, baseline and window.
    pub input_tokens: Option<(f64, f64)>,
    /// Source status events (stale, reconnects, exceptions) in the window.
    pub source_events: Option<u64>,
}

/// The piece of context that confirms a cause.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Confirm {
    /// Nothing but the shape.
    Shape,
    /// 429s in the window at more than twice the baseline's rate.
    RateLimited,
    /// Failures in the window at more than twice the baseline's rate.
    Errors,
    /// The responses' model changed.
    ModelChange,
    /// The colo changed.
    ColoChange,
    /// The cached share moved by 20 points or more.
    CacheChange,
    /// Input tokens moved by 20 % or more.
    TokenChange,
    /// Another stream changed with it (KS D ≥ 0.5, p < 0.01: a one-point window proves nothing).
    CoMoving,
    /// The source reported trouble.
    SourceEvents,
}

/// One row: the domain, the shape the cause produces, the cause, its prior, what confirms it.
pub type Row = (Domain, Shape, &'static str, f64, Confirm);

/// The table, by domain and shape.
pub const TABLE: &[Row] = &[
    (
        Domain::Llm,
        Shape::Spike,
        "provider incident",
        0.5,
        Confirm::Errors,
    ),
    (
        Domain::Llm,
        Shape::Spike,
        "rate limiting",
        0.4,
        Confirm::RateLimited,
    ),
    (
        Domain::Llm,
        Shape::Step,
        "model version change",
        0.4,
        Confirm::ModelChange,
    ),
    (
        Domain::Llm,
        Shape::Step,
        "region routing",
        0.35,
        Confirm::ColoChange,
    ),
    (
        Domain::Llm,
        Shape::Step,
        "cache behaviour change",
        0.35,
        Confirm::CacheChange,
    ),
    (
        Domain::Llm,
        Shape::Step,
        "prompt or token-count change",
        0.35,
        Confirm::TokenChange,
    ),
    (
        Domain::Llm,
        Shape::Step,
        "provider incident",
        0.3,
        Confirm::Errors,
    ),
    (
        Domain::Llm,
        Shape::Drift,
        "provider load rising",
        0.5,
        Confirm::RateLimited,
    ),
    (
        Domain::Llm,
        Shape::Variance,
        "provider incident",
        0.5,
        Confirm::Errors,
    ),
    (
        Domain::Llm,
        Shape::Variance,
        "rate limiting",
        0.4,
        Confirm::RateLimited,
    ),
    (
        Domain::Llm,
        Shape::Mixture,
        "region routing",
        0.6,
        Confirm::ColoChange,
    ),
    (
        Domain::Llm,
        Shape::Mixture,
        "cache behaviour change",
        0.4,
        Confirm::CacheChange,
    ),
    (
        Domain::Llm,
        Shape::Cyclic,
        "time-of-day load",
        0.6,
        Confirm::Shape,
    ),
    (
        Domain::Llm,
        Shape::Oscillation,
        "retries alternating with fresh requests",
        0.4,
        Confirm::RateLimited,
    ),
    (
        Domain::Llm,
        Shape::Stuck,
        "a probe or cache answering the same",
        0.5,
        Confirm::CacheChange,
    ),
    (
        Domain::Plant,
        Shape::Drift,
        "tool wear",
        0.6,
        Confirm::Shape,
    ),
    (
        Domain::Plant,
        Shape::Drift,
        "sensor drift (calibration)",
        0.3,
        Confirm::SourceEvents,
    ),
    (
        Domain::Plant,
        Shape::Step,
        "material lot change",
        0.5,
        Confirm::Shape,
    ),
    (
        Domain::Plant,
        Shape::Step,
        "setpoint change",
        0.45,
        Confirm::CoMoving,
    ),
    (
        Domain::Plant,
        Shape::Spike,
        "sensor glitch",
        0.5,
        Confirm::SourceEvents,
    ),
    (
        Domain::Plant,
        Shape::Spike,
        "one bad part or event",
        0.4,
        Confirm::Shape,
    ),
    (
        Domain::Plant,
        Shape::Stuck,
        "sensor stuck or failing",
        0.7,
        Confirm::SourceEvents,
    ),
    (
        Domain::Plant,
        Shape::Variance,
        "sensor failing",
        0.4,
        Confirm::SourceEvents,
    ),
    (
        Domain::Plant,
        Shape::Variance,
        "loose fixture or worn bearing",
        0.4,
        Confirm::Shape,
    ),
    (
        Domain::Plant,
        Shape::Oscillation,
        "over-adjustment",
        0.7,
        Confirm::Shape,
    ),
    (
        Domain::Plant,
        Shape::Mixture,
        "two alternating sources",
        0.7,
        Confirm::Shape,
    ),
    (
        Domain::Plant,
        Shape::Cyclic,
        "a periodic cause (HVAC, shift, ambient)",
        0.6,
        Confirm::CoMoving,
    ),
];

/// One suggestion.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Suggestion {
    /// The cause, in the domain's words.
    pub cause: String,
    /// In [0, 1]; orders the suggestions.
    pub score: f64,
    /// Why, in words.
    pub evidence: String,
}

/// The suggestions for an episode of `shape` in `domain`, best first. `recorded` are the causes
/// users recorded on similar past episodes, with their z-normalized distance (smaller is more
/// alike): they rank first.
pub fn suggest(
    domain: Domain,
    shape: Shape,
    context: &Context,
    recorded: &[(String, f64)],
) -> Vec<Suggestion> {
    let mut out: Vec<Suggestion> = Vec::new();
    for (cause, distance) in recorded {
        if out.iter().any(|s| &s.cause == cause) {
            continue;
        }
        out.push(Suggestion {
            cause: cause.clone(),
            score: 1.0,
            evidence: format!("recorded on a similar past episode (distance {distance:.2})"),
        });
    }
    let mut table: Vec<Suggestion> = TABLE
        .iter()
        .filter(|row| row.0 == domain)
        .filter_map(|&(_, row_shape, cause, prior, confirm)| {
            let confirmed = confirmation(confirm, context);
            // Another stream moving says nothing of a cause that shows as another shape.
            let specific = confirm != Confirm::CoMoving;
            let score = match (row_shape == shape, &confirmed) {
                (true, Some(_)) => prior.max(0.8),
                (true, None) => prior,
                (false, Some(_)) if specific => prior / 2.0,
                (false, _) => return None,
            };
            let mut evidence = format!("a {} is what {cause} looks like", shape.as_str());
            if row_shape != shape {
                evidence = format!("{cause} usually shows as a {}", row_shape.as_str());
            }
            if let Some(why) = confirmed {
                evidence = format!("{evidence}; {why}");
            }
            Some(Suggestion {
                cause: cause.to_string(),
                score,
                evidence,
            })
        })
        .collect();
    super::sort::sort_by_key(&mut table, |s| super::sort::descending(s.score));
    for s in table {
        if !out.iter().any(|o| o.cause == s.cause) {
            out.push(s);
        }
    }
    out
}

/// The words of the context that confirms a cause, when it does.
fn confirmation(confirm: Confirm, c: &Context) -> Option<String> {
    // The baseline is BASELINE_FACTOR windows long: more than twice its rate, and at least one.
    let more = |(window, baseline): (u64, u64)| {
        window >= 1 && window as f64 > 2.0 * baseline as f64 / BASELINE_FACTOR as f64
    };
    match confirm {
        Confirm::Shape => None,
        Confirm::RateLimited => c
            .rate_limited
            .filter(|&r| more(r))
            .map(|(w, b)| format!("{w} rate-limited probes (429) in the episode, {b} in the baseline four times as long")),
        Confirm::Errors => c
            .errors
            .filter(|&r| more(r))
            .map(|(w, b)| format!("{w} failed probes in the episode, {b} in the baseline four times as long")),
        Confirm::ModelChange => c
            .model_change
            .as_ref()
            .map(|(before, after)| format!("the responses' model changed from {before} to {after}")),
        Confirm::ColoChange => c
            .colo_change
            .as_ref()
            .map(|(before, after)| format!("the probes ran from colo {after}, not {before}")),
        Confirm::CacheChange => c
            .cached_share
            .filter(|(b, w)| (w - b).abs() >= 0.2)
            .map(|(b, w)| format!("cached input went from {:.0} % to {:.0} %", 100.0 * b, 100.0 * w)),
        Confirm::TokenChange => c
            .input_tokens
            .filter(|(b, w)| *b > 0.0 && ((w - b) / b).abs() >= 0.2)
            .map(|(b, w)| format!("input tokens per probe went from {b:.0} to {w:.0}")),
        Confirm::CoMoving => c
            .co_moving
            .iter()
            .find(|m| m.statistic >= 0.5 && m.p_value < 0.01)
            .map(|m| format!("{} changed with it (KS D {:.2})", m.stream, m.statistic)),
        Confirm::SourceEvents => c
            .source_events
            .filter(|&n| n > 0)
            .map(|n| format!("the source reported {n} status event(s) (stale, reconnect, exception)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn top(domain: Domain, shape: Shape, context: &Context) -> String {
        suggest(domain, shape, context, &[])[0].cause.clone()
    }

    #[test]
    fn each_shape_has_a_first_suggestion_in_each_domain() {
        let none = Context::default();
        for domain in [Domain::Llm, Domain::Plant] {
            for shape in Shape::ALL {
                assert!(
                    !suggest(domain, shape, &none, &[]).is_empty(),
                    "{domain:?} {shape:?}"
                );
            }
        }
        assert_eq!(top(Domain::Plant, Shape::Drift, &none), "tool wear");
        assert_eq!(
            top(Domain::Plant, Shape::Oscillation, &none),
            "over-adjustment"
        );
        assert_eq!(
            top(Domain::Plant, Shape::Mixture, &none),
            "two alternating sources"
        );
        assert_eq!(
            top(Domain::Plant, Shape::Stuck, &none),
            "sensor stuck or failing"
        );
        assert_eq!(top(Domain::Llm, Shape::Mixture, &none), "region routing");
    }

    #[test]
    fn context_confirms_a_cause() {
        let limited = Context {
            rate_limited: Some((3, 1)),
            ..Context::default()
        };
        assert_eq!(top(Domain::Llm, Shape::Spike, &limited), "rate limiting");
        let s = &suggest(Domain::Llm, Shape::Spike, &limited, &[])[0];
        assert!(
            s.evidence.contains("3 rate-limited probes (429)"),
            "{}",
            s.evidence
        );
        let usual = Context {
            rate_limited: Some((1, 4)),
            ..Context::default()
        };
        assert_eq!(top(Domain::Llm, Shape::Spike, &usual), "provider incident");

        let model = Context {
            model_change: Some(("gpt-4o-2024-08-06".into(), "gpt-4o-2024-11-20".into())),
            ..Context::default()
        };
        assert_eq!(
            top(Domain::Llm, Shape::Step, &model),
            "model version change"
        );
        let tokens = Context {
            input_tokens: Some((100.0, 400.0)),
            ..Context::default()
        };
        assert_eq!(
            top(Domain::Llm, Shape::Step, &tokens),
            "prompt or token-count change"
        );
        let colo = Context {
            colo_change: Some(("FRA".into(), "AMS".into())),
            ..Context::default()
        };
        assert_eq!(top(Domain::Llm, Shape::Step, &colo), "region routing");

        let setpoint = Context {
            co_moving: vec![CoMoving {
                stream: "press1/setpoint".into(),
                statistic: 0.9,
                p_value: 1e-9,
                shift: Some(4.0),
            }],
            ..Context::default()
        };
        assert_eq!(
            top(Domain::Plant, Shape::Step, &setpoint),
            "setpoint change"
        );
        assert_eq!(
            top(Domain::Plant, Shape::Step, &Context::default()),
            "material lot change"
        );
    }

    #[test]
    fn a_cause_recorded_on_a_similar_episode_ranks_first() {
        let recorded = [
            ("coolant pump".to_string(), 1.3),
            ("tool wear".to_string(), 2.0),
        ];
        let got = suggest(Domain::Plant, Shape::Drift, &Context::default(), &recorded);
        assert_eq!(got[0].cause, "coolant pump");
        assert_eq!(got[1].cause, "tool wear");
        assert_eq!(got.iter().filter(|s| s.cause == "tool wear").count(), 1);
    }
}
