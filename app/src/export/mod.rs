//! Exports for other people.
//!
//! - `pdf`: the PDF writer of the report.

pub mod pdf;
