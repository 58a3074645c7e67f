//! A small PDF writer (PDF 1.4, ISO 32000-1 subset): A4 pages of text in one embedded TrueType
//! font, RGB images and rules. Enough for a report that prints well and that `pdftotext`
//! reads, without a PDF library in the site's wasm.
//!
//! The font travels whole in the file (`/FontFile2`), as a simple font with WinAnsiEncoding;
//! widths come from the font's own metrics, so text can be measured for wrapping. Characters
//! outside WinAnsi are written as `?`. Content streams and images are zlib-compressed.

use std::fmt::Write;

/// A4 in points.
pub const PAGE_WIDTH: f64 = 595.0;
pub const PAGE_HEIGHT: f64 = 842.0;

/// The embedded font and its advance widths for codes 32..=255, in 1/1000 em.
pub struct Font {
    bytes: Vec<u8>,
    widths: Vec<u16>,
    ascent: i16,
    descent: i16,
    bbox: [i16; 4],
}

/// WinAnsiEncoding codes 0x80..=0x9F (PDF 32000-1, Annex D); other codes 32..=255 are Latin-1.
const WIN_ANSI_HIGH: [(u8, char); 27] = [
    (0x80, '€'),
    (0x82, '‚'),
    (0x83, 'ƒ'),
    (0x84, '„'),
    (0x85, '…'),
    (0x86, '†'),
    (0x87, '‡'),
    (0x88, 'ˆ'),
    (0x89, '‰'),
    (0x8A, 'Š'),
    (0x8B, '‹'),
    (0x8C, 'Œ'),
    (0x8E, 'Ž'),
    (0x91, '‘'),
    (0x92, '’'),
    (0x93, '“'),
    (0x94, '”'),
    (0x95, '•'),
    (0x96, '–'),
    (0x97, '—'),
    (0x98, '˜'),
    (0x99, '™'),
    (0x9A, 'š'),
    (0x9B, '›'),
    (0x9C, 'œ'),
    (0x9E, 'ž'),
    (0x9F, 'Ÿ'),
];

fn char_of(code: u8) -> Option<char> {
    match code {
        0x80..=0x9F => WIN_ANSI_HIGH
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, ch)| *ch),
        _ => Some(char::from(code)),
    }
}

/// The WinAnsi code of a character, `?` when it has none.
fn code_of(ch: char) -> u8 {
    match ch as u32 {
        0x20..=0x7E | 0xA0..=0xFF => ch as u8,
        _ => WIN_ANSI_HIGH
            .iter()
            .find(|(_, c)| *c == ch)
            .map_or(b'?', |(code, _)| *code),
    }
}

impl Font {
    /// Reads a TrueType font's metrics; the bytes are embedded as they are.
    pub fn new(bytes: Vec<u8>) -> Result<Font, String> {
        let face = ttf_parser::Face::parse(&bytes, 0)
            .map_err(|e| format!("the report font cannot be read: {e}"))?;
        let em = f64::from(face.units_per_em());
        let scale = |v: f64| (v * 1000.0 / em).round();
        let widths = (32u8..=255)
            .map(|code| {
                let advance = char_of(code)
                    .and_then(|ch| face.glyph_index(ch))
                    .and_then(|g| face.glyph_hor_advance(g))
                    .unwrap_or(0);
                scale(f64::from(advance)) as u16
            })
            .collect();
        let b = face.global_bounding_box();
        let bbox = [b.x_min, b.y_min, b.x_max, b.y_max].map(|v| scale(f64::from(v)) as i16);
        Ok(Font {
            widths,
            ascent: scale(f64::from(face.ascender())) as i16,
            descent: scale(f64::from(face.descender())) as i16,
            bbox,
            bytes,
        })
    }

    /// The width of `text` at `size` points.
    pub fn width(&self, text: &str, size: f64) -> f64 {
        let units: u32 = text
            .chars()
            .map(|ch| {
                let code = code_of(ch);
                u32::from(self.widths[usize::from(code.max(32) - 32)])
            })
            .sum();
        f64::from(units) * size / 1000.0
    }

    /// `text` broken into lines no wider than `max` points, at word boundaries.
    pub fn wrap(&self, text: &str, size: f64, max: f64) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split(' ') {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if self.width(&candidate, size) > max && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                line = word.to_string();
            } else {
                line = candidate;
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }
}

/// An RGB image, 8 bits per channel.
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
}

