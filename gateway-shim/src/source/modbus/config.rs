//! The `[[modbus]]` section: its keys (a fixed contract, sample in `sample.toml`) and every
//! check serde cannot make, each naming the key it rejects.

use super::decode::{ByteOrder, DataType};
use super::error::ModbusError;
use super::link::{Parity, SerialSettings, Target};
use super::plan::Kind;
use crate::config::Invalid;
use crate::source::{Source, SourceConfig};
use serde::Deserialize;
use std::collections::HashMap;

/// A `[[modbus]]` section: one device.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The section's name (names the device in malformed-data reports).
    pub name: String,
    /// Modbus TCP: `host:port` of the device or gateway, e.g. `192.168.1.10:502`.
    pub address: Option<String>,
    /// Modbus RTU: the serial device, e.g. `/dev/ttyUSB0`. Exactly one of `address` and
    /// `serial`.
    pub serial: Option<String>,
    /// Serial only: bits per second (default 9600).
    pub baud: Option<u32>,
    /// Serial only: `N`, `E` or `O` (default `N`, as most devices ship; Modbus over Serial
    /// Line V1.02 §2.5.1 names `E` as the standard's default).
    pub parity: Option<Parity>,
    /// Serial only: 7 or 8 (default 8).
    pub data_bits: Option<u8>,
    /// Serial only: 1 or 2 (default 1).
    pub stop_bits: Option<u8>,
    /// The unit (slave) id: 0 to 255 on TCP, 1 to 247 on serial (default 1).
    #[serde(default = "default_unit")]
    pub unit: i64,
    /// How often to read every register, in milliseconds (default 1000).
    #[serde(default = "default_interval_ms")]
    pub interval_ms: u64,
    /// How long to wait for each answer and each connection attempt (default 500).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// How many times a request is sent again after a timeout or exception 06, "server device
    /// busy" (default 2).
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Unconfigured addresses one merged read may span to join two registers (default 0: only
    /// adjacent registers are merged, since reading an address the device lacks fails the
    /// whole request).
    #[serde(default)]
    pub max_gap: u16,
    /// The values to read.
    #[serde(default)]
    pub register: Vec<RegisterConfig>,
}

/// A `[[modbus.register]]`: one value, one stream.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterConfig {
    /// The stream's name, e.g. `press1/temperature`.
    pub stream: String,
    /// `coil`, `discrete`, `input` or `holding`.
    pub kind: Kind,
    /// 0-based protocol address of the (first) bit or register.
    pub address: u32,
    /// The value type; default `bool` for coils and discrete inputs, `u16` for registers.
    #[serde(rename = "type")]
    pub data_type: Option<DataType>,
    /// Byte and word order of 32- and 64-bit types (default `ABCD`, big-endian).
    pub order: Option<ByteOrder>,
    /// `value = raw * scale + offset` (default 1).
    #[serde(default = "default_scale")]
    pub scale: f64,
    /// `value = raw * scale + offset` (default 0).
    #[serde(default)]
    pub offset: f64,
    /// The engineering unit, e.g. `°C`.
    pub unit: Option<String>,
    /// Lower spec limit.
    pub lsl: Option<f64>,
    /// Upper spec limit.
    pub usl: Option<f64>,
}

fn default_unit() -> i64 {
    1
}
fn default_interval_ms() -> u64 {
    1000
}
fn default_timeout_ms() -> u64 {
    500
}
fn default_retries() -> u32 {
    2
}
fn default_scale() -> f64 {
    1.0
}

/// The serial line's defaults: 9600 baud, 8 data bits, no parity, 1 stop bit.
const DEFAULT_BAUD: u32 = 9600;
/// Most retries a section may ask for; more only delays noticing a dead device.
pub(super) const MAX_RETRIES: u32 = 10;
/// Longest poll interval: a day.
pub(super) const MAX_INTERVAL_MS: u64 = 86_400_000;
/// Longest wait for an answer: a minute.
pub(super) const MAX_TIMEOUT_MS: u64 = 60_000;

impl RegisterConfig {
    /// The declared type, or the default for the kind.
    pub fn resolved_type(&self) -> DataType {
        self.data_type.unwrap_or(if self.kind.is_bits() {
            DataType::Bool
        } else {
            DataType::U16
        })
    }

    /// Bits or registers the value spans.
    pub(super) fn width(&self) -> u16 {
        self.resolved_type().registers().max(1)
    }
}

