//! The MQTT source over TLS (`mqtts://`) against a mosquitto TLS listener with a throwaway CA.
//! Its own test binary (process), because it sets SSL_CERT_FILE, which must not change while
//! other tests' threads read the environment.

#[path = "support/mqtt.rs"]
mod mqtt_support;
mod support;

use llmscope_shim::source::Event;
use mqtt_support::*;
use std::path::PathBuf;
use std::time::Duration;
use support::{free_ports, wait_for_port};

#[tokio::test]
async fn mqtts_trusts_the_ca_in_ssl_cert_file() {
    // A CA and a server certificate for 127.0.0.1, made fresh for the test.
    let dir =
        TempDir(std::env::temp_dir().join(format!("llmscope-mqtt-tls-{}", std::process::id())));
    let dir = &dir.0;
    std::fs::create_dir_all(dir).expect("a temp folder");
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    openssl(
        dir,
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=llmscope test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        ]
        .concat(),
    );
    openssl(
        dir,
        &[
            &["req"][..],
            &ec,
            &[
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=127.0.0.1",
            ],
        ]
        .concat(),
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
    // mosquitto started as root reads its key as the user `mosquitto`.
    use std::os::unix::fs::PermissionsExt;
    for file in ["server.key", "server.pem", "ca.pem"] {
        std::fs::set_permissions(dir.join(file), std::fs::Permissions::from_mode(0o644))
            .expect("chmod");
    }
    // Only this test connects over TLS, so the process-wide variable is safe to set here.
    std::env::set_var("SSL_CERT_FILE", dir.join("ca.pem"));

    let [plain, tls] = free_ports();
    let d = dir.display();
    let _broker = Broker::with(plain, &format!(
        "listener {tls} 127.0.0.1\ncafile {d}/ca.pem\ncertfile {d}/server.pem\nkeyfile {d}/server.key\n"
    )).await;
    wait_for_port(tls, Duration::from_secs(10)).await;
    let (_, mut rx, shutdown, task) = start_source(&format!(
        r#"
[[mqtt]]
name = "secure"
broker = "mqtts://127.0.0.1:{tls}"

[[mqtt.subscribe]]
topic = "secure/v"
stream = "secure/v"
"#
    ));
    let client = Client::connect(plain, "test-pub-7");
    let events = publish_until(&client, &mut rx, "secure/v", "3.5", |e| {
        is_reading(e, "secure/v", 3.5)
    })
    .await;
    assert!(
        !events.iter().any(|e| matches!(e, Event::Status { .. })),
        "no TLS trouble: {events:?}"
    );
    stop(shutdown, task).await;
}

/// A folder removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