enum Mark {
    Text {
        x: f64,
        y: f64,
        size: f64,
        text: String,
    },
    Image {
        index: usize,
        x: f64,
        y: f64,
        w: f64,
        h: f64,
    },
    Rule {
        x0: f64,
        y0: f64,
        x1: f64,
        y1: f64,
    },
}

/// One page: marks in points from the page's top left (y grows downwards, as people read).
#[derive(Default)]
pub struct Page {
    marks: Vec<Mark>,
}

impl Page {
    /// Text whose baseline is at `y` points from the top.
    pub fn text(&mut self, x: f64, y: f64, size: f64, text: &str) {
        self.marks.push(Mark::Text {
            x,
            y,
            size,
            text: text.to_string(),
        });
    }

    /// A horizontal or any line, 0.5 pt.
    pub fn rule(&mut self, x0: f64, y0: f64, x1: f64, y1: f64) {
        self.marks.push(Mark::Rule { x0, y0, x1, y1 });
    }

    /// Image `index` of the document, its top left at (x, y), `w` by `h` points.
    pub fn image(&mut self, index: usize, x: f64, y: f64, w: f64, h: f64) {
        self.marks.push(Mark::Image { index, x, y, w, h });
    }

    fn content(&self) -> String {
        let mut out = String::new();
        for mark in &self.marks {
            match mark {
                Mark::Text { x, y, size, text } => {
                    let _ = writeln!(
                        out,
                        "BT /F1 {size:.1} Tf {x:.2} {:.2} Td ({}) Tj ET",
                        PAGE_HEIGHT - y,
                        escape(text)
                    );
                }
                Mark::Rule { x0, y0, x1, y1 } => {
                    let _ = writeln!(
                        out,
                        "0.5 w 0.6 G {x0:.2} {:.2} m {x1:.2} {:.2} l S",
                        PAGE_HEIGHT - y0,
                        PAGE_HEIGHT - y1
                    );
                }
                Mark::Image { index, x, y, w, h } => {
                    let _ = writeln!(
                        out,
                        "q {w:.2} 0 0 {h:.2} {x:.2} {:.2} cm /Im{index} Do Q",
                        PAGE_HEIGHT - y - h
                    );
                }
            }
        }
        out
    }
}

/// A string literal's body in WinAnsi, with `(`, `)` and `\` escaped and other bytes octal.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for code in text.chars().map(code_of) {
        match code {
            b'(' | b')' | b'\\' => {
                out.push('\\');
                out.push(code as char);
            }
            0x20..=0x7E => out.push(code as char),
            _ => {
                let _ = write!(out, "\\{code:03o}");
            }
        }
    }
    out
}

/// Assembles the file: catalog, page tree, font, images, pages; then the cross-reference table.
pub fn write(title: &str, font: &Font, images: &[Image], pages: &[Page]) -> Vec<u8> {
    let mut pdf = PdfFile::default();
    pdf.raw(b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n");
    let n_images = images.len();
    // Object numbers: 1 catalog, 2 pages, 3 font, 4 descriptor, 5 font file, 6 info,
    // then images, then (page, content) pairs.
    let first_image = 7;
    let first_page = first_image + n_images;
    let kids: Vec<String> = (0..pages.len())
        .map(|i| format!("{} 0 R", first_page + 2 * i))
        .collect();
    pdf.object(1, b"<< /Type /Catalog /Pages 2 0 R >>");
    pdf.object(
        2,
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            pages.len()
        )
        .as_bytes(),
    );
    let widths: Vec<String> = font.widths.iter().map(u16::to_string).collect();
    pdf.object(3, format!("<< /Type /Font /Subtype /TrueType /BaseFont /LiberationSans /FirstChar 32 /LastChar 255 /Widths [{}] /Encoding /WinAnsiEncoding /FontDescriptor 4 0 R >>", widths.join(" ")).as_bytes());
    let [x0, y0, x1, y1] = font.bbox;
    pdf.object(4, format!("<< /Type /FontDescriptor /FontName /LiberationSans /Flags 32 /FontBBox [{x0} {y0} {x1} {y1}] /ItalicAngle 0 /Ascent {} /Descent {} /CapHeight {} /StemV 80 /FontFile2 5 0 R >>", font.ascent, font.descent, font.ascent).as_bytes());
    pdf.stream(
        5,
        &format!("/Length1 {}", font.bytes.len()),
        &compress(&font.bytes),
    );
    pdf.object(
        6,
        format!("<< /Title ({}) /Producer (LLMscope) >>", escape(title)).as_bytes(),
    );
    for (i, image) in images.iter().enumerate() {
        pdf.stream(
            first_image + i,
            &format!(
                "/Type /XObject /Subtype /Image /Width {} /Height {} /ColorSpace /DeviceRGB /BitsPerComponent 8",
                image.width, image.height
            ),
            &compress(&image.rgb),
        );
    }
    let xobjects: Vec<String> = (0..n_images)
        .map(|i| format!("/Im{i} {} 0 R", first_image + i))
        .collect();
    for (i, page) in pages.iter().enumerate() {
        let number = first_page + 2 * i;
        pdf.object(
            number,
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] /Resources << /Font << /F1 3 0 R >> /XObject << {} >> >> /Contents {} 0 R >>",
                xobjects.join(" "),
                number + 1
            )
            .as_bytes(),
        );
        pdf.stream(number + 1, "", &compress(page.content().as_bytes()));
    }
    pdf.finish(6)
}