impl SourceConfig for Config {
    /// Checks the values serde cannot (ranges, combinations); errors name the key.
    fn validate(&self) -> Result<(), Invalid> {
        if self.name.trim().is_empty() {
            return Err(Invalid::new("name", "must not be empty"));
        }
        match (&self.address, &self.serial) {
            (Some(_), Some(_)) => {
                return Err(Invalid::new(
                    "serial",
                    "set either address (Modbus TCP) or serial (Modbus RTU), not both",
                ))
            }
            (None, None) => {
                return Err(Invalid::new(
                    "address",
                    "missing: set address = \"host:port\" for Modbus TCP or serial = \"/dev/ttyUSB0\" for Modbus RTU",
                ))
            }
            (Some(address), None) => {
                check_tcp_address(address)?;
                let serial_only = [
                    ("baud", self.baud.is_some()),
                    ("parity", self.parity.is_some()),
                    ("data_bits", self.data_bits.is_some()),
                    ("stop_bits", self.stop_bits.is_some()),
                ];
                if let Some((key, _)) = serial_only.iter().find(|(_, set)| *set) {
                    return Err(Invalid::new(*key, "only applies to a serial device (serial = ...), not to Modbus TCP"));
                }
                if !(0..=255).contains(&self.unit) {
                    return Err(Invalid::new("unit", format!("{} is out of range: Modbus TCP unit ids are 0 to 255", self.unit)));
                }
            }
            (None, Some(path)) => {
                if path.trim().is_empty() {
                    return Err(Invalid::new("serial", "must name a serial device, e.g. /dev/ttyUSB0"));
                }
                if self.baud == Some(0) {
                    return Err(Invalid::new("baud", "must be above 0, e.g. 9600 or 19200"));
                }
                if let Some(bits) = self.data_bits.filter(|b| !matches!(b, 7 | 8)) {
                    return Err(Invalid::new("data_bits", format!("{bits} is not supported: use 7 or 8")));
                }
                if let Some(bits) = self.stop_bits.filter(|b| !matches!(b, 1 | 2)) {
                    return Err(Invalid::new("stop_bits", format!("{bits} is not supported: use 1 or 2")));
                }
                // Modbus over Serial Line V1.02 §2.2: 0 is broadcast (no answer), 248 to 255
                // are reserved; devices have addresses 1 to 247.
                if !(1..=247).contains(&self.unit) {
                    return Err(Invalid::new(
                        "unit",
                        format!("{} is out of range: serial (RTU) unit ids are 1 to 247", self.unit),
                    ));
                }
            }
        }
        if !(1..=MAX_INTERVAL_MS).contains(&self.interval_ms) {
            return Err(Invalid::new(
                "interval_ms",
                format!("must be 1 to {MAX_INTERVAL_MS} (a day)"),
            ));
        }
        if !(1..=MAX_TIMEOUT_MS).contains(&self.timeout_ms) {
            return Err(Invalid::new(
                "timeout_ms",
                format!("must be 1 to {MAX_TIMEOUT_MS} (a minute)"),
            ));
        }
        if self.retries > MAX_RETRIES {
            return Err(Invalid::new(
                "retries",
                format!("{} is too many: use 0 to {MAX_RETRIES}", self.retries),
            ));
        }
        if self.register.is_empty() {
            return Err(Invalid::new(
                "register",
                "no registers: add at least one [[modbus.register]]",
            ));
        }
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, r) in self.register.iter().enumerate() {
            let at = |key: &str| format!("register[{i}].{key}");
            if r.stream.trim().is_empty() {
                return Err(Invalid::new(at("stream"), "must not be empty"));
            }
            if let Some(first) = seen.insert(r.stream.as_str(), i) {
                return Err(Invalid::new(
                    at("stream"),
                    format!("'{}' is already the stream of register[{first}]: stream names must be unique", r.stream),
                ));
            }
            check_register_address(r).map_err(|e| Invalid::new(at("address"), e.to_string()))?;
            let ty = r.resolved_type();
            if r.kind.is_bits() && ty != DataType::Bool {
                return Err(Invalid::new(
                    at("type"),
                    format!(
                        "kind = \"{}\" is a single bit: use type = \"bool\" (or leave type out)",
                        r.kind.name()
                    ),
                ));
            }
            if !r.kind.is_bits() && ty == DataType::Bool {
                return Err(Invalid::new(
                    at("type"),
                    format!(
                        "bool needs kind = \"coil\" or \"discrete\"; {} register is 16 bits: use u16 (or i16, ...)",
                        if r.kind == Kind::Input { "an input" } else { "a holding" }
                    ),
                ));
            }
            if r.order.is_some() && ty.registers() < 2 {
                return Err(Invalid::new(
                    at("order"),
                    format!(
                        "only applies to values spanning several registers (i32, u32, f32, i64, u64, f64); {} is not one",
                        ty.name()
                    ),
                ));
            }
            let last = r.address + u32::from(r.width()) - 1;
            if last > 65535 {
                return Err(Invalid::new(
                    at("address"),
                    format!(
                        "{} at {} spans up to address {last}, past the last address 65535",
                        ty.name(),
                        r.address
                    ),
                ));
            }
            for (key, value) in [
                ("scale", Some(r.scale)),
                ("offset", Some(r.offset)),
                ("lsl", r.lsl),
                ("usl", r.usl),
            ] {
                if value.is_some_and(|v| !v.is_finite()) {
                    return Err(Invalid::new(at(key), "must be a finite number"));
                }
            }
            if r.scale == 0.0 {
                return Err(Invalid::new(
                    at("scale"),
                    "0 would make every value equal to offset",
                ));
            }
            if let (Some(lsl), Some(usl)) = (r.lsl, r.usl) {
                if lsl >= usl {
                    return Err(Invalid::new(
                        at("usl"),
                        format!("must be above lsl ({lsl})"),
                    ));
                }
            }
        }
        Ok(())
    }

    fn build(&self) -> Box<dyn Source> {
        Box::new(super::ModbusSource::new(self.clone()))
    }
}

