//! The broker connection shared by the MQTT source and the republisher (`publish.rs`): parsing
//! and checking a broker URL (`mqtt://host:port` or `mqtts://host:port`), rumqttc options with
//! the settings both need, TLS from the system's CA bundle, client ids and reconnect backoff.
//!
//! TLS trusts the CA certificates in the file named by `SSL_CERT_FILE`, or else the first
//! system bundle found (Debian, RHEL, Alpine, SUSE locations). A broker with a private CA is
//! reached by pointing `SSL_CERT_FILE` at a bundle that includes it. Client certificates are not
//! supported.

use rumqttc::tokio_rustls::rustls;
use rumqttc::{MqttOptions, Transport};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Why a broker URL was refused, or TLS could not be set up for it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BrokerError {
    /// Another scheme, or none.
    #[error("'{0}' must start with mqtt:// or mqtts://, e.g. mqtt://127.0.0.1:1883")]
    Scheme(String),
    /// `user:password@` in the URL.
    #[error("'{0}': put credentials in `username` and `password`, not in the URL")]
    Credentials(String),
    /// A path, query or fragment.
    #[error("'{0}' has a path or query: write only mqtt://host:port")]
    Path(String),
    /// `[` without `]`.
    #[error("'{0}': an IPv6 address needs its closing ']'")]
    Unclosed(String),
    /// Brackets around something else.
    #[error("'{url}': '{address}' is not an IPv6 address")]
    Ipv6 {
        /// The URL.
        url: String,
        /// What the brackets hold.
        address: String,
    },
    /// Text after `]` that is not `:port`.
    #[error("'{0}': expected ':port' after ']'")]
    AfterBracket(String),
    /// No host.
    #[error("'{0}' has no host")]
    NoHost(String),
    /// A host with characters no host name has.
    #[error("'{url}': '{host}' is not a host name or address")]
    Host {
        /// The URL.
        url: String,
        /// The host.
        host: String,
    },
    /// A port outside 1 to 65535.
    #[error("'{url}': '{port}' is not a port (1 to 65535)")]
    Port {
        /// The URL.
        url: String,
        /// The port as written.
        port: String,
    },
    /// `mqtts://` without a CA bundle to trust.
    #[error("no CA certificate bundle found for mqtts: set SSL_CERT_FILE to one")]
    NoBundle,
    /// The CA bundle cannot be read.
    #[error("cannot read {}: {cause}", path.display())]
    Bundle {
        /// The bundle.
        path: PathBuf,
        /// What the PEM reader said.
        cause: rustls::pki_types::pem::Error,
    },
    /// The CA bundle has no certificate rustls can use.
    #[error("{} holds no usable CA certificate", path.display())]
    NoCertificate {
        /// The bundle.
        path: PathBuf,
    },
    /// rustls refused the TLS settings.
    #[error("TLS: {0}")]
    Tls(rustls::Error),
}

/// A checked broker address.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Broker {
    /// `mqtts://`.
    pub tls: bool,
    /// Host name or address (IPv6 in brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
}

/// Largest message accepted from the broker. rumqttc's default (10 KiB) would drop the
/// connection on a larger JSON payload; a message this big is still read and then reported.
const MAX_INCOMING: usize = 1 << 20;
/// Largest message sent (the republisher's samples are ~100 bytes; subscribe packets are small).
const MAX_OUTGOING: usize = 64 << 10;

/// Parses `mqtt://host[:port]` (default port 1883) or `mqtts://host[:port]` (8883). Anything
/// else in the URL (a path, query or credentials) is rejected: credentials have their own keys.
pub(crate) fn parse(url: &str) -> Result<Broker, BrokerError> {
    let (tls, rest) = if let Some(rest) = url.strip_prefix("mqtt://") {
        (false, rest)
    } else if let Some(rest) = url.strip_prefix("mqtts://") {
        (true, rest)
    } else {
        return Err(BrokerError::Scheme(url.into()));
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains('@') {
        return Err(BrokerError::Credentials(url.into()));
    }
    if rest.contains(['/', '?', '#']) {
        return Err(BrokerError::Path(url.into()));
    }
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (addr, after) = v6
            .split_once(']')
            .ok_or_else(|| BrokerError::Unclosed(url.into()))?;
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(BrokerError::Ipv6 {
                url: url.into(),
                address: addr.into(),
            });
        }
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| BrokerError::AfterBracket(url.into()))?,
            ),
        };
        (format!("[{addr}]"), port)
    } else {
        match rest.split_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (rest.to_string(), None),
        }
    };
    if host.is_empty() {
        return Err(BrokerError::NoHost(url.into()));
    }
    if !host.starts_with('[')
        && !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
    {
        return Err(BrokerError::Host {
            url: url.into(),
            host,
        });
    }
    let port = match port {
        None => {
            if tls {
                8883
            } else {
                1883
            }
        }
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| BrokerError::Port {
                url: url.into(),
                port: p.into(),
            })?,
    };
    Ok(Broker { tls, host, port })
}

