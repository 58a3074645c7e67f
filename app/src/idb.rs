//! Keeping the session across reloads in IndexedDB, incrementally, in two generations, and
//! never over a session that could not be read.
//!
//! localStorage (`store.rs`) holds about 5 MB per origin; IndexedDB takes what the browser's
//! storage quota allows. A session of a million points is about 40 MB of JSON, and writing
//! it whole every few seconds blocks the page for a long time; so the samples are kept apart
//! from the rest, in binary chunks, and a save writes only the chunks that changed.
//!
//! Layout: database `llmscope`, version 2.
//! - store `sessions`: `"current"` and `"previous"`, each the session without its samples as
//!   JSON ([`Meta`]: streams with their settings, how many points each has and from which
//!   absolute index, the raw probe results). `"kept"` holds a session the app could not read
//!   when the user chose to start fresh. (Version 1 kept the whole session as JSON under
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

use crate::model::{Origin, Sample, Session, Settings, Stream, Telemetry};
use js_sys::{Array, Float64Array, Promise};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    DomException, IdbDatabase, IdbKeyRange, IdbObjectStore, IdbRequest, IdbTransaction,
    IdbTransactionMode,
};

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
/// The localStorage key of `store.rs`, read once to migrate and removed by `clear`.
const LEGACY_KEY: &str = "llmscope.session.v1";
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

/// The session without its points, as stored under `"current"` and `"previous"`.
#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    format: u32,
    streams: Vec<StreamMeta>,
    #[serde(default)]
    dropped: BTreeMap<String, u64>,
    #[serde(default)]
    telemetry: Telemetry,
}

/// The same, borrowing the session's raw records so a save does not copy them.
#[derive(Serialize)]
struct MetaRef<'a> {
    format: u32,
    streams: Vec<StreamMeta>,
    dropped: &'a BTreeMap<String, u64>,
    telemetry: &'a Telemetry,
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
    pub previous: Option<Session>,
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

/// The chunks a stream's points occupy.
fn chunk_range(start: u64, len: u64) -> std::ops::Range<u64> {
    if len == 0 {
        return 0..0;
    }
    start / CHUNK..(start + len - 1) / CHUNK + 1
}

/// The rows of chunk `k` (indices into the stream's samples), the absolute index of its
/// first, and how many leading samples have no seq (the seqs sit beside the last samples).
fn chunk_rows(stream: &Stream, start: u64, k: u64) -> (std::ops::Range<usize>, u64, usize) {
    let len = stream.samples.len() as u64;
    let from = (k * CHUNK).max(start);
    let to = ((k + 1) * CHUNK).min(start + len);
    let no_seq = len as usize - stream.seqs.len().min(len as usize);
    ((from - start) as usize..(to - start) as usize, from, no_seq)
}

fn seq_at(stream: &Stream, i: usize, no_seq: usize) -> f64 {
    let seq = i.checked_sub(no_seq).and_then(|j| stream.seqs.get(j));
    seq.map_or(f64::NAN, |&q| q as f64)
}

/// Chunk `k` of a stream whose first point has absolute index `start`: the absolute index of
/// its first point, then `t, value[, seq]` per point.
fn chunk_values(stream: &Stream, start: u64, k: u64, seqs: bool) -> Vec<f64> {
    let (rows, from, no_seq) = chunk_rows(stream, start, k);
    let mut out = Vec::with_capacity(1 + rows.len() * if seqs { 3 } else { 2 });
    out.push(from as f64);
    for i in rows {
        let s = stream.samples[i];
        out.extend([s.t, s.value]);
        if seqs {
            out.push(seq_at(stream, i, no_seq));
        }
    }
    out
}

/// FxHash's mixing step.
fn mix(h: u64, x: f64) -> u64 {
    (h.rotate_left(5) ^ x.to_bits()).wrapping_mul(0x517c_c1b7_2722_0a95)
}

/// A fast hash of chunk `k`'s numbers (those of [`chunk_values`], without copying them), to
/// tell whether it changed; never 0, which stands for "unknown".
fn chunk_hash(stream: &Stream, start: u64, k: u64, seqs: bool) -> u64 {
    let (rows, from, no_seq) = chunk_rows(stream, start, k);
    let mut h = mix(0xcbf2_9ce4_8422_2325, from as f64);
    if seqs {
        for i in rows {
            let s = stream.samples[i];
            h = mix(mix(mix(h, s.t), s.value), seq_at(stream, i, no_seq));
        }
    } else {
        for s in &stream.samples[rows] {
            h = mix(mix(h, s.t), s.value);
        }
    }
    h | 1
}

