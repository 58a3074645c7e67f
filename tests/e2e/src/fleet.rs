//! The broker source's test rig (tests/fleet_worker.rs, examples/fleet_bench.rs): a mosquitto
//! with WebSocket listeners, and a server for the test page `tests/e2e/pages/fleet.html` and
//! the built site's `static/pkg/` (where `cargo xtask site` puts the worker).

use crate::{built_assets, root, DEADLINE};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A mosquitto with a plain TCP listener, a WebSocket one, and a WebSocket one that refuses
/// clients without a username (`allow_anonymous false`, no password file), stopped when dropped.
pub struct Mosquitto {
    child: Child,
    conf: PathBuf,
}

impl Mosquitto {
    pub fn start(tcp: u16, ws: u16, ws_closed: u16) -> Mosquitto {
        let conf =
            std::env::temp_dir().join(format!("llmscope-fleet-{}-{tcp}.conf", std::process::id()));
        std::fs::write(
            &conf,
            format!(
                "per_listener_settings true\npersistence false\n\
                 listener {tcp} 127.0.0.1\nallow_anonymous true\n\
                 listener {ws} 127.0.0.1\nprotocol websockets\nallow_anonymous true\n\
                 listener {ws_closed} 127.0.0.1\nprotocol websockets\nallow_anonymous false\n"
            ),
        )
        .expect("write the mosquitto config");
        let child = Command::new("/usr/sbin/mosquitto")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start /usr/sbin/mosquitto (apt-get install mosquitto)");
        let mut broker = Mosquitto { child, conf };
        for port in [tcp, ws, ws_closed] {
            let until = Instant::now() + DEADLINE;
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(
                    broker.child.try_wait().ok().flatten().is_none(),
                    "mosquitto exited"
                );
                assert!(Instant::now() < until, "mosquitto did not listen on {port}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        broker
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
