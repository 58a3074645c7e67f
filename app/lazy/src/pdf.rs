//! The report's PDF: A4 pages of text, RGB images and rules, laid out by `layout.rs` and
//! written with `pdf-writer` (typst's), small enough for a wasm the site loads on demand.
//!
//! Text is written as CID fonts (ISO 32000-1 §9.7: Type0 with a CIDFontType2 descendant,
//! `Identity-H` encoding, two bytes per glyph) with a `/ToUnicode` map (§9.10.3), so a name in
//! any script prints with its own glyphs and copies out of the PDF as the same text. A
//! [`Font`] is a base face (Liberation Sans: Latin, Greek, Cyrillic) and, when a report needs
//! them, fallback faces (CJK); each character takes the first face that has it. Each face is
//! embedded as a subset (`subsetter`, typst's) of only the glyphs the pages use; a CID is the
//! glyph's number in that subset. Widths come from the faces' own metrics, so text can be
//! measured for wrapping. Content streams, fonts and images are zlib-compressed.

use crate::doc::Image;
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use subsetter::GlyphRemapper;

/// A4 width in points.
pub const PAGE_WIDTH: f64 = 595.0;
/// A4 height in points.
pub const PAGE_HEIGHT: f64 = 842.0;

/// One TrueType face: its bytes and the metrics its font descriptor needs, in 1/1000 em.
struct Face {
    bytes: Vec<u8>,
    /// The PostScript name, as PDF names the font.
    name: String,
    units_per_em: f32,
    ascent: f32,
    descent: f32,
    cap_height: f32,
    bbox: [f32; 4],
}

impl Face {
    fn new(bytes: Vec<u8>) -> Result<Face, String> {
        let face = ttf_parser::Face::parse(&bytes, 0)
            .map_err(|e| format!("the report font cannot be read: {e}"))?;
        if face.tables().glyf.is_none() {
            return Err("the report font has no TrueType outlines (glyf table)".into());
        }
        let units_per_em = f32::from(face.units_per_em());
        let scale = |v: i16| f32::from(v) * 1000.0 / units_per_em;
        // The first PostScript name record in Unicode that PDF can use as a name.
        let name = face
            .names()
            .into_iter()
            .filter(|n| n.name_id == ttf_parser::name_id::POST_SCRIPT_NAME)
            .filter_map(|n| n.to_string())
            .find(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
            .unwrap_or_else(|| "Font".into());
        let b = face.global_bounding_box();
        let face = Face {
            name,
            units_per_em,
            ascent: scale(face.ascender()),
            descent: scale(face.descender()),
            cap_height: scale(face.capital_height().unwrap_or(face.ascender())),
            bbox: [b.x_min, b.y_min, b.x_max, b.y_max].map(scale),
            bytes: Vec::new(),
        };
        Ok(Face { bytes, ..face })
    }

    /// The glyph of `ch` and its advance in 1/1000 em, when the face has one.
    fn glyph(&self, ch: char) -> Option<(u16, f32)> {
        let face = ttf_parser::Face::parse(&self.bytes, 0).ok()?;
        let id = face.glyph_index(ch)?;
        Some((id.0, self.advance(&face, id.0)))
    }

    fn notdef_width(&self) -> f32 {
        ttf_parser::Face::parse(&self.bytes, 0).map_or(0.0, |face| self.advance(&face, 0))
    }

    fn advance(&self, face: &ttf_parser::Face, id: u16) -> f32 {
        let units = face.glyph_hor_advance(ttf_parser::GlyphId(id)).unwrap_or(0);
        (f32::from(units) * 1000.0 / self.units_per_em).round()
    }
}

/// Where a character is drawn from: a face and a glyph of it, and the glyph's advance.
#[derive(Clone, Copy)]
struct Glyph {
    face: usize,
    id: u16,
    width: f32,
}

/// The report's font: a base face and fallbacks, and the glyph each character maps to.
pub struct Font {
    faces: Vec<Face>,
    glyphs: RefCell<HashMap<char, Glyph>>,
}

impl Font {
    /// Reads a TrueType font's metrics; it is subset when a PDF is written.
    pub fn new(bytes: Vec<u8>) -> Result<Font, String> {
        Ok(Font {
            faces: vec![Face::new(bytes)?],
            glyphs: RefCell::default(),
        })
    }