/// Puts a chunk's points back on a stream: those of absolute index `start..start + len`.
fn unpack(
    chunk: &[f64],
    seqs: bool,
    start: u64,
    len: u64,
    stream: &mut Stream,
) -> Result<(), String> {
    let stride = if seqs { 3 } else { 2 };
    let Some((&first, rows)) = chunk.split_first() else {
        return Err("an empty chunk".into());
    };
    if rows.len() % stride != 0 || !(first >= 0.0 && first.fract() == 0.0) {
        return Err("a chunk of the wrong shape".into());
    }
    for (i, row) in rows.chunks_exact(stride).enumerate() {
        let at = first as u64 + i as u64;
        if at < start + stream.samples.len() as u64 || at >= start + len {
            continue;
        }
        if at != start + stream.samples.len() as u64 {
            return Err(format!("point {at} is missing"));
        }
        stream.samples.push(Sample {
            t: row[0],
            value: row[1],
        });
        if seqs && row[2].is_finite() {
            stream.seqs.push(row[2] as u64);
        }
    }
    Ok(())
}

impl Saver {
    fn new() -> Saver {
        Saver {
            cleared: CLEARED.with(|c| c.get()),
            ..Saver::default()
        }
    }

    /// Makes a save ready: the session's `Meta` (checked to read back), and every chunk whose
    /// content differs from what is stored. Runs on the page; the hashing is one pass over
    /// the points, the copies only of changed chunks.
    pub fn prepare(&mut self, session: &Session) -> Result<Pending, String> {
        let cleared = CLEARED.with(|c| c.get());
        if self.cleared != cleared {
            *self = Saver {
                cleared,
                ..Saver::default()
            };
        }
        let mut streams = Vec::with_capacity(session.streams.len());
        let mut puts = Vec::new();
        let mut current = HashSet::new();
        for s in &session.streams {
            let start = session.dropped(&s.id);
            let len = s.samples.len() as u64;
            let seqs = !s.seqs.is_empty();
            for k in chunk_range(start, len) {
                let h = chunk_hash(s, start, k, seqs);
                let key = (s.id.clone(), k);
                if self.stored.get(&key) != Some(&h) {
                    puts.push((key.clone(), h, chunk_values(s, start, k, seqs)));
                }
                current.insert(key);
            }
            streams.push(StreamMeta {
                id: s.id.clone(),
                unit: s.unit.clone(),
                origin: s.origin.clone(),
                settings: s.settings.clone(),
                stale: s.stale.clone(),
                start,
                len,
                seqs,
            });
        }
        let meta = serde_json::to_string(&MetaRef {
            format: FORMAT,
            streams,
            dropped: &session.dropped,
            telemetry: &session.telemetry,
        })
        .map_err(|e| format!("the session could not be written as JSON ({e}); not saved"))?;
        // A save that would not read back is not made: the stored one stays.
        serde_json::from_str::<Meta>(&meta).map_err(|e| {
            format!("the session would not read back ({e}), so it was not saved: export it")
        })?;
        let deletes = self
            .stored
            .keys()
            .filter(|k| {
                !current.contains(*k) && !self.current.contains(*k) && !self.pinned.contains(*k)
            })
            .cloned()
            .collect();
        let megabytes =
            (meta.len() + puts.iter().map(|p| p.2.len() * 8).sum::<usize>()) as f64 / 1e6;
        let (early, puts) = puts
            .into_iter()
            .partition(|(key, _, _)| !self.stored.contains_key(key));
        Ok(Pending {
            meta,
            early,
            puts,
            deletes,
            current,
            megabytes,
        })
    }

    /// Records that `session` is what "current" and its chunks hold.
    fn remember(&mut self, session: &Session) {
        self.current.clear();
        for s in &session.streams {
            let start = session.dropped(&s.id);
            let seqs = !s.seqs.is_empty();
            for k in chunk_range(start, s.samples.len() as u64) {
                let key = (s.id.clone(), k);
                self.stored
                    .insert(key.clone(), chunk_hash(s, start, k, seqs));
                self.current.insert(key);
            }
        }
    }

    /// Records a save that was written.
    pub fn commit(&mut self, done: Pending) {
        for key in done.deletes {
            self.stored.remove(&key);
        }
        for (key, h, _) in done.early.into_iter().chain(done.puts) {
            self.stored.insert(key, h);
        }
        self.current = done.current;
    }

