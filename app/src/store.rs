//! Keeping the session across reloads, and downloads. The session is saved as JSON in the
//! browser's localStorage (a first step: IndexedDB, for sessions past a few MB, is on the
//! list); a session too large to save is reported, never silently dropped.

use crate::model::Session;
use wasm_bindgen::JsCast;

const KEY: &str = "llmscope.session.v1";
/// localStorage holds about 5 MB per origin; stay below it.
const LIMIT: usize = 4_500_000;

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The saved session, if any (a damaged one is reported and ignored, not deleted).
pub fn load() -> Result<Option<Session>, String> {
    let Some(text) = storage().and_then(|s| s.get_item(KEY).ok()?) else {
        return Ok(None);
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| format!("the saved session could not be read ({e}); it was kept as is"))
}

/// Saves the session; Err says why it could not be.
pub fn save(session: &Session) -> Result<(), String> {
    let text = serde_json::to_string(session).map_err(|e| e.to_string())?;
    if text.len() > LIMIT {
        return Err(format!(
            "the session ({:.1} MB) is too large to keep in this browser; export it to keep it",
            text.len() as f64 / 1e6
        ));
    }
    let storage = storage().ok_or("this browser offers no storage")?;
    storage
        .set_item(KEY, &text)
        .map_err(|_| "the browser refused to store the session".to_string())
}

/// Offers `text` as a file download.
pub fn download(name: &str, mime: &str, text: &str) {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    let link = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("a").ok())
        .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok());
    if let Some(a) = link {
        a.set_href(&url);
        a.set_download(name);
        a.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}
