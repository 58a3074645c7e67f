//! The daily digest (`LLMSCOPE_DIGEST=daily`, workers/README.md): once per UTC day the cron
//! POSTs the comparison of every target to the webhook: the ranking in recommendation order,
//! each target's n, error rate, TTFT P95 with its interval and whether it is in statistical
//! control, and what changed since the last digest. What the last digest said is a
//! [`DigestState`], kept in D1; the change lines are a pure function of it and the new report.

use crate::compare::Window;
use llmscope_protocol::compare::Report;
use llmscope_spc::compare::{format_number, Interval, StreamSummary};
use serde::{Deserialize, Serialize};

/// Milliseconds in a UTC day.
pub const DAY_MS: f64 = 86_400_000.0;

/// `LLMSCOPE_DIGEST`: unset or empty is off, `daily` is on; anything else is a configuration
/// problem, reported as the message.
pub fn enabled(value: Option<&str>) -> Result<bool, String> {
    match value.map(str::trim) {
        None | Some("") => Ok(false),
        Some("daily") => Ok(true),
        Some(other) => Err(format!(
            "must be daily (or unset for no digest), not {other:?}"
        )),
    }
}

/// The UTC day of an instant: days since the epoch.
pub fn day(now_ms: f64) -> i64 {
    (now_ms / DAY_MS).floor() as i64
}

/// `YYYY-MM-DD` of a [`day`].
pub fn date(day: i64) -> String {
    chrono::DateTime::from_timestamp(day.saturating_mul(86_400), 0).map_or_else(
        || format!("day {day}"),
        |d| d.format("%Y-%m-%d").to_string(),
    )
}

/// What a digest said, to tell the next one what changed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DigestState {
    /// Its UTC [`day`].
    pub day: i64,
    /// Every target compared, in the report's order.
    pub targets: Vec<String>,
    /// The recommended target, if any.
    pub recommended: Option<String>,
    /// The ranked targets with their ranks (ties share one), best first.
    pub ranking: Vec<(String, usize)>,
    /// The Pareto frontier.
    pub pareto: Vec<String>,
    /// Targets out of statistical control.
    pub out_of_control: Vec<String>,
}

impl DigestState {
    /// What `report` says, on `day`.
    pub fn of(report: &Report, day: i64) -> DigestState {
        let rec = &report.recommendation;
        let targets = &report.comparison.targets;
        DigestState {
            day,
            targets: targets.iter().map(|t| t.name.clone()).collect(),
            recommended: rec.recommendation.name.clone(),
            ranking: rec
                .ranking
                .iter()
                .map(|r| (r.name.clone(), r.rank))
                .collect(),
            pareto: rec.pareto.clone(),
            out_of_control: targets
                .iter()
                .filter(|t| t.in_control == Some(false))
                .map(|t| t.name.clone())
                .collect(),
        }
    }

    fn rank(&self, name: &str) -> Option<usize> {
        self.ranking.iter().find(|(n, _)| n == name).map(|p| p.1)
    }
}

