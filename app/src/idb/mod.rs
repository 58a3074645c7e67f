//! Keeping the session across reloads in IndexedDB, incrementally, in two generations, and
//! never over a session that could not be read.
//!
//! localStorage (where earlier versions kept it: `legacy`) holds about 5 MB per origin; IndexedDB takes what the browser's
//! storage quota allows. A session of a million points is about 40 MB of JSON, and writing
//! it whole every few seconds blocks the page for a long time; so the samples are kept apart
//! from the rest, in binary chunks, and a save writes only the chunks that changed.
//!
//! Layout: database `llmscope`, version 2.
//! - store `sessions`: `"current"` and `"previous"`, each the session without its samples as
//!   JSON ([`Meta`]: streams with their settings, how many points each has and from which
//!   absolute index, the raw probe results, the assignable causes). `"kept"` holds a session
//!   the app could not read when the user chose to start fresh. (Version 1 kept the whole session as JSON under
//!   `"current"`; such a value still loads, and the first save moves it to `"previous"`.)
//! - store `chunks`: key `[stream id, k]`, a `Float64Array`: the absolute index of its first
//!   point, then per point `t, value` (and the shim's `seq` for live streams, NaN when a point
//!   has none), for the points of absolute index `k * CHUNK` to `(k + 1) * CHUNK - 1`.
//!   Dropping a stream's oldest points (retention) does not move the others' chunks.
//!
//! A save (one readwrite transaction, so all or nothing) moves `"current"` to `"previous"`,
//! writes the new `"current"`, the chunks whose content changed (a hash of each chunk is
//! remembered), and deletes the chunks neither generation needs. Chunks are shared by the two
//! generations: points are only ever appended or dropped from the front, so the previous
//! generation reads a prefix of what is stored. A session whose `Meta` would not read back is
//! not saved at all.
//!
//! Every IndexedDB request is awaited through a `js_sys::Promise` whose `resolve`/`reject` are
//! installed directly as the request's (or transaction's) event handlers when it is made.
//! Nothing here panics; every failure comes back as text written for the person using the
//! dashboard.

mod chunks;
mod legacy;
mod request;

use crate::model::{
    Causes, CompareSetup, Derived, Origin, Sample, Session, Settings, Stream, Telemetry,
};
use chunks::{chunk_key, chunk_range, meta_chunks, unpack};
use js_sys::{Array, Float64Array};
use request::{completion, describe, open, pending, write_both};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{IdbDatabase, IdbKeyRange, IdbObjectStore, IdbTransactionMode};

const DB_NAME: &str = "llmscope";
const DB_VERSION: u32 = 2;
const SESSIONS: &str = "sessions";
const CHUNKS: &str = "chunks";
const CURRENT: &str = "current";
const PREVIOUS: &str = "previous";
const KEPT: &str = "kept";
/// Points per stored chunk: 65,536 points are 1 MB (1.5 MB with seqs), a write well under the
/// 50 ms a page may be blocked.
pub const CHUNK: u64 = 65_536;
/// The `format` of a [`Meta`].
const FORMAT: u32 = 2;

/// One stream as stored in a [`Meta`]: everything but its points, and where they are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct StreamMeta {
    id: String,
    unit: String,
    origin: Origin,
    settings: Settings,
    stale: Option<String>,
    /// The absolute index of the first point (the points dropped before it).
    start: u64,
    /// How many points.
    len: u64,
    /// Whether the chunks hold a `seq` per point.
    seqs: bool,
}

impl StreamMeta {
    /// The stream `s` described, its points from absolute index `start` on, `len` of them.
    fn of(s: &Stream, start: u64, len: u64, seqs: bool) -> StreamMeta {
        StreamMeta {
            id: s.id.clone(),
            unit: s.unit.clone(),
            origin: s.origin.clone(),
            settings: s.settings.clone(),
            stale: s.stale.clone(),
            start,
            len,
            seqs,
        }
    }

    /// The stream described, without its points.
    fn stream(&self) -> Stream {
        let mut stream = Stream::new(self.id.clone(), self.unit.clone(), self.origin.clone());
        stream.settings = self.settings.clone();
        stream.stale = self.stale.clone();
        stream
    }
}

