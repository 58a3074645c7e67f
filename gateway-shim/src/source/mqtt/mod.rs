//! mqtt source (being written).

use serde::Deserialize;

/// A `[[mqtt]]` section.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The section's name.
    pub name: String,
}

impl Config {
    /// Checks the values serde cannot (ranges, combinations); errors name the key.
    pub fn validate(&self) -> Result<(), crate::config::Invalid> {
        Ok(())
    }

    /// The running source.
    pub fn build(self) -> Box<dyn super::Source> {
        unimplemented!()
    }
}
