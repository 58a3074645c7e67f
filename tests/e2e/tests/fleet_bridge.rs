//! Issue 15's two sites: a plant's mosquitto (site A) bridged to the company's (site B, with a
//! `protocol websockets` listener), the real shim publishing Sparkplug B to A, and on B an
//! MQTT reader and the dashboard's broker-source worker (app/fleet, built by `cargo xtask
//! site`) in headless Chromium. What the test shows (docs/deploy-fleet.md relies on it):
//!
//! 1. Through the bridge, B sees NBIRTH (seq 0), DBIRTH, then a DDATA per sample with `seq`
//!    consecutive; the worker shows the node online and its stream live.
//! 2. A stopped by its operator (SIGTERM): mosquitto sends the wills of its clients before it
//!    closes the bridge, so the shim's NDEATH (the birth's `bdSeq`) reaches B, then the
//!    bridge's own state `0`; the worker marks the node's streams stale. The shim buffers what
//!    it samples meanwhile. When A is back it sends the persisted session's will again (the
//!    same old `bdSeq`), then the shim is born again with a new `bdSeq` and sends every
//!    buffered sample exactly once, in order, marked historical, `seq` consecutive; the worker
//!    shows the node reborn with no `seq` gap.
//! 3. A crashed (SIGKILL): nothing is sent for the shim; B only hears the bridge's will
//!    (`$SYS/broker/connection/plant1-bridge/state` = 0). The worker, which maps that topic to
//!    a stream, shows the bridge down while the node is still online: the NDEATH of the live
//!    `bdSeq` never reaches B. The samples taken meanwhile arrive once, in order, after A is
//!    back.
//! 4. The shim stopped cleanly says NDEATH with its live `bdSeq`, and it reaches B.
//!
//! A second test cuts the other side: site B down while A and the shim stay up. The shim's
//! buffer stays empty; site A's queue for the bridge holds the samples (with
//! `max_queued_messages 0`: mosquitto's default of 1,000 drops the rest, and the test then
//! fails), and B's persistent reader gets each once, in order, when B is back.
//!
//! The outages start at quiet points: the test waits until the shim has every sample
//! acknowledged before it cuts A, so nothing is in flight and each sample must arrive exactly
//! once (a cut mid-flight may repeat one, at least once as QoS 1 promises:
//! gateway-shim/tests/publish.rs covers that).

use llmscope_e2e::{
    bridge, eventually, fleet_worker_path, free_port, js, serve_fleet_page, shim_binary, Driver,
    Mosquitto, DEADLINE,
};
use llmscope_protocol::sparkplug::{decode, Message, MessageType, MetricValue, Payload, Topic};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{sleep, timeout, Instant};

/// The bridge's state topic on both brokers (`remote_clientid plant1-bridge`).
const BRIDGE_STATE: &str = "$SYS/broker/connection/plant1-bridge/state";
/// The worker's name for the shim's one stream: `{group}/{node}/{device}/{metric}`.
const STREAM: &str = "plant1/pc7/line1/line1/count";
/// The worker's name for the bridge's state, mapped from `BRIDGE_STATE`.
const BRIDGE_STREAM: &str = "bridge/plant1-bridge";
const NODE: &str = "plant1/pc7";
/// Samples a second the plant's input publishes.
const RATE: u64 = 50;

/// An MQTT client subscribed with QoS 1, every message it receives forwarded.
struct Client {
    client: AsyncClient,
    rx: mpsc::UnboundedReceiver<rumqttc::Publish>,
}

impl Client {
    /// `clean` false: a persistent session, which a broker with `persistence true` keeps, with
    /// its subscriptions and queue, across its restart.
    async fn connect(port: u16, id: &str, filters: &[&str], clean: bool) -> Client {
        let mut options = MqttOptions::new(id, "127.0.0.1", port);
        options.set_keep_alive(Duration::from_secs(5));
        options.set_clean_session(clean);
        let (client, mut events) = AsyncClient::new(options, 100);
        let (tx, rx) = mpsc::unbounded_channel();
        let (subacks, mut subscribed) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let _ = tx.send(p);
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        let _ = subacks.send(());
                    }
                    Ok(_) => {}
                    Err(_) => sleep(Duration::from_millis(200)).await,
                }
            }
        });
        for filter in filters {
            client
                .subscribe(*filter, QoS::AtLeastOnce)
                .await
                .expect("queue a subscribe");
            timeout(DEADLINE, subscribed.recv())
                .await
                .expect("subscribed");
        }
        Client { client, rx }
    }
}

