//! The engine's one error type. `Err` is for input the engine cannot use; a special cause is a
//! finding ([`crate::Signal`]), never an error.

use std::fmt;

/// Why the engine could not produce a result. Each variant names what was wrong and where, so a
/// caller can show it to a user as it is.
#[allow(missing_docs)] // the fields are named for what they hold
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SpcError {
    /// A value that is NaN or infinite, at a 0-based observation index.
    NotFinite { index: usize, value: f64 },
    /// Not enough data for what was asked.
    TooFewPoints {
        needed: usize,
        got: usize,
        what: &'static str,
    },
    /// A subgroup with fewer than two values where a within-subgroup spread is needed.
    SubgroupTooSmall { index: usize, size: usize },
    /// A baseline (Phase I) that asks for more points than there are.
    BaselineTooLong { baseline: usize, available: usize },
    /// A count that is negative, or larger than its sample size, or a size that is not positive.
    BadCount { index: usize, message: String },
    /// An observation of the wrong kind for the chart (a count for an X-bar chart, say).
    WrongObservation { index: usize, message: String },
    /// A parameter outside its domain (lambda, L, k, h, K of a test, spec limits...).
    InvalidParameter { name: &'static str, message: String },
    /// The data have no spread, so no sigma can be estimated.
    ZeroSigma { what: &'static str },
}

impl fmt::Display for SpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpcError::NotFinite { index, value } => {
                write!(f, "observation {index}: {value} is not a finite number")
            }
            SpcError::TooFewPoints { needed, got, what } => {
                write!(f, "{what} needs at least {needed} points, got {got}")
            }
            SpcError::SubgroupTooSmall { index, size } => write!(
                f,
                "subgroup {index} has {size} value(s); X-bar charts need subgroups of at least 2 \
                 (use the individuals chart for single values)"
            ),
            SpcError::BaselineTooLong {
                baseline,
                available,
            } => write!(
                f,
                "the baseline (Phase I) asks for {baseline} points but there are only {available}"
            ),
            SpcError::BadCount { index, message } => write!(f, "sample {index}: {message}"),
            SpcError::WrongObservation { index, message } => {
                write!(f, "observation {index}: {message}")
            }
            SpcError::InvalidParameter { name, message } => write!(f, "{name}: {message}"),
            SpcError::ZeroSigma { what } => write!(
                f,
                "{what}: the baseline has no variation, so sigma is 0 and no limits can be set \
                 (give --mu and --sigma, or a longer baseline)"
            ),
        }
    }
}

impl std::error::Error for SpcError {}

pub(crate) fn invalid(name: &'static str, message: impl Into<String>) -> SpcError {
    SpcError::InvalidParameter {
        name,
        message: message.into(),
    }
}
