//! The price table every part prices tokens with: USD per million tokens, per provider and
//! model. The probe Worker prices each result's `cost_usd` with it, and the comparison report
//! ([`crate::compare`]) prices what the results did not.
//!
//! Two sources, one [`PriceTable`]:
//! - **The shipped table** ([`PriceTable::shipped`]), dated [`SHIPPED_TAKEN`]. Its prices are
//!   the providers' published list prices (standard tier, pay as you go, prompts of up to
//!   200k tokens, Bedrock on demand in us-east-1) as the maintainers knew them on that date.
//!   They were written down from that knowledge when the table was refreshed on 2026-12-06,
//!   with no access to the price pages, so they were not re-read from them: check the rows
//!   you rely on against the pages, and correct them with `LLMSCOPE_PRICES`.
//! - **`LLMSCOPE_PRICES`** ([`PriceTable::parse`], [`PriceTable::with_override`]): a JSON
//!   document with its own date, `{"taken": "2026-12-01", "prices": [{"provider": "openai",
//!   "model": "gpt-4o-mini", "input": 0.15, "output": 0.6, "cached_input": 0.075,
//!   "cache_write": 0.15}]}`. It **overlays** the shipped table row by row: a row with the
//!   provider and model of a shipped row replaces it, a new one is added, and the shipped rows
//!   it does not name stay, with their own date. Updating one price takes one row. Every row
//!   keeps the date of its source, which each cost shows (`prices_taken`).
//!
//! A model the table does not know has an unknown cost (null), never 0.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// The date of the shipped table's prices: the last price change it knows of (Claude Opus
/// 4.5's launch). Bump it with every update.
pub const SHIPPED_TAKEN: &str = "2025-11-24";

/// USD per million tokens.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// Uncached input tokens.
    pub input: f64,
    /// Output tokens (reasoning included: it is billed as output).
    pub output: f64,
    /// Input tokens read from the prompt cache (default: the input price).
    #[serde(default)]
    pub cached_input: Option<f64>,
    /// Input tokens written to the prompt cache (Anthropic; default: the input price).
    #[serde(default)]
    pub cache_write: Option<f64>,
}

/// Token counts a cost is computed from. `input` counts every prompt token, cached or not.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Usage {
    /// All prompt tokens (uncached, cache reads and cache writes).
    pub input: Option<u64>,
    /// Generated tokens.
    pub output: Option<u64>,
    /// Prompt tokens read from the cache.
    pub cached_input: Option<u64>,
    /// Prompt tokens written to the cache.
    pub cache_write: Option<u64>,
}

impl Price {
    /// The cost of `usage` in USD; None when the usage report lacks input or output counts
    /// (a cost from half the counts would look like a real, low price).
    pub fn cost(&self, usage: &Usage) -> Option<f64> {
        let input = usage.input? as f64;
        let output = usage.output? as f64;
        let cached = usage.cached_input.unwrap_or(0) as f64;
        let written = usage.cache_write.unwrap_or(0) as f64;
        let uncached = (input - cached - written).max(0.0);
        let usd = uncached * self.input
            + cached * self.cached_input.unwrap_or(self.input)
            + written * self.cache_write.unwrap_or(self.input)
            + output * self.output;
        Some(usd / 1e6)
    }

    /// USD per million tokens at 3 input tokens (uncached) to 1 output token, the usual
    /// blended price of price comparisons (Artificial Analysis's).
    pub fn blended_3to1(&self) -> f64 {
        (3.0 * self.input + self.output) / 4.0
    }

    /// The first price that is not a finite non-negative number, as (field, value).
    pub fn problem(&self) -> Option<(&'static str, f64)> {
        [
            ("input", Some(self.input)),
            ("output", Some(self.output)),
            ("cached_input", self.cached_input),
            ("cache_write", self.cache_write),
        ]
        .into_iter()
        .find_map(|(field, v)| {
            v.filter(|v| !(v.is_finite() && *v >= 0.0))
                .map(|v| (field, v))
        })
    }
}

