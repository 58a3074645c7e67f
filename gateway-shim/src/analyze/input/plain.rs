//! CSV without quotes (the usual export): lines and cells found with `memchr`, and the rows
//! after the first read on both cores, each half of the file on its own thread.
//!
//! The halves meet at a line end, so each reads whole lines. The second half counts its lines
//! from its own start; its first bad line is reported only when the first half has none, with
//! the first half's line count added, so the error names the same line a serial read names.

use super::{Bad, Columns, Records};

/// A CSV without quotes, with `\n` or `\r\n` line ends and a UTF-8 header: lines and cells
/// found with `memchr`. Blank lines are skipped, as the csv crate skips them.
#[derive(Clone, Copy)]
pub struct Plain<'a> {
    bytes: &'a [u8],
    at: usize,
    line: u64,
}

/// Unread bytes below which one thread reads the rest: a thread costs more than it saves.
const SPLIT_MIN: usize = 1 << 18;

impl<'a> Plain<'a> {
    /// None when the csv crate is needed: quotes, a CR that does not end a line, or a header
    /// that is not UTF-8 (the csv crate's error then names it).
    pub fn new(bytes: &'a [u8]) -> Option<Plain<'a>> {
        // One pass for both: any quote, or a CR not followed by LF.
        let needs_csv = memchr::memchr2_iter(b'"', b'\r', bytes)
            .any(|i| bytes[i] == b'"' || bytes.get(i + 1) != Some(&b'\n'));
        let plain = Plain {
            bytes,
            at: 0,
            line: 0,
        };
        let header_ok = std::str::from_utf8(plain.clone().next_line()?.1).is_ok();
        (!needs_csv && header_ok).then_some(plain)
    }

    /// The next non-empty line and its number.
    pub fn next_line(&mut self) -> Option<(u64, &'a [u8])> {
        while self.at < self.bytes.len() {
            let rest = &self.bytes[self.at..];
            let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
            self.at += end + 1;
            self.line += 1;
            let line = rest[..end].strip_suffix(b"\r").unwrap_or(&rest[..end]);
            if !line.is_empty() {
                return Some((self.line, line));
            }
        }
        None
    }

    /// The unread rest as two halves that meet after a `\n`; the second counts lines from 0.
    fn halves(self) -> (Plain<'a>, Plain<'a>) {
        let middle = self.at + (self.bytes.len() - self.at) / 2;
        let cut = memchr::memchr(b'\n', &self.bytes[middle..])
            .map_or(self.bytes.len(), |i| middle + i + 1);
        let first = Plain {
            bytes: &self.bytes[..cut],
            ..self
        };
        let second = Plain {
            bytes: self.bytes,
            at: cut,
            line: 0,
        };
        (first, second)
    }
}

impl<'a> Records<'a> for Plain<'a> {
    fn headers(&mut self) -> std::result::Result<Vec<String>, csv::Error> {
        let header = self.next_line().map_or(&[][..], |(_, h)| h);
        let text = String::from_utf8_lossy(header);
        Ok(text.split(',').map(|h| h.trim().to_string()).collect())
    }

    fn next(
        &mut self,
        record: &mut csv::ByteRecord,
    ) -> std::result::Result<Option<u64>, csv::Error> {
        let Some((line, text)) = self.next_line() else {
            return Ok(None);
        };
        record.clear();
        for cell in text.split(|&b| b == b',') {
            record.push_field(cell);
        }
        Ok(Some(line))
    }

    fn plain(&self) -> Option<Plain<'a>> {
        Some(*self)
    }
}

/// The chosen cells of the rows read: values, and sizes when there is a size column.
pub struct Cells {
    pub values: Vec<f64>,
    pub sizes: Option<Vec<f64>>,
}

/// A bad cell: its line (counted from where the reading started), column, and the row's cells.
pub struct BadAt {
    pub line: u64,
    pub col: usize,
    pub cells: usize,
    pub bad: Bad,
}

/// Reads every unread row's value (and size) cells: on two threads when there is enough left.
pub fn read_rest(plain: Plain<'_>, cols: &Columns) -> Result<Cells, BadAt> {
    if plain.bytes.len() - plain.at < SPLIT_MIN {
        return read_lines(plain, cols).map(|(cells, _)| cells);
    }
    let (first, second) = plain.halves();
    let (early, late) = std::thread::scope(|s| {
        let late = s.spawn(|| read_lines(second, cols));
        (read_lines(first, cols), late.join())
    });
    let (mut cells, lines) = early?;
    let (more, _) = match late {
        Ok(read) => read.map_err(|bad| BadAt {
            line: lines + bad.line,
            ..bad
        })?,
        // A panic is a bug; show it as one rather than hide it.
        Err(panic) => std::panic::resume_unwind(panic),
    };
    cells.values.extend_from_slice(&more.values);
    if let (Some(sizes), Some(more)) = (&mut cells.sizes, &more.sizes) {
        sizes.extend_from_slice(more);
    }
    Ok(cells)
}

/// Reads the rows of `plain` to its end; returns the cells and the last line number.
fn read_lines(mut plain: Plain<'_>, cols: &Columns) -> Result<(Cells, u64), BadAt> {
    // About 20 bytes a line in a typical export: reserve what most files need at once.
    let guess = (plain.bytes.len() - plain.at) / 20;
    let mut cells = Cells {
        values: Vec::with_capacity(guess),
        sizes: cols.size.map(|_| Vec::with_capacity(guess)),
    };
    while let Some((line, text)) = plain.next_line() {
        let cell = |col: usize| {
            super::cell_number(text.split(|&b| b == b',').nth(col)).map_err(|bad| BadAt {
                line,
                col,
                cells: text.split(|&b| b == b',').count(),
                bad,
            })
        };
        cells.values.push(cell(cols.value)?);
        if let (Some(col), Some(sizes)) = (cols.size, &mut cells.sizes) {
            sizes.push(cell(col)?);
        }
    }
    Ok((cells, plain.line))
}
