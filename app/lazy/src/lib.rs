//! # The dashboard's second wasm module
//!
//! Code the dashboard needs rarely, loaded on its first use (`cargo xtask site` builds it next
//! to the main module; the page's loader imports it once and keeps it, and the Compare view's
//! Web Worker imports it too), so a user who only watches charts never downloads it:
//!
//! - `brand`: a white-label site's `brand.json` read and checked, and what the dashboard shows
//!   of it (the header's mark and the footer as HTML, the colour tokens, the notice), for the
//!   export `brand(request)`;
//! - `doc`: the report as the dashboard describes it (blocks of text, table rows, rules,
//!   images), postcard bytes between the modules;
//! - `layout`: those blocks on A4 pages, measured with the font's metrics;
//! - `pdf`: the PDF file (`pdf-writer`, font subsets with `subsetter`, metrics from
//!   `ttf-parser`);
//! - `compare`: the comparisons the Worker runs: of targets (grouped results → the
//!   per-target table, then the report: pairs, recommendation, cost, boxes) and of machines
//!   (table, boxes, the odd one out); `compare_csv`: the Compare view's "Download CSV" of
//!   either, from the reply's bytes; `wire`: their requests and replies as bytes (written by
//!   `codec`); `boxes`: a box plot's numbers;
//! - `derived`: derived streams' formulas parsed and compiled to the dashboard's stack code;
//! - `why`: the why panel's episode explained by the engine (`llmscope_spc::explain`) and
//!   written as HTML; `text`: numbers and escaped HTML, shared with the dashboard;
//! - `forecast`: a stream's time to limit and forecast band (`llmscope_spc::forecast`) for
//!   the stream view, the cards and the maintenance list, with its request and reply as bytes;
//! - `rules`: named rules (issue 16) between the rule editor and the charts: what applying a
//!   set writes into a stream's settings, and the saved form the main module rebuilds the
//!   engine's rules from without a parser; `rules_ui` (wasm32 only): the rule editor itself;
//! - `pack`: a share link's zlib and a stored share's AES-256-GCM (the link format is the
//!   dashboard's `export::share`);
//! - `quality`: outside quality scores read from a file (CSV or JSON) for the Compare view;
//!   `csv`: the RFC 4180 records it and the dashboard's CSV import read;
//! - `team`: the workspace view (issue 16): signing in to a probe Worker with a member's
//!   token, the role, the workspace's dashboards, saving the view with its version check and
//!   the conflict's words (`team::page`, wasm32 only, does the requests and the DOM);
//! - `telemetry`: the full-telemetry JSON export and its import ("Export session"), on the
//!   session's JSON;
//! - `exports` (wasm32 only): what the page and the Worker call, `pdf(doc)` (which fetches
//!   the fonts), `compare(request, on_table)`, `compare_machines(request)`, `compare_csv(request)`, `why(request)`, `forecast(request)`, `team(start)`, `quality(request)`,
//!   `telemetry_export(session)`, `telemetry_import(text)`, and `zlib`, `unzlib`, `seal`,
//!   `unseal` (`pack`).
//!
//! The dashboard links the types and codecs of `doc`, `wire` and `boxes` from here (and the
//! comparison's and `pack`'s functions only in its host tests); the rest only this module does.

#![deny(missing_docs)]

pub mod boxes;
pub mod brand;
mod codec;
pub mod compare;
pub mod compare_csv;
pub mod csv;
pub mod derived;
pub mod doc;
pub mod forecast;
#[cfg(feature = "module")]
pub mod layout;
pub mod pack;
#[cfg(feature = "module")]
pub mod pdf;
pub mod quality;
pub mod rules;
#[cfg(all(feature = "module", target_arch = "wasm32"))]
mod rules_ui;
pub mod team;
pub mod telemetry;
pub mod text;
pub mod why;
pub mod wire;

#[cfg(all(feature = "module", target_arch = "wasm32"))]
mod exports;
