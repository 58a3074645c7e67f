//! A destination's message template: text with `{placeholder}`s, filled per alert. The syntax
//! is deliberately tiny (no expressions, no loops, nothing to evaluate): `{name}` is replaced
//! by a value the Worker computes, `{{` and `}}` are literal braces. A template is checked
//! when the destination is configured, so a typo is an error naming the placeholder and its
//! place, never an alert with a hole in it.

use std::collections::BTreeMap;

/// Every placeholder, with what it stands for (workers/README.md lists the same).
pub const PLACEHOLDERS: [(&str, &str); 15] = [
    ("brand", "the sender's name (LLMSCOPE_BRAND's name)"),
    ("target", "the target's name"),
    ("severity", "signal or predictive"),
    ("metric", "ttft_ms, total_ms, tokens_per_s or error_rate"),
    (
        "value",
        "the flagged value (a predictive alert: the last point)",
    ),
    ("center", "the center line"),
    ("limits", "the control limits, or the forecast's limit"),
    ("rules", "the tests and named rules that fired"),
    ("summary", "the alert in one line"),
    (
        "why",
        "the shape, likely cause and what moved with it, a line each",
    ),
    ("cause", "the suggested cause, or 'none suggested'"),
    ("shape", "the episode's shape, or 'unknown'"),
    ("time", "when, UTC (2026-12-07 01:35:00 UTC)"),
    ("id", "the alert's id (GET /alerts)"),
    ("link", "LLMSCOPE_DASHBOARD_URL, or nothing"),
];

/// A checked template: literal text and placeholders, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq)]
enum Part {
    Text(String),
    Field(&'static str),
}

impl Template {
    /// Reads a template; an error names the bad placeholder (or brace) and its character
    /// position (1-based), and lists the placeholders there are.
    pub fn parse(source: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = source.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            let doubled = chars.peek().is_some_and(|&(_, next)| next == c);
            match c {
                '{' | '}' if doubled => {
                    chars.next();
                    text.push(c);
                }
                '{' => {
                    let rest = &source[at + 1..];
                    let Some(end) = rest.find('}') else {
                        return Err(unclosed(source, at));
                    };
                    let name = &rest[..end];
                    let field = known(name).ok_or_else(|| unknown(source, at, name))?;
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(Part::Field(field));
                    for _ in 0..name.chars().count() + 1 {
                        chars.next();
                    }
                }
                '}' => {
                    return Err(format!(
                        "a lone }} at character {}: write }}}} for a brace",
                        position(source, at)
                    ))
                }
                _ => text.push(c),
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Template {
            source: source.to_string(),
            parts,
        })
    }

    /// The template as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The text with every placeholder filled from `values` (a missing value is empty), with
    /// white space trimmed from its end (an empty `{why}` leaves no blank line).
    pub fn render(&self, values: &BTreeMap<&'static str, String>) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Field(f) => out.push_str(values.get(f).map_or("", String::as_str)),
            }
        }
        out.truncate(out.trim_end().len());
        out
    }
}

fn known(name: &str) -> Option<&'static str> {
    PLACEHOLDERS.iter().map(|p| p.0).find(|p| *p == name)
}

fn position(source: &str, byte: usize) -> usize {
    source[..byte].chars().count() + 1
}

fn names() -> String {
    let all: Vec<String> = PLACEHOLDERS
        .iter()
        .map(|p| format!("{{{}}}", p.0))
        .collect();
    all.join(", ")
}

fn unknown(source: &str, at: usize, name: &str) -> String {
    format!(
        "unknown placeholder {{{name}}} at character {}: use {} (and {{{{ }}}} for braces)",
        position(source, at),
        names()
    )
}

fn unclosed(source: &str, at: usize) -> String {
    format!(
        "a {{ at character {} is not closed: write {{name}} for a placeholder, {{{{ for a brace",
        position(source, at)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> BTreeMap<&'static str, String> {
        BTreeMap::from([
            ("target", "gpt".to_string()),
            ("value", "412".to_string()),
            ("why", String::new()),
        ])
    }

    #[test]
    fn placeholders_are_filled_and_braces_doubled() {
        let t = Template::parse("{target}: {value} ms {{raw}} é{why}\n").unwrap();
        assert_eq!(t.render(&values()), "gpt: 412 ms {raw} é");
        assert_eq!(t.source(), "{target}: {value} ms {{raw}} é{why}\n");
        let missing = Template::parse("[{cause}]").unwrap();
        assert_eq!(missing.render(&values()), "[]");
    }

    #[test]
    fn a_bad_template_names_the_placeholder_and_where() {
        let e = Template::parse("é {targte} is {value}").unwrap_err();
        assert!(
            e.starts_with("unknown placeholder {targte} at character 3: use {brand}, {target}"),
            "{e}"
        );
        let e = Template::parse("{target").unwrap_err();
        assert!(e.starts_with("a { at character 1 is not closed"), "{e}");
        let e = Template::parse("ok } no").unwrap_err();
        assert!(e.starts_with("a lone } at character 4"), "{e}");
        let e = Template::parse("{}").unwrap_err();
        assert!(
            e.starts_with("unknown placeholder {} at character 1"),
            "{e}"
        );
    }
}
