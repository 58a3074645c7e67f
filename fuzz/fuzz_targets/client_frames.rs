//! Frames a WebSocket client sends the shim, and the frames a server sends a client.
#![no_main]

use libfuzzer_sys::fuzz_target;
use llmscope_protocol::{ClientFrame, ServerFrame};

fuzz_target!(|text: &str| {
    let _ = ClientFrame::parse(text);
    let _ = ServerFrame::parse(text);
});
