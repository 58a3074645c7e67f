//! End-to-end test support: the built site (`static/`, see `cargo xtask site`) served by
//! `llmscope-shim simulate` with live demo data, driven in headless Chromium over WebDriver.
//!
//! A test opens a [`Session`]: a shim on a free port serving the site, a `chromedriver` on
//! another, and a browser with a fresh profile. [`Session::second_browser`] opens another
//! browser with its own fresh profile (a second user). Every process is ended when its owner
//! is dropped, also when a test fails.
//!
//! Helpers: [`wait_for`] a CSS selector with a deadline, [`console_errors`] (the browser's
//! SEVERE log entries, read from chromedriver's log endpoint, so load failures and uncaught
//! exceptions before any script of ours ran are caught too), [`screenshot`] to
//! `target/screenshots/NAME.png`, and [`resource_urls`].
//!
//! Nothing is skipped: without Chromium, chromedriver, the built site or the shim binary, the
//! helpers fail and say to run `cargo xtask test`, which installs and builds all of them.
//!
//! The shim binary is `$LLMSCOPE_SHIM` (set by `cargo xtask test`), else the newest of
//! `target/debug/llmscope-shim` and `target/release/llmscope-shim`.

use fantoccini::elements::Element;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Debian's Chromium, and its WebDriver.
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Matches once the app has mounted: anything the app put in `<body>` (index.html's body holds
/// only a `<noscript>`, and a `.load-error` paragraph when the wasm fails to start).
pub const APP_MOUNTED: &str = "body > :not(noscript):not(script):not(.load-error)";

/// How long a page may take to show what a test waits for (the machine may be busy).
pub const DEADLINE: Duration = Duration::from_secs(30);

/// What to run when something the tests need is missing.
const HOW_TO_FIX: &str =
    "run `cargo xtask test`, which installs Chromium and chromedriver (apt-get), \
                          builds the site (`cargo xtask site`) and the shim, then runs these tests";

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root")
}

