//! The shim's TOML configuration.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = llmscope_shim::config::parse(text, "fuzz.toml");
});
