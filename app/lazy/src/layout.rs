//! The document's blocks laid out on A4 pages with the font's own metrics: paragraphs wrapped
//! to the text width, table cells cut to their column, a new page when the next block does not
//! fit; then written as a PDF (`pdf`).

use crate::doc::{Block, Doc, Image};
use crate::pdf::{self, Font, Page, PAGE_HEIGHT, PAGE_WIDTH};

/// The page margin, in points.
const MARGIN: f64 = 50.0;

/// The document as PDF bytes, in `font`.
pub fn render(doc: Doc, font: &Font) -> Vec<u8> {
    let mut w = Writer {
        font,
        pages: Vec::new(),
        y: MARGIN,
    };
    let mut images: Vec<Image> = Vec::new();
    for block in doc.blocks {
        match block {
            Block::Para { size, text } => w.para(size, &text),
            Block::Row {
                size,
                columns,
                cells,
            } => w.row(size, &columns, &cells),
            Block::Rule => w.rule(),
            Block::Gap(points) => w.y += points,
            Block::Page => w.page(),
            Block::Image(image) => {
                let width = PAGE_WIDTH - 2.0 * MARGIN;
                let height = width * f64::from(image.height) / f64::from(image.width.max(1));
                w.room(height + 6.0);
                let y = w.y;
                w.current().image(images.len(), MARGIN, y, width, height);
                images.push(image);
                w.y += height + 6.0;
            }
        }
    }
    if w.pages.is_empty() {
        w.page();
    }
    pdf::write(&doc.title, &doc.producer, font, &images, &w.pages)
}

/// Pages filled top to bottom; a new page starts when the next block does not fit.
struct Writer<'a> {
    font: &'a Font,
    pages: Vec<Page>,
    /// How far down the current page is filled, in points.
    y: f64,
}

impl Writer<'_> {
    fn page(&mut self) {
        self.pages.push(Page::default());
        self.y = MARGIN;
    }

    fn room(&mut self, height: f64) {
        if self.y + height > PAGE_HEIGHT - MARGIN || self.pages.is_empty() {
            self.page();
        }
    }

    fn current(&mut self) -> &mut Page {
        if self.pages.is_empty() {
            self.page();
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// A paragraph, wrapped to the text width.
    fn para(&mut self, size: f64, text: &str) {
        let lines = self.font.wrap(text, size, PAGE_WIDTH - 2.0 * MARGIN);
        for line in lines {
            self.room(size * 1.4);
            self.y += size * 1.4;
            let y = self.y;
            self.current().text(MARGIN, y, size, &line);
        }
    }

    /// One table row: cells at the given x offsets, each cut to fit before the next.
    fn row(&mut self, size: f64, columns: &[f64], cells: &[String]) {
        self.room(size * 1.5);
        self.y += size * 1.5;
        let y = self.y;
        for (i, cell) in cells.iter().enumerate() {
            let Some(column) = columns.get(i) else { break };
            let x = MARGIN + column;
            let end = columns
                .get(i + 1)
                .map_or(PAGE_WIDTH - MARGIN, |c| MARGIN + c)
                - 4.0;
            let mut text = cell.clone();
            while !text.is_empty() && x + self.font.width(&text, size) > end {
                text.pop();
            }
            self.current().text(x, y, size, &text);
        }
    }

    fn rule(&mut self) {
        self.y += 4.0;
        let y = self.y;
        self.current().rule(MARGIN, y, PAGE_WIDTH - MARGIN, y);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn font() -> Font {
        let path = format!(
            "{}/../../static/fonts/LiberationSans-Regular.ttf",
            env!("CARGO_MANIFEST_DIR")
        );
        Font::new(std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
    }

    /// The count of `/Type /Page` objects (not `/Pages`).
    fn pages(pdf: &[u8]) -> usize {
        let text = String::from_utf8_lossy(pdf);
        text.matches("/Type /Page").count() - text.matches("/Type /Pages").count()
    }

    #[test]
    fn blocks_flow_onto_new_pages_when_they_do_not_fit() {
        let mut doc = Doc::default();
        doc.page();
        doc.para(24.0, "LLMscope report");
        assert_eq!(pages(&render(doc.clone(), &font())), 1);
        // 80 rows of 9 pt take 80 × 13.5 = 1080 pt: 54 on a page of 742 pt, 26 on the next
        // (down to 401 pt).
        for i in 0..80 {
            doc.row(9.0, &[0.0, 100.0], &[format!("row {i}"), "x".into()]);
        }
        assert_eq!(pages(&render(doc.clone(), &font())), 2);
        // A square image, 495 pt tall, does not fit under them: it starts a page of its own.
        doc.image(Image {
            width: 2,
            height: 2,
            rgb: vec![0; 12],
        });
        assert_eq!(pages(&render(doc.clone(), &font())), 3);
        doc.page();
        assert_eq!(pages(&render(doc, &font())), 4);
    }

    #[test]
    fn the_title_and_the_producer_are_the_documents_own() {
        let mut doc = Doc {
            title: "Acme process report".into(),
            producer: "Acme Quality".into(),
            ..Doc::default()
        };
        doc.para(24.0, "Acme process report");
        let pdf = String::from_utf8_lossy(&render(doc.clone(), &font())).into_owned();
        assert!(pdf.contains("/Title (Acme process report)"), "{pdf}");
        assert!(pdf.contains("/Producer (Acme Quality)"), "{pdf}");
        assert!(!pdf.to_lowercase().contains("llmscope"));
        // No producer given: none is claimed.
        doc.producer.clear();
        let pdf = String::from_utf8_lossy(&render(doc, &font())).into_owned();
        assert!(!pdf.contains("/Producer"), "{pdf}");
    }

    #[test]
    fn a_cell_is_cut_before_the_next_column_and_a_long_paragraph_wraps() {
        let font = font();
        let mut w = Writer {
            font: &font,
            pages: Vec::new(),
            y: MARGIN,
        };
        w.row(
            10.0,
            &[0.0, 40.0],
            &["a name far too long".into(), "b".into()],
        );
        w.para(10.0, &"word ".repeat(200));
        let lines = font.wrap(&"word ".repeat(200), 10.0, PAGE_WIDTH - 2.0 * MARGIN);
        assert!(lines.len() > 5, "{lines:?}");
        // The row's line, then the paragraph's lines, each 14 pt below the last.
        assert_eq!(w.y, MARGIN + 15.0 + 14.0 * lines.len() as f64);
        assert!(font.width("a name far too long", 10.0) > 36.0);
    }
}
