//! `--format csv`: one row per point, the companion chart's columns on the same row.
//!
//! Numbers are written as Rust's `Display` writes them; rows are formatted in chunks on both
//! cores (see [`chunks`]).

use super::chunks::{self, push_display, Chunks, Repeated, Tests, CHUNK};
use super::Report;
use llmscope_spc::{Chart, Point};
use std::io::{Result, Write};
use std::iter::Peekable;

/// One row per point; companion-chart columns on the same row (empty where it has no point).
pub fn csv(r: &Report<'_>, out: &mut impl Write) -> Result<()> {
    let c = r.chart;
    writeln!(out, "index,statistic,center,lcl,ucl,tests,companion_statistic,companion_center,companion_lcl,companion_ucl,companion_tests")?;
    chunks::write_in_order(out, c.primary.len().div_ceil(CHUNK), rows(c), rows(c))?;
    out.flush()?;
    Ok(())
}

/// The rows, from one pass over the primary chart's points and one over the companion's.
struct Rows<'a, P: Iterator<Item = Point>, Q: Iterator<Item = Point>> {
    primary: P,
    /// The position of the next primary point.
    at: usize,
    len: usize,
    tests: Tests<'a>,
    companion: Option<(Peekable<Q>, Tests<'a>)>,
    /// Center, LCL and UCL of each chart.
    repeated: [Repeated; 6],
}

/// The rows of chart `c`, from its first point.
fn rows(
    c: &Chart,
) -> Rows<'_, impl Iterator<Item = Point> + Send + '_, impl Iterator<Item = Point> + Send + '_> {
    Rows {
        primary: c.primary.points(),
        at: 0,
        len: c.primary.len(),
        tests: Tests::new(&c.primary),
        companion: c
            .companion
            .as_ref()
            .map(|s| (s.points().peekable(), Tests::new(s))),
        repeated: std::array::from_fn(|_| Repeated::new(push_display)),
    }
}

impl<P, Q> Rows<'_, P, Q>
where
    P: Iterator<Item = Point> + Send,
    Q: Iterator<Item = Point> + Send,
{
    fn row(&mut self, p: &Point, buf: &mut Vec<u8>) {
        let [center, lcl, ucl, c_center, c_lcl, c_ucl] = &mut self.repeated;
        buf.extend_from_slice(itoa::Buffer::new().format(p.index).as_bytes());
        buf.push(b',');
        cells(p, [center, lcl, ucl], &mut self.tests, buf);
        // The companion's point with the same index (what `Series::point_at` gives).
        let q = self.companion.as_mut().and_then(|(points, tests)| {
            while points.next_if(|q| q.index < p.index).is_some() {}
            Some((points.next_if(|q| q.index == p.index)?, tests))
        });
        match q {
            Some((q, tests)) => {
                buf.push(b',');
                cells(&q, [c_center, c_lcl, c_ucl], tests, buf);
            }
            None => buf.extend_from_slice(b",,,,,"),
        }
        buf.push(b'\n');
    }
}

/// One chart's five cells of a row: statistic, center, LCL, UCL and its tests.
fn cells(p: &Point, [center, lcl, ucl]: [&mut Repeated; 3], tests: &mut Tests, buf: &mut Vec<u8>) {
    push_display(buf, Some(p.statistic));
    buf.push(b',');
    center.push(Some(p.center), buf);
    buf.push(b',');
    lcl.push(p.lcl, buf);
    buf.push(b',');
    ucl.push(p.ucl, buf);
    buf.push(b',');
    let wrote = tests.push(p.index, b';', buf);
    if tests.has_rules() {
        tests.push_rules(p.index, b';', b"", wrote, buf);
    }
}

impl<P, Q> Chunks for Rows<'_, P, Q>
where
    P: Iterator<Item = Point> + Send,
    Q: Iterator<Item = Point> + Send,
{
    fn chunk(&mut self, k: usize, buf: &mut Vec<u8>) {
        let (start, end) = (k * CHUNK, ((k + 1) * CHUNK).min(self.len));
        while self.at < end {
            let Some(p) = self.primary.next() else { return };
            self.at += 1;
            if self.at > start {
                self.row(&p, buf);
            }
        }
    }
}
