//! What AWS Bedrock needs beyond HTTP: Signature Version 4 request signing and the binary
//! event-stream framing of streamed responses.

pub mod eventstream;
pub mod sigv4;
