//! Probe targets, from the Worker variable `LLMSCOPE_TARGETS` (a JSON array). Every key is
//! checked: a typo is an error naming the target and the field, never a silent default, and
//! one bad target never stops the others from being probed.

use crate::check::Check;
use llmscope_protocol::prices::Price;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

/// Which adapter speaks to a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Chat completions, and every OpenAI-compatible server.
    Openai,
    /// Anthropic messages.
    Anthropic,
    /// Google Gemini streamGenerateContent.
    Gemini,
    /// AWS Bedrock ConverseStream.
    Bedrock,
    /// Ollama /api/chat.
    Ollama,
    /// Any HTTP endpoint, described by templates and JSON pointers.
    Http,
}

impl ProviderKind {
    /// The name used in configuration and results.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Openai => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Gemini => "gemini",
            ProviderKind::Bedrock => "bedrock",
            ProviderKind::Ollama => "ollama",
            ProviderKind::Http => "http",
        }
    }
}

/// How a custom endpoint's response arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum StreamFormat {
    /// Server-sent events, `data:` lines (a `[DONE]` line ends the stream).
    #[default]
    Sse,
    /// One JSON object per line.
    Ndjson,
    /// One JSON body, not streamed: TTFT equals the total latency.
    None,
}

/// How an OpenAI-compatible server wants its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum OpenaiAuth {
    /// `Authorization: Bearer KEY` (OpenAI, vLLM, OpenRouter, LiteLLM).
    #[default]
    Bearer,
    /// `api-key: KEY` (Azure OpenAI).
    ApiKey,
}

/// Which request field carries an OpenAI target's output token cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenLimitField {
    /// `max_tokens`: chat models and most OpenAI-compatible servers.
    MaxTokens,
    /// `max_completion_tokens`: OpenAI's reasoning models refuse `max_tokens`.
    MaxCompletionTokens,
}

impl TokenLimitField {
    /// The request field's name.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenLimitField::MaxTokens => "max_tokens",
            TokenLimitField::MaxCompletionTokens => "max_completion_tokens",
        }
    }

    /// The field OpenAI expects for `model`: `max_completion_tokens` for the reasoning
    /// families (`o1`, `o3`, `o4`, `gpt-5`), `max_tokens` for every other model. The family
    /// is the id's start after any provider prefix (`openai/o3-mini` on OpenRouter), followed
    /// by its end, `-` or `.` (`o4-mini-2025-04-16`, `gpt-5.1`), in any case; so `o10x` and
    /// `gpt-50` are not in a family. An Azure deployment name hides the model: set
    /// `token_limit_field` there.
    pub fn for_model(model: &str) -> TokenLimitField {
        let id = model
            .rsplit('/')
            .next()
            .unwrap_or(model)
            .to_ascii_lowercase();
        let reasoning = ["o1", "o3", "o4", "gpt-5"].iter().any(|family| {
            id.strip_prefix(family)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['-', '.']))
        });
        if reasoning {
            TokenLimitField::MaxCompletionTokens
        } else {
            TokenLimitField::MaxTokens
        }
    }
}