/// What changed from `previous` (the last digest) to `report`, one line each: the recommended
/// target, a target that went out of (or back into) statistical control, a move in rank, a
/// target that entered or left the ranking, and one that joined or left the Pareto frontier.
/// Empty when nothing did.
pub fn changes(previous: &DigestState, report: &Report) -> Vec<String> {
    let now = DigestState::of(report, previous.day);
    let mut lines = Vec::new();
    let recommended = match (&previous.recommended, &now.recommended) {
        (Some(was), Some(is)) if was != is => Some(format!("recommended: {is}, was {was}")),
        (None, Some(is)) => Some(format!("recommended: {is}, was none")),
        (Some(was), None) => Some(format!(
            "recommended: none now, was {was} (GET /compare gives the reasons)"
        )),
        _ => None,
    };
    lines.extend(recommended);
    for name in &now.out_of_control {
        if !previous.out_of_control.contains(name) {
            lines.push(format!(
                "{name} went out of statistical control: it is not recommended until it is stable"
            ));
        }
    }
    for name in &previous.out_of_control {
        if now.targets.contains(name) && !now.out_of_control.contains(name) {
            lines.push(format!("{name} is back in statistical control"));
        }
    }
    for (name, rank) in &now.ranking {
        match previous.rank(name) {
            Some(was) if was > *rank => {
                lines.push(format!("{name} moved up from #{was} to #{rank}"))
            }
            Some(was) if was < *rank => {
                lines.push(format!("{name} moved down from #{was} to #{rank}"))
            }
            Some(_) => {}
            None => lines.push(format!("{name} entered the ranking at #{rank}")),
        }
    }
    for (name, was) in &previous.ranking {
        if now.rank(name).is_none() {
            lines.push(format!("{name} left the ranking (it was #{was})"));
        }
    }
    for name in &now.pareto {
        if !previous.pareto.contains(name) {
            lines.push(format!("{name} joined the Pareto frontier"));
        }
    }
    for name in &previous.pareto {
        if !now.pareto.contains(name) {
            lines.push(format!("{name} left the Pareto frontier"));
        }
    }
    lines
}

/// A rate as a percentage with its interval: `5 % (2.2–11.1 %)`.
fn percent(i: &Interval) -> String {
    let p = |x: f64| format_number(x * 100.0);
    match (i.lo, i.hi) {
        (Some(lo), Some(hi)) => format!("{} % ({}–{} %)", p(i.value), p(lo), p(hi)),
        _ => format!("{} %", p(i.value)),
    }
}

/// A quantile in ms with its interval, or why there is none.
fn millis(i: &Interval) -> String {
    if !i.value.is_finite() {
        return "none (no successful probe)".into();
    }
    let v = format_number(i.value);
    match (i.lo, i.hi) {
        (Some(lo), Some(hi)) => format!(
            "{v} ms (95% CI {}–{} ms)",
            format_number(lo),
            format_number(hi)
        ),
        _ => format!("{v} ms (too few probes for an interval)"),
    }
}

/// One target's line: its place, n, error rate, TTFT P95 and stability.
fn target_line(place: &str, t: &StreamSummary) -> String {
    let control = match t.in_control {
        Some(true) => "in control",
        Some(false) => "OUT OF CONTROL",
        None => "stability not judged yet (too few probes)",
    };
    format!(
        "{place} {}: n {}, error rate {}, TTFT P95 {}, {control}",
        t.name,
        t.n,
        percent(&t.error_rate),
        millis(&t.p95)
    )
}

