//! Named rules (issue 16) between the rule editor and the charts. The editor (`rules_ui`, in
//! this module) parses a set with the engine's rule language; the dashboard's main module has
//! no parser (`llmscope-spc`'s `rule-language` feature stays out of it for its size), so an
//! applied set reaches it as the stream's `tests` (Nelson's tests, in the list syntax it reads)
//! and its named rules in a small saved form ([`encode`]), which [`decode`] rebuilds as the
//! engine's [`CustomRules`], checked as the parser checks them.
//!
//! The saved form, one rule a line: `name`, TAB, the pattern as written, TAB, numbers separated
//! by spaces: `warning kind ...` with `kind` 0 (K of N: `k n test`, `test` being `0 side level
//! value` for beyond, `1 z` for within, `2` for outside spec), 1 (trend: `n direction`), 2
//! (alternating: `n`) or 3 (opposite sides: `n z`). Sides: same, either, above, below; levels:
//! sigma, limits, a value, USL + value, LSL + value; directions: rising, falling, either.

use llmscope_spc::custom::{
    CustomRule, CustomRules, Direction, Level, Pattern, PointTest, Side, Threshold, MAX_RUN,
    MAX_WINDOW,
};

const SIDES: [Side; 4] = [Side::Same, Side::Either, Side::Above, Side::Below];
const DIRECTIONS: [Direction; 3] = [Direction::Rising, Direction::Falling, Direction::Either];

/// The named rules in the saved form.
pub fn encode(rules: &CustomRules) -> String {
    let lines: Vec<String> = rules
        .rules()
        .iter()
        .map(|r| {
            let numbers: Vec<String> = numbers(r).iter().map(f64::to_string).collect();
            format!("{}\t{}\t{}", r.name, r.text, numbers.join(" "))
        })
        .collect();
    lines.join("\n")
}

fn numbers(r: &CustomRule) -> Vec<f64> {
    let index = |i: Option<usize>| i.unwrap_or(0) as f64;
    let mut out = vec![f64::from(u8::from(r.warning))];
    match r.pattern {
        Pattern::Points { k, n, test } => {
            out.extend([0.0, k.into(), n.into()]);
            match test {
                PointTest::Beyond { level, side } => {
                    let (code, value) = match level {
                        Level::Sigma(z) => (0.0, z),
                        Level::Limits => (1.0, 0.0),
                        Level::Value(Threshold::Absolute(x)) => (2.0, x),
                        Level::Value(Threshold::Usl(d)) => (3.0, d),
                        Level::Value(Threshold::Lsl(d)) => (4.0, d),
                    };
                    out.extend([
                        0.0,
                        index(SIDES.iter().position(|s| *s == side)),
                        code,
                        value,
                    ]);
                }
                PointTest::Within(z) => out.extend([1.0, z]),
                PointTest::OutsideSpec => out.push(2.0),
            }
        }
        Pattern::Trend { n, direction } => out.extend([
            1.0,
            n.into(),
            index(DIRECTIONS.iter().position(|d| *d == direction)),
        ]),
        Pattern::Alternating { n } => out.extend([2.0, n.into()]),
        Pattern::OppositeSides { n, z } => out.extend([3.0, n.into(), z]),
    }
    out
}

/// The rules of a saved form, or which line is damaged. Counts and distances are checked as
/// the parser checks them, since the form comes from outside (a session file, a share link).
pub fn decode(code: &str) -> Result<CustomRules, String> {
    let mut rules = Vec::new();
    for (i, line) in code.lines().enumerate() {
        let mut parts = line.split('\t');
        let rule = match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(name), Some(text), Some(numbers), None) if !name.is_empty() => numbers
                .split(' ')
                .map(str::parse)
                .collect::<Result<Vec<f64>, _>>()
                .ok()
                .and_then(|n| pattern(&n))
                .map(|(warning, pattern)| CustomRule {
                    name: name.into(),
                    text: text.into(),
                    pattern,
                    warning,
                }),
            _ => None,
        };
        rules.push(rule.ok_or_else(|| format!("named rule {} is damaged", i + 1))?);
    }
    Ok(CustomRules::from_rules(rules))
}

