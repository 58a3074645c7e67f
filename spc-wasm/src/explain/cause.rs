//! Suggested causes of an episode, in the domain's words, from one transparent table
//! ([`TABLE`]): each row says which shape a cause produces, a prior score, and which piece of
//! context, when present, confirms it. Nothing is learned here except from the user: a cause
//! recorded on a similar past episode ranks first ([`suggest`]'s `recorded`).
//!
//! Scores are in [0, 1] and only order the suggestions: a row's prior when its shape matches,
//! raised to at least 0.8 when its confirming context is present (e.g. "rate limiting" when
//! the episode saw 429s), and a cause with specific confirming context (not merely another
//! stream moving) but another shape keeps half its prior.
//!
//! The context comes summed up ([`Context`]) or per point ([`ContextSeries`]: a probe's 429s,
//! failures, response model, colo, cached and input tokens), read over the episode against a
//! baseline four times as long, as "what else changed" reads the other streams. Each LLM row's
//! rationale, with its source, is on its test.

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

/// What is known of each point of the streams' shared index (time) axis besides the values:
/// for a probe target, each probe's outcome and what its provider said (the Worker's `extra`,
/// workers/README.md). One entry per point; a field left empty is unknown, and an entry of
/// `None` is a point that did not say (a failed probe reports no tokens). [`Self::around`]
/// sums it up over an episode against its baseline, as "what else changed" does.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContextSeries {
    /// Whether the point was rate limited (HTTP 429, or the provider's throttling event).
    pub rate_limited: Vec<bool>,
    /// Whether it failed otherwise (5xx, timeout, a cut stream, ...).
    pub failed: Vec<bool>,
    /// The model the response named (`extra.response_model`).
    pub model: Vec<Option<String>>,
    /// The Cloudflare colo the probe ran from (`extra.colo`, else `extra.provider_colo`).
    pub colo: Vec<Option<String>>,
    /// Input tokens served from the provider's cache.
    pub cached_tokens: Vec<Option<f64>>,
    /// Input tokens, cached included.
    pub input_tokens: Vec<Option<f64>>,
}

impl ContextSeries {
    /// The [`Context`] of the episode `[first, last]` (0-based, inclusive) against the
    /// baseline just before it, [`BASELINE_FACTOR`] times as long (shorter at the start), with
    /// the co-moving streams already ranked. Counts are per window; a categorical change (the
    /// model, the colo) is the most frequent value of the window differing from the
    /// baseline's; shares and means are over the points that reported them.
    pub fn around(&self, first: usize, last: usize, co_moving: Vec<CoMoving>) -> Context {
        let len = last.saturating_sub(first) + 1;
        let base = first.saturating_sub(BASELINE_FACTOR * len)..first;
        let episode = first..last.saturating_add(1);
        let counts = |v: &[bool]| {
            let n = |r: std::ops::Range<usize>| {
                v.get(r).map_or(0, |w| w.iter().filter(|&&b| b).count()) as u64
            };
            (!v.is_empty()).then(|| (n(clip(&episode, v.len())), n(clip(&base, v.len()))))
        };
        let change = |v: &[Option<String>]| {
            let before = mode(v.get(clip(&base, v.len()))?)?;
            let after = mode(v.get(clip(&episode, v.len()))?)?;
            (before != after).then_some((before, after))
        };
        let sums = |r: &std::ops::Range<usize>| {
            let (cached, input) = (&self.cached_tokens, &self.input_tokens);
            let pairs = r
                .clone()
                .filter_map(|i| Some((cached.get(i).copied()??, input.get(i).copied()??)));
            pairs.fold((0.0, 0.0), |(c, n), (ci, ni)| (c + ci, n + ni))
        };
        let share = |r| Some(sums(r)).filter(|s| s.1 > 0.0).map(|(c, n)| c / n);
        let mean = |r: &std::ops::Range<usize>| {
            let v: Vec<f64> = r
                .clone()
                .filter_map(|i| self.input_tokens.get(i).copied()?)
                .collect();
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        };
        Context {
            co_moving,
            rate_limited: counts(&self.rate_limited),
            errors: counts(&self.failed),
            model_change: change(&self.model),
            colo_change: change(&self.colo),
            cached_share: share(&base).zip(share(&episode)),
            input_tokens: mean(&base).zip(mean(&episode)),
            source_events: None,
        }
    }
}