    /// A saver for what is stored now (reading only keys and metadata): chunks of neither
    /// generation are deleted by its first save; those of a kept session never are.
    pub async fn from_storage() -> Result<Saver, String> {
        let db = open().await?;
        let found = read_heads(&db).await;
        db.close();
        let heads = found?;
        let mut saver = Saver::new();
        for key in heads.keys {
            saver.stored.insert(key, 0);
        }
        if let Some(Ok(Stored::Chunked(meta))) = heads.current.as_deref().map(parse) {
            saver.current = meta_chunks(&meta);
        }
        if let Some(Ok(Stored::Chunked(meta))) = heads.kept.as_deref().map(parse) {
            saver.pinned = meta_chunks(&meta);
        }
        Ok(saver)
    }
}

impl Pending {
    /// Writes it: new chunks a few at a time, then the new `"current"` with the chunks it
    /// shares with the stored generations, in one transaction; resolves once committed.
    pub async fn write(&self) -> Result<(), String> {
        let megabytes = self.megabytes;
        let fail = |e: String| {
            if e.starts_with("QuotaExceededError") {
                format!(
                    "the browser refused to store the session ({megabytes:.1} MB to write): \
                     export it to keep it (its storage for this site is full)"
                )
            } else {
                format!("the session could not be saved ({e}): export it to keep it")
            }
        };
        let db = open().await.map_err(fail)?;
        let mut result = Ok(());
        for batch in self.early.chunks(EARLY_BATCH) {
            result = put_chunks(&db, batch).await;
            if result.is_err() {
                break;
            }
        }
        if result.is_ok() {
            result = self.write_to(&db).await;
        }
        db.close();
        result.map_err(fail)
    }

    async fn write_to(&self, db: &IdbDatabase) -> Result<(), String> {
        let tx = write_both(db)?;
        let done = completion(&tx);
        let sessions = tx.object_store(SESSIONS).map_err(|e| describe(&e))?;
        let chunks = tx.object_store(CHUNKS).map_err(|e| describe(&e))?;
        let started = crate::ui::now_ms();
        let issued = (|| -> Result<Closure<dyn FnMut(JsValue)>, JsValue> {
            // The old current becomes previous: read it first (requests run in order), put
            // it back under "previous" when it arrives.
            let get = sessions.get(&CURRENT.into())?;
            let (from, to) = (get.clone(), sessions.clone());
            let rotate = Closure::<dyn FnMut(JsValue)>::new(move |_| {
                if let Ok(old) = from.result() {
                    if !old.is_undefined() {
                        let _ = to.put_with_key(&old, &PREVIOUS.into());
                    }
                }
            });
            get.set_onsuccess(Some(rotate.as_ref().unchecked_ref()));
            sessions.put_with_key(&JsValue::from_str(&self.meta), &CURRENT.into())?;
            for (key, _, values) in &self.puts {
                chunks.put_with_key(&Float64Array::from(values.as_slice()), &chunk_key(key))?;
            }
            for key in &self.deletes {
                chunks.delete(&chunk_key(key))?;
            }
            Ok(rotate)
        })();
        // Putting the chunks copies them (structured clone) on the page: timed too.
        crate::ui::record_timing("save_write", crate::ui::now_ms() - started);
        let rotate = match issued {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.abort();
                let _ = done.await;
                return Err(describe(&e));
            }
        };
        let result = done.await;
        drop(rotate);
        result
    }
}

/// New chunks per transaction before the final one: about 4 MB to copy at a time.
const EARLY_BATCH: usize = 4;

/// Puts chunks no stored generation reads yet, in one transaction. Were the page closed
/// before the final transaction, they are strays that a later save deletes.
async fn put_chunks(db: &IdbDatabase, batch: &[(ChunkKey, u64, Vec<f64>)]) -> Result<(), String> {
    let tx = db
        .transaction_with_str_and_mode(CHUNKS, IdbTransactionMode::Readwrite)
        .map_err(|e| describe(&e))?;
    let done = completion(&tx);
    let chunks = tx.object_store(CHUNKS).map_err(|e| describe(&e))?;
    let started = crate::ui::now_ms();
    for (key, _, values) in batch {
        if let Err(e) = chunks.put_with_key(&Float64Array::from(values.as_slice()), &chunk_key(key))
        {
            let _ = tx.abort();
            let _ = done.await;
            return Err(describe(&e));
        }
    }
    crate::ui::record_timing("save_write", crate::ui::now_ms() - started);
    done.await
}

