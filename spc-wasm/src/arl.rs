//! Average run length (stub: being written).
use crate::error::SpcError;
use crate::rules::RuleSet;

/// An average run length and how it was obtained.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Arl {
    /// Expected number of points to the first signal (infinite when no test can fire).
    pub value: f64,
    /// How it was computed.
    pub method: ArlMethod,
    /// Standard error of a simulated value.
    pub std_error: Option<f64>,
}

/// How an ARL was computed.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum ArlMethod {
    /// Markov chain (exact up to discretization).
    MarkovChain,
    /// Seeded Monte-Carlo simulation.
    Simulation { runs: u64, seed: u64 },
}

pub fn shewhart(_rules: &RuleSet, _shift: f64) -> Result<Arl, SpcError> {
    Ok(Arl {
        value: f64::NAN,
        method: ArlMethod::MarkovChain,
        std_error: None,
    })
}
pub fn ewma(_lambda: f64, _width: f64, _shift: f64) -> Result<Arl, SpcError> {
    Ok(Arl {
        value: f64::NAN,
        method: ArlMethod::MarkovChain,
        std_error: None,
    })
}
pub fn cusum(_k: f64, _h: f64, _head_start: f64, _shift: f64) -> Result<Arl, SpcError> {
    Ok(Arl {
        value: f64::NAN,
        method: ArlMethod::MarkovChain,
        std_error: None,
    })
}
