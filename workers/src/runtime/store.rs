//! Probe results, alert state and the last daily digest in D1 (SQLite), and the schema of
//! the team's tables (members, dashboards, audit, run-time targets: [`super::team`]) and of
//! the alerts' outbox per destination and their acknowledgements ([`super::outbox`]). Each result is stored whole, as the JSON of
//! the contract (extras included), next to the columns queries filter on.

use crate::alert::Alert;
use llmscope_protocol::probe::ProbeResult;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use worker::{D1Database, Env};

/// The schema, created on first use (`CREATE ... IF NOT EXISTS`), so a fresh database, local
/// or deployed, needs no migration step. One statement per line: D1's `exec` splits on lines.
const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS results (id INTEGER PRIMARY KEY AUTOINCREMENT, target TEXT NOT NULL, t INTEGER NOT NULL, ok INTEGER NOT NULL, json TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS results_by_target_t ON results (target, t);
CREATE TABLE IF NOT EXISTS alert_state (target TEXT NOT NULL, metric TEXT NOT NULL, state TEXT NOT NULL, PRIMARY KEY (target, metric));
CREATE TABLE IF NOT EXISTS alerts (id INTEGER PRIMARY KEY AUTOINCREMENT, target TEXT NOT NULL, metric TEXT NOT NULL, t INTEGER NOT NULL, json TEXT NOT NULL, delivered INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS share_quota (token TEXT NOT NULL, day INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (token, day));
CREATE TABLE IF NOT EXISTS digest (id INTEGER PRIMARY KEY CHECK (id = 1), day INTEGER NOT NULL, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS digest_sent (destination TEXT PRIMARY KEY, day INTEGER NOT NULL, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS members (id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, expires_at INTEGER, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dashboards (id TEXT PRIMARY KEY, name TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dashboard_saves (id TEXT NOT NULL, version INTEGER NOT NULL, saved_by TEXT NOT NULL, member_id TEXT, t INTEGER NOT NULL, PRIMARY KEY (id, version));
CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY AUTOINCREMENT, t INTEGER NOT NULL, member TEXT NOT NULL, member_id TEXT, action TEXT NOT NULL, target TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_by_t ON audit (t);
CREATE TABLE IF NOT EXISTS targets (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL, t INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS destinations (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL, t INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (alert_id INTEGER NOT NULL, destination TEXT NOT NULL, delivered INTEGER NOT NULL, sent_at INTEGER, sends INTEGER NOT NULL, PRIMARY KEY (alert_id, destination));
CREATE INDEX IF NOT EXISTS deliveries_waiting ON deliveries (destination, delivered);
CREATE TABLE IF NOT EXISTS alert_marks (alert_id INTEGER PRIMARY KEY, acked_at INTEGER, acked_by TEXT, cause TEXT, cause_by TEXT, cause_at INTEGER);";

/// The D1 binding, with the schema in place.
pub struct Store {
    db: D1Database,
}

#[derive(Deserialize)]
struct JsonRow {
    json: String,
}

#[derive(Deserialize)]
struct StateRow {
    state: String,
}

#[derive(Deserialize)]
struct DigestRow {
    day: f64,
    state: String,
}

#[derive(Deserialize)]
struct CountRow {
    n: f64,
}

/// A whole number as D1 binds it (a JavaScript number).
pub fn num(n: i64) -> JsValue {
    JsValue::from_f64(n as f64)
}

impl Store {
    /// Opens the `DB` binding and makes sure the tables exist.
    pub async fn open(env: &Env) -> Result<Store, String> {
        let db = env.d1("DB").map_err(|_| {
            "the D1 binding DB is missing: add [[d1_databases]] with binding = \"DB\" to wrangler.toml"
                .to_string()
        })?;
        db.exec(SCHEMA)
            .await
            .map_err(|e| format!("D1: cannot create the schema: {e}"))?;
        Ok(Store { db })
    }

    /// The database, for the team's tables ([`super::team`]).
    pub fn db(&self) -> &D1Database {
        &self.db
    }

    /// Stores one result.
    pub async fn insert(&self, r: &ProbeResult) -> Result<(), String> {
        let json = serde_json::to_string(r).map_err(|e| e.to_string())?;
        self.db
            .prepare("INSERT INTO results (target, t, ok, json) VALUES (?1, ?2, ?3, ?4)")
            .bind(&[
                r.target.as_str().into(),
                num(r.t),
                num(r.ok as i64),
                json.into(),
            ])
            .map_err(|e| e.to_string())?
            .run()
            .await
            .map_err(|e| format!("D1: cannot store a result: {e}"))?;
        Ok(())
    }

    /// Results of `target` after `since` (exclusive), oldest first, at most `limit`: the JSON
    /// exactly as stored (parsing and printing again could move a float's last digit).
    pub async fn results(
        &self,
        target: &str,
        since: i64,
        limit: u32,
    ) -> Result<Vec<String>, String> {
        let rows = self
            .db
            .prepare(
                "SELECT json FROM results WHERE target = ?1 AND t > ?2 ORDER BY t, id LIMIT ?3",
            )
            .bind(&[target.into(), num(since), num(i64::from(limit))])
            .map_err(|e| e.to_string())?
            .all()
            .await
            .map_err(|e| format!("D1: cannot read results: {e}"))?
            .results::<JsonRow>()
            .map_err(|e| e.to_string())?;
        Ok(rows.into_iter().map(|r| r.json).collect())
    }

    /// The latest `limit` results of `target`, oldest first: the history alerts are computed on.
    pub async fn history(&self, target: &str, limit: u32) -> Result<Vec<ProbeResult>, String> {
        let rows = self
            .db
            .prepare("SELECT json FROM (SELECT json, t, id FROM results WHERE target = ?1 ORDER BY t DESC, id DESC LIMIT ?2) ORDER BY t, id")
            .bind(&[target.into(), num(i64::from(limit))])
            .map_err(|e| e.to_string())?
            .all()
            .await
            .map_err(|e| format!("D1: cannot read the history: {e}"))?
            .results::<JsonRow>()
            .map_err(|e| e.to_string())?;
        Ok(rows
            .into_iter()
            .filter_map(|r| serde_json::from_str(&r.json).ok())
            .collect())
    }

    /// The newest `limit` results of `target` after `since` (exclusive), oldest first: the
    /// JSON as stored. `GET /compare` and the digest read their window with it.
    pub async fn newest(
        &self,
        target: &str,
        since: i64,
        limit: u32,
    ) -> Result<Vec<String>, String> {
        let rows = self
            .db
            .prepare("SELECT json FROM (SELECT json, t, id FROM results WHERE target = ?1 AND t > ?2 ORDER BY t DESC, id DESC LIMIT ?3) ORDER BY t, id")
            .bind(&[target.into(), num(since), num(i64::from(limit))])
            .map_err(|e| e.to_string())?
            .all()
            .await
            .map_err(|e| format!("D1: cannot read results: {e}"))?
            .results::<JsonRow>()
            .map_err(|e| e.to_string())?;
        Ok(rows.into_iter().map(|r| r.json).collect())
    }

    /// The last daily digest `destination` took: its UTC day and its state, as stored (JSON).
    /// `legacy`: the destination of `LLMSCOPE_WEBHOOK`'s URL, which falls back on the one
    /// digest row of the versions that sent it there alone.
    pub async fn last_digest(
        &self,
        destination: &str,
        legacy: bool,
    ) -> Result<Option<(i64, String)>, String> {
        let row = self
            .db
            .prepare("SELECT 0 AS k, day, state FROM digest_sent WHERE destination = ?1 UNION ALL SELECT 1 AS k, day, state FROM digest WHERE id = 1 AND ?2 = 1 ORDER BY k LIMIT 1")
            .bind(&[destination.into(), num(i64::from(legacy))])
            .map_err(|e| e.to_string())?
            .first::<DigestRow>(None)
            .await
            .map_err(|e| format!("D1: cannot read the last digest: {e}"))?;
        Ok(row.map(|r| (r.day as i64, r.state)))
    }

    /// Saves the state of the digest `destination` took on `day`.
    pub async fn save_digest(
        &self,
        destination: &str,
        day: i64,
        state: &str,
    ) -> Result<(), String> {
        self.db
            .prepare("INSERT INTO digest_sent (destination, day, state) VALUES (?1, ?2, ?3) ON CONFLICT (destination) DO UPDATE SET day = excluded.day, state = excluded.state")
            .bind(&[destination.into(), num(day), state.into()])
            .map_err(|e| e.to_string())?
            .run()
            .await
            .map_err(|e| format!("D1: cannot save the digest: {e}"))?;
        Ok(())
    }

    /// The alert state of one metric of one target (a chart's [`State`], or under
    /// `forecast/<metric>` a forecast's).
    pub async fn state<S: DeserializeOwned + Default>(
        &self,
        target: &str,
        metric: &str,
    ) -> Result<S, String> {
        let row = self
            .db
            .prepare("SELECT state FROM alert_state WHERE target = ?1 AND metric = ?2")
            .bind(&[target.into(), metric.into()])
            .map_err(|e| e.to_string())?
            .first::<StateRow>(None)
            .await
            .map_err(|e| format!("D1: cannot read alert state: {e}"))?;
        Ok(row
            .and_then(|r| serde_json::from_str(&r.state).ok())
            .unwrap_or_default())
    }

    /// Saves the alert state of one metric of one target.
    pub async fn save_state(
        &self,
        target: &str,
        metric: &str,
        state: &impl Serialize,
    ) -> Result<(), String> {
        let json = serde_json::to_string(state).map_err(|e| e.to_string())?;
        self.db
            .prepare("INSERT INTO alert_state (target, metric, state) VALUES (?1, ?2, ?3) ON CONFLICT (target, metric) DO UPDATE SET state = excluded.state")
            .bind(&[target.into(), metric.into(), json.into()])
            .map_err(|e| e.to_string())?
            .run()
            .await
            .map_err(|e| format!("D1: cannot save alert state: {e}"))?;
        Ok(())
    }

    /// Records an alert, not yet routed (`delivered` 0): the outbox's entry, which the next
    /// delivery routes to its destinations ([`super::outbox`]).
    pub async fn record_alert(&self, alert: &Alert) -> Result<(), String> {
        let json = serde_json::to_string(alert).map_err(|e| e.to_string())?;
        self.db
            .prepare("INSERT INTO alerts (target, metric, t, json, delivered) VALUES (?1, ?2, ?3, ?4, 0)")
            .bind(&[alert.target.as_str().into(), alert.metric.into(), num(alert.t), json.into()])
            .map_err(|e| e.to_string())?
            .run()
            .await
            .map_err(|e| format!("D1: cannot record an alert: {e}"))?;
        Ok(())
    }

    /// Counts one more share of `token` on `day` (days since the epoch, UTC): the count so
    /// far, this one included. The token is kept as a SHA-256 digest.
    pub async fn count_share(&self, token: &str, day: i64) -> Result<u64, String> {
        use sha2::{Digest, Sha256};
        let key: String = Sha256::digest(token.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let row = self
            .db
            .prepare("INSERT INTO share_quota (token, day, count) VALUES (?1, ?2, 1) ON CONFLICT (token, day) DO UPDATE SET count = count + 1 RETURNING count AS n")
            .bind(&[key.into(), num(day)])
            .map_err(|e| e.to_string())?
            .first::<CountRow>(None)
            .await
            .map_err(|e| format!("D1: cannot count shares: {e}"))?;
        self.db
            .prepare("DELETE FROM share_quota WHERE day < ?1")
            .bind(&[num(day - 1)])
            .map_err(|e| e.to_string())?
            .run()
            .await
            .map_err(|e| format!("D1: cannot forget old share counts: {e}"))?;
        Ok(row.map_or(1, |r| r.n as u64))
    }

    /// Deletes the audit log's lines older than `before_ms` (epoch ms): its retention.
    pub async fn forget_audit_before(&self, before_ms: i64) -> Result<(), String> {
        self.db
            .prepare("DELETE FROM audit WHERE t < ?1")
            .bind(&[num(before_ms)])
            .map_err(|e| e.to_string())?
            .run()
            .await
            .map_err(|e| format!("D1: cannot apply the retention to the audit log: {e}"))?;
        Ok(())
    }

    /// Deletes results and alerts older than `before_ms` (epoch ms), and the deliveries and
    /// acknowledgements of the alerts that went: the retention.
    pub async fn forget_before(&self, before_ms: i64) -> Result<(), String> {
        for table in ["results", "alerts"] {
            self.db
                .prepare(format!("DELETE FROM {table} WHERE t < ?1"))
                .bind(&[num(before_ms)])
                .map_err(|e| e.to_string())?
                .run()
                .await
                .map_err(|e| format!("D1: cannot apply the retention to {table}: {e}"))?;
        }
        for table in ["deliveries", "alert_marks"] {
            self.db
                .prepare(format!("DELETE FROM {table} WHERE alert_id < (SELECT COALESCE(MIN(id), 9007199254740991) FROM alerts)"))
                .run()
                .await
                .map_err(|e| format!("D1: cannot apply the retention to {table}: {e}"))?;
        }
        Ok(())
    }
}
