//! `llmscope-shim simulate`: a demo plant with nothing attached. An in-process Modbus TCP
//! server holds three realistic signals, and the shim polls it over real Modbus TCP, so the
//! demo runs the same path as a plant PC.
//!
//! The signals (holding registers, f32, big-endian ABCD), on a compressed time scale so a
//! demo shows them within minutes:
//! - `press1/barrel_temperature` (°C): 225 with noise, drifting up 0.004 °C/s;
//! - `press1/cycle_time` (s): 12.0 with noise, stepping up 0.35 s after 90 s;
//! - `cnc1/spindle_vibration` (mm/s RMS): 1.5 with noise, rising slowly as the spindle wears;
//! - `line1/energy` (kWh), `line1/parts` and `line1/scrap` (counts): a stamping line's
//!   counters, latched together at the end of each stroke (one a second) as a line PLC
//!   reports them, for derived streams (energy per part, a scrap p chart): 6 to 8 parts a
//!   stroke (a cavity is now and then blocked), about 0.01 kWh a part rising 0.02 % a second as
//!   the tool wears, each part scrap with probability 0.04.

use crate::config::{Config, ServerConfig};
use crate::source::modbus::decode::{ByteOrder, DataType};
use crate::source::modbus::plan::Kind;
use crate::source::modbus::{self, RegisterConfig};
use llmscope_spc::Rng;
use std::future::Ready;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_modbus::server::tcp::{accept_tcp_connection, Server};
use tokio_modbus::{ExceptionCode, Request, Response};
use tokio_util::sync::CancellationToken;

/// One simulated signal: its register, stream, unit, spec limits and shape.
struct Signal {
    register: u16,
    stream: &'static str,
    unit: &'static str,
    lsl: Option<f64>,
    usl: Option<f64>,
    value: fn(f64, f64) -> f64,
}

/// `value(t, noise)`: t in seconds since start, noise a standard normal draw.
const SIGNALS: [Signal; 3] = [
    Signal {
        register: 0,
        stream: "press1/barrel_temperature",
        unit: "°C",
        lsl: Some(215.0),
        usl: Some(235.0),
        value: |t, e| 225.0 + 0.004 * t + 0.3 * e,
    },
    Signal {
        register: 2,
        stream: "press1/cycle_time",
        unit: "s",
        lsl: Some(11.0),
        usl: Some(13.0),
        value: |t, e| 12.0 + if t > 90.0 { 0.35 } else { 0.0 } + 0.05 * e,
    },
    Signal {
        register: 4,
        stream: "cnc1/spindle_vibration",
        unit: "mm/s",
        lsl: None,
        usl: Some(4.5),
        value: |t, e| 1.5 + 0.002 * t + 0.0000015 * t * t + 0.08 * e,
    },
];

/// A stamping line's counters (registers 6, 8 and 10, f32), advanced one stroke at a time.
#[derive(Default)]
struct Line {
    energy: f64,
    parts: f64,
    scrap: f64,
    /// Strokes made so far.
    strokes: u64,
}

/// The line's counters: (register, stream, unit).
const COUNTERS: [(u16, &str, &str); 3] = [
    (6, "line1/energy", "kWh"),
    (8, "line1/parts", ""),
    (10, "line1/scrap", ""),
];

/// One stroke a second (compressed, as the other signals are).
const STROKE_S: f64 = 1.0;

impl Line {
    /// Makes the strokes due by `t` seconds: each 6 to 8 parts, their energy and scrap.
    fn run_to(&mut self, t: f64, rng: &mut Rng) {
        while (self.strokes + 1) as f64 * STROKE_S <= t {
            self.strokes += 1;
            let parts = 8 - rng.below(3);
            let wear = 1.0 + 0.0002 * self.strokes as f64 * STROKE_S;
            self.energy += parts as f64 * 0.01 * wear * (1.0 + 0.03 * rng.normal()).max(0.5);
            self.parts += parts as f64;
            self.scrap += (0..parts).filter(|_| rng.uniform() < 0.04).count() as f64;
        }
    }

    fn counters(&self) -> [f64; 3] {
        [self.energy, self.parts, self.scrap]
    }
}

/// How often the plant's registers change: faster than the shim polls, so that no poll reads the
/// same value twice (repeated reads would shrink the moving ranges and so the limits).
const TICK: Duration = Duration::from_millis(40);

/// The plant's holding registers, shared by the updater and the Modbus server.
#[derive(Clone, Default)]
struct Plant {
    registers: Arc<Mutex<Vec<u16>>>,
}

impl tokio_modbus::server::Service for Plant {
    type Request = Request<'static>;
    type Response = Response;
    type Exception = ExceptionCode;
    type Future = Ready<Result<Response, ExceptionCode>>;

    fn call(&self, request: Request<'static>) -> Self::Future {
        let registers = self.registers.lock().map(|r| r.clone()).unwrap_or_default();
        std::future::ready(match request {
            Request::ReadHoldingRegisters(address, count) => {
                let (from, to) = (
                    usize::from(address),
                    usize::from(address) + usize::from(count),
                );
                match registers.get(from..to) {
                    Some(words) => Ok(Response::ReadHoldingRegisters(words.to_vec())),
                    None => Err(ExceptionCode::IllegalDataAddress),
                }
            }
            _ => Err(ExceptionCode::IllegalFunction),
        })
    }
}