fn compress(bytes: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(bytes, 6)
}

/// The file being written, with each object's byte offset for the cross-reference table.
#[derive(Default)]
struct PdfFile {
    bytes: Vec<u8>,
    offsets: Vec<(usize, usize)>,
}

impl PdfFile {
    fn raw(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
    }

    fn object(&mut self, number: usize, body: &[u8]) {
        self.offsets.push((number, self.bytes.len()));
        self.raw(format!("{number} 0 obj\n").as_bytes());
        self.raw(body);
        self.raw(b"\nendobj\n");
    }

    fn stream(&mut self, number: usize, dict: &str, data: &[u8]) {
        self.offsets.push((number, self.bytes.len()));
        self.raw(
            format!(
                "{number} 0 obj\n<< {dict} /Filter /FlateDecode /Length {} >>\nstream\n",
                data.len()
            )
            .as_bytes(),
        );
        self.raw(data);
        self.raw(b"\nendstream\nendobj\n");
    }

    fn finish(mut self, info: usize) -> Vec<u8> {
        self.offsets.sort_unstable();
        let xref = self.bytes.len();
        let count = self.offsets.len() + 1;
        let mut table = format!("xref\n0 {count}\n0000000000 65535 f \n");
        for (_, offset) in &self.offsets {
            let _ = writeln!(table, "{offset:010} 00000 n ");
        }
        let _ = write!(
            table,
            "trailer\n<< /Size {count} /Root 1 0 R /Info {info} 0 R >>\nstartxref\n{xref}\n%%EOF\n"
        );
        self.raw(table.as_bytes());
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn font() -> Font {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../static/fonts/LiberationSans-Regular.ttf"
        );
        Font::new(std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn widths_come_from_the_font_and_text_wraps() {
        let f = font();
        // Liberation Sans is metric-compatible with Arial: 'i' is 222/1000 em, 'W' 944.
        assert_eq!(f.width("i", 1000.0), 222.0);
        assert_eq!(f.width("W", 1000.0), 944.0);
        let lines = f.wrap("the quick brown fox jumps over the lazy dog", 10.0, 80.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| f.width(l, 10.0) <= 80.0));
        assert_eq!(escape("a(b)\\ – σ"), "a\\(b\\)\\\\ \\226 ?");
    }

    #[test]
    fn the_cross_reference_table_points_at_every_object() {
        let f = font();
        let mut page = Page::default();
        page.text(50.0, 60.0, 12.0, "press1/barrel_temp");
        page.rule(50.0, 70.0, 545.0, 70.0);
        page.image(0, 50.0, 80.0, 200.0, 100.0);
        let image = Image {
            width: 2,
            height: 1,
            rgb: vec![255, 0, 0, 0, 0, 255],
        };
        let pdf = write("t", &f, &[image], &[page, Page::default()]);
        let tail = pdf.len() - 64;
        let text = String::from_utf8_lossy(&pdf[tail..]);
        let start: usize = text
            .rsplit("startxref\n")
            .next()
            .and_then(|r| r.lines().next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        let text = String::from_utf8_lossy(&pdf[start..]).into_owned();
        assert!(text.starts_with("xref\n0 12\n"), "{text}");
        for (n, line) in text.lines().skip(3).take(11).enumerate() {
            let offset: usize = line[..10].parse().unwrap();
            assert!(
                pdf[offset..].starts_with(format!("{} 0 obj", n + 1).as_bytes()),
                "object {}",
                n + 1
            );
        }
    }
}