/// One row of a table.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// `openai`, `anthropic`, `gemini`, `bedrock`, `ollama` or `http`.
    pub provider: String,
    /// The model id, or its family's prefix (see [`PriceTable::lookup`]); `*` is every model
    /// of the provider.
    pub model: String,
    /// The price.
    pub price: Price,
    /// When this row's price was taken (YYYY-MM-DD): its source's date.
    pub taken: String,
}

/// A dated price table.
#[derive(Clone, Debug, PartialEq)]
pub struct PriceTable {
    /// The table's date (YYYY-MM-DD): `LLMSCOPE_PRICES`'s when it is given, else
    /// [`SHIPPED_TAKEN`]. Each row has its own ([`Row::taken`]).
    pub taken: String,
    /// The rows.
    pub rows: Vec<Row>,
}

impl Default for PriceTable {
    /// The shipped table.
    fn default() -> Self {
        PriceTable::shipped()
    }
}

/// Why `LLMSCOPE_PRICES` cannot be used: the row (`prices[i]`) and the field, and what to do.
#[derive(Clone, Debug, PartialEq)]
pub struct PricesError {
    /// Where: `taken`, `prices`, or `prices[2].input`.
    pub at: String,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for PricesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LLMSCOPE_PRICES: {}: {}", self.at, self.message)
    }
}

impl std::error::Error for PricesError {}

/// The providers a row may name (the Worker's `provider` values).
pub const PROVIDERS: [&str; 6] = ["openai", "anthropic", "gemini", "bedrock", "ollama", "http"];

impl PriceTable {
    /// The table shipped with this build, dated [`SHIPPED_TAKEN`].
    pub fn shipped() -> PriceTable {
        let rows = SHIPPED
            .iter()
            .map(|&(provider, model, price)| Row {
                provider: provider.into(),
                model: model.into(),
                price,
                taken: SHIPPED_TAKEN.into(),
            })
            .collect();
        PriceTable {
            taken: SHIPPED_TAKEN.into(),
            rows,
        }
    }

    /// The shipped table overlaid with `LLMSCOPE_PRICES` when it is set (None or blank: the
    /// shipped table). An error names the row and field; the caller decides whether to fall
    /// back to [`PriceTable::shipped`] (the Worker does, and reports the error).
    pub fn with_override(llmscope_prices: Option<&str>) -> Result<PriceTable, PricesError> {
        let shipped = PriceTable::shipped();
        match llmscope_prices.filter(|v| !v.trim().is_empty()) {
            None => Ok(shipped),
            Some(text) => Ok(shipped.overlay(PriceTable::parse(text)?)),
        }
    }

    /// `over`'s rows replace this table's rows of the same provider and model, and are added
    /// where there is none; the table takes `over`'s date.
    pub fn overlay(mut self, over: PriceTable) -> PriceTable {
        for row in over.rows {
            match self
                .rows
                .iter_mut()
                .find(|r| r.provider == row.provider && r.model == row.model)
            {
                Some(old) => *old = row,
                None => self.rows.push(row),
            }
        }
        self.taken = over.taken;
        self
    }

