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
//! `target/screenshots/NAME.png`, [`resource_urls`], and [`built_assets`] (the site's hashed
//! files, whose names change with every build).
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

/// The built site's generated assets, as paths on the site, sorted: every file in
/// `static/pkg/` (`pkg/app-<hash>.css`, `pkg/llmscope-<hash>.js`, `pkg/llmscope_bg-<hash>.wasm`).
pub fn built_assets() -> Vec<String> {
    let pkg = root().join("static/pkg");
    let entries = std::fs::read_dir(&pkg).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: the site is not built: {HOW_TO_FIX}",
            pkg.display()
        )
    });
    let mut assets: Vec<String> = entries
        .map(|e| {
            let name = e.expect("an entry of static/pkg").file_name();
            format!("pkg/{}", name.to_string_lossy())
        })
        .collect();
    assets.sort();
    assets
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
pub fn shim_binary() -> PathBuf {
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
        Site::serve(&root().join("static"))
    }

    /// Starts the shim serving the folder `site`: `static/`, or a copy with files of its own
    /// ([`SiteCopy`]); fails when the site is not built.
    pub fn serve(site: &Path) -> Site {
        assert!(
            site.join("index.html").exists(),
            "static/index.html is missing: the site is not built: {HOW_TO_FIX}"
        );
        let assets = built_assets();
        for kind in [".js", ".wasm", ".css"] {
            assert!(
                assets.iter().any(|a| a.ends_with(kind)),
                "static/pkg/ has no {kind} (it has {assets:?}): the site is not built: {HOW_TO_FIX}"
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
            .arg(site)
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
            // A page left for another must end, not freeze in the back/forward cache: a frozen
            // page mid-way through opening IndexedDB stalls every later open of the database.
            "--disable-back-forward-cache".into(),
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
        Session::open_on(Site::start()).await
    }

    /// Starts a browser and opens the home page of `site`.
    pub async fn open_on(site: Site) -> Session {
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

    /// A URL on the site, e.g. `url("favicon.svg")`.
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
/// A site without a brand.json answers the page's request for it with 404, which the browser
/// logs as a failed load: that is the usual case (README "White-label"), not an error.
pub async fn console_errors(client: &Client) -> Vec<String> {
    console_log(client)
        .await
        .into_iter()
        .filter(|(level, _)| level == "SEVERE")
        .map(|(_, message)| message)
        .filter(|m| {
            !m.contains(
                "/brand.json - Failed to load resource: the server responded with a status of 404",
            )
        })
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

mod page;
pub use page::*;
mod poppler;
mod site_copy;
pub use poppler::poppler;
pub use site_copy::SiteCopy;
mod compare;
pub use compare::*;
mod fleet;
mod noise;
pub use fleet::{bridge, fleet_worker_path, serve_fleet_page, Mosquitto};
pub use noise::normal;