/// A whole number in 1..=max.
fn count(x: f64, max: u32) -> Option<u32> {
    (x.fract() == 0.0 && (1.0..=f64::from(max)).contains(&x)).then_some(x as u32)
}

/// A distance in sigma.
fn sigma(z: f64) -> Option<f64> {
    (z.is_finite() && z >= 0.0).then_some(z)
}

fn pick<T: Copy>(from: &[T], x: f64) -> Option<T> {
    from.get(count(x + 1.0, from.len() as u32)? as usize - 1)
        .copied()
}

fn pattern(n: &[f64]) -> Option<(bool, Pattern)> {
    let warning = match n.first() {
        Some(0.0) => false,
        Some(1.0) => true,
        _ => return None,
    };
    let pattern = match n[1..] {
        [0.0, k, n, ref test @ ..] => {
            let n = count(n, MAX_RUN)?;
            let k = count(k, n)?;
            if k < n && n > MAX_WINDOW {
                return None;
            }
            let test = match *test {
                [0.0, side, level, x] => PointTest::Beyond {
                    side: pick(&SIDES, side)?,
                    level: match level {
                        0.0 => Level::Sigma(sigma(x)?),
                        1.0 => Level::Limits,
                        _ if !x.is_finite() => return None,
                        2.0 => Level::Value(Threshold::Absolute(x)),
                        3.0 => Level::Value(Threshold::Usl(x)),
                        4.0 => Level::Value(Threshold::Lsl(x)),
                        _ => return None,
                    },
                },
                [1.0, z] => PointTest::Within(sigma(z)?),
                [2.0] => PointTest::OutsideSpec,
                _ => return None,
            };
            Pattern::Points { k, n, test }
        }
        [1.0, n, d] => Pattern::Trend {
            n: count(n, MAX_RUN)?,
            direction: pick(&DIRECTIONS, d)?,
        },
        [2.0, n] => Pattern::Alternating {
            n: count(n, MAX_RUN)?,
        },
        [3.0, n, z] => Pattern::OppositeSides {
            n: count(n, MAX_RUN)?,
            z: sigma(z)?,
        },
        _ => return None,
    };
    Some((warning, pattern))
}

/// The set as the editor shows it: the stream's `tests` (left out when it is `none`, or when
/// named rules replace the default) and its named rules, one a line.
pub fn source(tests: &str, code: &str) -> String {
    let named = decode(code).map(|r| r.to_text()).unwrap_or_default();
    let tests = tests.trim();
    let tests = match (tests, named.is_empty()) {
        ("none", false) => "",
        ("", true) => "nelson",
        (t, _) => t,
    };
    [tests, &named]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("\n")
}

/// The longest rule set text kept with a stream, in bytes: the text travels with its settings
/// (the session, share links, exports), so it is bounded as they are.
pub const MAX_TEXT: usize = 10_000;

/// Whether the set's `text` may be kept with the stream, or what to do about it.
pub fn keepable(text: &str) -> Result<(), String> {
    match text.len() {
        n if n <= MAX_TEXT => Ok(()),
        n => Err(format!(
            "this rule set is {n} bytes; at most {MAX_TEXT} are kept with the stream (in its \
             session, share links and exports): shorten its comments or rules"
        )),
    }
}

/// The text the editor opens with: the set as the user typed it (`typed`, comments and layout
/// kept) when applying it gives the stream's `tests` and named rules' saved form `code`; else
/// the set written from them ([`source`]): a stream saved before the text was kept, one whose
/// tests were changed since, or a text over [`MAX_TEXT`].
#[cfg(feature = "module")]
pub fn opening(tests: &str, code: &str, typed: &str) -> String {
    let same = |(t, c): (String, String)| t == tests && c == code;
    let kept = keepable(typed).is_ok() && applied(typed).is_ok_and(same);
    match kept && !typed.trim().is_empty() {
        true => typed.into(),
        false => source(tests, code),
    }
}

/// What applying a set writes into a stream's settings: `tests` (Nelson's tests in the list
/// syntax with their K, or `none`) and the named rules' saved form (empty when none), or the
/// part that does not parse.
#[cfg(feature = "module")]
pub fn applied(text: &str) -> Result<(String, String), llmscope_spc::custom::RuleError> {
    let set = llmscope_spc::custom::parse_tests(text)?;
    let tests: Vec<String> = set
        .rules()
        .map(|t| format!("{}:{}", t.number(), set.k(t)))
        .collect();
    let tests = match tests.is_empty() {
        true => "none".to_string(),
        false => tests.join(","),
    };
    Ok((tests, encode(set.custom())))
}

