//! Saving in chunks: which chunks a stream's points occupy, what each holds and its hash, and
//! the [`Saver`] that writes only the chunks that changed, in two generations.

use super::request::{completion, describe, open, write_both};
use super::*;
use js_sys::{Array, Float64Array};
use std::collections::HashSet;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::JsValue;
use web_sys::{IdbDatabase, IdbTransactionMode};

/// The chunks a stream's points occupy.
pub(super) fn chunk_range(start: u64, len: u64) -> std::ops::Range<u64> {
    if len == 0 {
        return 0..0;
    }
    start / CHUNK..(start + len - 1) / CHUNK + 1
}

/// The rows of chunk `k` (indices into the stream's samples), the absolute index of its
/// first, and how many leading samples have no seq (the seqs sit beside the last samples).
pub(super) fn chunk_rows(
    stream: &Stream,
    start: u64,
    k: u64,
) -> (std::ops::Range<usize>, u64, usize) {
    let len = stream.samples.len() as u64;
    let from = (k * CHUNK).max(start);
    let to = ((k + 1) * CHUNK).min(start + len);
    let no_seq = len as usize - stream.seqs.len().min(len as usize);
    ((from - start) as usize..(to - start) as usize, from, no_seq)
}

pub(super) fn seq_at(stream: &Stream, i: usize, no_seq: usize) -> f64 {
    let seq = i.checked_sub(no_seq).and_then(|j| stream.seqs.get(j));
    seq.map_or(f64::NAN, |&q| q as f64)
}

/// Chunk `k` of a stream whose first point has absolute index `start`: the absolute index of
/// its first point, then `t, value[, seq]` per point.
pub(super) fn chunk_values(stream: &Stream, start: u64, k: u64, seqs: bool) -> Vec<f64> {
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
pub(super) fn mix(h: u64, x: f64) -> u64 {
    (h.rotate_left(5) ^ x.to_bits()).wrapping_mul(0x517c_c1b7_2722_0a95)
}

/// A fast hash of chunk `k`'s numbers (those of [`chunk_values`], without copying them), to
/// tell whether it changed; never 0, which stands for "unknown".
pub(super) fn chunk_hash(stream: &Stream, start: u64, k: u64, seqs: bool) -> u64 {
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
pub(super) fn unpack(
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
    pub(super) fn new() -> Saver {
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
            streams.push(StreamMeta::of(s, start, len, seqs));
        }
        let meta = meta_json(session, streams, false)
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
    pub(super) fn remember(&mut self, session: &Session) {
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

    pub(super) async fn write_to(&self, db: &IdbDatabase) -> Result<(), String> {
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
pub(super) async fn put_chunks(
    db: &IdbDatabase,
    batch: &[(ChunkKey, u64, Vec<f64>)],
) -> Result<(), String> {
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

pub(super) fn chunk_key((id, k): &ChunkKey) -> JsValue {
    Array::of2(&JsValue::from_str(id), &JsValue::from_f64(*k as f64)).into()
}

/// The chunks a stored `Meta` reads.
pub(super) fn meta_chunks(meta: &Meta) -> HashSet<ChunkKey> {
    meta.streams
        .iter()
        .flat_map(|s| chunk_range(s.start, s.len).map(move |k| (s.id.clone(), k)))
        .collect()
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
}
