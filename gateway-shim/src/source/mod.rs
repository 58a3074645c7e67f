//! Data sources: every protocol sits behind the one small [`Source`] trait, in its own folder
//! with its config section, a `sample.toml` and a `README.md` (Telegraf's layout). Its config
//! implements [`SourceConfig`]; adding a source touches its folder, its `pub mod` line here and
//! one line in `config.rs`'s `sources!` list, which both validation and `run::build_sources`
//! iterate.
//!
//! A source is validated when the config loads (Telegraf's `Init`) and then runs until shutdown.
//! Errors never end it: a source reports a lost device as a `stale` status with the reason,
//! retries with backoff, and reports `live` again when data flows.

pub mod modbus;
pub mod mqtt;
pub mod opcua;

use crate::config::Invalid;
use llmscope_protocol::{StreamInfo, StreamState};
use std::future::Future;
use std::pin::Pin;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// What a source reports to the hub.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A new value of a stream, at Unix epoch milliseconds `t`.
    Reading {
        /// The stream's name.
        stream: String,
        /// When, in Unix epoch milliseconds.
        t: i64,
        /// The value.
        value: f64,
    },
    /// A stream went stale (with the reason) or live again.
    Status {
        /// The stream's name.
        stream: String,
        /// Stale or live.
        state: StreamState,
        /// Why it went stale (none when live).
        reason: Option<String>,
    },
    /// A payload that could not be read: counted and reported, never fatal, and the good data
    /// around it keeps flowing.
    Malformed {
        /// The config section's name.
        source: String,
        /// What could not be read, and where.
        detail: String,
    },
    /// A stream found at run time (an MQTT wildcard matching a new topic).
    Discovered(StreamInfo),
}

/// The sending half a source writes its events to. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Emitter {
    tx: mpsc::Sender<Event>,
}

impl Emitter {
    /// A new channel: the emitter for sources, the receiver for the hub.
    pub fn channel(capacity: usize) -> (Emitter, mpsc::Receiver<Event>) {
        let (tx, rx) = mpsc::channel(capacity);
        (Emitter { tx }, rx)
    }

    /// Sends an event; waits when the hub is behind (backpressure). Events sent after the hub
    /// has stopped are dropped, since nobody is listening any more.
    pub async fn send(&self, event: Event) {
        let _ = self.tx.send(event).await;
    }

    /// A new value of `stream`, at `t` (Unix epoch ms).
    pub async fn reading(&self, stream: &str, t: i64, value: f64) {
        self.send(Event::Reading {
            stream: stream.to_string(),
            t,
            value,
        })
        .await;
    }

    /// `stream` went stale for `reason`.
    pub async fn stale(&self, stream: &str, reason: impl Into<String>) {
        self.send(Event::Status {
            stream: stream.to_string(),
            state: StreamState::Stale,
            reason: Some(reason.into()),
        })
        .await;
    }

    /// `stream` is live again.
    pub async fn live(&self, stream: &str) {
        self.send(Event::Status {
            stream: stream.to_string(),
            state: StreamState::Live,
            reason: None,
        })
        .await;
    }

    /// A payload from `source` could not be read.
    pub async fn malformed(&self, source: &str, detail: impl Into<String>) {
        self.send(Event::Malformed {
            source: source.to_string(),
            detail: detail.into(),
        })
        .await;
    }

    /// A stream found at run time.
    pub async fn discovered(&self, info: StreamInfo) {
        self.send(Event::Discovered(info)).await;
    }
}

/// The current time as Unix epoch milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A future a source runs as.
pub type SourceFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A data source (Telegraf's input plugin).
pub trait Source: Send + 'static {
    /// The `name` of its config section.
    fn name(&self) -> &str;
    /// The streams it knows before any data arrives (announced in `hello`).
    fn streams(&self) -> Vec<StreamInfo>;
    /// Runs until `shutdown` is cancelled, then returns promptly (within about a second).
    fn run(self: Box<Self>, emit: Emitter, shutdown: CancellationToken) -> SourceFuture;
}

/// A source's config section: checked when the config loads, then built into its running
/// [`Source`]. Both `config::parse` and `run::build_sources` go through this trait only.
pub trait SourceConfig: Send + Sync {
    /// Checks the values serde cannot (ranges, combinations); errors name the key.
    fn validate(&self) -> Result<(), Invalid>;
    /// The running source.
    fn build(&self) -> Box<dyn Source>;
}
