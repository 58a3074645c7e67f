//! The two text framings providers stream in: server-sent events and newline-delimited JSON.
//! Both take bytes in whatever pieces the network delivers (a line or a UTF-8 character may be
//! split across pieces) and hand out whole events or lines.

use super::{Outcome, StreamParser};
use llmscope_protocol::probe::ErrorKind;

/// The longest line, SSE event or whole body a parser buffers (1 MiB): a stream that passes it
/// without a newline or a blank line is `malformed`, not a growing buffer.
pub const MAX_FRAME_BYTES: usize = 1 << 20;

/// A frame passed [`MAX_FRAME_BYTES`]: what the failure says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TooLong(pub &'static str);

impl TooLong {
    /// Records the failure.
    pub fn report(self, out: &mut Outcome) {
        out.fail(
            ErrorKind::Malformed,
            format!("{} longer than {MAX_FRAME_BYTES} bytes", self.0),
        );
    }
}

/// Splits bytes into lines (`\n`, with an optional `\r` before it). Each byte is scanned once
/// (a long line arriving in small pieces is not rescanned from its start), and a line longer
/// than [`MAX_FRAME_BYTES`] is an error.
#[derive(Default)]
pub struct Lines {
    buf: Vec<u8>,
    /// Bytes of `buf` already known to hold no newline.
    scanned: usize,
}

impl Lines {
    /// Feeds bytes; calls `on_line` for every complete line.
    pub fn feed(&mut self, bytes: &[u8], mut on_line: impl FnMut(&str)) -> Result<(), TooLong> {
        self.buf.extend_from_slice(bytes);
        let mut start = 0;
        let mut from = self.scanned;
        while let Some(end) = self.buf[from..].iter().position(|&b| b == b'\n') {
            let line = &self.buf[start..from + end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            on_line(&String::from_utf8_lossy(line));
            start = from + end + 1;
            from = start;
        }
        self.buf.drain(..start);
        self.scanned = self.buf.len();
        if self.buf.len() > MAX_FRAME_BYTES {
            self.buf = Vec::new();
            self.scanned = 0;
            return Err(TooLong("a line without a newline"));
        }
        Ok(())
    }

    /// The last line, when the stream ended without a newline after it.
    pub fn finish(&mut self, mut on_line: impl FnMut(&str)) {
        if !self.buf.is_empty() {
            let rest = std::mem::take(&mut self.buf);
            self.scanned = 0;
            on_line(&String::from_utf8_lossy(&rest));
        }
    }
}

/// Server-sent events (WHATWG HTML, "Server-sent events"): `event:` names an event, `data:`
/// lines (joined by `\n`) are its payload, and a blank line dispatches it. Comments (`:`) and
/// other fields are ignored.
#[derive(Default)]
pub struct Sse {
    lines: Lines,
    event: String,
    data: Option<String>,
}

impl Sse {
    /// Feeds bytes; calls `on_event(name, data)` for every dispatched event (`name` is empty
    /// when the event had no `event:` line).
    pub fn feed(
        &mut self,
        bytes: &[u8],
        mut on_event: impl FnMut(&str, &str),
    ) -> Result<(), TooLong> {
        let Sse { lines, event, data } = self;
        lines.feed(bytes, |line| Self::line(event, data, line, &mut on_event))?;
        if data.as_ref().is_some_and(|d| d.len() > MAX_FRAME_BYTES) {
            *data = None;
            return Err(TooLong("an event without its blank line"));
        }
        Ok(())
    }

    /// Dispatches an event left open when the stream ended without its blank line.
    pub fn finish(&mut self, mut on_event: impl FnMut(&str, &str)) {
        let Sse { lines, event, data } = self;
        lines.finish(|line| Self::line(event, data, line, &mut on_event));
        if let Some(d) = data.take() {
            on_event(event, &d);
        }
    }

    fn line(
        event: &mut String,
        data: &mut Option<String>,
        line: &str,
        on_event: &mut impl FnMut(&str, &str),
    ) {
        if line.is_empty() {
            if let Some(d) = data.take() {
                on_event(event, &d);
            }
            event.clear();
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => *event = value.to_string(),
            "data" => match data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => *data = Some(value.to_string()),
            },
            _ => {}
        }
    }
}

/// A provider whose stream is server-sent events, each `data` handled by one function.
pub struct SseParser {
    sse: Sse,
    on_data: fn(&mut Outcome, &str),
}

