//! The broker source's test rig (tests/fleet_worker.rs, tests/fleet_bridge.rs,
//! examples/fleet_bench.rs): mosquittos with WebSocket listeners or bridges, and a server for
//! the test page `tests/e2e/pages/fleet.html` and the built site's `static/pkg/` (where
//! `cargo xtask site` puts the worker).

use crate::{built_assets, root, DEADLINE};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A mosquitto of the test's own, stopped when dropped: [`Mosquitto::start`] has the broker
/// source's listeners; [`Mosquitto::with_config`] any config (a bridge, persistence), and can
/// be stopped as an operator does ([`Mosquitto::terminate`]), crash ([`Mosquitto::kill`]) and
/// come back ([`Mosquitto::restart`]).
pub struct Mosquitto {
    child: Option<Child>,
    conf: PathBuf,
    /// The ports it listens on, waited for at every start.
    ports: Vec<u16>,
}

impl Mosquitto {
    /// A plain TCP listener, a WebSocket one, and a WebSocket one that refuses clients without
    /// a username (`allow_anonymous false`, no password file).
    pub fn start(tcp: u16, ws: u16, ws_closed: u16) -> Mosquitto {
        Mosquitto::with_config(
            &format!(
                "per_listener_settings true\npersistence false\n\
                 listener {tcp} 127.0.0.1\nallow_anonymous true\n\
                 listener {ws} 127.0.0.1\nprotocol websockets\nallow_anonymous true\n\
                 listener {ws_closed} 127.0.0.1\nprotocol websockets\nallow_anonymous false\n"
            ),
            &[tcp, ws, ws_closed],
        )
    }

    /// A mosquitto with `conf` as its config file, once it listens on every port of `ports`.
    pub fn with_config(conf: &str, ports: &[u16]) -> Mosquitto {
        let first = ports.first().copied().unwrap_or_default();
        let path = std::env::temp_dir().join(format!(
            "llmscope-fleet-{}-{first}.conf",
            std::process::id()
        ));
        std::fs::write(&path, conf).expect("write the mosquitto config");
        let mut broker = Mosquitto {
            child: None,
            conf: path,
            ports: ports.to_vec(),
        };
        broker.restart();
        broker
    }

    /// Starts it (again) with the same config; returns once it listens.
    pub fn restart(&mut self) {
        let mut child = Command::new("/usr/sbin/mosquitto")
            .arg("-c")
            .arg(&self.conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start /usr/sbin/mosquitto (apt-get install mosquitto)");
        for &port in &self.ports {
            let until = Instant::now() + DEADLINE;
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(
                    child.try_wait().ok().flatten().is_none(),
                    "mosquitto exited ({})",
                    self.conf.display()
                );
                assert!(Instant::now() < until, "mosquitto did not listen on {port}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        self.child = Some(child);
    }

    /// Stops it as an operator does (SIGTERM): it sends the wills of the clients still
    /// connected, saves persistent sessions (`persistence true`) and exits; waits for that.
    pub fn terminate(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let _ = child.wait();
        }
    }

    /// Ends it as a crash or a power cut would (SIGKILL): nothing is sent or saved.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// A folder for `persistence_location` that mosquitto, started as root, can still write
    /// to once it has dropped to its own user.
    pub fn writable_dir(dir: &Path) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    }
}

/// A mosquitto bridge section (docs/deploy-fleet.md): connection `name` to the broker on
/// 127.0.0.1:`remote`, forwarding `topics` out at QoS 1 in a persistent session, its state
/// (`1` up, `0` down: the bridge's will on the remote broker) published retained on
/// `$SYS/broker/connection/{name}-bridge/state` on both brokers.
pub fn bridge(name: &str, remote: u16, topics: &[&str]) -> String {
    let mut section = format!(
        "connection {name}\naddress 127.0.0.1:{remote}\nremote_clientid {name}-bridge\n\
         cleansession false\nnotifications true\nrestart_timeout 1\n"
    );
    for topic in topics {
        section.push_str(&format!("topic {topic} out 1\n"));
    }
    section
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_file(&self.conf);
    }
}

/// Serves `/fleet.html` from tests/e2e/pages and `/pkg/NAME` from the built site's static/pkg,
/// with the types a module worker and wasm need; everything else is 404.
pub async fn serve_fleet_page(port: u16) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("a port for the page");
    let (pages, pkg) = (root().join("tests/e2e/pages"), root().join("static/pkg"));
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let (pages, pkg) = (pages.clone(), pkg.clone());
            tokio::spawn(async move {
                let mut request = vec![0; 4096];
                let n = stream.read(&mut request).await.unwrap_or(0);
                let line = String::from_utf8_lossy(&request[..n])
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let path = line
                    .split(' ')
                    .nth(1)
                    .unwrap_or("/")
                    .split('?')
                    .next()
                    .unwrap_or("/")
                    .to_string();
                let file = match path.strip_prefix("/pkg/") {
                    Some(name) if !name.contains("..") && !name.contains('/') => {
                        Some(pkg.join(name))
                    }
                    _ if path == "/fleet.html" => Some(pages.join("fleet.html")),
                    _ => None,
                };
                let body = file.as_deref().and_then(|f| std::fs::read(f).ok());
                let head = match (
                    &body,
                    file.as_deref()
                        .and_then(Path::extension)
                        .and_then(|e| e.to_str()),
                ) {
                    (Some(b), Some(ext)) => {
                        let kind = match ext {
                            "wasm" => "application/wasm",
                            "js" => "text/javascript",
                            _ => "text/html; charset=utf-8",
                        };
                        format!("HTTP/1.1 200 OK\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", b.len())
                    }
                    _ => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                        .to_string(),
                };
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(body.as_deref().unwrap_or_default()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
}

/// The built worker script's path on the site.
pub fn fleet_worker_path() -> String {
    let assets = built_assets();
    let worker = assets.iter().find(|a| a.starts_with("pkg/fleet-worker-"));
    format!(
        "/{}",
        worker.unwrap_or_else(|| panic!(
            "no pkg/fleet-worker-<hash>.js in {assets:?}: run `cargo xtask site`"
        ))
    )
}
