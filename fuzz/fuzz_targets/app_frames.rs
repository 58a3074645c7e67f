//! What the dashboard reads from the network: live frames and a probe Worker's `/results`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use llmscope_app::decode;

fuzz_target!(|text: &str| {
    let _ = decode::frame(text);
    let _ = decode::results(text);
});