    /// A `LLMSCOPE_PRICES` document alone: `{"taken": "YYYY-MM-DD", "prices": [{"provider",
    /// "model", "input", "output", "cached_input"?, "cache_write"?}]}`, USD per million
    /// tokens. Bad JSON, a missing or malformed date, an unknown key, a price that is missing,
    /// negative or not a number, and a row given twice are errors naming the row and field.
    pub fn parse(text: &str) -> Result<PriceTable, PricesError> {
        let err = |at: &str, message: String| PricesError {
            at: at.into(),
            message,
        };
        let doc: Value = serde_json::from_str(text).map_err(|e| {
            err(
                "document",
                format!("not valid JSON ({e}); expected {{\"taken\": \"YYYY-MM-DD\", \"prices\": [...]}}"),
            )
        })?;
        let Value::Object(doc) = doc else {
            return Err(err(
                "document",
                "must be an object {\"taken\": \"YYYY-MM-DD\", \"prices\": [...]}".into(),
            ));
        };
        if let Some(key) = doc
            .keys()
            .find(|k| !["taken", "prices"].contains(&k.as_str()))
        {
            return Err(err(
                key,
                "unknown key; the keys are taken and prices".into(),
            ));
        }
        let taken = match doc.get("taken") {
            Some(Value::String(d)) if is_date(d) => d.clone(),
            Some(other) => {
                return Err(err(
                    "taken",
                    format!(
                        "{other} is not a date; write the day the prices were read, YYYY-MM-DD"
                    ),
                ))
            }
            None => {
                return Err(err(
                    "taken",
                    "is missing: say when the prices were read, e.g. \"taken\": \"2026-12-01\""
                        .into(),
                ))
            }
        };
        let Some(Value::Array(list)) = doc.get("prices") else {
            return Err(err(
                "prices",
                "must be a list of rows {\"provider\", \"model\", \"input\", \"output\"}".into(),
            ));
        };
        let mut rows: Vec<Row> = Vec::with_capacity(list.len());
        for (i, v) in list.iter().enumerate() {
            let row = parse_row(v, &taken).map_err(|(field, message)| PricesError {
                at: match field {
                    Some(f) => format!("prices[{i}].{f}"),
                    None => format!("prices[{i}]"),
                },
                message,
            })?;
            if let Some(j) = rows
                .iter()
                .position(|r| r.provider == row.provider && r.model == row.model)
            {
                return Err(err(
                    &format!("prices[{i}]"),
                    format!(
                        "{} {} is given twice (also prices[{j}])",
                        row.provider, row.model
                    ),
                ));
            }
            rows.push(row);
        }
        Ok(PriceTable { taken, rows })
    }

    /// The row for `model` at `provider`: an exact match, else the longest row that is a
    /// prefix followed by `-`, `:` or `@` (a dated or versioned id: `gpt-4o-mini-2024-07-18`,
    /// `anthropic.claude-3-haiku-20240307-v1:0`), else the provider's `*` row. Bedrock's
    /// cross-region ids (`us.anthropic...`) match without their region prefix.
    pub fn lookup(&self, provider: &str, model: &str) -> Option<&Row> {
        let model = match provider {
            "bedrock" => strip_region_prefix(model),
            _ => model,
        };
        let matches = |row: &str| {
            row == "*"
                || model
                    .strip_prefix(row)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(['-', ':', '@']))
        };
        self.rows
            .iter()
            .filter(|r| r.provider == provider && matches(&r.model))
            .max_by_key(|r| if r.model == "*" { 0 } else { r.model.len() })
    }
}

/// One row of `LLMSCOPE_PRICES`, dated `taken`; an error is (field, message).
fn parse_row(v: &Value, taken: &str) -> Result<Row, (Option<&'static str>, String)> {
    const KEYS: [&str; 6] = [
        "provider",
        "model",
        "input",
        "output",
        "cached_input",
        "cache_write",
    ];
    let Value::Object(obj) = v else {
        return Err((
            None,
            format!("{v} is not a row {{\"provider\", \"model\", \"input\", \"output\"}}"),
        ));
    };
    if let Some(key) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err((
            None,
            format!("unknown key {key:?}; the keys are {}", KEYS.join(", ")),
        ));
    }
    let provider = text(obj, "provider")?;
    if !PROVIDERS.contains(&provider.as_str()) {
        return Err((
            Some("provider"),
            format!(
                "unknown provider {provider:?}; the providers are {}",
                PROVIDERS.join(", ")
            ),
        ));
    }
    let price = Price {
        input: number(obj, "input")?.ok_or((Some("input"), missing_price()))?,
        output: number(obj, "output")?.ok_or((Some("output"), missing_price()))?,
        cached_input: number(obj, "cached_input")?,
        cache_write: number(obj, "cache_write")?,
    };
    Ok(Row {
        provider,
        model: text(obj, "model")?,
        price,
        taken: taken.into(),
    })
}