/// The digest: its text for people, and the same for machines (`{"date", "recommended",
/// "ranking", "pareto", "targets", "changes"}`); each destination's kind wraps them
/// ([`crate::notify::digest_message`]). `report` is of TTFT; `previous` is the last digest's
/// state, `None` for the first; `brand` is the sender's name (`LLMSCOPE_BRAND`).
pub fn message(
    brand: &str,
    report: &Report,
    window: &Window,
    previous: Option<&DigestState>,
    day: i64,
) -> (String, serde_json::Value) {
    let rec = &report.recommendation;
    let summaries = &report.comparison.targets;
    let ranked = rec.ranking.iter().filter_map(|r| {
        let t = summaries.iter().find(|t| t.name == r.name)?;
        Some(target_line(&format!("#{}", r.rank), t))
    });
    let unranked = summaries
        .iter()
        .filter(|t| rec.ranking.iter().all(|r| r.name != t.name))
        .map(|t| target_line("not ranked:", t));
    let mut lines = vec![
        format!("{brand} daily digest, {}", date(day)),
        match &rec.recommendation.name {
            Some(name) => format!("Recommended: {name}"),
            None => "Recommended: none (GET /compare gives the reasons)".into(),
        },
    ];
    lines.extend(ranked.chain(unranked));
    lines.extend(window.caveats());
    let changes = previous.map(|p| changes(p, report));
    match (&changes, previous) {
        (Some(c), Some(p)) if c.is_empty() => lines.push(format!(
            "No change since the last digest ({}).",
            date(p.day)
        )),
        (Some(c), Some(p)) => {
            lines.push(format!("Changes since the last digest ({}):", date(p.day)));
            lines.extend(c.iter().map(|c| format!("• {c}")));
        }
        _ => lines.push("The first digest: nothing to compare with yet.".into()),
    }
    let targets: Vec<serde_json::Value> = summaries
        .iter()
        .map(|t| {
            serde_json::json!({"name": t.name, "n": t.n, "error_rate": t.error_rate,
                "ttft_p95": t.p95, "in_control": t.in_control})
        })
        .collect();
    let data = serde_json::json!({
        "date": date(day),
        "recommended": rec.recommendation.name,
        "ranking": rec.ranking,
        "pareto": rec.pareto,
        "targets": targets,
        "changes": changes,
    });
    (lines.join("\n"), data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::MAX_PER_TARGET;
    use llmscope_protocol::compare::{build, group, Settings};
    use llmscope_protocol::probe::ProbeResult;

    /// Uniform in [0, 1) from a 64-bit LCG (Knuth's MMIX constants): fixed, reproducible noise.
    fn noise(seed: u64) -> impl FnMut() -> f64 {
        let mut x = seed;
        move || {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// `n` probes of `target`, one a minute; TTFT is `ttft(i)` plus up to 20 ms of noise.
    fn probes(target: &str, n: usize, seed: u64, ttft: impl Fn(usize) -> f64) -> Vec<ProbeResult> {
        let mut u = noise(seed);
        (0..n)
            .map(|i| {
                let ttft_ms = ttft(i) + 20.0 * u();
                serde_json::from_value(serde_json::json!({
                    "target": target, "provider": "openai", "model": "m", "t": 60_000 * i as i64,
                    "ok": true, "status": 200, "ttft_ms": ttft_ms, "total_ms": ttft_ms + 100.0,
                    "input_tokens": 12, "output_tokens": 8, "cached_input_tokens": null,
                    "tokens_per_s": 80.0 + 10.0 * u(), "cost_usd": null, "error": null
                }))
                .unwrap()
            })
            .collect()
    }

    fn report(results: &[ProbeResult]) -> Report {
        build(&group(results), &Settings::default()).unwrap()
    }

    /// Day 1: A (TTFT about 110 ms) beats B (about 160 ms), both stable.
    fn day1() -> Report {
        let mut rs = probes("A", 60, 1, |_| 100.0);
        rs.extend(probes("B", 60, 2, |_| 150.0));
        report(&rs)
    }

    /// Day 2: A drifts, 5 ms more on every probe; B is as before.
    fn day2() -> Report {
        let mut rs = probes("A", 60, 1, |i| 100.0 + 5.0 * i as f64);
        rs.extend(probes("B", 60, 2, |_| 150.0));
        report(&rs)
    }

    fn window() -> Window {
        Window {
            since: 0,
            limit_per_target: MAX_PER_TARGET,
            ..Window::default()
        }
    }

    #[test]
    fn the_setting_is_daily_or_unset() {
        assert_eq!(enabled(None), Ok(false));
        assert_eq!(enabled(Some(" ")), Ok(false));
        assert_eq!(enabled(Some("daily")), Ok(true));
        assert_eq!(
            enabled(Some("weekly")),
            Err("must be daily (or unset for no digest), not \"weekly\"".into())
        );
    }

    #[test]
    fn days_are_utc_calendar_days() {
        let dec6 = 1_796_515_200_000.0; // 2026-12-06T00:00:00Z
        assert_eq!(date(day(dec6)), "2026-12-06");
        assert_eq!(date(day(dec6 - 1.0)), "2026-12-05");
        assert_eq!(day(dec6 + DAY_MS - 1.0), day(dec6));
    }

    #[test]
    fn a_drift_changes_the_recommendation_the_ranking_and_the_frontier() {
        let before = DigestState::of(&day1(), 10);
        assert_eq!(before.recommended.as_deref(), Some("A"), "{before:?}");
        assert_eq!(before.ranking, [("A".into(), 1), ("B".into(), 2)]);
        assert_eq!(before.pareto, ["A"]);
        assert!(before.out_of_control.is_empty());
        assert_eq!(
            changes(&before, &day2()),
            [
                "recommended: B, was A",
                "A went out of statistical control: it is not recommended until it is stable",
                "B moved up from #2 to #1",
                "A left the ranking (it was #1)",
                "B joined the Pareto frontier",
                "A left the Pareto frontier",
            ]
        );
        let after = DigestState::of(&day2(), 11);
        assert_eq!(
            changes(&after, &day1()),
            [
                "recommended: A, was B",
                "A is back in statistical control",
                "A entered the ranking at #1",
                "B moved down from #1 to #2",
                "A joined the Pareto frontier",
                "B left the Pareto frontier",
            ]
        );
    }

    #[test]
    fn no_recommendation_any_more_is_said_with_where_to_look() {
        let mut rs = probes("A", 60, 1, |_| 100.0);
        rs.extend(probes("B", 60, 2, |_| 150.0));
        let too_strict = Settings {
            max_ttft_p95_ms: Some(1.0),
            ..Settings::default()
        };
        let none = build(&group(&rs), &too_strict).unwrap();
        let lines = changes(&DigestState::of(&day1(), 1), &none);
        assert_eq!(
            lines[0],
            "recommended: none now, was A (GET /compare gives the reasons)"
        );
        assert!(
            lines.contains(&"A left the ranking (it was #1)".to_string()),
            "{lines:?}"
        );
    }

    #[test]
    fn nothing_changed_is_no_line() {
        assert!(changes(&DigestState::of(&day1(), 3), &day1()).is_empty());
    }

    #[test]
    fn the_message_ranks_every_target_and_says_what_changed() {
        let (text, first) = message("LLMscope", &day1(), &window(), None, 20_428);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "LLMscope daily digest, 2025-12-06");
        assert_eq!(lines[1], "Recommended: A");
        assert!(
            lines[2].starts_with("#1 A: n 60, error rate 0 % (0–"),
            "{text}"
        );
        assert!(lines[2].contains(", TTFT P95 1"), "{text}");
        assert!(
            lines[2].ends_with("ms (too few probes for an interval), in control"),
            "{text}"
        );
        assert!(lines[3].starts_with("#2 B: n 60"), "{text}");
        assert_eq!(lines[4], "The first digest: nothing to compare with yet.");
        assert_eq!(first["changes"], serde_json::Value::Null);

        let previous = DigestState::of(&day1(), 20_428);
        let (text, digest) = message("LLMscope", &day2(), &window(), Some(&previous), 20_429);
        assert!(text.contains("\nRecommended: B\n#1 B: n 60"), "{text}");
        assert!(
            text.contains("\nnot ranked: A: n 60, error rate 0 % (0–"),
            "{text}"
        );
        assert!(text.contains(", OUT OF CONTROL\n"), "{text}");
        assert!(
            text.contains(
                "\nChanges since the last digest (2025-12-06):\n• recommended: B, was A\n"
            ),
            "{text}"
        );
        assert_eq!(digest["recommended"], "B");
        assert_eq!(digest["changes"].as_array().unwrap().len(), 6);
        assert_eq!(digest["targets"][0]["in_control"], false);

        let (same, _) = message("LLMscope", &day1(), &window(), Some(&previous), 20_429);
        assert!(same.ends_with("\nNo change since the last digest (2025-12-06)."));
    }
}
