//! Files dropped on the dashboard: CSV (both modes) and session or telemetry JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use llmscope_app::export::telemetry;
use llmscope_app::sources::import;

fuzz_target!(|text: &str| {
    let _ = import::csv(text, false);
    let _ = import::csv(text, true);
    // The page's JSON import, the second module's part called directly.
    let _ = telemetry::import_direct(text);
});
