//! The polling loop of one device: reads every planned request each `interval_ms`, retries
//! what the protocol says to retry, splits a merged read the device refuses, and turns each
//! answer into readings or a `stale` status per stream.

use super::link::{self, FailureKind, Link, Outcome};
use super::plan::{self, Read};
use super::{decode, ModbusSource};
use crate::source::{now_ms, Emitter};
use std::time::Duration;
use tokio::time::MissedTickBehavior;

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
pub(super) struct Poller {
    source: ModbusSource,
    link: Link,
    emit: Emitter,
    health: Vec<Health>,
    /// The merged plan, restored after the device was down (a replaced device may accept the
    /// merged reads that its predecessor refused).
    merged: Vec<Read>,
}

impl Poller {
    pub(super) fn new(source: ModbusSource, emit: Emitter) -> Poller {
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
    pub(super) async fn run(mut self) {
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
    use super::super::Config;
    use crate::source::{Emitter, SourceConfig};
    use std::time::Duration;
    use tokio_util::sync::CancellationToken;

    fn parse(text: &str) -> Config {
        toml::from_str(text).unwrap()
    }

    #[tokio::test]
    async fn an_unreachable_device_goes_stale_and_shutdown_is_prompt() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let event = first_event(&format!("127.0.0.1:{port}"), "").await;
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

    /// The first event of a source polling one holding register at `addr`; then a shutdown
    /// that must finish within a second.
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
