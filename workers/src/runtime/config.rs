//! The Worker's settings, read from its variables and secrets on every request (they are
//! cheap to read, and a redeploy changes them).

use crate::alert::Settings;
use crate::notify::destination::{self, Destinations};
use crate::provider::{self, Secrets};
use crate::target::{self, ConfigError, Target, Targets};
use llmscope_protocol::prices::PriceTable;
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
    /// Predictive alerts: `LLMSCOPE_FORECAST_HORIZON` and `LLMSCOPE_FORECAST_PROBABILITY`.
    pub forecast: crate::forecast::Settings,
    /// `LLMSCOPE_WEBHOOK_TIMEOUT_MS`: how long one delivery attempt may wait for an answer.
    pub webhook_timeout_ms: u64,
    /// `LLMSCOPE_RETENTION_DAYS`: results and alerts older than this are deleted by the cron.
    pub retention_days: u64,
    /// `LLMSCOPE_AUDIT_DAYS`: audit lines older than this are deleted by the cron.
    pub audit_days: u64,
    /// The shipped price table overlaid with `LLMSCOPE_PRICES`; the shipped one alone when
    /// `LLMSCOPE_PRICES` is bad (the problem is reported, the probes go on).
    pub prices: PriceTable,
    /// `LLMSCOPE_DIGEST=daily`: the cron sends the daily digest to the destinations that take it.
    pub digest: bool,
    /// Where alerts go: `LLMSCOPE_DESTINATIONS` (or D1's, after a `PUT /destinations`), and
    /// `LLMSCOPE_WEBHOOK`'s destination.
    pub destinations: Destinations,
    /// The sender's name: `LLMSCOPE_BRAND`'s `name`, default LLMscope.
    pub brand: String,
    /// `LLMSCOPE_DASHBOARD_URL`: the messages' `{link}`.
    pub link: Option<String>,
    /// Problems with the Worker-wide variables.
    pub errors: Vec<ConfigError>,
}

/// Default `LLMSCOPE_WEBHOOK_TIMEOUT_MS`.
const WEBHOOK_TIMEOUT_MS: u64 = 10_000;
/// Default `LLMSCOPE_RETENTION_DAYS`.
const RETENTION_DAYS: u64 = 90;
/// Default `LLMSCOPE_AUDIT_DAYS`: a year.
const AUDIT_DAYS: u64 = 365;
/// The longest retention accepted: 100 years.
const MAX_RETENTION_DAYS: u64 = 36_500;