    /// Adds a face for the characters the faces so far lack (e.g. CJK).
    pub fn add_fallback(&mut self, bytes: Vec<u8>) -> Result<(), String> {
        self.faces.push(Face::new(bytes)?);
        self.glyphs.borrow_mut().clear();
        Ok(())
    }

    /// Whether some face has a glyph for every printable character of `text`.
    pub fn covers(&self, text: &str) -> bool {
        text.chars()
            .filter(|ch| !ch.is_control())
            .all(|ch| self.faces.iter().any(|f| f.glyph(ch).is_some()))
    }

    /// The glyph `ch` is drawn with: from the first face that has it, else the base face's
    /// `.notdef` (glyph 0, a box).
    fn glyph(&self, ch: char) -> Glyph {
        if let Some(glyph) = self.glyphs.borrow().get(&ch) {
            return *glyph;
        }
        let glyph = self
            .faces
            .iter()
            .enumerate()
            .find_map(|(face, f)| f.glyph(ch).map(|(id, width)| Glyph { face, id, width }))
            .unwrap_or_else(|| Glyph {
                face: 0,
                id: 0,
                width: self.faces[0].notdef_width(),
            });
        self.glyphs.borrow_mut().insert(ch, glyph);
        glyph
    }

    /// The width of `text` at `size` points.
    pub fn width(&self, text: &str, size: f64) -> f64 {
        let units: f32 = text.chars().map(|ch| self.glyph(ch).width).sum();
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

    /// The page's content stream; the glyphs it shows are recorded in `used`.
    fn content(&self, font: &Font, used: &mut [Used]) -> Vec<u8> {
        let mut out = Content::new();
        let flip = |y: f64| (PAGE_HEIGHT - y) as f32;
        for mark in &self.marks {
            match mark {
                Mark::Text { x, y, size, text } => {
                    out.begin_text();
                    out.next_line(*x as f32, flip(*y));
                    for (face, cids) in runs(font, text, used) {
                        out.set_font(Name(font_name(face).as_bytes()), *size as f32);
                        out.show(Str(&cids));
                    }
                    out.end_text();
                }
                Mark::Rule { x0, y0, x1, y1 } => {
                    out.set_line_width(0.5).set_stroke_gray(0.6);
                    out.move_to(*x0 as f32, flip(*y0));
                    out.line_to(*x1 as f32, flip(*y1)).stroke();
                }
                Mark::Image { index, x, y, w, h } => {
                    out.save_state();
                    out.transform([*w as f32, 0.0, 0.0, *h as f32, *x as f32, flip(y + h)]);
                    out.x_object(Name(image_name(*index).as_bytes()));
                    out.restore_state();
                }
            }
        }
        out.finish().into_vec()
    }
}

/// `text` cut where its face changes: each run's face and its CIDs, two bytes each
/// (`Identity-H`), recording every glyph in `used`.
fn runs(font: &Font, text: &str, used: &mut [Used]) -> Vec<(usize, Vec<u8>)> {
    let mut runs: Vec<(usize, Vec<u8>)> = Vec::new();
    for ch in text.chars() {
        let glyph = font.glyph(ch);
        let cid = used[glyph.face].cid(glyph, ch);
        match runs.last_mut() {
            Some((face, cids)) if *face == glyph.face => cids.extend(cid.to_be_bytes()),
            _ => runs.push((glyph.face, cid.to_be_bytes().to_vec())),
        }
    }
    runs
}

fn font_name(face: usize) -> String {
    format!("F{face}")
}

fn image_name(index: usize) -> String {
    format!("Im{index}")
}

/// The glyphs the pages use from one face: the subset's numbering (which is the CID), each
/// CID's width, and the text each CID stands for.
#[derive(Default)]
struct Used {
    remapper: GlyphRemapper,
    widths: BTreeMap<u16, f32>,
    text: BTreeMap<u16, char>,
}

impl Used {
    fn cid(&mut self, glyph: Glyph, ch: char) -> u16 {
        let cid = self.remapper.remap(glyph.id);
        self.widths.insert(cid, glyph.width);
        // .notdef stands for whatever had no glyph: it reads as nothing in particular.
        if glyph.id != 0 {
            self.text.entry(cid).or_insert(ch);
        }
        cid
    }

