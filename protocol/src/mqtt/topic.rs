//! MQTT topic filters and stream-name templates: checking a `subscribe.topic` filter the way a
//! broker would (so mistakes are rejected at start, not silently never matched), matching a
//! topic against it while capturing what each wildcard stood for, and building the stream name
//! (`line2/{1}/vibration`) from those captures.
//!
//! Captures are numbered from 1 in the order the wildcards appear in the filter. A `+` captures
//! the one level it matched; a `#` captures everything it matched, levels joined by `/` as in the
//! topic (`plant/#` on `plant/line2/a` captures `line2/a`; on `plant` itself it captures ``).

/// Why a `subscribe.topic` filter or a `stream` template was refused; the config check puts
/// the key in front (`subscribe[0].topic: ...`).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TopicError {
    /// The filter is empty.
    #[error("is empty: write a topic filter like plant/line2/+/vibration")]
    EmptyFilter,
    /// The filter is over MQTT's length limit.
    #[error("is longer than the 65535 bytes MQTT allows")]
    LongFilter,
    /// The filter holds a NUL.
    #[error("contains a NUL character")]
    NulInFilter,
    /// A `#` before the last level.
    #[error("'{filter}': '#' must be the last level (e.g. plant/line2/#)")]
    HashNotLast {
        /// The filter.
        filter: String,
    },
    /// A wildcard sharing its level with text.
    #[error(
        "'{filter}': '+' and '#' must fill a whole level: '{level}' mixes them with text \
         (write a/+/c, not a/b+/c)"
    )]
    MixedLevel {
        /// The filter.
        filter: String,
        /// The level.
        level: String,
    },
    /// The stream template is empty.
    #[error("is empty: name the stream, e.g. line2/{{1}}/vibration")]
    EmptyStream,
    /// The stream template holds a character no topic may.
    #[error("'{stream}': stream names cannot contain '+', '#' or NUL")]
    Unpublishable {
        /// The template.
        stream: String,
    },
    /// A `{` that is never closed.
    #[error("'{stream}': '{{' without a closing '}}'")]
    Unclosed {
        /// The template.
        stream: String,
    },
    /// A `}` that was never opened.
    #[error("'{stream}': '}}' without an opening '{{'")]
    Unopened {
        /// The template.
        stream: String,
    },
    /// Braces around something other than a wildcard's number.
    #[error("'{stream}': '{{{inner}}}' is not a placeholder; write {{1}} for the first wildcard")]
    NotPlaceholder {
        /// The template.
        stream: String,
        /// What the braces hold.
        inner: String,
    },
    /// A placeholder for a wildcard the filter does not have.
    #[error(
        "'{stream}': {{{number}}} refers to wildcard number {number}, but {}; {{1}} is the first",
        the_filter_has(*wildcards)
    )]
    NoSuchWildcard {
        /// The template.
        stream: String,
        /// The placeholder's number.
        number: usize,
        /// How many wildcards the filter has.
        wildcards: usize,
    },
}

/// How many wildcards a filter has, in words.
fn the_filter_has(wildcards: usize) -> String {
    match wildcards {
        0 => "the topic has no wildcard".to_string(),
        1 => "the topic has only 1 wildcard (+ or #)".to_string(),
        w => format!("the topic has only {w} wildcards (+ or #)"),
    }
}

/// One level of a parsed filter.
#[derive(Clone, Debug, PartialEq)]
enum Level {
    /// Matches exactly this text.
    Exact(String),
    /// `+`: any one level.
    One,
    /// `#`: this level and every one after it, or none.
    Rest,
}

/// A checked topic filter.
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    levels: Vec<Level>,
}

