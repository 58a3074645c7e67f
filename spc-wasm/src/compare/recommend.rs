//! The recommendation: the Pareto frontier over cost, latency and quality (streams in control
//! only), the candidates that meet the user's constraints, a ranking by a simple weighted score
//! that never rests on a difference the data do not show, and the caveats a leaderboard leaves
//! out.
//!
//! The scoring, in full:
//! 1. **Out of control is out.** A stream out of statistical control over the window
//!    ([`super::stream::stability`]) is not recommended: its numbers predict nothing. Nor is
//!    one with too few results to judge (fewer than 50 successful): "not enough data".
//! 2. **Constraints** (max P95 latency, max error rate, min pass rate, max cost per successful
//!    request) are checked on the point estimates; a limit asked for but not measurable (no
//!    price, no quality checks) excludes the candidate, with the reason. When an interval
//!    straddles a limit, a caveat says so.
//! 3. **Per criterion** with a positive weight (cost and latency: lower is better; speed and
//!    quality: higher), each candidate scores its ratio to the best one, in (0, 1]. A candidate
//!    whose 95 % interval overlaps the best one's scores 1: it cannot be told from the best, so
//!    the difference does not count. Non-overlap of two 95 % intervals is a conservative test
//!    of a difference (N. Schenker & J. F. Gentleman 2001, "On judging the significance of
//!    differences by examining the overlap between confidence intervals", The American
//!    Statistician 55, 182-186); for latency, a significant Holm-adjusted Hodges–Lehmann shift
//!    between the two (same direction) also counts, since a tail quantile's interval is wide
//!    where the whole distribution's shift is clear. Prices are known exactly, so cost
//!    differences always count.
//! 4. **Score** = Σ weight · criterion score / Σ weight (simple additive weighting with ratio
//!    normalization; Hwang & Yoon 1981, *Multiple Attribute Decision Making*). A criterion
//!    that some eligible candidate lacks is left out of every score, with a caveat.
//! 5. **Ties are said, not broken.** Candidates whose score equals the leader's cannot be told
//!    apart on what was weighted: the recommendation then names none of them and says why.

use super::limits::{check, validate};
use super::stream::{MIN_STABILITY_SUBGROUPS, MIN_SUBGROUP_SIZE};
use super::{format_number, Interval, PairComparison};
use crate::error::SpcError;

/// What the recommendation knows about one target.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Candidate {
    /// The target's name.
    pub name: String,
    /// Requests in the window.
    pub n: u64,
    /// The latency quantile constrained and scored (e.g. TTFT P95), lower is better.
    pub latency: Option<Interval>,
    /// Output speed (e.g. median tokens/s), higher is better.
    pub speed: Option<Interval>,
    /// The error rate.
    pub error_rate: Interval,
    /// The quality pass rate, where the target has a check.
    pub pass_rate: Option<Interval>,
    /// Cost per successful request in USD, where a price is known.
    pub cost_per_success: Option<f64>,
    /// In statistical control over the window; `None` when not judged.
    pub in_control: Option<bool>,
}

/// The user's limits; `None` is no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct Constraints {
    /// Highest acceptable latency quantile (e.g. TTFT P95 in ms).
    pub max_latency: Option<f64>,
    /// Highest acceptable error rate (0..1).
    pub max_error_rate: Option<f64>,
    /// Lowest acceptable pass rate (0..1).
    pub min_pass_rate: Option<f64>,
    /// Highest acceptable cost per successful request (USD).
    pub max_cost: Option<f64>,
}

/// Relative weights of the criteria (non-negative; 0 leaves a criterion out).
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct Weights {
    /// Cost per successful request.
    pub cost: f64,
    /// The latency quantile.
    pub latency: f64,
    /// Output speed.
    pub speed: f64,
    /// Quality pass rate.
    pub quality: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            cost: 1.0,
            latency: 1.0,
            speed: 1.0,
            quality: 1.0,
        }
    }
}

/// Names and units for the sentences.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct Labels {
    /// The latency criterion, e.g. "P95 TTFT".
    pub latency: String,
    /// Its unit, e.g. "ms".
    pub latency_unit: String,
    /// The speed criterion, e.g. "median speed".
    pub speed: String,
    /// Its unit, e.g. "tokens/s".
    pub speed_unit: String,
}

