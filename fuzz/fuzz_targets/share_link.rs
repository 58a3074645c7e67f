//! A share link's `#s=` fragment and its decoded bytes, as a stranger could send them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use llmscope_app::export::share;

fuzz_target!(|data: &[u8]| {
    let _ = share::from_bytes(data, &share::Native);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = share::from_fragment(text, &share::Native);
    }
});
