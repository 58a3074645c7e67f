//! Why an alert fired (issue 13): the words the webhook message carries for an episode the
//! cron opens. The engine reads them (`llmscope_spc::explain`): the episode's **shape**, the
//! **top suggested cause** from its transparent table, confirmed by the probes' context (429s,
//! failures, the model the responses named, the colo, cached and input tokens: the Worker's
//! `extra`, [`crate::context`]), and the target's other metrics that **moved with it**, ranked
//! as "what else changed" ranks streams (two-sample Kolmogorov–Smirnov D between the episode
//! and a baseline four times as long just before it, ties broken by the standardized shift).
//!
//! Every metric is read on the probe axis: an episode of TTFT (a point per successful probe)
//! or of the error rate (a point per subgroup of probes) covers a range of probes, and each
//! other metric is compared over the probes in that range against those just before.

use llmscope_protocol::probe::{ErrorKind, ProbeResult};
use llmscope_spc::explain::cause::{suggest, ContextSeries, Domain};
use llmscope_spc::explain::co_moving::{change, CoMoving};
use llmscope_spc::explain::episode::with_rules;
use llmscope_spc::explain::shape::classify;
use llmscope_spc::{RuleSignal, Signal};
use serde::{Deserialize, Serialize};

/// The score from which a cause is confirmed by its context (the cause table's floor for a
/// confirmed cause, `llmscope_spc::explain::cause`).
pub const CONFIRMED: f64 = 0.8;

/// The other metrics named in the message at most.
pub const CO_MOVING_SHOWN: usize = 3;

/// The explanation an alert carries (each field documented in workers/README.md).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Why {
    /// The engine's shape: `spike`, `step`, `drift`, `variance`, `oscillation`, `stuck`,
    /// `cyclic` or `mixture`.
    pub shape: String,
    /// What the shape was read from.
    pub shape_evidence: ShapeEvidence,
    /// The time of the episode's first point (the start of its earliest pattern), epoch ms.
    pub since_t: i64,
    /// The best suggested cause, with its evidence in words.
    pub suggestion: Option<Suggested>,
    /// The target's other metrics, most changed first.
    pub co_moving: Vec<Moved>,
}

/// The features a shape is read from ([`llmscope_spc::explain::shape`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShapeEvidence {
    /// Points the features were read over (the episode and the points after it, up to 40).
    pub points: usize,
    /// Points in the episode itself.
    pub episode_points: usize,
    /// Mean distance from the center, in sigmas: a step's size.
    pub mean_z: f64,
    /// Variance over the chart's, (sd / sigma)².
    pub variance_ratio: f64,
    /// How far the fitted line moves over the points, in sigmas.
    pub trend: f64,
}

/// A suggested cause.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Suggested {
    /// The cause, in the domain's words (`rate limiting`, `model version change`, ...).
    pub cause: String,
    /// In [0, 1]: a prior, at least 0.8 when the context confirms it.
    pub score: f64,
    /// Why, in words.
    pub evidence: String,
}

/// Another metric of the same target, over the same probes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Moved {
    /// `ttft_ms`, `total_ms`, `tokens_per_s`, `error_rate`, `pass_rate` or `input_tokens`.
    pub metric: String,
    /// Kolmogorov–Smirnov D between the episode's probes and the baseline's.
    pub statistic: f64,
    /// Its two-sided p-value.
    pub p_value: f64,
    /// (episode mean − baseline mean) / baseline sd; null when the baseline is flat.
    pub shift: Option<f64>,
}

/// One charted metric as the alerting saw it: the points' values, and for each the range of
/// probes (indexes into the history) it stands for.
pub struct Charted<'a> {
    /// The metric's name (left out of its own co-moving list).
    pub metric: &'a str,
    /// The plotted values.
    pub values: &'a [f64],
    /// The first and last probe of each point.
    pub probes: &'a [(usize, usize)],
    /// The chart's primary signals (every test, every point).
    pub signals: &'a [Signal],
    /// The named rules' signals that alarm (warnings left out).
    pub rule_signals: &'a [RuleSignal],
    /// The first Phase II point.
    pub phase2: usize,
    /// Unflagged points in a row that close an episode.
    pub clean_run: usize,
}