/// A positive whole number variable, at most `max`; a bad value is reported and the default
/// used.
fn number(env: &Env, name: &str, default: u64, max: u64, errors: &mut Vec<ConfigError>) -> u64 {
    match string(env, name) {
        None => default,
        Some(v) => match v.trim().parse::<u64>() {
            Ok(n) if (1..=max).contains(&n) => n,
            _ => {
                errors.push(ConfigError::new(
                    "*",
                    name,
                    format!("must be a whole number from 1 to {max}, not {v:?}"),
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
        let mut count =
            |name, default: usize| number(env, name, default as u64, 100_000, &mut errors) as usize;
        let alerts = Settings {
            baseline: count("LLMSCOPE_BASELINE", defaults.baseline),
            p_subgroup: count("LLMSCOPE_P_SUBGROUP", defaults.p_subgroup),
            tests,
            ..defaults
        };
        let (forecast, problems) = crate::forecast::Settings::from_vars(
            string(env, "LLMSCOPE_FORECAST_HORIZON").as_deref(),
            string(env, "LLMSCOPE_FORECAST_PROBABILITY").as_deref(),
        );
        errors.extend(problems);
        let forecast = crate::forecast::Settings {
            clean_run: alerts.clean_run,
            ..forecast
        };
        let webhook_timeout_ms = number(
            env,
            "LLMSCOPE_WEBHOOK_TIMEOUT_MS",
            WEBHOOK_TIMEOUT_MS,
            crate::target::MAX_TIMEOUT_MS,
            &mut errors,
        );
        let retention_days = number(
            env,
            "LLMSCOPE_RETENTION_DAYS",
            RETENTION_DAYS,
            MAX_RETENTION_DAYS,
            &mut errors,
        );
        let audit_days = number(
            env,
            "LLMSCOPE_AUDIT_DAYS",
            AUDIT_DAYS,
            MAX_RETENTION_DAYS,
            &mut errors,
        );
        let (prices, problem) =
            crate::measure::price_table(string(env, "LLMSCOPE_PRICES").as_deref());
        errors.extend(problem);
        let webhook = string(env, "LLMSCOPE_WEBHOOK").filter(|w| !w.is_empty());
        let digest = crate::digest::enabled(string(env, "LLMSCOPE_DIGEST").as_deref())
            .unwrap_or_else(|message| {
                errors.push(ConfigError::new("*", "LLMSCOPE_DIGEST", message));
                false
            });
        let token = string(env, "LLMSCOPE_TOKEN").unwrap_or_default();
        if token.is_empty() {
            errors.push(ConfigError::new(
                "*",
                "LLMSCOPE_TOKEN",
                "is not set: every endpoint but /health refuses (`wrangler secret put LLMSCOPE_TOKEN`)",
            ));
        }
        let (brand, problem) = crate::brand::name(string(env, "LLMSCOPE_BRAND").as_deref());
        errors.extend(problem.map(|m| ConfigError::new("*", "LLMSCOPE_BRAND", m)));
        let destinations = destination::parse(
            &string(env, "LLMSCOPE_DESTINATIONS").unwrap_or_else(|| "[]".into()),
        );
        Config {
            destinations: destination::with_legacy(destinations, webhook.is_some()),
            brand,
            link: string(env, "LLMSCOPE_DASHBOARD_URL").filter(|l| !l.is_empty()),
            targets,
            token,
            origins: string(env, "LLMSCOPE_ORIGINS").unwrap_or_default(),
            webhook,
            alerts,
            forecast,
            webhook_timeout_ms,
            retention_days,
            audit_days,
            prices,
            digest,
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
        all.extend(self.destination_problems(env));
        all
    }

    /// The destinations' problems: the list's, and secrets a destination names that the
    /// Worker does not have.
    fn destination_problems(&self, env: &Env) -> Vec<ConfigError> {
        let field = "LLMSCOPE_DESTINATIONS";
        let mut all: Vec<ConfigError> = self
            .destinations
            .errors
            .iter()
            .map(|e| ConfigError::new("*", field, e.clone()))
            .collect();
        let missing = |name: &str| string(env, name).is_none_or(|v| v.is_empty());
        for d in &self.destinations.valid {
            for (key, s) in d.secrets().filter(|(_, s)| missing(s)) {
                all.push(ConfigError::new("*", field, format!("destination {}: {key}: the secret {s} is not set (wrangler secret put {s}); nothing is sent there", d.name)));
            }
        }
        if self.digest && !self.destinations.valid.iter().any(|d| d.digest) {
            all.push(ConfigError::new("*", "LLMSCOPE_DIGEST", "is daily but no destination takes the digest: set LLMSCOPE_WEBHOOK, or give a destination \"digest\": true"));
        }
        let buttons = self
            .destinations
            .valid
            .iter()
            .any(|d| d.kind == destination::Kind::Slack && d.interactive);
        if buttons && missing(SLACK_SIGNING_SECRET) {
            all.push(ConfigError::new("*", SLACK_SIGNING_SECRET, "is not set: Slack messages carry Acknowledge and Set cause, and POST /slack/actions refuses every press without it (the Slack app's Basic Information, Signing Secret)"));
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

/// The secret Slack's interaction requests are verified with.
pub const SLACK_SIGNING_SECRET: &str = "SLACK_SIGNING_SECRET";

/// For tests and development only: a URL prefix a Slack interaction's `response_url` may
/// have besides Slack's own host (a local stand-in for Slack).
pub const DEV_RESPONSE_PREFIX: &str = "LLMSCOPE_DEV_SLACK_RESPONSE_PREFIX";

/// The Worker's own secrets: the token, the webhook URL (whoever has it can post to the
/// channel) and Slack's signing secret.
const WORKER_SECRETS: [&str; 3] = ["LLMSCOPE_TOKEN", "LLMSCOPE_WEBHOOK", SLACK_SIGNING_SECRET];

/// The values of every secret a target uses and the Worker's own: what must never appear in
/// a response or a log.
pub fn secret_values(env: &Env, t: &Target) -> Vec<String> {
    values(
        env,
        [
            t.key_secret.as_deref(),
            t.access_key_secret.as_deref(),
            t.secret_key_secret.as_deref(),
            t.session_token_secret.as_deref(),
        ]
        .into_iter()
        .flatten()
        .chain(WORKER_SECRETS),
    )
}

/// The values of every secret of every target and of the Worker.
pub fn all_secret_values(env: &Env, config: &Config) -> Vec<String> {
    let mut all: Vec<String> = config
        .targets
        .valid
        .iter()
        .flat_map(|t| secret_values(env, t))
        .collect();
    all.extend(values(env, WORKER_SECRETS.into_iter()));
    all.extend(destination_secret_values(env, &config.destinations));
    all.sort();
    all.dedup();
    all
}

fn values<'a>(env: &Env, names: impl Iterator<Item = &'a str>) -> Vec<String> {
    names
        .filter_map(|name| string(env, name))
        .filter(|v| !v.is_empty())
        .collect()
}

/// The values of the secrets destinations name (their URLs and signing keys).
pub fn destination_secret_values(env: &Env, list: &Destinations) -> Vec<String> {
    let names = list
        .valid
        .iter()
        .flat_map(|d| d.secrets().map(|(_, name)| name));
    values(env, names)
}
