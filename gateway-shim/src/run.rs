//! `llmscope-shim run`: starts every source of the config, the hub, the WebSocket server and
//! the optional MQTT republisher, and stops them all on shutdown (mini-redis's shape: a thin
//! main, one shutdown token, a bounded wait for every task).

use crate::config::Config;
use crate::hub::Hub;
use crate::server::{self, Options};
use crate::source::{Emitter, Source};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long tasks get to finish after shutdown.
const STOP_WAIT: Duration = Duration::from_secs(3);

/// Why `run` stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {cause} (is another program using it? choose another listen address)")]
    Listen {
        /// The configured address.
        addr: String,
        /// What the system said.
        cause: std::io::Error,
    },
    /// The server failed while running.
    #[error("server: {0}")]
    Serve(std::io::Error),
}

/// Builds every configured source.
pub fn build_sources(config: &Config) -> Vec<Box<dyn Source>> {
    config
        .sources()
        .into_iter()
        .map(|(_, _, section)| section.build())
        .collect()
}

/// Runs until `shutdown` is cancelled. `ready` receives the address actually bound (useful
/// with port 0).
pub async fn run(
    config: Config,
    shutdown: CancellationToken,
    ready: impl FnOnce(std::net::SocketAddr),
) -> Result<(), RunError> {
    let sources = build_sources(&config);
    let streams = sources.iter().flat_map(|s| s.streams()).collect();
    let devices = crate::publish::devices(&config, &sources);
    let publish_stats = std::sync::Arc::new(crate::publish::Stats::default());
    let hub = Hub::new(config.server.buffer, streams);
    let listener = tokio::net::TcpListener::bind(&config.server.listen)
        .await
        .map_err(|cause| RunError::Listen {
            addr: config.server.listen.clone(),
            cause,
        })?;
    let addr = listener.local_addr().map_err(RunError::Serve)?;

    let mut tasks = tokio::task::JoinSet::new();
    let (emitter, mut events) = Emitter::channel(8192);
    for source in sources {
        tasks.spawn(source.run(emitter.clone(), shutdown.child_token()));
    }
    drop(emitter);
    let pump = hub.clone();
    tasks.spawn(async move {
        while let Some(event) = events.recv().await {
            pump.apply(event);
        }
    });
    if let Some(publish) = config.publish.clone() {
        tasks.spawn(crate::publish::run(
            publish,
            devices,
            hub.samples(),
            shutdown.child_token(),
            publish_stats.clone(),
        ));
    }
    let options = Options {
        token: config.server.token.clone(),
        origins: config.server.origins.clone(),
        hosts: config.server.hosts(),
        max_connections: config.server.max_connections,
        site: config.server.site.clone(),
        publish: config.publish.is_some().then_some(publish_stats),
    };
    ready(addr);
    let served = server::serve(listener, hub, options, shutdown.clone()).await;
    shutdown.cancel();
    let _ = tokio::time::timeout(STOP_WAIT, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    served.map_err(RunError::Serve)
}

/// A token cancelled on Ctrl-C or SIGTERM.
pub fn shutdown_on_signals() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {}
            () = term => {}
        }
        eprintln!("llmscope-shim: stopping");
        cancel.cancel();
    });
    token
}
