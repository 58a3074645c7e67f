//! `llmscope-shim` as a library: the binary's parts, public so that integration tests can drive a
//! source or the hub directly. The command line lives in `main.rs`.
//!
//! - `analyze`: SPC on a CSV export; `explain`: why its signals fired; `forecast`: when it
//!   will cross its limit; `compare`: which target to use, from probe results.
//! - `config`: the `run --config` file.
//! - `source`: Modbus, MQTT and OPC-UA behind one `Source` trait.
//! - `publish`: republishing samples to MQTT.
//! - `hub`, `server`, `run`: numbering, buffering and serving samples over WebSockets;
//!   `auth`: the token comparison, the lockout of token guessers and the Host check.
//! - `site`: the dashboard's files, precompressed, with cache headers.
//! - `simulate`: the demo plant; `watch`: a terminal client that charts live streams.

#![deny(missing_docs)]

pub mod analyze;
pub mod auth;
pub mod compare;
pub mod config;
pub mod explain;
pub mod forecast;
pub mod hub;
pub mod publish;
pub mod run;
pub mod server;
pub mod simulate;
pub mod site;
pub mod source;
pub mod watch;
