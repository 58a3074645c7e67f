//! The shim's config file (`llmscope-shim run --config plant.toml`). The keys are a fixed
//! contract (README, "Config"). Every mistake is rejected at start, naming the file, the line and
//! the key: unknown keys and wrong types by serde, the rest by each section's `validate`.

use crate::source::{modbus, mqtt, opcua, SourceConfig};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Declares [`Config`] with one `Vec` field per source section and [`Config::sources`], which
/// lists them: the one line a new source adds (`key: its Config type`).
macro_rules! sources {
    ($($(#[$doc:meta])* $key:ident: $config:ty,)*) => {
        /// The whole file.
        #[derive(Clone, Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct Config {
            /// The WebSocket server.
            #[serde(default)]
            pub server: ServerConfig,
            $($(#[$doc])* #[serde(default)] pub $key: Vec<$config>,)*
            /// Republishing every sample to an MQTT broker.
            pub publish: Option<crate::publish::Config>,
        }

        impl Config {
            /// Every source section, as its key (`modbus`), its index among that key's
            /// sections, and its config.
            pub fn sources(&self) -> Vec<(&'static str, usize, &dyn SourceConfig)> {
                let mut all: Vec<(&'static str, usize, &dyn SourceConfig)> = Vec::new();
                $(for (i, c) in self.$key.iter().enumerate() {
                    all.push((stringify!($key), i, c));
                })*
                all
            }
        }

        /// The source section keys, in config order.
        const SOURCE_KEYS: &[&str] = &[$(stringify!($key)),*];
    };
}

sources! {
    /// Modbus TCP and RTU devices.
    modbus: modbus::Config,
    /// MQTT brokers.
    mqtt: mqtt::Config,
    /// OPC-UA servers.
    opcua: opcua::Config,
}

/// `[server]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on; a non-loopback address requires a token.
    pub listen: String,
    /// Shared token clients must present; optional on loopback.
    pub token: Option<String>,
    /// Browser origins allowed to connect (the Origin header); none means same-host only.
    pub origins: Vec<String>,
    /// Host names (optionally with a port) the server answers to besides loopback names and
    /// the listen address: the names a browser uses to reach it from other machines.
    pub allowed_hosts: Vec<String>,
    /// WebSocket clients at once, authenticated or not; the next gets HTTP 503.
    pub max_connections: usize,
    /// Samples kept for replay to reconnecting clients.
    pub buffer: usize,
    /// Serve the dashboard's static site from this folder on the same port.
    pub site: Option<PathBuf>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:9750".into(),
            token: None,
            origins: vec![
                "http://127.0.0.1:8080".into(),
                "http://localhost:8080".into(),
            ],
            allowed_hosts: Vec::new(),
            max_connections: crate::server::DEFAULT_MAX_CONNECTIONS,
            buffer: 100_000,
            site: None,
        }
    }
}

/// A value serde accepted but a section rejects: the key (a path within the section, e.g.
/// `register[2].order`) and what is wrong with it.
#[derive(Clone, Debug, PartialEq)]
pub struct Invalid {
    /// Path of the key within its section.
    pub key: String,
    /// What is wrong, and what would be right.
    pub message: String,
}

impl Invalid {
    /// A rejected key.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Invalid {
        Invalid {
            key: key.into(),
            message: message.into(),
        }
    }
}

impl ServerConfig {
    /// The Host values the server answers to besides loopback names: the listen address
    /// (unless it is 0.0.0.0 or `[::]`, which no browser can use) and `allowed_hosts`.
    pub fn hosts(&self) -> Vec<String> {
        let listen = self
            .listen
            .parse::<std::net::SocketAddr>()
            .ok()
            .filter(|a| !a.ip().is_unspecified())
            .map(|a| match a.ip() {
                std::net::IpAddr::V6(ip) => format!("[{ip}]"),
                ip => ip.to_string(),
            });
        listen
            .into_iter()
            .chain(self.allowed_hosts.iter().cloned())
            .collect()
    }

