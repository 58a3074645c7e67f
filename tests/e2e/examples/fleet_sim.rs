//! The seeded fleet simulator behind `cargo xtask fleet` (xtask/src/fleet.rs checks the flags
//! and runs this example, since the MQTT client and the Sparkplug payloads live in this crate's
//! dependencies and xtask builds first in every `cargo xtask` call):
//!
//! `fleet_sim --nodes N --metrics M --rate HZ --broker mqtt://HOST:PORT [--sparkplug]
//! [--seconds S] [--seed K] [--changed C]`
//!
//! N edge nodes, each one machine with M metrics, publish HZ times a second for S seconds
//! (default 60). Plain: the shim's `[publish]` JSON `{"stream","seq","t","value"}` on
//! `fleet/{stream}`, stream `node{i}/machine/m{j}`, one message per metric. `--sparkplug`:
//! per node an NBIRTH (`bdSeq`) and a DBIRTH naming `m{j}` with aliases, then one DDATA per
//! tick with C metrics by alias (default all M; fewer is report by exception, taking the
//! metrics in turn) and `seq` counting, group `fleet`, device `machine`, and an NDEATH per
//! node at the end. The nodes' messages (the births too) are spread over each tick (node i at
//! i/N of it), as unsynchronized plants send them, not all at its start. Values are seeded (the same seed
//! gives the same values): each metric wanders around its own level with noise from a
//! SplitMix64 stream.

use llmscope_protocol::sparkplug::{
    DataType, MessageType, Metric, MetricValue, Payload, Topic, BD_SEQ,
};
use rumqttc::{AsyncClient, Event, MqttOptions, Outgoing, QoS};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

struct Flags {
    nodes: usize,
    metrics: usize,
    rate: f64,
    host: String,
    port: u16,
    sparkplug: bool,
    seconds: f64,
    seed: u64,
    /// Metrics per DDATA (Sparkplug); 0 = all.
    changed: usize,
}

fn flags() -> Result<Flags, String> {
    let mut f = Flags {
        nodes: 0,
        metrics: 0,
        rate: 0.0,
        host: String::new(),
        port: 1883,
        sparkplug: false,
        seconds: 60.0,
        seed: 15,
        changed: 0,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--sparkplug" {
            f.sparkplug = true;
            continue;
        }
        let value = args.next().ok_or(format!("fleet: {flag} needs a value"))?;
        let number = || {
            value
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v > 0.0)
                .ok_or(format!(
                    "fleet: {flag} takes a positive number, not '{value}'"
                ))
        };
        match flag.as_str() {
            "--nodes" => f.nodes = number()? as usize,
            "--metrics" => f.metrics = number()? as usize,
            "--rate" => f.rate = number()?,
            "--seconds" => f.seconds = number()?,
            "--changed" => f.changed = number()? as usize,
            "--seed" => {
                f.seed = value
                    .parse()
                    .map_err(|_| format!("fleet: --seed takes a whole number, not '{value}'"))?
            }
            "--broker" => {
                let rest = value
                    .strip_prefix("mqtt://")
                    .ok_or(format!("fleet: --broker '{value}' is not mqtt://HOST:PORT"))?;
                let (host, port) = rest.rsplit_once(':').unwrap_or((rest, "1883"));
                f.host = host.to_string();
                f.port = port
                    .parse()
                    .map_err(|_| format!("fleet: --broker '{value}': '{port}' is not a port"))?;
            }
            other => return Err(format!("fleet: unknown flag '{other}'")),
        }
    }
    if f.nodes == 0 || f.metrics == 0 || f.rate == 0.0 || f.host.is_empty() {
        return Err(
            "fleet: --nodes N --metrics M --rate HZ --broker mqtt://HOST:PORT are required".into(),
        );
    }
    if f.changed == 0 || f.changed > f.metrics {
        f.changed = f.metrics;
    }
    Ok(f)
}

/// SplitMix64 (Steele, Lea and Flood 2014): a small seeded stream of uniform numbers.
struct SplitMix(u64);