/// Site B's reader: the edge node's Sparkplug messages in order, the bridge's states aside.
struct Reader {
    client: Client,
    /// Sparkplug messages read while waiting for a bridge state.
    pending: VecDeque<(MessageType, Payload)>,
    /// Bridge states read while waiting for a Sparkplug message.
    states: VecDeque<String>,
}

impl Reader {
    async fn start(port: u16, clean: bool) -> Reader {
        let filters = ["spBv1.0/plant1/#", BRIDGE_STATE];
        Reader {
            client: Client::connect(port, "company-reader", &filters, clean).await,
            pending: VecDeque::new(),
            states: VecDeque::new(),
        }
    }

    /// The next message: `Ok` a Sparkplug one, `Err` the bridge's state.
    async fn next(&mut self) -> Result<(MessageType, Payload), String> {
        let p = timeout(DEADLINE, self.client.rx.recv())
            .await
            .expect("a message on site B within the deadline")
            .expect("the reader runs");
        if p.topic == BRIDGE_STATE {
            return Err(String::from_utf8_lossy(&p.payload).into_owned());
        }
        match decode(&p.topic, &p.payload) {
            Ok(Message::Edge {
                topic: Topic::Edge { message_type, .. },
                payload,
            }) => Ok((message_type, payload)),
            other => panic!("{}: not an edge node's message: {other:?}", p.topic),
        }
    }

    async fn next_sparkplug(&mut self) -> (MessageType, Payload) {
        if let Some(m) = self.pending.pop_front() {
            return m;
        }
        loop {
            match self.next().await {
                Ok(m) => return m,
                Err(state) => self.states.push_back(state),
            }
        }
    }

    /// Reads until the bridge's state is `state`, keeping the Sparkplug messages for later.
    async fn bridge_until(&mut self, state: &str) {
        while let Some(seen) = self.states.pop_front() {
            if seen == state {
                return;
            }
        }
        loop {
            match self.next().await {
                Err(s) if s == state => return,
                Err(_) => {}
                Ok(m) => self.pending.push_back(m),
            }
        }
    }
}

/// `bdSeq` of an NBIRTH or NDEATH.
fn bd_seq(p: &Payload) -> u64 {
    let m = p
        .metrics
        .iter()
        .find(|m| m.name.as_deref() == Some("bdSeq"));
    match m.and_then(|m| m.value.clone()) {
        Some(MetricValue::LongValue(v)) => v,
        other => panic!("no bdSeq in {p:?}: {other:?}"),
    }
}

/// What site B has received of the samples: values `0, 1, 2...` (the input's counter).
struct Delivered {
    /// The next value due.
    next: u64,
    /// The last message's `seq`.
    seq: u64,
}

impl Delivered {
    /// Reads the births of a new connection, then one DDATA per value up to `end` (excluded):
    /// each value exactly once and in order, `seq` consecutive from the NBIRTH, `historical`
    /// for the first `historical` of them. Before the birth, the only NDEATH allowed is
    /// `kept_will`, the will site A saved with the shim's session and sends again when it
    /// restarts. The birth's `bdSeq` is none of `used`; it is returned.
    async fn reborn(
        &mut self,
        r: &mut Reader,
        kept_will: u64,
        used: &[u64],
        end: u64,
        historical: u64,
    ) -> u64 {
        let mut old_wills = 0;
        let birth = loop {
            match r.next_sparkplug().await {
                (MessageType::NDeath, p) => {
                    assert_eq!(
                        bd_seq(&p),
                        kept_will,
                        "only the will site A kept may reach B before the birth"
                    );
                    old_wills += 1;
                }
                (MessageType::NBirth, p) => break p,
                other => panic!("before the birth: {other:?}"),
            }
        };
        eprintln!(
            "reborn with bdSeq {} after {old_wills} old will(s) of bdSeq {kept_will}",
            bd_seq(&birth)
        );
        assert_eq!(birth.seq, Some(0), "NBIRTH starts seq at 0");
        assert!(
            !used.contains(&bd_seq(&birth)),
            "a new connection, a new bdSeq: {} after {used:?}",
            bd_seq(&birth)
        );
        let (kind, dbirth) = r.next_sparkplug().await;
        assert_eq!((kind, dbirth.seq), (MessageType::DBirth, Some(1)));
        self.seq = 1;
        let first = self.next;
        self.data(r, end, first + historical).await;
        bd_seq(&birth)
    }

