//! Derived streams in the browser (issue 14): with the shim's simulated stamping line, the user
//! defines energy per part (`delta(line1/energy) / delta(line1/parts)`) in the form below the
//! cards; it becomes a card whose value is one stroke's energy over its parts as the shim sent
//! them, and a stream with a control chart once its baseline is complete. A scrap rate
//! `p(bad, total)` is charted as a p chart. A formula naming a stream that does not exist is
//! refused with its position; the definitions survive a reload, and one can be removed.

use fantoccini::{Client, Locator};
use futures_util::StreamExt;
use llmscope_e2e::{click, console_errors, eventually, js, type_into, Session, DEADLINE};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

const NAME: &str = "line1/energy_per_part";
const FORMULA: &str = "delta(line1/energy) / delta(line1/parts)";

/// Listens to the shim at `port` as a client of its own: every `(stream, t, value)` it sends.
async fn listen(port: u16) -> Arc<Mutex<Vec<(String, f64, f64)>>> {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws"))
        .await
        .expect("connect to the shim");
    let heard = Arc::new(Mutex::new(Vec::new()));
    let into = heard.clone();
    tokio::spawn(async move {
        while let Some(Ok(message)) = ws.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            let frame: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let samples = match frame["type"].as_str() {
                Some("sample") => vec![frame.clone()],
                Some("batch") => frame["samples"].as_array().cloned().unwrap_or_default(),
                _ => Vec::new(),
            };
            for s in samples {
                if let (Some(stream), Some(t), Some(v)) =
                    (s["stream"].as_str(), s["t"].as_f64(), s["value"].as_f64())
                {
                    into.lock().expect("heard").push((stream.to_string(), t, v));
                }
            }
        }
    });
    heard
}

/// Each stroke's energy per part from what the shim sent: the changes of `line1/energy` over
/// those of `line1/parts` between consecutive polls where the parts rose.
fn strokes(heard: &[(String, f64, f64)]) -> Vec<f64> {
    let of = |name: &str| -> Vec<(f64, f64)> {
        heard
            .iter()
            .filter(|(s, _, _)| s == name)
            .map(|&(_, t, v)| (t, v))
            .collect()
    };
    let (energy, parts) = (of("line1/energy"), of("line1/parts"));
    let at = |t: f64| energy.iter().find(|e| e.0 == t).map(|e| e.1);
    parts
        .windows(2)
        .filter(|w| w[1].1 > w[0].1)
        .filter_map(|w| Some((at(w[1].0)? - at(w[0].0)?) / (w[1].1 - w[0].1)))
        .collect()
}

/// The card named `name`: its value and source, or what the page shows instead.
async fn card(client: &Client, name: &str) -> Result<(String, String), String> {
    let script = format!(
        "const c = [...document.querySelectorAll('[data-testid=stream-card]')]\
         .find(c => c.querySelector('.name').textContent === {name:?}); \
         return c ? [c.querySelector('.last strong').textContent, \
         c.querySelector('[data-testid=stream-source]').textContent] : null"
    );
    match js(client, &script).await {
        Value::Array(a) => Ok((
            a[0].as_str().unwrap_or_default().to_string(),
            a[1].as_str().unwrap_or_default().to_string(),
        )),
        other => Err(format!("no card {name}: {other}")),
    }
}

/// Fills the form and clicks Add (the form opens first when it is closed).
async fn define(client: &Client, name: &str, formula: &str) {
    js(
        client,
        "document.querySelector('details.derived').open = true; return true",
    )
    .await;
    type_into(client, "derived-name", name).await;
    type_into(client, "derived-formula", formula).await;
    click(client, Locator::Css("[data-testid=derived-add]")).await;
}

