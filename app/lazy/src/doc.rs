//! The report as the dashboard describes it, for this module to lay out and write: a title,
//! the text whose characters decide whether the CJK fallback font is fetched, and blocks in
//! reading order. It crosses between the two wasm modules as postcard bytes ([`Doc::encode`]),
//! so the dashboard needs neither font metrics nor the PDF writer.

use serde::{Deserialize, Serialize};

/// The document: pages are filled top to bottom with its blocks.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Doc {
    /// The PDF's title (document information).
    pub title: String,
    /// The PDF's producer (document information; none when empty): the product's name, or a
    /// white-label brand's.
    pub producer: String,
    /// The text the base font must cover (stream and target names, units); when it does not,
    /// the fallback font is fetched too. Only this text decides, so a report of plain names
    /// never downloads the 4 MB fallback.
    pub cover: String,
    /// The blocks, in reading order.
    pub blocks: Vec<Block>,
}

/// One piece of the document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Block {
    /// A paragraph (or a heading: a larger size) wrapped to the text width, at `size` points.
    Para {
        /// The type size, in points.
        size: f64,
        /// The text.
        text: String,
    },
    /// One table row: each cell at its column's x offset from the margin, cut to fit before
    /// the next column.
    Row {
        /// The type size, in points.
        size: f64,
        /// Each column's offset from the left margin, in points.
        columns: Vec<f64>,
        /// The cells, one per column (fewer leave the rest empty).
        cells: Vec<String>,
    },
    /// A thin horizontal line across the text width.
    Rule,
    /// Vertical space, in points.
    Gap(f64),
    /// A new page.
    Page,
    /// An image the text width wide, on a new page when it does not fit on this one.
    Image(Image),
}

/// An RGB image, 8 bits per channel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Image {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The pixels, row by row from the top, three bytes (R, G, B) each.
    #[serde(with = "bytes")]
    pub rgb: Vec<u8>,
}

impl Doc {
    /// A paragraph at `size` points.
    pub fn para(&mut self, size: f64, text: &str) {
        self.blocks.push(Block::Para {
            size,
            text: text.into(),
        });
    }

    /// A table row (see [`Block::Row`]).
    pub fn row(&mut self, size: f64, columns: &[f64], cells: &[String]) {
        self.blocks.push(Block::Row {
            size,
            columns: columns.to_vec(),
            cells: cells.to_vec(),
        });
    }

    /// A rule under the row above.
    pub fn rule(&mut self) {
        self.blocks.push(Block::Rule);
    }

    /// Vertical space.
    pub fn gap(&mut self, points: f64) {
        self.blocks.push(Block::Gap(points));
    }

    /// A page break.
    pub fn page(&mut self) {
        self.blocks.push(Block::Page);
    }

    /// An image across the text width.
    pub fn image(&mut self, image: Image) {
        self.blocks.push(Block::Image(image));
    }

    /// The document as postcard bytes.
    pub fn encode(&self) -> Result<Vec<u8>, String> {
        postcard::to_allocvec(self).map_err(|e| format!("the report cannot be encoded: {e}"))
    }

    /// A document from [`Doc::encode`]'s bytes.
    pub fn decode(bytes: &[u8]) -> Result<Doc, String> {
        postcard::from_bytes(bytes).map_err(|e| {
            format!("the report's description cannot be read ({e}): reload the page, so the dashboard and its PDF module are of one build")
        })
    }
}

/// Pixels as one byte string (a length and one copy of the bytes), not a sequence serde walks
/// element by element: a chart is megabytes.
mod bytes {
    use serde::de::{Error, SeqAccess, Visitor};
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(bytes)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        d.deserialize_byte_buf(Bytes)
    }

    struct Bytes;

    impl<'de> Visitor<'de> for Bytes {
        type Value = Vec<u8>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("bytes")
        }

        fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }

        fn visit_byte_buf<E: Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
            let mut out = Vec::new();
            while let Some(b) = seq.next_element()? {
                out.push(b);
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_crosses_as_bytes_unchanged() {
        let mut doc = Doc {
            title: "LLMscope report".into(),
            producer: "LLMscope".into(),
            cover: "m/ttft_ms ms 模型".into(),
            blocks: Vec::new(),
        };
        doc.page();
        doc.para(24.0, "LLMscope report");
        doc.row(9.0, &[0.0, 140.0], &["stream".into(), "chart".into()]);
        doc.rule();
        doc.gap(6.5);
        doc.image(Image {
            width: 2,
            height: 1,
            rgb: vec![255, 0, 0, 0, 0, 255],
        });
        let bytes = doc.encode().unwrap();
        assert_eq!(Doc::decode(&bytes).unwrap(), doc);
        let err = Doc::decode(&bytes[..bytes.len() - 3]).unwrap_err();
        assert!(err.contains("reload the page"), "{err}");
    }
}
