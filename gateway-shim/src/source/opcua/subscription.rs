//! The running OPC-UA source: connect, subscribe, forward data changes, and start over when the
//! connection is lost.
//!
//! One attempt is: ask the server for its endpoints, pick the one with the configured security
//! and login, open a session, create one subscription and one monitored item per node, then
//! forward notifications until the connection is lost or shutdown is asked for. The crate's own
//! session retry is switched off (`session_retry_limit(0)`): after a loss this source marks every
//! stream stale with the reason, waits (exponential backoff, 0.5 s doubling to 10 s, reset once
//! a session came up), and builds a fresh session and subscription. That way the subscription is
//! always recreated after a server restart, which the crate only does on a best-effort basis.
//! Nothing read from the network is unwrapped; every step has a timeout.

use super::config::{parse_endpoint, parse_node_id, Config, SecurityMode, SecurityPolicy};
use super::error::UaError;
use super::value::{decode, Decoded};
use crate::source::{now_ms, Emitter};
use ::opcua::client::{
    Client, ClientBuilder, IdentityToken, MonitoredItem, OnSubscriptionNotification,
    SessionPollResult, SubscriptionActivity,
};
use ::opcua::crypto::SecurityPolicy as UaPolicy;
use ::opcua::types::{
    DataValue, EndpointDescription, MessageSecurityMode, MonitoredItemCreateRequest,
    MonitoringMode, MonitoringParameters, NodeId, StatusChangeNotification, TimestampsToReturn,
    UserTokenType,
};
use futures_util::StreamExt;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Longest wait for any one step of connecting (endpoints, session, subscription, items).
const STEP_TIMEOUT: Duration = Duration::from_secs(10);
/// Time given to closing the session politely at shutdown.
const CLOSE_TIMEOUT: Duration = Duration::from_millis(1000);
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Notifications buffered between the crate's callback and this source.
const QUEUE: usize = 10_000;
/// Target time between subscription keep-alives when no value changes.
const KEEP_ALIVE: Duration = Duration::from_secs(10);

/// One configured node, ready to monitor.
struct Node {
    /// As written in the config, for messages.
    text: String,
    /// `None` only if the id does not parse, which `validate` already rules out.
    id: Option<NodeId>,
    stream: String,
}

/// Everything an attempt needs, derived once from the config.
pub(super) struct Plan {
    name: String,
    endpoint: String,
    /// The endpoint's path, to prefer the server endpoint with the same path.
    path: String,
    policy: UaPolicy,
    mode: MessageSecurityMode,
    login: Option<(String, String)>,
    publishing: Duration,
    sampling_ms: f64,
    queue_size: u32,
    pki_dir: PathBuf,
    trust_server_certs: bool,
    nodes: Vec<Node>,
}

impl Plan {
    pub(super) fn new(config: Config) -> Plan {
        let mode = match config.effective_mode() {
            SecurityMode::None => MessageSecurityMode::None,
            SecurityMode::Sign => MessageSecurityMode::Sign,
            SecurityMode::SignAndEncrypt => MessageSecurityMode::SignAndEncrypt,
        };
        let policy = match config.security_policy {
            SecurityPolicy::None => UaPolicy::None,
            SecurityPolicy::Basic256Sha256 => UaPolicy::Basic256Sha256,
        };
        let publishing_ms = config.publishing_interval_ms.max(1);
        let sampling_ms = config
            .sampling_interval_ms
            .unwrap_or(publishing_ms)
            .clamp(1, publishing_ms);
        let pki_dir = config.pki_dir.clone().unwrap_or_else(|| {
            let safe: String = config
                .name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            std::env::temp_dir()
                .join("llmscope-shim")
                .join("opcua-pki")
                .join(safe)
        });
        Plan {
            path: parse_endpoint(&config.endpoint)
                .map(|e| e.path)
                .unwrap_or_default(),
            name: config.name,
            endpoint: config.endpoint,
            policy,
            mode,
            login: config.username.zip(config.password),
            publishing: Duration::from_millis(publishing_ms),
            sampling_ms: sampling_ms as f64,
            queue_size: publishing_ms.div_ceil(sampling_ms).clamp(1, 1000) as u32,
            pki_dir,
            trust_server_certs: config.trust_server_certs,
            nodes: config
                .nodes
                .into_iter()
                .map(|n| Node {
                    id: parse_node_id(&n.node_id).ok(),
                    text: n.node_id,
                    stream: n.stream,
                })
                .collect(),
        }
    }
}

/// A stream's last reported state, so that `live` and `stale` are sent on changes only.
#[derive(Clone, Debug, PartialEq)]
enum State {
    Unknown,
    Live,
    Stale(String),
}

