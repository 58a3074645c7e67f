//! The rule language's parser (syntax in the module docs of [`super`]): items, then each
//! pattern as words. Every error carries the line and column of the part that is wrong.
#![cfg_attr(not(feature = "rule-language"), allow(dead_code))]

use super::{
    CustomRule, CustomRules, Direction, Level, Pattern, PointTest, Side, Threshold, MAX_RUN,
    MAX_WINDOW,
};
use crate::RuleSet;
use std::fmt;

/// A rule set that does not parse: where (1-based line and column, in characters) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong and what would be right.
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for RuleError {}

const EXAMPLE: &str = "e.g. '2-2s: 2 of 2 beyond 2s same side'";
const CONDITIONS: &str = "beyond, above, below, within, outside, on one side, rising, falling, \
                          alternating";

/// Without the `rule-language` feature: the built-in sets only, and named rules refused.
#[cfg(not(feature = "rule-language"))]
pub(super) fn parse(text: &str) -> Result<(RuleSet, CustomRules), RuleError> {
    RuleSet::parse_builtin(text)
        .map(|set| (set, CustomRules::default()))
        .map_err(|e| RuleError {
            line: 1,
            column: 1,
            message: format!(
                "{e} (named rules and the westgard preset are read by `llmscope-shim analyze \
                 --tests` and the Worker's LLMSCOPE_TESTS, not by this build)"
            ),
        })
}

/// The whole text: built-in tests (as a [`RuleSet`]) and named rules.
#[cfg(feature = "rule-language")]
pub(super) fn parse(text: &str) -> Result<(RuleSet, CustomRules), RuleError> {
    let mut set = RuleSet::none();
    let mut rules = CustomRules::default();
    for (line_no, line) in text.split('\n').enumerate() {
        let line = line.split('#').next().unwrap_or("");
        let mut offset = 0;
        for item in line.split(';') {
            let column = line[..offset].chars().count() + 1;
            offset += item.len() + 1;
            let at = Place {
                line: line_no + 1,
                column,
            };
            item_into(item, at, &mut set, &mut rules)?;
        }
    }
    Ok((set, rules))
}

#[derive(Clone, Copy)]
struct Place {
    line: usize,
    column: usize,
}

impl Place {
    fn error(self, message: impl Into<String>) -> RuleError {
        RuleError {
            line: self.line,
            column: self.column,
            message: message.into(),
        }
    }

    fn plus(self, chars: usize) -> Place {
        Place {
            column: self.column + chars,
            ..self
        }
    }
}

fn item_into(
    item: &str,
    at: Place,
    set: &mut RuleSet,
    rules: &mut CustomRules,
) -> Result<(), RuleError> {
    let lead = item.chars().take_while(|c| c.is_whitespace()).count();
    let body = item.trim();
    let at = at.plus(lead);
    if body.is_empty() {
        return Ok(());
    }
    let builtin = body
        .chars()
        .all(|c| c.is_ascii_digit() || ",:. ".contains(c));
    let Some((name, pattern)) = body.split_once(':').filter(|_| !builtin) else {
        return builtin_into(body, at, set, rules);
    };
    let name = name.trim();
    check_name(name, at, rules)?;
    let pattern_at = at.plus(body[..body.len() - pattern.len()].chars().count());
    let words = lex(pattern, pattern_at)?;
    let end = pattern_at.plus(pattern.chars().count());
    let (pattern, warning) = Parser {
        words,
        next: 0,
        end,
        rule: name,
    }
    .rule()?;
    rules.push(CustomRule {
        name: name.to_string(),
        text: canonical(body.split_once(':').map_or("", |p| p.1)),
        pattern,
        warning,
    });
    Ok(())
}

/// The pattern as written, without the warning mark and extra spaces.
fn canonical(pattern: &str) -> String {
    let words: Vec<&str> = pattern.split_whitespace().collect();
    let mut text = words.join(" ");
    for tail in [", warning", ",warning", " warning"] {
        if let Some(stripped) = text.strip_suffix(tail) {
            text = stripped.trim_end().to_string();
            break;
        }
    }
    text
}

