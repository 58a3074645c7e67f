//! Issue 15's broker source on the dashboard, end to end: the site served by the shim in
//! headless Chromium, Debian's mosquitto with a `protocol websockets` listener, and a rumqttc
//! client publishing Sparkplug B for 1,000 edge nodes × 20 metrics. The page opened with
//! `?mqtt=<ws url>&topic=spBv1.0/%23` connects at start and shows the 20,000 streams as 1,000
//! groups (`stream-group`), of which only the rows near the viewport exist; a node's NDEATH
//! makes its group stale in the roll-up (and sorts it first) and its rebirth revives it; a
//! `seq` gap is shown on the node's group; a group opens to its streams and a stream to its
//! chart. The form's hooks (`mqtt-url`, `mqtt-topic`, `mqtt-connect`, `mqtt-status`)
//! disconnect and connect; a listener that refuses the client is an error, not retried; a
//! broker that goes away and comes back is reconnected to.
//!
//! Two more: a plant's bridged mosquitto killed (no NDEATH reaches the company's broker) makes
//! its node's and its plain topics' groups stale as silent, naming the bridge, while the other
//! plant's stay live, and both revive when it is back; and `?mqtt=` to a broker on another
//! host name than the page's asks first (the `ask-live` dialog), as `?live=` does.

use fantoccini::{Client, Locator};
use llmscope_e2e::{
    bridge, click, count, eventually, free_port, js, screenshot, type_into, wait_for, Driver,
    Mosquitto, Site, APP_MOUNTED, DEADLINE,
};
use llmscope_protocol::sparkplug::{MessageType, Metric, MetricValue, Payload, Topic, BD_SEQ};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const NODES: usize = 1_000;
const METRICS: u64 = 20;
/// Nodes born per round: the broker queues at most 1,000 messages for the browser.
const ROUND: usize = 100;

fn node(i: usize) -> String {
    format!("node{i:04}")
}

struct Publisher {
    client: AsyncClient,
}