    /// The ToUnicode CMap: each CID back to its character.
    fn to_unicode(&self) -> Vec<u8> {
        let info = SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"UCS"),
            supplement: 0,
        };
        let mut cmap = UnicodeCmap::new(Name(b"Adobe-Identity-UCS"), info);
        for (&cid, &ch) in &self.text {
            cmap.pair(cid, ch);
        }
        cmap.finish().into_vec()
    }
}

/// Hands out object numbers in order.
struct Refs(i32);

impl Refs {
    fn next(&mut self) -> Ref {
        self.0 += 1;
        Ref::new(self.0)
    }
}

/// Assembles the file: catalog, page tree, info, fonts, images, pages; then the
/// cross-reference table.
pub fn write(
    title: &str,
    producer: &str,
    font: &Font,
    images: &[Image],
    pages: &[Page],
) -> Vec<u8> {
    let mut used: Vec<Used> = font.faces.iter().map(|_| Used::default()).collect();
    let contents: Vec<Vec<u8>> = pages.iter().map(|p| p.content(font, &mut used)).collect();

    let mut pdf = Pdf::new();
    let mut refs = Refs(0);
    let (catalog, tree, info) = (refs.next(), refs.next(), refs.next());
    pdf.catalog(catalog).pages(tree);
    let mut about = pdf.document_info(info);
    about.title(TextStr(title));
    if !producer.is_empty() {
        about.producer(TextStr(producer));
    }
    about.finish();

    let fonts: Vec<(String, Ref)> = font
        .faces
        .iter()
        .zip(&used)
        .enumerate()
        .filter(|(_, (_, u))| !u.widths.is_empty())
        .map(|(i, (face, u))| (font_name(i), embed(&mut pdf, &mut refs, face, u)))
        .collect();
    let xobjects: Vec<(String, Ref)> = images
        .iter()
        .enumerate()
        .map(|(i, image)| {
            let id = refs.next();
            let data = compress(&image.rgb);
            let mut x = pdf.image_xobject(id, &data);
            x.filter(Filter::FlateDecode);
            x.width(image.width as i32).height(image.height as i32);
            x.color_space().device_rgb();
            x.bits_per_component(8);
            (image_name(i), id)
        })
        .collect();

    let page_refs: Vec<(Ref, Ref)> = pages.iter().map(|_| (refs.next(), refs.next())).collect();
    pdf.pages(tree)
        .kids(page_refs.iter().map(|(page, _)| *page))
        .count(pages.len() as i32);
    for ((page_ref, content_ref), content) in page_refs.iter().zip(&contents) {
        let mut page = pdf.page(*page_ref);
        page.parent(tree)
            .media_box(Rect::new(0.0, 0.0, PAGE_WIDTH as f32, PAGE_HEIGHT as f32))
            .contents(*content_ref);
        let mut resources = page.resources();
        let mut dict = resources.fonts();
        for (name, id) in &fonts {
            dict.pair(Name(name.as_bytes()), *id);
        }
        dict.finish();
        let mut dict = resources.x_objects();
        for (name, id) in &xobjects {
            dict.pair(Name(name.as_bytes()), *id);
        }
        dict.finish();
        resources.finish();
        page.finish();
        pdf.stream(*content_ref, &compress(content))
            .filter(Filter::FlateDecode);
    }
    pdf.finish()
}

