//! Probe targets on the provider stand-ins, as the `wrangler dev` tests configure them: each
//! named after its stand-in profile, with its key under the provider's usual secret name.

use llmscope_standin::Standin;
use serde_json::{json, Value};

/// The Anthropic model the targets name.
pub const ANTHROPIC_MODEL: &str = "claude-3-5-haiku-20241022";

/// A target of one of the five provider adapters (`openai`, `anthropic`, `gemini`,
/// `bedrock`, `ollama`) named `name`, on the stand-in profile of the same name, its keys in
/// the secrets `OPENAI_API_KEY`, `ANTHROPIC_API_KEY`, `GEMINI_API_KEY`, `AWS_ACCESS_KEY_ID` and
/// `AWS_SECRET_ACCESS_KEY`. `None` for any other provider: a custom HTTP target is each
/// test's own.
pub fn target(provider: &str, name: &str, standin: &Standin) -> Option<Value> {
    let base = standin.base_url(name);
    let mut t = match provider {
        "openai" => json!({"model": "gpt-4o-mini", "base_url": format!("{base}/v1"),
                           "key_secret": "OPENAI_API_KEY"}),
        "anthropic" => json!({"model": ANTHROPIC_MODEL, "base_url": base,
                              "key_secret": "ANTHROPIC_API_KEY"}),
        "gemini" => json!({"model": "gemini-2.0-flash", "base_url": base,
                           "key_secret": "GEMINI_API_KEY"}),
        "bedrock" => json!({"model": "anthropic.claude-3-haiku-20240307-v1:0", "base_url": base,
                            "region": "us-east-1", "access_key_secret": "AWS_ACCESS_KEY_ID",
                            "secret_key_secret": "AWS_SECRET_ACCESS_KEY"}),
        "ollama" => json!({"model": "llama3.2", "base_url": base}),
        _ => return None,
    };
    t["name"] = json!(name);
    t["provider"] = json!(provider);
    Some(t)
}
