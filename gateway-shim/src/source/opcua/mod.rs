//! The OPC-UA source (`[[opcua]]`): subscribes to variables of an OPC-UA server and turns every
//! numeric data change into a reading.
//!
//! Why a subscription rather than polling: the server samples the variables and pushes only
//! changes, at the publishing interval, with the value's own source timestamp; that is what the
//! OPC-UA specification recommends for monitoring and what keeps load on a PLC low.
//!
//! `config` holds the section and its checks; this file the source; `subscription`
//! connects, subscribes and reconnects; `value` turns an OPC-UA `DataValue` into a number or says why it is not one;
//! `error` says why an endpoint or node id is refused or a session cannot be set up.
//! The sample config, with every key explained, is `sample.toml` beside this file.

mod config;
mod error;
mod subscription;
mod value;

use crate::source::{Emitter, Source, SourceFuture};
pub use config::{
    Config, NodeConfig, SecurityMode, SecurityPolicy, DEFAULT_PUBLISHING_INTERVAL_MS,
};
use llmscope_protocol::StreamInfo;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Longest time `run` takes to return after shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(1500);

/// The source built from a validated [`Config`].
struct OpcuaSource {
    config: Config,
    streams: Vec<StreamInfo>,
}

impl OpcuaSource {
    fn new(config: Config) -> OpcuaSource {
        OpcuaSource {
            streams: config.stream_infos(),
            config,
        }
    }
}

impl Source for OpcuaSource {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn streams(&self) -> Vec<StreamInfo> {
        self.streams.clone()
    }

    fn run(self: Box<Self>, emit: Emitter, shutdown: CancellationToken) -> SourceFuture {
        Box::pin(async move {
            let running =
                subscription::run(subscription::Plan::new(self.config), emit, shutdown.clone());
            tokio::pin!(running);
            tokio::select! {
                _ = &mut running => return,
                _ = shutdown.cancelled() => {}
            }
            // It closes the session on its own; cut it short if it hangs, e.g. on a full
            // event channel.
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, running).await;
        })
    }
}
