//! Live data in the browser: the dashboard connects to the shim that serves it (`?live=1`) and
//! charts the simulated plant; a server that sends invalid frames gets them counted and shown,
//! and the good frames around them still arrive.

use fantoccini::Client;
use futures_util::SinkExt;
use llmscope_e2e::{console_errors, js, wait_for, Session, DEADLINE};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

async fn text_of(client: &Client, css: &str) -> String {
    wait_for(client, css, DEADLINE)
        .await
        .text()
        .await
        .unwrap_or_default()
}

#[tokio::test]
async fn the_dashboard_charts_the_plant_streamed_by_the_shim_that_serves_it() {
    let session = Session::open().await;
    let client = &session.client;
    client
        .goto(&session.url("?live=1"))
        .await
        .expect("open with live data");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(45);
    loop {
        let names = js(client, "return [...document.querySelectorAll('[data-testid=stream-card] .name')].map(e => e.textContent)").await;
        let status = text_of(client, "[data-testid=live-status]").await;
        if names
            .as_array()
            .is_some_and(|n| n.iter().any(|x| x == "press1/cycle_time"))
            && status.starts_with("live from ws://")
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no live plant streams: {names} / {status}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let errors = console_errors(client).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    session.close().await;
}

#[tokio::test]
async fn invalid_frames_are_counted_and_shown_and_the_stream_goes_on() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                let frames = [
                    r#"{"type":"hello","server":"fake/1","streams":[{"id":"fake/<b>bold</b>","unit":"mm"}]}"#,
                    "this is not json",
                    r#"{"type":"sample","stream":"fake/<b>bold</b>","seq":1,"t":1764201600000,"value":1.5}"#,
                    r#"{"type":"sample","stream":"fake/<b>bold</b>"}"#,
                    r#"{"type":"sample","stream":"fake/<b>bold</b>","seq":2,"t":1764201600100,"value":2.5}"#,
                ];
                for f in frames {
                    if ws.send(Message::Text(f.into())).await.is_err() {
                        return;
                    }
                }
                tokio::time::sleep(Duration::from_secs(60)).await;
            });
        }
    });
    let session = Session::open().await;
    let client = &session.client;
    client
        .goto(&session.url(&format!("?live=ws://127.0.0.1:{port}/ws")))
        .await
        .expect("open");
    // Another server than the page's own: the page asks first.
    wait_for(client, "[data-testid=ask-live-connect]", DEADLINE)
        .await
        .click()
        .await
        .expect("agree to connect");
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let status = text_of(client, "[data-testid=live-status]").await;
        let last = js(client, "const c = [...document.querySelectorAll('[data-testid=stream-card]')].find(c => c.textContent.includes('fake/')); return c ? c.querySelector('.last strong').textContent : null").await;
        if status.contains("2 invalid frames ignored") && last == "2.5000" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "status {status:?}, last value {last}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let name = js(client, "return [...document.querySelectorAll('[data-testid=stream-card] .name')].map(e => e.textContent).find(t => t.startsWith('fake/'))").await;
    assert_eq!(name, "fake/<b>bold</b>", "the name is shown as text");
    assert_eq!(
        js(client, "return document.querySelectorAll('.card b').length").await,
        0
    );
    session.close().await;
}
