//! Helpers the browser tests share: scripts, counts, form edits, imports, notices, downloads,
//! and sessions planted in or read back from the app's IndexedDB.

use crate::*;

/// Runs a script and returns its value.
pub async fn js(client: &Client, script: &str) -> serde_json::Value {
    client
        .execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("{script}: {e}"))
}

/// How many elements match `css`. A failed query fails the test (it is not "none found", which
/// would let a `count == 0` check pass on a broken page or selector).
pub async fn count(client: &Client, css: &str) -> usize {
    client
        .find_all(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("cannot count `{css}`: {e}"))
        .len()
}

/// Sets a form control's value and fires `change`, as a user's edit does.
pub async fn set(client: &Client, testid: &str, value: &str) {
    let script = format!(
        "const e = document.querySelector('[data-testid=\"{testid}\"]'); e.value = {value:?}; \
         e.dispatchEvent(new Event('change', {{bubbles: true}})); return e.value;"
    );
    assert_eq!(
        js(client, &script).await,
        serde_json::json!(value),
        "{testid}"
    );
}

/// The text of the element of `testid`, once it is there.
pub async fn text_of(client: &Client, testid: &str) -> String {
    wait_for(client, &format!("[data-testid={testid}]"), DEADLINE)
        .await
        .text()
        .await
        .unwrap_or_default()
}

/// Types `value` into the input of `testid` as a user's typing does (`input` events).
pub async fn type_into(client: &Client, testid: &str, value: &str) {
    let script = format!(
        "const e = document.querySelector('[data-testid=\"{testid}\"]'); e.value = {value:?}; \
         e.dispatchEvent(new Event('input', {{bubbles: true}})); return true;"
    );
    js(client, &script).await;
}

/// Connects a probe Worker as a user does in the Sources panel: its URL and token typed in,
/// then "Poll".
pub async fn connect_probe(client: &Client, url: &str, token: &str) {
    type_into(client, "probe-url", url).await;
    type_into(client, "probe-token", token).await;
    click(client, Locator::Css("[data-testid=probe-connect]")).await;
}

/// A screenshot of the window (to `target/screenshots/NAME.png`) with the element of `testid`
/// at its top, just under the sticky header; then back to the top of the page.
pub async fn screenshot_at(client: &Client, testid: &str, name: &str) {
    // At once: the page scrolls smoothly otherwise.
    let script = format!(
        "const e = document.querySelector('[data-testid={testid}]'); window.scrollTo({{top: \
         e.getBoundingClientRect().top + window.scrollY - 130, behavior: 'instant'}}); return true;"
    );
    js(client, &script).await;
    let shot = screenshot(client, name).await;
    assert!(shot.exists(), "{}", shot.display());
    // Back to the top: the sticky header would cover a button scrolled under it.
    js(
        client,
        "window.scrollTo({top: 0, behavior: 'instant'}); return true;",
    )
    .await;
}

pub async fn pause_simulators(client: &Client) {
    let button = wait_for(client, "[data-testid=simulators]", DEADLINE).await;
    if button.attr("aria-pressed").await.ok().flatten().as_deref() == Some("true") {
        button.click().await.expect("pause the simulators");
    }
}

pub async fn import(client: &Client, path: &std::path::Path) {
    let input = wait_for(client, "[data-testid=import-file]", DEADLINE).await;
    input
        .send_keys(&path.display().to_string())
        .await
        .expect("choose the file");
}