/// Writes one face as a Type0 font over a CIDFontType2 of the glyphs `used`, subset, with its
/// ToUnicode map; returns the Type0 font's reference.
fn embed(pdf: &mut Pdf, refs: &mut Refs, face: &Face, used: &Used) -> Ref {
    let (type0, cid_font, descriptor, file, to_unicode) = (
        refs.next(),
        refs.next(),
        refs.next(),
        refs.next(),
        refs.next(),
    );
    // The subset numbers glyphs 0, 1, 2… in the order they were first used: that number is
    // the CID. Should subsetting fail, the whole face goes in, and a CIDToGIDMap maps CIDs
    // back to its glyphs.
    let (font_file, cid_to_gid) = match subsetter::subset(&face.bytes, 0, &used.remapper) {
        Ok(subset) => (subset, None),
        Err(_) => {
            let map: Vec<u8> = used
                .remapper
                .remapped_gids()
                .flat_map(u16::to_be_bytes)
                .collect();
            (face.bytes.clone(), Some((refs.next(), map)))
        }
    };
    // A subset's name starts with a tag of six capitals (§9.6.4), here from what it holds.
    let name = match cid_to_gid {
        None => format!("{}+{}", subset_tag(used), face.name),
        Some(_) => face.name.clone(),
    };

    pdf.type0_font(type0)
        .base_font(Name(name.as_bytes()))
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid_font)
        .to_unicode(to_unicode);
    let mut cid = pdf.cid_font(cid_font);
    cid.subtype(CidFontType::Type2)
        .base_font(Name(name.as_bytes()))
        .system_info(SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        })
        .font_descriptor(descriptor)
        .default_width(0.0);
    // CIDs are numbered with no gaps (from 1, or 0 when `.notdef` was shown), so one run
    // covers them all.
    let first = used.widths.keys().next().copied().unwrap_or(0);
    cid.widths()
        .consecutive(first, used.widths.values().copied());
    match &cid_to_gid {
        None => cid.cid_to_gid_map_predefined(Name(b"Identity")),
        Some((id, _)) => cid.cid_to_gid_map_stream(*id),
    };
    cid.finish();
    if let Some((id, map)) = &cid_to_gid {
        pdf.stream(*id, &compress(map)).filter(Filter::FlateDecode);
    }

    let [x0, y0, x1, y1] = face.bbox;
    pdf.font_descriptor(descriptor)
        .name(Name(name.as_bytes()))
        .flags(FontFlags::SYMBOLIC)
        .bbox(Rect::new(x0, y0, x1, y1))
        .italic_angle(0.0)
        .ascent(face.ascent)
        .descent(face.descent)
        .cap_height(face.cap_height)
        .stem_v(80.0)
        .font_file2(file);
    let length = font_file.len() as i32;
    pdf.stream(file, &compress(&font_file))
        .filter(Filter::FlateDecode)
        .pair(Name(b"Length1"), length);
    pdf.stream(to_unicode, &compress(&used.to_unicode()))
        .filter(Filter::FlateDecode);
    type0
}

