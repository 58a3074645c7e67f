//! Writing every point on both cores: the points are cut into chunks, one thread formats the
//! odd chunks while the other formats the even ones and writes all of them in order, so the
//! bytes are those of one thread formatting everything.
//!
//! Also [`Repeated`]: a number's text kept while the next number is the same, since a
//! chart's center and limits repeat on every point of a segment.

use llmscope_spc::custom::CustomRule;
use llmscope_spc::{RuleSignal, Series, Signal};
use std::io::{Result, Write};
use std::sync::mpsc::sync_channel;

/// Points per chunk: about half a MB of text, one write each (4 MB chunks were slower).
pub const CHUNK: usize = 1 << 12;

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
pub fn push_json(buf: &mut Vec<u8>, x: Option<f64>) {
    match x {
        Some(x) if x.is_finite() => {
            buf.extend_from_slice(ryu::Buffer::new().format_finite(x).as_bytes())
        }
        _ => buf.extend_from_slice(b"null"),
    }
}

/// Appends a finite `x` as Rust's `Display` writes it (the shortest round-trip digits, never
/// an exponent, no `.0`), nothing for none, NaN or an infinity. `ryu` finds the same digits
/// faster, except that the two break a tie between two closest shortest forms differently
/// (1925971503071503.25 is `.2` to `ryu`, `.3` to `Display`). A tie needs 16 or 17 digits, so
/// those, and `ryu`'s exponent forms (below 1e-5, from 1e16), go through `Display` itself.
pub fn push_display(buf: &mut Vec<u8>, x: Option<f64>) {
    let Some(x) = x.filter(|x| x.is_finite()) else {
        return;
    };
    let mut ryu = ryu::Buffer::new();
    let text = ryu.format_finite(x);
    let text = text.strip_suffix(".0").unwrap_or(text);
    let digits = text
        .bytes()
        .filter(u8::is_ascii_digit)
        .skip_while(|&d| d == b'0')
        .count();
    if digits >= 16 || text.contains('e') {
        // Writing to a Vec cannot fail.
        let _ = write!(buf, "{x}");
    } else {
        buf.extend_from_slice(text.as_bytes());
    }
}

/// The text of the last number formatted, kept while the next is the same.
pub struct Repeated {
    format: fn(&mut Vec<u8>, Option<f64>),
    last: Option<Option<u64>>,
    text: Vec<u8>,
    /// `text` padded to a fixed size, when it fits: a copy of known size needs no call.
    short: Option<[u8; SHORT]>,
}

const SHORT: usize = 32;

impl Repeated {
    /// Numbers written by `format` ([`push_json`] or [`push_display`]).
    pub fn new(format: fn(&mut Vec<u8>, Option<f64>)) -> Self {
        Repeated {
            format,
            last: None,
            text: Vec::with_capacity(SHORT),
            short: None,
        }
    }

    /// Appends `x`'s text to `buf`, formatting it only when it differs from the last one.
    pub fn push(&mut self, x: Option<f64>, buf: &mut Vec<u8>) {
        let key = x.filter(|v| v.is_finite()).map(f64::to_bits);
        if self.last != Some(key) {
            self.text.clear();
            (self.format)(&mut self.text, x);
            self.last = Some(key);
            self.short = (self.text.len() <= SHORT).then(|| {
                let mut short = [0; SHORT];
                short[..self.text.len()].copy_from_slice(&self.text);
                short
            });
        }
        match &self.short {
            Some(short) => {
                let end = buf.len() + self.text.len();
                buf.extend_from_slice(short);
                buf.truncate(end);
            }
            None => buf.extend_from_slice(&self.text),
        }
    }
}

/// The tests and named rules that fire at each point, from cursors over signals ordered by
/// point (what `Series::tests_at` gives, without a search per point).
pub struct Tests<'a> {
    signals: &'a [Signal],
    next: usize,
    rule_signals: &'a [RuleSignal],
    rules: &'a [CustomRule],
    next_rule: usize,
}

impl<'a> Tests<'a> {
    pub fn new(series: &'a Series) -> Self {
        Tests {
            signals: &series.signals,
            next: 0,
            rule_signals: &series.rule_signals,
            rules: series.rules.custom().rules(),
            next_rule: 0,
        }
    }

    /// Does the series have named rules (whose names then follow the tests)?
    pub fn has_rules(&self) -> bool {
        !self.rules.is_empty()
    }

    /// Appends the test numbers at point `index`, `separator` between them; points are asked
    /// for in increasing order. True when it wrote any.
    pub fn push(&mut self, index: usize, separator: u8, buf: &mut Vec<u8>) -> bool {
        let mut first = true;
        while let Some(s) = self.signals.get(self.next).filter(|s| s.index <= index) {
            self.next += 1;
            if s.index == index {
                if !first {
                    buf.push(separator);
                }
                buf.extend_from_slice(itoa::Buffer::new().format(s.test.number()).as_bytes());
                first = false;
            }
        }
        !first
    }

    /// Appends the names of the named rules at point `index`, each in `quote`s, `separator`
    /// between them (and before the first when `after` is true). Rule names are letters,
    /// digits and `-_.+/` (the engine checks), so they need no escaping in JSON or CSV.
    pub fn push_rules(
        &mut self,
        index: usize,
        separator: u8,
        quote: &[u8],
        mut after: bool,
        buf: &mut Vec<u8>,
    ) {
        while let Some(s) = self
            .rule_signals
            .get(self.next_rule)
            .filter(|s| s.index <= index)
        {
            self.next_rule += 1;
            let Some(rule) = self.rules.get(s.rule).filter(|_| s.index == index) else {
                continue;
            };
            if after {
                buf.push(separator);
            }
            buf.extend_from_slice(quote);
            buf.extend_from_slice(rule.name.as_bytes());
            buf.extend_from_slice(quote);
            after = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use llmscope_spc::Rng;

    #[test]
    fn display_form_is_rusts_display() {
        let mut rng = Rng::new(3);
        let check = |x: f64| {
            let mut buf = Vec::new();
            push_display(&mut buf, Some(x));
            assert_eq!(String::from_utf8(buf).unwrap(), x.to_string(), "{x:e}");
        };
        for x in [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            1e-5,
            9.99e-6,
            1e15,
            1e16,
            123456789.0,
            5e-324,
        ] {
            check(x);
        }
        // Ties between two closest shortest forms: ryu and Display part ways on these.
        check(1_925_971_503_071_503.0 + 0.25);
        for n in 0..20_000u64 {
            check(1e13 + n as f64 * 1.0625);
            check(3e15 + n as f64 * 0.25);
        }
        for _ in 0..200_000 {
            // Typical measurements, differences of them, every magnitude, and any bit pattern.
            let typical = ((rng.uniform() - 0.5) * 1e7).round() / 1000.0;
            check(typical);
            check(typical - ((rng.uniform() - 0.5) * 1e7).round() / 1000.0);
            check(rng.normal() * 10f64.powi((rng.uniform() * 44.0) as i32 - 22));
            let bits = |rng: &mut Rng| (rng.uniform() * f64::from(u32::MAX)) as u64;
            let any = f64::from_bits(bits(&mut rng) << 32 | bits(&mut rng));
            if any.is_finite() {
                check(any);
            }
        }
        let mut buf = Vec::new();
        push_display(&mut buf, Some(f64::NAN));
        push_display(&mut buf, None);
        assert!(buf.is_empty());
    }
}