    fn validate(&self) -> Result<(), Invalid> {
        let addr: std::net::SocketAddr = self.listen.parse().map_err(|_| {
            Invalid::new(
                "listen",
                format!("'{}' is not an address like 127.0.0.1:9750", self.listen),
            )
        })?;
        if !addr.ip().is_loopback() && self.token.as_deref().is_none_or(str::is_empty) {
            return Err(Invalid::new(
                "listen",
                format!("{addr} is reachable from other machines, so a token is required: set server.token (--token for simulate)"),
            ));
        }
        for (i, host) in self.allowed_hosts.iter().enumerate() {
            if host.is_empty() || host.contains(['/', ' ', '@']) {
                return Err(Invalid::new(
                    format!("allowed_hosts[{i}]"),
                    format!("'{host}' is not a host name: write the name as the browser's address bar shows it, without scheme or path, e.g. \"plant-pc.local\" or \"192.168.1.20:9750\""),
                ));
            }
        }
        if self.max_connections == 0 {
            return Err(Invalid::new("max_connections", "must be at least 1"));
        }
        if self.buffer == 0 {
            return Err(Invalid::new("buffer", "must be at least 1 sample"));
        }
        if let Some(site) = &self.site {
            if !site.join("index.html").is_file() {
                return Err(Invalid::new(
                    "site",
                    format!(
                        "{} has no index.html: point it at a built site (`cargo xtask site` \
                         writes the dashboard's into static/)",
                        site.display()
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Why a config was refused. Every message starts with the file (and the line, when known)
/// and says what to change.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: cannot read: {cause}")]
    Read {
        /// The file.
        file: String,
        /// What the system said.
        cause: std::io::Error,
    },
    /// Not TOML, an unknown key or a wrong type (serde's words).
    #[error("{file}: {}{message}", at_line(*line))]
    Syntax {
        /// The file.
        file: String,
        /// The line, when the parser knows it.
        line: Option<usize>,
        /// What is wrong, with the line's text.
        message: String,
    },
    /// A value a section's `validate` rejected.
    #[error("{file}:{} {key}: {message}", line_tag(*line))]
    Invalid {
        /// The file.
        file: String,
        /// The key's line, when the config came from text.
        line: Option<usize>,
        /// The key's path, e.g. `modbus[0].register[2].order`.
        key: String,
        /// What is wrong, and what would be right.
        message: String,
    },
    /// No source section at all.
    #[error(
        "{file}: no sources: add a {sections} section (see gateway-shim/src/source/*/sample.toml)"
    )]
    NoSources {
        /// The file.
        file: String,
        /// The source sections one could add, e.g. `[[modbus]], [[mqtt]] or [[opcua]]`.
        sections: String,
    },
}

/// ` line N:` for a known line, else nothing.
fn line_tag(line: Option<usize>) -> String {
    line.map_or(String::new(), |n| format!(" line {n}:"))
}

/// `line N: ` for a known line, else nothing.
fn at_line(line: Option<usize>) -> String {
    line.map_or(String::new(), |n| format!("line {n}: "))
}

/// Reads and checks a config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|cause| ConfigError::Read {
        file: path.display().to_string(),
        cause,
    })?;
    parse(&text, &path.display().to_string())
}

/// Parses and checks config text; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
    let config: Config = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start));
        let what = e.message().trim().to_string();
        let message = match line {
            Some(n) => format!(
                "{what} (in `{}`)",
                text.lines().nth(n - 1).unwrap_or("").trim()
            ),
            None => what,
        };
        ConfigError::Syntax {
            file: file.to_string(),
            line,
            message,
        }
    })?;
    check(&config, file, Some(text))?;
    Ok(config)
}

/// Checks a config serde accepted (or one built in code, as `simulate`'s, with no `text`):
/// every section's `validate`, and that there is a source. `file` names it in errors; with the
/// `text` it came from, errors also give the line.
pub fn check(config: &Config, file: &str, text: Option<&str>) -> Result<(), ConfigError> {
    let at = |section: &str, index: Option<usize>, invalid: Invalid| {
        let path = match index {
            Some(i) => format!("{section}[{i}].{}", invalid.key),
            None => format!("{section}.{}", invalid.key),
        };
        ConfigError::Invalid {
            file: file.to_string(),
            line: text.and_then(|text| locate(text, &path)),
            key: path,
            message: invalid.message,
        }
    };
    config
        .server
        .validate()
        .map_err(|e| at("server", None, e))?;
    for (key, i, section) in config.sources() {
        section.validate().map_err(|e| at(key, Some(i), e))?;
    }
    if let Some(p) = &config.publish {
        p.validate().map_err(|e| at("publish", None, e))?;
    }
    if config.sources().is_empty() {
        let sections: Vec<String> = SOURCE_KEYS.iter().map(|k| format!("[[{k}]]")).collect();
        let (last, rest) = sections
            .split_last()
            .map_or(("", &[][..]), |(l, r)| (l.as_str(), r));
        return Err(ConfigError::NoSources {
            file: file.to_string(),
            sections: format!("{} or {last}", rest.join(", ")),
        });
    }
    Ok(())
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line where a key path like `modbus[0].register[2].order` is written, found with a
/// span-keeping parse of the same text.
fn locate(text: &str, path: &str) -> Option<usize> {
    let doc: toml_edit::Document<String> = toml_edit::Document::parse(text.to_string()).ok()?;
    let mut item: &toml_edit::Item = doc.as_item();
    for part in path.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        item = item.get(name)?;
        if let Some(i) = index {
            item = item.get(i)?;
        }
    }
    let span = item.span()?;
    Some(line_of(text, span.start))
}
