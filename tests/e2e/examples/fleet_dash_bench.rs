//! Publish → chart latency through the real dashboard (issue 15's "Measured"): the site that
//! `cargo xtask site` builds, served by the shim as the e2e tests do, in headless Chromium,
//! connected by its own form to Debian's mosquitto (`protocol websockets`). 1,000 Sparkplug
//! edge nodes × 20 metrics are born, a stream's chart is opened (`plant1/node0000/press/m01`,
//! by clicking its group and its row), then DDATA is published at a paced `--rate` messages a
//! second for `--seconds`, QoS 0 (Sparkplug's QoS for data), each message `--per-message`
//! metrics (default 1: report by exception), spread over all 20,000 streams. Every metric's
//! timestamp is its publish time (epoch ms, this machine's clock); the first message of every
//! 10 ms tick is the charted stream's, so it gets 100 readings a second to time.
//!
//! A script hook wraps `window.llmscopeFleetWorker` before the page starts the worker, and
//! listens to the worker's messages: for each update that carries the chart, its new points'
//! latency is `performance.timeOrigin + performance.now()` minus the point's timestamp, once
//! on the message and once after the page's own handler has set the chart (`setTimeout 0`).
//! Printed: p50/p99/max of both, messages a second that reached the page (the worker's
//! `counts.messages`), lost messages (seq gaps, `counts.problems`), how far the page lagged
//! behind the publisher at the end, and the main thread's longest task (`longtask`) while live.
//!
//! Also printed: the worker's own time (the updates' `load`: the engine reading frames, and
//! making each update), and on the page's main thread per update the time to read the message,
//! the page's handler, and the next frame's rendering (with whatever waited with it).
//!
//! `--worker /pkg/fleet-worker-<hash>.js` runs another build's worker (its three files copied
//! into static/pkg) in the same page, to compare builds in one run. `--sim` publishes with
//! `cargo xtask fleet --sparkplug --nodes 1000 --metrics 20 --rate R/1000 --changed K` instead
//! (its group `fleet`, charted stream `fleet/node0000/machine/m00`, one reading a second at
//! `K` = 1, so few timed points; `LLMSCOPE_FLEET_SIM` may name a built `fleet_sim`).
//!
//! `--css RULES` adds a style sheet to the page first, to try a rendering change without
//! rebuilding the site.
//!
//! `cargo run -p llmscope-e2e --example fleet_dash_bench [-- --rate 20000 --seconds 10
//! --per-message 1 --worker URL --sim --css RULES]` (needs `cargo xtask site` first)

use llmscope_e2e::{
    eventually, free_port, js, type_into, wait_for, Driver, Mosquitto, Site, APP_MOUNTED, DEADLINE,
};
use llmscope_protocol::sparkplug::{MessageType, Metric, Payload, Topic};
use rumqttc::{AsyncClient, MqttOptions, QoS};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const NODES: usize = 1_000;
const METRICS: u64 = 20;
/// Nodes born per round: the broker queues at most 1,000 messages for the browser.
const ROUND: usize = 100;
const CHARTED: &str = "plant1/node0000/press/m01";
/// With `--sim`: the simulator's first stream (one reading a second at one metric a message).
const SIM_CHARTED: &str = "fleet/node0000/machine/m00";
/// With `--sim`: the simulator runs this much longer than the measured seconds.
const SIM_SETUP: Duration = Duration::from_secs(20);
/// With `--sim`: how long its nodes may take to appear (`cargo xtask fleet` may build first).
const SIM_START: Duration = Duration::from_secs(300);
const TICK: Duration = Duration::from_millis(10);

/// Wraps the page's worker factory so every update is seen by `window.bench` too; the
/// listener is added before the page's `onmessage`, so `setTimeout 0` runs after the page
/// has drawn the update. A second listener, added after the page's, times the page's handler
/// (`handler`), and the first one times reading the message (`clone`: the structured clone
/// is read on first access of `data`).
const HOOK: &str = r#"
window.bench = { stream: null, updates: [], onMessage: [], onChart: [], longest: 0, live: false,
  load: { receive_ms: 0, tick_ms: [], calls: 0, frames: 0 }, tasks: [], clone: [], handler: [], render: [],
  mark: 0 };
