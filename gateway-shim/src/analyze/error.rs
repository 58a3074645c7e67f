//! Why `analyze` stopped: every message starts with the file (and line and column, where there
//! is one) or the flag, and says what to do.

use llmscope_spc::SpcError;

/// An `analyze` failure.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    /// The flags do not fit together, or the engine refused a setting (named as its flag).
    #[error("{0}")]
    Flags(String),
    /// The file could not be opened.
    #[error("{path}: cannot open: {cause}")]
    Open {
        /// The file as named on the command line.
        path: String,
        /// What the system said.
        cause: std::io::Error,
    },
    /// The CSV reader failed at `at` (the header row or a line).
    #[error("{path}: {at}: {cause}")]
    Csv {
        /// The file.
        path: String,
        /// Where: `cannot read the header row` or `line N`.
        at: String,
        /// What the CSV reader said.
        cause: csv::Error,
    },
    /// The data is unusable; the message names the file, line and column first.
    #[error("{0}")]
    Data(String),
    /// The engine refused the values of a column.
    #[error("{path}: column '{column}': {cause}")]
    Engine {
        /// The file.
        path: String,
        /// The column charted.
        column: String,
        /// The engine's reason.
        cause: SpcError,
    },
    /// The capability study failed.
    #[error("capability: {0}")]
    Capability(SpcError),
    /// The report could not be written (a closed pipe, a full disk).
    #[error("writing the report: {0}")]
    Write(std::io::Error),
}

/// Returns `Err(AnalyzeError::$kind(format!(...)))`.
macro_rules! fail {
    ($kind:ident, $($arg:tt)*) => {
        return Err($crate::analyze::AnalyzeError::$kind(format!($($arg)*)))
    };
}
pub(crate) use fail;