impl Publisher {
    async fn connect(port: u16) -> Publisher {
        let mut options = MqttOptions::new("fleet-dashboard-publisher", "127.0.0.1", port);
        options.set_keep_alive(Duration::from_secs(5));
        options.set_max_packet_size(1 << 20, 1 << 20);
        let (client, mut events) = AsyncClient::new(options, 1_000);
        tokio::spawn(async move {
            loop {
                if events.poll().await.is_err() {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        });
        Publisher { client }
    }

    async fn send(&self, kind: MessageType, node: &str, seq: u64, metrics: Vec<Metric>) {
        let device = matches!(kind, MessageType::DBirth | MessageType::DData).then_some("press");
        let payload = Payload {
            timestamp: Some(1_700_000_000_000),
            seq: (kind != MessageType::NDeath).then_some(seq),
            metrics,
            ..Payload::default()
        };
        self.client
            .publish(
                Topic::edge("plant1", kind, node, device),
                QoS::AtLeastOnce,
                false,
                payload.to_bytes(),
            )
            .await
            .expect("publish");
    }

    /// NBIRTH (bdSeq `bd`) and the DBIRTH of device `press` with 20 metrics (aliases 1..=20).
    async fn born(&self, node: &str, bd: u64) {
        self.send(MessageType::NBirth, node, 0, vec![bd_seq(bd)])
            .await;
        let metrics = (1..=METRICS)
            .map(|m| Metric::birth(&format!("m{m:02}"), m, 1_700_000_000_000, 10.0))
            .collect();
        self.send(MessageType::DBirth, node, 1, metrics).await;
    }
}

fn bd_seq(v: u64) -> Metric {
    Metric {
        name: Some(BD_SEQ.into()),
        datatype: Some(8),
        value: Some(MetricValue::LongValue(v)),
        ..Metric::default()
    }
}

/// The dashboard served by the shim, opened in Chromium at `?{query}`, once it is mounted.
async fn dashboard(query: &str) -> (Site, Driver, Client) {
    let site = Site::start();
    let driver = Driver::start();
    let client = driver.browser().await;
    client
        .goto(&format!("{}?{query}", site.url))
        .await
        .expect("the dashboard");
    wait_for(&client, APP_MOUNTED, DEADLINE).await;
    (site, driver, client)
}

/// The summary's numbers: groups, with signals, with stale streams.
async fn summary(client: &Client) -> Vec<u64> {
    let text = js(
        client,
        "return document.querySelector('[data-testid=fleet-summary]').textContent;",
    )
    .await;
    text.as_str()
        .unwrap_or_default()
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect()
}

async fn status(client: &Client) -> (String, String) {
    let s = js(
        client,
        "const e = document.querySelector('[data-testid=mqtt-status]'); \
         return [e.dataset.state, e.textContent];",
    )
    .await;
    (
        s[0].as_str().unwrap_or_default().to_string(),
        s[1].as_str().unwrap_or_default().to_string(),
    )
}

async fn until_status(client: &Client, state: &str, containing: &str) -> String {
    eventually(
        &format!("mqtt-status {state} ({containing})"),
        DEADLINE,
        || async {
            let (s, text) = status(client).await;
            if s == state && text.contains(containing) {
                Ok(text)
            } else {
                Err(format!("{s}: {text}"))
            }
        },
    )
    .await
}

async fn until_groups(client: &Client, what: &str, check: impl Fn(&[u64]) -> bool) -> Vec<u64> {
    eventually(what, DEADLINE, || async {
        let s = summary(client).await;
        if check(&s) {
            Ok(s)
        } else {
            Err(format!("{s:?}"))
        }
    })
    .await
}

/// The group rows in the DOM, as `[group, status, streams, stale, text]`.
async fn groups(client: &Client) -> Vec<Value> {
    let rows = js(
        client,
        "return [...document.querySelectorAll('[data-testid=stream-group]')].map(e => \
         [e.dataset.group, e.dataset.status, +e.dataset.streams, +e.dataset.stale, e.textContent]);",
    )
    .await;
    rows.as_array().cloned().unwrap_or_default()
}

/// Clicks the row `css` in one script: the worker's rows are replaced every batch, so a
/// WebDriver element found first may be gone by the click.
async fn press(client: &Client, css: &str) {
    let found = js(
        client,
        &format!("const e = document.querySelector({css:?}); e?.click(); return !!e;"),
    )
    .await;
    assert_eq!(found, true, "no {css}");
}

#[tokio::test]
async fn the_dashboard_groups_a_thousand_sparkplug_nodes_from_mosquitto() {
    let (tcp, ws, ws_closed) = (free_port(), free_port(), free_port());
    let broker = Mosquitto::start(tcp, ws, ws_closed);
    let url = format!("ws://127.0.0.1:{ws}");
    let (_site, _driver, client) = dashboard(&format!("mqtt={url}&topic=spBv1.0/%23")).await;
    until_status(&client, "connected", "subscribed").await;
    let form = js(
        &client,
        "return [document.querySelector('[data-testid=mqtt-url]').value, \
         document.querySelector('[data-testid=mqtt-topic]').value];",
    )
    .await;
    assert_eq!(
        form,
        serde_json::json!([url, "spBv1.0/#"]),
        "?mqtt= fills the form"
    );

    // The main thread's longest task from here on (reported, not asserted: no timing checks).
    js(
        &client,
        "window.longestTask = 0; new PerformanceObserver((l) => l.getEntries().forEach((e) => \
         { window.longestTask = Math.max(window.longestTask, e.duration); })) \
         .observe({ type: 'longtask' }); return true;",
    )
    .await;

    // 1,000 nodes × 20 metrics, born in rounds the broker's queue for the browser holds.
    let publisher = Publisher::connect(tcp).await;
    for round in 0..NODES / ROUND {
        for i in round * ROUND..(round + 1) * ROUND {
            publisher.born(&node(i), 0).await;
        }
        let born = ((round + 1) * ROUND) as u64;
        until_groups(&client, "the round's groups", |s| s.first() == Some(&born)).await;
    }
    let s = until_groups(&client, "1,000 groups", |s| s.first() == Some(&1_000)).await;
    assert_eq!(s, [1_000, 0, 0], "no signals, nothing stale");
    let shown = groups(&client).await;
    assert!(
        !shown.is_empty() && shown.len() < 100,
        "only the rows near the viewport exist: {} of 1,000",
        shown.len()
    );
    assert!(
        shown.iter().all(|g| g[1] == "live" && g[2] == 20),
        "{shown:?}"
    );
    assert_eq!(shown[0][0], "plant1/node0000/press", "in name order");

    // A reading for each of the 20,000 streams, in rounds (each node's DDATA is seq 2).
    for round in 0..NODES / ROUND {
        for i in round * ROUND..(round + 1) * ROUND {
            let metrics = (1..=METRICS)
                .map(|m| Metric::data(m, 1_700_000_000_500, 10.5))
                .collect();
            publisher
                .send(MessageType::DData, &node(i), 2, metrics)
                .await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await; // within the broker's queue
    }
    let longest = js(&client, "return window.longestTask;").await;
    eprintln!(
        "the main thread's longest task while 20,000 streams were born and read: {longest} ms"
    );

    // node0500 dies: its group turns stale, 20 of 20, and comes first.
    publisher
        .send(MessageType::NDeath, &node(500), 0, vec![bd_seq(0)])
        .await;
    until_groups(&client, "one stale group", |s| s == [1_000, 0, 1]).await;
    let first = eventually("the stale group first", DEADLINE, || async {
        let g = groups(&client).await;
        match g.first() {
            Some(f) if f[1] == "stale" => Ok(f.clone()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    assert_eq!(
        Value::Array(first.as_array().unwrap()[..4].to_vec()),
        serde_json::json!(["plant1/node0500/press", "stale", 20, 20])
    );
    let why = first[4].as_str().unwrap_or_default();
    assert!(why.contains("NDEATH") && !why.contains("silent"), "{why}");

    // Its rebirth (a new bdSeq) revives it.
    publisher.born(&node(500), 1).await;
    until_groups(&client, "nothing stale after the rebirth", |s| {
        s == [1_000, 0, 0]
    })
    .await;

    // node0003 skips seq 3 and 4: its group shows the gap.
    publisher
        .send(
            MessageType::DData,
            &node(3),
            5,
            vec![Metric::data(1, 1_700_000_001_000, 11.0)],
        )
        .await;
    let gap = "[data-group='plant1/node0003/press'] [data-testid=seq-gaps]";
    let text = wait_for(&client, gap, DEADLINE)
        .await
        .text()
        .await
        .expect("the gap's text");
    assert_eq!(text, "1 seq gap");

    // The group opens to its 20 streams; a stream opens to its chart, which gets its points.
    press(&client, "[data-group='plant1/node0001/press']").await;
    eventually("node0001's 20 streams listed", DEADLINE, || async {
        let n = count(&client, "[data-stream^='plant1/node0001/press/']").await;
        if n == 20 {
            Ok(())
        } else {
            Err(format!("{n}"))
        }
    })
    .await;
    press(
        &client,
        "#fleet-scroll [data-stream='plant1/node0001/press/m01']",
    )
    .await;
    wait_for(
        &client,
        "[data-testid=fleet-chart][data-stream='plant1/node0001/press/m01']",
        DEADLINE,
    )
    .await;
    for k in 0..3u64 {
        publisher
            .send(
                MessageType::DData,
                &node(1),
                3 + k,
                vec![Metric::data(1, 1_700_000_002_000 + k, 12.0 + k as f64)],
            )
            .await;
    }
    wait_for(
        &client,
        "[data-testid=fleet-chart][data-points='3']",
        DEADLINE,
    )
    .await;
    screenshot(&client, "fleet-dashboard").await;

    // The broker goes away and comes back: the page says it reconnects, then is connected.
    drop(broker);
    until_status(&client, "closed", "connecting again in").await;
    let broker = Mosquitto::start(tcp, ws, ws_closed);
    until_status(&client, "connected", "subscribed").await;

    // The form: Disconnect, then a listener that refuses anonymous clients (not retried),
    // then Connect again to the open one with two filters.
    click(&client, Locator::Css("[data-testid=mqtt-connect]")).await;
    until_status(&client, "closed", "").await;
    type_into(&client, "mqtt-url", &format!("ws://127.0.0.1:{ws_closed}")).await;
    click(&client, Locator::Css("[data-testid=mqtt-connect]")).await;
    let refused = until_status(&client, "error", "refused").await;
    assert!(refused.contains("NotAuthorized"), "{refused}");
    click(&client, Locator::Css("[data-testid=mqtt-connect]")).await; // Disconnect
    type_into(&client, "mqtt-url", &url).await;
    type_into(&client, "mqtt-topic", "plant/#, spBv1.0/#").await;
    type_into(&client, "mqtt-silent", "30").await; // the worker refuses a config key it does not know
    click(&client, Locator::Css("[data-testid=mqtt-connect]")).await;
    until_status(&client, "connected", "subscribed").await;
    publisher.born(&node(42), 2).await;
    publisher
        .client
        .publish(
            "plant/line1/press9/temperature",
            QoS::AtLeastOnce,
            false,
            "71.5",
        )
        .await
        .expect("publish a plain reading");
    let s = until_groups(&client, "the new connection's groups", |s| {
        s.first() == Some(&2)
    })
    .await;
    assert_eq!(s, [2, 0, 0]);
    let keys: Vec<Value> = groups(&client).await.iter().map(|g| g[0].clone()).collect();
    assert_eq!(
        keys,
        ["plant/line1/press9", "plant1/node0042/press"],
        "a plain topic is grouped by its levels as a Sparkplug one"
    );
    drop(broker);
}

/// A plant's edge node `pc` publishing to its own broker on `port` every 250 ms until the
/// test ends: Sparkplug B (group `plant`, device `press`, metrics `m1`, `m2`), born again on
/// every new connection, and a plain reading on `{plant}/line1/press/temperature`.
fn plant_feed(port: u16, plant: &'static str) {
    let mut options = MqttOptions::new(format!("{plant}-pc"), "127.0.0.1", port);
    options.set_keep_alive(Duration::from_secs(5));
    let (client, mut events) = AsyncClient::new(options, 100);
    let born = Arc::new(AtomicBool::new(false));
    let on_connack = born.clone();
    tokio::spawn(async move {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    on_connack.store(false, Ordering::SeqCst)
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    });
    tokio::spawn(async move {
        let send = |kind: MessageType, seq: u64, metrics: Vec<Metric>| {
            let device = (kind != MessageType::NBirth).then_some("press");
            let payload = Payload {
                timestamp: Some(1_700_000_000_000),
                seq: Some(seq % 256),
                metrics,
                ..Payload::default()
            };
            let topic = Topic::edge(plant, kind, "pc", device);
            let _ = client.try_publish(topic, QoS::AtMostOnce, false, payload.to_bytes());
        };
        let mut seq = 0;
        for k in 0u64.. {
            if !born.swap(true, Ordering::SeqCst) {
                send(MessageType::NBirth, 0, vec![bd_seq(k)]);
                let metrics = (1..=2).map(|m| Metric::birth(&format!("m{m}"), m, 1, 10.0));
                send(MessageType::DBirth, 1, metrics.collect());
                seq = 1;
            }
            seq += 1;
            let value = 10.0 + (k % 3) as f64 * 0.1;
            send(
                MessageType::DData,
                seq,
                vec![Metric::data(1, 2, value), Metric::data(2, 2, value)],
            );
            let topic = format!("{plant}/line1/press/temperature");
            let _ = client.try_publish(topic, QoS::AtMostOnce, false, value.to_string());
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    });
}

/// Waits until `check` holds on the group rows, each found by its key as `(streams, stale
/// streams, text)` (status `signal` outranks `stale`, so the counts are asked, not it).
async fn until_rows(
    client: &Client,
    what: &str,
    check: impl Fn(&dyn Fn(&str) -> (u64, u64, String)) -> bool,
) {
    eventually(what, DEADLINE, || async {
        let rows = groups(client).await;
        let row = |key: &str| {
            let r = rows.iter().find(|r| r[0] == key);
            let n = |i: usize| r.and_then(|r| r[i].as_u64()).unwrap_or_default();
            let text = r.and_then(|r| r[4].as_str()).unwrap_or_default();
            (n(2), n(3), text.to_string())
        };
        if check(&row) {
            Ok(())
        } else {
            Err(format!("{rows:#?}"))
        }
    })
    .await
}

/// Issue 15's gap: a plant's broker that crashes sends no NDEATH (its edge nodes' wills die
/// with it). Two plants' mosquittos are bridged to the company's (`notifications true`); the
/// dashboard subscribes there to Sparkplug, both plants' plain topics and the bridges' states.
/// Plant 1's broker is killed (SIGKILL): its node's group and its plain group turn stale as
/// silent after the 10 s default, naming the bridge that went down; plant 2's stay live.
/// Plant 1's broker back, its node is born again and both groups are live.
#[tokio::test]
async fn a_crashed_plant_brokers_nodes_turn_silent_and_revive_while_the_other_plant_stays_live() {
    let [b_tcp, b_ws, a1, a2] = [(); 4].map(|_| free_port());
    let _company = Mosquitto::with_config(
        &format!(
            "allow_anonymous true\npersistence false\nlistener {b_tcp} 127.0.0.1\n\
             listener {b_ws} 127.0.0.1\nprotocol websockets\n"
        ),
        &[b_tcp, b_ws],
    );
    let plant = |name: &str, port: u16| {
        let topics = ["spBv1.0/#", &format!("{name}/#")];
        Mosquitto::with_config(
            &format!(
                "allow_anonymous true\npersistence false\nlistener {port} 127.0.0.1\n{}",
                bridge(name, b_tcp, &topics)
            ),
            &[port],
        )
    };
    let mut plant1 = plant("plant1", a1);
    let _plant2 = plant("plant2", a2);
    let topics = "topic=spBv1.0/%23&topic=plant1/%23&topic=plant2/%23\
                  &topic=%24SYS/broker/connection/%2B/state";
    let (_site, _driver, client) = dashboard(&format!("mqtt=ws://127.0.0.1:{b_ws}&{topics}")).await;
    until_status(&client, "connected", "subscribed").await;
    plant_feed(a1, "plant1");
    plant_feed(a2, "plant2");
    let groups = [
        "plant1/pc/press",
        "plant1/line1/press",
        "plant2/pc/press",
        "plant2/line1/press",
    ];
    let live = |row: &dyn Fn(&str) -> (u64, u64, String), g: &str| {
        let (streams, stale, _) = row(g);
        streams > 0 && stale == 0
    };
    until_rows(&client, "both plants live", |row| {
        groups.iter().all(|g| live(row, g))
    })
    .await;

    plant1.kill();
    until_rows(&client, "plant 1 silent, plant 2 live", |row| {
        let silent = |g: &str| {
            let (streams, stale, text) = row(g);
            streams > 0
                && stale == streams
                && text.contains("silent since")
                && text.contains("bridge plant1-bridge reported down")
                && !text.contains("NDEATH")
        };
        silent(groups[0]) && silent(groups[1]) && live(row, groups[2]) && live(row, groups[3])
    })
    .await;
    screenshot(&client, "fleet-silent").await;

    plant1.restart();
    until_rows(&client, "plant 1 revived", |row| {
        groups.iter().all(|g| live(row, g))
    })
    .await;
}

/// `?mqtt=` as `?live=`: a broker on another host name than the page's (`localhost` for a
/// page on 127.0.0.1) is connected to only once the user agrees, its URL shown.
#[tokio::test]
async fn a_link_to_a_broker_on_another_host_asks_before_connecting() {
    let (tcp, ws, ws_closed) = (free_port(), free_port(), free_port());
    let _broker = Mosquitto::start(tcp, ws, ws_closed);
    let url = format!("ws://localhost:{ws}");
    let (_site, _driver, client) = dashboard(&format!("mqtt={url}&topic=spBv1.0/%23")).await;
    let ask = wait_for(&client, "[data-testid=ask-live]", DEADLINE).await;
    let text = ask.text().await.unwrap_or_default();
    assert!(text.contains(&url), "{text}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        status(&client).await.0,
        "closed",
        "nothing connects before the user agrees"
    );
    click(&client, Locator::Css("[data-testid=ask-live-connect]")).await;
    until_status(&client, "connected", "subscribed").await;
}
