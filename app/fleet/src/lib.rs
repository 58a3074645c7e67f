//! The dashboard's "MQTT broker" source, run in a dedicated Web Worker (`worker.js` beside this
//! crate) so the page's main thread only draws: an MQTT 3.1.1/5 client over the browser's
//! WebSocket (subprotocol `mqtt`), Sparkplug B 3.0 births, aliases, deaths and `seq`, the
//! shim's `[[mqtt.subscribe]]` mapping for every other topic, and the engine's streaming
//! control chart per stream, posted to the page as one batched update every 200 ms.
//!
//! Everything but the WebSocket and the worker's messages is plain Rust with native tests:
//! [`session`] (MQTT packets in and out), [`mapping`] (topics and payloads to streams),
//! [`sparkplug`] (the host application's view of edge nodes), [`engine`] (a chart per stream,
//! what changed), [`silence`] (sources that stop without a death), [`fleet`] (one connection, tying them together). `wasm` (wasm32 only) is
//! the thin binding `worker.js` drives. The message protocol with the page is in
//! docs/fleet.md.
#![deny(missing_docs)]

pub mod engine;
pub mod fleet;
pub mod mapping;
pub mod session;
pub mod silence;
pub mod sparkplug;
pub mod view;
#[cfg(target_arch = "wasm32")]
mod wasm;

pub use fleet::{Config, Fleet, Update};
