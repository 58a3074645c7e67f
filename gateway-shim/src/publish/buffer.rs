//! The store-and-forward buffer of the republisher (EMQ Neuron's offline cache is the model):
//! every sample waits here until the broker acknowledges it (PUBACK at QoS 1, handed over at
//! QoS 0), is sent again from here after a reconnect, in order, and is bounded by size and age,
//! the oldest dropped first and counted.
//!
//! With `buffer_dir` the buffer is also an append-only log on disk, so it survives a crash:
//! - segment files `{first id:016x}.seg` of records `[len u32][crc32 u32][seq u64][t i64]
//!   [value f64][stream]` (little-endian; `len` counts from `seq`), a new segment at each start
//!   and past [`Disk::segment_bytes`];
//! - a `cursor` file (`{segment} {offset}`) naming the first record not yet acknowledged,
//!   rewritten (temp file + rename) every second and at shutdown; segments wholly before it are
//!   deleted;
//! - fsync policy: records are written to the file (the OS) after each burst of samples, before
//!   they are sent, so a killed shim loses none of them; the file is fsynced every second and at
//!   shutdown, so a power cut loses at most the last second.
//!
//! After a restart, records from the cursor on are read back (a torn last record, from a crash
//! mid-write, is cut off and reported) and sent first. Records acknowledged in the second before
//! a crash are sent again: at-least-once, as QoS 1 itself; a receiver that must see each sample
//! once keeps the last `(t, seq)` per stream. The records are also held in memory while they
//! wait (about the same size again).

use llmscope_protocol::Sample;
use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The bounds: the oldest samples are dropped beyond either.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Bytes of records (as written on disk).
    pub max_bytes: u64,
    /// Age of a sample (by its time `t`), in milliseconds.
    pub max_age_ms: i64,
}

/// Bytes of a record before its stream name.
const HEAD: usize = 8 + 8 + 8 + 8;

/// Samples waiting for the broker.
pub struct Buffer {
    queue: VecDeque<Entry>,
    /// Entries at the front handed to the broker and waiting for their PUBACK.
    in_flight: usize,
    /// PUBACKs still to come for in-flight entries already dropped.
    orphan_acks: usize,
    bytes: u64,
    limits: Limits,
    dropped: u64,
    /// Samples enqueued so far (restored ones included): the next entry's number.
    enqueued: u64,
    disk: Option<Disk>,
}

/// One waiting sample, its number in the order of arrival, and where its record is on disk
/// (segment 0 in memory-only buffers).
struct Entry {
    sample: Arc<Sample>,
    number: u64,
    size: u64,
    at: Position,
}

/// A record's place in the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Position {
    segment: u64,
    offset: u64,
}

/// What [`Buffer::open`] found on disk.
#[derive(Debug, Default)]
pub struct Restored {
    /// Records read back, to be sent first.
    pub records: usize,
    /// Bytes of a torn record cut off the end of a segment (a crash mid-write).
    pub torn_bytes: u64,
}

impl Buffer {
    /// A buffer in memory only.
    pub fn memory(limits: Limits) -> Buffer {
        Buffer {
            queue: VecDeque::new(),
            in_flight: 0,
            orphan_acks: 0,
            bytes: 0,
            limits,
            dropped: 0,
            enqueued: 0,
            disk: None,
        }
    }

