//! The `[[mqtt]]` section: its keys (a fixed contract, sample in `sample.toml`) and every check
//! serde cannot make, each naming the key it rejects.

use super::{broker, payload, topic};
use crate::config::Invalid;
use crate::source::{Source, SourceConfig};
use serde::Deserialize;
use std::collections::HashMap;

/// A `[[mqtt]]` section: one broker.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The section's name.
    pub name: String,
    /// `mqtt://host:port` or `mqtts://host:port`.
    pub broker: String,
    /// MQTT client id; a unique `llmscope-...` id when absent.
    pub client_id: Option<String>,
    /// User name for the broker.
    pub username: Option<String>,
    /// Password for the broker (needs `username`).
    pub password: Option<String>,
    /// Subscription QoS: 0, 1 or 2.
    #[serde(default = "default_qos")]
    pub qos: u8,
    /// MQTT keep-alive in seconds: a silent broker is noticed within about twice this.
    pub keep_alive_s: Option<u64>,
    /// `false`: a persistent session, so the broker keeps QoS 1 and 2 messages published while
    /// the shim is away and delivers them when it reconnects. Default `true`.
    #[serde(default = "default_clean_session")]
    pub clean_session: bool,
    /// The topics to read.
    #[serde(default)]
    pub subscribe: Vec<Subscription>,
}

/// A `[[mqtt.subscribe]]` entry: one topic filter and how to read its messages.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subscription {
    /// Topic filter, with `+` and `#` wildcards.
    pub topic: String,
    /// JSON pointer to the value; absent for a plain-number payload.
    pub value: Option<String>,
    /// JSON pointer to a timestamp (epoch ms or RFC 3339); absent to use the arrival time.
    pub time: Option<String>,
    /// Stream name; `{1}` is what the first wildcard matched, `{2}` the second...
    pub stream: String,
    /// Unit of the values.
    pub unit: Option<String>,
    /// Lower spec limit.
    pub lsl: Option<f64>,
    /// Upper spec limit.
    pub usl: Option<f64>,
}

fn default_qos() -> u8 {
    1
}

fn default_clean_session() -> bool {
    true
}

impl SourceConfig for Config {
    /// Checks the values serde cannot (ranges, combinations); errors name the key.
    fn validate(&self) -> Result<(), Invalid> {
        if self.name.trim().is_empty() {
            return Err(Invalid::new(
                "name",
                "is empty: name the section, e.g. name = \"line2\"",
            ));
        }
        broker::parse(&self.broker).map_err(|e| Invalid::new("broker", e.to_string()))?;
        if let Some(id) = &self.client_id {
            if id.is_empty() || id.len() > 65_535 {
                return Err(Invalid::new(
                    "client_id",
                    "must be 1 to 65535 bytes; omit it for a generated one",
                ));
            }
        }
        if self.password.is_some() && self.username.is_none() {
            return Err(Invalid::new(
                "password",
                "needs a username (MQTT sends no password without one)",
            ));
        }
        if self.qos > 2 {
            return Err(Invalid::new(
                "qos",
                format!("is {}: must be 0, 1 or 2", self.qos),
            ));
        }
        if !self.clean_session {
            if self.client_id.is_none() {
                return Err(Invalid::new(
                    "clean_session",
                    "false needs a client_id: the broker keeps the session under it, so it must stay the same across restarts (e.g. client_id = \"llmscope-line2\")",
                ));
            }
            if self.qos == 0 {
                return Err(Invalid::new(
                    "clean_session",
                    "false keeps only QoS 1 and 2 messages: set qos = 1",
                ));
            }
        }
        if let Some(k) = self.keep_alive_s {
            if !(1..=65_535).contains(&k) {
                return Err(Invalid::new(
                    "keep_alive_s",
                    format!("is {k}: must be 1 to 65535 seconds"),
                ));
            }
        }
        if self.subscribe.is_empty() {
            return Err(Invalid::new(
                "subscribe",
                "is missing: add a [[mqtt.subscribe]] with topic and stream (see gateway-shim/src/source/mqtt/sample.toml)",
            ));
        }
        let mut fixed = HashMap::new();
        for (i, s) in self.subscribe.iter().enumerate() {
            let key = |k: &str| format!("subscribe[{i}].{k}");
            let filter = topic::Filter::parse(&s.topic)
                .map_err(|e| Invalid::new(key("topic"), e.to_string()))?;
            for (k, pointer) in [("value", &s.value), ("time", &s.time)] {
                if let Some(p) = pointer {
                    payload::check_pointer(p).map_err(|e| Invalid::new(key(k), e.to_string()))?;
                }
            }
            if s.time.is_some() && s.value.is_none() {
                return Err(Invalid::new(
                    key("time"),
                    "needs `value`: a timestamp can only be read from a JSON payload",
                ));
            }
            let template = topic::Template::parse(&s.stream, filter.wildcards())
                .map_err(|e| Invalid::new(key("stream"), e.to_string()))?;
            if let Some(name) = template.fixed() {
                if let Some(j) = fixed.insert(name.clone(), i) {
                    return Err(Invalid::new(
                        key("stream"),
                        format!("'{name}' is already the stream of subscribe[{j}]; stream names must differ"),
                    ));
                }
            }
            for (k, limit) in [("lsl", s.lsl), ("usl", s.usl)] {
                if limit.is_some_and(|x| !x.is_finite()) {
                    return Err(Invalid::new(key(k), "must be a finite number"));
                }
            }
            if let (Some(lsl), Some(usl)) = (s.lsl, s.usl) {
                if lsl >= usl {
                    return Err(Invalid::new(
                        key("usl"),
                        format!("is {usl}, not above lsl {lsl}"),
                    ));
                }
            }
        }
        Ok(())
    }

