//! Why did it fire (issue 13): the context of a signal episode. So far:
//! - [`ks`]: the two-sample Kolmogorov–Smirnov test, as R's `ks.test`;
//! - [`co_moving`]: the other streams ranked by how much they changed over the episode, most
//!   of them settled by cheap exact bounds (`bound`);
//! - [`mass`]: the past windows most like the episode (MASS over an [`fft`]);
//! - [`episode`]: signals grouped into episodes, and [`shape`]: each episode's shape, with a
//!   seeded generator of labelled [`faults`] to measure it;
//! - [`cases`]: seeded labelled cases of many streams (coupled faults, recurring motifs), and
//!   [`goals`]: issue 13's goals measured on them;
//! - [`cause`]: suggested causes from a transparent table, confirmed by context;
//! - [`report`]: all of it for every episode of one stream ([`explain`]).

mod bound;
pub mod cases;
pub mod cause;
pub mod co_moving;
pub mod episode;
pub mod faults;
pub mod fft;
pub mod goals;
pub mod ks;
pub mod mass;
pub mod report;
pub mod shape;
mod sort;

pub use faults::{confusion, Confusion};
pub use report::{explain, explain_in_context, EpisodeReport, Similar, Stream};
