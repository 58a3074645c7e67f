//! What a rule editor shows while a set is typed: the set as parsed, or the error with its
//! line and column, and the set's false-alarm rate in words.

use super::{parse, RuleError};
use crate::arl::{self, Arl};
use crate::RuleSet;

/// A rule set checked for an editor.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct RuleCheck {
    /// Nelson's tests the set enables, by number.
    pub tests: Vec<u8>,
    /// The named rules: name, pattern as written, warning.
    pub rules: Vec<NamedRule>,
    /// The in-control ARL (warnings left out), when it could be computed.
    pub arl: Option<Arl>,
    /// Why there is no ARL (rules with fixed values and no center and sigma, or a set whose
    /// false alarms are too rare to simulate).
    pub arl_error: Option<String>,
    /// The false-alarm rate in words, e.g. "this set alarms falsely about every 58 points".
    pub words: String,
}

/// One named rule, as an editor lists it.
#[allow(missing_docs)] // the fields are named for what they hold
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct NamedRule {
    pub name: String,
    pub pattern: String,
    pub warning: bool,
    /// Depends only on the zone of each point (its ARL is then exact).
    pub zone_based: bool,
}

/// Parses `text` as `--tests` does and computes its in-control ARL by [`arl::with_rules`];
/// `scale` (center, sigma) and the spec limits are needed only by rules with fixed values.
/// `Err` is the first part that does not parse, with its line and column.
pub fn check(
    text: &str,
    scale: Option<(f64, f64)>,
    lsl: Option<f64>,
    usl: Option<f64>,
) -> Result<RuleCheck, RuleError> {
    let (set, custom) = parse::parse(text)?;
    let set: RuleSet = set.with_custom(custom).with_spec_limits(lsl, usl);
    let rules = set
        .custom()
        .rules()
        .iter()
        .map(|r| NamedRule {
            name: r.name.clone(),
            pattern: r.text.clone(),
            warning: r.warning,
            zone_based: r.pattern.zone_based(),
        })
        .collect();
    let answer = set
        .custom()
        .check_spec_limits()
        .and_then(|()| arl::with_rules(&set, 0.0, scale));
    let (arl, arl_error) = match answer {
        Ok(a) => (Some(a), None),
        Err(e) => (None, Some(e.to_string())),
    };
    Ok(RuleCheck {
        tests: set.rules().map(|t| t.number()).collect(),
        rules,
        words: words(arl.as_ref()),
        arl,
        arl_error,
    })
}

/// "this set alarms falsely about every N points" (N whole, with one decimal below 10).
fn words(arl: Option<&Arl>) -> String {
    match arl.map(|a| a.value) {
        None => "the false-alarm rate is unknown".into(),
        Some(v) if v.is_infinite() => "this set never alarms: it has no rejection rule".into(),
        Some(v) if v < 10.0 => format!("this set alarms falsely about every {v:.1} points"),
        Some(v) => format!("this set alarms falsely about every {v:.0} points"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_editor_sees_the_rate_or_the_error() {
        let we = check("western-electric", None, None, None).unwrap();
        assert_eq!(we.tests, [1, 2, 5, 6]);
        assert_eq!(we.words, "this set alarms falsely about every 92 points");
        let westgard = check("westgard", None, None, None).unwrap();
        assert_eq!(westgard.rules.len(), 6);
        assert!(westgard.rules[0].warning && westgard.rules.iter().all(|r| r.zone_based));
        assert!(westgard
            .words
            .starts_with("this set alarms falsely about every 1"));
        let e = check("a: 1 beyond 3s\nb: 2 of 2 beyond", None, None, None).unwrap_err();
        assert_eq!((e.line, e.column), (2, 17));
        // A threshold without the process center and sigma: parsed, no rate.
        let slo = check("slow: 1 above 2500", None, None, None).unwrap();
        assert!(slo.arl.is_none() && slo.arl_error.is_some());
        assert_eq!(slo.words, "the false-alarm rate is unknown");
        let slo = check(
            "slow: 1 above usl",
            Some((2000.0, 100.0)),
            None,
            Some(2300.0),
        )
        .unwrap();
        let want = 1.0 / crate::math::normal_sf(3.0);
        assert!((slo.arl.unwrap().value - want).abs() < 1e-6 * want);
        let warn = check("w: 1 beyond 2s, warning", None, None, None).unwrap();
        assert_eq!(
            warn.words,
            "this set never alarms: it has no rejection rule"
        );
    }
}
