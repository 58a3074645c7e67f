//! The price table shipped with the Worker: USD per million tokens, per model, as each
//! provider's public price page listed them on [`TAKEN`]. Prices change: a target's `price`
//! overrides the table, and a model the table does not know has an unknown cost (null), never 0.

use serde::{Deserialize, Serialize};

/// When the table was taken from the providers' price pages. Bump it with every update.
pub const TAKEN: &str = "2025-06-01";

/// USD per million tokens.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// Uncached input tokens.
    pub input: f64,
    /// Output tokens.
    pub output: f64,
    /// Input tokens read from the prompt cache (default: the input price).
    #[serde(default)]
    pub cached_input: Option<f64>,
    /// Input tokens written to the prompt cache (Anthropic; default: the input price).
    #[serde(default)]
    pub cache_write: Option<f64>,
}

const fn p(input: f64, output: f64, cached_input: f64, cache_write: f64) -> Price {
    Price {
        input,
        output,
        cached_input: Some(cached_input),
        cache_write: Some(cache_write),
    }
}

/// (provider, model, price). A model id with a date or version suffix (`gpt-4o-mini-2024-07-18`,
/// `anthropic.claude-3-haiku-20240307-v1:0`) matches its family's row (the longest prefix).
const TABLE: &[(&str, &str, Price)] = &[
    ("openai", "gpt-4o-mini", p(0.15, 0.60, 0.075, 0.15)),
    ("openai", "gpt-4o", p(2.50, 10.00, 1.25, 2.50)),
    ("openai", "gpt-4.1-nano", p(0.10, 0.40, 0.025, 0.10)),
    ("openai", "gpt-4.1-mini", p(0.40, 1.60, 0.10, 0.40)),
    ("openai", "gpt-4.1", p(2.00, 8.00, 0.50, 2.00)),
    ("openai", "o4-mini", p(1.10, 4.40, 0.275, 1.10)),
    ("openai", "o3", p(2.00, 8.00, 0.50, 2.00)),
    ("anthropic", "claude-3-haiku", p(0.25, 1.25, 0.03, 0.30)),
    ("anthropic", "claude-3-5-haiku", p(0.80, 4.00, 0.08, 1.00)),
    ("anthropic", "claude-3-5-sonnet", p(3.00, 15.00, 0.30, 3.75)),
    ("anthropic", "claude-3-7-sonnet", p(3.00, 15.00, 0.30, 3.75)),
    ("anthropic", "claude-sonnet-4", p(3.00, 15.00, 0.30, 3.75)),
    ("anthropic", "claude-opus-4", p(15.00, 75.00, 1.50, 18.75)),
    (
        "gemini",
        "gemini-2.0-flash-lite",
        p(0.075, 0.30, 0.075, 0.075),
    ),
    ("gemini", "gemini-2.0-flash", p(0.10, 0.40, 0.025, 0.10)),
    ("gemini", "gemini-2.5-flash", p(0.30, 2.50, 0.075, 0.30)),
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
];

/// The shipped price of `model` at `provider`: an exact match, else the longest row that is a
/// prefix followed by `-`, `:` or `@` (a dated or versioned id). Bedrock's cross-region ids
/// (`us.anthropic...`) match without their region prefix.
pub fn lookup(provider: &str, model: &str) -> Option<Price> {
    let model = match provider {
        "bedrock" => strip_region_prefix(model),
        _ => model,
    };
    TABLE
        .iter()
        .filter(|(p, m, _)| {
            *p == provider
                && model
                    .strip_prefix(m)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(['-', ':', '@']))
        })
        .max_by_key(|(_, m, _)| m.len())
        .map(|(_, _, price)| *price)
}

fn strip_region_prefix(model: &str) -> &str {
    for region in ["us.", "eu.", "apac.", "global."] {
        if let Some(rest) = model.strip_prefix(region) {
            return rest;
        }
    }
    model
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dated_ids_match_their_family_and_unknown_models_have_no_price() {
        assert_eq!(
            lookup("openai", "gpt-4o-mini-2024-07-18").map(|p| p.input),
            Some(0.15)
        );
        assert_eq!(lookup("openai", "gpt-4o").map(|p| p.input), Some(2.50));
        assert_eq!(
            lookup("openai", "gpt-4o-audio").map(|p| p.input),
            Some(2.50)
        );
        assert_eq!(lookup("openai", "gpt-4oo"), None);
        assert_eq!(lookup("anthropic", "gpt-4o"), None);
        let haiku = lookup("bedrock", "us.anthropic.claude-3-haiku-20240307-v1:0");
        assert_eq!(haiku.map(|p| p.output), Some(1.25));
        assert_eq!(lookup("ollama", "llama3.2"), None);
    }

    #[test]
    fn cost_splits_cached_and_written_input() {
        // 1M prompt tokens of which 400k cached and 100k written, 200k output, Claude 3.5 Haiku:
        // 0.5 * 0.80 + 0.4 * 0.08 + 0.1 * 1.00 + 0.2 * 4.00 = 1.332 USD.
        let price = lookup("anthropic", "claude-3-5-haiku-20241022").unwrap();
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
    }
}
