//! The LLMscope stream protocol (docs/protocol.md): JSON text frames over a WebSocket, from a
//! source of samples (the shim) to a client (the dashboard). Both sides depend on this crate and
//! on nothing of each other.
//!
//! Frames, server to client: [`ServerFrame`] (`hello`, `sample`, `batch`, `status`, `gap`).
//! Client to server: [`ClientFrame`] (`auth`). The fields are a fixed contract.
//!
//! Also here because both the shim and the probe Worker need them and neither may depend on the
//! other: [`probe::ProbeResult`], the Worker's result contract, [`compare`], the comparison
//! report built from those results, [`prices`], the one dated price table both price tokens
//! with, and [`token::same_token`], the one constant-time token comparison. [`sparkplug`]: the
//! Sparkplug B payloads and topics the shim publishes and the dashboard reads. [`mqtt`]: how a
//! subscription's topic and payload become a stream's sample, the same for the shim's
//! `[[mqtt.subscribe]]` and the dashboard's broker source. [`causes`]: the assignable causes an LLM signal is offered, the dashboard's and the Worker's.
//! [`team::Role`]: a member's role, which
//! the probe Worker checks and the dashboard's workspace view shows.
#![deny(missing_docs)]

use serde::{Deserialize, Serialize};

pub mod causes;
pub mod compare;
pub mod mqtt;
pub mod prices;
pub mod probe;
pub mod sparkplug;
pub mod team;
pub mod token;

/// What the server calls itself in `hello`.
pub const SERVER: &str = concat!("llmscope-shim/", env!("CARGO_PKG_VERSION"));

/// A stream a server offers, announced in `hello`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StreamInfo {
    /// The stream's name, e.g. `press1/temperature`.
    pub id: String,
    /// Unit of its values, e.g. `°C`; null when unknown.
    #[serde(default)]
    pub unit: Option<String>,
    /// Lower spec limit, if any.
    #[serde(default)]
    pub lsl: Option<f64>,
    /// Upper spec limit, if any.
    #[serde(default)]
    pub usl: Option<f64>,
}

/// One value of one stream.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// The stream's id.
    pub stream: String,
    /// Rises strictly across the whole connection's source, not per stream.
    pub seq: u64,
    /// Unix epoch milliseconds.
    pub t: i64,
    /// The value.
    pub value: f64,
}

/// A stream's state in a `status` frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamState {
    /// Data is flowing.
    Live,
    /// The source stopped answering; `reason` says why.
    Stale,
}

/// Server-to-client frames.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// First frame of every connection.
    Hello {
        /// Server name and version, e.g. `llmscope-shim/0.1.0`.
        server: String,
        /// Every stream known so far (more may follow in later `hello` frames).
        streams: Vec<StreamInfo>,
    },
    /// One sample.
    Sample(Sample),
    /// Several samples, in seq order.
    Batch {
        /// The samples.
        samples: Vec<Sample>,
    },
    /// A stream's state changed.
    Status {
        /// The stream's id.
        stream: String,
        /// Live or stale.
        state: StreamState,
        /// Why, e.g. `modbus timeout`; null when live.
        #[serde(default)]
        reason: Option<String>,
    },
    /// Samples the client asked for (`?since=`) that the server no longer holds.
    Gap {
        /// How many samples were lost.
        missed: u64,
    },
}

/// Client-to-server frames.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// The token, when the server requires one and it was not given in the URL or a header.
    Auth {
        /// The shared token.
        token: String,
    },
}

impl ServerFrame {
    /// The frame as JSON text.
    pub fn to_json(&self) -> String {
        // Serializing these plain types cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses a frame, with an error that says what is wrong.
    pub fn parse(text: &str) -> Result<ServerFrame, String> {
        serde_json::from_str(text).map_err(|e| format!("invalid frame: {e}"))
    }
}

impl ClientFrame {
    /// Parses a frame, with an error that says what is wrong.
    pub fn parse(text: &str) -> Result<ClientFrame, String> {
        serde_json::from_str(text).map_err(|e| format!("invalid frame: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The examples of docs/protocol.md parse into the types and print back the same JSON.
    #[test]
    fn documented_frames_round_trip() {
        let frames = [
            r#"{"type":"hello","server":"llmscope-shim/0.1","streams":[{"id":"press1/temperature","unit":"°C","lsl":null,"usl":80.0}]}"#,
            r#"{"type":"sample","stream":"press1/temperature","seq":1234,"t":1764201600123,"value":71.3}"#,
            r#"{"type":"batch","samples":[{"stream":"a","seq":1,"t":5,"value":1.5},{"stream":"b","seq":2,"t":6,"value":-2.0}]}"#,
            r#"{"type":"status","stream":"press1/temperature","state":"stale","reason":"modbus timeout"}"#,
            r#"{"type":"gap","missed":120}"#,
        ];
        for text in frames {
            let frame = ServerFrame::parse(text).unwrap();
            let again: serde_json::Value = serde_json::from_str(&frame.to_json()).unwrap();
            assert_eq!(
                again,
                serde_json::from_str::<serde_json::Value>(text).unwrap(),
                "{text}"
            );
        }
        assert_eq!(
            ClientFrame::parse(r#"{"type":"auth","token":"change-me"}"#).unwrap(),
            ClientFrame::Auth {
                token: "change-me".into()
            }
        );
        assert!(ServerFrame::parse(r#"{"type":"sample","stream":"a"}"#)
            .unwrap_err()
            .contains("missing field"));
    }
}
