//! Named rules on the charts (issue 16): a stream's settings hold the named rules the rule
//! editor applied in their saved form (`llmscope_app_lazy::rules`), rebuilt here as the
//! engine's rules without its parser; and a chart's signals by point, Nelson's tests by number
//! and named rules by name, for the chart, the signal list and the card.

use super::Settings;
use llmscope_spc::custom::CustomRule;
use llmscope_spc::explain::episode::Episode;
use llmscope_spc::{ChartSpec, RuleSignal, Series, Signal, SpcError};
use std::ops::Range;

impl Settings {
    /// The engine's spec: the chart settings', with the named rules beside Nelson's tests,
    /// their spec limits bound.
    pub fn spec(&self) -> Result<ChartSpec, SpcError> {
        let mut spec = self.chart.to_spec()?;
        if let Some(code) = self.rules.as_deref().filter(|c| !c.is_empty()) {
            let rules = llmscope_app_lazy::rules::decode(code).map_err(|message| {
                SpcError::InvalidParameter {
                    name: "rules",
                    message,
                }
            })?;
            spec.tests = spec
                .tests
                .with_custom(rules)
                .with_spec_limits(self.lsl, self.usl);
            spec.validate()?;
        }
        Ok(spec)
    }
}

/// The named rules' signals of `series` that alarm: a warning rule's are left out.
pub fn alarms(series: &Series) -> Vec<RuleSignal> {
    let rules = series.rules.custom().rules();
    let warns = |s: &&RuleSignal| rules.get(s.rule).is_some_and(|r| r.warning);
    series
        .rule_signals
        .iter()
        .filter(|s| !warns(s))
        .copied()
        .collect()
}

/// The names of the named rules of `series` that fired in episode `e`, in the set's order.
pub fn names(series: &Series, e: &Episode) -> Vec<String> {
    let rules = series.rules.custom().rules();
    e.rules
        .iter()
        .filter_map(|&i| Some(rules.get(i)?.name.clone()))
        .collect()
}

/// What fired in episode `e` of `series`: test numbers, then rule names, "1, 5, 2-2s".
pub fn fired(series: &Series, e: &Episode) -> String {
    let tests = e.tests.iter().map(|t| t.number().to_string());
    let all: Vec<String> = tests.chain(names(series, e)).collect();
    all.join(", ")
}

/// A point where tests or named rules fired.
pub struct Mark<'a> {
    /// The point.
    pub index: usize,
    /// Nelson's tests there.
    pub tests: &'a [Signal],
    /// The named rules there, in the set's order.
    pub rules: Vec<&'a CustomRule>,
    /// Their signals (parallel to `rules`).
    pub named: Vec<&'a RuleSignal>,
}

impl Mark<'_> {
    /// Test numbers, then rule names: "1,2-2s".
    pub fn label(&self) -> String {
        self.fired().join(",")
    }

    /// Test numbers, then rule names, each once.
    pub fn fired(&self) -> Vec<String> {
        let tests = self.tests.iter().map(|s| s.test.number().to_string());
        let names = self.rules.iter().map(|r| r.name.clone());
        tests.chain(names).collect()
    }

    /// Whether it is an alarm: a test, or a rule that is not a warning.
    pub fn alarm(&self) -> bool {
        !self.tests.is_empty() || self.rules.iter().any(|r| !r.warning)
    }
}

