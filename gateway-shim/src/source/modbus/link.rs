//! The connection to one Modbus device: a TCP connection (Modbus TCP, "MODBUS Messaging on
//! TCP/IP Implementation Guide" V1.0b) or a serial port speaking Modbus RTU ("MODBUS over
//! Serial Line" V1.02), and one read request sent over it with a deadline.
//!
//! Why a module of its own: what to do after a failure is a matter of the transport. A TCP
//! connection that timed out or broke is dropped and made again, since a late answer would
//! otherwise be taken for the answer to the next request. A serial line has no transaction ids
//! at all, so after a failure its port is closed, and flushed when reopened, for the same
//! reason. And a serial line is one bus: several `[[modbus]]` sections may name the same port
//! (one per device on an RS-485 line), so the port is opened once, shared, and used by one
//! request at a time (Modbus over Serial Line V1.02 §2.1: one master on the line, and it
//! "initiates only one MODBUS transaction at the same time").

use super::error::ModbusError;
use super::plan::{Kind, Read};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex as SyncMutex, OnceLock, Weak};
use std::time::Duration;
use tokio::sync::Mutex;
use tokio_modbus::client::{Client, Context};
use tokio_modbus::slave::SlaveContext;
use tokio_modbus::{Request, Response, Slave};

/// Serial parity (`parity = "E"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum Parity {
    /// No parity bit.
    N,
    /// Even parity (the default of Modbus over Serial Line §2.5.1).
    E,
    /// Odd parity.
    O,
}

/// How to open a serial port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SerialSettings {
    /// The device, e.g. `/dev/ttyUSB0`.
    pub path: String,
    /// Bits per second.
    pub baud: u32,
    /// Parity.
    pub parity: Parity,
    /// 7 or 8.
    pub data_bits: u8,
    /// 1 or 2.
    pub stop_bits: u8,
}

impl SerialSettings {
    /// `9600 8N1`.
    pub fn describe(&self) -> String {
        format!(
            "{} {}{:?}{}",
            self.baud, self.data_bits, self.parity, self.stop_bits
        )
    }
}

/// Where a device is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Modbus TCP at `host:port`.
    Tcp(String),
    /// Modbus RTU on a serial port.
    Serial(SerialSettings),
}

/// Why a request got no answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// No connection could be made (or the port could not be opened); retrying at once is
    /// pointless, the poller backs off instead.
    Connect,
    /// No answer within the timeout.
    Timeout,
    /// The connection or port broke.
    Transport,
    /// An answer that does not belong to the request (wrong transaction, unit or function).
    Protocol,
}

/// What a read request came back with.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The registers asked for, exactly `count` of them.
    Registers(Vec<u16>),
    /// The bits asked for, exactly `count` of them.
    Bits(Vec<bool>),
    /// A Modbus exception response with this code (§7).
    Exception(u8),
    /// An answer of the right function but unusable (too few values).
    Malformed(String),
    /// No usable answer.
    Failed(FailureKind, String),
}

/// The meaning of a Modbus exception code, as named in Modbus Application Protocol V1.1b3 §7
/// ("MODBUS Exception Codes").
pub fn exception_meaning(code: u8) -> &'static str {
    match code {
        0x01 => "illegal function",
        0x02 => "illegal data address",
        0x03 => "illegal data value",
        0x04 => "server device failure",
        0x05 => "acknowledge",
        0x06 => "server device busy",
        0x08 => "memory parity error",
        0x0A => "gateway path unavailable",
        0x0B => "gateway target device failed to respond",
        _ => "unknown exception code",
    }
}

/// Exception 06, "server device busy": the spec (§7) says to retransmit later.
pub const EXCEPTION_BUSY: u8 = 0x06;

/// A shared serial line: its settings and, while open, the RTU client on it.
struct Bus {
    settings: SerialSettings,
    ctx: Option<Context>,
}

/// Every serial line in use in this process, by device path.
static BUSES: OnceLock<SyncMutex<HashMap<String, Weak<Mutex<Bus>>>>> = OnceLock::new();