/// Reports readings and state changes of the plan's streams.
struct Reporter {
    emit: Emitter,
    source: String,
    streams: Vec<(String, State)>,
}

impl Reporter {
    async fn reading(&mut self, i: usize, t: i64, value: f64) {
        let Some((stream, state)) = self.streams.get_mut(i) else {
            return;
        };
        if *state != State::Live {
            *state = State::Live;
            self.emit.live(stream).await;
        }
        self.emit.reading(stream, t, value).await;
    }

    async fn stale(&mut self, i: usize, reason: &str) {
        let Some((stream, state)) = self.streams.get_mut(i) else {
            return;
        };
        if !matches!(state, State::Stale(r) if r == reason) {
            *state = State::Stale(reason.to_string());
            self.emit.stale(stream, reason).await;
        }
    }

    async fn all_stale(&mut self, reason: &str) {
        for i in 0..self.streams.len() {
            self.stale(i, reason).await;
        }
    }

    async fn malformed(&self, detail: String) {
        self.emit.malformed(&self.source, detail).await;
    }
}

/// How an attempt ended.
enum End {
    Shutdown,
    /// The connection failed or was lost; `was_up` when the subscription had been created.
    Lost {
        reason: String,
        was_up: bool,
    },
}

fn lost(reason: impl Into<String>) -> End {
    End::Lost {
        reason: reason.into(),
        was_up: false,
    }
}

