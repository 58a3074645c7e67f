//! Why an OPC-UA endpoint or node id was refused, or a session could not be set up. The config
//! check puts the key in front (`endpoint: ...`); a setup failure becomes the reason the
//! streams turn stale, so every message says what was asked for and what the server offers.

use ::opcua::crypto::SecurityPolicy as UaPolicy;
use ::opcua::types::MessageSecurityMode;

/// How an endpoint URL looks.
const EXAMPLE: &str = "like opc.tcp://192.168.0.10:4840/";

/// An OPC-UA config or session problem.
#[derive(Debug, thiserror::Error)]
pub(super) enum UaError {
    /// Another scheme, or none.
    #[error("'{0}' is not an OPC-UA TCP endpoint: it must start with opc.tcp://, {EXAMPLE}")]
    Scheme(String),
    /// White space in the URL.
    #[error("'{0}' contains spaces")]
    Spaces(String),
    /// `[` without `]`.
    #[error("'{0}' has an unclosed [ in its host")]
    Unclosed(String),
    /// No host.
    #[error("'{0}' has no host, {EXAMPLE}")]
    NoHost(String),
    /// A host with characters no host has.
    #[error("'{url}' has an invalid host '{host}', {EXAMPLE}")]
    Host {
        /// The URL.
        url: String,
        /// The host.
        host: String,
    },
    /// No port.
    #[error("'{0}' has no port (the usual one is 4840), {EXAMPLE}")]
    NoPort(String),
    /// A port outside 1 to 65535.
    #[error("'{url}' has an invalid port '{port}', {EXAMPLE}")]
    Port {
        /// The URL.
        url: String,
        /// The port as written.
        port: String,
    },
    /// A node id in none of the standard forms.
    #[error(
        "'{0}' is not a node id: use ns=<index>;s=<name>, ns=<index>;i=<number>, \
         ns=<index>;g=<guid> or ns=<index>;b=<base64>, e.g. ns=2;s=Line1.Diameter"
    )]
    NodeId(String),
    /// The client could not be built (its task failed).
    #[error("opcua: client setup failed: {0}")]
    SetupTask(tokio::task::JoinError),
    /// The client could not be built (the crate's reasons: keys, PKI folder...).
    #[error("opcua: client setup failed: {}", .0.join("; "))]
    Setup(Vec<String>),
    /// The server offers no endpoint with the configured security and login.
    #[error(
        "opcua: the server has no endpoint with security {policy}/{mode:?} and {} login; it \
         offers: {}",
        if *user_name { "user name" } else { "anonymous" },
        if offered.is_empty() { "nothing".to_string() } else { offered.join("; ") }
    )]
    NoEndpoint {
        /// The configured policy.
        policy: UaPolicy,
        /// The configured mode.
        mode: MessageSecurityMode,
        /// A user name login is configured (else anonymous).
        user_name: bool,
        /// What the server offers, `policy/mode (logins)` each.
        offered: Vec<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_was_asked_and_what_is_offered() {
        let none = UaError::NoEndpoint {
            policy: UaPolicy::None,
            mode: MessageSecurityMode::None,
            user_name: false,
            offered: vec!["Basic256Sha256/SignAndEncrypt (UserName)".into()],
        };
        assert_eq!(
            none.to_string(),
            "opcua: the server has no endpoint with security None/None and anonymous login; it \
             offers: Basic256Sha256/SignAndEncrypt (UserName)"
        );
        assert_eq!(
            UaError::NoPort("opc.tcp://plc".into()).to_string(),
            "'opc.tcp://plc' has no port (the usual one is 4840), like opc.tcp://192.168.0.10:4840/"
        );
        assert_eq!(
            UaError::Setup(vec!["no pki dir".into(), "no key".into()]).to_string(),
            "opcua: client setup failed: no pki dir; no key"
        );
    }
}
