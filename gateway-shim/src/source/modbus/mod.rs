//! The Modbus source: polls one Modbus TCP or Modbus RTU device (one `[[modbus]]` section) and
//! turns its registers into streams. Sample config: docs/sources/modbus.toml.
//!
//! Why polling: Modbus is strictly request/response (Modbus Application Protocol V1.1b3 §4.1:
//! the client initiates every transaction), so the only way to follow a value is to read it
//! every `interval_ms`. Each poll sends as few requests as the protocol limits allow
//! ([`plan`]), decodes every value with its declared type and byte order ([`decode`]) and
//! reports what went wrong per stream: an exception response (§7) makes the streams of that
//! request stale with the code and its meaning, a device that does not answer makes all its
//! streams stale, and the first good answer afterwards makes them live again. Connections
//! are handled by [`link`].
//!
//! Addresses are the 0-based protocol addresses that go on the wire (§4.4: "In a MODBUS PDU
//! each data is addressed from 0 to 65535"), not the 1-based "4xxxx" register numbers of many
//! device manuals: holding register 40001 is `kind = "holding"`, `address = 0`.

pub mod decode;
pub mod link;
pub mod plan;

use crate::config::Invalid;
use crate::source::{now_ms, Emitter, Source, SourceFuture};
use decode::{ByteOrder, DataType};
use link::{FailureKind, Link, Outcome, Parity, SerialSettings, Target};
use llmscope_protocol::StreamInfo;
use plan::{Item, Kind, Read};
use serde::Deserialize;
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

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
const MAX_RETRIES: u32 = 10;
/// Longest poll interval: a day.
const MAX_INTERVAL_MS: u64 = 86_400_000;
/// Longest wait for an answer: a minute.
const MAX_TIMEOUT_MS: u64 = 60_000;

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
    fn width(&self) -> u16 {
        self.resolved_type().registers().max(1)
    }
}