impl Default for Labels {
    fn default() -> Self {
        Labels {
            latency: "P95 TTFT".into(),
            latency_unit: "ms".into(),
            speed: "median speed".into(),
            speed_unit: "tokens/s".into(),
        }
    }
}

/// The contract's `recommendation` object.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Verdict {
    /// The recommended target; `None` when nothing qualifies or the best cannot be told apart.
    pub name: Option<String>,
    /// Why, in sentences.
    pub reasons: Vec<String>,
    /// What to keep in mind, in sentences.
    pub caveats: Vec<String>,
}

/// One eligible candidate's place.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Ranked {
    /// The target's name.
    pub name: String,
    /// Its weighted score in (0, 1].
    pub score: f64,
    /// 1 + the number of candidates with a higher score (ties share a rank).
    pub rank: usize,
}

/// Everything the recommendation returns.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Recommendation {
    /// The Pareto frontier over cost, latency and quality (input order).
    pub pareto: Vec<String>,
    /// The contract's `recommendation`.
    pub recommendation: Verdict,
    /// The eligible candidates by score.
    pub ranking: Vec<Ranked>,
}

/// Recommends a target (see the module docs for the rules). `latency_pairs` are the pairwise
/// comparisons of the latency metric ([`super::compare`]'s `pairs`, or `&[]`): a significant
/// shift there shows a latency difference even where the quantile intervals overlap.
pub fn recommend(
    candidates: &[Candidate],
    latency_pairs: &[PairComparison],
    constraints: &Constraints,
    weights: &Weights,
    labels: &Labels,
) -> Result<Recommendation, SpcError> {
    validate(constraints, weights)?;
    let evidence = Evidence {
        pairs: latency_pairs,
    };
    let pareto = pareto(candidates);
    let mut caveats = Vec::new();
    let mut exclusions = Vec::new();
    let mut eligible = Vec::new();
    for c in candidates {
        match c.in_control {
            Some(false) => {
                caveats.push(format!(
                    "{} is out of statistical control over the window: its numbers predict \
                     nothing, so it is not recommended until it is stable",
                    c.name
                ));
                exclusions.push(format!("{} is out of statistical control", c.name));
                continue;
            }
            None => {
                caveats.push(format!(
                    "too few results to judge whether {} is stable (n = {}; {STABILITY_N} \
                     successful are needed): it is not recommended until they are",
                    c.name, c.n
                ));
                exclusions.push(format!("{} has too few results to judge", c.name));
                continue;
            }
            Some(true) => {}
        }
        match check(c, constraints, labels, &mut caveats) {
            Ok(()) => eligible.push(c),
            Err(why) => exclusions.push(why),
        }
    }
    if eligible.is_empty() {
        let unjudged = candidates.iter().all(|c| c.in_control.is_none());
        let first = if unjudged {
            format!("not enough data: collect at least {STABILITY_N} successful probes per target")
        } else {
            "nothing meets the constraints".to_string()
        };
        let mut reasons = vec![first];
        reasons.extend(exclusions);
        return Ok(Recommendation {
            pareto,
            recommendation: Verdict {
                name: None,
                reasons,
                caveats,
            },
            ranking: Vec::new(),
        });
    }
    let criteria = criteria(&eligible, weights, labels, &mut caveats);
    let scores: Vec<f64> = eligible
        .iter()
        .map(|c| score(c, &eligible, &criteria, &evidence))
        .collect();
    let mut order: Vec<usize> = (0..eligible.len()).collect();
    order.sort_by(|&i, &j| scores[j].total_cmp(&scores[i]));
    let ranking: Vec<Ranked> = order
        .iter()
        .map(|&i| Ranked {
            name: eligible[i].name.clone(),
            score: scores[i],
            rank: 1 + scores.iter().filter(|&&s| s > scores[i] + TIE).count(),
        })
        .collect();
    let leader = eligible[order[0]];
    let tied: Vec<&str> = ranking
        .iter()
        .filter(|r| r.rank == 1)
        .map(|r| r.name.as_str())
        .collect();
    let mut reasons = Vec::new();
    let name = if tied.len() > 1 {
        reasons.push(format!(
            "{} meet the constraints and cannot be told apart on what was weighted at this \
             sample size ({}); collect more probes, or weigh cost, to choose",
            tied.join(" and "),
            sizes(&eligible, &tied)
        ));
        None
    } else {
        reasons.push(format!(
            "{} meets every constraint and scores highest ({} of 1)",
            leader.name,
            format_number(scores[order[0]])
        ));
        if let Some(&runner) = order.get(1) {
            let (runner, caveats) = (eligible[runner], &mut caveats);
            reasons.extend(versus(
                leader, runner, &criteria, &evidence, labels, caveats,
            ));
        }
        Some(leader.name.clone())
    };
    for why in exclusions {
        reasons.push(format!("not considered: {why}"));
    }
    Ok(Recommendation {
        pareto,
        recommendation: Verdict {
            name,
            reasons,
            caveats,
        },
        ranking,
    })
}

