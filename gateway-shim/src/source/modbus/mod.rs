//! The Modbus source: polls one Modbus TCP or Modbus RTU device (one `[[modbus]]` section) and
//! turns its registers into streams. Sample config: `sample.toml` beside this file.
//!
//! Why polling: Modbus is strictly request/response (Modbus Application Protocol V1.1b3 §4.1:
//! the client initiates every transaction), so the only way to follow a value is to read it
//! every `interval_ms`. Each poll sends as few requests as the protocol limits allow
//! ([`plan`]), decodes every value with its declared type and byte order ([`decode`]) and
//! reports what went wrong per stream: an exception response (§7) makes the streams of that
//! request stale with the code and its meaning, a device that does not answer makes all its
//! streams stale, and the first good answer afterwards makes them live again. Connections
//! are handled by [`link`].
//!
//! Addresses are the 0-based protocol addresses that go on the wire (§4.4: "In a MODBUS PDU
//! each data is addressed from 0 to 65535"), not the 1-based "4xxxx" register numbers of many
//! device manuals: holding register 40001 is `kind = "holding"`, `address = 0`.

//!
//! - `config`: the section's keys and checks; `poll`: the polling loop; `error`: why a
//!   register is refused or a device cannot be reached.
//! - [`plan`], [`decode`], [`link`]: requests, values and connections.

mod config;
pub mod decode;
mod error;
pub mod link;
pub mod plan;
mod poll;

use crate::source::{Emitter, Source, SourceFuture};
pub use config::{Config, RegisterConfig};
use config::{MAX_INTERVAL_MS, MAX_RETRIES, MAX_TIMEOUT_MS};
use decode::{ByteOrder, DataType};
use link::Target;
use llmscope_protocol::StreamInfo;
use plan::{Item, Read};
use poll::Poller;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// One configured value, ready to decode.
#[derive(Clone, Debug)]
struct Register {
    stream: String,
    data_type: DataType,
    order: ByteOrder,
    scale: f64,
    offset: f64,
}

/// The source of one `[[modbus]]` section.
pub struct ModbusSource {
    name: String,
    target: Target,
    unit: u8,
    interval: Duration,
    timeout: Duration,
    retries: u32,
    streams: Vec<StreamInfo>,
    registers: Vec<Register>,
    items: Vec<Item>,
    plan: Vec<Read>,
}

impl ModbusSource {
    fn new(config: Config) -> ModbusSource {
        let target = config.target();
        let streams = config
            .register
            .iter()
            .map(|r| StreamInfo {
                id: r.stream.clone(),
                unit: r.unit.clone(),
                lsl: r.lsl,
                usl: r.usl,
            })
            .collect();
        let registers = config
            .register
            .iter()
            .map(|r| Register {
                stream: r.stream.clone(),
                data_type: r.resolved_type(),
                order: r.order.unwrap_or_default(),
                scale: r.scale,
                offset: r.offset,
            })
            .collect();
        // `validate` keeps every register within 0..=65535; clamp anyway rather than panic.
        let items: Vec<Item> = config
            .register
            .iter()
            .map(|r| Item {
                kind: r.kind,
                address: u16::try_from(r.address).unwrap_or(u16::MAX),
                width: r.width(),
            })
            .collect();
        let plan = plan::plan(&items, config.max_gap);
        ModbusSource {
            name: config.name,
            target,
            unit: u8::try_from(config.unit).unwrap_or(1),
            interval: Duration::from_millis(config.interval_ms.clamp(1, MAX_INTERVAL_MS)),
            timeout: Duration::from_millis(config.timeout_ms.clamp(1, MAX_TIMEOUT_MS)),
            retries: config.retries.min(MAX_RETRIES),
            streams,
            registers,
            items,
            plan,
        }
    }

    /// The read requests one poll sends, in order.
    #[cfg(test)]
    fn plan(&self) -> &[Read] {
        &self.plan
    }
}

impl Source for ModbusSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn streams(&self) -> Vec<StreamInfo> {
        self.streams.clone()
    }

    fn run(self: Box<Self>, emit: Emitter, shutdown: CancellationToken) -> SourceFuture {
        Box::pin(async move {
            let poller = Poller::new(*self, emit);
            // Every await of the poller is a cancellation point, so shutdown is immediate.
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => {}
                _ = poller.run() => {}
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceConfig;

    fn parse(text: &str) -> Config {
        toml::from_str(text).unwrap()
    }

    const BASE: &str = "name = \"d\"\naddress = \"127.0.0.1:5020\"\n";

    #[test]
    fn a_full_section_validates_with_defaults() {
        let c = parse(&format!(
            "{BASE}[[register]]\nstream = \"a\"\nkind = \"holding\"\naddress = 0\ntype = \"f32\"\norder = \"CDAB\"\nlsl = 60\nusl = 80\n\
             [[register]]\nstream = \"b\"\nkind = \"coil\"\naddress = 3\n"
        ));
        c.validate().unwrap();
        assert_eq!(
            (c.unit, c.interval_ms, c.timeout_ms, c.retries, c.max_gap),
            (1, 1000, 500, 2, 0)
        );
        assert_eq!(c.register[1].resolved_type(), DataType::Bool);
        assert_eq!(c.register[0].lsl, Some(60.0));
        let source = ModbusSource::new(c);
        assert_eq!(
            source.streams()[0],
            StreamInfo {
                id: "a".into(),
                unit: None,
                lsl: Some(60.0),
                usl: Some(80.0)
            }
        );
        assert_eq!(source.plan().len(), 2);
    }
}
