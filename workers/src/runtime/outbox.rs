//! The alerts' outbox in D1, per destination. The cron records each new alert unrouted
//! (`alerts.delivered` 0); the delivery routes it (one `deliveries` row per destination that
//! takes it, each with its own `delivered` flag, `sent_at` and `sends`) and sends what waits.
//! A person's acknowledgement and cause live in `alert_marks`.

use super::store::{num, Store};
use crate::alert::Alert;
use serde::Deserialize;
use worker::D1PreparedStatement;

type Answer<T> = Result<T, String>;

#[derive(Deserialize)]
struct Row {
    id: f64,
    json: String,
    #[serde(default)]
    sends: Option<f64>,
}

/// An alert waiting at a destination: its id, the alert, and how often it was sent there.
pub struct Waiting {
    /// The alert's id.
    pub id: i64,
    /// The alert.
    pub alert: Alert,
    /// Sends so far (0: never; more: re-notifications).
    pub sends: i64,
}

fn read(rows: Vec<Row>) -> Vec<Waiting> {
    rows.into_iter()
        .filter_map(|r| {
            Some(Waiting {
                id: r.id as i64,
                alert: Alert::from_stored(&r.json)?,
                sends: r.sends.unwrap_or(0.0) as i64,
            })
        })
        .collect()
}

async fn all<T: serde::de::DeserializeOwned>(
    store: &Store,
    sql: &str,
    args: &[wasm_bindgen::JsValue],
    what: &str,
) -> Answer<Vec<T>> {
    store
        .db()
        .prepare(sql)
        .bind(args)
        .map_err(|e| e.to_string())?
        .all()
        .await
        .map_err(|e| format!("D1: cannot read {what}: {e}"))?
        .results::<T>()
        .map_err(|e| e.to_string())
}

async fn batch(store: &Store, statements: Vec<D1PreparedStatement>, what: &str) -> Answer<()> {
    if statements.is_empty() {
        return Ok(());
    }
    store
        .db()
        .batch(statements)
        .await
        .map_err(|e| format!("D1: cannot {what}: {e}"))?;
    Ok(())
}

/// The oldest `limit` alerts not yet routed.
pub async fn unrouted(store: &Store, limit: u32) -> Answer<Vec<Waiting>> {
    let sql = "SELECT id, json FROM alerts WHERE delivered = 0 ORDER BY id LIMIT ?1";
    Ok(read(
        all(store, sql, &[num(i64::from(limit))], "unrouted alerts").await?,
    ))
}

/// Routes alert `id` to `destinations` (one waiting row each), in one batch with marking it
/// routed, so a failure leaves it unrouted and whole.
pub async fn route(store: &Store, id: i64, destinations: &[&str]) -> Answer<()> {
    let db = store.db();
    let mut statements = Vec::new();
    for d in destinations {
        statements.push(
            db.prepare("INSERT OR IGNORE INTO deliveries (alert_id, destination, delivered, sent_at, sends) VALUES (?1, ?2, 0, NULL, 0)")
                .bind(&[num(id), (*d).into()])
                .map_err(|e| e.to_string())?,
        );
    }
    statements.push(
        db.prepare("UPDATE alerts SET delivered = 1 WHERE id = ?1")
            .bind(&[num(id)])
            .map_err(|e| e.to_string())?,
    );
    batch(store, statements, "route an alert").await
}

/// The oldest `limit` alerts waiting at `destination`, never sent there.
pub async fn waiting(store: &Store, destination: &str, limit: u32) -> Answer<Vec<Waiting>> {
    let sql = "SELECT a.id AS id, a.json AS json, d.sends AS sends FROM deliveries d JOIN alerts a ON a.id = d.alert_id WHERE d.destination = ?1 AND d.delivered = 0 ORDER BY a.id LIMIT ?2";
    let rows = all(
        store,
        sql,
        &[destination.into(), num(i64::from(limit))],
        "waiting alerts",
    )
    .await?;
    Ok(read(rows))
}

/// Alerts sent to `destination` last at or before `sent_before` (epoch ms) and still
/// unacknowledged: due to be sent again.
pub async fn due_again(
    store: &Store,
    destination: &str,
    sent_before: i64,
    limit: u32,
) -> Answer<Vec<Waiting>> {
    let sql = "SELECT a.id AS id, a.json AS json, d.sends AS sends FROM deliveries d JOIN alerts a ON a.id = d.alert_id LEFT JOIN alert_marks m ON m.alert_id = a.id WHERE d.destination = ?1 AND d.delivered = 1 AND d.sent_at <= ?2 AND m.acked_at IS NULL ORDER BY a.id LIMIT ?3";
    let args = [destination.into(), num(sent_before), num(i64::from(limit))];
    Ok(read(all(store, sql, &args, "alerts due again").await?))
}

/// Records that `ids` were sent to `destination` at `now_ms` (a 2xx answer).
pub async fn sent(store: &Store, destination: &str, ids: &[i64], now_ms: i64) -> Answer<()> {
    let db = store.db();
    let statements = ids
        .iter()
        .map(|&id| {
            db.prepare("UPDATE deliveries SET delivered = 1, sent_at = ?1, sends = sends + 1 WHERE alert_id = ?2 AND destination = ?3")
                .bind(&[num(now_ms), num(id), destination.into()])
                .map_err(|e| e.to_string())
        })
        .collect::<Answer<Vec<_>>>()?;
    batch(store, statements, "mark alerts sent").await
}

