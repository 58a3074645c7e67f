//! Why a Modbus register was refused or a device could not be reached. The config check puts
//! the key in front (`register[2].address: ...`); a connect failure becomes the reason its
//! streams turn stale, so every message names the address or port and the way out.

use super::plan::Kind;

/// A Modbus config or connection problem.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ModbusError {
    /// A register address beyond the protocol's 16 bits, usually a 1-based manual number.
    #[error(
        "{address} is beyond 65535: addresses are 0-based protocol addresses; {}",
        address_hint(*address, *kind)
    )]
    Address {
        /// The configured address.
        address: u32,
        /// The register's kind, for the manual-number hint.
        kind: Kind,
    },
    /// The TCP connection failed (refused, unreachable, name unknown).
    #[error("cannot connect to {address}: {}", super::link::describe_io(cause))]
    Connect {
        /// `host:port`.
        address: String,
        /// What the system said.
        cause: std::io::Error,
    },
    /// The TCP connection was not set up within the timeout.
    #[error("cannot connect to {address}: no answer after {ms} ms")]
    NoAnswer {
        /// `host:port`.
        address: String,
        /// The timeout.
        ms: u128,
    },
    /// The serial port could not be opened (missing, busy, no permission).
    #[error("cannot open serial port {path}: {cause}")]
    Serial {
        /// The device path.
        path: String,
        /// What the serial driver said.
        cause: tokio_serial::Error,
    },
}

/// The likely fix for an address beyond 65535: the 0-based address of a 1-based "4xxxx" or
/// "4xxxxx" register number when it is one, else how such numbers translate.
fn address_hint(address: u32, kind: Kind) -> String {
    let (prefix, name) = match kind {
        Kind::Coil => (0, "coil"),
        Kind::Discrete => (100_001, "discrete input"),
        Kind::Input => (300_001, "input register"),
        Kind::Holding => (400_001, "holding register"),
    };
    if prefix > 0 && (prefix..prefix + 65536).contains(&address) {
        format!(
            "if {address} is the 1-based {name} number of a device manual, write address = {}",
            address - prefix
        )
    } else {
        "holding register 40001 (or 400001) of a device manual is address 0".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_value_and_the_fix() {
        let address = |address, kind| ModbusError::Address { address, kind }.to_string();
        assert_eq!(
            address(400_001, Kind::Holding),
            "400001 is beyond 65535: addresses are 0-based protocol addresses; if 400001 is \
             the 1-based holding register number of a device manual, write address = 0"
        );
        assert_eq!(
            address(70_000, Kind::Coil),
            "70000 is beyond 65535: addresses are 0-based protocol addresses; holding register \
             40001 (or 400001) of a device manual is address 0"
        );
        let refused = ModbusError::Connect {
            address: "127.0.0.1:5020".into(),
            cause: std::io::ErrorKind::ConnectionRefused.into(),
        };
        assert_eq!(
            refused.to_string(),
            "cannot connect to 127.0.0.1:5020: connection refused"
        );
        let silent = ModbusError::NoAnswer {
            address: "plc:502".into(),
            ms: 500,
        };
        assert_eq!(
            silent.to_string(),
            "cannot connect to plc:502: no answer after 500 ms"
        );
    }
}