new PerformanceObserver((l) => l.getEntries().forEach((e) => {
  if (!window.bench.live) return;
  window.bench.longest = Math.max(window.bench.longest, e.duration);
  if (e.duration > 50) window.bench.tasks.push(Math.round(e.duration));
})).observe({ type: 'longtask' });
const start = WORKER ? () => new Worker(WORKER, { type: 'module' }) : window.llmscopeFleetWorker;
window.llmscopeFleetWorker = function () {
  const worker = start.apply(this, arguments);
  worker.addEventListener('message', (e) => {
    const b = window.bench, before = performance.now();
    const m = e.data;
    if (!m || m.type !== 'update') return;
    b.mark = performance.now();
    if (b.live) b.clone.push(b.mark - before);
    const now = performance.timeOrigin + performance.now();
    if (m.counts) b.updates.push([now, m.counts.messages, m.counts.problems]);
    if (m.load && b.live) {
      b.load.receive_ms += m.load.receive_ms;
      b.load.tick_ms.push(m.load.tick_ms);
      b.load.calls += m.load.calls;
      b.load.frames += m.load.frames;
    }
    const points = b.stream && m.points && m.points[b.stream];
    if (!points || !points.length || !m.view || !m.view.chart) return;
    const ts = points.map((p) => p[0]);
    ts.forEach((t) => b.onMessage.push(now - t));
    setTimeout(() => {
      const drawn = performance.timeOrigin + performance.now();
      if (document.querySelector(`[data-testid=fleet-chart][data-stream="${b.stream}"]`))
        ts.forEach((t) => b.onChart.push(drawn - t));
    }, 0);
  });
  // After the page's own `onmessage`, which it sets once this returns.
  queueMicrotask(() => worker.addEventListener('message', (e) => {
    const b = window.bench;
    if (!b.live || e.data?.type !== 'update') return;
    b.handler.push(performance.now() - b.mark);
    // The next frame's rendering (style, layout, paint) of what the handler set, roughly:
    // from its animation-frame callbacks to the first task after.
    requestAnimationFrame(() => {
      const start = performance.now();
      setTimeout(() => b.render.push(performance.now() - start), 0);
    });
  }));
  return worker;
};
return true;
"#;

/// The first number of the list's summary: its groups.
const GROUPS: &str =
    "const t = document.querySelector('[data-testid=fleet-summary]')?.textContent ?? ''; \
                      return +(t.match(/\\d+/) ?? [0])[0];";

struct Args {
    rate: f64,
    seconds: f64,
    per_message: u64,
    /// Another build's worker script (its path on the site, e.g. `/pkg/fleet-worker-<hash>.js`
    /// copied into static/pkg), to compare builds in the same run; default the site's own.
    worker: Option<String>,
    /// Publish with `cargo xtask fleet` instead of this example's own paced publisher.
    sim: bool,
    /// A style rule for the page, to try a rendering change without rebuilding the site.
    css: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        rate: 20_000.0,
        seconds: 10.0,
        per_message: 1,
        worker: None,
        sim: false,
        css: None,
    };
    let mut words = std::env::args().skip(1);
    while let Some(flag) = words.next() {
        if flag == "--sim" {
            a.sim = true;
            continue;
        }
        let value = words.next().unwrap_or_default();
        let number = || -> f64 {
            value
                .parse()
                .unwrap_or_else(|_| panic!("{flag} takes a number, not {value:?}"))
        };
        match flag.as_str() {
            "--rate" => a.rate = number(),
            "--seconds" => a.seconds = number(),
            "--per-message" => a.per_message = (number() as u64).clamp(1, METRICS),
            "--worker" => a.worker = Some(value.to_string()),
            "--css" => a.css = Some(value.to_string()),
            other => panic!(
                "unknown argument {other}: --rate, --seconds, --per-message, --worker, --sim, --css"
            ),
        }
    }
    a
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

fn node(i: usize) -> String {
    format!("node{i:04}")
}

async fn send(client: &AsyncClient, kind: MessageType, node: &str, seq: u64, metrics: Vec<Metric>) {
    let device = matches!(kind, MessageType::DBirth | MessageType::DData).then_some("press");
    let payload = Payload {
        timestamp: Some(now_ms()),
        seq: Some(seq % 256),
        metrics,
        ..Payload::default()
    };
    client
        .publish(
            Topic::edge("plant1", kind, node, device),
            QoS::AtMostOnce,
            false,
            payload.to_bytes(),
        )
        .await
        .expect("publish");
}