    fn build(&self) -> Box<dyn Source> {
        Box::new(super::Mqtt::new(self.clone()))
    }
}

/// A test config of the `line2` source: `extra` keys, then `subs` ([`sub`] sections).
#[cfg(test)]
pub(super) fn config(extra: &str, subs: &str) -> Config {
    let text = format!("name = \"line2\"\nbroker = \"mqtt://127.0.0.1:1883\"\n{extra}\n{subs}");
    toml::from_str(&text).unwrap()
}

/// A test `[[subscribe]]` section.
#[cfg(test)]
pub(super) fn sub(topic: &str, stream: &str) -> String {
    format!("[[subscribe]]\ntopic = \"{topic}\"\nstream = \"{stream}\"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(c: &Config) -> Invalid {
        c.validate().unwrap_err()
    }

    #[test]
    fn validation_names_the_key() {
        assert!(config("", &sub("plant/+/v", "line2/{1}/v"))
            .validate()
            .is_ok());
        assert_eq!(invalid(&config("qos = 3", &sub("a", "a"))).key, "qos");
        assert_eq!(
            invalid(&config("keep_alive_s = 0", &sub("a", "a"))).key,
            "keep_alive_s"
        );
        assert_eq!(
            invalid(&config("password = \"x\"", &sub("a", "a"))).key,
            "password"
        );
        assert_eq!(invalid(&config("", "")).key, "subscribe");
        let two = format!("{}{}", sub("a", "x"), sub("a/#", "y/{1}/{2}"));
        let e = invalid(&config("", &two));
        assert_eq!(e.key, "subscribe[1].stream");
        assert!(e.message.contains("only 1 wildcard"), "{}", e.message);
        assert_eq!(
            invalid(&config("", &format!("{}{}", sub("a", "x"), sub("b", "x")))).key,
            "subscribe[1].stream"
        );
        assert_eq!(
            invalid(&config("", &sub("a/#/b", "x"))).key,
            "subscribe[0].topic"
        );
        let pointer = format!("{}value = \"rms\"\n", sub("a", "x"));
        assert_eq!(invalid(&config("", &pointer)).key, "subscribe[0].value");
        let time_only = format!("{}time = \"/ts\"\n", sub("a", "x"));
        assert_eq!(invalid(&config("", &time_only)).key, "subscribe[0].time");
        let limits = format!("{}lsl = 5.0\nusl = 1.0\n", sub("a", "x"));
        assert_eq!(invalid(&config("", &limits)).key, "subscribe[0].usl");
        let persistent = "clean_session = false\nclient_id = \"llmscope-line2\"";
        assert!(config(persistent, &sub("a", "x")).validate().is_ok());
        let e = invalid(&config("clean_session = false", &sub("a", "x")));
        assert_eq!(e.key, "clean_session");
        assert!(e.message.contains("needs a client_id"), "{}", e.message);
        let at_qos0 = format!("{persistent}\nqos = 0");
        assert_eq!(
            invalid(&config(&at_qos0, &sub("a", "x"))).key,
            "clean_session"
        );
        let mut bad_broker = config("", &sub("a", "x"));
        bad_broker.broker = "http://h".into();
        assert_eq!(invalid(&bad_broker).key, "broker");
    }
}