/// Successful results the stability check needs ([`super::stream::stability`]).
const STABILITY_N: usize = MIN_STABILITY_SUBGROUPS * MIN_SUBGROUP_SIZE;

/// Scores closer than this are equal.
const TIE: f64 = 1e-9;

/// A scored criterion.
#[derive(Clone, Copy, PartialEq)]
enum Criterion {
    Cost,
    Latency,
    Speed,
    Quality,
}

impl Criterion {
    fn value(self, c: &Candidate) -> Option<Interval> {
        match self {
            Criterion::Cost => c.cost_per_success.map(Interval::point),
            Criterion::Latency => c.latency,
            Criterion::Speed => c.speed,
            Criterion::Quality => c.pass_rate,
        }
        .filter(|v| v.value.is_finite())
    }

    fn lower_is_better(self) -> bool {
        matches!(self, Criterion::Cost | Criterion::Latency)
    }

    fn label(self, labels: &Labels) -> String {
        match self {
            Criterion::Cost => "cost per successful request".into(),
            Criterion::Latency => labels.latency.clone(),
            Criterion::Speed => labels.speed.clone(),
            Criterion::Quality => "pass rate".into(),
        }
    }

    fn show(self, v: f64, labels: &Labels) -> String {
        match self {
            Criterion::Cost => format!("${}", format_number(v)),
            Criterion::Latency => format!("{} {}", format_number(v), labels.latency_unit),
            Criterion::Speed => format!("{} {}", format_number(v), labels.speed_unit),
            Criterion::Quality => format!("{} %", format_number(100.0 * v)),
        }
    }
}

/// The weighted criteria every eligible candidate has; a caveat for each one left out.
fn criteria(
    eligible: &[&Candidate],
    w: &Weights,
    labels: &Labels,
    caveats: &mut Vec<String>,
) -> Vec<(Criterion, f64)> {
    let all = [
        (Criterion::Cost, w.cost),
        (Criterion::Latency, w.latency),
        (Criterion::Speed, w.speed),
        (Criterion::Quality, w.quality),
    ];
    let mut used = Vec::new();
    for (criterion, weight) in all.into_iter().filter(|&(_, w)| w > 0.0) {
        let missing: Vec<&str> = eligible
            .iter()
            .filter(|c| criterion.value(c).is_none())
            .map(|c| c.name.as_str())
            .collect();
        if missing.is_empty() {
            used.push((criterion, weight));
        } else if missing.len() < eligible.len() {
            caveats.push(format!(
                "{} is not scored: {} lack(s) it",
                criterion.label(labels),
                missing.join(", ")
            ));
        }
    }
    used
}

/// True when the two intervals cannot be told apart: they overlap, or one has no bounds.
fn indistinct(a: &Interval, b: &Interval) -> bool {
    match (a.lo, a.hi, b.lo, b.hi) {
        (Some(alo), Some(ahi), Some(blo), Some(bhi)) => alo <= bhi && blo <= ahi,
        _ => {
            a.value == b.value
                || a.lo.is_none() && a.hi.is_none()
                || b.lo.is_none() && b.hi.is_none()
        }
    }
}

