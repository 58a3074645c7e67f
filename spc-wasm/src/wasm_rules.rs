//! The rule language's wasm-bindgen API (issue 16; cargo feature `wasm`), for a rule editor:
//! the set as parsed, or where it is wrong, and its false-alarm rate.
//!
//! ```js
//! const c = checkRules("westgard");
//! c.ok;      // true
//! c.words;   // "this set alarms falsely about every 158 points"
//! checkRules("a: 2 of 2 beyond x").error;   // { line: 1, column: 18, message: "rule 'a': ..." }
//! ```
//! Rules with fixed values (`above 2500`, `usl - 10`) need `center` and `sigma` for a rate,
//! and the spec limits they refer to.

use crate::custom::{check, RuleCheck};
use crate::wasm::{error, to_js};
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
export interface RuleCheck {
  ok: boolean;
  /** Nelson's tests enabled, by number. */
  tests?: number[];
  rules?: { name: string; pattern: string; warning: boolean; zone_based: boolean }[];
  /** The in-control ARL, warnings left out; null with `arl_error` when it cannot be computed. */
  arl?: AverageRunLength | null;
  arl_error?: string | null;
  /** e.g. "this set alarms falsely about every 58 points". */
  words?: string;
  /** When the set does not parse: where (1-based, in characters) and what. */
  error?: { line: number; column: number; message: string };
}
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "RuleCheck")]
    pub type JsRuleCheck;
}

#[derive(Serialize)]
struct Answer {
    ok: bool,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    check: Option<RuleCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<Where>,
}

#[derive(Serialize)]
struct Where {
    line: usize,
    column: usize,
    message: String,
}

/// Checks a rule set as `--tests` takes it. A set that does not parse is not thrown but
/// answered with `ok: false` and the error's place, for the editor to mark.
#[wasm_bindgen(js_name = checkRules)]
pub fn check_rules(
    text: &str,
    center: Option<f64>,
    sigma: Option<f64>,
    lsl: Option<f64>,
    usl: Option<f64>,
) -> Result<JsRuleCheck, JsError> {
    let scale = match (center, sigma) {
        (Some(c), Some(s)) if c.is_finite() && s.is_finite() && s > 0.0 => Some((c, s)),
        (None, None) => None,
        _ => return Err(error("center and sigma: give both, sigma positive")),
    };
    let answer = match check(text, scale, lsl, usl) {
        Ok(c) => Answer {
            ok: true,
            check: Some(c),
            error: None,
        },
        Err(e) => Answer {
            ok: false,
            check: None,
            error: Some(Where {
                line: e.line,
                column: e.column,
                message: e.message,
            }),
        },
    };
    Ok(to_js(&answer)?.unchecked_into())
}