fn builtin_into(
    body: &str,
    at: Place,
    set: &mut RuleSet,
    rules: &mut CustomRules,
) -> Result<(), RuleError> {
    let lower = body.to_ascii_lowercase();
    let preset = match lower.as_str() {
        "westgard" => Some(super::WESTGARD_TEXT),
        _ => None,
    };
    if let Some(text) = preset {
        let (_, preset) = parse(text)?;
        for rule in preset.rules {
            check_name(&rule.name, at, rules)?;
            rules.push(rule);
        }
        return Ok(());
    }
    let ok = lower.as_str() == "none"
        || lower
            .chars()
            .all(|c| c.is_ascii_digit() || ",:. ".contains(c))
        || [
            "nelson",
            "all",
            "western-electric",
            "we",
            "western_electric",
        ]
        .contains(&lower.as_str());
    if !ok {
        return Err(at.error(format!(
            "'{body}' is not a test: use nelson, western-electric, westgard, none, numbers 1 to 8 \
             with an optional K (1,2:8,5), or a named rule NAME: PATTERN ({EXAMPLE})"
        )));
    }
    let builtin = RuleSet::parse_builtin(body).map_err(|e| {
        let message = e.to_string();
        at.error(message.strip_prefix("tests: ").unwrap_or(&message))
    })?;
    set.add(&builtin);
    Ok(())
}

fn check_name(name: &str, at: Place, rules: &CustomRules) -> Result<(), RuleError> {
    if name.is_empty() {
        return Err(at.error(format!("a rule needs a name before ':' ({EXAMPLE})")));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || "-_.+/".contains(*c)))
    {
        return Err(at.error(format!(
            "rule name '{name}': '{bad}' is not allowed; names use letters, digits and - _ . + /"
        )));
    }
    if name.chars().all(|c| c.is_ascii_digit()) {
        return Err(at.error(format!(
            "rule name '{name}' would read as Nelson test {name}: give the rule a name with a \
             letter in it"
        )));
    }
    if name.chars().count() > 40 {
        return Err(at.error(format!("rule name '{name}' is longer than 40 characters")));
    }
    if rules.rules().iter().any(|r| r.name == name) {
        return Err(at.error(format!("there are two rules named '{name}'")));
    }
    Ok(())
}

#[derive(Clone, Debug, PartialEq)]
enum Word {
    Number(f64),
    Sigma(f64),
    Text(String),
    Symbol(char),
}

impl fmt::Display for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Word::Number(x) => write!(f, "{x}"),
            Word::Sigma(x) => write!(f, "{x}s"),
            Word::Text(t) => f.write_str(t),
            Word::Symbol(c) => write!(f, "{c}"),
        }
    }
}

/// The length of a number's exponent at the start of `rest` (`e5`, `E-3`, `e+2`), or 0: a
/// threshold in the units of the data may be large or small (`1 above 1e5`).
fn exponent(rest: &[char]) -> usize {
    let signed = matches!(rest.get(1), Some('+' | '-'));
    let digits_at = if signed { 2 } else { 1 };
    let has_digit = rest.get(digits_at).is_some_and(|c| c.is_ascii_digit());
    if !matches!(rest.first(), Some('e' | 'E')) || !has_digit {
        return 0;
    }
    digits_at
        + rest[digits_at..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
}

fn lex(text: &str, at: Place) -> Result<Vec<(Word, Place)>, RuleError> {
    let chars: Vec<char> = text.chars().collect();
    let mut words = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let here = at.plus(i);
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            i += exponent(&chars[i..]);
            let digits: String = chars[start..i].iter().collect();
            let x = digits
                .parse::<f64>()
                .map_err(|_| here.error(format!("'{digits}' is not a number")))?;
            let unit_start = i;
            while i < chars.len() && chars[i].is_alphabetic() {
                i += 1;
            }
            let unit: String = chars[unit_start..i].iter().collect();
            match unit.to_lowercase().as_str() {
                "" => words.push((Word::Number(x), here)),
                "s" | "σ" | "sigma" | "sd" => words.push((Word::Sigma(x), here)),
                _ => {
                    return Err(here.error(format!(
                        "'{digits}{unit}': a distance in sigma is written like 2s, 2σ or \
                         2 sigma"
                    )))
                }
            }
        } else if c.is_alphabetic() {
            let start = i;
            while i < chars.len() && chars[i].is_alphabetic() {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            words.push((Word::Text(word.to_lowercase()), here));
        } else if ",+-%".contains(c) {
            words.push((Word::Symbol(c), here));
            i += 1;
        } else {
            return Err(here.error(format!("'{c}' has no meaning in a rule")));
        }
    }
    Ok(words)
}

