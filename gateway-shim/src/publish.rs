//! Republishing every sample to an MQTT broker (`[publish]`), so a fleet of shims can feed one
//! broker that many browsers share through its WebSocket listener (being written).

use serde::Deserialize;

/// `[publish]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Broker URL, e.g. `mqtt://127.0.0.1:1883`.
    pub broker: String,
    /// Topics are `{topic_prefix}/{stream id}`.
    pub topic_prefix: String,
}

impl Config {
    /// Checks the values serde cannot.
    pub fn validate(&self) -> Result<(), crate::config::Invalid> {
        Ok(())
    }
}