/// One target, as configured.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Unique name; results are stored under it.
    pub name: String,
    /// The adapter.
    pub provider: ProviderKind,
    /// The model (Bedrock: the model id; http: whatever the template uses).
    #[serde(default)]
    pub model: String,
    /// Overrides the provider's public address (local servers, proxies, stand-ins).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Name of the Worker secret holding the API key.
    #[serde(default)]
    pub key_secret: Option<String>,
    /// The prompt sent on every probe.
    #[serde(default = "default_prompt")]
    pub prompt: String,
    /// Output token cap.
    #[serde(default = "default_max_tokens")]
    pub max_tokens: u32,
    /// The whole probe's deadline, from request to end of stream.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Prefix the prompt with a random nonce on every probe, so no provider cache can answer
    /// it (Artificial Analysis's method).
    #[serde(default)]
    pub fresh_prompt: bool,
    /// Overrides the shipped price table for this target.
    #[serde(default)]
    pub price: Option<Price>,
    /// OpenAI: how the key is sent.
    #[serde(default)]
    pub auth: OpenaiAuth,
    /// OpenAI: the request field for `max_tokens`; by default chosen from the model's family
    /// ([`TokenLimitField::for_model`]).
    #[serde(default)]
    pub token_limit_field: Option<TokenLimitField>,
    /// Anthropic and Gemini: ask a thinking model to think with at most this many tokens and
    /// to stream its thinking (Anthropic `thinking`, Gemini `thinkingConfig` with
    /// `includeThoughts`). Unset: the request says nothing about thinking.
    #[serde(default)]
    pub thinking_budget: Option<u32>,
    /// Anthropic: the `anthropic-version` header.
    #[serde(default)]
    pub anthropic_version: Option<String>,
    /// Bedrock: the AWS region, e.g. `us-east-1`.
    #[serde(default)]
    pub region: Option<String>,
    /// Bedrock: secret holding the access key id.
    #[serde(default)]
    pub access_key_secret: Option<String>,
    /// Bedrock: secret holding the secret access key.
    #[serde(default)]
    pub secret_key_secret: Option<String>,
    /// Bedrock: secret holding a session token (temporary credentials), if any.
    #[serde(default)]
    pub session_token_secret: Option<String>,
    /// http: the method (default POST).
    #[serde(default)]
    pub method: Option<String>,
    /// http: the full URL.
    #[serde(default)]
    pub url: Option<String>,
    /// http: headers; `{{key}}` in a value is replaced by the key secret.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// http: the JSON body; string values may hold `{{prompt}}`, `{{model}}`, `{{max_tokens}}`.
    #[serde(default)]
    pub body: Option<serde_json::Value>,
    /// http: sse, ndjson or none.
    #[serde(default)]
    pub stream: StreamFormat,
    /// http: JSON pointer to the generated text in each event (or in the body).
    #[serde(default)]
    pub text_pointer: Option<String>,
    /// http: JSON pointer whose presence (non-null) in an event marks an in-stream error
    /// (default `/error`).
    #[serde(default)]
    pub error_pointer: Option<String>,
    /// http: JSON pointer to the input token count.
    #[serde(default)]
    pub input_tokens_pointer: Option<String>,
    /// http: JSON pointer to the output token count.
    #[serde(default)]
    pub output_tokens_pointer: Option<String>,
    /// http: JSON pointer to the cached input token count.
    #[serde(default)]
    pub cached_input_tokens_pointer: Option<String>,
    /// The TTFT SLO, ms: the limit the predictive alert forecasts TTFT against (unset: the
    /// TTFT chart's UCL).
    #[serde(default)]
    pub slo_ttft_ms: Option<f64>,
    /// The total-latency SLO, ms, likewise for total latency.
    #[serde(default)]
    pub slo_total_ms: Option<f64>,
    /// Whether an answer is the right one ([`Check`]); read apart from the other keys
    /// ([`parse`]), so its errors name its own keys.
    #[serde(skip)]
    pub check: Option<Check>,
}

impl Target {
    /// The request field for the output token cap (OpenAI): the target's own
    /// `token_limit_field`, else the model family's.
    pub fn token_limit_field(&self) -> TokenLimitField {
        self.token_limit_field
            .unwrap_or_else(|| TokenLimitField::for_model(&self.model))
    }

    /// The prompt to send on one probe: with [`Target::fresh_prompt`], prefixed by a new 64-bit
    /// nonce in hex from the platform's random source (`getrandom`: Web Crypto in Workers), e.g.
    /// `[9f86d081884c7d65] Count from 1 to 20...`. Should randomness fail, the nonce is empty
    /// rather than the probe lost.
    pub fn prompt_to_send(&self) -> String {
        if !self.fresh_prompt {
            return self.prompt.clone();
        }
        let mut nonce = [0u8; 8];
        let hex: String = match getrandom::getrandom(&mut nonce) {
            Ok(()) => nonce.iter().map(|b| format!("{b:02x}")).collect(),
            Err(_) => String::new(),
        };
        format!("[{hex}] {}", self.prompt)
    }
}

fn default_prompt() -> String {
    "Count from 1 to 20, separated by spaces.".into()
}
fn default_max_tokens() -> u32 {
    64
}
/// The longest `timeout_ms`: a cron run may last 15 minutes. It also keeps the runtime's
/// timer (JavaScript's `setTimeout`, 32-bit milliseconds) from wrapping around.
pub const MAX_TIMEOUT_MS: u64 = 900_000;

fn default_timeout_ms() -> u64 {
    30_000
}

/// A configuration problem, naming the target (when known) and the field.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError {
    /// The target's name, or its position when it has none.
    pub target: String,
    /// The field at fault.
    pub field: String,
    /// What is wrong and what would be right.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "target {}: {}: {}",
            self.target, self.field, self.message
        )
    }
}