/// The explanation of the episode holding point `at` of `chart`, on a chart of `center` and
/// `sigma` (> 0); `None` when no episode holds it.
pub fn explain(
    history: &[ProbeResult],
    chart: &Charted,
    at: usize,
    center: f64,
    sigma: f64,
) -> Option<Why> {
    let found = with_rules(
        chart.signals,
        chart.rule_signals,
        chart.phase2,
        chart.clean_run,
    );
    let k = found.iter().position(|e| e.first <= at && at <= e.last)?;
    let e = &found[k];
    let end = found
        .get(k + 1)
        .map_or(chart.values.len(), |next| next.first);
    let upto = chart.values.get(..end.max(e.last + 1))?;
    let (shape, ev) = classify(upto, e.first, e.last, center, sigma, &e.tests);
    let first = chart.probes.get(e.first)?.0;
    let last = chart.probes.get(e.last)?.1;
    let moved = co_moving(history, chart.metric, first, last);
    let context = context(history).around(first, last, moved.clone());
    let suggestion = suggest(Domain::Llm, shape, &context, &[])
        .into_iter()
        .next()
        .map(|s| Suggested {
            cause: s.cause,
            score: s.score,
            evidence: s.evidence,
        });
    Some(Why {
        shape: shape.as_str().into(),
        shape_evidence: ShapeEvidence {
            points: ev.n,
            episode_points: ev.episode,
            mean_z: ev.mean_z,
            variance_ratio: ev.variance_ratio,
            trend: ev.trend,
        },
        since_t: history.get(first)?.t,
        suggestion,
        co_moving: moved
            .into_iter()
            .map(|m| Moved {
                metric: m.stream,
                statistic: m.statistic,
                p_value: m.p_value,
                shift: m.shift,
            })
            .collect(),
    })
}

/// The metrics compared, each a value per probe that has one.
const METRICS: [&str; 6] = [
    "ttft_ms",
    "total_ms",
    "tokens_per_s",
    "error_rate",
    "pass_rate",
    "input_tokens",
];

/// A metric's value for one probe: latencies and speed of successful probes, 1 or 0 for a
/// failure (error rate) and a passed check (pass rate), the reported input tokens.
fn value(r: &ProbeResult, metric: &str) -> Option<f64> {
    let ok = |v: Option<f64>| v.filter(|_| r.ok);
    let v = match metric {
        "ttft_ms" => ok(r.ttft_ms),
        "total_ms" => ok(r.total_ms),
        "tokens_per_s" => ok(r.tokens_per_s),
        "error_rate" => Some(if r.ok { 0.0 } else { 1.0 }),
        "pass_rate" => r.quality_pass.map(|p| if p { 1.0 } else { 0.0 }),
        "input_tokens" => r.input_tokens.map(|n| n as f64),
        _ => None,
    };
    v.filter(|v| v.is_finite())
}

/// The other metrics over probes `first..=last`, most changed first (D, then |shift|), each
/// against its own values just before (four times as many).
fn co_moving(history: &[ProbeResult], me: &str, first: usize, last: usize) -> Vec<CoMoving> {
    let mut all: Vec<CoMoving> = METRICS
        .iter()
        .filter(|m| **m != me)
        .filter_map(|m| {
            let (at, values): (Vec<usize>, Vec<f64>) = history
                .iter()
                .enumerate()
                .filter_map(|(i, r)| Some((i, value(r, m)?)))
                .unzip();
            let a = at.iter().position(|&i| i >= first)?;
            let b = at.iter().rposition(|&i| i <= last)?;
            (a <= b).then(|| change(m, &values, a, b)).flatten()
        })
        .collect();
    let size = |m: &CoMoving| m.shift.map_or(0.0, f64::abs);
    all.sort_by(|x, y| {
        y.statistic
            .total_cmp(&x.statistic)
            .then(size(y).total_cmp(&size(x)))
    });
    all
}

/// What each probe says besides its measurements, for the cause table.
fn context(history: &[ProbeResult]) -> ContextSeries {
    let kind = |r: &ProbeResult| r.error.as_ref().map(|e| e.kind);
    let text = |r: &ProbeResult, key: &str| r.extra.get(key)?.as_str().map(str::to_string);
    ContextSeries {
        rate_limited: history
            .iter()
            .map(|r| kind(r) == Some(ErrorKind::RateLimited))
            .collect(),
        failed: history
            .iter()
            .map(|r| !r.ok && kind(r) != Some(ErrorKind::RateLimited))
            .collect(),
        model: history.iter().map(|r| text(r, "response_model")).collect(),
        colo: history
            .iter()
            .map(|r| text(r, "colo").or_else(|| text(r, "provider_colo")))
            .collect(),
        cached_tokens: history
            .iter()
            .map(|r| r.cached_input_tokens.map(|n| n as f64))
            .collect(),
        input_tokens: history
            .iter()
            .map(|r| r.input_tokens.map(|n| n as f64))
            .collect(),
    }
}