impl Filter {
    /// Parses a filter with the MQTT 3.1.1 rules (section 4.7): `+` and `#` fill a whole level,
    /// `#` only as the last one; no NUL; at most 65535 bytes.
    pub fn parse(filter: &str) -> Result<Filter, TopicError> {
        if filter.is_empty() {
            return Err(TopicError::EmptyFilter);
        }
        if filter.len() > 65_535 {
            return Err(TopicError::LongFilter);
        }
        if filter.contains('\0') {
            return Err(TopicError::NulInFilter);
        }
        let parts: Vec<&str> = filter.split('/').collect();
        let mut levels = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            let level = match *part {
                "+" => Level::One,
                "#" if i + 1 == parts.len() => Level::Rest,
                "#" => {
                    return Err(TopicError::HashNotLast {
                        filter: filter.to_string(),
                    });
                }
                p if p.contains('+') || p.contains('#') => {
                    return Err(TopicError::MixedLevel {
                        filter: filter.to_string(),
                        level: p.to_string(),
                    });
                }
                p => Level::Exact(p.to_string()),
            };
            levels.push(level);
        }
        Ok(Filter { levels })
    }

    /// How many wildcards (`+` and `#`) the filter has, i.e. how many captures a match gives.
    pub fn wildcards(&self) -> usize {
        self.levels
            .iter()
            .filter(|l| !matches!(l, Level::Exact(_)))
            .count()
    }

    /// What each wildcard matched in `topic`, in order, or `None` when the topic does not match.
    /// Topics starting with `$` (`$SYS/...`) are not matched by a leading wildcard (MQTT 4.7.2).
    pub fn captures<'t>(&self, topic: &'t str) -> Option<Vec<&'t str>> {
        if topic.starts_with('$') && !matches!(self.levels.first(), Some(Level::Exact(_))) {
            return None;
        }
        let mut caps = Vec::new();
        let mut rest = Some(topic);
        for level in &self.levels {
            if *level == Level::Rest {
                caps.push(rest.unwrap_or(""));
                return Some(caps);
            }
            let text = rest?;
            let (head, tail) = match text.split_once('/') {
                Some((h, t)) => (h, Some(t)),
                None => (text, None),
            };
            match level {
                Level::Exact(e) if e != head => return None,
                Level::One => caps.push(head),
                _ => {}
            }
            rest = tail;
        }
        match rest {
            Some(_) => None,
            None => Some(caps),
        }
    }

    /// Whether every topic `other` matches is also matched by `self`, so subscribing to both
    /// would only make some brokers deliver those messages twice.
    pub fn covers(&self, other: &Filter) -> bool {
        let dollar =
            |f: &Filter| matches!(f.levels.first(), Some(Level::Exact(e)) if e.starts_with('$'));
        if dollar(other) && !matches!(self.levels.first(), Some(Level::Exact(_))) {
            return false;
        }
        for (i, level) in self.levels.iter().enumerate() {
            match (level, other.levels.get(i)) {
                (Level::Rest, _) => return true,
                (Level::One, Some(Level::Exact(_) | Level::One)) => {}
                (Level::Exact(a), Some(Level::Exact(b))) if a == b => {}
                _ => return false,
            }
        }
        other.levels.len() == self.levels.len()
    }
}

/// One piece of a stream-name template.
#[derive(Clone, Debug, PartialEq)]
enum Part {
    Text(String),
    /// The capture with this 0-based index.
    Capture(usize),
}