impl SplitMix {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly normal: the sum of 12 uniforms less 6 (Irwin–Hall).
    fn noise(&mut self) -> f64 {
        (0..12).map(|_| self.uniform()).sum::<f64>() - 6.0
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn bd_seq(v: u64) -> Metric {
    Metric {
        name: Some(BD_SEQ.into()),
        datatype: Some(DataType::UInt64 as u32),
        value: Some(MetricValue::LongValue(v)),
        ..Metric::default()
    }
}

#[tokio::main]
async fn main() {
    let f = match flags() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let mut options = MqttOptions::new(format!("llmscope-fleet-{}", f.seed), &f.host, f.port);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_max_packet_size(1 << 20, 1 << 20);
    let (client, mut events) = AsyncClient::new(options, 10_000);
    let (done, finished) = tokio::sync::oneshot::channel();
    let broker = format!("{}:{}", f.host, f.port);
    tokio::spawn(async move {
        let mut done = Some(done);
        loop {
            match events.poll().await {
                // Everything queued before the DISCONNECT has gone out.
                Ok(Event::Outgoing(Outgoing::Disconnect)) => {
                    if let Some(done) = done.take() {
                        let _ = done.send(());
                    }
                    return;
                }
                Ok(_) => {}
                Err(e) => {
                    eprintln!("fleet: broker {broker}: {e}; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    });
    let node = |i: usize| format!("node{i:04}");
    let mut rng = SplitMix(f.seed);
    let levels: Vec<f64> = (0..f.nodes * f.metrics)
        .map(|_| 10.0 + 90.0 * rng.uniform())
        .collect();
    let mut sent = 0u64;
    let publish = |topic: String, payload: Vec<u8>| {
        let client = client.clone();
        async move {
            client
                .publish(topic, QoS::AtMostOnce, false, payload)
                .await
                .map_err(|e| format!("fleet: publish: {e}"))
        }
    };
    let result: Result<(), String> = async {
        let period = Duration::from_secs_f64(1.0 / f.rate);
        if f.sparkplug {
            // The births spread over one tick too.
            let born = Instant::now();
            for i in 0..f.nodes {
                let due = born + period.mul_f64(i as f64 / f.nodes as f64);
                if due > Instant::now() {
                    tokio::time::sleep_until(due.into()).await;
                }
                let t = now_ms();
                let birth = Payload {
                    timestamp: Some(t),
                    seq: Some(0),
                    metrics: vec![bd_seq(0)],
                    ..Payload::default()
                };
                publish(
                    Topic::edge("fleet", MessageType::NBirth, &node(i), None),
                    birth.to_bytes(),
                )
                .await?;
                let metrics = (0..f.metrics)
                    .map(|j| {
                        Metric::birth(
                            &format!("m{j:02}"),
                            j as u64 + 1,
                            t,
                            levels[i * f.metrics + j],
                        )
                    })
                    .collect();
                let dbirth = Payload {
                    timestamp: Some(t),
                    seq: Some(1),
                    metrics,
                    ..Payload::default()
                };
                publish(
                    Topic::edge("fleet", MessageType::DBirth, &node(i), Some("machine")),
                    dbirth.to_bytes(),
                )
                .await?;
                sent += 2;
            }
        }
        let start = Instant::now();
        let ticks = (f.seconds * f.rate).ceil() as u64;
        for tick in 0..ticks {
            for i in 0..f.nodes {
                let due = start + period.mul_f64(tick as f64 + i as f64 / f.nodes as f64);
                if due > Instant::now() {
                    tokio::time::sleep_until(due.into()).await;
                }
                let t = now_ms();
                let values: Vec<f64> = (0..f.metrics)
                    .map(|j| levels[i * f.metrics + j] + rng.noise())
                    .collect();
                if f.sparkplug {
                    // This tick's turn of C metrics (all of them when C = M).
                    let metrics = (0..f.changed)
                        .map(|k| (tick as usize * f.changed + k) % f.metrics)
                        .map(|j| Metric::data(j as u64 + 1, t, values[j]))
                        .collect();
                    let data = Payload {
                        timestamp: Some(t),
                        seq: Some((tick + 2) % 256),
                        metrics,
                        ..Payload::default()
                    };
                    publish(
                        Topic::edge("fleet", MessageType::DData, &node(i), Some("machine")),
                        data.to_bytes(),
                    )
                    .await?;
                    sent += 1;
                } else {
                    for (j, v) in values.iter().enumerate() {
                        let stream = format!("{}/machine/m{j:02}", node(i));
                        let body =
                            format!(r#"{{"stream":"{stream}","seq":{tick},"t":{t},"value":{v}}}"#);
                        publish(format!("fleet/{stream}"), body.into_bytes()).await?;
                        sent += 1;
                    }
                }
            }
        }
        if f.sparkplug {
            for i in 0..f.nodes {
                let death = Payload {
                    timestamp: Some(now_ms()),
                    metrics: vec![bd_seq(0)],
                    ..Payload::default()
                };
                publish(
                    Topic::edge("fleet", MessageType::NDeath, &node(i), None),
                    death.to_bytes(),
                )
                .await?;
                sent += 1;
            }
        }
        let elapsed = start.elapsed().as_secs_f64();
        println!(
            "fleet: {sent} messages to {}:{} in {elapsed:.1} s ({:.0}/s)",
            f.host,
            f.port,
            sent as f64 / elapsed.max(1e-9)
        );
        Ok(())
    }
    .await;
    // Let the event loop send what is queued before the process ends.
    if client.disconnect().await.is_ok() {
        let _ = tokio::time::timeout(Duration::from_secs(30), finished).await;
    }
    if let Err(e) = result {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