    /// A buffer kept in `dir` (created if missing), with the records a previous run left.
    pub fn open(dir: &Path, limits: Limits) -> io::Result<(Buffer, Restored)> {
        fs::create_dir_all(dir)?;
        let cursor = read_cursor(dir)?;
        let mut buffer = Buffer::memory(limits);
        let mut restored = Restored::default();
        let mut last = cursor.segment;
        for segment in segments(dir)? {
            let path = segment_path(dir, segment);
            if segment < cursor.segment {
                fs::remove_file(&path)?;
                continue;
            }
            let from = if segment == cursor.segment {
                cursor.offset
            } else {
                0
            };
            let (records, torn) = read_segment(&path, segment, from)?;
            restored.torn_bytes += torn;
            if records.is_empty() {
                // Nothing left to send in it: the new run writes a segment of its own.
                fs::remove_file(&path)?;
            }
            for (sample, at) in records {
                buffer.enqueue(Arc::new(sample), at);
                restored.records += 1;
            }
            last = last.max(segment);
        }
        buffer.disk = Some(Disk::create(dir, last + 1, limits.max_bytes)?);
        buffer.enforce(i64::MIN);
        Ok((buffer, restored))
    }

    /// Adds a sample; it reaches the disk at the next [`Buffer::flush`].
    pub fn push(&mut self, sample: Arc<Sample>) {
        let at = match &mut self.disk {
            Some(disk) => disk.append(&sample),
            None => Position {
                segment: 0,
                offset: 0,
            },
        };
        self.enqueue(sample, at);
        self.enforce(i64::MIN);
    }

    fn enqueue(&mut self, sample: Arc<Sample>, at: Position) {
        let size = (HEAD + sample.stream.len()) as u64;
        self.bytes += size;
        self.queue.push_back(Entry {
            sample,
            number: self.enqueued,
            size,
            at,
        });
        self.enqueued += 1;
    }

    /// Writes the records pushed since the last call to the file (not yet fsynced).
    pub fn flush(&mut self) -> io::Result<()> {
        match &mut self.disk {
            Some(disk) => disk.flush(),
            None => Ok(()),
        }
    }

    /// The next sample to send, if any is not in flight yet, with its number (see
    /// [`Buffer::enqueued`]).
    pub fn next(&self) -> Option<(&Arc<Sample>, u64)> {
        self.queue
            .get(self.in_flight)
            .map(|e| (&e.sample, e.number))
    }

    /// Samples enqueued so far: those numbered below it arrived before now.
    pub fn enqueued(&self) -> u64 {
        self.enqueued
    }

    /// The sample [`Buffer::next`] gave is with the broker now.
    pub fn sent(&mut self) {
        self.in_flight = (self.in_flight + 1).min(self.queue.len());
    }

    /// The oldest sample in flight was acknowledged.
    pub fn acked(&mut self) {
        if self.orphan_acks > 0 {
            self.orphan_acks -= 1;
        } else if self.in_flight > 0 {
            self.in_flight -= 1;
            self.pop();
        }
    }

    /// The connection was lost: whatever was in flight is sent again.
    pub fn rewind(&mut self) {
        self.in_flight = 0;
        self.orphan_acks = 0;
    }

    /// Drops samples older than the age limit (at `now_ms`), fsyncs and saves the cursor:
    /// called about every second.
    pub fn tick(&mut self, now_ms: i64) -> io::Result<()> {
        self.enforce(now_ms.saturating_sub(self.limits.max_age_ms));
        let front = self.front_position();
        match &mut self.disk {
            Some(disk) => disk.sync(front),
            None => Ok(()),
        }
    }

    /// Flushes, fsyncs and saves the cursor.
    pub fn close(&mut self) -> io::Result<()> {
        self.flush()?;
        self.tick(i64::MIN)
    }

    /// Samples waiting (in flight included).
    pub fn waiting(&self) -> usize {
        self.queue.len()
    }

    /// Bytes of the waiting records.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Samples dropped by the size or age bound so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Drops the oldest samples while over the size bound or older than `oldest_t`.
    fn enforce(&mut self, oldest_t: i64) {
        while let Some(front) = self.queue.front() {
            if self.bytes <= self.limits.max_bytes && front.sample.t >= oldest_t {
                break;
            }
            if self.in_flight > 0 {
                // Its PUBACK may still come; it must not be taken for the next sample's.
                self.in_flight -= 1;
                self.orphan_acks += 1;
            }
            self.pop();
            self.dropped += 1;
        }
    }

