//! `llmscope-shim watch URL`: a terminal client of the stream protocol that runs a control chart
//! per stream, live, with the SPC engine. It shows what the dashboard will show in the browser:
//! limits once each baseline is complete, every signal the moment it happens, stale streams,
//! gaps. It is also the reference client: it reconnects with backoff and `?since=`.

use futures_util::{SinkExt, StreamExt};
use llmscope_protocol::{ClientFrame, Sample, ServerFrame, StreamState};
use llmscope_spc::{
    Baseline, ChartSpec, ChartType, Monitor, Observation, Point, Signal, Sink, Which,
};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// Points per stream that form its baseline.
const PHASE1: usize = 40;
/// How often the summary table is printed.
const TABLE_EVERY: Duration = Duration::from_secs(10);

/// One stream's chart and what to print about it.
struct Chart {
    unit: String,
    monitor: Monitor,
    last: Option<f64>,
    n: u64,
    signals: u64,
    state: String,
}

/// Collects what a push produced.
#[derive(Default)]
struct Found {
    limits: Option<Point>,
    signals: Vec<Signal>,
}

impl Sink for Found {
    fn point(&mut self, which: Which, point: Point) {
        if which == Which::Primary {
            self.limits = Some(point);
        }
    }
    fn signal(&mut self, which: Which, signal: Signal) {
        if which == Which::Primary {
            self.signals.push(signal);
        }
    }
}

fn chart(unit: Option<String>) -> Option<Chart> {
    let spec = ChartSpec {
        baseline: Baseline::FirstN { n: PHASE1 },
        ..ChartSpec::new(ChartType::Individuals)
    };
    Some(Chart {
        unit: unit.unwrap_or_default(),
        monitor: Monitor::streaming(spec).ok()?,
        last: None,
        n: 0,
        signals: 0,
        state: "live".into(),
    })
}

fn clock(t: i64) -> String {
    let s = t.div_euclid(1000).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02} UTC", s / 3600, s / 60 % 60, s % 60)
}

/// A `watch` usage error (connection trouble is retried, never an error).
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// The URL is not `ws://` or `wss://`.
    #[error("'{0}' is not a WebSocket URL like ws://127.0.0.1:9750/ws")]
    NotWebSocket(String),
}

/// Watches until Ctrl-C. Returns only on a usage error.
pub async fn watch(url: &str, token: Option<&str>) -> Result<(), WatchError> {
    if !url.starts_with("ws://") && !url.starts_with("wss://") {
        return Err(WatchError::NotWebSocket(url.to_string()));
    }
    let mut charts: BTreeMap<String, Chart> = BTreeMap::new();
    let mut since: Option<u64> = None;
    let mut backoff = Duration::from_millis(500);
    let mut invalid = 0u64;
    let mut table =
        tokio::time::interval_at(tokio::time::Instant::now() + TABLE_EVERY, TABLE_EVERY);
    loop {
        let target = resume_url(url, since);
        let mut ws = match tokio_tungstenite::connect_async(target.as_str()).await {
            Ok((ws, _)) => ws,
            Err(e) => {
                eprintln!(
                    "watch: cannot connect to {url}: {e}; retrying in {:.1} s",
                    backoff.as_secs_f64()
                );
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
                continue;
            }
        };
        if let Some(token) = token {
            let auth = ClientFrame::Auth {
                token: token.to_string(),
            };
            let text = serde_json::to_string(&auth).unwrap_or_default();
            if ws.send(Message::Text(text.into())).await.is_err() {
                continue;
            }
        }
        println!(
            "watch: connected to {url}{}",
            since.map_or(String::new(), |s| format!(" (resuming after seq {s})"))
        );
        backoff = Duration::from_millis(500);
        loop {
            tokio::select! {
                message = ws.next() => {
                    let text = match message {
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                        Some(Ok(_)) => continue,
                    };
                    match ServerFrame::parse(&text) {
                        Ok(frame) => handle(frame, &mut charts, &mut since),
                        Err(e) => {
                            invalid += 1;
                            eprintln!("watch: invalid frame #{invalid} ignored: {e}");
                        }
                    }
                }
                _ = table.tick() => print_table(&charts),
            }
        }
        eprintln!("watch: connection lost; reconnecting");
        tokio::time::sleep(backoff).await;
    }
}

/// `url` with `since` added as a query parameter, after any query the URL already has.
fn resume_url(url: &str, since: Option<u64>) -> String {
    match since {
        Some(s) if url.contains('?') => format!("{url}&since={s}"),
        Some(s) => format!("{url}?since={s}"),
        None => url.to_string(),
    }
}