pub async fn notice(client: &Client) -> String {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let text = wait_for(client, "[data-testid=notice]", DEADLINE)
            .await
            .text()
            .await
            .unwrap_or_default();
        if !text.contains("importing") {
            return text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the import never finished: {text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn temp_csv(name: &str, text: &str) -> std::path::PathBuf {
    let dir = root().join("target/e2e/files");
    std::fs::create_dir_all(&dir).expect("a folder for test files");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write the test file");
    path
}

/// Waits for a finished download whose name ends with `suffix` in `dir`, and returns it.
pub async fn downloaded(dir: &Path, suffix: &str) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let found = std::fs::read_dir(dir).ok().and_then(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .find(|p| p.to_string_lossy().ends_with(suffix))
        });
        if let Some(path) = found {
            if std::fs::metadata(&path).is_ok_and(|m| m.len() > 0) {
                return path;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no {suffix} download in {}",
            dir.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A session of one stream, `bench/latency`, with `points` latency-like values (a seeded
/// xorshift, so every run measures the same data), as the app saves it.
pub fn bench_session_json(points: usize) -> String {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let samples: Vec<String> = (0..points)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let v = 420.0 + 80.0 * ((state >> 40) as f64 / (1u64 << 24) as f64);
            format!(
                r#"{{"t":{},"value":{v:.3}}}"#,
                1_764_201_600_000u64 + i as u64 * 100
            )
        })
        .collect();
    format!(
        r#"{{"streams":[{{"id":"bench/latency","unit":"ms","origin":"Simulator","samples":[{}],"settings":{{"chart":{{"phase1":100}},"lsl":null,"usl":800.0,"subgroup_size":null}},"stale":null}}]}}"#,
        samples.join(",")
    )
}

/// Finds an element and clicks it, failing with what it looked for.
pub async fn click(client: &Client, locator: Locator<'_>) {
    let what = format!("{locator:?}");
    client
        .find(locator)
        .await
        .unwrap_or_else(|e| panic!("no {what}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("cannot click {what}: {e}"));
}

/// A WebSocket server on a free loopback port, standing in for a shim: `serve` runs for each
/// client that completes the handshake. Returns the port and how many TCP connections came.
pub async fn ws_server<F, Fut>(serve: F) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>)
where
    F: Fn(tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = connections.clone();
    let serve = std::sync::Arc::new(serve);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let serve = serve.clone();
            tokio::spawn(async move {
                if let Ok(ws) = tokio_tungstenite::accept_async(tcp).await {
                    serve(ws).await;
                }
            });
        }
    });
    (port, connections)
}

/// Polls `check` every 100 ms until it gives `Ok`, for at most `deadline`. On timeout it fails
/// with `what` and the last `Err`, which says what was seen instead.
pub async fn eventually<T, F, Fut>(what: &str, deadline: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let until = tokio::time::Instant::now() + deadline;
    loop {
        match check().await {
            Ok(value) => return value,
            Err(seen) if tokio::time::Instant::now() >= until => {
                panic!("{what} within {deadline:?}: {seen}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Types `url` into the Sources panel's live-shim form (as a user's typing does: `input`
/// events) and clicks Connect.
pub async fn connect_live(client: &Client, url: &str) {
    let script = format!(
        "const e = document.querySelector('[data-testid=connect-url]'); e.value = {url:?}; \
         e.dispatchEvent(new Event('input', {{bubbles: true}})); return true;"
    );
    js(client, &script).await;
    click(client, Locator::Css("[data-testid=connect]")).await;
}

/// Puts [`bench_session_json`] of `points` in the browser's storage and opens its stream.
pub async fn load_bench_session(session: &Session, points: usize) {
    let client = &session.client;
    // The app loads IndexedDB first and migrates localStorage when IndexedDB is empty.
    client
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             localStorage.setItem('llmscope.session.v1', arguments[0]); \
             const r = indexedDB.deleteDatabase('llmscope'); \
             r.onsuccess = () => done(true); r.onerror = () => done(false); r.onblocked = () => done(false);",
            vec![bench_session_json(points).into()],
        )
        .await
        .expect("store the session");
    client.goto("about:blank").await.expect("leave");
    client
        .goto(&session.url("#stream=bench%2Flatency"))
        .await
        .expect("open the stream");
}

/// The names on the dashboard's stream cards, sorted.
pub async fn stream_names(client: &Client) -> serde_json::Value {
    js(client, "return [...document.querySelectorAll('[data-testid=stream-card] .name')].map(e => e.textContent).sort()").await
}

/// A session generation the app stored in IndexedDB (`"current"`, `"previous"` or `"kept"`),
/// read back as the app's storage holds it: `null` when there is none, else `{"raw": text}`
/// plus, when the text reads, `"session"`: the session with every stream's `samples` and
/// `seqs` put back from its chunks (version 2, docs in app/src/idb/) or as stored whole
/// (version 1).
pub async fn saved_session(client: &Client, which: &str) -> Value {
    let script = r#"
        const done = arguments[arguments.length - 1];
        const which = arguments[0];
        const open = indexedDB.open('llmscope');
        open.onerror = () => done({error: String(open.error)});
        open.onsuccess = () => {
            const db = open.result;
            if (!db.objectStoreNames.contains('sessions')) { db.close(); return done(null); }
            const names = db.objectStoreNames.contains('chunks') ? ['sessions', 'chunks'] : ['sessions'];
            const tx = db.transaction(names);
            const get = tx.objectStore('sessions').get(which);
            get.onsuccess = () => {
                const text = get.result;
                if (text === undefined) { db.close(); return done(null); }
                if (typeof text !== 'string') { db.close(); return done({raw: String(text)}); }
                let meta;
                try { meta = JSON.parse(text); } catch (e) { db.close(); return done({raw: text}); }
                if (meta.format !== 2) { db.close(); return done({raw: text, session: meta}); }
                const store = tx.objectStore('chunks');
                const keys = store.getAllKeys();
                const values = store.getAll();
                values.onsuccess = () => {
                    const chunks = keys.result.map((k, i) => [k, values.result[i]]);
                    const streams = meta.streams.map(s => {
                        const stride = s.seqs ? 3 : 2;
                        const samples = [], seqs = [];
                        chunks.filter(([k]) => k[0] === s.id).sort((a, b) => a[0][1] - b[0][1]).forEach(([, c]) => {
                            for (let i = 1; i + stride <= c.length; i += stride) {
                                const at = c[0] + (i - 1) / stride;
                                if (at < s.start || at >= s.start + s.len) continue;
                                samples.push({t: c[i], value: c[i + 1]});
                                if (s.seqs && Number.isFinite(c[i + 2])) seqs.push(c[i + 2]);
                            }
                        });
                        return {...s, samples, seqs};
                    });
                    db.close();
                    done({raw: text, session: {...meta, streams}});
                };
            };
        };"#;
    client
        .execute_async(script, vec![which.into()])
        .await
        .unwrap_or_else(|e| panic!("cannot read the saved session ({which}) from IndexedDB: {e}"))
}

/// Puts `value` (a string) under `key` in the app's `sessions` store, as a stored session.
pub async fn plant_session(client: &Client, key: &str, value: &str) {
    let script = r#"
        const done = arguments[arguments.length - 1];
        const open = indexedDB.open('llmscope');
        open.onerror = () => done(String(open.error));
        open.onsuccess = () => {
            const db = open.result;
            const tx = db.transaction('sessions', 'readwrite');
            tx.objectStore('sessions').put(arguments[1], arguments[0]);
            tx.oncomplete = () => { db.close(); done('ok'); };
            tx.onabort = () => { db.close(); done(String(tx.error)); };
        };"#;
    let outcome = client
        .execute_async(script, vec![key.into(), value.into()])
        .await
        .unwrap_or_else(|e| panic!("cannot store a session in IndexedDB: {e}"));
    assert_eq!(outcome, "ok", "storing a session under {key}");
}

/// A stand-in probe Worker on a free loopback port, speaking its documented results contract:
/// `GET /targets` answers `targets`, `GET /results?target=NAME&since=0&…` answers that
/// target's results from `results` on its first poll (later polls and other targets get
/// `[]`), every request needs `Authorization: Bearer token`, and CORS allows any origin.
pub async fn worker_stand_in(
    token: &'static str,
    targets: String,
    results: Vec<(String, String)>,
) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let answers = std::sync::Arc::new((targets, results));
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let answers = answers.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = tcp.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]).to_string();
                let line = request.lines().next().unwrap_or_default().to_string();
                let authorized = request
                    .lines()
                    .any(|l| l.eq_ignore_ascii_case(&format!("authorization: Bearer {token}")));
                let first = answers.1.iter().find(|(name, _)| {
                    line.starts_with(&format!("GET /results?target={name}&since=0&"))
                });
                let (status, body) = if line.starts_with("OPTIONS") {
                    ("204 No Content", String::new())
                } else if !authorized {
                    (
                        "401 Unauthorized",
                        r#"{"error":"unauthorized"}"#.to_string(),
                    )
                } else if line.starts_with("GET /targets") {
                    ("200 OK", answers.0.clone())
                } else if let Some((_, body)) = first {
                    ("200 OK", body.clone())
                } else if line.starts_with("GET /results") {
                    ("200 OK", "[]".to_string())
                } else {
                    ("404 Not Found", "{}".to_string())
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nAccess-Control-Allow-Origin: *\r\nAccess-Control-Allow-Headers: authorization\r\nAccess-Control-Allow-Methods: GET\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tcp.write_all(response.as_bytes()).await;
            });
        }
    });
    port
}
