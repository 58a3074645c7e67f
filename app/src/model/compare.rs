//! The Compare view's setup (issue 16: a team dashboard carries its comparison setups): what
//! the user chose and typed there, kept on the session so it is saved with it, exported, carried
//! by share links and saved dashboards, and shown again as it was. Not the results: they are
//! made again by "Compare" from the data of that moment.
//!
//! Written and read field by field through `serde_json::Value` (as the probe results are),
//! not with serde's derive: its generic code for this one type would weigh on the site's wasm.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// What the Compare view holds (README, "The Compare view's setup").
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CompareSetup {
    /// Machines (streams of one signal) rather than probe targets.
    pub machines: bool,
    /// The targets' metric: `ttft_ms`, `total_ms` or `tokens_per_s` (empty: the first).
    pub metric: String,
    /// The machines' signal (none: the first).
    pub signal: Option<String>,
    /// The targets (names) or machine streams (ids) left unticked: everything else offered is
    /// compared, a target or stream that appears later too.
    pub unticked: Vec<String>,
    /// The constraints, weights and volume as typed, by their settings' names
    /// (`max_ttft_p95_ms`, `max_error_rate`, `min_pass_rate`, `max_cost_usd`, `weights`,
    /// `volume`); a field not here keeps its starting value.
    pub fields: Vec<(String, String)>,
    /// "All pairs" ticked.
    pub all_pairs: bool,
}

impl CompareSetup {
    /// As JSON: `{"machines", "metric", "signal", "unticked", "fields": {name: text},
    /// "all_pairs"}`.
    pub fn to_json(&self) -> Value {
        let text = |t: &str| Value::String(t.to_string());
        let mut fields = Map::new();
        for (k, v) in &self.fields {
            fields.insert(k.clone(), text(v));
        }
        let mut out = Map::new();
        out.insert("machines".into(), Value::Bool(self.machines));
        out.insert("metric".into(), text(&self.metric));
        let signal = self.signal.as_deref().map_or(Value::Null, text);
        out.insert("signal".into(), signal);
        let unticked = self.unticked.iter().map(|u| text(u)).collect();
        out.insert("unticked".into(), Value::Array(unticked));
        out.insert("fields".into(), Value::Object(fields));
        out.insert("all_pairs".into(), Value::Bool(self.all_pairs));
        Value::Object(out)
    }

    /// From [`CompareSetup::to_json`]'s JSON; a field missing or of another type takes its
    /// starting value (a setup is a convenience, never a reason to refuse a session).
    pub fn from_json(v: &Value) -> CompareSetup {
        let text = |v: &Value| v.as_str().map(str::to_string);
        CompareSetup {
            machines: v["machines"].as_bool().unwrap_or_default(),
            metric: text(&v["metric"]).unwrap_or_default(),
            signal: text(&v["signal"]),
            unticked: v["unticked"]
                .as_array()
                .map_or(Vec::new(), |a| a.iter().filter_map(text).collect()),
            fields: v["fields"].as_object().map_or(Vec::new(), |m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), text(v)?)))
                    .collect()
            }),
            all_pairs: v["all_pairs"].as_bool().unwrap_or_default(),
        }
    }

    /// The field `name` as typed, if the setup has it.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `Session::compare`'s serde form, through [`CompareSetup::to_json`].
pub mod json_form {
    use super::*;

    /// Writes the setup as its JSON.
    pub fn serialize<S: Serializer>(setup: &Option<CompareSetup>, s: S) -> Result<S::Ok, S::Error> {
        setup.as_ref().map(CompareSetup::to_json).serialize(s)
    }

    /// Reads it back.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<CompareSetup>, D::Error> {
        let v = Value::deserialize(d)?;
        Ok((!v.is_null()).then(|| CompareSetup::from_json(&v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_setup_reads_back_and_bad_fields_take_their_starting_value() {
        let setup = CompareSetup {
            machines: true,
            metric: "total_ms".into(),
            signal: Some("temp".into()),
            unticked: vec!["press2/temp".into()],
            fields: vec![("max_error_rate".into(), "0.05".into())],
            all_pairs: true,
        };
        assert_eq!(CompareSetup::from_json(&setup.to_json()), setup);
        assert_eq!(setup.field("max_error_rate"), Some("0.05"));
        let odd = CompareSetup::from_json(&json!({"machines": "yes", "unticked": [1, "a"]}));
        assert_eq!(
            odd,
            CompareSetup {
                unticked: vec!["a".into()],
                ..CompareSetup::default()
            }
        );
    }
}