impl Config {
    /// Where the device is.
    pub(super) fn target(&self) -> Target {
        match (&self.address, &self.serial) {
            (_, Some(path)) if self.address.is_none() => Target::Serial(SerialSettings {
                path: path.clone(),
                baud: self.baud.unwrap_or(DEFAULT_BAUD),
                parity: self.parity.unwrap_or(Parity::N),
                data_bits: self.data_bits.unwrap_or(8),
                stop_bits: self.stop_bits.unwrap_or(1),
            }),
            (address, _) => Target::Tcp(address.clone().unwrap_or_default()),
        }
    }
}

/// Accepts `host:port` (a name, an IPv4 address or a bracketed IPv6 address).
fn check_tcp_address(address: &str) -> Result<(), Invalid> {
    let bad = || {
        Invalid::new(
            "address",
            format!("'{address}' is not host:port, e.g. \"192.168.1.10:502\" (Modbus TCP's port is usually 502)"),
        )
    };
    if address.parse::<std::net::SocketAddr>().is_ok() {
        return Ok(());
    }
    let (host, port) = address.rsplit_once(':').ok_or_else(bad)?;
    let host_ok = !host.is_empty() && !host.contains(':') && !host.contains(char::is_whitespace);
    if !host_ok || port.parse::<u16>().map_or(true, |p| p == 0) {
        return Err(bad());
    }
    Ok(())
}