    fn pop(&mut self) {
        if let Some(e) = self.queue.pop_front() {
            self.bytes -= e.size;
        }
        let front = self.front_position();
        if let Some(disk) = &mut self.disk {
            disk.release_before(front);
        }
    }

    /// Where the first waiting record is, or the end of the log when none waits.
    fn front_position(&self) -> Option<Position> {
        self.queue.front().map(|e| e.at)
    }
}

/// The log on disk.
struct Disk {
    dir: PathBuf,
    file: File,
    segment: u64,
    /// Bytes in the current segment, written or pending.
    size: u64,
    pending: Vec<u8>,
    /// The oldest segment still on disk.
    oldest: u64,
    /// Written since the last fsync.
    dirty: bool,
    segment_bytes: u64,
}

impl Disk {
    /// A segment is a sixteenth of the size bound (64 KiB to 16 MiB), so that freeing space
    /// deletes a file rather than rewriting one.
    fn segment_bytes(max_bytes: u64) -> u64 {
        (max_bytes / 16).clamp(64 << 10, 16 << 20)
    }

    fn create(dir: &Path, segment: u64, max_bytes: u64) -> io::Result<Disk> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(segment_path(dir, segment))?;
        let oldest = segments(dir)?.first().copied().unwrap_or(segment);
        Ok(Disk {
            dir: dir.to_path_buf(),
            file,
            segment,
            size: 0,
            pending: Vec::new(),
            oldest,
            dirty: false,
            segment_bytes: Disk::segment_bytes(max_bytes),
        })
    }

    fn append(&mut self, sample: &Sample) -> Position {
        if self.size >= self.segment_bytes {
            if let Err(e) = self.rotate() {
                eprintln!("publish: buffer_dir {}: {e}", self.dir.display());
            }
        }
        let at = Position {
            segment: self.segment,
            offset: self.size,
        };
        let start = self.pending.len();
        encode(sample, &mut self.pending);
        self.size += (self.pending.len() - start) as u64;
        at
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.flush()?;
        self.file.sync_data()?;
        self.segment += 1;
        self.size = 0;
        self.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(segment_path(&self.dir, self.segment))?;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let written = self.file.write_all(&self.pending);
        self.pending.clear();
        self.dirty = true;
        written
    }

    /// Fsyncs and records `front` (none: everything is acknowledged) as the cursor.
    fn sync(&mut self, front: Option<Position>) -> io::Result<()> {
        self.flush()?;
        if self.dirty {
            self.file.sync_data()?;
            self.dirty = false;
        }
        let cursor = front.unwrap_or(Position {
            segment: self.segment,
            offset: self.size,
        });
        let tmp = self.dir.join("cursor.tmp");
        fs::write(&tmp, format!("{} {}\n", cursor.segment, cursor.offset))?;
        fs::rename(tmp, self.dir.join("cursor"))
    }

    /// Deletes the segments wholly before `front`.
    fn release_before(&mut self, front: Option<Position>) {
        let keep = front.map_or(self.segment, |p| p.segment);
        while self.oldest < keep {
            let _ = fs::remove_file(segment_path(&self.dir, self.oldest));
            self.oldest += 1;
        }
    }
}