/// The session without its points, as stored under `"current"` and `"previous"`.
#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    format: u32,
    streams: Vec<StreamMeta>,
    #[serde(default)]
    dropped: BTreeMap<String, u64>,
    #[serde(default)]
    telemetry: Telemetry,
    #[serde(default)]
    acknowledged: BTreeMap<String, f64>,
    /// Assignable causes (none in a session saved before they existed).
    #[serde(default)]
    causes: Causes,
    /// Derived streams' definitions (none in a session saved before they existed).
    #[serde(default, with = "crate::model::derived_text")]
    derived: Vec<Derived>,
    /// The Compare view's setup (none in a session saved before it was kept).
    #[serde(default, with = "crate::model::compare_json")]
    compare: Option<CompareSetup>,
}

impl Meta {
    /// The session described, without its streams.
    fn session(&self) -> Session {
        Session {
            dropped: self.dropped.clone(),
            telemetry: self.telemetry.clone(),
            acknowledged: self.acknowledged.clone(),
            causes: self.causes.clone(),
            derived: self.derived.clone(),
            compare: self.compare.clone(),
            ..Session::default()
        }
    }
}

/// A team dashboard's saved view (issue 16; README, "Teams"): the session in the
/// `"current"` format ([`Meta`], format 2) without its points or raw records: each stream's
/// id, unit, origin and settings (baseline, tests, spec limits...) in the session's order,
/// the signals' seen marks (`acknowledged`), the assignable causes, the derived streams and
/// the Compare view's setup.
pub fn view_meta(session: &Session) -> String {
    let streams = session
        .streams
        .iter()
        .map(|s| StreamMeta {
            stale: None,
            ..StreamMeta::of(s, 0, 0, false)
        })
        .collect();
    meta_json(session, streams, true).unwrap_or_default()
}

/// The session's [`Meta`] as JSON, with `streams`; a `view` leaves out the points' places
/// and the raw records ([`view_meta`]).
fn meta_json(
    session: &Session,
    streams: Vec<StreamMeta>,
    view: bool,
) -> serde_json::Result<String> {
    let (dropped, telemetry) = (BTreeMap::new(), Telemetry::default());
    serde_json::to_string(&MetaRef {
        format: FORMAT,
        streams,
        dropped: if view { &dropped } else { &session.dropped },
        telemetry: if view { &telemetry } else { &session.telemetry },
        acknowledged: &session.acknowledged,
        causes: &session.causes,
        derived: &session.derived,
        compare: session.compare.as_ref().map(CompareSetup::to_json),
    })
}

/// A saved view ([`view_meta`]'s format; other fields are ignored) read back: its streams
/// without points, its seen marks, causes, derived streams and Compare setup.
pub fn read_view(text: &str) -> Result<Session, String> {
    match parse(text) {
        Ok(Stored::Chunked(meta)) => {
            let mut session = meta.session();
            session.streams = meta.streams.iter().map(StreamMeta::stream).collect();
            Ok(session)
        }
        Ok(Stored::Whole(_)) => Err("this dashboard is not a saved view of format 2".into()),
        Err(e) => Err(format!("this dashboard cannot be opened: {e}")),
    }
}

/// The same, borrowing the session's raw records so a save does not copy them.
#[derive(Serialize)]
struct MetaRef<'a> {
    format: u32,
    streams: Vec<StreamMeta>,
    dropped: &'a BTreeMap<String, u64>,
    telemetry: &'a Telemetry,
    acknowledged: &'a BTreeMap<String, f64>,
    causes: &'a Causes,
    #[serde(serialize_with = "crate::model::derived_text::serialize")]
    derived: &'a [Derived],
    #[serde(skip_serializing_if = "Option::is_none")]
    compare: Option<serde_json::Value>,
}

/// A stored chunk: stream id and chunk number.
type ChunkKey = (String, u64);

/// Why the saved session was not read, and what of it can be offered instead.
#[derive(Clone, Debug, Default)]
pub struct Unread {
    /// What went wrong, in words.
    pub reason: String,
    /// The stored text, when there is one to export.
    pub raw: Option<String>,
    /// The generation before it, when that one reads.
    pub previous: Option<Box<Session>>,
}