fn missing_price() -> String {
    "is missing: give the price in USD per million tokens".into()
}

/// A required non-empty string field.
fn text(
    obj: &Map<String, Value>,
    field: &'static str,
) -> Result<String, (Option<&'static str>, String)> {
    match obj.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Some(other) => Err((Some(field), format!("{other} is not a non-empty string"))),
        None => Err((Some(field), "is missing".into())),
    }
}

/// An optional price: a finite non-negative number of USD per million tokens.
fn number(
    obj: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<f64>, (Option<&'static str>, String)> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_f64() {
            Some(x) if x.is_finite() && x >= 0.0 => Ok(Some(x)),
            _ => Err((
                Some(field),
                format!("{v} is not a price: give a non-negative number of USD per million tokens"),
            )),
        },
    }
}

/// YYYY-MM-DD with a month 01-12 and a day 01-31.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r.clone()].iter().all(u8::is_ascii_digit);
    let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or(0);
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && digits(0..4)
        && digits(5..7)
        && digits(8..10)
        && (1..=12).contains(&num(5..7))
        && (1..=31).contains(&num(8..10))
}

fn strip_region_prefix(model: &str) -> &str {
    for region in ["us.", "eu.", "apac.", "global."] {
        if let Some(rest) = model.strip_prefix(region) {
            return rest;
        }
    }
    model
}

const fn p(input: f64, output: f64, cached_input: f64, cache_write: f64) -> Price {
    Price {
        input,
        output,
        cached_input: Some(cached_input),
        cache_write: Some(cache_write),
    }
}