/// The line on `settings.path`, shared with every other section that names it.
fn bus(settings: &SerialSettings) -> Arc<Mutex<Bus>> {
    let map = BUSES.get_or_init(|| SyncMutex::new(HashMap::new()));
    let mut map = map.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    map.retain(|_, bus| bus.strong_count() > 0);
    if let Some(bus) = map.get(&settings.path).and_then(Weak::upgrade) {
        return bus;
    }
    let bus = Arc::new(Mutex::new(Bus {
        settings: settings.clone(),
        ctx: None,
    }));
    map.insert(settings.path.clone(), Arc::downgrade(&bus));
    bus
}

/// The connection to one device (one unit id).
pub struct Link {
    target: Target,
    unit: u8,
    timeout: Duration,
    tcp: Option<Context>,
    bus: Option<Arc<Mutex<Bus>>>,
}

impl Link {
    /// A link that connects on first use.
    pub fn new(target: Target, unit: u8, timeout: Duration) -> Link {
        let bus = match &target {
            Target::Serial(settings) => Some(bus(settings)),
            Target::Tcp(_) => None,
        };
        Link {
            target,
            unit,
            timeout,
            tcp: None,
            bus,
        }
    }

    /// Sends one read request (connecting first when needed) and waits at most the timeout
    /// for its answer.
    pub async fn read(&mut self, read: &Read) -> Outcome {
        match self.target.clone() {
            Target::Tcp(address) => self.read_tcp(&address, read).await,
            Target::Serial(settings) => self.read_serial(&settings, read).await,
        }
    }

    /// Drops the connection (TCP) so that the next request makes a new one.
    pub fn reset(&mut self) {
        self.tcp = None;
    }

    async fn read_tcp(&mut self, address: &str, read: &Read) -> Outcome {
        // A connection that sat idle may have been closed by the device (many do after a
        // minute or so); that is not the device being down, so one broken reused connection
        // is replaced at once without counting as a retry.
        for reused in [self.tcp.is_some(), false] {
            if self.tcp.is_none() {
                match connect_tcp(address, self.unit, self.timeout).await {
                    Ok(ctx) => self.tcp = Some(ctx),
                    Err(e) => return Outcome::Failed(FailureKind::Connect, e.to_string()),
                }
            }
            let Some(ctx) = self.tcp.as_mut() else { break };
            let outcome = call(ctx, read, self.timeout).await;
            if let Outcome::Failed(kind, _) = &outcome {
                self.tcp = None;
                if reused && *kind == FailureKind::Transport {
                    continue;
                }
            }
            return outcome;
        }
        Outcome::Failed(
            FailureKind::Transport,
            format!("connection to {address} lost"),
        )
    }

    async fn read_serial(&mut self, settings: &SerialSettings, read: &Read) -> Outcome {
        let Some(bus) = self.bus.clone() else {
            return Outcome::Failed(
                FailureKind::Connect,
                format!("serial port {} is not set up", settings.path),
            );
        };
        // Held for the whole transaction: one request at a time on the line.
        let mut bus = bus.lock().await;
        if bus.settings != *settings {
            return Outcome::Failed(
                FailureKind::Connect,
                format!(
                    "serial port {} is already used by another [[modbus]] section with different settings ({}, not {})",
                    settings.path,
                    bus.settings.describe(),
                    settings.describe()
                ),
            );
        }
        if bus.ctx.is_none() {
            match open_serial(settings, self.unit) {
                Ok(ctx) => bus.ctx = Some(ctx),
                Err(e) => return Outcome::Failed(FailureKind::Connect, e.to_string()),
            }
        }
        let Some(ctx) = bus.ctx.as_mut() else {
            return Outcome::Failed(
                FailureKind::Connect,
                format!("serial port {} is not open", settings.path),
            );
        };
        ctx.set_slave(Slave(self.unit));
        let outcome = call(ctx, read, self.timeout).await;
        // RTU frames carry no transaction id, so a late answer could pass for the answer to
        // the next request. After a timeout or a stray frame the port is closed, and flushed
        // when it is opened again, so that nothing left over is read as a new answer.
        if let Outcome::Failed(_, _) = &outcome {
            bus.ctx = None;
        }
        outcome
    }
}

