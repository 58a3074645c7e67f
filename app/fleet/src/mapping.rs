//! Topics to streams, exactly as the shim's `[[mqtt.subscribe]]` does it: with the same filter,
//! template and payload code (`llmscope_protocol::mqtt`, no I/O), so both read a topic and a
//! payload the same way. A filter under `spBv1.0/` needs no `stream`: Sparkplug names its own
//! streams (see [`crate::sparkplug`]).

use llmscope_protocol::mqtt::{payload, topic};
use serde::Deserialize;

/// One subscription as the page sends it: the keys of the shim's `[[mqtt.subscribe]]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscribeConfig {
    /// The topic filter, e.g. `plant/+/temperature` or `spBv1.0/#`.
    pub topic: String,
    /// The stream name template, e.g. `line2/{1}/temperature` (not for `spBv1.0/` filters).
    #[serde(default)]
    pub stream: Option<String>,
    /// JSON pointer to the value; absent means the payload is a plain number.
    #[serde(default)]
    pub value: Option<String>,
    /// JSON pointer to the time (epoch ms or RFC 3339); needs `value`.
    #[serde(default)]
    pub time: Option<String>,
}

impl SubscribeConfig {
    /// A filter as the page's form gives it (`topics` in the `connect` config): a `spBv1.0`
    /// one maps Sparkplug, any other names its streams by the topic itself.
    pub fn from_filter(filter: &str) -> SubscribeConfig {
        SubscribeConfig {
            topic: filter.to_string(),
            stream: (!filter.starts_with("spBv1.0")).then(|| stream_template(filter)),
            value: None,
            time: None,
        }
    }
}

/// The stream name of a plain filter: the topic itself, each wildcard's levels in its place
/// (`plant/+/temperature` → `plant/{1}/temperature`).
pub fn stream_template(filter: &str) -> String {
    let mut n = 0;
    let levels: Vec<String> = filter
        .split('/')
        .map(|level| match level {
            "+" | "#" => {
                n += 1;
                format!("{{{n}}}")
            }
            other => other.to_string(),
        })
        .collect();
    levels.join("/")
}

/// A checked subscription.
#[derive(Debug)]
pub struct Subscription {
    /// The filter as written, for SUBSCRIBE.
    pub topic: String,
    filter: topic::Filter,
    /// `None` for Sparkplug filters.
    stream: Option<topic::Template>,
    value: Option<String>,
    time: Option<String>,
}

/// One reading read from a plain (non-Sparkplug) message.
#[derive(Debug, PartialEq)]
pub struct Reading {
    /// The stream it belongs to.
    pub stream: String,
    /// Epoch milliseconds from the payload, if it has a time.
    pub t: Option<i64>,
    /// The value.
    pub value: f64,
}

impl Subscription {
    /// Checks one subscription; the error names the key (`subscribe[2].stream: ...`).
    pub fn parse(i: usize, c: &SubscribeConfig) -> Result<Subscription, String> {
        let key = |k: &str, e: &dyn std::fmt::Display| format!("subscribe[{i}].{k}: {e}");
        let filter = topic::Filter::parse(&c.topic).map_err(|e| key("topic", &e))?;
        for (k, pointer) in [("value", &c.value), ("time", &c.time)] {
            if let Some(p) = pointer {
                payload::check_pointer(p).map_err(|e| key(k, &e))?;
            }
        }
        if c.time.is_some() && c.value.is_none() {
            return Err(key(
                "time",
                &"needs `value`: a time can only be read from JSON",
            ));
        }
        let sparkplug = is_sparkplug_filter(&c.topic);
        let stream = match (&c.stream, sparkplug) {
            (Some(s), _) => Some(topic::Template::parse(s, filter.wildcards()).map_err(|e| key("stream", &e))?),
            (None, true) => None,
            (None, false) => {
                return Err(key(
                    "stream",
                    &"is missing: name the stream, e.g. line2/{1}/vibration (only spBv1.0/ filters name their own)",
                ))
            }
        };
        Ok(Subscription {
            topic: c.topic.clone(),
            filter,
            stream,
            value: c.value.clone(),
            time: c.time.clone(),
        })
    }

