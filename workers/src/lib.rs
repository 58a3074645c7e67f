//! LLMscope's probe Worker (workers/README.md): streams a prompt to each configured LLM target,
//! measures time to first token, total latency, output speed and cost, stores every result in
//! D1, and alerts on SPC signals from the engine.
//!
//! Everything that can be pure is, and is tested natively: configuration ([`target`]), the
//! quality checks of answers ([`check`]), a probe's context kept in `extra` ([`context`]), the provider adapters ([`provider`]), AWS signing
//! and framing ([`aws`]), result assembly and pricing with `llmscope_protocol::prices`
//! ([`measure`]), alerting ([`alert`]), predictive alerts ([`forecast`]) and why an alert fired ([`why`]), access control ([`access`]), the team's roles and permission matrix ([`team`]) and its dashboards' rules ([`dashboard`]), `GET /compare`'s query
//! ([`compare`]) and the daily digest ([`digest`]). The `runtime` module, compiled for wasm32
//! only, is the thin layer over the Workers runtime: fetch, clock, D1, secrets and variables,
//! and the cron trigger.

#![deny(missing_docs)]

pub mod access;
pub mod alert;
pub mod aws;
pub mod brand;
pub mod check;
pub mod compare;
pub mod context;
pub mod dashboard;
pub mod digest;
pub mod error;
pub mod forecast;
pub mod measure;
pub mod notify;
pub mod provider;
pub mod target;
pub mod team;
pub mod why;

#[cfg(target_arch = "wasm32")]
mod runtime;