async fn error_text(client: &Client) -> String {
    js(
        client,
        "return document.querySelector('[data-testid=derived-error]').textContent",
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_string()
}

#[tokio::test]
async fn energy_per_part_is_a_stream_like_any_other() {
    let session = Session::open().await;
    let client = &session.client;
    let heard = listen(session.site.port).await;
    client
        .goto(&session.url("?live=1"))
        .await
        .expect("open with live data");
    eventually("the line's counters on the dashboard", DEADLINE, || async {
        card(client, "line1/parts").await
    })
    .await;

    // A stream that does not exist: refused, with where it is in the formula.
    define(client, "bad", "delta(line1/kwh) / delta(line1/parts)").await;
    let error = eventually("the formula's error", DEADLINE, || async {
        Some(error_text(client).await)
            .filter(|e| !e.is_empty())
            .ok_or_else(|| "no error shown".to_string())
    })
    .await;
    assert_eq!(error, "unknown stream 'line1/kwh' at 1:7");
    assert!(
        card(client, "bad").await.is_err(),
        "no stream for a bad formula"
    );

    define(client, NAME, FORMULA).await;
    // The card's value is one stroke's energy over its parts, as the shim sent the counters
    // (read again until this client has heard the stroke the page shows).
    let (value, source) = eventually("the derived card's value", DEADLINE, || async {
        let (shown, source) = card(client, NAME).await?;
        let value: f64 = shown
            .parse()
            .map_err(|_| format!("the card shows {shown:?}"))?;
        let decimals = shown.split_once('.').map_or(0, |(_, d)| d.len());
        let sent = strokes(&heard.lock().expect("heard"));
        sent.iter()
            .any(|v| (v - value).abs() <= 0.5 * 10f64.powi(-(decimals as i32)) + 1e-12)
            .then_some((value, source))
            .ok_or_else(|| format!("the card shows {shown}; the shim's strokes: {sent:?}"))
    })
    .await;
    assert_eq!(error_text(client).await, "", "the error is cleared");
    assert_eq!(source, format!("= {FORMULA}"));
    assert!(
        (0.007..0.016).contains(&value),
        "about 0.01 kWh a part: {value}"
    );

    // A scrap rate as a p chart.
    define(
        client,
        "line1/scrap_rate",
        "p(delta(line1/scrap), delta(line1/parts))",
    )
    .await;
    eventually("the scrap rate's card", DEADLINE, || async {
        card(client, "line1/scrap_rate").await
    })
    .await;

    // Energy per part charts like any stream once its baseline (30 points) is complete.
    click(
        client,
        Locator::XPath(&format!("//article[.//h2[. = '{NAME}']]")),
    )
    .await;
    let ucl = eventually(
        "the derived stream's control chart",
        Duration::from_secs(120),
        || async {
            let ucl = js(
            client,
            "const u = document.querySelector('[data-testid=ucl]'); return u ? u.textContent : ''",
        )
        .await;
            let ucl = ucl.as_str().unwrap_or_default().to_string();
            ucl.parse::<f64>().map_err(|_| format!("UCL shows {ucl:?}"))
        },
    )
    .await;
    assert!((0.007..0.03).contains(&ucl), "a UCL in kWh a part: {ucl}");
    assert!(js(
        client,
        "return !!document.querySelector('[data-testid=control-chart]')"
    )
    .await
    .as_bool()
    .unwrap_or(false));
    // The scrap rate's chart is a p chart: its first point's UCL is p̄ + 3√(p̄(1 − p̄)/n) for
    // that point's parts n, one stroke's 6 to 8 (Montgomery §7.2.2).
    client
        .goto(&session.url("?live=1#stream=line1%2Fscrap_rate"))
        .await
        .expect("open the scrap rate");
    let (center, ucl) = eventually("the scrap rate's p chart", DEADLINE, || async {
        let shown = js(
            client,
            "const v = id => (document.querySelector(`[data-testid=${id}]`) || {}).textContent; \
             return [v('center'), v('ucl')]",
        )
        .await;
        let number = |i: usize| shown[i].as_str().and_then(|t| t.parse::<f64>().ok());
        number(0)
            .zip(number(1))
            .ok_or_else(|| format!("center and UCL show {shown}"))
    })
    .await;
    assert!(
        (0.0..0.15).contains(&center),
        "a scrap rate near 4 %: {center}"
    );
    let limit = |n: f64| center + 3.0 * (center * (1.0 - center) / n).sqrt();
    assert!(
        [6.0, 7.0, 8.0]
            .iter()
            .any(|&n| (limit(n) - ucl).abs() < 2e-3),
        "UCL {ucl} is not a p chart's for center {center} and 6 to 8 parts"
    );

    // The definitions were saved with the session: after a reload both are listed.
    client.goto(&session.url("?live=1")).await.expect("reload");
    let items = eventually("the saved definitions", DEADLINE, || async {
        let items = js(
            client,
            "return [...document.querySelectorAll('[data-testid=derived-item]')].map(e => e.textContent)",
        )
        .await;
        let items: Vec<String> = serde_json::from_value(items).unwrap_or_default();
        Some(items.clone())
            .filter(|i| i.len() == 2)
            .ok_or_else(|| format!("listed: {items:?}"))
    })
    .await;
    assert!(
        items[0].starts_with(&format!("{NAME} = {FORMULA}")),
        "{items:?}"
    );
    // Removing one removes its stream.
    js(
        client,
        "document.querySelector('details.derived').open = true; return true",
    )
    .await;
    click(
        client,
        Locator::XPath(
            "//li[@data-testid='derived-item'][2]/button[@data-testid='derived-remove']",
        ),
    )
    .await;
    eventually("the scrap rate removed", DEADLINE, || async {
        match card(client, "line1/scrap_rate").await {
            Ok(_) => Err("its card is still there".to_string()),
            Err(_) => Ok(()),
        }
    })
    .await;
    assert!(card(client, NAME).await.is_ok(), "the other stays");

    let errors = console_errors(client).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    session.close().await;
}