/// Seed of the plant's noise: the same demo every run.
const SEED: u64 = 0x5EED_1234_ABCD_EF01;

/// Starts the plant's Modbus TCP server on `addr` (port 0 picks one) and returns where it
/// listens. It runs until `shutdown`.
pub async fn start_plant(addr: &str, shutdown: CancellationToken) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let plant = Plant::default();
    let updater = plant.clone();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        let start = Instant::now();
        let mut noise = Rng::new(SEED);
        let mut line = Line::default();
        let mut tick = tokio::time::interval(TICK);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = stop.cancelled() => return,
            }
            let t = start.elapsed().as_secs_f64();
            let mut words = vec![0u16; 12];
            line.run_to(t, &mut noise);
            let values = SIGNALS
                .iter()
                .map(|s| (s.register, (s.value)(t, noise.normal())));
            let counters = COUNTERS.iter().map(|c| c.0).zip(line.counters());
            for (register, value) in values.chain(counters) {
                let [a, b, c, d] = (value as f32).to_be_bytes();
                let r = usize::from(register);
                words[r] = u16::from_be_bytes([a, b]);
                words[r + 1] = u16::from_be_bytes([c, d]);
            }
            if let Ok(mut registers) = updater.registers.lock() {
                *registers = words;
            }
        }
    });
    let server = Server::new(listener);
    tokio::spawn(async move {
        let new_service = move |_| Ok(Some(plant.clone()));
        let on_connected = |stream, socket_addr| {
            let service = new_service.clone();
            async move { accept_tcp_connection(stream, socket_addr, service) }
        };
        let _ = server
            .serve_until(
                &on_connected,
                |e| eprintln!("simulated plant: {e}"),
                shutdown.cancelled_owned(),
            )
            .await;
    });
    Ok(local)
}

/// The config `simulate` runs: the plant as one Modbus device (holding registers, f32 ABCD),
/// and the given server settings. Check it with [`crate::config::check`] before running it.
pub fn config(
    plant: SocketAddr,
    listen: &str,
    token: Option<&str>,
    site: Option<&str>,
    interval_ms: u64,
) -> Config {
    let signals = SIGNALS
        .iter()
        .map(|s| (s.register, s.stream, s.unit, s.lsl, s.usl));
    let counters = COUNTERS.iter().map(|&(r, s, u)| (r, s, u, None, None));
    let register = signals
        .chain(counters)
        .map(|(register, stream, unit, lsl, usl)| RegisterConfig {
            stream: stream.into(),
            kind: Kind::Holding,
            address: u32::from(register),
            data_type: Some(DataType::F32),
            order: Some(ByteOrder::ABCD),
            scale: 1.0,
            offset: 0.0,
            unit: (!unit.is_empty()).then(|| unit.into()),
            lsl,
            usl,
        })
        .collect();
    let device = modbus::Config {
        name: "plant".into(),
        address: Some(plant.to_string()),
        serial: None,
        baud: None,
        parity: None,
        data_bits: None,
        stop_bits: None,
        unit: 1,
        interval_ms,
        timeout_ms: 500,
        retries: 2,
        max_gap: 0,
        register,
    };
    Config {
        server: ServerConfig {
            listen: listen.into(),
            token: token.map(String::from),
            site: site.map(PathBuf::from),
            buffer: 100_000,
            ..ServerConfig::default()
        },
        modbus: vec![device],
        mqtt: Vec::new(),
        opcua: Vec::new(),
        publish: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::check;

    #[test]
    fn the_demo_config_is_valid_and_public_addresses_need_a_token() {
        let plant: SocketAddr = "127.0.0.1:5020".parse().unwrap();
        let local = config(plant, "127.0.0.1:9750", None, None, 250);
        check(&local, "simulate", None).unwrap();
        assert_eq!(
            local.modbus[0].register.len(),
            SIGNALS.len() + COUNTERS.len()
        );
        let public = config(plant, "0.0.0.0:9750", None, None, 250);
        let e = check(&public, "simulate", None).unwrap_err().to_string();
        assert!(
            e.starts_with("simulate: server.listen:") && e.contains("token is required"),
            "{e}"
        );
        check(
            &config(plant, "0.0.0.0:9750", Some("t"), None, 250),
            "simulate",
            None,
        )
        .unwrap();
    }

    /// The line's counters only rise, latched a stroke at a time: 6 to 8 parts a stroke,
    /// about 0.01 kWh a part, scrap within the parts.
    #[test]
    fn the_line_counters_rise_a_stroke_at_a_time() {
        let mut line = Line::default();
        let mut rng = Rng::new(SEED);
        line.run_to(0.99, &mut rng);
        assert_eq!(
            line.counters(),
            [0.0; 3],
            "no stroke before the first second"
        );
        let mut before = line.counters();
        for t in 1..=600 {
            line.run_to(t as f64, &mut rng);
            let now = line.counters();
            let parts = now[1] - before[1];
            assert!((6.0..=8.0).contains(&parts), "stroke {t}: {parts} parts");
            let per_part = (now[0] - before[0]) / parts;
            assert!(
                (0.007..0.016).contains(&per_part),
                "stroke {t}: {per_part} kWh"
            );
            assert!(now[2] >= before[2] && now[2] - before[2] <= parts);
            before = now;
        }
        let scrap = line.scrap / line.parts;
        assert!((0.03..0.05).contains(&scrap), "scrap rate {scrap}");
    }
}
