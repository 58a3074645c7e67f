//! Test support for the probe Worker's end-to-end tests: the real Worker under `wrangler dev`
//! (workerd, local D1), started exactly as workers/README.md documents, and a webhook
//! receiver that records what the Worker POSTs; and issue 12's comparison scenario
//! ([`scenario`]), which the dashboard's browser test can start too; and the targets of the
//! provider stand-ins ([`targets`]).
#![deny(missing_docs)]

pub mod scenario;
pub mod targets;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The repository's `workers/` folder.
pub fn workers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workers")
}

/// One wrangler dev at a time builds (they share workers/build/).
static STARTING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A running `wrangler dev`; dropping it stops the whole process group (npx, wrangler and
/// workerd, which a plain kill of npx would leave running).
pub struct Wrangler {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    log: PathBuf,
    state: PathBuf,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

impl Wrangler {
    /// Starts the Worker with `vars` (`--var`) and `secrets` (an env file, like `.dev.vars`:
    /// wrangler prints `--var` values but hides these), and waits for `/health`.
    pub async fn start(name: &str, vars: &[(&str, String)], secrets: &[(&str, &str)]) -> Wrangler {
        let dir = workers_dir();
        assert!(
            dir.join("node_modules/.bin/wrangler").exists(),
            "wrangler is not installed: run `cargo xtask test` (or `npm ci` in workers/)"
        );
        let scratch = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/probe-tests")
            .join(format!("wrangler-{name}"));
        let _ = std::fs::remove_dir_all(&scratch);
        std::fs::create_dir_all(&scratch).expect("scratch folder");
        let env_file = scratch.join("secrets.env");
        let lines: String = secrets.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        std::fs::write(&env_file, lines).expect("env file");
        let log = scratch.join("wrangler.log");
        let state = scratch.join("state");
        let port = free_port();
        let _one_build_at_a_time = STARTING.lock().await;
        let mut cmd = Command::new("npx");
        cmd.current_dir(&dir)
            .args(["wrangler", "dev", "--local", "--ip", "127.0.0.1", "--port"])
            .arg(port.to_string())
            .args(["--test-scheduled", "--show-interactive-dev-session=false"])
            .arg("--persist-to")
            .arg(&state)
            .arg("--env-file")
            .arg(&env_file);
        for (k, v) in vars {
            cmd.arg("--var").arg(format!("{k}:{v}"));
        }
        let out = std::fs::File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        cmd.env("WRANGLER_SEND_METRICS", "false")
            .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd.spawn().expect("npx wrangler dev");
        let mut w = Wrangler {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
            state,
        };
        w.wait_ready().await;
        w
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(400);
        let health = format!("{}/health", self.url);
        let client = reqwest::Client::new();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("wrangler dev exited ({status}):\n{}", self.log());
            }
            let answer = client
                .get(&health)
                .timeout(Duration::from_secs(5))
                .send()
                .await;
            if answer.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "wrangler dev not ready in 400 s:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Everything wrangler and the Worker printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The folder wrangler persists D1 in.
    pub fn state_dir(&self) -> &Path {
        &self.state
    }

    /// Runs SQL on the Worker's local D1 (`wrangler d1 execute --local`): the rows of each
    /// statement, as wrangler's `--json` prints them.
    pub fn d1(&self, sql: &str) -> serde_json::Value {
        let out = Command::new("npx")
            .current_dir(workers_dir())
            .args(["wrangler", "d1", "execute", "llmscope", "--local", "--json"])
            .arg("--persist-to")
            .arg(&self.state)
            .arg("--command")
            .arg(sql)
            .env("WRANGLER_SEND_METRICS", "false")
            .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .expect("npx wrangler d1 execute");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "wrangler d1 execute {sql}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }
}

impl Drop for Wrangler {
    fn drop(&mut self) {
        let pgid = self.child.id();
        let group = format!("-{pgid}");
        let _ = Command::new("kill")
            .args(["-s", "TERM", "--", &group])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &group])
            .status();
        let _ = self.child.wait();
    }
}

/// How the webhook receiver answers one POST.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Answer {
    /// This HTTP status, at once.
    Status(u16),
    /// Never: the request hangs until the Worker gives up.
    Hang,
}

