//! Writing every point on both cores: the points are cut into chunks, one thread formats the
//! odd chunks while the other formats the even ones and writes all of them in order, so the
//! bytes are those of one thread formatting everything.
//!
//! Also [`Repeated`]: a number's text kept while the next number is the same, since a
//! chart's center and limits repeat on every point of a segment.

use std::io::{Result, Write};
use std::sync::mpsc::sync_channel;

/// Points per chunk: a few MB of text, one write each.
pub const CHUNK: usize = 1 << 15;

/// Formats chunks of points, in increasing order (a formatter may skip chunks).
pub trait Chunks: Send {
    /// Appends chunk `k` (points `k * CHUNK` up to the next chunk) to `buf`.
    fn chunk(&mut self, k: usize, buf: &mut Vec<u8>);
}

/// Writes chunks `0..count` in order: `mine` formats the even ones on this thread, `theirs` the
/// odd ones on a second thread. At most two of theirs wait formatted at a time.
pub fn write_in_order(
    out: &mut impl Write,
    count: usize,
    mut mine: impl Chunks,
    mut theirs: impl Chunks,
) -> Result<()> {
    std::thread::scope(|s| {
        let (done, formatted) = sync_channel::<Vec<u8>>(2);
        let (give_back, spare) = sync_channel::<Vec<u8>>(2);
        s.spawn(move || {
            for k in (1..count).step_by(2) {
                let mut buf = spare.try_recv().unwrap_or_default();
                buf.clear();
                theirs.chunk(k, &mut buf);
                // The writer stopped (a write failed): nothing more is wanted.
                if done.send(buf).is_err() {
                    return;
                }
            }
        });
        let mut buf = Vec::new();
        for k in 0..count {
            if k % 2 == 0 {
                buf.clear();
                mine.chunk(k, &mut buf);
                out.write_all(&buf)?;
            } else {
                // The formatter panicked if it sent nothing; the scope then panics with it.
                let Ok(theirs) = formatted.recv() else { break };
                out.write_all(&theirs)?;
                let _ = give_back.try_send(theirs);
            }
        }
        Ok(())
    })
}

/// Appends `x` in `ryu`'s shortest round-trip form (as serde_json writes floats), or `null`
/// for none, NaN or an infinity (JSON has no such numbers).
pub fn push_num(buf: &mut Vec<u8>, x: Option<f64>) {
    match x {
        Some(x) if x.is_finite() => {
            buf.extend_from_slice(ryu::Buffer::new().format_finite(x).as_bytes())
        }
        _ => buf.extend_from_slice(b"null"),
    }
}

/// The text of the last number formatted (as [`push_num`] writes it), kept while the next is
/// the same.
#[derive(Default)]
pub struct Repeated {
    last: Option<Option<u64>>,
    text: [u8; 24],
    len: usize,
}

impl Repeated {
    /// Appends `x`'s text to `buf`, formatting it only when it differs from the last one.
    pub fn push(&mut self, x: Option<f64>, buf: &mut Vec<u8>) {
        let key = x.filter(|v| v.is_finite()).map(f64::to_bits);
        if self.last != Some(key) {
            let mut ryu = ryu::Buffer::new();
            let text = match key {
                Some(bits) => ryu.format_finite(f64::from_bits(bits)).as_bytes(),
                None => b"null",
            };
            self.text[..text.len()].copy_from_slice(text);
            self.len = text.len();
            self.last = Some(key);
        }
        buf.extend_from_slice(&self.text[..self.len]);
    }
}