/// Six capitals that name a subset: FNV-1a of the glyphs it holds, in base 26.
fn subset_tag(used: &Used) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for gid in used.remapper.remapped_gids() {
        for byte in gid.to_be_bytes() {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    (0..6)
        .map(|i| char::from(b'A' + (hash / 26u64.pow(i) % 26) as u8))
        .collect()
}

fn compress(bytes: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(bytes, 6)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str) -> Vec<u8> {
        let path = format!("{}/../../static/fonts/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn font() -> Font {
        Font::new(file("LiberationSans-Regular.ttf")).unwrap()
    }

    fn with_cjk() -> Font {
        let mut f = font();
        f.add_fallback(file("DroidSansFallbackFull.ttf")).unwrap();
        f
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
    }

    #[test]
    fn cjk_comes_from_the_fallback_and_the_rest_from_the_base_font() {
        let f = font();
        assert!(f.covers("температура θερμοκρασία – ± σ"));
        assert!(!f.covers("温度"), "Liberation Sans has no CJK");
        let f = with_cjk();
        assert!(f.covers("温度 temperature температура θερμοκρασία"));
        let mut used: Vec<Used> = f.faces.iter().map(|_| Used::default()).collect();
        let faces: Vec<usize> = runs(&f, "温度/температура", &mut used)
            .iter()
            .map(|(face, _)| *face)
            .collect();
        assert_eq!(faces, [1, 0]);
        // A full-width ideograph is 1 em wide in Droid Sans Fallback.
        assert_eq!(f.width("温", 1000.0), 1000.0);
    }

    /// The `bfchar` pairs of a ToUnicode CMap: CID to text.
    fn read_cmap(cmap: &[u8]) -> HashMap<u16, String> {
        let text = String::from_utf8_lossy(cmap);
        let hex = |h: &str| -> Vec<u16> {
            (0..h.len())
                .step_by(4)
                .map(|i| u16::from_str_radix(&h[i..i + 4], 16).unwrap())
                .collect()
        };
        let pairs = text.split("beginbfchar").skip(1);
        pairs
            .flat_map(|block| block.split("endbfchar").next().unwrap_or("").lines())
            .filter_map(|line| {
                let (cid, unicode) = line.strip_prefix('<')?.split_once("> <")?;
                let unicode = unicode.strip_suffix('>')?;
                Some((hex(cid)[0], String::from_utf16(&hex(unicode)).unwrap()))
            })
            .collect()
    }

    #[test]
    fn names_in_any_script_read_back_through_the_to_unicode_maps() {
        let f = with_cjk();
        let names = [
            "温度",
            "температура",
            "θερμοκρασία",
            "press1/barrel_temp (°C)",
        ];
        let mut used: Vec<Used> = f.faces.iter().map(|_| Used::default()).collect();
        let shown: Vec<_> = names.iter().map(|n| runs(&f, n, &mut used)).collect();
        let maps: Vec<_> = used.iter().map(|u| read_cmap(&u.to_unicode())).collect();
        for (name, runs) in names.iter().zip(&shown) {
            let back: String = runs
                .iter()
                .flat_map(|(face, cids)| {
                    cids.chunks(2)
                        .map(|c| maps[*face][&u16::from_be_bytes([c[0], c[1]])].clone())
                })
                .collect();
            assert_eq!(&back, name);
        }
        // Each glyph is written once per face however often it is shown ('τ', 'ρ', 'а'…).
        let distinct = |s: &str| s.chars().collect::<std::collections::HashSet<_>>().len();
        assert_eq!(maps[1].len(), distinct("温度"));
        assert_eq!(
            maps[0].len(),
            distinct("температураθερμοκρασίαpress1/barrel_temp (°C)")
        );
    }

    /// The number after `/Length1` (a font program's length before compression).
    fn font_lengths(pdf: &[u8]) -> Vec<usize> {
        let text = String::from_utf8_lossy(pdf);
        text.split("/Length1 ")
            .skip(1)
            .map(|rest| {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                digits.parse().unwrap()
            })
            .collect()
    }

    #[test]
    fn fonts_are_embedded_as_subsets_and_only_when_used() {
        let f = with_cjk();
        let mut page = Page::default();
        page.text(
            50.0,
            60.0,
            12.0,
            "press1/barrel_temp: Limits, UCL 214.3 – LCL 205.7",
        );
        let pdf = write("t", "LLMscope", &f, &[], &[page]);
        let lengths = font_lengths(&pdf);
        assert_eq!(
            lengths.len(),
            1,
            "the CJK face is not used, so not embedded"
        );
        let whole = file("LiberationSans-Regular.ttf").len();
        assert!(lengths[0] < whole / 5, "{} of {whole} bytes", lengths[0]);

        let mut page = Page::default();
        page.text(50.0, 60.0, 12.0, "温度 температура θερμοκρασία");
        let pdf = write("t", "LLMscope", &f, &[], &[page]);
        let lengths = font_lengths(&pdf);
        let cjk = file("DroidSansFallbackFull.ttf").len();
        assert_eq!(lengths.len(), 2);
        assert!(lengths[1] < cjk / 100, "{} of {cjk} bytes", lengths[1]);
        assert!(pdf.len() < 30_000, "{} bytes", pdf.len());
        let text = String::from_utf8_lossy(&pdf);
        for needed in [
            "/Identity-H",
            "/CIDFontType2",
            "/ToUnicode",
            "+LiberationSans",
        ] {
            assert!(text.contains(needed), "{needed}");
        }
    }

    /// The decompressed data of stream object `number`.
    fn stream_of(pdf: &[u8], number: usize) -> Vec<u8> {
        let find = |from: usize, what: &[u8]| {
            from + pdf[from..]
                .windows(what.len())
                .position(|w| w == what)
                .unwrap()
        };
        let object = find(0, format!("\n{number} 0 obj").as_bytes());
        let length = find(object, b"/Length ") + 8;
        let digits = pdf[length..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let length: usize = std::str::from_utf8(&pdf[length..length + digits])
            .unwrap()
            .parse()
            .unwrap();
        let data = find(object, b"stream\n") + 7;
        miniz_oxide::inflate::decompress_to_vec_zlib(&pdf[data..data + length]).unwrap()
    }

    /// Liberation Sans with its `post` table claiming 65,535 glyph names, more than it holds:
    /// a font `ttf-parser` reads and `subsetter` refuses.
    fn unsubsettable() -> Vec<u8> {
        let mut bytes = file("LiberationSans-Regular.ttf");
        let tables = usize::from(u16::from_be_bytes([bytes[4], bytes[5]]));
        let record = (0..tables)
            .map(|i| 12 + 16 * i)
            .find(|&r| &bytes[r..r + 4] == b"post")
            .unwrap();
        let at = u32::from_be_bytes(bytes[record + 8..record + 12].try_into().unwrap()) as usize;
        bytes[at + 32..at + 34].copy_from_slice(&u16::MAX.to_be_bytes());
        bytes
    }

    #[test]
    fn a_face_that_cannot_be_subset_goes_in_whole_with_a_map_to_its_glyphs() {
        let bytes = unsubsettable();
        let mut used = GlyphRemapper::new();
        used.remap(1);
        assert!(subsetter::subset(&bytes, 0, &used).is_err());
        let f = Font::new(bytes.clone()).unwrap();
        let mut page = Page::default();
        page.text(50.0, 60.0, 12.0, "ba");
        let pdf = write("t", "LLMscope", &f, &[], &[page]);
        assert_eq!(font_lengths(&pdf), [bytes.len()]);
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/CIDToGIDMap 9 0 R"), "{text}");
        // CIDs 0, 1, 2 are .notdef, 'b' and 'a': the map's stream holds their glyphs.
        let b = ttf_parser::Face::parse(&bytes, 0)
            .unwrap()
            .glyph_index('b')
            .unwrap()
            .0;
        let a = ttf_parser::Face::parse(&bytes, 0)
            .unwrap()
            .glyph_index('a')
            .unwrap()
            .0;
        let map: Vec<u8> = [0, b, a].into_iter().flat_map(u16::to_be_bytes).collect();
        assert_eq!(stream_of(&pdf, 9), map);
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
        let pdf = write("t", "LLMscope", &f, &[image], &[page, Page::default()]);
        let tail = pdf.len() - 64;
        let text = String::from_utf8_lossy(&pdf[tail..]);
        let start: usize = text
            .rsplit("startxref\n")
            .next()
            .and_then(|r| r.lines().next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        // Catalog, page tree, info; Type0, CIDFont, descriptor, font file, ToUnicode; the
        // image; two pages and their contents.
        let objects = 3 + 5 + 1 + 2 * 2;
        let text = String::from_utf8_lossy(&pdf[start..]).into_owned();
        assert!(
            text.starts_with(&format!("xref\n0 {}\n", objects + 1)),
            "{text}"
        );
        for (n, line) in text.lines().skip(3).take(objects).enumerate() {
            let offset: usize = line[..10].parse().unwrap();
            assert!(
                pdf[offset..].starts_with(format!("{} 0 obj", n + 1).as_bytes()),
                "object {}",
                n + 1
            );
        }
    }
}
