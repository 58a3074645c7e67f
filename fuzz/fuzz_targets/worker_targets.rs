//! `LLMSCOPE_TARGETS`, the Worker's one configuration text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = llmscope_probes::target::parse(text);
});