/// Connects to `address` (host:port, resolved each time so a changed DNS entry is followed).
async fn connect_tcp(address: &str, unit: u8, timeout: Duration) -> Result<Context, ModbusError> {
    let attempt = async {
        let mut last = std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "the name resolves to no address",
        );
        for addr in tokio::net::lookup_host(address).await? {
            match tokio::net::TcpStream::connect(addr).await {
                Ok(stream) => {
                    // Requests are small and answered one at a time: send them at once.
                    let _ = stream.set_nodelay(true);
                    return Ok(tokio_modbus::client::tcp::attach_slave(stream, Slave(unit)));
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(ctx)) => Ok(ctx),
        Ok(Err(cause)) => Err(ModbusError::Connect {
            address: address.to_string(),
            cause,
        }),
        Err(_) => Err(ModbusError::NoAnswer {
            address: address.to_string(),
            ms: timeout.as_millis(),
        }),
    }
}

/// Opens a serial port for Modbus RTU.
fn open_serial(settings: &SerialSettings, unit: u8) -> Result<Context, ModbusError> {
    use tokio_serial::{SerialPort, SerialPortBuilderExt};
    let parity = match settings.parity {
        Parity::N => tokio_serial::Parity::None,
        Parity::E => tokio_serial::Parity::Even,
        Parity::O => tokio_serial::Parity::Odd,
    };
    let data_bits = if settings.data_bits == 7 {
        tokio_serial::DataBits::Seven
    } else {
        tokio_serial::DataBits::Eight
    };
    let stop_bits = if settings.stop_bits == 2 {
        tokio_serial::StopBits::Two
    } else {
        tokio_serial::StopBits::One
    };
    let port = tokio_serial::new(settings.path.as_str(), settings.baud)
        .parity(parity)
        .data_bits(data_bits)
        .stop_bits(stop_bits)
        .flow_control(tokio_serial::FlowControl::None)
        .open_native_async()
        .map_err(|cause| ModbusError::Serial {
            path: settings.path.clone(),
            cause,
        })?;
    // Whatever arrived while the port was closed belongs to no request of ours.
    let _ = port.clear(tokio_serial::ClearBuffer::All);
    Ok(tokio_modbus::client::rtu::attach_slave(port, Slave(unit)))
}

/// Sends `read` and checks the answer.
async fn call(ctx: &mut Context, read: &Read, timeout: Duration) -> Outcome {
    let request = match read.kind {
        Kind::Coil => Request::ReadCoils(read.start, read.count),
        Kind::Discrete => Request::ReadDiscreteInputs(read.start, read.count),
        Kind::Input => Request::ReadInputRegisters(read.start, read.count),
        Kind::Holding => Request::ReadHoldingRegisters(read.start, read.count),
    };
    let count = usize::from(read.count);
    let answer = match tokio::time::timeout(timeout, ctx.call(request)).await {
        Err(_) => {
            return Outcome::Failed(
                FailureKind::Timeout,
                format!("modbus timeout after {} ms", timeout.as_millis()),
            )
        }
        Ok(Err(tokio_modbus::Error::Transport(e))) => {
            return Outcome::Failed(
                FailureKind::Transport,
                format!("connection lost: {}", describe_io(&e)),
            )
        }
        Ok(Err(tokio_modbus::Error::Protocol(e))) => {
            return Outcome::Failed(
                FailureKind::Protocol,
                brief(format!("modbus protocol error: {e}")),
            )
        }
        Ok(Ok(Err(exception))) => return Outcome::Exception(u8::from(exception)),
        Ok(Ok(Ok(answer))) => answer,
    };
    match answer {
        // Bits come packed in bytes (§6.1, §6.2), so the last byte may carry padding.
        Response::ReadCoils(mut bits) | Response::ReadDiscreteInputs(mut bits)
            if bits.len() >= count =>
        {
            bits.truncate(count);
            Outcome::Bits(bits)
        }
        Response::ReadHoldingRegisters(words) | Response::ReadInputRegisters(words)
            if words.len() == count =>
        {
            Outcome::Registers(words)
        }
        Response::ReadCoils(v) | Response::ReadDiscreteInputs(v) => Outcome::Malformed(format!(
            "{} answered {} bits, not {count}",
            read.describe(),
            v.len()
        )),
        Response::ReadHoldingRegisters(v) | Response::ReadInputRegisters(v) => {
            Outcome::Malformed(format!(
                "{} answered {} registers, not {count}",
                read.describe(),
                v.len()
            ))
        }
        other => Outcome::Failed(
            FailureKind::Protocol,
            brief(format!(
                "modbus protocol error: unexpected answer {other:?}"
            )),
        ),
    }
}

/// The longest reason kept from a device's answer, in bytes.
const MAX_REASON: usize = 200;

/// Reasons become `status` frames and `/status` text: an answer full of garbage (tokio-modbus
/// prints the whole mismatching response) must not make them kilobytes long.
fn brief(mut text: String) -> String {
    if text.len() > MAX_REASON {
        let mut end = MAX_REASON;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

/// A short, lower-case description of an I/O error ("connection refused").
pub fn describe_io(e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::ConnectionRefused => "connection refused".into(),
        ErrorKind::ConnectionReset => "connection reset by the device".into(),
        ErrorKind::ConnectionAborted => "connection aborted".into(),
        ErrorKind::UnexpectedEof | ErrorKind::BrokenPipe => {
            "connection closed by the device".into()
        }
        ErrorKind::TimedOut => "timed out".into(),
        // tokio-modbus reports a stream that ended as the last OS error, which is often none.
        _ if e.raw_os_error() == Some(0) => "connection closed by the device".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exception_codes_are_named_as_in_the_spec() {
        assert_eq!(exception_meaning(2), "illegal data address");
        assert_eq!(exception_meaning(6), "server device busy");
        assert_eq!(
            exception_meaning(0x0B),
            "gateway target device failed to respond"
        );
        assert_eq!(exception_meaning(0x7F), "unknown exception code");
    }

    #[test]
    fn long_reasons_are_cut_at_a_character() {
        assert_eq!(brief("short".into()), "short");
        let long = brief("é".repeat(500));
        assert!(long.len() <= MAX_REASON + '…'.len_utf8() && long.ends_with('…'));
    }

    #[test]
    fn io_errors_read_plainly() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(describe_io(&refused), "connection refused");
        assert_eq!(
            describe_io(&std::io::Error::from_raw_os_error(0)),
            "connection closed by the device"
        );
    }

    #[test]
    fn sections_naming_one_serial_port_share_it() {
        let a = SerialSettings {
            path: "/dev/test-shared".into(),
            baud: 9600,
            parity: Parity::N,
            data_bits: 8,
            stop_bits: 1,
        };
        let first = bus(&a);
        let second = bus(&a);
        assert!(Arc::ptr_eq(&first, &second));
        assert_eq!(a.describe(), "9600 8N1");
        drop((first, second));
        let other = SerialSettings {
            path: "/dev/test-other".into(),
            ..a.clone()
        };
        assert!(!Arc::ptr_eq(&bus(&a), &bus(&other)));
    }

    #[tokio::test]
    async fn a_refused_connection_is_reported_as_such() {
        // A port that was free a moment ago: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let mut link = Link::new(
            Target::Tcp(format!("127.0.0.1:{port}")),
            1,
            Duration::from_secs(2),
        );
        let read = Read {
            kind: Kind::Holding,
            start: 0,
            count: 1,
            items: vec![0],
        };
        match link.read(&read).await {
            Outcome::Failed(FailureKind::Connect, reason) => {
                assert!(reason.ends_with("connection refused"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }
}