impl SseParser {
    /// A boxed parser calling `on_data` for every event's data.
    pub fn boxed(on_data: fn(&mut Outcome, &str)) -> Box<dyn StreamParser> {
        Box::new(SseParser {
            sse: Sse::default(),
            on_data,
        })
    }
}

impl StreamParser for SseParser {
    fn feed(&mut self, bytes: &[u8], out: &mut Outcome) {
        let on_data = self.on_data;
        if let Err(e) = self.sse.feed(bytes, |_, data| on_data(out, data)) {
            e.report(out);
        }
    }

    fn finish(&mut self, out: &mut Outcome) {
        let on_data = self.on_data;
        self.sse.finish(|_, data| on_data(out, data));
    }
}

/// A provider whose stream is one JSON object per line, each handled by one function.
pub struct LinesParser {
    lines: Lines,
    on_line: fn(&mut Outcome, &str),
}

impl LinesParser {
    /// A boxed parser calling `on_line` for every line.
    pub fn boxed(on_line: fn(&mut Outcome, &str)) -> Box<dyn StreamParser> {
        Box::new(LinesParser {
            lines: Lines::default(),
            on_line,
        })
    }
}

impl StreamParser for LinesParser {
    fn feed(&mut self, bytes: &[u8], out: &mut Outcome) {
        let on_line = self.on_line;
        if let Err(e) = self.lines.feed(bytes, |line| on_line(out, line)) {
            e.report(out);
        }
    }

    fn finish(&mut self, out: &mut Outcome) {
        let on_line = self.on_line;
        self.lines.finish(|line| on_line(out, line));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_events_survive_any_split() {
        let stream =
            "event: a\ndata: {\"x\":\"é\"}\n\n: comment\ndata: 1\ndata: 2\r\n\r\ndata: [DONE]\n\n";
        let bytes = stream.as_bytes();
        for split in 1..bytes.len() {
            let mut sse = Sse::default();
            let mut got = Vec::new();
            for piece in bytes.chunks(split) {
                sse.feed(piece, |e, d| got.push((e.to_string(), d.to_string())))
                    .unwrap();
            }
            sse.finish(|e, d| got.push((e.to_string(), d.to_string())));
            assert_eq!(
                got,
                [
                    ("a".to_string(), "{\"x\":\"é\"}".to_string()),
                    (String::new(), "1\n2".to_string()),
                    (String::new(), "[DONE]".to_string()),
                ],
                "split {split}"
            );
        }
    }

    #[test]
    fn a_last_line_without_newline_is_kept() {
        let mut lines = Lines::default();
        let mut got = Vec::new();
        lines
            .feed(b"{\"a\":1}\n{\"b\"", |l| got.push(l.to_string()))
            .unwrap();
        lines.feed(b":2}", |l| got.push(l.to_string())).unwrap();
        lines.finish(|l| got.push(l.to_string()));
        assert_eq!(got, ["{\"a\":1}", "{\"b\":2}"]);
    }

    #[test]
    fn endless_lines_and_events_are_malformed_not_buffered() {
        let mut lines = Lines::default();
        let piece = [b'x'; 4096];
        let mut fed = 0;
        let err = loop {
            match lines.feed(&piece, |_| panic!("no line")) {
                Ok(()) => fed += piece.len(),
                Err(e) => break e,
            }
        };
        assert_eq!(fed, MAX_FRAME_BYTES);
        assert_eq!(err, TooLong("a line without a newline"));
        assert!(lines.buf.capacity() <= MAX_FRAME_BYTES + piece.len());
        // Many short data lines and never the blank line that ends the event.
        let mut sse = Sse::default();
        let line = format!("data: {}\n", "y".repeat(1000));
        let err =
            (0..2000).find_map(|_| sse.feed(line.as_bytes(), |_, _| panic!("no event")).err());
        assert_eq!(err, Some(TooLong("an event without its blank line")));
    }

    #[test]
    fn a_long_line_in_one_byte_pieces_is_scanned_once() {
        // 1 MiB fed a byte at a time: a rescan from the line's start on every piece would
        // compare ~5e11 bytes; scanning each byte once compares 1e6.
        let mut lines = Lines::default();
        for _ in 0..MAX_FRAME_BYTES - 1 {
            lines.feed(b"z", |_| panic!("no line yet")).unwrap();
        }
        assert_eq!(lines.scanned, MAX_FRAME_BYTES - 1);
        let mut got = 0;
        lines.feed(b"\n", |l| got = l.len()).unwrap();
        assert_eq!((got, lines.buf.len()), (MAX_FRAME_BYTES - 1, 0));
    }
}