#[derive(Default)]
struct Hook {
    /// Answers for the next POSTs, in order; 200 once they are used up.
    script: std::collections::VecDeque<Answer>,
    /// Every POST: its body and how it was answered.
    attempts: Vec<(serde_json::Value, Answer)>,
}

/// Records every POST to `/hook` (the Worker's `LLMSCOPE_WEBHOOK`), answering 200 unless told
/// otherwise ([`Webhook::answer_next`]).
pub struct Webhook {
    /// Where it listens.
    pub addr: SocketAddr,
    hook: Arc<Mutex<Hook>>,
}

impl Webhook {
    /// Starts on 127.0.0.1 in the current tokio runtime.
    pub async fn start() -> Webhook {
        use axum::http::StatusCode;
        use axum::routing::post;
        let hook: Arc<Mutex<Hook>> = Arc::default();
        let shared = hook.clone();
        let app = axum::Router::new().route(
            "/hook",
            post(move |body: axum::body::Bytes| {
                let hook = shared.clone();
                async move {
                    let value = serde_json::from_slice(&body).unwrap_or_else(|_| {
                        serde_json::Value::String(String::from_utf8_lossy(&body).into())
                    });
                    let answer = {
                        let mut h = hook.lock().unwrap_or_else(|e| e.into_inner());
                        let answer = h.script.pop_front().unwrap_or(Answer::Status(200));
                        h.attempts.push((value, answer));
                        answer
                    };
                    match answer {
                        Answer::Status(code) => {
                            StatusCode::from_u16(code).unwrap_or(StatusCode::OK)
                        }
                        Answer::Hang => std::future::pending().await,
                    }
                }
            }),
        );
        let addr = serve(app).await;
        Webhook { addr, hook }
    }

    /// `http://ADDR/hook`.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Answers the next POSTs so, in order (then 200 again).
    pub fn answer_next(&self, answers: &[Answer]) {
        let mut h = self.hook.lock().unwrap_or_else(|e| e.into_inner());
        h.script.extend(answers.iter().copied());
    }

    /// The bodies delivered: answered 2xx.
    pub fn received(&self) -> Vec<serde_json::Value> {
        self.attempts()
            .into_iter()
            .filter(|(_, a)| matches!(a, Answer::Status(200..=299)))
            .map(|(body, _)| body)
            .collect()
    }

    /// Every POST, delivered or not, with its answer.
    pub fn attempts(&self) -> Vec<(serde_json::Value, Answer)> {
        self.hook
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .attempts
            .clone()
    }
}

/// One POST an [`Inbox`] received: its path, headers (names in lower case) and raw body.
#[derive(Clone, Debug)]
pub struct Delivered {
    /// `/slack`, `/teams`, ...
    pub path: String,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// The body's bytes, exactly as received (a signature covers them).
    pub body: Vec<u8>,
}

impl Delivered {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
}

/// Records every POST to any path with its headers and raw body, answering 200
/// `{"ok": true}` (what Slack's Web API answers a call it took): the receivers of the alerts'
/// destinations, one path each.
pub struct Inbox {
    /// Where it listens.
    pub addr: SocketAddr,
    got: Arc<Mutex<Vec<Delivered>>>,
}

impl Inbox {
    /// Starts on 127.0.0.1 in the current tokio runtime.
    pub async fn start() -> Inbox {
        let got: Arc<Mutex<Vec<Delivered>>> = Arc::default();
        let shared = got.clone();
        let app = axum::Router::new().fallback(
            move |uri: axum::http::Uri, headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let got = shared.clone();
                async move {
                    let headers = headers
                        .iter()
                        .map(|(k, v)| {
                            (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())
                        })
                        .collect();
                    got.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(Delivered {
                            path: uri.path().to_string(),
                            headers,
                            body: body.to_vec(),
                        });
                    axum::Json(serde_json::json!({"ok": true}))
                }
            },
        );
        let addr = serve(app).await;
        Inbox { addr, got }
    }

    /// `http://ADDR{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// What arrived at `path`, in order.
    pub fn at(&self, path: &str) -> Vec<Delivered> {
        self.got
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|d| d.path == path)
            .cloned()
            .collect()
    }

    /// Everything that arrived.
    pub fn all(&self) -> Vec<Delivered> {
        self.got.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Serves `app` on a free port of 127.0.0.1 in the current tokio runtime: its address.
async fn serve(app: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}