    /// Whether this filter can match `topic` (for Sparkplug topics: which filter let it in).
    pub fn matches(&self, topic: &str) -> bool {
        self.filter.captures(topic).is_some()
    }
}

/// Whether a filter can match Sparkplug topics: it starts with `spBv1.0/`, or is `#`/`+/...`.
fn is_sparkplug_filter(filter: &str) -> bool {
    filter.starts_with("spBv1.0/")
        || filter == "spBv1.0"
        || filter.starts_with('#')
        || filter.starts_with("+/")
}

/// Reads a plain message through every subscription that has a stream and matches: readings,
/// and a one-line reason per subscription whose payload was unusable.
pub fn read(subs: &[Subscription], topic: &str, raw: &[u8]) -> (Vec<Reading>, Vec<String>) {
    let mut payload = payload::Payload::new(raw);
    let (mut readings, mut errors) = (Vec::new(), Vec::new());
    for sub in subs {
        let (Some(template), Some(caps)) = (&sub.stream, sub.filter.captures(topic)) else {
            continue;
        };
        match payload.read(sub.value.as_deref(), sub.time.as_deref()) {
            Ok((value, t)) => readings.push(Reading {
                stream: template.render(&caps),
                t,
                value,
            }),
            Err(detail) => errors.push(format!("topic {topic}: {detail}")),
        }
    }
    (readings, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(topic: &str, stream: Option<&str>, value: Option<&str>) -> SubscribeConfig {
        SubscribeConfig {
            topic: topic.into(),
            stream: stream.map(Into::into),
            value: value.map(Into::into),
            time: None,
        }
    }

    #[test]
    fn plain_and_json_payloads_map_to_templated_streams() {
        let subs = [
            Subscription::parse(0, &sub("plant/+/temp", Some("line2/{1}/temp"), None)).unwrap(),
            Subscription::parse(1, &sub("json/#", Some("j/{1}"), Some("/v"))).unwrap(),
        ];
        let (r, e) = read(&subs, "plant/press7/temp", b"21.5");
        assert_eq!(e, Vec::<String>::new());
        assert_eq!(
            r,
            vec![Reading {
                stream: "line2/press7/temp".into(),
                t: None,
                value: 21.5
            }]
        );
        let (r, _) = read(&subs, "json/a/b", br#"{"v": 3}"#);
        assert_eq!(r[0].stream, "j/a/b");
        let (r, e) = read(&subs, "json/a", b"not json");
        assert!(r.is_empty());
        assert!(
            e[0].starts_with("topic json/a: payload 'not json' is not JSON"),
            "{e:?}"
        );
    }

    #[test]
    fn a_bad_subscription_is_refused_naming_its_key() {
        let e = Subscription::parse(2, &sub("a/b+/c", Some("x"), None)).unwrap_err();
        assert!(e.starts_with("subscribe[2].topic: "), "{e}");
        let e = Subscription::parse(0, &sub("a/+", Some("x/{2}"), None)).unwrap_err();
        assert!(
            e.starts_with("subscribe[0].stream: ") && e.contains("{2}"),
            "{e}"
        );
        let e = Subscription::parse(1, &sub("a/+", None, None)).unwrap_err();
        assert!(e.contains("stream: is missing"), "{e}");
        assert!(Subscription::parse(0, &sub("spBv1.0/#", None, None)).is_ok());
    }

    #[test]
    fn a_plain_filter_names_its_streams_by_the_topic_and_sparkplug_names_its_own() {
        assert_eq!(
            stream_template("plant/+/temperature"),
            "plant/{1}/temperature"
        );
        assert_eq!(stream_template("plant/+/+/#"), "plant/{1}/{2}/{3}");
        let plain = SubscribeConfig::from_filter("plant/#");
        assert_eq!(plain.stream.as_deref(), Some("plant/{1}"));
        assert_eq!(SubscribeConfig::from_filter("spBv1.0/#").stream, None);
    }
}