pub(super) async fn run(plan: Plan, emit: Emitter, shutdown: CancellationToken) {
    let mut report = Reporter {
        streams: plan
            .nodes
            .iter()
            .map(|n| (n.stream.clone(), State::Unknown))
            .collect(),
        source: plan.name.clone(),
        emit,
    };
    for (i, node) in plan.nodes.iter().enumerate() {
        if node.id.is_none() {
            report
                .stale(i, &format!("opcua: '{}' is not a node id", node.text))
                .await;
        }
    }
    let mut client = None;
    let mut backoff = FIRST_BACKOFF;
    loop {
        let end = match client.as_mut() {
            Some(client) => attempt(&plan, client, &mut report, &shutdown).await,
            None => match cancellable(&shutdown, make_client(&plan)).await {
                None => End::Shutdown,
                Some(Ok(c)) => {
                    client = Some(c);
                    continue;
                }
                Some(Err(e)) => lost(e.to_string()),
            },
        };
        match end {
            End::Shutdown => return,
            End::Lost { reason, was_up } => {
                report.all_stale(&reason).await;
                if was_up {
                    backoff = FIRST_BACKOFF;
                }
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// The crate's client. Off the async threads: with security it may create a key pair.
async fn make_client(plan: &Plan) -> Result<Client, UaError> {
    let secure = plan.policy != UaPolicy::None;
    let builder = ClientBuilder::new()
        .application_name("llmscope-shim")
        .application_uri("urn:llmscope-shim")
        .product_uri("urn:llmscope-shim")
        .session_name(format!("llmscope-shim {}", plan.name))
        .pki_dir(plan.pki_dir.clone())
        .create_sample_keypair(secure)
        .trust_server_certs(plan.trust_server_certs)
        .session_retry_limit(0)
        .keep_alive_interval(Duration::from_secs(5))
        .max_failed_keep_alive_count(3)
        .request_timeout(STEP_TIMEOUT)
        .publish_timeout(Duration::from_secs(30))
        .min_publish_interval(Duration::from_millis(super::config::MIN_INTERVAL_MS))
        .session_timeout(60_000)
        .recreate_subscriptions(false);
    tokio::task::spawn_blocking(move || builder.client())
        .await
        .map_err(UaError::SetupTask)?
        .map_err(UaError::Setup)
}

/// Runs `fut` unless shutdown comes first.
async fn cancellable<T>(shutdown: &CancellationToken, fut: impl Future<Output = T>) -> Option<T> {
    tokio::select! {
        _ = shutdown.cancelled() => None,
        r = fut => Some(r),
    }
}

/// A step of an attempt: `Err(End)` ends the attempt (shutdown, timeout, failure).
async fn step<T, E: std::fmt::Display>(
    shutdown: &CancellationToken,
    what: &str,
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, End> {
    match cancellable(shutdown, tokio::time::timeout(STEP_TIMEOUT, fut)).await {
        None => Err(End::Shutdown),
        Some(Err(_)) => Err(lost(format!(
            "opcua: {what}: no answer within {} s",
            STEP_TIMEOUT.as_secs()
        ))),
        Some(Ok(Err(e))) => Err(lost(format!("opcua: {what}: {e}"))),
        Some(Ok(Ok(v))) => Ok(v),
    }
}

/// Aborts a task when dropped, so an attempt leaves nothing running behind it.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What the subscription callback hands over.
enum Notice {
    Data(u32, DataValue),
    SubscriptionStatus(String),
}

/// The subscription callback: forwards to the source without blocking the crate's event loop.
struct Forward {
    tx: mpsc::Sender<Notice>,
    dropped: Arc<AtomicU64>,
}

impl Forward {
    fn send(&self, notice: Notice) {
        if self.tx.try_send(notice).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl OnSubscriptionNotification for Forward {
    fn on_subscription_status_change(&mut self, notification: StatusChangeNotification) {
        self.send(Notice::SubscriptionStatus(notification.status.to_string()));
    }

    fn on_data_value(&mut self, value: DataValue, item: &MonitoredItem) {
        self.send(Notice::Data(item.client_handle(), value));
    }
}

/// One connection: from asking for endpoints to losing the connection or shutdown.
async fn attempt(
    plan: &Plan,
    client: &mut Client,
    report: &mut Reporter,
    shutdown: &CancellationToken,
) -> End {
    match attempt_inner(plan, client, report, shutdown).await {
        Ok(never) => match never {},
        Err(end) => end,
    }
}

async fn attempt_inner(
    plan: &Plan,
    client: &mut Client,
    report: &mut Reporter,
    shutdown: &CancellationToken,
) -> Result<std::convert::Infallible, End> {
    let endpoints = step(
        shutdown,
        &format!("cannot reach {}", plan.endpoint),
        client.get_server_endpoints_from_url(plan.endpoint.as_str()),
    )
    .await?;
    let endpoint = pick_endpoint(plan, &endpoints).map_err(|e| lost(e.to_string()))?;
    let identity = match &plan.login {
        Some((user, password)) => IdentityToken::new_user_name(user.clone(), password.clone()),
        None => IdentityToken::Anonymous,
    };
    let (session, event_loop) = client
        .connect_to_endpoint_directly(endpoint, identity)
        .map_err(|e| lost(format!("opcua: cannot open a session: {e}")))?;

    // The crate's event loop must be polled for anything to happen; it reports the first sign
    // of a lost connection here.
    let (lost_tx, mut lost_rx) = mpsc::channel::<String>(1);
    let _driver = AbortOnDrop(tokio::spawn(async move {
        let events = event_loop.enter();
        tokio::pin!(events);
        let reason = loop {
            match events.next().await {
                Some(Ok(SessionPollResult::ConnectionLost(code))) => {
                    break format!("opcua: connection lost ({code})")
                }
                Some(Ok(SessionPollResult::Subscription(SubscriptionActivity::FatalFailure(
                    code,
                )))) => break format!("opcua: publishing failed ({code})"),
                Some(Ok(_)) => {}
                Some(Err(code)) => break format!("opcua: session failed ({code})"),
                None => break "opcua: session closed".to_string(),
            }
        };
        let _ = lost_tx.send(reason).await;
    }));
    let reason = |r: Option<String>| r.unwrap_or_else(|| "opcua: session ended".into());

    tokio::select! {
        _ = shutdown.cancelled() => return Err(End::Shutdown),
        r = lost_rx.recv() => return Err(lost(reason(r))),
        _ = tokio::time::sleep(STEP_TIMEOUT) => {
            return Err(lost(format!("opcua: no session within {} s", STEP_TIMEOUT.as_secs())))
        }
        _ = session.wait_for_connection() => {}
    }

    let (tx, mut rx) = mpsc::channel(QUEUE);
    let dropped = Arc::new(AtomicU64::new(0));
    let forward = Forward {
        tx,
        dropped: dropped.clone(),
    };
    let publishing_ms = plan.publishing.as_millis().max(1);
    let keep_alive_count = (KEEP_ALIVE.as_millis() / publishing_ms).clamp(1, 1000) as u32;
    let subscription = step(
        shutdown,
        "cannot create a subscription",
        session.create_subscription(
            plan.publishing,
            keep_alive_count * 6,
            keep_alive_count,
            0,
            0,
            true,
            forward,
        ),
    )
    .await?;

    // Client handle = node index + 1 (the crate replaces 0 with its own handle).
    let (indices, items): (Vec<usize>, Vec<MonitoredItemCreateRequest>) = plan
        .nodes
        .iter()
        .enumerate()
        .filter_map(|(i, node)| {
            let id = node.id.clone()?;
            let parameters = MonitoringParameters {
                client_handle: i as u32 + 1,
                sampling_interval: plan.sampling_ms,
                queue_size: plan.queue_size,
                discard_oldest: true,
                ..Default::default()
            };
            Some((
                i,
                MonitoredItemCreateRequest::new(id.into(), MonitoringMode::Reporting, parameters),
            ))
        })
        .unzip();
    let created = step(
        shutdown,
        "cannot monitor the nodes",
        session.create_monitored_items(subscription, TimestampsToReturn::Both, items),
    )
    .await?;
    for (k, &i) in indices.iter().enumerate() {
        let why = match created.get(k).map(|c| c.result.status_code) {
            Some(status) if status.is_good() => continue,
            Some(status) => status.to_string(),
            None => "no answer".to_string(),
        };
        let node = plan.nodes.get(i).map_or("", |n| n.text.as_str());
        report
            .stale(i, &format!("opcua: cannot monitor {node}: {why}"))
            .await;
    }

    let mut reported_drops = 0;
    loop {
        let notice = tokio::select! {
            _ = shutdown.cancelled() => {
                let _ = tokio::time::timeout(CLOSE_TIMEOUT, session.disconnect()).await;
                return Err(End::Shutdown);
            }
            r = lost_rx.recv() => return Err(End::Lost { reason: reason(r), was_up: true }),
            n = rx.recv() => n,
        };
        match notice {
            Some(Notice::Data(handle, dv)) => handle_data(plan, report, handle, &dv).await,
            Some(Notice::SubscriptionStatus(status)) => {
                return Err(End::Lost {
                    reason: format!("opcua: subscription ended by the server ({status})"),
                    was_up: true,
                });
            }
            None => {
                return Err(End::Lost {
                    reason: "opcua: subscription closed".into(),
                    was_up: true,
                })
            }
        }
        let drops = dropped.load(Ordering::Relaxed);
        if drops > reported_drops {
            report
                .malformed(format!(
                    "{} data changes dropped: the gateway fell behind",
                    drops - reported_drops
                ))
                .await;
            reported_drops = drops;
        }
    }
}

/// Reports one data change of the node with client handle `handle`.
async fn handle_data(plan: &Plan, report: &mut Reporter, handle: u32, dv: &DataValue) {
    let Some((i, node)) = (handle as usize)
        .checked_sub(1)
        .and_then(|i| Some((i, plan.nodes.get(i)?)))
    else {
        report
            .malformed(format!("a data change for unknown monitored item {handle}"))
            .await;
        return;
    };
    match decode(dv, now_ms()) {
        Decoded::Reading { t, value } => report.reading(i, t, value).await,
        Decoded::NotANumber(what) => {
            report
                .malformed(format!("{} ({}): {what}", node.stream, node.text))
                .await
        }
        Decoded::BadStatus(status) => {
            report
                .malformed(format!(
                    "{} ({}): bad status {status}",
                    node.stream, node.text
                ))
                .await;
            report.stale(i, &format!("opcua: {status}")).await;
        }
    }
}

/// The server endpoint with the configured security and login, addressed with the configured
/// host and port (servers often advertise a host name the gateway cannot resolve).
fn pick_endpoint(
    plan: &Plan,
    endpoints: &[EndpointDescription],
) -> Result<EndpointDescription, UaError> {
    let token = if plan.login.is_some() {
        UserTokenType::UserName
    } else {
        UserTokenType::Anonymous
    };
    let fits = |e: &&EndpointDescription| {
        e.security_mode == plan.mode
            && UaPolicy::from_uri(e.security_policy_uri.as_ref()) == plan.policy
            && match &e.user_identity_tokens {
                Some(tokens) => tokens.iter().any(|t| t.token_type == token),
                None => token == UserTokenType::Anonymous,
            }
    };
    let same_path = |e: &EndpointDescription| {
        parse_endpoint(e.endpoint_url.as_ref()).is_ok_and(|u| u.path == plan.path)
    };
    let best = endpoints
        .iter()
        .filter(fits)
        .max_by_key(|e| (same_path(e), e.security_level));
    match best {
        Some(e) => {
            let mut e = e.clone();
            e.endpoint_url = plan.endpoint.clone().into();
            Ok(e)
        }
        None => {
            let offered: Vec<String> = endpoints
                .iter()
                .map(|e| {
                    let logins: Vec<String> = e
                        .user_identity_tokens
                        .iter()
                        .flatten()
                        .map(|t| format!("{:?}", t.token_type))
                        .collect();
                    format!(
                        "{}/{:?} ({})",
                        UaPolicy::from_uri(e.security_policy_uri.as_ref()),
                        e.security_mode,
                        logins.join(", ")
                    )
                })
                .collect();
            Err(UaError::NoEndpoint {
                policy: plan.policy,
                mode: plan.mode,
                user_name: plan.login.is_some(),
                offered,
            })
        }
    }
}
