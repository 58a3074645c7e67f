//! The Worker's settings, read from its variables and secrets on every request (they are
//! cheap to read, and a redeploy changes them).

use crate::alert::Settings;
use crate::provider::{self, Secrets};
use crate::target::{self, ConfigError, Target, Targets};
use worker::Env;

/// Reads a variable or a secret (both are plain string bindings).
pub fn string(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .map(|v| v.to_string())
        .or_else(|_| env.secret(name).map(|s| s.to_string()))
        .ok()
}

/// Secrets, looked up by name in the Worker's bindings.
pub struct EnvSecrets<'a>(pub &'a Env);

impl Secrets for EnvSecrets<'_> {
    fn get(&self, name: &str) -> Option<String> {
        string(self.0, name)
    }
}

/// Everything the Worker is configured with.
pub struct Config {
    /// Parsed `LLMSCOPE_TARGETS`.
    pub targets: Targets,
    /// `LLMSCOPE_TOKEN`; empty means every protected endpoint refuses.
    pub token: String,
    /// `LLMSCOPE_ORIGINS`, comma-separated.
    pub origins: String,
    /// `LLMSCOPE_WEBHOOK`, where alerts are POSTed.
    pub webhook: Option<String>,
    /// Alerting settings, and problems reading them.
    pub alerts: Settings,
    /// Problems with the Worker-wide variables.
    pub errors: Vec<ConfigError>,
}

fn number(env: &Env, name: &str, default: usize, errors: &mut Vec<ConfigError>) -> usize {
    match string(env, name) {
        None => default,
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => {
                errors.push(ConfigError::new(
                    "*",
                    name,
                    format!("must be a positive integer, not {v:?}"),
                ));
                default
            }
        },
    }
}

impl Config {
    /// Reads the configuration; problems are collected, never fatal.
    pub fn load(env: &Env) -> Config {
        let mut errors = Vec::new();
        let targets =
            target::parse(&string(env, "LLMSCOPE_TARGETS").unwrap_or_else(|| "[]".into()));
        let defaults = Settings::default();
        let tests = string(env, "LLMSCOPE_TESTS").unwrap_or(defaults.tests.clone());
        if let Err(e) = tests.parse::<llmscope_spc::RuleSet>() {
            errors.push(ConfigError::new("*", "LLMSCOPE_TESTS", e.to_string()));
        }
        let alerts = Settings {
            baseline: number(env, "LLMSCOPE_BASELINE", defaults.baseline, &mut errors),
            p_subgroup: number(env, "LLMSCOPE_P_SUBGROUP", defaults.p_subgroup, &mut errors),
            tests,
            ..defaults
        };
        let token = string(env, "LLMSCOPE_TOKEN").unwrap_or_default();
        if token.is_empty() {
            errors.push(ConfigError::new(
                "*",
                "LLMSCOPE_TOKEN",
                "is not set: every endpoint but /health refuses (`wrangler secret put LLMSCOPE_TOKEN`)",
            ));
        }
        Config {
            targets,
            token,
            origins: string(env, "LLMSCOPE_ORIGINS").unwrap_or_default(),
            webhook: string(env, "LLMSCOPE_WEBHOOK").filter(|w| !w.is_empty()),
            alerts,
            errors,
        }
    }

    /// Every problem: Worker-wide, per target, and targets whose secrets are missing.
    pub fn problems(&self, env: &Env) -> Vec<ConfigError> {
        let mut all = self.errors.clone();
        all.extend(self.targets.errors.iter().cloned());
        for t in &self.targets.valid {
            if let Err(e) = request_check(env, t) {
                all.push(e);
            }
        }
        all
    }
}

/// Builds a target's request without sending it: catches missing secrets.
fn request_check(env: &Env, t: &Target) -> Result<(), ConfigError> {
    let secrets = EnvSecrets(env);
    let ctx = provider::Context {
        target: t,
        prompt: &t.prompt,
        now_ms: 0,
        secrets: &secrets,
    };
    provider::adapter(t.provider).request(&ctx).map(|_| ())
}

/// The values of every secret a target uses and the Worker's token: what must never appear in
/// a response or a log.
pub fn secret_values(env: &Env, t: &Target) -> Vec<String> {
    [
        t.key_secret.as_deref(),
        t.access_key_secret.as_deref(),
        t.secret_key_secret.as_deref(),
        t.session_token_secret.as_deref(),
        Some("LLMSCOPE_TOKEN"),
    ]
    .into_iter()
    .flatten()
    .filter_map(|name| string(env, name))
    .filter(|v| !v.is_empty())
    .collect()
}