impl Config {
    /// Checks the values serde cannot (ranges, combinations); errors name the key.
    pub fn validate(&self) -> Result<(), Invalid> {
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
            check_register_address(r).map_err(|m| Invalid::new(at("address"), m))?;
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

    /// Where the device is.
    fn target(&self) -> Target {
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

    /// The running source.
    pub fn build(self) -> Box<dyn super::Source> {
        Box::new(ModbusSource::new(self))
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
fn check_register_address(r: &RegisterConfig) -> Result<(), String> {
    if r.address <= 65535 {
        return Ok(());
    }
    let (prefix, name) = match r.kind {
        Kind::Coil => (0, "coil"),
        Kind::Discrete => (100_001, "discrete input"),
        Kind::Input => (300_001, "input register"),
        Kind::Holding => (400_001, "holding register"),
    };
    let hint = if prefix > 0 && (prefix..prefix + 65536).contains(&r.address) {
        format!(
            "if {} is the 1-based {name} number of a device manual, write address = {}",
            r.address,
            r.address - prefix
        )
    } else {
        "holding register 40001 (or 400001) of a device manual is address 0".to_string()
    };
    Err(format!(
        "{} is beyond 65535: addresses are 0-based protocol addresses; {hint}",
        r.address
    ))
}

/// One configured value, ready to decode.
#[derive(Clone, Debug)]
struct Register {
    stream: String,
    data_type: DataType,
    order: ByteOrder,
    scale: f64,
    offset: f64,
}

/// The source of one `[[modbus]]` section.
pub struct ModbusSource {
    name: String,
    target: Target,
    unit: u8,
    interval: Duration,
    timeout: Duration,
    retries: u32,
    streams: Vec<StreamInfo>,
    registers: Vec<Register>,
    items: Vec<Item>,
    plan: Vec<Read>,
}

impl ModbusSource {
    fn new(config: Config) -> ModbusSource {
        let target = config.target();
        let streams = config
            .register
            .iter()
            .map(|r| StreamInfo {
                id: r.stream.clone(),
                unit: r.unit.clone(),
                lsl: r.lsl,
                usl: r.usl,
            })
            .collect();
        let registers = config
            .register
            .iter()
            .map(|r| Register {
                stream: r.stream.clone(),
                data_type: r.resolved_type(),
                order: r.order.unwrap_or_default(),
                scale: r.scale,
                offset: r.offset,
            })
            .collect();
        // `validate` keeps every register within 0..=65535; clamp anyway rather than panic.
        let items: Vec<Item> = config
            .register
            .iter()
            .map(|r| Item {
                kind: r.kind,
                address: u16::try_from(r.address).unwrap_or(u16::MAX),
                width: r.width(),
            })
            .collect();
        let plan = plan::plan(&items, config.max_gap);
        ModbusSource {
            name: config.name,
            target,
            unit: u8::try_from(config.unit).unwrap_or(1),
            interval: Duration::from_millis(config.interval_ms.clamp(1, MAX_INTERVAL_MS)),
            timeout: Duration::from_millis(config.timeout_ms.clamp(1, MAX_TIMEOUT_MS)),
            retries: config.retries.min(MAX_RETRIES),
            streams,
            registers,
            items,
            plan,
        }
    }

    /// The read requests one poll sends, in order.
    #[cfg(test)]
    fn plan(&self) -> &[Read] {
        &self.plan
    }
}

impl Source for ModbusSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn streams(&self) -> Vec<StreamInfo> {
        self.streams.clone()
    }

    fn run(self: Box<Self>, emit: Emitter, shutdown: CancellationToken) -> SourceFuture {
        Box::pin(async move {
            let poller = Poller::new(*self, emit);
            // Every await of the poller is a cancellation point, so shutdown is immediate.
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => {}
                _ = poller.run() => {}
            }
        })
    }
}

/// First wait before reconnecting to a device that failed.
const BACKOFF_START: Duration = Duration::from_millis(250);
/// Longest wait between reconnection attempts.
const BACKOFF_MAX: Duration = Duration::from_secs(10);
/// Pause before resending a request refused with exception 06, "server device busy".
const BUSY_PAUSE: Duration = Duration::from_millis(100);

/// What a stream last reported.
#[derive(Clone, Debug, PartialEq)]
enum Health {
    /// Nothing yet (the hub takes a stream as live until told otherwise).
    Unknown,
    Live,
    Stale(String),
}

/// The polling loop of one device.
struct Poller {
    source: ModbusSource,
    link: Link,
    emit: Emitter,
    health: Vec<Health>,
    /// The merged plan, restored after the device was down (a replaced device may accept the
    /// merged reads that its predecessor refused).
    merged: Vec<Read>,
}

impl Poller {
    fn new(source: ModbusSource, emit: Emitter) -> Poller {
        let link = Link::new(source.target.clone(), source.unit, source.timeout);
        let health = vec![Health::Unknown; source.registers.len()];
        let merged = source.plan.clone();
        Poller {
            source,
            link,
            emit,
            health,
            merged,
        }
    }

    /// Polls every `interval` forever, backing off while the device is down.
    async fn run(mut self) {
        let mut ticker = tokio::time::interval(self.source.interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut backoff = BACKOFF_START;
        loop {
            ticker.tick().await;
            if self.poll().await {
                backoff = BACKOFF_START;
            } else {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }

    /// Reads every planned request once; false when the device could not be reached.
    async fn poll(&mut self) -> bool {
        let mut k = 0;
        while let Some(read) = self.source.plan.get(k).cloned() {
            match self.read_with_retries(&read).await {
                Outcome::Registers(words) => self.deliver_registers(&read, &words).await,
                Outcome::Bits(bits) => self.deliver_bits(&read, &bits).await,
                // A merged read refused for an address or quantity may be refused because of
                // one register: read its registers one by one from now on, starting now.
                Outcome::Exception(0x02 | 0x03) if read.items.len() > 1 => {
                    let singles = plan::split(&read, &self.source.items);
                    self.source.plan.splice(k..=k, singles);
                    continue;
                }
                Outcome::Exception(code) => {
                    let reason = format!(
                        "modbus exception {code} ({}) reading {}",
                        link::exception_meaning(code),
                        read.describe()
                    );
                    for &i in &read.items {
                        self.stale(i, &reason).await;
                    }
                }
                Outcome::Malformed(detail) => {
                    self.emit.malformed(&self.source.name, detail.clone()).await;
                    for &i in &read.items {
                        self.stale(i, &detail).await;
                    }
                }
                Outcome::Failed(_, reason) => {
                    for i in 0..self.health.len() {
                        self.stale(i, &reason).await;
                    }
                    self.link.reset();
                    self.source.plan = self.merged.clone();
                    return false;
                }
            }
            k += 1;
        }
        true
    }

    /// Sends `read`, again after a timeout, a broken connection or exception 06 (server
    /// device busy, §7: "the client should retransmit the message later"), up to `retries`
    /// more times. A failed connection is not retried here: the poller backs off instead.
    async fn read_with_retries(&mut self, read: &Read) -> Outcome {
        let mut attempt = 0;
        loop {
            let outcome = self.link.read(read).await;
            let again = match &outcome {
                Outcome::Exception(link::EXCEPTION_BUSY) => true,
                Outcome::Failed(kind, _) => *kind != FailureKind::Connect,
                _ => false,
            };
            if !again || attempt >= self.source.retries {
                return outcome;
            }
            if matches!(outcome, Outcome::Exception(_)) {
                tokio::time::sleep(BUSY_PAUSE).await;
            }
            attempt += 1;
        }
    }

    async fn deliver_registers(&mut self, read: &Read, words: &[u16]) {
        let t = now_ms();
        for &i in &read.items {
            let (Some(item), Some(reg)) = (self.source.items.get(i), self.source.registers.get(i))
            else {
                continue;
            };
            let from = usize::from(item.address.saturating_sub(read.start));
            let raw = words
                .get(from..from + usize::from(item.width))
                .and_then(|w| decode::decode_registers(w, reg.data_type, reg.order));
            match raw {
                Some(raw) => self.value(i, t, raw).await,
                None => {
                    self.stale(
                        i,
                        &format!(
                            "no {} value in the answer to {}",
                            reg.data_type.name(),
                            read.describe()
                        ),
                    )
                    .await
                }
            }
        }
    }

    async fn deliver_bits(&mut self, read: &Read, bits: &[bool]) {
        let t = now_ms();
        for &i in &read.items {
            let Some(item) = self.source.items.get(i) else {
                continue;
            };
            match bits.get(usize::from(item.address.saturating_sub(read.start))) {
                Some(&bit) => self.value(i, t, decode::decode_bit(bit)).await,
                None => {
                    self.stale(i, &format!("no bit in the answer to {}", read.describe()))
                        .await
                }
            }
        }
    }

    /// Reports the value of register `i`, live again if it was stale. A value that is not a
    /// finite number (a float register holding NaN, as some devices do for a failed sensor)
    /// is not a reading: the stream goes stale and says so.
    async fn value(&mut self, i: usize, t: i64, raw: f64) {
        let Some(reg) = self.source.registers.get(i) else {
            return;
        };
        let value = decode::scaled(raw, reg.scale, reg.offset);
        if !value.is_finite() {
            let reason = format!(
                "the device holds {raw} for this {}, not a finite number",
                reg.data_type.name()
            );
            self.stale(i, &reason).await;
            return;
        }
        let stream = reg.stream.clone();
        if matches!(self.health[i], Health::Stale(_)) {
            self.emit.live(&stream).await;
        }
        self.health[i] = Health::Live;
        self.emit.reading(&stream, t, value).await;
    }

    /// Marks register `i` stale for `reason`, reporting it only when something changed.
    async fn stale(&mut self, i: usize, reason: &str) {
        let Some(reg) = self.source.registers.get(i) else {
            return;
        };
        if self.health[i] != Health::Stale(reason.to_string()) {
            self.emit.stale(&reg.stream, reason).await;
            self.health[i] = Health::Stale(reason.to_string());
        }
    }
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
    fn a_full_section_validates_with_defaults() {
        let c = parse(&format!(
            "{BASE}[[register]]\nstream = \"a\"\nkind = \"holding\"\naddress = 0\ntype = \"f32\"\norder = \"CDAB\"\nlsl = 60\nusl = 80\n\
             [[register]]\nstream = \"b\"\nkind = \"coil\"\naddress = 3\n"
        ));
        c.validate().unwrap();
        assert_eq!(
            (c.unit, c.interval_ms, c.timeout_ms, c.retries, c.max_gap),
            (1, 1000, 500, 2, 0)
        );
        assert_eq!(c.register[1].resolved_type(), DataType::Bool);
        assert_eq!(c.register[0].lsl, Some(60.0));
        let source = ModbusSource::new(c);
        assert_eq!(
            source.streams()[0],
            StreamInfo {
                id: "a".into(),
                unit: None,
                lsl: Some(60.0),
                usl: Some(80.0)
            }
        );
        assert_eq!(source.plan().len(), 2);
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

    #[tokio::test]
    async fn an_unreachable_device_goes_stale_and_shutdown_is_prompt() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let c = parse(&format!(
            "name = \"d\"\naddress = \"127.0.0.1:{port}\"\ninterval_ms = 100\n[[register]]\nstream = \"a\"\nkind = \"input\"\naddress = 1\n"
        ));
        c.validate().unwrap();
        let (emit, mut rx) = Emitter::channel(16);
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(c.build().run(emit, shutdown.clone()));
        let event = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .unwrap()
            .unwrap();
        match event {
            crate::source::Event::Status {
                stream,
                state,
                reason,
            } => {
                assert_eq!(stream, "a");
                assert_eq!(state, llmscope_protocol::StreamState::Stale);
                assert!(reason.unwrap_or_default().contains("connection refused"));
            }
            other => panic!("{other:?}"),
        }
        shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(1), task)
            .await
            .unwrap()
            .unwrap();
    }

    /// A tokio-modbus server whose holding register n holds n + 1 and which answers
    /// exception 06 (server device busy) to its first `busy` requests.
    async fn busy_server(busy: usize) -> std::net::SocketAddr {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        use tokio_modbus::server::tcp::{accept_tcp_connection, Server};
        use tokio_modbus::{ExceptionCode, Request, Response};

        #[derive(Clone)]
        struct Busy(Arc<AtomicUsize>, usize);
        impl tokio_modbus::server::Service for Busy {
            type Request = Request<'static>;
            type Response = Response;
            type Exception = ExceptionCode;
            type Future = std::future::Ready<Result<Response, ExceptionCode>>;
            fn call(&self, request: Request<'static>) -> Self::Future {
                let n = self.0.fetch_add(1, Ordering::SeqCst);
                std::future::ready(match request {
                    _ if n < self.1 => Err(ExceptionCode::ServerDeviceBusy),
                    Request::ReadHoldingRegisters(a, c) => {
                        Ok(Response::ReadHoldingRegisters((a + 1..=a + c).collect()))
                    }
                    _ => Err(ExceptionCode::IllegalDataAddress),
                })
            }
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let service = Busy(Arc::new(AtomicUsize::new(0)), busy);
        tokio::spawn(async move {
            let on_connected = move |stream, socket_addr| {
                let service = service.clone();
                async move {
                    accept_tcp_connection(stream, socket_addr, move |_| Ok(Some(service.clone())))
                }
            };
            let _ = Server::new(listener).serve(&on_connected, |_| {}).await;
        });
        addr
    }

    async fn first_event(addr: &str, extra: &str) -> crate::source::Event {
        let c = parse(&format!(
            "name = \"d\"\naddress = \"{addr}\"\ninterval_ms = 100\ntimeout_ms = 200\n{extra}\n\
             [[register]]\nstream = \"a\"\nkind = \"holding\"\naddress = 1\n"
        ));
        c.validate().unwrap();
        let (emit, mut rx) = Emitter::channel(16);
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(c.build().run(emit, shutdown.clone()));
        let event = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .unwrap()
            .unwrap();
        shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(1), task)
            .await
            .unwrap()
            .unwrap();
        event
    }

    #[tokio::test]
    async fn a_busy_device_is_asked_again() {
        let addr = busy_server(2).await.to_string();
        let event = first_event(&addr, "retries = 2").await;
        assert!(
            matches!(event, crate::source::Event::Reading { ref stream, value, .. } if stream == "a" && value == 2.0),
            "{event:?}"
        );
        let addr = busy_server(1).await.to_string();
        let event = first_event(&addr, "retries = 0").await;
        let reason = "modbus exception 6 (server device busy) reading holding 1..2".to_string();
        assert_eq!(
            event,
            crate::source::Event::Status {
                stream: "a".into(),
                state: llmscope_protocol::StreamState::Stale,
                reason: Some(reason)
            }
        );
    }

    #[tokio::test]
    async fn a_device_that_accepts_but_never_answers_times_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        let event = first_event(&addr, "retries = 1").await;
        match event {
            crate::source::Event::Status {
                reason: Some(reason),
                ..
            } => assert_eq!(reason, "modbus timeout after 200 ms"),
            other => panic!("{other:?}"),
        }
    }
}
