//! What the tests against R share: reading a committed fixture (`tests/fixtures/NAME/NAME.json`,
//! written by that folder's `make_fixtures.R`) and its numbers.

use serde_json::Value;

/// The fixture `tests/fixtures/{name}/{name}.json`.
pub fn fixtures(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/{name}/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// An array of numbers.
pub fn numbers(v: &Value) -> Vec<f64> {
    let items = v.as_array().expect("an array");
    items
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}