/// The points of `series` in `range` where tests or named rules fired, in order.
pub fn marks(series: &Series, range: Range<usize>) -> Vec<Mark<'_>> {
    let rules = series.rules.custom().rules();
    let within = |i: &usize| range.contains(i);
    let mut tests = series
        .signals
        .chunk_by(|a, b| a.index == b.index)
        .peekable();
    let mut named = series.rule_signals.iter().peekable();
    let mut out: Vec<Mark> = Vec::new();
    // Both lists are in point order: merged, Nelson's tests first at a point, then the rules
    // in the set's order.
    loop {
        let next_test = tests.peek().map(|t| t[0].index);
        let next_rule = named.peek().map(|s| s.index);
        let index = match (next_test, next_rule) {
            (Some(t), Some(r)) => t.min(r),
            (Some(i), None) | (None, Some(i)) => i,
            (None, None) => return out,
        };
        let mut mark = Mark {
            index,
            tests: &[],
            rules: Vec::new(),
            named: Vec::new(),
        };
        if next_test == Some(index) {
            mark.tests = tests.next().unwrap_or_default();
        }
        while let Some(s) = named.next_if(|s| s.index == index) {
            if let Some(rule) = rules.get(s.rule) {
                mark.rules.push(rule);
                mark.named.push(s);
            }
        }
        if within(&index) {
            out.push(mark);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Health, Origin, Sample, Stream};

    /// The saved form of Westgard's 1-2s (a warning) and 2-2s, as the editor writes it.
    const WESTGARD: &str = "1-2s\t1 beyond 2s\t1 0 1 1 0 0 0 2\n\
                            2-2s\t2 in a row beyond 2s same side\t0 0 2 2 0 0 0 2";

    /// 40 points around 10, then two beyond 2 sigma (inside the limits) and one more.
    fn stream(rules: Option<&str>, tests: &str) -> Stream {
        let mut s = Stream::new("qc/level", "", Origin::Simulator);
        let pattern = |i: usize| 10.0 + (i % 5) as f64 * 0.1;
        let mut values: Vec<f64> = (0..40).map(pattern).collect();
        values.extend([10.55, 10.55, 10.2]);
        s.samples = values
            .iter()
            .enumerate()
            .map(|(i, &value)| Sample { t: i as f64, value })
            .collect();
        s.settings.chart.tests = Some(tests.into());
        s.settings.rules = rules.map(str::to_string);
        s
    }

    /// Without the rule language's parser (this crate's engine has none), the saved rules run
    /// on the chart, and their signals are marked by name after Nelson's tests.
    #[test]
    fn saved_rules_run_and_are_marked_by_name() {
        let s = stream(Some(WESTGARD), "5");
        let chart = s.chart().unwrap().unwrap();
        let sigma = chart.primary.point(0).unwrap().sigma;
        let d = 10.55 - chart.center();
        assert!(d > 2.0 * sigma && d < 3.0 * sigma, "sigma {sigma}");
        let marked = marks(&chart.primary, 0..usize::MAX);
        let labels: Vec<(usize, String)> = marked.iter().map(|m| (m.index, m.label())).collect();
        assert_eq!(
            labels,
            [(40, "1-2s".into()), (41, "5,1-2s,2-2s".into())],
            "test 5 (2 of 3 beyond 2s) first, then the rules in the set's order"
        );
        assert!(!marked[0].alarm(), "1-2s is a warning");
        assert!(marked[1].alarm());
        assert_eq!(marks(&chart.primary, 41..42).len(), 1);
        // The card: an alarm at point 41 is recent.
        assert_eq!(s.health(&s.chart_state(), None), Health::Signal);
        // A warning alone is no alarm: the card stays in control.
        let only_warning = stream(Some(WESTGARD.lines().next().unwrap()), "none");
        assert_eq!(
            only_warning.health(&only_warning.chart_state(), None),
            Health::InControl
        );
    }

    #[test]
    fn damaged_rules_are_an_error_that_names_them() {
        let s = stream(Some("2-2s\t\t0 0 3 2 0 0 0 2"), "nelson");
        let e = s.chart().unwrap_err().to_string();
        assert!(e.contains("named rule 1 is damaged"), "{e}");
        // Old settings without rules read and chart as before.
        let old: crate::model::Settings = serde_json::from_str(
            r#"{"chart": {"tests": "1"}, "lsl": null, "usl": null, "subgroup_size": null}"#,
        )
        .unwrap();
        assert_eq!(old.rules, None);
        assert!(!serde_json::to_string(&old).unwrap().contains("rules"));
    }
}
