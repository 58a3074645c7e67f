//! Files dropped on the dashboard: CSV (both modes) and session or telemetry JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use llmscope_app::sources::import;

fuzz_target!(|text: &str| {
    let _ = import::csv(text, false);
    let _ = import::csv(text, true);
    let _ = import::session_json(text);
});