/// What shows that two candidates differ on a criterion.
struct Evidence<'a> {
    pairs: &'a [PairComparison],
}

impl Evidence<'_> {
    /// True when the data show x and y differ on the criterion: always for different prices;
    /// otherwise intervals that do not overlap, or, for latency, a significant pairwise shift
    /// in the same direction as the quantiles.
    fn distinct(&self, criterion: Criterion, x: &Candidate, y: &Candidate) -> bool {
        let (Some(vx), Some(vy)) = (criterion.value(x), criterion.value(y)) else {
            return false;
        };
        if vx.value == vy.value {
            return false;
        }
        if criterion == Criterion::Cost || !indistinct(&vx, &vy) {
            return true;
        }
        let x_lower = vx.value < vy.value;
        criterion == Criterion::Latency
            && self.pairs.iter().any(|p| {
                p.significant
                    && (p.a == x.name && p.b == y.name && (p.shift < 0.0) == x_lower
                        || p.a == y.name && p.b == x.name && (p.shift > 0.0) == x_lower)
            })
    }
}

/// The candidate with the best value of a criterion among the eligible.
fn best<'c>(eligible: &[&'c Candidate], criterion: Criterion) -> Option<&'c Candidate> {
    let better = |a: f64, b: f64| {
        if criterion.lower_is_better() {
            b < a
        } else {
            b > a
        }
    };
    eligible
        .iter()
        .copied()
        .filter(|c| criterion.value(c).is_some())
        .reduce(|a, b| {
            let (va, vb) = (criterion.value(a), criterion.value(b));
            match (va, vb) {
                (Some(va), Some(vb)) if better(va.value, vb.value) => b,
                _ => a,
            }
        })
}

fn score(
    c: &Candidate,
    eligible: &[&Candidate],
    criteria: &[(Criterion, f64)],
    evidence: &Evidence<'_>,
) -> f64 {
    let total_weight: f64 = criteria.iter().map(|(_, w)| w).sum();
    if total_weight == 0.0 {
        return 1.0;
    }
    let mut sum = 0.0;
    for &(criterion, weight) in criteria {
        let Some(top_candidate) = best(eligible, criterion) else {
            continue;
        };
        let (Some(v), Some(top)) = (criterion.value(c), criterion.value(top_candidate)) else {
            continue;
        };
        let s = if !evidence.distinct(criterion, c, top_candidate) {
            1.0 // cannot be told from the best: the difference does not count
        } else if criterion.lower_is_better() {
            if v.value <= top.value || v.value <= 0.0 {
                1.0
            } else {
                top.value.max(0.0) / v.value
            }
        } else if top.value <= 0.0 {
            1.0
        } else {
            (v.value / top.value).clamp(0.0, 1.0)
        };
        sum += weight * s;
    }
    sum / total_weight
}

/// The leader against the runner-up, criterion by criterion: a reason where the leader is
/// better by more than the data's uncertainty, a caveat where the two cannot be told apart.
fn versus(
    leader: &Candidate,
    runner: &Candidate,
    criteria: &[(Criterion, f64)],
    evidence: &Evidence<'_>,
    labels: &Labels,
    caveats: &mut Vec<String>,
) -> Vec<String> {
    let mut reasons = Vec::new();
    for &(criterion, _) in criteria {
        let (Some(a), Some(b)) = (criterion.value(leader), criterion.value(runner)) else {
            continue;
        };
        let label = criterion.label(labels);
        if !evidence.distinct(criterion, leader, runner) {
            if a.value != b.value {
                caveats.push(format!(
                    "{} and {} cannot be told apart on {label} at this sample size (n = {} vs {}): \
                     counted as equal",
                    leader.name, runner.name, leader.n, runner.n
                ));
            }
            continue;
        }
        let better = if criterion.lower_is_better() {
            a.value < b.value
        } else {
            a.value > b.value
        };
        if better {
            reasons.push(format!(
                "{label} {}{} against {}'s {}{}",
                criterion.show(a.value, labels),
                interval_words(&a, criterion, labels),
                runner.name,
                criterion.show(b.value, labels),
                interval_words(&b, criterion, labels)
            ));
        } else if a.value != b.value {
            reasons.push(format!(
                "{} is better on {label} ({} against {}), which weighs less here",
                runner.name,
                criterion.show(b.value, labels),
                criterion.show(a.value, labels)
            ));
        }
    }
    reasons
}

