//! CSV records as RFC 4180 reads them (csv-core, the dialect of the shim's `csv` reader),
//! shared by the dashboard's CSV import and the outside quality scores read here ([`crate::quality`]).

/// One CSV record: its fields (trimmed) and the lines it spans, 1-based.
pub struct Row<'a> {
    lines: (usize, usize),
    /// Its fields, trimmed.
    pub fields: Vec<&'a str>,
}

impl Row<'_> {
    /// Its first line, 1-based.
    pub fn first_line(&self) -> usize {
        self.lines.0
    }

    /// Where the row is, for messages: "line 7", or "lines 7 to 9" when a quoted field holds
    /// line breaks (or an unclosed quote ran on).
    pub fn place(&self) -> String {
        match self.lines {
            (a, b) if a == b => format!("line {a}"),
            (a, b) => format!("lines {a} to {b}"),
        }
    }
}

/// CSV records as RFC 4180 reads them, with csv-core (the dialect of the shim's `csv` reader):
/// quoted fields may hold commas, doubled quotes and line breaks. Blank lines are skipped.
pub struct Records<'a> {
    reader: csv_core::Reader,
    text: &'a str,
    /// Bytes of `text` read so far.
    at: usize,
    /// The line `at` is on, 1-based.
    line: usize,
    out: Vec<u8>,
    ends: Vec<usize>,
    record: String,
}

impl<'a> Records<'a> {
    /// The records of `text` (a byte-order mark at its start is skipped).
    pub fn new(text: &'a str) -> Records<'a> {
        Records {
            reader: csv_core::Reader::new(),
            text: text.strip_prefix('\u{feff}').unwrap_or(text),
            at: 0,
            line: 1,
            out: vec![0; 1024],
            ends: vec![0; 64],
            record: String::new(),
        }
    }

    /// How much of the text has been read, 0 to 1.
    pub fn progress(&self) -> f64 {
        self.at as f64 / self.text.len().max(1) as f64
    }

    /// Moves `at` by `n` bytes, counting the line breaks passed.
    fn advance(&mut self, n: usize) {
        let passed = &self.text.as_bytes()[self.at..self.at + n];
        self.line += passed.iter().filter(|&&b| b == b'\n').count();
        self.at += n;
    }

    /// The next record that is not blank.
    pub fn next_row(&mut self) -> Option<Row<'_>> {
        let (lines, nout, nend) = self.next_record()?;
        // Field bytes come from a `str` and are cut at ASCII delimiters, so they are UTF-8.
        self.record = String::from_utf8_lossy(&self.out[..nout]).into_owned();
        let mut from = 0;
        let mut fields = Vec::with_capacity(nend);
        for &end in &self.ends[..nend] {
            fields.push(self.record.get(from..end).unwrap_or_default().trim());
            from = end;
        }
        Some(Row { lines, fields })
    }

    /// Reads the next record that is not blank into `out` and `ends`: its lines, and how much
    /// of `out` and `ends` it filled.
    fn next_record(&mut self) -> Option<((usize, usize), usize, usize)> {
        loop {
            let blank = self.text.as_bytes()[self.at..]
                .iter()
                .take_while(|b| b.is_ascii_whitespace())
                .count();
            self.advance(blank);
            if self.at == self.text.len() {
                return None;
            }
            let first = self.line;
            let (mut nout, mut nend) = (0, 0);
            loop {
                let input = &self.text.as_bytes()[self.at..];
                let (res, nin, o, e) =
                    self.reader
                        .read_record(input, &mut self.out[nout..], &mut self.ends[nend..]);
                self.advance(nin);
                nout += o;
                nend += e;
                match res {
                    csv_core::ReadRecordResult::OutputFull => {
                        let grown = self.out.len() * 2;
                        self.out.resize(grown, 0);
                    }
                    csv_core::ReadRecordResult::OutputEndsFull => {
                        let grown = self.ends.len() * 2;
                        self.ends.resize(grown, 0);
                    }
                    csv_core::ReadRecordResult::InputEmpty if nin > 0 => {}
                    csv_core::ReadRecordResult::InputEmpty
                    | csv_core::ReadRecordResult::Record
                    | csv_core::ReadRecordResult::End => break,
                }
            }
            let blank = nend == 1 && self.out[..nout].trim_ascii().is_empty();
            if nend == 0 || blank {
                continue;
            }
            // The record's last line: the line break that ended it does not count.
            let last = self.line - usize::from(self.text.as_bytes()[..self.at].ends_with(b"\n"));
            return Some(((first, last.max(first)), nout, nend));
        }
    }
}