/// Refuses addresses beyond the 16-bit protocol range, pointing out the usual mix-up with
/// 1-based "4xxxx"/"4xxxxx" register numbers.
fn check_register_address(r: &RegisterConfig) -> Result<(), ModbusError> {
    if r.address <= 65535 {
        return Ok(());
    }
    Err(ModbusError::Address {
        address: r.address,
        kind: r.kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Config {
        toml::from_str(text).unwrap()
    }

    const BASE: &str = "name = \"d\"\naddress = \"127.0.0.1:5020\"\n";

    fn invalid(text: &str) -> Invalid {
        parse(text).validate().unwrap_err()
    }

    #[test]
    fn mistakes_name_their_key() {
        let reg = "[[register]]\nstream = \"a\"\nkind = \"holding\"\naddress = 0\n";
        assert_eq!(invalid(&format!("{BASE}unit = 256\n{reg}")).key, "unit");
        assert_eq!(
            invalid(&format!(
                "name = \"d\"\nserial = \"/dev/x\"\nunit = 0\n{reg}"
            ))
            .key,
            "unit"
        );
        assert_eq!(
            invalid(&format!(
                "name = \"d\"\nserial = \"/dev/x\"\nstop_bits = 3\n{reg}"
            ))
            .key,
            "stop_bits"
        );
        assert_eq!(
            invalid(&format!(
                "name = \"d\"\nserial = \"/dev/x\"\ndata_bits = 5\n{reg}"
            ))
            .key,
            "data_bits"
        );
        assert_eq!(
            invalid(&format!(
                "name = \"d\"\nserial = \"/dev/x\"\nbaud = 0\n{reg}"
            ))
            .key,
            "baud"
        );
        assert_eq!(invalid(&format!("{BASE}baud = 9600\n{reg}")).key, "baud");
        assert_eq!(
            invalid(&format!("{BASE}serial = \"/dev/x\"\n{reg}")).key,
            "serial"
        );
        assert_eq!(invalid(&format!("name = \"d\"\n{reg}")).key, "address");
        assert_eq!(
            invalid(&format!("name = \"d\"\naddress = \"plc\"\n{reg}")).key,
            "address"
        );
        assert_eq!(
            invalid(&format!("{BASE}interval_ms = 0\n{reg}")).key,
            "interval_ms"
        );
        assert_eq!(
            invalid(&format!("{BASE}timeout_ms = 0\n{reg}")).key,
            "timeout_ms"
        );
        assert_eq!(invalid(BASE).key, "register");
        assert_eq!(
            invalid(&format!("{BASE}timeout_ms = 60001\n{reg}")).key,
            "timeout_ms"
        );
        assert_eq!(
            invalid(&format!("{BASE}retries = 11\n{reg}")).key,
            "retries"
        );
        assert_eq!(
            invalid(&format!("{BASE}{reg}type = \"bool\"\n")).key,
            "register[0].type"
        );
        assert_eq!(
            invalid(&format!("{BASE}{reg}order = \"DCBA\"\n")).key,
            "register[0].order"
        );
        assert_eq!(
            invalid(&format!("{BASE}{reg}{reg}")).key,
            "register[1].stream"
        );
        assert_eq!(
            invalid(&format!("{BASE}{reg}scale = 0\n")).key,
            "register[0].scale"
        );
        assert_eq!(
            invalid(&format!("{BASE}{reg}lsl = 5\nusl = 1\n")).key,
            "register[0].usl"
        );
        let coil = "[[register]]\nstream = \"c\"\nkind = \"coil\"\naddress = 0\ntype = \"u16\"\n";
        assert_eq!(invalid(&format!("{BASE}{coil}")).key, "register[0].type");
        let wide =
            "[[register]]\nstream = \"w\"\nkind = \"input\"\naddress = 65533\ntype = \"u64\"\n";
        assert_eq!(invalid(&format!("{BASE}{wide}")).key, "register[0].address");
        let manual = "[[register]]\nstream = \"m\"\nkind = \"holding\"\naddress = 400101\n";
        let e = invalid(&format!("{BASE}{manual}"));
        assert_eq!(e.key, "register[0].address");
        assert!(e.message.contains("address = 100"), "{}", e.message);
    }

    #[test]
    fn addresses_in_range_and_hosts_by_name_are_fine() {
        let top =
            "[[register]]\nstream = \"t\"\nkind = \"holding\"\naddress = 65532\ntype = \"f64\"\n";
        parse(&format!(
            "name = \"d\"\naddress = \"plc-7.local:502\"\nunit = 255\n{top}"
        ))
        .validate()
        .unwrap();
        parse(&format!(
            "name = \"d\"\naddress = \"[::1]:502\"\nunit = 0\n{top}"
        ))
        .validate()
        .unwrap();
        let serial = format!("name = \"d\"\nserial = \"/dev/ttyUSB0\"\nbaud = 19200\nparity = \"E\"\nunit = 247\n{top}");
        let c = parse(&serial);
        c.validate().unwrap();
        assert_eq!(
            c.target(),
            Target::Serial(SerialSettings {
                path: "/dev/ttyUSB0".into(),
                baud: 19200,
                parity: Parity::E,
                data_bits: 8,
                stop_bits: 1
            })
        );
    }

    #[test]
    fn bad_enum_values_and_unknown_keys_are_refused_by_serde() {
        let reg = "[[register]]\nstream = \"a\"\nkind = \"holding\"\naddress = 0\n";
        assert!(toml::from_str::<Config>(&format!("{BASE}{reg}order = \"ABDC\"\n")).is_err());
        assert!(toml::from_str::<Config>(&format!("{BASE}{reg}type = \"float\"\n")).is_err());
        assert!(toml::from_str::<Config>(&format!("{BASE}{reg}kind2 = 1\n")).is_err());
        assert!(toml::from_str::<Config>(&format!("{BASE}parity = \"X\"\n{reg}")).is_err());
        assert!(toml::from_str::<Config>(&format!("{BASE}colour = 1\n{reg}")).is_err());
    }
}