/// A free TCP port on 127.0.0.1 (the OS picks it; it stays free long enough to be taken).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// Waits until something accepts TCP connections on `addr`, or the child has exited.
fn wait_listening(addr: SocketAddr, child: &mut Child, what: &str, log: &Path) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "{what} exited ({status}) before listening on {addr}; its log ({}):\n{}",
                log.display(),
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        if Instant::now() > deadline {
            panic!("{what} did not listen on {addr} within {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A fresh, unique folder under target/e2e/ for logs and browser profiles.
fn fresh_dir(kind: &str) -> PathBuf {
    static COUNT: AtomicU32 = AtomicU32::new(0);
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    let dir = root()
        .join("target/e2e")
        .join(kind)
        .join(format!("{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// A child process that is killed when dropped; then its folders are removed, except its log
/// when a test failed (so it can be read: target/e2e/logs/).
struct Process {
    child: Child,
    /// Kill the whole process group (chromedriver's browsers are in it too).
    group: bool,
    /// The folder of its log.
    log_dir: PathBuf,
    /// Folders it used that go when it does (browser profiles).
    scratch: Vec<PathBuf>,
}

impl Drop for Process {
    fn drop(&mut self) {
        if self.group {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        for dir in &self.scratch {
            let _ = std::fs::remove_dir_all(dir);
        }
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.log_dir);
        }
    }
}

/// `llmscope-shim simulate` on a free port, serving `static/` and the demo plant's live data.
pub struct Site {
    process: Process,
    /// The site's address, e.g. `http://127.0.0.1:40123/`.
    pub url: String,
    /// The port it listens on.
    pub port: u16,
}

/// The shim binary: `$LLMSCOPE_SHIM`, else the newest debug or release build.
fn shim_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("LLMSCOPE_SHIM") {
        let path = PathBuf::from(path);
        assert!(
            path.exists(),
            "LLMSCOPE_SHIM is {} but no such file exists: {HOW_TO_FIX}",
            path.display()
        );
        return path;
    }
    let target = root().join("target");
    ["debug", "release"]
        .iter()
        .map(|profile| target.join(profile).join("llmscope-shim"))
        .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
        .max()
        .map(|(_, p)| p)
        .unwrap_or_else(|| {
            panic!("no llmscope-shim binary in target/debug or target/release: {HOW_TO_FIX}")
        })
}

impl Site {
    /// Starts the shim with the built site; fails when the site is not built.
    pub fn start() -> Site {
        let site = root().join("static");
        for built in ["pkg/llmscope.js", "pkg/llmscope_bg.wasm", "index.html"] {
            assert!(
                site.join(built).exists(),
                "static/{built} is missing: the site is not built: {HOW_TO_FIX}"
            );
        }
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let log_dir = fresh_dir("logs");
        let log = log_dir.join("shim.log");
        let log_file = std::fs::File::create(&log).expect("the shim's log file");
        let child = Command::new(shim_binary())
            .args([
                "simulate",
                "--listen",
                &listen,
                "--interval-ms",
                "100",
                "--site",
            ])
            .arg(&site)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("the shim's log file"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start llmscope-shim: {e}: {HOW_TO_FIX}"));
        let mut process = Process {
            child,
            group: false,
            log_dir,
            scratch: Vec::new(),
        };
        wait_listening(
            listen.parse().expect("an address"),
            &mut process.child,
            "llmscope-shim",
            &log,
        );
        Site {
            process,
            url: format!("http://{listen}/"),
            port,
        }
    }

    /// The shim's process id (for tests that stop it).
    pub fn pid(&self) -> u32 {
        self.process.child.id()
    }
}

/// A running chromedriver; browsers opened through it get fresh profiles.
pub struct Driver {
    process: std::sync::Mutex<Process>,
    url: String,
}

impl Driver {
    /// Starts `chromedriver --port=<free>`; fails with what to do when Chromium is missing.
    pub fn start() -> Driver {
        for (what, path) in [("Chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER)] {
            assert!(
                Path::new(path).exists(),
                "{what} is not installed ({path} is missing): {HOW_TO_FIX}"
            );
        }
        let port = free_port();
        let log_dir = fresh_dir("logs");
        let log = log_dir.join("chromedriver.log");
        let mut cmd = Command::new(CHROMEDRIVER);
        cmd.arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            // Its own process group, so the browsers it starts are ended with it.
            cmd.process_group(0);
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}: {HOW_TO_FIX}"));
        let mut process = Process {
            child,
            group: true,
            log_dir,
            scratch: Vec::new(),
        };
        wait_listening(
            SocketAddr::from(([127, 0, 0, 1], port)),
            &mut process.child,
            "chromedriver",
            &log,
        );
        Driver {
            process: std::sync::Mutex::new(process),
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// A new headless Chromium with a fresh profile, logging every console message.
    pub async fn browser(&self) -> Client {
        self.browser_with_downloads().await.0
    }

    /// A new browser, and the folder its downloads land in.
    pub async fn browser_with_downloads(&self) -> (Client, PathBuf) {
        let profile = fresh_dir("profiles");
        let downloads = profile.join("Downloads");
        if let Ok(mut process) = self.process.lock() {
            process.scratch.push(profile.clone());
        }
        let args = [
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--window-size=1400,1000".into(),
            format!("--user-data-dir={}", profile.display()),
        ];
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": args,
                "prefs": {
                    "download.default_directory": downloads.display().to_string(),
                    "download.prompt_for_download": false,
                },
            },
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let client = ClientBuilder::rustls()
            .expect("a WebDriver HTTP client")
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("cannot open Chromium through chromedriver: {e}"));
        (client, downloads)
    }
}

/// Everything a browser test needs: the site, chromedriver and one browser.
pub struct Session {
    /// The browser, on a fresh profile.
    pub client: Client,
    /// Where the browser's downloads land.
    pub downloads: PathBuf,
    /// The served site.
    pub site: Site,
    pub driver: Driver,
}

impl Session {
    /// Starts the site and a browser, and opens the site's home page.
    pub async fn open() -> Session {
        let site = Site::start();
        let driver = Driver::start();
        let (client, downloads) = driver.browser_with_downloads().await;
        client
            .goto(&site.url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", site.url));
        // Let the first page finish starting (its IndexedDB set-up) before a test navigates on.
        wait_for(&client, APP_MOUNTED, DEADLINE).await;
        Session {
            client,
            downloads,
            site,
            driver,
        }
    }

    /// Another browser with its own fresh profile (nothing shared with the first), at the
    /// site's home page.
    pub async fn second_browser(&self) -> Client {
        let client = self.driver.browser().await;
        client
            .goto(&self.site.url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", self.site.url));
        client
    }

    /// A URL on the site, e.g. `url("pkg/llmscope.js")`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.site.url, path.trim_start_matches('/'))
    }

    /// Ends the browser session (the processes end when the session is dropped).
    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// Waits until `css` matches an element, for at most `deadline`. On timeout it fails with the
/// page's console errors, which usually say why.
pub async fn wait_for(client: &Client, css: &str, deadline: Duration) -> Element {
    match client
        .wait()
        .at_most(deadline)
        .every(Duration::from_millis(50))
        .for_element(Locator::Css(css))
        .await
    {
        Ok(element) => element,
        Err(e) => {
            let errors = console_errors(client).await;
            let url = client.current_url().await.map(|u| u.to_string());
            panic!(
                "`{css}` did not appear within {deadline:?} on {url:?} ({e}); console errors: {errors:#?}"
            )
        }
    }
}

/// chromedriver's log endpoint (`POST /session/{id}/se/log`): the entries of one log since the
/// last call.
#[derive(Debug)]
struct GetLog(&'static str);

impl WebDriverCompatibleCommand for GetLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({ "type": self.0 }).to_string()),
        )
    }
}

/// The browser's console and page log since the last call: `(level, message)`, levels as
/// chromedriver names them (`SEVERE`, `WARNING`, `INFO`, `DEBUG`).
pub async fn console_log(client: &Client) -> Vec<(String, String)> {
    let entries = client
        .issue_cmd(GetLog("browser"))
        .await
        .unwrap_or_else(|e| panic!("cannot read the browser's log from chromedriver: {e}"));
    entries
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| {
                    let field =
                        |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                    (field("level"), field("message"))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The console errors (uncaught exceptions, `console.error`, failed loads) since the last call.
pub async fn console_errors(client: &Client) -> Vec<String> {
    console_log(client)
        .await
        .into_iter()
        .filter(|(level, _)| level == "SEVERE")
        .map(|(_, message)| message)
        .collect()
}

/// Saves a PNG of the browser's viewport to `target/screenshots/NAME.png`, and returns the path.
pub async fn screenshot(client: &Client, name: &str) -> PathBuf {
    let png = client
        .screenshot()
        .await
        .unwrap_or_else(|e| panic!("cannot take a screenshot: {e}"));
    let dir = root().join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path
}

/// Every URL the page has loaded so far (the document and its resources, from the Resource
/// Timing API).
pub async fn resource_urls(client: &Client) -> Vec<String> {
    let value = client
        .execute(
            "return [location.href].concat(performance.getEntriesByType('resource').map(e => e.name));",
            vec![],
        )
        .await
        .unwrap_or_else(|e| panic!("cannot read the page's resources: {e}"));
    serde_json::from_value(value).expect("a list of URLs")
}

// ---- helpers the tests share: scripts, counts, imports, notices ----

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
/// `seqs` put back from its chunks (version 2, docs in app/src/idb.rs) or as stored whole
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