    /// Reads DDATA up to value `end` (excluded); values below `historical_to` must be marked
    /// historical, the others not.
    async fn data(&mut self, r: &mut Reader, end: u64, historical_to: u64) {
        while self.next < end {
            let (kind, p) = r.next_sparkplug().await;
            self.seq = (self.seq + 1) % 256;
            assert_eq!(
                (kind, p.seq),
                (MessageType::DData, Some(self.seq)),
                "value {} due",
                self.next
            );
            let m = &p.metrics[0];
            assert_eq!(m.value_f64(), Some(self.next as f64), "in order, once");
            let historical = self.next < historical_to;
            assert_eq!(
                m.is_historical.unwrap_or(false),
                historical,
                "value {}",
                self.next
            );
            self.next += 1;
        }
    }
}

/// The real shim, killed when dropped.
struct Shim(Child);

impl Shim {
    fn start(config: &Path, log: &Path) -> Shim {
        let log = std::fs::File::create(log).expect("the shim's log");
        let child = Command::new(shim_binary())
            .args(["run", "--config"])
            .arg(config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the shim's log"))
            .stderr(log)
            .spawn()
            .expect("start llmscope-shim");
        Shim(child)
    }

    /// SIGTERM, as a service manager stops it; waits for it to exit.
    fn terminate(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

impl Drop for Shim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The shim's `/status` `publish` object, once `check` holds on it.
async fn publish_status(port: u16, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    eventually(what, DEADLINE, || async {
        let status = shim_status(port).await;
        let publish = status["publish"].clone();
        if check(&publish) {
            Ok(publish)
        } else {
            Err(status.to_string())
        }
    })
    .await
}

async fn shim_status(port: u16) -> Value {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
        return Value::Null;
    };
    let request = format!("GET /status HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    let mut text = String::new();
    if s.write_all(request.as_bytes()).await.is_err() || s.read_to_string(&mut text).await.is_err()
    {
        return Value::Null;
    }
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).unwrap_or(Value::Null)
}

/// Publishes the input's counter `from..to` as plain numbers, `RATE` a second.
async fn feed(input: &AsyncClient, from: u64, to: u64) {
    feed_at(input, from, to, RATE).await;
}

/// Publishes the input's counter `from..to` as plain numbers, `rate` a second.
async fn feed_at(input: &AsyncClient, from: u64, to: u64, rate: u64) {
    let every = Duration::from_micros(1_000_000 / rate);
    let mut next = Instant::now();
    for i in from..to {
        input
            .publish("plant/line1/count", QoS::AtLeastOnce, false, i.to_string())
            .await
            .expect("queue a publish");
        next += every;
        tokio::time::sleep_until(next).await;
    }
}

/// The shim's config: the machines' broker on `input_port`, Sparkplug to site A on `a_tcp`,
/// its disk buffer in `tmp`.
fn shim_config(shim_port: u16, input_port: u16, a_tcp: u16, tmp: &Path) -> String {
    format!(
        r#"[server]
listen = "127.0.0.1:{shim_port}"

[[mqtt]]
name = "line1"
broker = "mqtt://127.0.0.1:{input_port}"
client_id = "llmscope-bridge-test"
clean_session = false
qos = 1

[[mqtt.subscribe]]
topic = "plant/line1/count"
stream = "line1/count"

[publish]
broker = "mqtt://127.0.0.1:{a_tcp}"
format = "sparkplug"
group_id = "plant1"
edge_node_id = "pc7"
buffer_dir = "{}"
"#,
        tmp.join("buffer").display()
    )
}

/// Reads the shim's first births on site B, feeds the input until a sample comes through (the
/// source subscribes asynchronously), then `RATE` more, read in order, until the shim has
/// every one acknowledged. Returns what was delivered, the next value to feed and the
/// NBIRTH's `bdSeq`.
async fn born_and_flowing(
    reader: &mut Reader,
    input: &AsyncClient,
    shim_port: u16,
) -> (Delivered, u64, u64) {
    let (kind, nbirth) = reader.next_sparkplug().await;
    assert_eq!((kind, nbirth.seq), (MessageType::NBirth, Some(0)));
    let (kind, dbirth) = reader.next_sparkplug().await;
    assert_eq!((kind, dbirth.seq), (MessageType::DBirth, Some(1)));
    assert_eq!(dbirth.metrics[0].name.as_deref(), Some("line1/count"));
    let mut fed = 0;
    let (mut first, mut seq) = (None, 1);
    while first.is_none() {
        feed(input, fed, fed + 1).await;
        fed += 1;
        assert!(fed < 200, "no DDATA on site B");
        if let Ok((kind, data)) = timeout(Duration::from_millis(100), reader.next_sparkplug()).await
        {
            seq += 1;
            assert_eq!((kind, data.seq), (MessageType::DData, Some(seq)));
            first = data.metrics[0].value_f64().map(|v| v as u64);
        }
    }
    let mut delivered = Delivered {
        next: first.unwrap_or_default() + 1,
        seq,
    };
    let end = fed + RATE;
    feed(input, fed, end).await;
    delivered.data(reader, end, 0).await;
    publish_status(shim_port, "every sample acknowledged", |p| {
        p["connected"] == true && p["buffered"] == 0
    })
    .await;
    (delivered, end, bd_seq(&nbirth))
}

/// What the page merged from the worker.
async fn worker_until(client: &fantoccini::Client, what: &str, check: impl Fn(&Value) -> bool) {
    eventually(what, DEADLINE, || async {
        let s = js(client, "return window.fleet.b ?? null;").await;
        if check(&s) {
            Ok(())
        } else {
            Err(format!("{s:#}"))
        }
    })
    .await
}

fn node_is(s: &Value, state: &str, bd: u64) -> bool {
    s["nodes"][NODE]["state"] == state && s["nodes"][NODE]["bd_seq"] == bd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_bridged_sites_carry_births_deaths_and_the_shims_buffer_to_the_dashboard() {
    let worker = fleet_worker_path();
    let [b_tcp, b_ws, a_tcp, input_port, shim_port, http] = [(); 6].map(|_| free_port());
    let tmp = std::env::temp_dir().join(format!("llmscope-bridge-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let a_store = tmp.join("site-a");
    Mosquitto::writable_dir(&a_store);

    // Site B, the company's broker: TCP for readers, WebSockets for dashboards.
    let _site_b = Mosquitto::with_config(
        &format!(
            "allow_anonymous true\npersistence false\nlistener {b_tcp} 127.0.0.1\n\
             listener {b_ws} 127.0.0.1\nprotocol websockets\n"
        ),
        &[b_tcp, b_ws],
    );
    // Site A, the plant's broker: sessions saved across restarts, bridged to B.
    let mut site_a = Mosquitto::with_config(
        &format!(
            "allow_anonymous true\npersistence true\npersistence_location {}/\n\
             max_queued_messages 0\nlistener {a_tcp} 127.0.0.1\n{}",
            a_store.display(),
            bridge("plant1", b_tcp, &["spBv1.0/#", "llmscope/#"])
        ),
        &[a_tcp],
    );
    // The machines' own broker, which the shim reads.
    let _plc_broker = Mosquitto::with_config(
        &format!("allow_anonymous true\nlistener {input_port} 127.0.0.1\n"),
        &[input_port],
    );

    // The dashboard's worker on B over WebSockets: Sparkplug, and the bridge's state.
    serve_fleet_page(http).await;
    let driver = Driver::start();
    let browser = driver.browser().await;
    browser
        .goto(&format!("http://127.0.0.1:{http}/fleet.html"))
        .await
        .expect("the test page");
    let config = json!({
        "url": format!("ws://127.0.0.1:{b_ws}"), "client_id": "dashboard",
        "subscribe": [
            { "topic": "spBv1.0/#" },
            { "topic": "$SYS/broker/connection/+/state", "stream": "bridge/{1}" },
        ],
    });
    browser
        .execute(
            "fleetStart('b', arguments[0], arguments[1]);",
            vec![json!(worker), config],
        )
        .await
        .expect("start the worker");
    worker_until(&browser, "the worker sees the bridge up", |s| {
        s["streams"][BRIDGE_STREAM]["last"] == 1.0
    })
    .await;

    let mut reader = Reader::start(b_tcp, true).await;
    let input = Client::connect(input_port, "plc", &[], true).await.client;
    let config = tmp.join("plant.toml");
    std::fs::write(&config, shim_config(shim_port, input_port, a_tcp, &tmp))
        .expect("write the shim's config");
    let mut shim = Shim::start(&config, &tmp.join("shim.log"));

    // 1. Births through the bridge, then data in order.
    let (mut delivered, end, mut live) = born_and_flowing(&mut reader, &input, shim_port).await;
    worker_until(&browser, "the node born and its stream live", |s| {
        node_is(s, "online", live)
            && s["streams"][STREAM]["status"] == "live"
            && s["streams"][STREAM]["last"] == (end - 1) as f64
    })
    .await;

    // 2. The operator stops site A: the shim's will, then the bridge's state, reach B.
    site_a.terminate();
    let (kind, death) = reader.next_sparkplug().await;
    assert_eq!(
        (kind, bd_seq(&death)),
        (MessageType::NDeath, live),
        "the shim's will carried over the bridge"
    );
    reader.bridge_until("0").await;
    assert!(reader.pending.is_empty(), "{:?}", reader.pending);
    worker_until(&browser, "the node's streams stale on its death", |s| {
        node_is(s, "offline", live)
            && s["streams"][STREAM]["status"] == "stale"
            && s["streams"][BRIDGE_STREAM]["last"] == 0.0
    })
    .await;
    let outage = 2 * RATE;
    feed(&input, end, end + outage).await;
    let held = publish_status(shim_port, "the outage's samples buffered", |p| {
        p["connected"] == false && p["buffered"] == outage
    })
    .await;
    eprintln!("site A stopped: the shim holds {held}");
    site_a.restart();
    // Samples taken from now on are live, not historical.
    publish_status(shim_port, "the shim connected again", |p| {
        p["connected"] == true
    })
    .await;
    let after = end + outage + RATE;
    feed(&input, end + outage, after).await;
    let first = live;
    live = delivered
        .reborn(&mut reader, first, &[first], after, outage)
        .await;
    publish_status(shim_port, "the buffer emptied", |p| {
        p["connected"] == true && p["buffered"] == 0 && p["dropped"] == 0
    })
    .await;
    worker_until(&browser, "the node reborn, no seq gap", |s| {
        node_is(s, "online", live)
            && s["streams"][STREAM]["status"] == "live"
            && s["streams"][STREAM]["last"] == (after - 1) as f64
            && s["nodes"][NODE]["seq_gaps"] == 0
            && s["nodes"][NODE]["unknown_aliases"] == 0
    })
    .await;

    // 3. Site A crashes: only the bridge's will reaches B; the node looks online there.
    site_a.kill();
    reader.bridge_until("0").await;
    assert!(reader.pending.is_empty(), "{:?}", reader.pending);
    worker_until(&browser, "the bridge down, the node still online", |s| {
        s["streams"][BRIDGE_STREAM]["last"] == 0.0 && node_is(s, "online", live)
    })
    .await;
    feed(&input, after, after + outage).await;
    publish_status(shim_port, "the crash's samples buffered", |p| {
        p["connected"] == false && p["buffered"] == outage
    })
    .await;
    site_a.restart();
    publish_status(shim_port, "the shim connected again", |p| {
        p["connected"] == true
    })
    .await;
    let last = after + outage + RATE;
    feed(&input, after + outage, last).await;
    // Site A restarts from what it saved when it was stopped: the first connection's will.
    live = delivered
        .reborn(&mut reader, first, &[first, live], last, outage)
        .await;
    worker_until(&browser, "the node reborn after the crash", |s| {
        node_is(s, "online", live)
            && s["streams"][STREAM]["last"] == (last - 1) as f64
            && s["nodes"][NODE]["seq_gaps"] == 0
    })
    .await;

    // 4. The shim stopped cleanly: NDEATH with the live bdSeq.
    publish_status(shim_port, "every sample acknowledged", |p| {
        p["buffered"] == 0
    })
    .await;
    shim.terminate();
    let (kind, death) = reader.next_sparkplug().await;
    assert_eq!((kind, bd_seq(&death)), (MessageType::NDeath, live));
    worker_until(&browser, "the node dead", |s| {
        node_is(s, "offline", live) && s["streams"][STREAM]["status"] == "stale"
    })
    .await;
    let _ = browser.close().await;
    let _ = std::fs::remove_dir_all(&tmp);
}

/// The other cut: the company's broker (site B) is down while site A and the shim stay up.
/// The shim keeps publishing to A and its own buffer stays empty: site A's queue for the
/// bridge (`max_queued_messages 0`, as docs/deploy-fleet.md recommends; with mosquitto's
/// default of 1,000 the rest would be dropped) holds the samples, and when B is back they
/// reach a persistent reader there exactly once, in order, not historical (the edge node never
/// lost its connection), with no new birth. The outage's 1,200 samples are more than that
/// default queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plant_broker_holds_what_the_company_broker_misses() {
    let [b_tcp, a_tcp, input_port, shim_port] = [(); 4].map(|_| free_port());
    let tmp = std::env::temp_dir().join(format!("llmscope-bridge-b-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let b_store = tmp.join("site-b");
    Mosquitto::writable_dir(&b_store);
    // B keeps its readers' sessions across the restart.
    let mut site_b = Mosquitto::with_config(
        &format!(
            "allow_anonymous true\npersistence true\npersistence_location {}/\n\
             max_queued_messages 0\nlistener {b_tcp} 127.0.0.1\n",
            b_store.display()
        ),
        &[b_tcp],
    );
    let _site_a = Mosquitto::with_config(
        &format!(
            "allow_anonymous true\npersistence false\nmax_queued_messages 0\n\
             listener {a_tcp} 127.0.0.1\n{}",
            bridge("plant1", b_tcp, &["spBv1.0/#"])
        ),
        &[a_tcp],
    );
    let _plc_broker = Mosquitto::with_config(
        &format!("allow_anonymous true\nlistener {input_port} 127.0.0.1\n"),
        &[input_port],
    );
    let mut reader = Reader::start(b_tcp, false).await;
    let input = Client::connect(input_port, "plc", &[], true).await.client;
    let config = tmp.join("plant.toml");
    std::fs::write(&config, shim_config(shim_port, input_port, a_tcp, &tmp))
        .expect("write the shim's config");
    let _shim = Shim::start(&config, &tmp.join("shim.log"));
    let (mut delivered, end, _) = born_and_flowing(&mut reader, &input, shim_port).await;

    let before = shim_status(shim_port).await["publish"]["delivered"].as_u64();
    site_b.terminate();
    // More than mosquitto's default queue of 1,000 messages a client.
    let outage = 1_200;
    feed_at(&input, end, end + outage, 400).await;
    let held = publish_status(shim_port, "every sample acknowledged by site A", |p| {
        p["connected"] == true
            && p["buffered"] == 0
            && p["delivered"].as_u64() == before.map(|b| b + outage)
    })
    .await;
    eprintln!("site B down: the shim, still connected to A, holds {held}");
    site_b.restart();
    let last = end + outage + RATE;
    feed(&input, end + outage, last).await;
    // Data only: the edge node never left, so no birth or death comes through.
    delivered.data(&mut reader, last, 0).await;
    let _ = std::fs::remove_dir_all(&tmp);
}
