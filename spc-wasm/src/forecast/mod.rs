//! See it coming (issue 14): is a stream degrading, where is it heading, and when will it
//! cross a limit.
//!
//! - [`degradation`]: the slope since the last changepoint ([`pelt`]), with its interval,
//!   from the [`linear`] fit.
//!
//! Why not a crate: `augurs-ets` pulls `nalgebra`, `rand`, `rand_distr`, `lstsq`, `roots` and
//! `tracing`, and `augurs-changepoint` (over `changepoint`) `nalgebra`, `ndarray`, `rayon` and
//! `rv`; the engine has no dependencies (it builds for wasm32 into the site's size budget), so
//! each method is written here with its definition cited and tested against R.

pub mod degradation;
pub mod linear;
pub mod pelt;
pub mod student;

pub use degradation::{degradation, Degradation};
