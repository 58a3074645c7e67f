//! White-label (issue 16, README "White-label"): `brand.json` beside `index.html`, read at
//! every start (no rebuild) before the app mounts, so the first view is already branded: the
//! page's title, icon and colour tokens, the header's mark, the footer, and the names the
//! exports take (the PDF report's title and producer, the `.ics` events' product, the
//! downloads).
//!
//! The page's inline script fetches it (`window.llmscopeBrand`: its URL and text, or null)
//! while the wasm downloads, and when it finds one, starts loading the second module too,
//! which reads and checks it (`llmscope_app_lazy::brand`): a site without one never loads
//! that module for it, and this one carries only the hook. Only a 2xx answer that is not HTML
//! within 3 s is a brand: a missing file (404, the usual case), a Worker's 401 for a path it
//! does not serve, or a host's single-page fallback (index.html for every path) mean no
//! brand, silently.

use llmscope_app_lazy::brand::{at, MARK, PRODUCT};
use std::cell::RefCell;
use wasm_bindgen::JsCast;

thread_local! {
    /// The brand in use, as the second module wrote it (`Shown::encode`); empty: none.
    static BRAND: RefCell<String> = RefCell::default();
}

/// The field at position `at` of the brand in use (`llmscope_app_lazy::brand::at`).
fn field(at: usize) -> String {
    BRAND.with(|b| llmscope_app_lazy::brand::field(&b.borrow(), at).to_string())
}

/// The name to show: the brand's, else the product's.
pub fn name() -> String {
    Some(field(at::NAME))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| PRODUCT.into())
}

/// The PDF report's title: `report_title`, else "<name> report".
pub fn report_title() -> String {
    Some(field(at::REPORT_TITLE))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| format!("{} report", name()))
}

/// The header's mark, HTML: the logos for the themes (the stylesheet shows the theme's) and
/// the name.
pub fn mark() -> String {
    Some(field(at::MARK))
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| MARK.into())
}

/// The footer's content, HTML (empty: no footer).
pub fn footer() -> String {
    field(at::FOOTER)
}

/// A download's name: `llmscope-<rest>` becomes `<brand name>-<rest>` (ASCII letters in lower
/// case, each run of other ASCII characters as one `-`).
pub fn file_name(file: &str) -> String {
    let brand = field(at::NAME);
    let Some(rest) = file.strip_prefix("llmscope-").filter(|_| !brand.is_empty()) else {
        return file.into();
    };
    let mut stem = String::new();
    for c in brand.chars() {
        // ASCII only: the Unicode case tables would weigh on every visit.
        let c = match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' => c.to_ascii_lowercase(),
            c if !c.is_ascii() => c,
            _ => '-',
        };
        if c != '-' || !stem.ends_with('-') {
            stem.push(c);
        }
    }
    match stem.trim_matches('-') {
        "" => rest.into(),
        stem => format!("{stem}-{rest}"),
    }
}

/// Reads brand.json (see the module's doc), keeps it and applies it to the page; returns what
/// to tell the user about it, if anything.
pub async fn load() -> Option<String> {
    let mut notice = None;
    if let Some(request) = fetched().await {
        match crate::lazy::brand(&request).await {
            Ok(shown) => {
                BRAND.with(|b| *b.borrow_mut() = shown);
                notice = Some(field(at::NOTICE)).filter(|n| !n.is_empty());
            }
            Err(e) => notice = Some(format!("brand.json cannot be applied: {e}")),
        }
    }
    apply();
    notice
}

/// What the page's fetch found: brand.json's URL, a line break and its text; `None`: no
/// brand.
async fn fetched() -> Option<String> {
    let window = web_sys::window()?;
    let started = js_sys::Reflect::get(&window, &"llmscopeBrand".into()).ok()?;
    let promise = started.dyn_into::<js_sys::Promise>().ok()?;
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .ok()?
        .as_string()
}

/// The page's title, colour tokens (inline on `<html>`, so in both themes; `light-dark()`
/// gives a token one colour per theme) and icon.
fn apply() {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    doc.set_title(&name());
    let (style, icon) = (field(at::STYLE), field(at::FAVICON));
    if let Some(root) = doc.document_element().filter(|_| !style.is_empty()) {
        let _ = root.set_attribute("style", &style);
    }
    if let Ok(Some(link)) = doc.query_selector("link[rel=icon]") {
        if !icon.is_empty() {
            let _ = link.remove_attribute("type");
            let _ = link.set_attribute("href", &icon);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_names_fall_back_to_the_product_and_downloads_take_the_brand() {
        assert_eq!(name(), "LLMscope");
        assert_eq!(report_title(), "LLMscope report");
        assert_eq!(mark(), MARK);
        assert_eq!(file_name("llmscope-report.pdf"), "llmscope-report.pdf");
        BRAND.with(|b| *b.borrow_mut() = "Acme Qualität / EU".into());
        assert_eq!(report_title(), "Acme Qualität / EU report");
        assert_eq!(
            file_name("llmscope-report.pdf"),
            "acme-qualität-eu-report.pdf"
        );
        assert_eq!(file_name("cnc1_temp.png"), "cnc1_temp.png");
        BRAND.with(|b| *b.borrow_mut() = " / ".into());
        assert_eq!(file_name("llmscope-session.json"), "session.json");
        BRAND.with(|b| *b.borrow_mut() = "Quality\u{1}Quality report".into());
        assert_eq!(report_title(), "Quality report");
        assert_eq!(file_name("llmscope-report.pdf"), "quality-report.pdf");
    }
}