impl ConfigError {
    /// An error about `field` of `target`.
    pub fn new(target: &str, field: &str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            target: target.to_string(),
            field: field.to_string(),
            message: message.into(),
        }
    }
}

/// The targets that are valid, and an error for each that is not.
#[derive(Clone, Debug, Default)]
pub struct Targets {
    /// Usable targets, in configuration order.
    pub valid: Vec<Target>,
    /// One entry per problem.
    pub errors: Vec<ConfigError>,
}

impl Targets {
    /// The target named `name`.
    pub fn get(&self, name: &str) -> Option<&Target> {
        self.valid.iter().find(|t| t.name == name)
    }
}

/// Parses `LLMSCOPE_TARGETS`. Each element is checked on its own, so a bad one is reported
/// and the rest still run.
pub fn parse(json: &str) -> Targets {
    let mut out = Targets::default();
    let items: Vec<serde_json::Value> = match serde_json::from_str(json) {
        Ok(serde_json::Value::Array(items)) => items,
        Ok(_) => {
            out.errors.push(ConfigError::new(
                "*",
                "LLMSCOPE_TARGETS",
                "must be a JSON array of target objects",
            ));
            return out;
        }
        Err(e) => {
            out.errors.push(ConfigError::new(
                "*",
                "LLMSCOPE_TARGETS",
                format!("invalid JSON: {e}"),
            ));
            return out;
        }
    };
    for (i, mut item) in items.into_iter().enumerate() {
        let label = item
            .get("name")
            .and_then(|n| n.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| format!("#{i}"));
        let check = item.as_object_mut().and_then(|o| o.remove("check"));
        match serde_json::from_value::<Target>(item) {
            Ok(mut target) => match validate(&target).and_then(|()| {
                target.check = check_of(&label, check.as_ref())?;
                Ok(())
            }) {
                Ok(()) if out.get(&target.name).is_some() => out.errors.push(ConfigError::new(
                    &label,
                    "name",
                    "used by an earlier target; names must be unique",
                )),
                Ok(()) => out.valid.push(target),
                Err(e) => out.errors.push(e),
            },
            Err(e) => out.errors.push(ConfigError::new(
                &label,
                field_of(&e.to_string()),
                e.to_string(),
            )),
        }
    }
    out
}

/// A target's `check`, if it has one (`null` is none).
fn check_of(label: &str, value: Option<&serde_json::Value>) -> Result<Option<Check>, ConfigError> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => Check::parse(v)
            .map(Some)
            .map_err(|e| ConfigError::new(label, &e.key, e.message)),
    }
}

/// The field serde's message names (`unknown field `x``, `missing field `x``), or "target".
fn field_of(message: &str) -> &str {
    if message.starts_with("unknown variant") {
        // serde names the variants, not the field: tell the enums apart by what they expect.
        return if message.contains("`openai`") {
            "provider"
        } else if message.contains("`max_completion_tokens`") {
            "token_limit_field"
        } else if message.contains("`ndjson`") {
            "stream"
        } else {
            "auth"
        };
    }
    message
        .split('`')
        .nth(1)
        .filter(|f| !f.is_empty() && message.contains("field"))
        .unwrap_or("target")
}