/// A checked `stream` template such as `line2/{1}/vibration`.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses a template whose placeholders `{1}`, `{2}`... must refer to one of the filter's
    /// `wildcards`. Braces are only for placeholders, and names cannot contain `+` or `#` (they
    /// could not be republished as MQTT topics).
    pub fn parse(text: &str, wildcards: usize) -> Result<Template, TopicError> {
        let stream = || text.to_string();
        if text.trim().is_empty() {
            return Err(TopicError::EmptyStream);
        }
        if text.contains('+') || text.contains('#') || text.contains('\0') {
            return Err(TopicError::Unpublishable { stream: stream() });
        }
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            match c {
                '{' => {
                    let close = rest
                        .find('}')
                        .ok_or_else(|| TopicError::Unclosed { stream: stream() })?;
                    let inner = &rest[1..close];
                    let n: usize = inner
                        .parse()
                        .ok()
                        .filter(|_| inner.bytes().all(|b| b.is_ascii_digit()))
                        .ok_or_else(|| TopicError::NotPlaceholder {
                            stream: stream(),
                            inner: inner.to_string(),
                        })?;
                    if n == 0 || n > wildcards {
                        return Err(TopicError::NoSuchWildcard {
                            stream: stream(),
                            number: n,
                            wildcards,
                        });
                    }
                    if !literal.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Capture(n - 1));
                    rest = &rest[close + 1..];
                }
                '}' => return Err(TopicError::Unopened { stream: stream() }),
                c => {
                    literal.push(c);
                    rest = &rest[c.len_utf8()..];
                }
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Template { parts })
    }

    /// The stream name when it has no placeholder.
    pub fn fixed(&self) -> Option<String> {
        match self.parts.as_slice() {
            [] => Some(String::new()),
            [Part::Text(t)] => Some(t.clone()),
            _ => None,
        }
    }

    /// The stream name for these captures (a missing capture renders as nothing).
    pub fn render(&self, caps: &[&str]) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Capture(i) => out.push_str(caps.get(*i).copied().unwrap_or("")),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> Filter {
        Filter::parse(s).unwrap()
    }

    #[test]
    fn filters_follow_the_mqtt_rules() {
        for good in [
            "a", "a/b", "+", "#", "a/+/c", "a/#", "+/+/#", "/a", "a//b", "$SYS/#",
        ] {
            assert!(Filter::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "a/#/b", "a/b+", "a#", "a/+b/c", "#/a", "a\0b"] {
            assert!(Filter::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(f("a/+/c/#").wildcards(), 2);
        assert_eq!(f("a/b").wildcards(), 0);
    }

    #[test]
    fn matching_captures_the_wildcards() {
        assert_eq!(
            f("plant/+/+/vibration").captures("plant/line2/a/vibration"),
            Some(vec!["line2", "a"])
        );
        assert_eq!(
            f("plant/+/vibration").captures("plant/line2/a/vibration"),
            None
        );
        assert_eq!(
            f("plant/#").captures("plant/line2/a"),
            Some(vec!["line2/a"])
        );
        assert_eq!(f("plant/#").captures("plant"), Some(vec![""]));
        assert_eq!(f("plant/+").captures("plant"), None);
        assert_eq!(f("plant/+").captures("plant/"), Some(vec![""]));
        assert_eq!(f("a/b").captures("a/b"), Some(vec![]));
        assert_eq!(f("a/b").captures("a/b/c"), None);
        assert_eq!(f("#").captures("$SYS/x"), None);
        assert_eq!(f("+/x").captures("$SYS/x"), None);
        assert_eq!(f("$SYS/#").captures("$SYS/x"), Some(vec!["x"]));
        assert_eq!(f("+/#").captures("a/b/c"), Some(vec!["a", "b/c"]));
    }

    #[test]
    fn covering_filters() {
        assert!(f("a/#").covers(&f("a/+/c")));
        assert!(f("a/#").covers(&f("a")));
        assert!(f("a/+").covers(&f("a/b")));
        assert!(f("a/+").covers(&f("a/+")));
        assert!(f("#").covers(&f("a/#")));
        assert!(!f("a/+").covers(&f("a/#")));
        assert!(!f("a/+").covers(&f("a/b/c")));
        assert!(!f("a/b").covers(&f("a/+")));
        assert!(!f("a/+/#").covers(&f("a/#")));
        assert!(!f("#").covers(&f("$SYS/x")));
    }

    #[test]
    fn templates() {
        let t = Template::parse("line2/{1}/vibration", 1).unwrap();
        assert_eq!(t.render(&["a"]), "line2/a/vibration");
        assert_eq!(t.fixed(), None);
        assert_eq!(
            Template::parse("x/{2}-{1}", 2).unwrap().render(&["a", "b"]),
            "x/b-a"
        );
        assert_eq!(
            Template::parse("press1/temp", 0)
                .unwrap()
                .fixed()
                .as_deref(),
            Some("press1/temp")
        );
        assert!(Template::parse("a/{3}", 1)
            .unwrap_err()
            .to_string()
            .contains("only 1 wildcard"));
        assert!(Template::parse("a/{0}", 1).is_err());
        // The messages, braces and all, as the operator reads them.
        let message = |t: &str| Template::parse(t, 1).unwrap_err().to_string();
        assert_eq!(
            message("a/{x}"),
            "'a/{x}': '{x}' is not a placeholder; write {1} for the first wildcard"
        );
        assert_eq!(message("a/{1"), "'a/{1': '{' without a closing '}'");
        assert_eq!(message("a/1}"), "'a/1}': '}' without an opening '{'");
        assert_eq!(
            message("a/{2}"),
            "'a/{2}': {2} refers to wildcard number 2, but the topic has only 1 wildcard (+ or #); {1} is the first"
        );
        assert_eq!(
            Template::parse("", 0).unwrap_err().to_string(),
            "is empty: name the stream, e.g. line2/{1}/vibration"
        );
        assert!(Template::parse("a/{+1}", 1).is_err());
        assert!(Template::parse("a/{1", 1).is_err());
        assert!(Template::parse("a/1}", 1).is_err());
        assert!(Template::parse("a/+", 1).is_err());
        assert!(Template::parse(" ", 0).is_err());
        assert!(Template::parse("a/{1}", 0)
            .unwrap_err()
            .to_string()
            .contains("no wildcard"));
    }
}