fn handle(frame: ServerFrame, charts: &mut BTreeMap<String, Chart>, since: &mut Option<u64>) {
    match frame {
        ServerFrame::Hello { server, streams } => {
            for s in streams {
                if let std::collections::btree_map::Entry::Vacant(slot) = charts.entry(s.id) {
                    if let Some(c) = chart(s.unit) {
                        slot.insert(c);
                    }
                }
            }
            println!("watch: {server}, {} streams; each gets an individuals chart, {PHASE1}-point baseline, Nelson tests", charts.len());
        }
        ServerFrame::Sample(s) => sample(s, charts, since),
        ServerFrame::Batch { samples } => {
            samples.into_iter().for_each(|s| sample(s, charts, since))
        }
        ServerFrame::Status {
            stream,
            state,
            reason,
        } => {
            let words = match state {
                StreamState::Stale => format!("stale: {}", reason.unwrap_or_default()),
                StreamState::Live => "live again".into(),
            };
            println!("watch: {stream} is {words}");
            if let Some(c) = charts.get_mut(&stream) {
                c.state = if state == StreamState::Live {
                    "live".into()
                } else {
                    "STALE".into()
                };
            }
        }
        ServerFrame::Gap { missed } => {
            println!("watch: {missed} samples were lost while disconnected")
        }
    }
}

fn sample(s: Sample, charts: &mut BTreeMap<String, Chart>, since: &mut Option<u64>) {
    *since = Some(s.seq);
    if !charts.contains_key(&s.stream) {
        let Some(c) = chart(None) else { return };
        charts.insert(s.stream.clone(), c);
    }
    let Some(c) = charts.get_mut(&s.stream) else {
        return;
    };
    let mut found = Found::default();
    let frozen = c.monitor.estimate().is_some();
    if c.monitor
        .push(Observation::Value(s.value), &mut found)
        .is_err()
    {
        return;
    }
    c.last = Some(s.value);
    c.n += 1;
    let latest = c.n as usize - 1;
    if let (false, Some(e)) = (frozen, c.monitor.estimate()) {
        let width = 3.0 * e.sigma;
        println!(
            "watch: {} baseline complete: center {:.4} {u}, limits {:.4} to {:.4} {u}",
            s.stream,
            e.center,
            e.center - width,
            e.center + width,
            u = c.unit
        );
        // Signals inside the baseline are Phase I findings, not news: summarize them once.
        let mut tests: Vec<u8> = found
            .signals
            .iter()
            .filter(|x| x.index < latest)
            .map(|x| x.test.number())
            .collect();
        tests.sort_unstable();
        tests.dedup();
        if !tests.is_empty() {
            let listed: Vec<String> = tests.iter().map(u8::to_string).collect();
            println!(
                "watch: {} its baseline itself fails test(s) {}: review the process before trusting these limits",
                s.stream,
                listed.join(", ")
            );
        }
    }
    for signal in found.signals.into_iter().filter(|x| x.index == latest) {
        c.signals += 1;
        println!(
            "{}  {:<28} SIGNAL test {}: {} (seq {}, value {:.4} {})",
            clock(s.t),
            s.stream,
            signal.test.number(),
            signal.test.describe(signal.test.default_k()),
            s.seq,
            s.value,
            c.unit
        );
    }
}

fn print_table(charts: &BTreeMap<String, Chart>) {
    if charts.is_empty() {
        return;
    }
    println!(
        "{:<30} {:>8} {:>12} {:>12} {:>12} {:>8} {:>6}",
        "stream", "points", "last", "LCL", "UCL", "signals", "state"
    );
    let cell = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.4}"));
    for (id, c) in charts {
        let limits = c
            .monitor
            .estimate()
            .map(|e| (e.center - 3.0 * e.sigma, e.center + 3.0 * e.sigma));
        println!(
            "{:<30} {:>8} {:>12} {:>12} {:>12} {:>8} {:>6}",
            id,
            c.n,
            cell(c.last),
            cell(limits.map(|l| l.0)),
            cell(limits.map(|l| l.1)),
            c.signals,
            c.state
        );
    }
}

#[cfg(test)]
mod tests {
    use super::resume_url;

    #[test]
    fn since_joins_an_existing_query() {
        let base = "ws://127.0.0.1:9750/ws";
        assert_eq!(resume_url(base, None), base);
        assert_eq!(resume_url(base, Some(7)), format!("{base}?since=7"));
        assert_eq!(
            resume_url(&format!("{base}?token=t"), Some(7)),
            format!("{base}?token=t&since=7")
        );
    }
}