/// A waiting row whose destination is gone (removed or renamed): its alert, and where it waited.
pub struct Orphan {
    /// The alert.
    pub waiting: Waiting,
    /// The destination it waited for.
    pub destination: String,
}

#[derive(Deserialize)]
struct OrphanRow {
    id: f64,
    json: String,
    destination: String,
}

/// The oldest `limit` alerts waiting for a destination that is none of `names`.
pub async fn orphans(store: &Store, names: &[&str], limit: u32) -> Answer<Vec<Orphan>> {
    let names = serde_json::to_string(names).map_err(|e| e.to_string())?;
    let sql = "SELECT a.id AS id, a.json AS json, d.destination AS destination FROM deliveries d JOIN alerts a ON a.id = d.alert_id WHERE d.delivered = 0 AND d.destination NOT IN (SELECT value FROM json_each(?1)) ORDER BY a.id LIMIT ?2";
    let args = [names.as_str().into(), num(i64::from(limit))];
    let rows: Vec<OrphanRow> = all(store, sql, &args, "alerts of removed destinations").await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let waiting = Waiting {
                id: r.id as i64,
                alert: Alert::from_stored(&r.json)?,
                sends: 0,
            };
            Some(Orphan {
                waiting,
                destination: r.destination,
            })
        })
        .collect())
}

/// Moves an orphan: a waiting row at each of `to` (none where that alert already has a row:
/// no destination gets an alert twice), and the orphan's row gone; with `to` empty, the row
/// is marked taken by no destination (`delivered` -1), kept for `/health` and `GET /alerts`
/// until the retention deletes its alert.
pub async fn rehome(store: &Store, o: &Orphan, to: &[&str]) -> Answer<()> {
    let db = store.db();
    let id = num(o.waiting.id);
    let from = o.destination.as_str();
    let mut statements = Vec::new();
    for d in to {
        statements.push(
            db.prepare("INSERT OR IGNORE INTO deliveries (alert_id, destination, delivered, sent_at, sends) VALUES (?1, ?2, 0, NULL, 0)")
                .bind(&[id.clone(), (*d).into()])
                .map_err(|e| e.to_string())?,
        );
    }
    let last = if to.is_empty() {
        "UPDATE deliveries SET delivered = -1 WHERE alert_id = ?1 AND destination = ?2"
    } else {
        "DELETE FROM deliveries WHERE alert_id = ?1 AND destination = ?2"
    };
    statements.push(
        db.prepare(last)
            .bind(&[id, from.into()])
            .map_err(|e| e.to_string())?,
    );
    batch(store, statements, "re-route an alert").await
}

/// Alerts whose waiting rows no destination took when theirs went ([`rehome`]).
pub async fn unroutable(store: &Store) -> Answer<u64> {
    let row = store
        .db()
        .prepare("SELECT 'all' AS destination, COUNT(DISTINCT alert_id) AS n FROM deliveries WHERE delivered = -1")
        .first::<Count>(None)
        .await
        .map_err(|e| format!("D1: cannot count unroutable alerts: {e}"))?;
    Ok(row.map_or(0, |c| c.n as u64))
}

#[derive(Deserialize)]
struct Count {
    destination: String,
    n: f64,
}

/// Alerts waiting at each of `destinations` (configured ones only: a removed destination's
/// rows wait for nobody), and how many alerts wait anywhere, the unrouted included.
pub async fn undelivered(
    store: &Store,
    destinations: &[String],
) -> Answer<(Vec<(String, u64)>, u64)> {
    let names = serde_json::to_string(destinations).map_err(|e| e.to_string())?;
    let per = store
        .db()
        .prepare("SELECT destination, COUNT(*) AS n FROM deliveries WHERE delivered = 0 AND destination IN (SELECT value FROM json_each(?1)) GROUP BY destination")
        .bind(&[names.as_str().into()])
        .map_err(|e| e.to_string())?
        .all()
        .await
        .map_err(|e| format!("D1: cannot count undelivered alerts: {e}"))?
        .results::<Count>()
        .map_err(|e| e.to_string())?;
    let total = store
        .db()
        .prepare("SELECT 'all' AS destination, (SELECT COUNT(DISTINCT alert_id) FROM deliveries WHERE delivered = 0 AND destination IN (SELECT value FROM json_each(?1))) + (SELECT COUNT(*) FROM alerts WHERE delivered = 0) AS n")
        .bind(&[names.as_str().into()])
        .map_err(|e| e.to_string())?
        .first::<Count>(None)
        .await
        .map_err(|e| format!("D1: cannot count undelivered alerts: {e}"))?;
    let per = destinations
        .iter()
        .map(|d| {
            let n = per
                .iter()
                .find(|c| c.destination == *d)
                .map_or(0, |c| c.n as u64);
            (d.clone(), n)
        })
        .collect();
    Ok((per, total.map_or(0, |c| c.n as u64)))
}