fn chunk_key((id, k): &ChunkKey) -> JsValue {
    Array::of2(&JsValue::from_str(id), &JsValue::from_f64(*k as f64)).into()
}

/// The chunks a stored `Meta` reads.
fn meta_chunks(meta: &Meta) -> HashSet<ChunkKey> {
    meta.streams
        .iter()
        .flat_map(|s| chunk_range(s.start, s.len).map(move |k| (s.id.clone(), k)))
        .collect()
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
                "it was saved by a newer version of LLMscope (format {n})"
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
    let mut session = Session {
        dropped: meta.dropped.clone(),
        telemetry: meta.telemetry.clone(),
        ..Session::default()
    };
    for (s, request) in meta.streams.iter().zip(requests) {
        let mut stream = Stream::new(s.id.clone(), s.unit.clone(), s.origin.clone());
        stream.settings = s.settings.clone();
        stream.stale = s.stale.clone();
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
        return from_local_storage(heads);
    };
    let read = read_session(&db, &text).await;
    let (session, meta) = match read {
        Ok(read) => read,
        Err(reason) => {
            let previous = match &heads.previous {
                Some(p) => read_session(&db, p).await.ok().map(|(s, _)| s),
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

fn from_local_storage(heads: Heads) -> Result<(Option<Session>, Saver), Unread> {
    let mut saver = Saver::new();
    for key in heads.keys {
        saver.stored.insert(key, 0);
    }
    match crate::store::load() {
        Ok(found) => Ok((found, saver)),
        Err(reason) => Err(Unread {
            reason,
            ..Unread::default()
        }),
    }
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
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        storage.remove_item(LEGACY_KEY).map_err(|e| {
            format!(
                "the session kept in localStorage could not be removed ({})",
                describe(&e)
            )
        })?;
    }
    Ok(())
}

/// Opens (creating or upgrading on first use) the database.
async fn open() -> Result<IdbDatabase, String> {
    let factory = web_sys::window()
        .ok_or("there is no browser window to store the session in")?
        .indexed_db()
        .map_err(|e| format!("this browser denies access to IndexedDB ({})", describe(&e)))?
        .ok_or("this browser offers no IndexedDB to store the session in")?;
    let request = factory.open_with_u32(DB_NAME, DB_VERSION).map_err(|e| {
        format!(
            "the session database could not be opened ({})",
            describe(&e)
        )
    })?;

    // Runs inside the versionchange transaction, so it must create the stores synchronously.
    let for_upgrade = request.clone();
    let on_upgrade = Closure::<dyn FnMut(JsValue)>::new(move |_event: JsValue| {
        let Some(db) = for_upgrade
            .result()
            .ok()
            .and_then(|r| r.dyn_into::<IdbDatabase>().ok())
        else {
            return;
        };
        for store in [SESSIONS, CHUNKS] {
            if !db.object_store_names().contains(store) {
                let _ = db.create_object_store(store);
            }
        }
    });
    request.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
    let outcome = pending(&request).await;
    request.set_onupgradeneeded(None);
    drop(on_upgrade);

    let db = outcome.map_err(|e| format!("the session database could not be opened ({e})"))?;
    db.dyn_into::<IdbDatabase>()
        .map_err(|_| "the session database could not be opened (no database returned)".into())
}

/// The outcome of a request: its result on `success`, its error on `error`. The handlers are
/// installed now, when the request is made, so no event can be missed.
fn pending(request: &IdbRequest) -> impl Future<Output = Result<JsValue, String>> {
    let promise = Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    let request = request.clone();
    async move {
        let outcome = JsFuture::from(promise).await;
        request.set_onsuccess(None);
        request.set_onerror(None);
        match outcome {
            Ok(_) => request.result().map_err(|e| describe(&e)),
            Err(_) => Err(match request.error() {
                Ok(Some(e)) => dom_error(&e),
                _ => "unknown error".into(),
            }),
        }
    }
}

/// Resolves when the transaction commits (`complete`), fails when it aborts (`abort`, with
/// the transaction's error: a failed request, a full quota, a closed database). Every
/// transaction ends in exactly one of these two events; a request's `error` event is followed
/// by `abort`, with the same error, so it needs no handler of its own.
/// One read-write transaction over the sessions and their chunks, so a save or a clear is all
/// or nothing.
fn write_both(db: &IdbDatabase) -> Result<IdbTransaction, String> {
    db.transaction_with_str_sequence_and_mode(
        &Array::of2(&SESSIONS.into(), &CHUNKS.into()),
        IdbTransactionMode::Readwrite,
    )
    .map_err(|e| describe(&e))
}

fn completion(tx: &IdbTransaction) -> impl Future<Output = Result<(), String>> {
    let promise = Promise::new(&mut |resolve, reject| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onabort(Some(&reject));
    });
    let tx = tx.clone();
    async move {
        let outcome = JsFuture::from(promise).await;
        tx.set_oncomplete(None);
        tx.set_onabort(None);
        match outcome {
            Ok(_) => Ok(()),
            Err(_) => Err(tx
                .error()
                .map(|e| dom_error(&e))
                .unwrap_or_else(|| "the transaction was aborted".into())),
        }
    }
}

fn dom_error(e: &DomException) -> String {
    let message = e.message();
    if message.is_empty() {
        e.name()
    } else {
        format!("{}: {message}", e.name())
    }
}

/// A thrown JavaScript value as text.
fn describe(e: &JsValue) -> String {
    if let Some(dom) = e.dyn_ref::<DomException>() {
        return dom_error(dom);
    }
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(n: usize, seqs: usize) -> Stream {
        let mut s = Stream::new(
            "x",
            "",
            Origin::Live {
                url: "ws://h/ws".into(),
            },
        );
        s.samples = (0..n)
            .map(|i| Sample {
                t: i as f64,
                value: i as f64 * 0.5,
            })
            .collect();
        s.seqs = (0..seqs as u64).map(|q| 100 + q).collect();
        s
    }

    /// Chunks by absolute index, so dropping the oldest points leaves later chunks alone; and
    /// they read back to the same points and seqs.
    #[test]
    fn chunks_read_back_and_stay_put_when_the_oldest_points_go() {
        let start = CHUNK - 10;
        let s = stream(30, 30);
        assert_eq!(chunk_range(start, 30), 0..2);
        let (a, b) = (
            chunk_values(&s, start, 0, true),
            chunk_values(&s, start, 1, true),
        );
        assert_eq!((a[0], b[0]), (start as f64, CHUNK as f64));
        assert_eq!((a.len(), b.len()), (1 + 10 * 3, 1 + 20 * 3));
        let mut back = Stream::new("x", "", s.origin.clone());
        unpack(&a, true, start, 30, &mut back).unwrap();
        unpack(&b, true, start, 30, &mut back).unwrap();
        assert_eq!(
            (back.samples.clone(), back.seqs.clone()),
            (s.samples.clone(), s.seqs.clone())
        );
        // The previous generation reads a prefix of the same chunks.
        let mut prefix = Stream::new("x", "", s.origin.clone());
        unpack(&a, true, start, 5, &mut prefix).unwrap();
        unpack(&b, true, start, 5, &mut prefix).unwrap();
        assert_eq!(prefix.samples, s.samples[..5]);
        // A chunk missing its first points is an error, not a shorter stream.
        let mut hole = Stream::new("x", "", s.origin.clone());
        assert!(unpack(&b, true, start, 30, &mut hole).is_err());
    }

    #[test]
    fn the_hash_covers_the_same_numbers_as_the_chunk() {
        let s = stream(30, 20);
        for seqs in [false, true] {
            let values = chunk_values(&s, 5, 0, seqs);
            let by_hand = values.iter().fold(0xcbf2_9ce4_8422_2325, |h, v| mix(h, *v)) | 1;
            assert_eq!(chunk_hash(&s, 5, 0, seqs), by_hand);
        }
        let mut t = s.clone();
        t.samples[17].value += 1.0;
        assert_ne!(chunk_hash(&s, 5, 0, true), chunk_hash(&t, 5, 0, true));
    }

    #[test]
    fn points_from_before_a_stream_had_seqs_get_none() {
        let s = stream(5, 2);
        let values = chunk_values(&s, 0, 0, true);
        let seqs: Vec<f64> = values[1..].chunks(3).map(|r| r[2]).collect();
        assert!(seqs[..3].iter().all(|q| q.is_nan()));
        assert_eq!(&seqs[3..], [100.0, 101.0]);
    }

    #[test]
    fn a_stored_value_of_a_newer_format_or_damaged_is_not_read() {
        assert!(parse(r#"{"format":3,"streams":[]}"#).is_err_and(|e| e.contains("newer version")));
        assert!(parse(r#"{"streams":[{"id":1}]}"#).is_err_and(|e| e.contains("damaged")));
        assert!(matches!(parse(r#"{"streams":[]}"#), Ok(Stored::Whole(_))));
    }
}
