//! Why `compare` stopped: every message starts with the file (and the item, where there is one)
//! or the flag, and says what to do.

use llmscope_spc::SpcError;

/// A `compare` failure.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// A flag's value is unusable (named as its flag).
    #[error("{0}")]
    Flags(String),
    /// `LLMSCOPE_PRICES` is unusable (the message names the row and field).
    #[error("{0}; fix it, or unset it to use the shipped prices")]
    Prices(#[from] llmscope_protocol::prices::PricesError),
    /// The file could not be read.
    #[error("{path}: cannot read: {cause}")]
    Open {
        /// The file as named on the command line.
        path: String,
        /// What the system said.
        cause: std::io::Error,
    },
    /// The input is not results, or an item is bad; the message names the file and item first.
    #[error("{0}")]
    Data(String),
    /// The engine refused the streams or the settings.
    #[error("{path}: {cause}")]
    Engine {
        /// The file.
        path: String,
        /// The engine's reason.
        cause: SpcError,
    },
    /// The report could not be written (a closed pipe, a full disk).
    #[error("writing the report: {0}")]
    Write(std::io::Error),
}