/// (provider, model, price): input, output, cached input, cache write, USD per million
/// tokens. OpenAI and Gemini charge nothing extra to write the cache (its write is the input
/// price); Anthropic's write is the 5-minute cache's. Long-context tiers (Gemini 2.5 Pro and
/// Claude Sonnet 4/4.5 over 200k prompt tokens), batch and priority tiers, and Bedrock's
/// regional premiums are not in it: a probe's prompt is short and on demand.
const SHIPPED: &[(&str, &str, Price)] = &[
    ("openai", "gpt-4o", p(2.50, 10.00, 1.25, 2.50)),
    ("openai", "gpt-4o-mini", p(0.15, 0.60, 0.075, 0.15)),
    ("openai", "gpt-4.1", p(2.00, 8.00, 0.50, 2.00)),
    ("openai", "gpt-4.1-mini", p(0.40, 1.60, 0.10, 0.40)),
    ("openai", "gpt-4.1-nano", p(0.10, 0.40, 0.025, 0.10)),
    ("openai", "gpt-5", p(1.25, 10.00, 0.125, 1.25)),
    ("openai", "gpt-5.1", p(1.25, 10.00, 0.125, 1.25)),
    ("openai", "gpt-5-mini", p(0.25, 2.00, 0.025, 0.25)),
    ("openai", "gpt-5-nano", p(0.05, 0.40, 0.005, 0.05)),
    ("openai", "gpt-5-pro", p(15.00, 120.00, 15.00, 15.00)),
    ("openai", "o1", p(15.00, 60.00, 7.50, 15.00)),
    ("openai", "o1-mini", p(1.10, 4.40, 0.55, 1.10)),
    ("openai", "o1-pro", p(150.00, 600.00, 150.00, 150.00)),
    ("openai", "o3", p(2.00, 8.00, 0.50, 2.00)),
    ("openai", "o3-mini", p(1.10, 4.40, 0.55, 1.10)),
    ("openai", "o3-pro", p(20.00, 80.00, 20.00, 20.00)),
    ("openai", "o4-mini", p(1.10, 4.40, 0.275, 1.10)),
    ("anthropic", "claude-3-haiku", p(0.25, 1.25, 0.03, 0.30)),
    ("anthropic", "claude-3-opus", p(15.00, 75.00, 1.50, 18.75)),
    ("anthropic", "claude-3-5-haiku", p(0.80, 4.00, 0.08, 1.00)),
    ("anthropic", "claude-3-5-sonnet", p(3.00, 15.00, 0.30, 3.75)),
    ("anthropic", "claude-3-7-sonnet", p(3.00, 15.00, 0.30, 3.75)),
    ("anthropic", "claude-sonnet-4", p(3.00, 15.00, 0.30, 3.75)),
    ("anthropic", "claude-sonnet-4-5", p(3.00, 15.00, 0.30, 3.75)),
    ("anthropic", "claude-opus-4", p(15.00, 75.00, 1.50, 18.75)),
    ("anthropic", "claude-opus-4-1", p(15.00, 75.00, 1.50, 18.75)),
    ("anthropic", "claude-opus-4-5", p(5.00, 25.00, 0.50, 6.25)),
    ("anthropic", "claude-haiku-4-5", p(1.00, 5.00, 0.10, 1.25)),
    ("gemini", "gemini-2.0-flash", p(0.10, 0.40, 0.025, 0.10)),
    (
        "gemini",
        "gemini-2.0-flash-lite",
        p(0.075, 0.30, 0.075, 0.075),
    ),
    ("gemini", "gemini-2.5-flash", p(0.30, 2.50, 0.075, 0.30)),
    (
        "gemini",
        "gemini-2.5-flash-lite",
        p(0.10, 0.40, 0.025, 0.10),
    ),
    ("gemini", "gemini-2.5-pro", p(1.25, 10.00, 0.31, 1.25)),
    (
        "bedrock",
        "anthropic.claude-3-haiku",
        p(0.25, 1.25, 0.03, 0.30),
    ),
    (
        "bedrock",
        "anthropic.claude-3-5-haiku",
        p(0.80, 4.00, 0.08, 1.00),
    ),
    (
        "bedrock",
        "anthropic.claude-3-5-sonnet",
        p(3.00, 15.00, 0.30, 3.75),
    ),
    (
        "bedrock",
        "anthropic.claude-3-7-sonnet",
        p(3.00, 15.00, 0.30, 3.75),
    ),
    (
        "bedrock",
        "anthropic.claude-sonnet-4",
        p(3.00, 15.00, 0.30, 3.75),
    ),
    (
        "bedrock",
        "anthropic.claude-sonnet-4-5",
        p(3.00, 15.00, 0.30, 3.75),
    ),
    (
        "bedrock",
        "anthropic.claude-opus-4",
        p(15.00, 75.00, 1.50, 18.75),
    ),
    (
        "bedrock",
        "anthropic.claude-opus-4-1",
        p(15.00, 75.00, 1.50, 18.75),
    ),
    (
        "bedrock",
        "anthropic.claude-opus-4-5",
        p(5.00, 25.00, 0.50, 6.25),
    ),
    (
        "bedrock",
        "anthropic.claude-haiku-4-5",
        p(1.00, 5.00, 0.10, 1.25),
    ),
    (
        "bedrock",
        "amazon.nova-micro",
        p(0.035, 0.14, 0.00875, 0.035),
    ),
    ("bedrock", "amazon.nova-lite", p(0.06, 0.24, 0.015, 0.06)),
    ("bedrock", "amazon.nova-pro", p(0.80, 3.20, 0.20, 0.80)),
    (
        "bedrock",
        "meta.llama3-1-8b-instruct",
        p(0.22, 0.22, 0.22, 0.22),
    ),
    (
        "bedrock",
        "meta.llama3-1-70b-instruct",
        p(0.72, 0.72, 0.72, 0.72),
    ),
    (
        "bedrock",
        "meta.llama3-3-70b-instruct",
        p(0.72, 0.72, 0.72, 0.72),
    ),
    // A local model: no per-token price (its cost is the machine's, not the tokens').
    ("ollama", "*", p(0.0, 0.0, 0.0, 0.0)),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn input(t: &PriceTable, provider: &str, model: &str) -> Option<f64> {
        t.lookup(provider, model).map(|r| r.price.input)
    }

    #[test]
    fn dated_ids_match_their_family_and_unknown_models_have_no_price() {
        let t = PriceTable::shipped();
        assert_eq!(input(&t, "openai", "gpt-4o-mini-2024-07-18"), Some(0.15));
        assert_eq!(input(&t, "openai", "gpt-4o"), Some(2.50));
        assert_eq!(input(&t, "openai", "gpt-4o-audio"), Some(2.50));
        assert_eq!(input(&t, "openai", "gpt-4oo"), None);
        assert_eq!(input(&t, "anthropic", "gpt-4o"), None);
        // The longest prefix: gpt-5-mini is not gpt-5, Opus 4.5 is not Opus 4.
        assert_eq!(input(&t, "openai", "gpt-5-mini-2025-08-07"), Some(0.25));
        assert_eq!(input(&t, "openai", "gpt-5-2025-08-07"), Some(1.25));
        assert_eq!(
            input(&t, "anthropic", "claude-opus-4-5-20251101"),
            Some(5.00)
        );
        assert_eq!(
            input(&t, "anthropic", "claude-opus-4-20250514"),
            Some(15.00)
        );
        let haiku = t.lookup("bedrock", "us.anthropic.claude-3-haiku-20240307-v1:0");
        assert_eq!(haiku.map(|r| r.price.output), Some(1.25));
        // Ollama: every model, at no per-token price; a custom endpoint has none.
        assert_eq!(input(&t, "ollama", "llama3.2"), Some(0.0));
        assert_eq!(input(&t, "http", "house-model"), None);
        assert!(t.rows.iter().all(|r| r.price.problem().is_none()));
        assert!(t
            .rows
            .iter()
            .all(|r| PROVIDERS.contains(&r.provider.as_str())));
        assert!(is_date(SHIPPED_TAKEN));
    }

    #[test]
    fn cost_splits_cached_and_written_input() {
        // 1M prompt tokens of which 400k cached and 100k written, 200k output, Claude 3.5 Haiku:
        // 0.5 * 0.80 + 0.4 * 0.08 + 0.1 * 1.00 + 0.2 * 4.00 = 1.332 USD.
        let t = PriceTable::shipped();
        let price = t
            .lookup("anthropic", "claude-3-5-haiku-20241022")
            .unwrap()
            .price;
        let usage = Usage {
            input: Some(1_000_000),
            output: Some(200_000),
            cached_input: Some(400_000),
            cache_write: Some(100_000),
        };
        let cost = price.cost(&usage).unwrap();
        assert!((cost - 1.332).abs() < 1e-12, "{cost}");
        let no_output = Usage {
            output: None,
            ..usage
        };
        assert_eq!(price.cost(&no_output), None);
        // (3 * 0.80 + 4.00) / 4 = 1.60
        assert!((price.blended_3to1() - 1.6).abs() < 1e-12);
    }

    #[test]
    fn llmscope_prices_overlays_the_shipped_table_row_by_row() {
        let over = r#"{"taken": "2026-12-01", "prices": [
            {"provider": "openai", "model": "gpt-4o-mini", "input": 0.12, "output": 0.5},
            {"provider": "http", "model": "house-model", "input": 1, "output": 2, "cached_input": 0.5}
        ]}"#;
        let t = PriceTable::with_override(Some(over)).unwrap();
        assert_eq!(t.taken, "2026-12-01");
        let mini = t.lookup("openai", "gpt-4o-mini-2024-07-18").unwrap();
        assert_eq!(
            (mini.price.input, mini.taken.as_str()),
            (0.12, "2026-12-01")
        );
        assert_eq!(
            mini.price.cached_input, None,
            "the row replaces, it does not merge"
        );
        let house = t.lookup("http", "house-model").unwrap();
        assert_eq!(house.price.cached_input, Some(0.5));
        // A row it does not name keeps the shipped price and date.
        let four = t.lookup("openai", "gpt-4o").unwrap();
        assert_eq!(
            (four.price.input, four.taken.as_str()),
            (2.50, SHIPPED_TAKEN)
        );
        assert_eq!(t.rows.len(), PriceTable::shipped().rows.len() + 1);
        // Unset or blank: the shipped table.
        assert_eq!(PriceTable::with_override(None), Ok(PriceTable::shipped()));
        assert_eq!(
            PriceTable::with_override(Some(" ")),
            Ok(PriceTable::shipped())
        );
    }

    #[test]
    fn a_bad_llmscope_prices_names_the_row_and_field() {
        let row = |fields: &str| {
            format!(
                r#"{{"taken": "2026-12-01", "prices": [{{"provider": "openai", "model": "a", "input": 1, "output": 2}}, {{{fields}}}]}}"#
            )
        };
        let cases = [
            ("{", "document", "not valid JSON"),
            ("[]", "document", "must be an object"),
            (r#"{"prices": []}"#, "taken", "is missing"),
            (
                r#"{"taken": "1 Dec 2026", "prices": []}"#,
                "taken",
                "YYYY-MM-DD",
            ),
            (
                r#"{"taken": "2026-13-01", "prices": []}"#,
                "taken",
                "not a date",
            ),
            (r#"{"taken": "2026-12-01"}"#, "prices", "must be a list"),
            (
                r#"{"taken": "2026-12-01", "prices": [], "x": 1}"#,
                "x",
                "unknown key",
            ),
            (
                &row(r#""provider": "openai", "model": "b", "input": -0.1, "output": 2"#),
                "prices[1].input",
                "-0.1 is not a price",
            ),
            (
                &row(r#""provider": "openai", "model": "b", "input": 1, "output": "2""#),
                "prices[1].output",
                "\"2\" is not a price",
            ),
            (
                &row(
                    r#""provider": "openai", "model": "b", "input": 1, "output": 2, "cache_write": 1e999"#,
                ),
                "document",
                "not valid JSON",
            ),
            (
                &row(r#""provider": "openai", "model": "b", "input": 1"#),
                "prices[1].output",
                "is missing",
            ),
            (
                &row(r#""provider": "opneai", "model": "b", "input": 1, "output": 2"#),
                "prices[1].provider",
                "unknown provider \"opneai\"",
            ),
            (
                &row(r#""provider": "openai", "input": 1, "output": 2"#),
                "prices[1].model",
                "is missing",
            ),
            (
                &row(r#""provider": "openai", "model": "b", "input": 1, "output": 2, "cached": 1"#),
                "prices[1]",
                "unknown key \"cached\"",
            ),
            (
                &row(r#""provider": "openai", "model": "a", "input": 1, "output": 2"#),
                "prices[1]",
                "openai a is given twice (also prices[0])",
            ),
        ];
        for (text, at, says) in cases {
            let e = PriceTable::with_override(Some(text)).unwrap_err();
            assert_eq!(e.at, at, "{text}: {e}");
            assert!(e.message.contains(says), "{text}: {e}");
            assert!(e.to_string().starts_with("LLMSCOPE_PRICES: "), "{e}");
        }
        let nan = Price {
            cache_write: Some(f64::NAN),
            ..p(1.0, 2.0, 0.5, 0.0)
        };
        assert_eq!(nan.problem().map(|(f, _)| f), Some("cache_write"));
    }
}
