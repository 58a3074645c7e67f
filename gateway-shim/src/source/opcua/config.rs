//! The `[[opcua]]` section: its keys (a fixed contract, sample in `sample.toml`), endpoint and
//! node id syntax, and every check serde cannot make, each naming the key it rejects.

use super::error::UaError;
use crate::config::Invalid;
use crate::source::{Source, SourceConfig};
use llmscope_protocol::StreamInfo;
use serde::Deserialize;
use std::collections::HashSet;
use std::path::PathBuf;
use std::str::FromStr;

/// Publishing interval when the config names none.
pub const DEFAULT_PUBLISHING_INTERVAL_MS: u64 = 1000;
pub(super) const MIN_INTERVAL_MS: u64 = 10;
const MAX_INTERVAL_MS: u64 = 3_600_000;

/// A `[[opcua]]` section: one server and the variables read from it.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The section's name (used in malformed-data reports and the PKI folder).
    pub name: String,
    /// `opc.tcp://host:port/path` of the server.
    pub endpoint: String,
    /// `None` (default) or `Basic256Sha256`.
    #[serde(default)]
    pub security_policy: SecurityPolicy,
    /// `None`, `Sign` or `SignAndEncrypt`; defaults to `None` with policy `None` and to
    /// `SignAndEncrypt` with `Basic256Sha256`.
    pub security_mode: Option<SecurityMode>,
    /// User name for user/password login; anonymous login without it.
    pub username: Option<String>,
    /// Password for `username`.
    pub password: Option<String>,
    /// How often the server sends the changes it collected, in ms (default 1000).
    #[serde(default = "default_publishing_interval_ms")]
    pub publishing_interval_ms: u64,
    /// How often the server samples each variable, in ms; defaults to the publishing interval.
    /// When shorter, the server queues the samples between two publishes so none is lost.
    pub sampling_interval_ms: Option<u64>,
    /// Folder of the client's certificate and of trusted/rejected server certificates, used by
    /// `Basic256Sha256`; defaults to `<temp dir>/llmscope-shim/opcua-pki/<name>`.
    pub pki_dir: Option<PathBuf>,
    /// Trust the server's certificate on first sight instead of waiting for it to be moved from
    /// `<pki_dir>/rejected` to `<pki_dir>/trusted` (default false).
    #[serde(default)]
    pub trust_server_certs: bool,
    /// The variables, one stream each.
    #[serde(rename = "node", default)]
    pub nodes: Vec<NodeConfig>,
}

/// A `[[opcua.node]]`: one variable, read as one stream.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// Node id in the standard string form: `ns=2;s=Line1.Diameter`, `ns=2;i=1001`,
    /// `ns=2;g=<guid>` or `ns=2;b=<base64>` (`ns=0;` may be left out).
    pub node_id: String,
    /// The stream's name, e.g. `oven/diameter`.
    pub stream: String,
    /// Unit of the values, e.g. `mm`.
    pub unit: Option<String>,
    /// Lower spec limit.
    pub lsl: Option<f64>,
    /// Upper spec limit.
    pub usl: Option<f64>,
}

/// OPC-UA security policies the source supports.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum SecurityPolicy {
    /// No signing, no encryption.
    #[default]
    None,
    /// RSA-2048 certificates, SHA-256 signatures, AES-256 encryption.
    Basic256Sha256,
}

/// OPC-UA message security modes.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub enum SecurityMode {
    /// Messages are neither signed nor encrypted (only with policy `None`).
    None,
    /// Messages are signed.
    Sign,
    /// Messages are signed and encrypted.
    SignAndEncrypt,
}

fn default_publishing_interval_ms() -> u64 {
    DEFAULT_PUBLISHING_INTERVAL_MS
}

