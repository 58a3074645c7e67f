//! The recommendation's gate: the user's weights and limits are checked before any data, and
//! each candidate against the limits, with the reason in words when it fails and a caveat when
//! its interval straddles a limit (see [`super::recommend`]).

use super::format_number;
use super::recommend::{Candidate, Constraints, Labels, Weights};
use super::Interval;
use crate::error::{invalid, SpcError};

/// Weights must be non-negative numbers and limits non-negative.
pub(super) fn validate(c: &Constraints, w: &Weights) -> Result<(), SpcError> {
    for (name, v) in [
        ("weights.cost", w.cost),
        ("weights.latency", w.latency),
        ("weights.speed", w.speed),
        ("weights.quality", w.quality),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(invalid(
                name,
                format!(
                    "{v} must be a non-negative number, e.g. cost=1,latency=1,speed=1,quality=1"
                ),
            ));
        }
    }
    for (name, v) in [
        ("max_latency", c.max_latency),
        ("max_error_rate", c.max_error_rate),
        ("min_pass_rate", c.min_pass_rate),
        ("max_cost", c.max_cost),
    ] {
        if v.is_some_and(|v| !v.is_finite() || v < 0.0) {
            return Err(invalid(name, "the limit must be a non-negative number"));
        }
    }
    Ok(())
}

/// Every constraint met (Ok), or why not. Adds a caveat when an interval straddles a limit.
pub(super) fn check(
    c: &Candidate,
    limits: &Constraints,
    labels: &Labels,
    caveats: &mut Vec<String>,
) -> Result<(), String> {
    let name = &c.name;
    let lat = (&labels.latency, &labels.latency_unit);
    let percent = |x: f64| format!("{} %", format_number(100.0 * x));
    let ms = |x: f64| format!("{} {}", format_number(x), lat.1);
    let straddles = |ci: &Interval, limit: f64, higher_bad: bool| {
        if higher_bad {
            ci.hi.is_some_and(|hi| hi > limit)
        } else {
            ci.lo.is_some_and(|lo| lo < limit)
        }
    };
    if let Some(max) = limits.max_latency {
        let Some(l) = c.latency.filter(|l| l.value.is_finite()) else {
            return Err(format!(
                "{name} has no {} to check against its limit",
                lat.0
            ));
        };
        if l.value > max {
            return Err(format!(
                "{name}'s {} {} exceeds the {} limit",
                lat.0,
                ms(l.value),
                ms(max)
            ));
        }
        if straddles(&l, max, true) {
            caveats.push(format!(
                "{name}'s {} {} meets the {} limit, but its 95% CI reaches {}",
                lat.0,
                ms(l.value),
                ms(max),
                ms(l.hi.unwrap_or(l.value))
            ));
        }
    }
    if let Some(max) = limits.max_error_rate {
        let e = &c.error_rate;
        if e.value.is_nan() {
            return Err(format!("{name} has no requests to judge its error rate"));
        }
        if e.value > max {
            return Err(format!(
                "{name}'s error rate {} exceeds the {} limit",
                percent(e.value),
                percent(max)
            ));
        }
        if straddles(e, max, true) {
            caveats.push(format!(
                "{name}'s error rate {} meets the {} limit, but its 95% CI reaches {}",
                percent(e.value),
                percent(max),
                percent(e.hi.unwrap_or(e.value))
            ));
        }
    }
    if let Some(min) = limits.min_pass_rate {
        let Some(p) = c.pass_rate else {
            return Err(format!(
                "{name} has no quality checks to judge its pass rate"
            ));
        };
        if p.value < min {
            return Err(format!(
                "{name}'s pass rate {} is below the {} minimum",
                percent(p.value),
                percent(min)
            ));
        }
        if straddles(&p, min, false) {
            caveats.push(format!(
                "{name}'s pass rate {} meets the {} minimum, but its 95% CI reaches down to {}",
                percent(p.value),
                percent(min),
                percent(p.lo.unwrap_or(p.value))
            ));
        }
    }
    if let Some(max) = limits.max_cost {
        let Some(cost) = c.cost_per_success else {
            return Err(format!(
                "{name} has no price to check against the cost limit"
            ));
        };
        if cost > max {
            return Err(format!(
                "{name}'s cost per successful request ${} exceeds the ${} limit",
                format_number(cost),
                format_number(max)
            ));
        }
    }
    Ok(())
}