impl Why {
    /// The lines the message's text adds under its alert.
    pub fn describe(&self) -> Vec<String> {
        let e = &self.shape_evidence;
        let mut lines = vec![format!(
            "shape: {} ({} point(s), mean {:+.1} sigma, variance ratio {:.2}, trend {:+.1} sigma)",
            self.shape, e.episode_points, e.mean_z, e.variance_ratio, e.trend
        )];
        if let Some(s) = &self.suggestion {
            // Confirmed by the context (or recorded by a user): likely; else only the shape's.
            let word = if s.score >= CONFIRMED {
                "likely"
            } else {
                "possible"
            };
            lines.push(format!(
                "{word} cause: {} (score {:.2}): {}",
                s.cause, s.score, s.evidence
            ));
        }
        let moved: Vec<String> = self
            .co_moving
            .iter()
            .take(CO_MOVING_SHOWN)
            .map(|m| {
                let shift = m.shift.map_or(String::new(), |s| format!(", {s:+.1} sd"));
                format!(
                    "{} (KS D {:.2}, p {:.2e}{shift})",
                    m.metric, m.statistic, m.p_value
                )
            })
            .collect();
        if !moved.is_empty() {
            lines.push(format!("moved with it: {}", moved.join(", ")));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{evaluate, Metric, Settings, State};
    use crate::notify::tests::legacy_body as webhook_body;
    use llmscope_protocol::probe::ProbeError;
    use llmscope_spc::Rng;

    /// A probe at second `i`: a 429 with `retry-after` when `limited`, else answered after
    /// `ttft` ms.
    fn probe(i: usize, ttft: f64, limited: bool) -> ProbeResult {
        let ok = !limited;
        ProbeResult {
            target: "x".into(),
            provider: "openai".into(),
            model: "gpt-4o-mini".into(),
            t: i as i64 * 1000,
            ok,
            status: Some(if ok { 200 } else { 429 }),
            ttft_ms: ok.then_some(ttft),
            total_ms: ok.then_some(ttft + 100.0),
            input_tokens: ok.then_some(20),
            output_tokens: ok.then_some(8),
            cached_input_tokens: None,
            tokens_per_s: ok.then_some(80.0),
            cost_usd: None,
            error: (!ok).then(|| ProbeError {
                kind: ErrorKind::RateLimited,
                message: "HTTP 429: Rate limit reached".into(),
                retry_after_s: Some(2.0),
            }),
            quality_pass: None,
            extra: Default::default(),
        }
    }

    /// 60 probes around 50 ms, then a burst of 429s: every other probe throttled, and those
    /// answered wait behind the throttling (80 ms).
    fn burst() -> Vec<ProbeResult> {
        let mut rng = Rng::new(5);
        (0..72)
            .map(|i| {
                let noise = 2.0 * rng.normal();
                match i {
                    0..60 => probe(i, 50.0 + noise, false),
                    _ => probe(i, 80.0 + noise, i % 2 == 1),
                }
            })
            .collect()
    }

    #[test]
    fn a_429_burst_is_a_step_caused_by_rate_limiting_with_the_error_rate_moving() {
        let history = burst();
        let mut state = State::default();
        let alerts = evaluate(
            "x",
            Metric::TtftMs,
            &history,
            &Settings::default(),
            &mut state,
        )
        .unwrap();
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        let why = alerts[0].why.clone().expect("an explanation");
        assert_eq!(why.shape, "step", "{why:?}");
        assert_eq!(why.since_t, 60_000);
        assert_eq!(why.shape_evidence.episode_points, 6);
        assert!(why.shape_evidence.mean_z > 5.0, "{why:?}");
        let top = why.suggestion.clone().unwrap();
        assert_eq!(top.cause, "rate limiting", "{top:?}");
        assert!(top.score >= 0.8);
        assert!(
            top.evidence
                .contains("5 rate-limited probes (429) in the episode, 0"),
            "{}",
            top.evidence
        );
        // total_ms moves with TTFT (D 1), then 5 of the 11 probes failing (D 5/11); TTFT itself
        // is not its own co-moving metric, and speed and input tokens did not move.
        let moved: Vec<(&str, f64)> = why
            .co_moving
            .iter()
            .map(|m| (m.metric.as_str(), m.statistic))
            .collect();
        // Probes 60 to 70: the episode's first and last successful ones, 5 throttled between.
        assert_eq!(moved[0].0, "total_ms", "{moved:?}");
        assert!((moved[0].1 - 1.0).abs() < 1e-9, "{moved:?}");
        assert_eq!(moved[1].0, "error_rate", "{moved:?}");
        assert!((moved[1].1 - 5.0 / 11.0).abs() < 1e-9, "{moved:?}");
        assert!(why.co_moving[1].p_value < 0.01, "{:?}", why.co_moving[1]);
        assert!(!moved.iter().any(|m| m.0 == "ttft_ms"));

        // The message: the words under the alert, the fields beside its own.
        let body = webhook_body("x", &alerts);
        let text = body["text"].as_str().unwrap();
        assert!(
            text.contains("\n  shape: step (6 point(s), mean +"),
            "{text}"
        );
        assert!(
            text.contains("\n  likely cause: rate limiting (score 0.80): a step is what rate limiting looks like; 5 rate-limited probes (429)"),
            "{text}"
        );
        assert!(
            text.contains("\n  moved with it: total_ms (KS D 1.00, p "),
            "{text}"
        );
        let a = &body["llmscope"]["alerts"][0];
        assert_eq!(a["shape"], "step");
        assert_eq!(a["suggestion"]["cause"], "rate limiting");
        assert_eq!(a["co_moving"][1]["metric"], "error_rate");
        assert_eq!(a["since_t"], 60_000);
        assert_eq!(a["shape_evidence"]["episode_points"], 6);
        // Stored and read back for a later delivery, it says the same.
        // (the same words; serde_json may read a float back one unit off in its last place).
        let stored = serde_json::to_string(&alerts[0]).unwrap();
        let back = crate::alert::Alert::from_stored(&stored).unwrap();
        assert_eq!(
            webhook_body("x", std::slice::from_ref(&back))["text"],
            body["text"]
        );
        assert_eq!(back.why.map(|w| w.suggestion), Some(why.suggestion));
    }

    #[test]
    fn an_error_rate_episode_compares_the_other_metrics_over_its_subgroups_probes() {
        // 200 clean probes, then 20 of which every other one is throttled: the p chart's
        // subgroups 20 and 21 (probes 200..220) are the episode.
        let mut rng = Rng::new(9);
        let history: Vec<ProbeResult> = (0..220)
            .map(|i| {
                let noise = 2.0 * rng.normal();
                match i {
                    0..200 => probe(i, 50.0 + noise, false),
                    _ => probe(i, 80.0 + noise, i % 2 == 1),
                }
            })
            .collect();
        let mut state = State::default();
        let alerts = evaluate(
            "x",
            Metric::ErrorRate,
            &history,
            &Settings::default(),
            &mut state,
        )
        .unwrap();
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        let why = alerts[0].why.clone().unwrap();
        assert_eq!(why.since_t, 200_000, "the subgroup's first probe");
        assert_eq!(why.suggestion.as_ref().unwrap().cause, "rate limiting");
        assert!(why.co_moving.iter().all(|m| m.metric != "error_rate"));
        let ttft = why
            .co_moving
            .iter()
            .find(|m| m.metric == "ttft_ms")
            .unwrap();
        assert!((ttft.statistic - 1.0).abs() < 1e-9, "{why:?}");
    }

    #[test]
    fn an_alert_stored_before_the_explanation_reads_without_one() {
        let old = r#"{"target":"x","metric":"ttft_ms","t":1,"value":2.0,"center":1.0,"lcl":0.0,"ucl":1.5,"tests":[1]}"#;
        let a = crate::alert::Alert::from_stored(old).unwrap();
        assert_eq!(a.why, None);
        let body = webhook_body("x", &[a]);
        assert_eq!(body["text"].as_str().unwrap().lines().count(), 2);
        assert!(body["llmscope"]["alerts"][0].get("shape").is_none());
    }
}
