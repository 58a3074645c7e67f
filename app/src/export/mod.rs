//! What leaves the page: for other people, a chart as a PNG and the session as a PDF report
//! (`report`, which describes it for the second wasm module, `crate::lazy`, to write); for
//! other tools, the full JSON export (`telemetry`); share links (`share`: the session in a URL fragment, or sealed for the Worker; `link`: making and
//! opening them in the page); the Compare view's page of the PDF report (`compare_pdf`; its CSV
//! is the second module's, `llmscope_app_lazy::compare_csv`); and offering any of it as a file (`download`).

pub mod compare_pdf;
pub mod download;
pub mod link;
pub mod report;
pub mod share;
pub mod telemetry;
