//! # The dashboard's second wasm module
//!
//! Code the dashboard needs rarely, loaded on its first use (`cargo xtask site` builds it next
//! to the main module; the page's loader imports it once and keeps it), so a user who only
//! watches charts never downloads it:
//!
//! - `doc`: the report as the dashboard describes it (blocks of text, table rows, rules,
//!   images), postcard bytes between the modules; the only part the dashboard itself links;
//! - `layout`: those blocks on A4 pages, measured with the font's metrics;
//! - `pdf`: the PDF file (`pdf-writer`, font subsets with `subsetter`, metrics from
//!   `ttf-parser`);
//! - `exports` (wasm32 only): what the page calls, `pdf(doc)`, which fetches the fonts.

#![deny(missing_docs)]

pub mod doc;
#[cfg(feature = "module")]
pub mod layout;
#[cfg(feature = "module")]
pub mod pdf;

#[cfg(all(feature = "module", target_arch = "wasm32"))]
mod exports;