struct Parser<'a> {
    words: Vec<(Word, Place)>,
    next: usize,
    /// Just past the pattern, for errors at its end.
    end: Place,
    rule: &'a str,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Word> {
        self.words.get(self.next).map(|w| &w.0)
    }

    fn place(&self) -> Place {
        self.words.get(self.next).map_or(self.end, |w| w.1)
    }

    fn found(&self) -> String {
        self.peek()
            .map_or_else(|| "the end of the rule".into(), |w| format!("'{w}'"))
    }

    fn error(&self, expected: &str) -> RuleError {
        self.place().error(format!(
            "rule '{}': expected {expected}, found {}",
            self.rule,
            self.found()
        ))
    }

    /// Takes the word if it is this text.
    fn eat(&mut self, text: &str) -> bool {
        if matches!(self.peek(), Some(Word::Text(t)) if t == text) {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn eat_symbol(&mut self, c: char) -> bool {
        if self.peek() == Some(&Word::Symbol(c)) {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, text: &str) -> Result<(), RuleError> {
        if self.eat(text) {
            Ok(())
        } else {
            Err(self.error(&format!("'{text}'")))
        }
    }

    fn count(&mut self, what: &str) -> Result<u32, RuleError> {
        let at = self.place();
        match self.peek() {
            Some(Word::Number(x)) => {
                let x = *x;
                if x.fract() != 0.0 || !(1.0..=f64::from(MAX_RUN)).contains(&x) {
                    return Err(at.error(format!(
                        "rule '{}': {what} must be a whole number of points from 1 to {MAX_RUN}, \
                         not {x}",
                        self.rule
                    )));
                }
                self.next += 1;
                Ok(x as u32)
            }
            _ => Err(self.error(&format!("{what}, a number of points"))),
        }
    }

    fn sigma(&mut self, allow_zero: bool) -> Result<f64, RuleError> {
        let at = self.place();
        let z = match self.peek() {
            Some(Word::Sigma(z)) => {
                let z = *z;
                self.next += 1;
                z
            }
            Some(Word::Number(z)) => {
                let z = *z;
                self.next += 1;
                if !(self.eat("s") || self.eat("sigma") || self.eat("σ")) {
                    return Err(at.error(format!(
                        "rule '{}': '{z}' needs a unit: a distance in sigma is written like \
                         {z}s",
                        self.rule
                    )));
                }
                z
            }
            _ => return Err(self.error("a distance in sigma such as 2s")),
        };
        if !(z.is_finite() && (z > 0.0 || allow_zero && z == 0.0)) {
            return Err(at.error(format!(
                "rule '{}': {z}s must be a positive distance in sigma",
                self.rule
            )));
        }
        Ok(z)
    }

    /// `NAME: PATTERN [, warning]`: the pattern and the warning mark.
    fn rule(mut self) -> Result<(Pattern, bool), RuleError> {
        let first = self.count("the number of points")?;
        let (k, n, in_a_row) = if self.eat("of") || (self.eat("out") && self.eat("of")) {
            let n = self.count("the number of points in the window")?;
            let at = self.words[self.next - 1].1;
            if first > n {
                return Err(at.error(format!(
                    "rule '{}': {first} of {n} asks for more points than the window holds",
                    self.rule
                )));
            }
            if first < n && n > MAX_WINDOW {
                return Err(at.error(format!(
                    "rule '{}': a window of {n} points is longer than {MAX_WINDOW}",
                    self.rule
                )));
            }
            (first, n, first == n)
        } else {
            (first, first, true)
        };
        let _ = self.eat("points") || self.eat("point");
        if self.eat("in") {
            self.expect("a")?;
            self.expect("row")?;
        }
        let start = self.place();
        let pattern = self.condition(k, n)?;
        if !in_a_row && !matches!(pattern, Pattern::Points { .. }) {
            return Err(start.error(format!(
                "rule '{}': K of N applies to tests of single points (beyond, above, below, \
                 within, outside, on one side); write '{n} in a row' here",
                self.rule
            )));
        }
        let min = match pattern {
            Pattern::Points { .. } => 1,
            _ => 2,
        };
        if n < min {
            return Err(start.error(format!(
                "rule '{}': this pattern needs at least {min} points",
                self.rule
            )));
        }
        let _ = self.eat_symbol(',');
        let warning = self.eat("warning");
        if self.next < self.words.len() {
            return Err(self.error("the end of the rule (or ', warning')"));
        }
        Ok((pattern, warning))
    }

    fn condition(&mut self, k: u32, n: u32) -> Result<Pattern, RuleError> {
        let points = |test| Pattern::Points { k, n, test };
        let at = self.place();
        let Some(Word::Text(word)) = self.peek().cloned() else {
            return Err(self.error(&format!("a condition ({CONDITIONS})")));
        };
        self.next += 1;
        Ok(match word.as_str() {
            "beyond" => {
                let level = if self.eat("limits") {
                    Level::Limits
                } else {
                    Level::Sigma(self.sigma(false)?)
                };
                let _ = self.eat("on");
                let _ = self.eat("the");
                let side = if self.eat("opposite") {
                    self.expect("sides")?;
                    let Level::Sigma(z) = level else {
                        return Err(at.error(format!(
                            "rule '{}': opposite sides takes a distance in sigma",
                            self.rule
                        )));
                    };
                    return Ok(Pattern::OppositeSides { n, z });
                } else {
                    self.side()?.unwrap_or(Side::Same)
                };
                points(PointTest::Beyond { level, side })
            }
            "above" | "below" => {
                let above = word == "above";
                let side = if above { Side::Above } else { Side::Below };
                let level = self.level(above)?;
                points(PointTest::Beyond { level, side })
            }
            "within" => points(PointTest::Within(self.sigma(false)?)),
            "outside" => {
                if self.eat("spec") {
                    points(PointTest::OutsideSpec)
                } else if self.eat("limits") {
                    points(PointTest::Beyond {
                        level: Level::Limits,
                        side: Side::Either,
                    })
                } else {
                    return Err(self.error("'spec' or 'limits' after 'outside'"));
                }
            }
            "on" | "same" | "one" => {
                self.next -= 1;
                let _ = self.eat("on");
                let _ = self.eat("the");
                match self.side()? {
                    Some(Side::Same) => points(PointTest::Beyond {
                        level: Level::Sigma(0.0),
                        side: Side::Same,
                    }),
                    _ => return Err(self.error("'one side' or 'the same side'")),
                }
            }
            "rising" | "increasing" | "falling" | "decreasing" => {
                let rising = word == "rising" || word == "increasing";
                let either = self.eat("or");
                if either
                    && !["falling", "decreasing", "rising", "increasing"]
                        .iter()
                        .any(|w| self.eat(w))
                {
                    return Err(self.error("'rising' or 'falling' after 'or'"));
                }
                let direction = match (either, rising) {
                    (true, _) => Direction::Either,
                    (false, true) => Direction::Rising,
                    (false, false) => Direction::Falling,
                };
                Pattern::Trend { n, direction }
            }
            "alternating" => {
                if self.eat("up") {
                    self.expect("and")?;
                    self.expect("down")?;
                }
                Pattern::Alternating { n }
            }
            _ => {
                self.next -= 1;
                return Err(self.error(&format!("a condition ({CONDITIONS})")));
            }
        })
    }

    /// `same side`, `one side`, `either side`, `above`, `below`, or nothing.
    fn side(&mut self) -> Result<Option<Side>, RuleError> {
        let side = if self.eat("same") || self.eat("one") {
            Side::Same
        } else if self.eat("either") || self.eat("any") {
            Side::Either
        } else if self.eat("above") {
            let _ = self.eat("center");
            return Ok(Some(Side::Above));
        } else if self.eat("below") {
            let _ = self.eat("center");
            return Ok(Some(Side::Below));
        } else {
            return Ok(None);
        };
        if !(self.eat("side") || self.eat("sides")) {
            return Err(self.error("'side'"));
        }
        Ok(Some(side))
    }

    /// What follows `above` or `below`.
    fn level(&mut self, above: bool) -> Result<Level, RuleError> {
        if self.eat("limits") || self.eat("limit") {
            return Ok(Level::Limits);
        }
        if self.eat("center") {
            return Ok(Level::Sigma(0.0));
        }
        let sign_at = self.place();
        let sign = if self.eat_symbol('-') {
            Some(-1.0)
        } else if self.eat_symbol('+') {
            Some(1.0)
        } else {
            None
        };
        match self.peek() {
            _ if self.sigma_next() => {
                if sign.is_some_and(|s| (s > 0.0) != above) {
                    return Err(sign_at.error(format!(
                        "rule '{}': '{}' runs the other way: write 'above 2s' or 'below 2s' \
                         (both count from the center line outwards)",
                        self.rule,
                        if above { "above -" } else { "below +" }
                    )));
                }
                Ok(Level::Sigma(self.sigma(false)?))
            }
            Some(Word::Number(x)) => {
                let x = sign.unwrap_or(1.0) * *x;
                self.next += 1;
                Ok(Level::Value(Threshold::Absolute(x)))
            }
            Some(Word::Text(t)) if sign.is_none() && (t == "usl" || t == "lsl") => {
                let usl = t == "usl";
                self.next += 1;
                let offset = if self.eat_symbol('+') {
                    self.number()?
                } else if self.eat_symbol('-') {
                    -self.number()?
                } else {
                    0.0
                };
                Ok(Level::Value(if usl {
                    Threshold::Usl(offset)
                } else {
                    Threshold::Lsl(offset)
                }))
            }
            _ => Err(self.error("a level: 2s, limits, center, a value, usl or lsl (+/- a value)")),
        }
    }

    /// Is a distance in sigma next (`2s`, or `2 sigma`)?
    fn sigma_next(&self) -> bool {
        let unit = |w: Option<&(Word, Place)>| matches!(w, Some((Word::Text(t), _)) if ["s", "sigma", "σ"].contains(&t.as_str()));
        match self.peek() {
            Some(Word::Sigma(_)) => true,
            Some(Word::Number(_)) => unit(self.words.get(self.next + 1)),
            _ => false,
        }
    }

    fn number(&mut self) -> Result<f64, RuleError> {
        match self.peek() {
            Some(Word::Number(x)) => {
                let x = *x;
                self.next += 1;
                Ok(x)
            }
            _ => Err(self.error("a number")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NelsonRule;

    fn one(text: &str) -> CustomRule {
        let (set, rules) = parse(text).unwrap();
        assert!(set.is_empty());
        assert_eq!(rules.rules().len(), 1);
        rules.rules()[0].clone()
    }

    fn error(text: &str) -> RuleError {
        parse(text).unwrap_err()
    }

    /// The 1-based column of `part` in `text`.
    fn column(text: &str, part: &str) -> usize {
        text[..text.find(part).unwrap()].chars().count() + 1
    }

    #[test]
    fn every_form_parses() {
        let beyond = |level, side| PointTest::Beyond { level, side };
        let points = |k, n, test| Pattern::Points { k, n, test };
        let cases = [
            (
                "2-2s: 2 of 2 beyond 2s same side",
                points(2, 2, beyond(Level::Sigma(2.0), Side::Same)),
            ),
            (
                "a: 2 out of 3 beyond 2σ",
                points(2, 3, beyond(Level::Sigma(2.0), Side::Same)),
            ),
            (
                "a: 8 points in a row beyond 1 sigma on either side",
                points(8, 8, beyond(Level::Sigma(1.0), Side::Either)),
            ),
            (
                "a: 3 of 5 above 2s",
                points(3, 5, beyond(Level::Sigma(2.0), Side::Above)),
            ),
            (
                "a: 1 below -2.5s",
                points(1, 1, beyond(Level::Sigma(2.5), Side::Below)),
            ),
            (
                "a: 9 in a row on one side",
                points(9, 9, beyond(Level::Sigma(0.0), Side::Same)),
            ),
            (
                "a: 7 in a row below center",
                points(7, 7, beyond(Level::Sigma(0.0), Side::Below)),
            ),
            (
                "a: 15 in a row within 1s",
                points(15, 15, PointTest::Within(1.0)),
            ),
            (
                "a: 1 above 2500",
                points(
                    1,
                    1,
                    beyond(Level::Value(Threshold::Absolute(2500.0)), Side::Above),
                ),
            ),
            (
                "a: 1 above 2.5e3",
                points(
                    1,
                    1,
                    beyond(Level::Value(Threshold::Absolute(2500.0)), Side::Above),
                ),
            ),
            (
                "a: 1 below 5E-2",
                points(
                    1,
                    1,
                    beyond(Level::Value(Threshold::Absolute(0.05)), Side::Below),
                ),
            ),
            (
                "a: 3 of 5 above usl - 10",
                points(
                    3,
                    5,
                    beyond(Level::Value(Threshold::Usl(-10.0)), Side::Above),
                ),
            ),
            (
                "a: 2 in a row below lsl + 0.5",
                points(2, 2, beyond(Level::Value(Threshold::Lsl(0.5)), Side::Below)),
            ),
            ("a: 1 outside spec", points(1, 1, PointTest::OutsideSpec)),
            (
                "a: 1 outside limits",
                points(1, 1, beyond(Level::Limits, Side::Either)),
            ),
            (
                "a: 6 rising or falling",
                Pattern::Trend {
                    n: 6,
                    direction: Direction::Either,
                },
            ),
            (
                "a: 5 in a row rising",
                Pattern::Trend {
                    n: 5,
                    direction: Direction::Rising,
                },
            ),
            (
                "a: 14 alternating up and down",
                Pattern::Alternating { n: 14 },
            ),
            (
                "R-4s: 2 in a row beyond 2s opposite sides",
                Pattern::OppositeSides { n: 2, z: 2.0 },
            ),
        ];
        for (text, want) in cases {
            let rule = one(text);
            assert_eq!(rule.pattern, want, "{text}");
            assert!(!rule.warning);
        }
        let warning = one("1-2s: 1 beyond 2s, warning");
        assert!(warning.warning);
        assert_eq!(warning.text, "1 beyond 2s");
    }

    #[test]
    fn builtins_and_named_rules_mix() {
        let text = "1,2:8 ; 2-2s: 2 of 2 beyond 2s\n# a comment\n4-1s: 4 of 4 beyond 1s # last";
        let (set, rules) = parse(text).unwrap();
        assert_eq!(
            set.rules().collect::<Vec<_>>(),
            [NelsonRule::Beyond, NelsonRule::SameSide]
        );
        assert_eq!(set.k(NelsonRule::SameSide), 8.0);
        let names: Vec<&str> = rules.rules().iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["2-2s", "4-1s"]);
        let (set, rules) = parse("nelson; slow: 1 above 3000").unwrap();
        assert_eq!(set, RuleSet::nelson());
        assert_eq!(rules.rules()[0].name, "slow");
        let (_, westgard) = parse("westgard").unwrap();
        assert_eq!(westgard.rules().len(), 6);
        let e = error("2-2s: 2 of 2 beyond 2s\nwestgard");
        assert_eq!(e.line, 2);
        assert!(e.message.contains("two rules named '2-2s'"), "{e}");
    }

    #[test]
    fn errors_name_the_part_and_its_column() {
        let text = "2-2s: 2 of 2 beyond x";
        let e = error(text);
        assert_eq!((e.line, e.column), (1, column(text, "x")), "{e}");
        assert!(e.message.contains("distance in sigma"), "{e}");

        let text = "ok: 1 beyond 3s; bad: 3 of 2 beyond 2s";
        let e = error(text);
        assert_eq!(e.column, column(text, "2 beyond 2s"), "{e}");
        assert!(
            e.message.contains("rule 'bad'") && e.message.contains("3 of 2"),
            "{e}"
        );

        let text = "a: 1 beyond 3s\nb: 2 of 3 rising";
        let e = error(text);
        assert_eq!((e.line, e.column), (2, 11), "{e}");
        assert!(e.message.contains("K of N"), "{e}");

        let text = "a: 1 beyond 3s sometimes";
        let e = error(text);
        assert_eq!(e.column, column(text, "sometimes"), "{e}");
        assert!(e.message.contains("found 'sometimes'"), "{e}");

        let e = error("1-3s 1 beyond 3s");
        assert!(e.message.contains("is not a test"), "{e}");
        let e = error("a: 1 beyond 3s; a: 2 of 2 beyond 2s");
        assert!(e.message.contains("two rules named 'a'"), "{e}");
        let e = error("7: 7 rising");
        assert!(e.message.contains("Nelson test 7"), "{e}");
        let e = error("a: 1 beyond 3q");
        assert!(e.message.contains("'3q'"), "{e}");
        let e = error("a: 1 above -2s");
        assert!(e.message.contains("other way"), "{e}");
        let e = error("a: 1 rising");
        assert!(e.message.contains("at least 2"), "{e}");
        let e = error("a: 0 beyond 2s");
        assert!(e.message.contains("whole number"), "{e}");
        let e = error("a: 2 of 20000 beyond 2s");
        assert!(e.message.contains("longer than"), "{e}");
        let e = error(": 1 beyond 3s");
        assert!(e.message.contains("needs a name"), "{e}");
        let e = error("1,9");
        assert!(e.message.contains("'9' is not a test"), "{e}");
    }

    /// Random text from the language's own words never panics, and an error's column lies on
    /// its line.
    #[test]
    fn random_text_never_panics() {
        let parts = [
            "a:",
            "b-2:",
            " 2",
            "3",
            "of",
            "beyond",
            "2s",
            "1.5σ",
            "sigma",
            "same",
            "side",
            "either",
            "opposite",
            "sides",
            "in",
            "a",
            "row",
            "above",
            "below",
            "usl",
            "lsl",
            "-",
            "+",
            "10",
            "within",
            "outside",
            "spec",
            "limits",
            "rising",
            "or",
            "falling",
            "alternating",
            ",",
            "warning",
            ";",
            "\n",
            "#",
            "é",
            "0",
            "99999999999",
            ".",
            "1,2:8",
            "westgard",
            "center",
            "on",
            "one",
        ];
        let mut rng = crate::rng::Rng::new(16);
        let mut parsed = 0;
        for _ in 0..20_000 {
            let n = 1 + rng.below(12) as usize;
            let text: Vec<&str> = (0..n)
                .map(|_| parts[rng.below(parts.len() as u64) as usize])
                .collect();
            let text = text.join(" ");
            match parse(&text) {
                Ok(_) => parsed += 1,
                Err(e) => {
                    let line = text.split('\n').nth(e.line - 1).unwrap_or("");
                    assert!(e.column <= line.chars().count() + 2, "{text:?}: {e}");
                }
            }
        }
        assert!(parsed > 100, "only {parsed} parsed");
    }
}