impl std::fmt::Display for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.tls { "mqtts" } else { "mqtt" };
        write!(f, "{scheme}://{}:{}", self.host, self.port)
    }
}

impl Broker {
    /// rumqttc options for this broker: a clean session (subscriptions are renewed on every
    /// connect), 1 MiB incoming messages, TLS when `mqtts://`.
    pub(crate) fn options(
        &self,
        client_id: &str,
        keep_alive: Duration,
    ) -> Result<MqttOptions, BrokerError> {
        let mut options = MqttOptions::new(client_id, self.host.clone(), self.port);
        options.set_clean_session(true);
        options.set_keep_alive(keep_alive.max(Duration::from_secs(1)));
        options.set_max_packet_size(MAX_INCOMING, MAX_OUTGOING);
        if self.tls {
            options.set_transport(Transport::tls_with_config(tls_config()?.into()));
        }
        Ok(options)
    }
}

/// A rustls client config trusting the system's (or `SSL_CERT_FILE`'s) CA certificates.
fn tls_config() -> Result<rustls::ClientConfig, BrokerError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    const BUNDLES: [&str; 4] = [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/cert.pem",
        "/etc/ssl/ca-bundle.pem",
    ];
    let path = match std::env::var_os("SSL_CERT_FILE") {
        Some(p) => PathBuf::from(p),
        None => BUNDLES
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .ok_or(BrokerError::NoBundle)?,
    };
    let mut roots = rustls::RootCertStore::empty();
    let certs = match CertificateDer::pem_file_iter(&path) {
        Ok(certs) => certs,
        Err(cause) => return Err(BrokerError::Bundle { path, cause }),
    };
    for cert in certs.flatten() {
        // A certificate rustls cannot use is skipped, as browsers do with odd bundle entries.
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        return Err(BrokerError::NoCertificate { path });
    }
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(BrokerError::Tls)?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// A client id unique to this process: `llmscope-{role}-{8 hex}` (at most 23 characters of
/// letters, digits and '-', which every MQTT 3.1.1 broker must accept).
pub(crate) fn client_id(role: &str) -> String {
    let role: String = role
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(5)
        .collect();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let unique = nanos ^ std::process::id().rotate_left(16);
    format!("llmscope-{role}-{unique:08x}")
}

/// Reconnect delays: 0.5 s doubling to 15 s, back to 0.5 s once connected.
#[derive(Debug)]
pub(crate) struct Backoff {
    next: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(500);
    const MAX: Duration = Duration::from_secs(15);

    pub(crate) fn new() -> Backoff {
        Backoff { next: Self::FIRST }
    }

    /// The delay before the next attempt.
    pub(crate) fn next(&mut self) -> Duration {
        let now = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        now
    }

    /// Connected: start again from the shortest delay.
    pub(crate) fn reset(&mut self) {
        self.next = Self::FIRST;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_urls() {
        let parse = |url| parse(url).map_err(|e| e.to_string());
        let b = |tls, host: &str, port| Broker {
            tls,
            host: host.into(),
            port,
        };
        assert_eq!(
            parse("mqtt://127.0.0.1:1883"),
            Ok(b(false, "127.0.0.1", 1883))
        );
        assert_eq!(
            parse("mqtt://broker.local"),
            Ok(b(false, "broker.local", 1883))
        );
        assert_eq!(
            parse("mqtts://broker.local/"),
            Ok(b(true, "broker.local", 8883))
        );
        assert_eq!(parse("mqtt://[::1]:1884"), Ok(b(false, "[::1]", 1884)));
        assert_eq!(
            parse("mqtt://[::1]:1884").map(|b| b.to_string()),
            Ok("mqtt://[::1]:1884".into())
        );
        for bad in [
            "tcp://h:1",
            "127.0.0.1:1883",
            "mqtt://",
            "mqtt://:1883",
            "mqtt://h:0",
            "mqtt://h:70000",
            "mqtt://h:x",
            "mqtt://u:p@h",
            "mqtt://h/x",
            "mqtt://h?a=b",
            "mqtt://[::1",
            "mqtt://[zz]:1",
            "mqtt://h h",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse("mqtt://h:x"),
            Err("'mqtt://h:x': 'x' is not a port (1 to 65535)".into())
        );
        {}
    }

    #[test]
    fn client_ids_fit_every_broker() {
        let id = client_id("line2 vibration");
        assert!(
            id.len() <= 23 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "{id}"
        );
    }

    #[test]
    fn backoff_doubles_to_a_limit() {
        let mut b = Backoff::new();
        let delays: Vec<_> = (0..8).map(|_| b.next().as_millis()).collect();
        assert_eq!(delays, [500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]);
        b.reset();
        assert_eq!(b.next().as_millis(), 500);
    }
}