thread_local! {
    /// Counts [`clear`]s: a saver made before one forgets what it knew was stored.
    static CLEARED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Writes the session incrementally: remembers what each stored chunk holds.
#[derive(Debug, Default)]
pub struct Saver {
    /// The [`CLEARED`] count it knows of.
    cleared: u64,
    /// Every chunk known to be stored, with the hash of its content (0: unknown).
    stored: HashMap<ChunkKey, u64>,
    /// The chunks the stored `"current"` reads (the previous generation after the next save).
    current: HashSet<ChunkKey>,
    /// Chunks never deleted: those of a kept session.
    pinned: HashSet<ChunkKey>,
}

/// A save made ready on the page (the only part that takes the main thread), to be written.
pub struct Pending {
    meta: String,
    /// Changed chunks that no stored generation reads (new keys): written first, a few per
    /// transaction, so a large save never holds the page long.
    early: Vec<(ChunkKey, u64, Vec<f64>)>,
    /// Changed chunks a stored generation reads: written with the new `"current"`.
    puts: Vec<(ChunkKey, u64, Vec<f64>)>,
    deletes: Vec<ChunkKey>,
    current: HashSet<ChunkKey>,
    megabytes: f64,
}

/// What a stored value is.
enum Stored {
    /// Version 2: the session's `Meta`; its points are in the chunks.
    Chunked(Meta),
    /// Version 1: the whole session as JSON.
    Whole(Session),
}

/// Reads a stored session's text.
fn parse(text: &str) -> Result<Stored, String> {
    #[derive(Deserialize)]
    struct Format {
        format: Option<u32>,
    }
    let format = serde_json::from_str::<Format>(text).map(|f| f.format);
    match format {
        Ok(Some(FORMAT)) => serde_json::from_str(text).map(Stored::Chunked),
        Ok(Some(n)) => {
            return Err(format!(
                "it was saved by a newer version of this dashboard (format {n})"
            ))
        }
        _ => serde_json::from_str(text).map(Stored::Whole),
    }
    .map_err(|e| format!("it is damaged ({e})"))
}

/// The heads of the store: the values under "current", "previous" and "kept", and every
/// chunk's key.
struct Heads {
    current: Option<String>,
    current_raw: JsValue,
    previous: Option<String>,
    kept: Option<String>,
    keys: Vec<ChunkKey>,
}

async fn read_heads(db: &IdbDatabase) -> Result<Heads, String> {
    let tx = db
        .transaction_with_str_sequence(&Array::of2(&SESSIONS.into(), &CHUNKS.into()))
        .map_err(|e| describe(&e))?;
    let sessions = tx.object_store(SESSIONS).map_err(|e| describe(&e))?;
    let chunks = tx.object_store(CHUNKS).map_err(|e| describe(&e))?;
    let get = |key: &str| sessions.get(&key.into()).map(|r| pending(&r));
    let current = get(CURRENT).map_err(|e| describe(&e))?;
    let previous = get(PREVIOUS).map_err(|e| describe(&e))?;
    let kept = get(KEPT).map_err(|e| describe(&e))?;
    let keys = chunks
        .get_all_keys()
        .map(|r| pending(&r))
        .map_err(|e| describe(&e))?;
    let current_raw = current.await?;
    let previous = previous.await?.as_string();
    let kept = kept.await?.as_string();
    let keys = Array::from(&keys.await?)
        .iter()
        .filter_map(|key| {
            let key = Array::from(&key);
            Some((key.get(0).as_string()?, key.get(1).as_f64()? as u64))
        })
        .collect();
    Ok(Heads {
        current: current_raw.as_string(),
        current_raw,
        previous,
        kept,
        keys,
    })
}

/// Reads a stored session: a version 1 session whole, or a version 2 `Meta` with its chunks.
async fn read_session(db: &IdbDatabase, text: &str) -> Result<(Session, Meta), String> {
    let meta = match parse(text)? {
        Stored::Whole(session) => {
            let meta = Meta {
                format: 1,
                streams: Vec::new(),
                dropped: BTreeMap::new(),
                telemetry: Telemetry::default(),
                acknowledged: BTreeMap::new(),
                causes: Causes::default(),
                derived: Vec::new(),
                compare: None,
            };
            return Ok((session, meta));
        }
        Stored::Chunked(meta) => meta,
    };
    let tx = db.transaction_with_str(CHUNKS).map_err(|e| describe(&e))?;
    let chunks = tx.object_store(CHUNKS).map_err(|e| describe(&e))?;
    // Every request is made before any is awaited, so the transaction stays open for them.
    let requests: Vec<_> = meta
        .streams
        .iter()
        .map(|s| range_of(&chunks, s))
        .collect::<Result<_, _>>()?;
    let mut session = meta.session();
    for (s, request) in meta.streams.iter().zip(requests) {
        let mut stream = s.stream();
        stream.samples.reserve(s.len as usize);
        for chunk in Array::from(&request.await?).iter() {
            let values = chunk
                .dyn_into::<Float64Array>()
                .map_err(|_| format!("stream {}: a chunk is not numbers", s.id))?
                .to_vec();
            unpack(&values, s.seqs, s.start, s.len, &mut stream)
                .map_err(|e| format!("stream {}: {e}", s.id))?;
        }
        if stream.samples.len() as u64 != s.len {
            return Err(format!(
                "stream {}: {} of its {} points were found",
                s.id,
                stream.samples.len(),
                s.len
            ));
        }
        session.streams.push(stream);
    }
    Ok((session, meta))
}

/// A stream's chunks, in order, as one request (made now).
type Answer = std::pin::Pin<Box<dyn Future<Output = Result<JsValue, String>>>>;

fn range_of(chunks: &IdbObjectStore, s: &StreamMeta) -> Result<Answer, String> {
    let range = chunk_range(s.start, s.len);
    if range.is_empty() {
        return Ok(Box::pin(std::future::ready(Ok(Array::new().into()))));
    }
    let bounds = IdbKeyRange::bound(
        &chunk_key(&(s.id.clone(), range.start)),
        &chunk_key(&(s.id.clone(), range.end - 1)),
    )
    .map_err(|e| describe(&e))?;
    let request = chunks.get_all_with_key(&bounds).map_err(|e| describe(&e))?;
    Ok(Box::pin(pending(&request)))
}

/// The saved session (`None` on a first visit) and a saver for it; or why it was not read.
/// A session from an older build's localStorage is copied here when IndexedDB holds none.
pub async fn open_saved() -> Result<(Option<Session>, Saver), Unread> {
    let unavailable = |reason: String| Unread {
        reason,
        ..Unread::default()
    };
    let db = open().await.map_err(unavailable)?;
    let heads = match read_heads(&db).await {
        Ok(h) => h,
        Err(e) => {
            db.close();
            return Err(unavailable(format!("the browser's database failed ({e})")));
        }
    };
    let Some(text) = heads.current.clone() else {
        db.close();
        if !heads.current_raw.is_undefined() {
            return Err(Unread {
                reason: "it is not text".into(),
                ..Unread::default()
            });
        }
        return legacy::read(heads);
    };
    let read = read_session(&db, &text).await;
    let (session, meta) = match read {
        Ok(read) => read,
        Err(reason) => {
            let previous = match &heads.previous {
                Some(p) => read_session(&db, p).await.ok().map(|(s, _)| Box::new(s)),
                None => None,
            };
            db.close();
            return Err(Unread {
                reason,
                raw: Some(text),
                previous,
            });
        }
    };
    db.close();
    let mut saver = Saver::new();
    for key in heads.keys {
        saver.stored.insert(key, 0);
    }
    if let Some(Ok(Stored::Chunked(kept))) = heads.kept.as_deref().map(parse) {
        saver.pinned = meta_chunks(&kept);
    }
    // What is stored is what was read: the first save writes only what changes after.
    if meta.format == FORMAT {
        saver.remember(&session);
    }
    Ok((Some(session), saver))
}

/// The saved session, if any (for a one-off read: copying a shared session into one's own).
pub async fn load() -> Result<Option<Session>, String> {
    open_saved()
        .await
        .map(|(s, _)| s)
        .map_err(|u| format!("the saved session could not be read: {}", u.reason))
}

/// Saves the session whole (a one-off save, outside the page's autosave), in two generations.
pub async fn save(session: &Session) -> Result<(), String> {
    let mut saver = Saver::from_storage().await?;
    let ready = saver.prepare(session)?;
    ready.write().await?;
    saver.commit(ready);
    Ok(())
}

/// Keeps the stored session (whatever it holds, readable or not) under `"kept"`, so a fresh
/// start cannot write over it. Its chunks stay too ([`Saver::from_storage`] pins them).
pub async fn set_aside() -> Result<(), String> {
    let fail = |e: String| format!("the saved session could not be kept aside ({e})");
    let db = open().await.map_err(fail)?;
    let result = async {
        let tx = db
            .transaction_with_str_and_mode(SESSIONS, IdbTransactionMode::Readwrite)
            .map_err(|e| describe(&e))?;
        let done = completion(&tx);
        let sessions = tx.object_store(SESSIONS).map_err(|e| describe(&e))?;
        let get = sessions.get(&CURRENT.into()).map_err(|e| describe(&e))?;
        let from = get.clone();
        let keep = Closure::<dyn FnMut(JsValue)>::new(move |_| {
            if let Ok(value) = from.result() {
                if !value.is_undefined() {
                    let _ = sessions.put_with_key(&value, &KEPT.into());
                }
            }
        });
        get.set_onsuccess(Some(keep.as_ref().unchecked_ref()));
        let result = done.await;
        drop(keep);
        result
    }
    .await;
    db.close();
    result.map_err(fail)
}

/// Deletes the saved session, both generations, what was kept, and the old localStorage key.
pub async fn clear() -> Result<(), String> {
    let fail = |e: String| format!("the saved session could not be deleted ({e})");
    let db = open().await.map_err(fail)?;
    let result = async {
        let tx = write_both(&db)?;
        let done = completion(&tx);
        for store in [SESSIONS, CHUNKS] {
            tx.object_store(store)
                .and_then(|s| s.clear())
                .map_err(|e| describe(&e))?;
        }
        done.await
    }
    .await;
    db.close();
    CLEARED.with(|c| c.set(c.get() + 1));
    result.map_err(fail)?;
    legacy::remove()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_value_of_a_newer_format_or_damaged_is_not_read() {
        assert!(parse(r#"{"format":3,"streams":[]}"#).is_err_and(|e| e.contains("newer version")));
        assert!(parse(r#"{"streams":[{"id":1}]}"#).is_err_and(|e| e.contains("damaged")));
        assert!(matches!(parse(r#"{"streams":[]}"#), Ok(Stored::Whole(_))));
    }

    #[test]
    fn annotations_are_saved_with_the_session_and_older_saves_read_without_them() {
        let mut session = Session::default();
        session.causes.require = true;
        session.causes.annotate(crate::model::Annotation {
            stream: "m/ttft".into(),
            from: 1.0,
            to: 4.0,
            cause: "rate limiting".into(),
            action: "none".into(),
            note: "429s".into(),
        });
        let ready = Saver::new().prepare(&session).unwrap();
        let Ok(Stored::Chunked(meta)) = parse(&ready.meta) else {
            panic!("a chunked save")
        };
        assert_eq!(meta.causes, session.causes);
        let Ok(Stored::Chunked(old)) = parse(r#"{"format":2,"streams":[]}"#) else {
            panic!("an older save")
        };
        assert!(old.causes.is_default());
        assert!(old.derived.is_empty());
    }

    #[test]
    fn derived_definitions_are_saved_with_the_session() {
        let mut session = Session::default();
        let program = llmscope_app_lazy::derived::Program {
            inputs: vec!["a".into()],
            code: vec![0, 0],
        };
        session
            .derived
            .push(Derived::new("twice".into(), "2 * a".into(), program));
        let ready = Saver::new().prepare(&session).unwrap();
        let Ok(Stored::Chunked(meta)) = parse(&ready.meta) else {
            panic!("a chunked save")
        };
        assert_eq!(meta.derived, session.derived);
    }
}