/// p50, p99 and max of `values` (nearest rank).
fn quantiles(mut values: Vec<f64>) -> String {
    if values.is_empty() {
        return "no points".into();
    }
    values.sort_by(f64::total_cmp);
    let rank =
        |q: f64| values[((q * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1];
    // Tenths of a millisecond for short times.
    let d = if rank(1.0) < 100.0 { 1 } else { 0 };
    format!(
        "p50 {:.d$} ms, p99 {:.d$} ms, max {:.d$} ms ({} points)",
        rank(0.5),
        rank(0.99),
        rank(1.0),
        values.len()
    )
}

async fn number(client: &fantoccini::Client, script: &str) -> f64 {
    js(client, script).await.as_f64().unwrap_or(0.0)
}

/// DDATA paced: by each 10 ms tick, as many messages as the rate asks for since the start, the
/// first of each tick the charted stream's. Returns the messages sent, `(wall ms, messages so
/// far)` after each tick, and the seconds it took.
async fn publish_paced(publisher: &AsyncClient, a: &Args) -> (u64, Vec<(u64, u64)>, f64) {
    let mut seq = vec![2u64; NODES];
    let mut sent: u64 = 0;
    let mut spread: u64 = 0; // walks all 20,000 streams
    let mut published: Vec<(u64, u64)> = Vec::new(); // (wall ms, messages so far)
    let start = Instant::now();
    let mut ticks = tokio::time::interval(TICK);
    while start.elapsed().as_secs_f64() < a.seconds {
        ticks.tick().await;
        let due = (a.rate * start.elapsed().as_secs_f64()) as u64;
        let mut first = true;
        while sent < due {
            let (i, from) = if first {
                (0, 1) // the charted stream, m01 of node0000
            } else {
                let k = spread;
                spread += 1;
                (
                    (k as usize) % NODES,
                    1 + (k / NODES as u64 * a.per_message) % METRICS,
                )
            };
            first = false;
            let t = now_ms();
            let metrics = (0..a.per_message)
                .map(|j| {
                    Metric::data(
                        1 + (from - 1 + j) % METRICS,
                        t,
                        10.0 + ((sent + j) % 7) as f64 * 0.1,
                    )
                })
                .collect();
            send(publisher, MessageType::DData, &node(i), seq[i], metrics).await;
            seq[i] += 1;
            sent += 1;
        }
        published.push((now_ms(), sent));
    }
    (sent, published, start.elapsed().as_secs_f64())
}

/// `cargo xtask fleet` publishing to the broker at `tcp`: 1,000 Sparkplug nodes × 20 metrics,
/// each node `rate / 1,000` DDATA a second of `per_message` metrics, for the asked seconds plus
/// [`SIM_SETUP`] (its births, and opening the chart while its data flows). Resolves to the
/// messages it sent, births and deaths included (all the page has counted since connecting).
/// `LLMSCOPE_FLEET_SIM` may name a built `fleet_sim` to run instead (the same flags; xtask
/// builds it in release).
fn simulator(a: &Args, tcp: u16) -> tokio::task::JoinHandle<u64> {
    let mut cmd = match std::env::var_os("LLMSCOPE_FLEET_SIM") {
        Some(path) => std::process::Command::new(path),
        None => {
            let mut cargo = std::process::Command::new(env!("CARGO"));
            cargo.args(["xtask", "fleet"]);
            cargo
        }
    };
    cmd.current_dir(llmscope_e2e::root())
        .args(["--sparkplug", "--nodes"])
        .arg(NODES.to_string())
        .arg("--metrics")
        .arg(METRICS.to_string())
        .arg("--rate")
        .arg((a.rate / NODES as f64).to_string())
        .arg("--changed")
        .arg(a.per_message.to_string())
        .arg("--seconds")
        .arg((a.seconds + SIM_SETUP.as_secs_f64()).to_string())
        .arg("--broker")
        .arg(format!("mqtt://127.0.0.1:{tcp}"))
        .stdout(std::process::Stdio::piped());
    tokio::task::spawn_blocking(move || {
        let out = cmd.output().expect("cargo xtask fleet");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "cargo xtask fleet failed: {text}");
        // "fleet: N messages to HOST:PORT in ..."
        text.lines()
            .find_map(|l| l.strip_prefix("fleet: ")?.split(' ').next()?.parse().ok())
            .unwrap_or_else(|| panic!("no count in the simulator's output: {text}"))
    })
}

#[tokio::main]
async fn main() {
    let a = args();
    let (tcp, ws, ws_closed) = (free_port(), free_port(), free_port());
    let _broker = Mosquitto::start(tcp, ws, ws_closed);
    let site = Site::start();
    let driver = Driver::start();
    let client = driver.browser().await;
    client.goto(&site.url).await.expect("the dashboard");
    wait_for(&client, APP_MOUNTED, DEADLINE).await;
    let worker = serde_json::to_string(&a.worker).expect("a string");
    js(&client, &format!("const WORKER = {worker};\n{HOOK}")).await;
    if let Some(css) = &a.css {
        let css = serde_json::to_string(css).expect("a string");
        js(
            &client,
            &format!("const s = document.createElement('style'); s.textContent = {css}; document.head.append(s); return 0;"),
        )
        .await;
    }
    type_into(&client, "mqtt-url", &format!("ws://127.0.0.1:{ws}")).await;
    type_into(&client, "mqtt-topic", "spBv1.0/#").await;
    js(
        &client,
        "document.querySelector('[data-testid=mqtt-connect]').click(); return 0;",
    )
    .await;
    eventually("connected", DEADLINE, || async {
        let s = js(
            &client,
            "return document.querySelector('[data-testid=mqtt-status]').dataset.state;",
        )
        .await;
        if s == "connected" {
            Ok(())
        } else {
            Err(s.to_string())
        }
    })
    .await;

    let sim = a.sim.then(|| simulator(&a, tcp));
    let (group, charted) = match sim {
        Some(_) => ("fleet/node0000/machine", SIM_CHARTED),
        None => ("plant1/node0000/press", CHARTED),
    };
    let mut options = MqttOptions::new("fleet-dash-bench", "127.0.0.1", tcp);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_max_packet_size(1 << 20, 1 << 20);
    let (publisher, mut events) = AsyncClient::new(options, 10_000);
    tokio::spawn(async move { while events.poll().await.is_ok() {} });
    let rounds = if sim.is_some() { 0 } else { NODES / ROUND };
    if sim.is_some() {
        eventually("the simulator's nodes", SIM_START, || async {
            let groups = number(&client, GROUPS).await;
            if groups >= NODES as f64 {
                Ok(())
            } else {
                Err(format!("{groups} groups"))
            }
        })
        .await;
    }
    for round in 0..rounds {
        for i in round * ROUND..(round + 1) * ROUND {
            send(&publisher, MessageType::NBirth, &node(i), 0, vec![]).await;
            let metrics = (1..=METRICS)
                .map(|m| Metric::birth(&format!("m{m:02}"), m, now_ms(), 10.0))
                .collect();
            send(&publisher, MessageType::DBirth, &node(i), 1, metrics).await;
        }
        let born = ((round + 1) * ROUND) as f64;
        eventually("the round's groups", DEADLINE, || async {
            let groups = number(&client, GROUPS).await;
            if groups >= born {
                Ok(())
            } else {
                Err(format!("{groups} groups"))
            }
        })
        .await;
    }
    // Open node0000's group, then the charted stream's chart.
    let press = |css: String| {
        let client = client.clone();
        async move {
            eventually(&css, DEADLINE, || async {
                let found = js(
                    &client,
                    &format!("const e = document.querySelector({css:?}); e?.click(); return !!e;"),
                )
                .await;
                if found == true {
                    Ok(())
                } else {
                    Err("not there".to_string())
                }
            })
            .await
        }
    };
    press(format!("[data-group='{group}']")).await;
    press(format!("#fleet-scroll [data-stream='{charted}']")).await;
    wait_for(
        &client,
        &format!("[data-testid=fleet-chart][data-stream='{charted}']"),
        DEADLINE,
    )
    .await;
    js(
        &client,
        &format!("window.bench.stream = {charted:?}; window.bench.live = true; return 0;"),
    )
    .await;
    let before = number(
        &client,
        "const u = window.bench.updates; return u[u.length-1][1];",
    )
    .await;
    let problems_before = number(
        &client,
        "const u = window.bench.updates; return u[u.length-1][2];",
    )
    .await;

    let (sent, published, publishing) = match sim {
        Some(sim) => {
            let started = Instant::now();
            let total = sim.await.expect("the simulator's thread");
            (
                total.saturating_sub(before as u64),
                Vec::new(),
                started.elapsed().as_secs_f64(),
            )
        }
        None => publish_paced(&publisher, &a).await,
    };
    // Until the page has every message, or 30 s more.
    let target = before + sent as f64;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut got = before;
    while got < target && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        got = number(
            &client,
            "const u = window.bench.updates; return u[u.length-1][1];",
        )
        .await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let bench = js(&client, "window.bench.live = false; return window.bench;").await;
    let floats = |key: &str| -> Vec<f64> {
        bench[key]
            .as_array()
            .map(|v| v.iter().filter_map(|x| x.as_f64()).collect())
            .unwrap_or_default()
    };
    let updates: Vec<(f64, f64, f64)> = bench["updates"]
        .as_array()
        .map(|v| {
            v.iter()
                .map(|u| {
                    (
                        u[0].as_f64().unwrap_or(0.0),
                        u[1].as_f64().unwrap_or(0.0),
                        u[2].as_f64().unwrap_or(0.0),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let live: Vec<&(f64, f64, f64)> = updates.iter().filter(|u| u.1 > before).collect();
    let (first, last) = (live.first().copied(), live.last().copied());
    let reached = last.map(|l| l.1 - before).unwrap_or(0.0);
    let span = match (first, last) {
        (Some(f), Some(l)) if l.0 > f.0 => (l.0 - f.0) / 1000.0,
        _ => publishing,
    };
    // How far behind the publisher the page was: for each update, its arrival minus the wall
    // time the publisher had sent that many messages (the newest message of the batch).
    let lag: Vec<f64> = live
        .iter()
        .filter_map(|u| {
            let n = (u.1 - before) as u64;
            published
                .iter()
                .find(|p| p.1 >= n)
                .map(|p| u.0 - p.0 as f64)
        })
        .collect();
    let problems = last.map(|l| l.2 - problems_before).unwrap_or(0.0);
    let longest = bench["longest"].as_f64().unwrap_or(0.0);
    let tasks = floats("tasks");
    let (clone, handler, render) = (floats("clone"), floats("handler"), floats("render"));
    let load = &bench["load"];
    let ticks: Vec<f64> = load["tick_ms"]
        .as_array()
        .map(|v| v.iter().filter_map(|x| x.as_f64()).collect())
        .unwrap_or_default();
    println!(
        "fleet dashboard bench: {NODES} nodes x {METRICS} metrics, DDATA of {} metric(s), QoS 0, asked {:.0} messages/s for {:.0} s",
        a.per_message, a.rate, a.seconds
    );
    println!(
        "  published {sent} messages in {publishing:.2} s = {:.0} messages/s ({:.0} readings/s)",
        sent as f64 / publishing,
        (sent * a.per_message) as f64 / publishing
    );
    println!(
        "  reached the page: {reached:.0} of {sent} ({:.0} messages/s over the page's {span:.2} s of updates); lost (seq gaps): {problems:.0}",
        reached / span
    );
    println!(
        "  publish -> chart update on the page ({charted}): {}",
        quantiles(floats("onMessage"))
    );
    println!(
        "  publish -> chart drawn (after the page's handler): {}",
        quantiles(floats("onChart"))
    );
    println!(
        "  the page behind the publisher (newest message of each update): {}",
        quantiles(lag)
    );
    println!(
        "  the page's longest main-thread task while live: {longest:.0} ms (0: none over 50 ms); tasks over 50 ms: {tasks:?}"
    );
    println!(
        "  the page's main thread per update: reading the message {}; the page's handler (with the hook's own bookkeeping) {}; the next frame's rendering and what waited with it {}",
        quantiles(clone),
        quantiles(handler),
        quantiles(render)
    );
    if ticks.is_empty() {
        println!("  the worker's own time: not reported (a worker without `load`)");
    } else {
        let receive = load["receive_ms"].as_f64().unwrap_or(0.0);
        let calls = load["calls"].as_f64().unwrap_or(0.0);
        let frames = load["frames"].as_f64().unwrap_or(0.0);
        let tick: f64 = ticks.iter().sum();
        println!(
            "  the worker's own time over the page's {span:.2} s: engine.receive {receive:.0} ms ({:.1} us a frame, {calls:.0} calls of {:.1} frames), the batch (tick) {tick:.0} ms ({}); {:.0} % of the span",
            1000.0 * receive / frames.max(1.0),
            frames / calls.max(1.0),
            quantiles(ticks.clone()),
            100.0 * (receive + tick) / (1000.0 * span)
        );
    }
    let _ = client.close().await;
}