impl std::fmt::Debug for Config {
    /// Like a derived `Debug`, without the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("name", &self.name)
            .field("endpoint", &self.endpoint)
            .field("security_policy", &self.security_policy)
            .field("security_mode", &self.security_mode)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("publishing_interval_ms", &self.publishing_interval_ms)
            .field("sampling_interval_ms", &self.sampling_interval_ms)
            .field("pki_dir", &self.pki_dir)
            .field("trust_server_certs", &self.trust_server_certs)
            .field("nodes", &self.nodes)
            .finish()
    }
}

impl SourceConfig for Config {
    /// Checks the values serde cannot (ranges, combinations); errors name the key.
    fn validate(&self) -> Result<(), Invalid> {
        if self.name.trim().is_empty() {
            return Err(Invalid::new("name", "must not be empty"));
        }
        parse_endpoint(&self.endpoint).map_err(|e| Invalid::new("endpoint", e.to_string()))?;
        match (self.security_policy, self.security_mode) {
            (SecurityPolicy::None, Some(SecurityMode::Sign | SecurityMode::SignAndEncrypt)) => {
                return Err(Invalid::new(
                    "security_mode",
                    "signing and encryption need a security policy: set security_policy = \"Basic256Sha256\" or security_mode = \"None\"",
                ));
            }
            (SecurityPolicy::Basic256Sha256, Some(SecurityMode::None)) => {
                return Err(Invalid::new(
                    "security_mode",
                    "policy Basic256Sha256 needs security_mode \"Sign\" or \"SignAndEncrypt\" (or security_policy = \"None\")",
                ));
            }
            _ => {}
        }
        match (&self.username, &self.password) {
            (Some(user), Some(_)) if user.is_empty() => {
                return Err(Invalid::new("username", "must not be empty"));
            }
            (Some(_), None) => {
                return Err(Invalid::new(
                    "username",
                    "needs a password: set password as well",
                ));
            }
            (None, Some(_)) => {
                return Err(Invalid::new(
                    "password",
                    "needs a username: set username as well",
                ));
            }
            _ => {}
        }
        if !(MIN_INTERVAL_MS..=MAX_INTERVAL_MS).contains(&self.publishing_interval_ms) {
            return Err(Invalid::new(
                "publishing_interval_ms",
                format!("must be between {MIN_INTERVAL_MS} and {MAX_INTERVAL_MS} ms"),
            ));
        }
        if let Some(s) = self.sampling_interval_ms {
            if !(MIN_INTERVAL_MS..=self.publishing_interval_ms).contains(&s) {
                return Err(Invalid::new(
                    "sampling_interval_ms",
                    format!(
                        "must be between {MIN_INTERVAL_MS} ms and the publishing interval ({} ms)",
                        self.publishing_interval_ms
                    ),
                ));
            }
        }
        if self.nodes.is_empty() {
            return Err(Invalid::new(
                "node",
                "no variables: add an [[opcua.node]] with node_id and stream",
            ));
        }
        let mut streams = HashSet::new();
        for (i, node) in self.nodes.iter().enumerate() {
            let key = |k: &str| format!("node[{i}].{k}");
            parse_node_id(&node.node_id)
                .map_err(|e| Invalid::new(key("node_id"), e.to_string()))?;
            if node.stream.trim().is_empty() {
                return Err(Invalid::new(key("stream"), "must not be empty"));
            }
            if !streams.insert(node.stream.as_str()) {
                return Err(Invalid::new(
                    key("stream"),
                    format!(
                        "'{}' is already used by another node of this section",
                        node.stream
                    ),
                ));
            }
            for (k, v) in [("lsl", node.lsl), ("usl", node.usl)] {
                if v.is_some_and(|v| !v.is_finite()) {
                    return Err(Invalid::new(key(k), "must be a finite number"));
                }
            }
            if let (Some(lsl), Some(usl)) = (node.lsl, node.usl) {
                if lsl >= usl {
                    return Err(Invalid::new(
                        key("usl"),
                        format!("must be above lsl ({lsl})"),
                    ));
                }
            }
        }
        Ok(())
    }