fn validate(t: &Target) -> Result<(), ConfigError> {
    let err = |field: &str, message: &str| Err(ConfigError::new(&t.name, field, message));
    if t.name.trim().is_empty() {
        return err("name", "must not be empty");
    }
    if t.timeout_ms == 0 || t.timeout_ms > MAX_TIMEOUT_MS {
        return Err(ConfigError::new(
            &t.name,
            "timeout_ms",
            format!(
                "must be 1 to {MAX_TIMEOUT_MS} ms (15 minutes, the longest a cron run may take), not {}",
                t.timeout_ms
            ),
        ));
    }
    if let Some(url) = &t.base_url {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return err("base_url", "must start with http:// or https://");
        }
    }
    if let Some((field, v)) = t.price.and_then(|p| p.problem()) {
        return Err(ConfigError::new(
            &t.name,
            &format!("price.{field}"),
            format!("{v} is not a price: give a non-negative number of USD per million tokens"),
        ));
    }
    for (field, slo) in [
        ("slo_ttft_ms", t.slo_ttft_ms),
        ("slo_total_ms", t.slo_total_ms),
    ] {
        if slo.is_some_and(|ms| !(ms.is_finite() && ms > 0.0)) {
            return err(field, "must be a positive number of milliseconds");
        }
    }
    if t.token_limit_field.is_some() && t.provider != ProviderKind::Openai {
        return err(
            "token_limit_field",
            "applies to provider openai only (the others have one output cap field)",
        );
    }
    if let Some(budget) = t.thinking_budget {
        match t.provider {
            ProviderKind::Anthropic if budget >= t.max_tokens => {
                return Err(ConfigError::new(
                    &t.name,
                    "thinking_budget",
                    format!(
                        "must be below max_tokens ({}): Anthropic counts thinking in max_tokens",
                        t.max_tokens
                    ),
                ))
            }
            ProviderKind::Anthropic | ProviderKind::Gemini => {}
            _ => return err(
                "thinking_budget",
                "applies to anthropic and gemini only (OpenAI's reasoning models always reason)",
            ),
        }
    }
    match t.provider {
        ProviderKind::Openai | ProviderKind::Anthropic | ProviderKind::Gemini => {
            if t.model.is_empty() {
                return err("model", "is required for this provider");
            }
            if t.key_secret.is_none() {
                return err(
                    "key_secret",
                    "names the secret holding the API key; required",
                );
            }
        }
        ProviderKind::Ollama => {
            if t.model.is_empty() {
                return err("model", "is required for this provider");
            }
        }
        ProviderKind::Bedrock => {
            if t.model.is_empty() {
                return err("model", "is required (the Bedrock model id)");
            }
            if t.region.is_none() {
                return err("region", "is required for bedrock, e.g. \"us-east-1\"");
            }
            if t.access_key_secret.is_none() {
                return err(
                    "access_key_secret",
                    "names the secret holding the access key id; required for bedrock",
                );
            }
            if t.secret_key_secret.is_none() {
                return err(
                    "secret_key_secret",
                    "names the secret holding the secret access key; required for bedrock",
                );
            }
        }
        ProviderKind::Http => {
            match &t.url {
                Some(u) if u.starts_with("http://") || u.starts_with("https://") => {}
                Some(_) => return err("url", "must start with http:// or https://"),
                None => return err("url", "is required for provider http"),
            }
            match &t.text_pointer {
                Some(p) if p.is_empty() || p.starts_with('/') => {}
                Some(_) => {
                    return err(
                        "text_pointer",
                        "must be a JSON pointer such as \"/choices/0/text\"",
                    )
                }
                None => {
                    return err(
                        "text_pointer",
                        "is required for provider http (where the text is)",
                    )
                }
            }
            for (field, p) in [
                ("input_tokens_pointer", &t.input_tokens_pointer),
                ("output_tokens_pointer", &t.output_tokens_pointer),
                (
                    "cached_input_tokens_pointer",
                    &t.cached_input_tokens_pointer,
                ),
                ("error_pointer", &t.error_pointer),
            ] {
                if p.as_deref()
                    .is_some_and(|p| !p.is_empty() && !p.starts_with('/'))
                {
                    return err(field, "must be a JSON pointer starting with /");
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_prompt_gets_a_new_nonce_every_time() {
        let t =
            parse(r#"[{"name": "a", "provider": "ollama", "model": "llama3", "prompt": "Hi."}]"#);
        assert!(t.errors.is_empty(), "{:?}", t.errors);
        let mut fresh = t.valid[0].clone();
        assert_eq!(fresh.prompt_to_send(), "Hi.");
        fresh.fresh_prompt = true;
        let (one, two) = (fresh.prompt_to_send(), fresh.prompt_to_send());
        assert_ne!(one, two);
        for p in [one, two] {
            let nonce = p
                .strip_prefix('[')
                .and_then(|p| p.strip_suffix("] Hi."))
                .unwrap_or_else(|| panic!("{p:?}"));
            assert_eq!(nonce.len(), 16, "{p:?}");
            assert!(nonce.bytes().all(|b| b.is_ascii_hexdigit()), "{p:?}");
        }
    }

    #[test]
    fn good_targets_parse_and_bad_ones_are_named() {
        let t = parse(
            r#"[
            {"name": "a", "provider": "openai", "model": "gpt-4o-mini", "key_secret": "K"},
            {"name": "b", "provider": "claude", "model": "x"},
            {"name": "c", "provider": "anthropic", "model": "x", "key_secret": "K", "modle": 1},
            {"name": "d", "provider": "bedrock", "model": "m", "access_key_secret": "A", "secret_key_secret": "S"},
            {"provider": "ollama"},
            {"name": "a", "provider": "ollama", "model": "llama3"},
            {"name": "e", "provider": "ollama", "model": "m", "price": {"input": 1, "output": -2}}
        ]"#,
        );
        assert_eq!(t.valid.len(), 1);
        assert_eq!(t.valid[0].max_tokens, 64);
        let said: Vec<String> = t.errors.iter().map(|e| e.to_string()).collect();
        assert!(
            said[0].starts_with("target b: provider: unknown variant `claude`"),
            "{said:?}"
        );
        assert!(
            said[1].starts_with("target c: modle: unknown field `modle`"),
            "{said:?}"
        );
        assert!(said[2].starts_with("target d: region:"), "{said:?}");
        assert!(
            said[3].starts_with("target #4: name: missing field `name`"),
            "{said:?}"
        );
        assert!(
            said[4].starts_with("target a: name: used by an earlier"),
            "{said:?}"
        );
        assert_eq!(
            said[5],
            "target e: price.output: -2 is not a price: give a non-negative number of USD per million tokens"
        );
    }

    #[test]
    fn reasoning_families_take_max_completion_tokens_unless_the_target_says_otherwise() {
        use TokenLimitField::*;
        for model in [
            "o1",
            "o1-mini",
            "o3",
            "o3-mini-2025-01-31",
            "o4-mini",
            "O4-Mini-2025-04-16",
            "gpt-5",
            "gpt-5-mini",
            "gpt-5-nano-2025-08-07",
            "gpt-5.1",
            "openai/o3-mini",
            "azure/gpt-5-mini",
        ] {
            assert_eq!(
                TokenLimitField::for_model(model),
                MaxCompletionTokens,
                "{model}"
            );
        }
        for model in [
            "gpt-4o-mini",
            "gpt-4.1",
            "gpt-3.5-turbo",
            "o10x",
            "gpt-50",
            "llama-o1",
            "my-o3-deployment",
            "",
        ] {
            assert_eq!(TokenLimitField::for_model(model), MaxTokens, "{model}");
        }
        let t = parse(
            r#"[{"name": "a", "provider": "openai", "model": "o3", "key_secret": "K"},
                {"name": "b", "provider": "openai", "model": "o3", "key_secret": "K", "token_limit_field": "max_tokens"},
                {"name": "c", "provider": "openai", "model": "prod", "key_secret": "K", "token_limit_field": "max_completion_tokens"},
                {"name": "d", "provider": "openai", "model": "m", "key_secret": "K", "token_limit_field": "max_output_tokens"},
                {"name": "e", "provider": "ollama", "model": "m", "token_limit_field": "max_tokens"}]"#,
        );
        let fields: Vec<_> = t.valid.iter().map(Target::token_limit_field).collect();
        assert_eq!(
            fields,
            [MaxCompletionTokens, MaxTokens, MaxCompletionTokens]
        );
        assert_eq!(t.errors[0].field, "token_limit_field", "{:?}", t.errors);
        assert!(
            t.errors[0]
                .to_string()
                .starts_with("target d: token_limit_field: unknown variant `max_output_tokens`"),
            "{}",
            t.errors[0]
        );
        assert!(
            t.errors[1]
                .to_string()
                .starts_with("target e: token_limit_field: applies to provider openai only"),
            "{:?}",
            t.errors
        );
    }

    #[test]
    fn an_slo_is_a_positive_number_of_milliseconds() {
        let t = parse(
            r#"[{"name": "a", "provider": "ollama", "model": "m", "slo_ttft_ms": 2000, "slo_total_ms": 5000.5},
                {"name": "b", "provider": "ollama", "model": "m", "slo_ttft_ms": 0},
                {"name": "c", "provider": "ollama", "model": "m", "slo_total_ms": "fast"}]"#,
        );
        assert_eq!(t.valid.len(), 1);
        assert_eq!(
            (t.valid[0].slo_ttft_ms, t.valid[0].slo_total_ms),
            (Some(2000.0), Some(5000.5))
        );
        let said: Vec<String> = t.errors.iter().map(|e| e.to_string()).collect();
        assert!(
            said[0].starts_with("target b: slo_ttft_ms: must be a positive number of milliseconds"),
            "{said:?}"
        );
        // serde's type error names no field (as for every numeric key): the target and the
        // expected type it does name.
        assert!(said[1].starts_with("target c: "), "{said:?}");
        assert!(said[1].contains("expected f64"), "{said:?}");
    }

    #[test]
    fn a_thinking_budget_fits_under_max_tokens_and_only_where_it_means_something() {
        let t = parse(
            r#"[{"name": "a", "provider": "anthropic", "model": "m", "key_secret": "K", "max_tokens": 2048, "thinking_budget": 1024},
                {"name": "b", "provider": "anthropic", "model": "m", "key_secret": "K", "thinking_budget": 1024},
                {"name": "c", "provider": "openai", "model": "o3", "key_secret": "K", "thinking_budget": 1024},
                {"name": "d", "provider": "gemini", "model": "gemini-2.5-flash", "key_secret": "K", "thinking_budget": 0}]"#,
        );
        let names: Vec<&str> = t.valid.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["a", "d"]);
        let said: Vec<String> = t.errors.iter().map(|e| e.to_string()).collect();
        assert!(
            said[0].starts_with("target b: thinking_budget: must be below max_tokens (64)"),
            "{said:?}"
        );
        assert!(
            said[1].starts_with("target c: thinking_budget: applies to anthropic and gemini only"),
            "{said:?}"
        );
    }

    #[test]
    fn a_check_is_parsed_with_its_target_and_a_bad_one_names_the_target_and_key() {
        let t = parse(
            r#"[{"name": "a", "provider": "ollama", "model": "m", "check": {"number": 4, "tolerance": 0.5}},
                {"name": "b", "provider": "ollama", "model": "m", "check": null},
                {"name": "c", "provider": "ollama", "model": "m", "check": {"regex": "4("}},
                {"name": "d", "provider": "ollama", "model": "m", "check": {"exact": "4", "number": 4}},
                {"name": "e", "provider": "ollama", "model": "m", "check": {"number": 4, "tolerance": -1}},
                {"name": "f", "provider": "ollama", "model": "m", "check": {"regexp": "4"}},
                {"name": "g", "provider": "claude", "model": "m", "check": {"regex": "4("}}]"#,
        );
        let valid: Vec<_> = t
            .valid
            .iter()
            .map(|t| (t.name.as_str(), t.check.clone()))
            .collect();
        assert_eq!(
            valid,
            [
                (
                    "a",
                    Some(Check::Number {
                        number: 4.0,
                        tolerance: 0.5
                    })
                ),
                ("b", None)
            ]
        );
        let said: Vec<String> = t.errors.iter().map(|e| e.to_string()).collect();
        for (at, start) in [
            "target c: check.regex: is not a valid pattern",
            "target d: check: has 2 kinds (exact, number)",
            "target e: check.tolerance: must be 0 or more, not -1",
            "target f: check.regexp: is not a kind of check",
            // The target's own keys are checked first.
            "target g: provider: unknown variant `claude`",
        ]
        .iter()
        .enumerate()
        {
            assert!(said[at].starts_with(start), "{said:?}");
        }
        assert_eq!(said.len(), 5, "{said:?}");
    }

    #[test]
    fn invalid_json_is_one_clear_error() {
        let t = parse("[{\"name\": ");
        assert!(t.valid.is_empty());
        assert_eq!(t.errors[0].field, "LLMSCOPE_TARGETS");
        assert!(t.errors[0].message.starts_with("invalid JSON"));
        assert_eq!(
            parse("{}").errors[0].message,
            "must be a JSON array of target objects"
        );
    }

    #[test]
    fn http_targets_need_a_url_and_a_text_pointer() {
        let t = parse(r#"[{"name": "h", "provider": "http", "url": "http://x/y"}]"#);
        assert_eq!(t.errors[0].field, "text_pointer");
        let t = parse(
            r#"[{"name": "h", "provider": "http", "url": "http://x/y", "text_pointer": "/a", "stream": "ndjson"}]"#,
        );
        assert_eq!(t.valid[0].stream, StreamFormat::Ndjson);
    }

    #[test]
    fn a_timeout_the_timer_cannot_hold_is_refused() {
        let with = |ms: u64| {
            parse(&format!(
                r#"[{{"name": "o", "provider": "ollama", "model": "m", "timeout_ms": {ms}}}]"#
            ))
        };
        assert_eq!(with(MAX_TIMEOUT_MS).valid[0].timeout_ms, 900_000);
        for bad in [0, MAX_TIMEOUT_MS + 1, i32::MAX as u64 + 1, u64::MAX] {
            let t = with(bad);
            assert!(t.valid.is_empty(), "{bad}");
            assert_eq!(t.errors[0].field, "timeout_ms");
            assert!(
                t.errors[0].message.starts_with("must be 1 to 900000 ms"),
                "{:?}",
                t.errors
            );
        }
    }
}