/// `r` cut to a series of `len` points.
fn clip(r: &std::ops::Range<usize>, len: usize) -> std::ops::Range<usize> {
    r.start.min(len)..r.end.min(len)
}

/// The most frequent value (the first seen among equals), ignoring points that said none.
fn mode(values: &[Option<String>]) -> Option<String> {
    let mut counts: Vec<(&String, usize)> = Vec::new();
    for v in values.iter().flatten() {
        match counts.iter_mut().find(|(c, _)| *c == v) {
            Some((_, n)) => *n += 1,
            None => counts.push((v, 1)),
        }
    }
    let best = counts.iter().map(|c| c.1).max()?;
    counts
        .into_iter()
        .find(|c| c.1 == best)
        .map(|c| c.0.clone())
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
        Shape::Step,
        "rate limiting",
        0.3,
        Confirm::RateLimited,
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
            let article = if shape == Shape::Oscillation {
                "an"
            } else {
                "a"
            };
            let mut evidence = format!("{article} {} is what {cause} looks like", shape.as_str());
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

    /// 60 points: a baseline of 40 (the window's 4 times) before a 10-point episode at
    /// 50..=59, with `at(i, in_episode)` giving each point's context.
    fn series<T>(at: impl Fn(usize, bool) -> T) -> Vec<T> {
        (0..60).map(|i| at(i, i >= 50)).collect()
    }

    /// The suggestions for `shape` given per-point context around the episode 50..=59.
    fn around(shape: Shape, c: &ContextSeries) -> (Context, Vec<Suggestion>) {
        let context = c.around(50, 59, Vec::new());
        let got = suggest(Domain::Llm, shape, &context, &[]);
        (context, got)
    }

    /// Provider incident: 5xx answers are the provider's own failures (OpenAI's error codes
    /// guide: 500 "issue on our servers", 503 "servers are experiencing high traffic");
    /// incidents on its status page show as failures with the latency they bring.
    #[test]
    fn failures_in_the_episode_confirm_a_provider_incident() {
        let c = ContextSeries {
            failed: series(|i, e| e && i % 3 == 0), // 51, 54, 57: 3 of 10
            ..ContextSeries::default()
        };
        let (context, got) = around(Shape::Spike, &c);
        assert_eq!(context.errors, Some((3, 0)));
        assert_eq!(got[0].cause, "provider incident");
        assert!(
            got[0]
                .evidence
                .contains("3 failed probes in the episode, 0"),
            "{}",
            got[0].evidence
        );
        // The same failures all through the baseline are the usual, not an incident.
        let usual = ContextSeries {
            failed: series(|i, _| i % 3 == 0),
            ..ContextSeries::default()
        };
        let (_, got) = around(Shape::Spike, &usual);
        assert!(!got[0].evidence.contains("failed probes"), "{got:?}");
    }

    /// Rate limiting: past its requests or tokens per minute a provider answers 429 with
    /// `retry-after` (OpenAI's and Anthropic's rate-limit guides), and a client that waits and
    /// retries answers late: latency steps up while the 429s last.
    #[test]
    fn rate_limited_probes_confirm_rate_limiting_for_a_step_or_a_spike() {
        let c = ContextSeries {
            rate_limited: series(|i, e| e && i % 2 == 0),
            failed: series(|_, _| false),
            ..ContextSeries::default()
        };
        for shape in [Shape::Step, Shape::Spike, Shape::Variance] {
            let (context, got) = around(shape, &c);
            assert_eq!(
                (context.rate_limited, context.errors),
                (Some((5, 0)), Some((0, 0)))
            );
            assert_eq!(got[0].cause, "rate limiting", "{shape:?}: {got:?}");
            assert!(
                got[0].evidence.contains("5 rate-limited probes (429)"),
                "{}",
                got[0].evidence
            );
        }
    }

    /// Model version change: an alias (`gpt-4o`, `claude-3-5-sonnet-latest`) points to a dated
    /// snapshot and moves when a new one ships (OpenAI's and Anthropic's models pages); the
    /// response names the snapshot that answered, so a new name is a new model.
    #[test]
    fn a_new_model_in_the_responses_confirms_a_model_version_change() {
        let c = ContextSeries {
            model: series(|_, e| {
                Some(
                    if e {
                        "gpt-4o-2024-11-20"
                    } else {
                        "gpt-4o-2024-08-06"
                    }
                    .to_string(),
                )
            }),
            ..ContextSeries::default()
        };
        let (context, got) = around(Shape::Step, &c);
        assert_eq!(
            context.model_change,
            Some(("gpt-4o-2024-08-06".into(), "gpt-4o-2024-11-20".into()))
        );
        assert_eq!(got[0].cause, "model version change");
        assert!(got[0]
            .evidence
            .contains("from gpt-4o-2024-08-06 to gpt-4o-2024-11-20"));
        // A failed probe names no model: it is not a change.
        let gaps = ContextSeries {
            model: series(|i, e| (!e || i % 2 == 0).then(|| "gpt-4o-2024-08-06".to_string())),
            ..ContextSeries::default()
        };
        assert_eq!(around(Shape::Step, &gaps).0.model_change, None);
    }

    /// Cache behaviour change: a prompt served from the provider's cache is read, not
    /// computed (OpenAI's prompt caching guide: latency down by up to 80 % for long prompts;
    /// Anthropic's `cache_read_input_tokens`), so a cache that stops hitting steps TTFT up.
    #[test]
    fn a_moved_cached_share_confirms_a_cache_behaviour_change() {
        let c = ContextSeries {
            cached_tokens: series(|_, e| Some(if e { 0.0 } else { 1024.0 })),
            input_tokens: series(|_, _| Some(1200.0)),
            ..ContextSeries::default()
        };
        let (context, got) = around(Shape::Step, &c);
        let (before, after) = context.cached_share.unwrap();
        assert!(
            (before - 1024.0 / 1200.0).abs() < 1e-12 && after == 0.0,
            "{context:?}"
        );
        assert_eq!(got[0].cause, "cache behaviour change");
        assert!(
            got[0]
                .evidence
                .contains("cached input went from 85 % to 0 %"),
            "{}",
            got[0].evidence
        );
    }

    /// Region routing: `request.cf.colo` names the Cloudflare data center that ran the probe
    /// (Cloudflare's Workers docs, `IncomingRequestCfProperties`); another colo is another
    /// path to the provider, and alternating ones are two populations (a mixture).
    #[test]
    fn a_new_colo_confirms_region_routing() {
        let c = ContextSeries {
            colo: series(|_, e| Some(if e { "LAX" } else { "SJC" }.to_string())),
            ..ContextSeries::default()
        };
        for shape in [Shape::Step, Shape::Mixture] {
            let (context, got) = around(shape, &c);
            assert_eq!(context.colo_change, Some(("SJC".into(), "LAX".into())));
            assert_eq!(got[0].cause, "region routing", "{shape:?}");
            assert!(got[0].evidence.contains("ran from colo LAX, not SJC"));
        }
    }

    /// Prompt or token-count change: the time to first token includes reading the prompt
    /// (prefill), which grows with its tokens (OpenAI's latency optimization guide, "use fewer
    /// input tokens"); a prompt four times as long answers later.
    #[test]
    fn more_input_tokens_confirm_a_prompt_change() {
        let c = ContextSeries {
            input_tokens: series(|_, e| Some(if e { 400.0 } else { 100.0 })),
            ..ContextSeries::default()
        };
        let (context, got) = around(Shape::Step, &c);
        assert_eq!(context.input_tokens, Some((100.0, 400.0)));
        assert_eq!(
            context.cached_share, None,
            "no cached counts: unknown, not 0"
        );
        assert_eq!(got[0].cause, "prompt or token-count change");
        assert!(
            got[0].evidence.contains("from 100 to 400"),
            "{}",
            got[0].evidence
        );
    }

    #[test]
    fn context_is_read_over_the_episode_and_a_baseline_four_times_as_long() {
        // A series shorter than the episode's end, and an episode near the start: clipped.
        let c = ContextSeries {
            rate_limited: vec![true, false, true, true, false, true],
            model: vec![None, Some("a".into()), Some("b".into()), Some("b".into())],
            ..ContextSeries::default()
        };
        let context = c.around(2, 7, Vec::new());
        assert_eq!(context.rate_limited, Some((3, 1)), "points 2..=5, and 0..2");
        assert_eq!(context.model_change, Some(("a".into(), "b".into())));
        assert_eq!(context.errors, None, "not known is not none");
        assert_eq!(c.around(0, 3, Vec::new()).model_change, None, "no baseline");
        assert_eq!(
            mode(&[None, Some("x".into()), Some("y".into()), Some("y".into())]),
            Some("y".into())
        );
        assert_eq!(
            mode(&[Some("x".into()), Some("y".into())]),
            Some("x".into()),
            "first among equals"
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