    fn build(&self) -> Box<dyn Source> {
        Box::new(super::OpcuaSource::new(self.clone()))
    }
}

impl Config {
    /// The streams of the section's nodes, in order.
    pub(super) fn stream_infos(&self) -> Vec<StreamInfo> {
        self.nodes
            .iter()
            .map(|n| StreamInfo {
                id: n.stream.clone(),
                unit: n.unit.clone(),
                lsl: n.lsl,
                usl: n.usl,
            })
            .collect()
    }

    /// The security mode in effect (the default depends on the policy).
    pub(super) fn effective_mode(&self) -> SecurityMode {
        self.security_mode.unwrap_or(match self.security_policy {
            SecurityPolicy::None => SecurityMode::None,
            SecurityPolicy::Basic256Sha256 => SecurityMode::SignAndEncrypt,
        })
    }
}

/// An `opc.tcp://host:port[/path]` endpoint, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Endpoint {
    pub(super) host: String,
    pub(super) port: u16,
    /// The path without its leading and trailing slashes; empty for `/`.
    pub(super) path: String,
}

/// Checks an endpoint URL; the error says what is wrong.
pub(super) fn parse_endpoint(url: &str) -> Result<Endpoint, UaError> {
    let rest = url
        .strip_prefix("opc.tcp://")
        .ok_or_else(|| UaError::Scheme(url.into()))?;
    if url.chars().any(char::is_whitespace) {
        return Err(UaError::Spaces(url.into()));
    }
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| UaError::Unclosed(url.into()))?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(UaError::NoHost(url.into()));
    }
    if host.contains(['@', '?', '#', ':']) && !authority.starts_with('[') {
        return Err(UaError::Host {
            url: url.into(),
            host: host.into(),
        });
    }
    let port = port.ok_or_else(|| UaError::NoPort(url.into()))?;
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| UaError::Port {
            url: url.into(),
            port: port.into(),
        })?;
    Ok(Endpoint {
        host: host.to_string(),
        port,
        path: path.trim_matches('/').to_string(),
    })
}

/// Parses a node id in the standard string form; the error says which forms are accepted.
pub(super) fn parse_node_id(text: &str) -> Result<::opcua::types::NodeId, UaError> {
    ::opcua::types::NodeId::from_str(text.trim()).map_err(|_| UaError::NodeId(text.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let e = parse_endpoint("opc.tcp://127.0.0.1:4840/").unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.path.as_str()),
            ("127.0.0.1", 4840, "")
        );
        let e = parse_endpoint("opc.tcp://plc-7:48010/UA/Server/").unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.path.as_str()),
            ("plc-7", 48010, "UA/Server")
        );
        let e = parse_endpoint("opc.tcp://[::1]:4840").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("::1", 4840));
        for bad in [
            "http://127.0.0.1:4840/",
            "opc.tcp://127.0.0.1/",
            "opc.tcp://:4840/",
            "opc.tcp://host:0/",
            "opc.tcp://host:99999/",
            "opc.tcp://host:48x0/",
            "opc.tcp://[::1/",
            "opc.tcp://a b:4840/",
        ] {
            assert!(parse_endpoint(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn node_ids() {
        for good in [
            "ns=2;s=Line1.Diameter",
            "ns=2;i=1001",
            "i=2258",
            "ns=3;g=72962B91-FA75-4AE6-8D28-B404DC7DAF63",
            "ns=1;b=M/RbKBsRVkePCePcx24oRA==",
        ] {
            assert!(parse_node_id(good).is_ok(), "{good}");
        }
        for bad in [
            "Line1.Diameter",
            "ns=2;x=1",
            "ns=2;i=abc",
            "ns=99999;s=a",
            "ns=2;s=",
        ] {
            assert!(parse_node_id(bad).is_err(), "{bad}");
        }
    }
}