fn encode(sample: &Sample, out: &mut Vec<u8>) {
    let mut body = Vec::with_capacity(HEAD + sample.stream.len());
    body.extend_from_slice(&sample.seq.to_le_bytes());
    body.extend_from_slice(&sample.t.to_le_bytes());
    body.extend_from_slice(&sample.value.to_le_bytes());
    body.extend_from_slice(sample.stream.as_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    out.extend_from_slice(&body);
}

/// The records of a segment from `from` on, and the bytes of a torn or corrupt tail (which is
/// cut off the file).
fn read_segment(
    path: &Path,
    segment: u64,
    from: u64,
) -> io::Result<(Vec<(Sample, Position)>, u64)> {
    let mut bytes = Vec::new();
    File::open(path)?.read_to_end(&mut bytes)?;
    let mut records = Vec::new();
    let mut at = from as usize;
    while let Some((sample, len)) = decode(bytes.get(at..).unwrap_or_default()) {
        let offset = at as u64;
        records.push((sample, Position { segment, offset }));
        at += len;
    }
    let torn = bytes.len().saturating_sub(at) as u64;
    if torn > 0 {
        OpenOptions::new()
            .write(true)
            .open(path)?
            .set_len(at as u64)?;
    }
    Ok((records, torn))
}

/// One record from the start of `bytes` and its length, or `None` if it is short or corrupt.
fn decode(bytes: &[u8]) -> Option<(Sample, usize)> {
    let len = u32::from_le_bytes(bytes.get(0..4)?.try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(bytes.get(4..8)?.try_into().ok()?);
    let body = bytes.get(8..8 + len)?;
    if len < 24 || crc32fast::hash(body) != crc {
        return None;
    }
    let word = |i: usize| -> Option<[u8; 8]> { body.get(i..i + 8)?.try_into().ok() };
    let sample = Sample {
        seq: u64::from_le_bytes(word(0)?),
        t: i64::from_le_bytes(word(8)?),
        value: f64::from_le_bytes(word(16)?),
        stream: String::from_utf8(body[24..].to_vec()).ok()?,
    };
    Some((sample, 8 + len))
}

fn segment_path(dir: &Path, segment: u64) -> PathBuf {
    dir.join(format!("{segment:016x}.seg"))
}

/// The segment ids in `dir`, oldest first.
fn segments(dir: &Path) -> io::Result<Vec<u64>> {
    let mut ids: Vec<u64> = fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            u64::from_str_radix(name.strip_suffix(".seg")?, 16).ok()
        })
        .collect();
    ids.sort_unstable();
    Ok(ids)
}