#[cfg(all(test, feature = "module"))]
mod tests {
    use super::*;
    use llmscope_spc::custom::{parse_rules, NELSON_TEXT, WESTGARD_TEXT};

    #[test]
    fn the_saved_form_gives_back_the_parsed_rules() {
        let odd = "a: 3 of 5 above usl - 200, warning\nb: 2 below lsl + 0.5\n\
                   c: 4 in a row above 1250\nd: 1 outside spec\ne: 3 rising\nf: 3 falling\n\
                   g: 3 in a row beyond 2.5s opposite sides\nh: 2 of 7 beyond 1s below";
        for text in [WESTGARD_TEXT, NELSON_TEXT, odd] {
            let rules = parse_rules(text).unwrap();
            let code = encode(&rules);
            assert_eq!(decode(&code).unwrap(), rules, "{code}");
        }
    }

    #[test]
    fn a_damaged_form_is_refused_with_its_line() {
        let good = encode(&parse_rules("a: 2 of 3 beyond 2s").unwrap());
        let cases = [
            "a\t2 of 3 beyond 2s\t0 0 4 3 0 0 0 2", // k > n
            "a\t\t0 0 2 20000 0 0 0 2",             // a window too long
            "a\t\t0 0 2 3 0 9 0 2",                 // no such side
            "a\t\t0 0 2 3 0 0 0 -1",                // a negative sigma
            "a\t\t0 0 2 3 0 0 2 NaN",               // a value that is not a number
            "a\t\t2 0 2 3 0 0 0 2",                 // warning neither 0 nor 1
            "a\t\t0 1 3.5 0",                       // half a point
            "a\t\t0 7 3",                           // no such kind
            "a\t0 0 2 3 0 0 0 2",                   // a part missing
            "\t\t0 2 3",                            // no name
        ];
        for bad in cases {
            let code = format!("{good}\n{bad}");
            let e = decode(&code).unwrap_err();
            assert!(e.starts_with("named rule 2 is damaged"), "{bad}: {e}");
        }
    }

    #[test]
    fn applying_splits_nelson_s_tests_from_named_rules() {
        let (tests, code) = applied("1,2:8; 2-2s: 2 of 2 beyond 2s # a comment").unwrap();
        assert_eq!(tests, "1:3,2:8");
        assert_eq!(decode(&code).unwrap().rules()[0].name, "2-2s");
        let (tests, code) = applied("westgard").unwrap();
        assert_eq!(tests, "none");
        assert_eq!(source(&tests, &code), WESTGARD_TEXT);
        assert_eq!(source("nelson", ""), "nelson");
        assert_eq!(source("", ""), "nelson");
        let e = applied("a: 1 beyond 3s\nb: 2 of 2 beyond").unwrap_err();
        assert_eq!((e.line, e.column), (2, 17));
    }

    #[test]
    fn the_typed_text_is_shown_again_while_it_is_what_runs() {
        let typed = "# the lab's set\n1\n\n2-2s: 2 in a row beyond 2s same side  # Westgard\n";
        let (tests, code) = applied(typed).unwrap();
        assert_eq!(opening(&tests, &code, typed), typed);
        // Saved before the text was kept: the set written from what runs.
        assert_eq!(
            opening(&tests, &code, ""),
            "1:3\n2-2s: 2 in a row beyond 2s same side"
        );
        // The tests changed since (the settings' Tests field): the text no longer says what
        // runs.
        assert_eq!(opening("nelson", &code, typed), source("nelson", &code));
        // A text over the bound is refused in words, and not shown from a crafted link.
        let long = format!("{typed}{}", "#".repeat(MAX_TEXT));
        let e = keepable(&long).unwrap_err();
        assert!(
            e.starts_with(&format!(
                "this rule set is {} bytes; at most 10000",
                long.len()
            )),
            "{e}"
        );
        assert_eq!(opening(&tests, &code, &long), source(&tests, &code));
    }
}