fn interval_words(v: &Interval, criterion: Criterion, labels: &Labels) -> String {
    match (v.lo, v.hi) {
        (Some(lo), Some(hi)) => format!(
            " (95% CI {}–{})",
            criterion.show(lo, labels),
            criterion.show(hi, labels)
        ),
        _ => String::new(),
    }
}

fn sizes(eligible: &[&Candidate], names: &[&str]) -> String {
    let ns: Vec<String> = eligible
        .iter()
        .filter(|c| names.contains(&c.name.as_str()))
        .map(|c| c.n.to_string())
        .collect();
    format!("n = {}", ns.join(" vs "))
}

/// The candidates no other candidate dominates on cost (lower), latency (lower) and quality
/// (higher), over the dimensions every candidate has; point values. A stream out of control is
/// left out: its numbers predict nothing, so it can neither be on the frontier nor push
/// another off it. So is one without a measured latency (no successful result): it has nothing
/// to be compared on.
fn pareto(candidates: &[Candidate]) -> Vec<String> {
    let candidates: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| c.in_control != Some(false) && Criterion::Latency.value(c).is_some())
        .collect();
    let dims: Vec<Criterion> = [Criterion::Cost, Criterion::Latency, Criterion::Quality]
        .into_iter()
        .filter(|d| candidates.iter().all(|c| d.value(c).is_some()))
        .collect();
    let key = |c: &Candidate| -> Vec<f64> {
        dims.iter()
            .map(|d| {
                let v = d.value(c).map_or(f64::NAN, |v| v.value);
                if d.lower_is_better() {
                    v
                } else {
                    -v
                }
            })
            .collect()
    };
    let keys: Vec<Vec<f64>> = candidates.iter().map(|c| key(c)).collect();
    let dominates = |p: &[f64], q: &[f64]| {
        p.iter().zip(q).all(|(a, b)| a <= b) && p.iter().zip(q).any(|(a, b)| a < b)
    };
    candidates
        .iter()
        .enumerate()
        .filter(|&(i, _)| !keys.iter().any(|k| dominates(k, &keys[i])))
        .map(|(_, c)| c.name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ci(value: f64, lo: f64, hi: f64) -> Interval {
        Interval {
            value,
            lo: Some(lo),
            hi: Some(hi),
        }
    }

    fn target(name: &str, p95: Interval, errors: Interval, cost: f64, stable: bool) -> Candidate {
        Candidate {
            name: name.into(),
            n: 400,
            latency: Some(p95),
            speed: None,
            error_rate: errors,
            pass_rate: Some(ci(0.95, 0.92, 0.97)),
            cost_per_success: Some(cost),
            in_control: Some(stable),
        }
    }

    /// The stand-in truth: A is 20 % faster than B at the same price, C is cheapest but
    /// fails 5 %, D drifts.
    fn stand_ins() -> Vec<Candidate> {
        let low = ci(0.005, 0.002, 0.012);
        vec![
            target("A", ci(320.0, 300.0, 340.0), low, 0.002, true),
            target("B", ci(400.0, 380.0, 420.0), low, 0.002, true),
            target(
                "C",
                ci(410.0, 390.0, 430.0),
                ci(0.05, 0.035, 0.07),
                0.0008,
                true,
            ),
            target("D", ci(300.0, 250.0, 350.0), low, 0.0015, false),
        ]
    }

    #[test]
    fn two_constraint_sets_two_recommendations() {
        let all = stand_ins();
        let strict = Constraints {
            max_error_rate: Some(0.02),
            ..Constraints::default()
        };
        let r = recommend(&all, &[], &strict, &Weights::default(), &Labels::default()).unwrap();
        let v = &r.recommendation;
        assert_eq!(v.name.as_deref(), Some("A"), "{v:?}");
        assert!(v.reasons.iter().any(|s| s.starts_with("P95 TTFT 320 ms (95% CI 300 ms–340 ms) against B's 400 ms")), "{v:?}");
        assert!(v
            .reasons
            .iter()
            .any(|s| s.contains("C's error rate 5 % exceeds the 2 % limit")));
        assert!(v
            .caveats
            .iter()
            .any(|s| s.starts_with("D is out of statistical control")));
        assert!(
            !r.ranking.iter().any(|x| x.name == "D"),
            "D is never ranked"
        );

        let thrifty = Weights {
            cost: 3.0,
            ..Weights::default()
        };
        let r = recommend(
            &all,
            &[],
            &Constraints::default(),
            &thrifty,
            &Labels::default(),
        )
        .unwrap();
        assert_eq!(
            r.recommendation.name.as_deref(),
            Some("C"),
            "{:?}",
            r.recommendation
        );
        // B is dominated by A; D, cheaper and faster than A, is out of control.
        assert_eq!(r.pareto, vec!["A", "C"]);
    }

    #[test]
    fn too_few_to_judge_is_not_recommended_and_unmeasured_is_not_on_the_frontier() {
        let mut all = stand_ins();
        all.push(Candidate {
            n: 1,
            in_control: None,
            cost_per_success: Some(0.0001),
            ..target("E", ci(500.0, 0.0, 1e9), ci(0.0, 0.0, 0.97), 0.0001, true)
        });
        all.push(Candidate {
            n: 3,
            latency: None,
            in_control: None,
            ..target("F", ci(0.0, 0.0, 0.0), ci(1.0, 0.3, 1.0), 0.00001, true)
        });
        let thrifty = Weights {
            cost: 3.0,
            ..Weights::default()
        };
        let r = recommend(
            &all,
            &[],
            &Constraints::default(),
            &thrifty,
            &Labels::default(),
        )
        .unwrap();
        assert_eq!(r.recommendation.name.as_deref(), Some("C"), "{r:?}");
        assert!(r.recommendation.caveats.iter().any(|s| s.starts_with(
            "too few results to judge whether E is stable (n = 1; 50 successful are needed)"
        )));
        assert!(!r.ranking.iter().any(|x| x.name == "E" || x.name == "F"));
        assert_eq!(r.pareto, vec!["A", "C", "E"]);

        let r = recommend(
            &all[4..],
            &[],
            &Constraints::default(),
            &thrifty,
            &Labels::default(),
        )
        .unwrap();
        assert_eq!(r.recommendation.name, None);
        assert_eq!(
            r.recommendation.reasons[0],
            "not enough data: collect at least 50 successful probes per target"
        );
    }

    #[test]
    fn indistinguishable_leaders_are_a_tie_not_a_ranking() {
        let low = ci(0.005, 0.002, 0.012);
        let close = vec![
            target("A", ci(395.0, 370.0, 420.0), low, 0.002, true),
            target("B", ci(400.0, 380.0, 425.0), low, 0.002, true),
        ];
        let r = recommend(
            &close,
            &[],
            &Constraints::default(),
            &Weights::default(),
            &Labels::default(),
        )
        .unwrap();
        assert_eq!(r.recommendation.name, None);
        assert!(r.recommendation.reasons[0].contains("cannot be told apart"));
        assert_eq!(
            r.ranking.iter().map(|x| x.rank).collect::<Vec<_>>(),
            vec![1, 1]
        );
    }

    #[test]
    fn nothing_meets_the_constraints() {
        let limits = Constraints {
            max_latency: Some(200.0),
            min_pass_rate: Some(0.99),
            ..Constraints::default()
        };
        let r = recommend(
            &stand_ins(),
            &[],
            &limits,
            &Weights::default(),
            &Labels::default(),
        )
        .unwrap();
        assert_eq!(r.recommendation.name, None);
        assert_eq!(r.recommendation.reasons[0], "nothing meets the constraints");
        assert!(r
            .recommendation
            .reasons
            .iter()
            .any(|s| s == "A's P95 TTFT 320 ms exceeds the 200 ms limit"));
        let bad = Weights {
            cost: -1.0,
            ..Weights::default()
        };
        let e = recommend(&stand_ins(), &[], &limits, &bad, &Labels::default()).unwrap_err();
        assert!(e.to_string().starts_with("weights.cost"), "{e}");
    }
}