/// The saved cursor, or the start of the log.
fn read_cursor(dir: &Path) -> io::Result<Position> {
    let start = Position {
        segment: 0,
        offset: 0,
    };
    let text = match fs::read_to_string(dir.join("cursor")) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(start),
        Err(e) => return Err(e),
    };
    let mut parts = text.split_whitespace().map(str::parse::<u64>);
    match (parts.next(), parts.next()) {
        (Some(Ok(segment)), Some(Ok(offset))) => Ok(Position { segment, offset }),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{}: '{}' is not `segment offset`; delete it to replay every segment",
                dir.join("cursor").display(),
                text.trim()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(seq: u64) -> Arc<Sample> {
        Arc::new(Sample {
            stream: "press1/temperature".into(),
            seq,
            t: 1_000 + seq as i64,
            value: seq as f64 / 2.0,
        })
    }

    const WIDE: Limits = Limits {
        max_bytes: 1 << 30,
        max_age_ms: i64::MAX / 2,
    };

    fn seqs(b: &Buffer) -> Vec<u64> {
        b.queue.iter().map(|e| e.sample.seq).collect()
    }

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("llmscope-buf-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn acks_remove_in_order_and_a_rewind_sends_again() {
        let mut b = Buffer::memory(WIDE);
        for s in 1..=4 {
            b.push(sample(s));
        }
        let mut sent = Vec::new();
        for _ in 0..3 {
            sent.push(b.next().unwrap().0.seq);
            b.sent();
        }
        b.acked();
        assert_eq!((sent, seqs(&b)), (vec![1, 2, 3], vec![2, 3, 4]));
        b.rewind();
        assert_eq!(
            b.next().unwrap().0.seq,
            2,
            "unacknowledged samples go again"
        );
    }

    #[test]
    fn the_oldest_go_first_past_the_size_and_age_bounds() {
        let size = (HEAD + "press1/temperature".len()) as u64;
        let mut b = Buffer::memory(Limits {
            max_bytes: 3 * size,
            max_age_ms: 100,
        });
        for s in 1..=5 {
            b.push(sample(s));
        }
        assert_eq!((seqs(&b), b.dropped()), (vec![3, 4, 5], 2));
        b.tick(1_104).unwrap(); // keeps t >= 1004
        assert_eq!((seqs(&b), b.dropped()), (vec![4, 5], 3));
    }

    /// A dropped in-flight sample's PUBACK is not taken for the next one's.
    #[test]
    fn a_dropped_in_flight_sample_keeps_acks_aligned() {
        let size = (HEAD + "press1/temperature".len()) as u64;
        let mut b = Buffer::memory(Limits {
            max_bytes: 2 * size,
            max_age_ms: i64::MAX / 2,
        });
        b.push(sample(1));
        b.sent();
        b.push(sample(2));
        b.push(sample(3)); // drops 1, in flight
        b.sent(); // 2
        b.acked(); // 1's ack
        assert_eq!(seqs(&b), [2, 3]);
        b.acked(); // 2's ack
        assert_eq!(seqs(&b), [3]);
    }

    #[test]
    fn the_disk_log_survives_a_restart_from_the_cursor() {
        let d = dir("restart");
        let (mut b, restored) = Buffer::open(&d, WIDE).unwrap();
        assert_eq!(restored.records, 0);
        for s in 1..=5 {
            b.push(sample(s));
        }
        b.flush().unwrap();
        b.sent();
        b.sent();
        b.acked();
        b.acked();
        b.tick(0).unwrap();
        b.push(sample(6));
        b.flush().unwrap();
        drop(b); // as a crash would: no close
        let (b, restored) = Buffer::open(&d, WIDE).unwrap();
        assert_eq!((restored.records, restored.torn_bytes), (4, 0));
        assert_eq!(seqs(&b), [3, 4, 5, 6]);
        assert_eq!(*b.next().unwrap().0.as_ref(), *sample(3));
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn a_torn_last_record_is_cut_off_and_the_rest_kept() {
        let d = dir("torn");
        let (mut b, _) = Buffer::open(&d, WIDE).unwrap();
        for s in 1..=3 {
            b.push(sample(s));
        }
        b.close().unwrap();
        let seg = segment_path(&d, b.disk.as_ref().unwrap().segment);
        let len = fs::metadata(&seg).unwrap().len();
        OpenOptions::new()
            .write(true)
            .open(&seg)
            .unwrap()
            .set_len(len - 5)
            .unwrap();
        drop(b);
        let (mut b, restored) = Buffer::open(&d, WIDE).unwrap();
        assert_eq!(seqs(&b), [1, 2]);
        assert_eq!(
            restored.torn_bytes,
            (HEAD + "press1/temperature".len() - 5) as u64
        );
        // Everything acknowledged: the old segments go, and nothing comes back.
        for _ in 0..2 {
            b.sent();
            b.acked();
        }
        b.close().unwrap();
        drop(b);
        assert_eq!(Buffer::open(&d, WIDE).unwrap().1.records, 0);
        assert_eq!(
            segments(&d).unwrap().len(),
            1,
            "only the new, empty segment"
        );
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn a_bad_cursor_file_is_an_error_naming_it() {
        let d = dir("cursor");
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("cursor"), "x y").unwrap();
        let e = Buffer::open(&d, WIDE).err().unwrap().to_string();
        assert!(e.contains("cursor: 'x y' is not `segment offset`"), "{e}");
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn records_round_trip_and_corruption_is_refused() {
        let mut bytes = Vec::new();
        encode(&sample(9), &mut bytes);
        assert_eq!(decode(&bytes).unwrap(), ((*sample(9)).clone(), bytes.len()));
        for i in 8..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 1;
            assert!(decode(&bad).is_none(), "flipped byte {i}");
        }
    }
}
