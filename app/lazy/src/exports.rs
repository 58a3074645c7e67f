//! The functions the page calls on this module (wasm-bindgen exports).

use crate::doc::Doc;
use crate::pdf::Font;
use crate::wire::{self, Machines, Request};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Where the report's fonts are served (files of the site, fetched when a report is made): the
/// base font, and the CJK fallback (4 MB), fetched only when the document's names need it.
const FONT_URL: &str = "fonts/LiberationSans-Regular.ttf";
const FALLBACK_FONT_URL: &str = "fonts/DroidSansFallbackFull.ttf";

/// The report described by `doc` (postcard bytes of [`Doc`]) as PDF bytes.
#[wasm_bindgen]
pub async fn pdf(doc: Vec<u8>) -> Result<Vec<u8>, JsError> {
    let doc = Doc::decode(&doc).map_err(|e| JsError::new(&e))?;
    let mut font = Font::new(fetch_font(FONT_URL).await?).map_err(|e| JsError::new(&e))?;
    if !font.covers(&doc.cover) {
        font.add_fallback(fetch_font(FALLBACK_FONT_URL).await?)
            .map_err(|e| JsError::new(&e))?;
    }
    Ok(crate::layout::render(doc, &font))
}

/// The comparison of targets `request` ([`Request`] bytes), as the Compare view's Worker
/// runs it: `on_table` is called first with the per-target table's bytes
/// ([`wire::encode_table`]), so the view can show it while the pairs are computed; the
/// result is the report's bytes ([`wire::Reply`]).
#[wasm_bindgen]
pub fn compare(request: &[u8], on_table: &js_sys::Function) -> Result<Vec<u8>, JsError> {
    let request = Request::decode(request).map_err(|e| JsError::new(&e))?;
    let table = crate::compare::table(&request).map_err(|e| JsError::new(&e))?;
    let bytes = js_sys::Uint8Array::from(wire::encode_table(&table).as_slice());
    on_table
        .call1(&JsValue::NULL, &bytes)
        .map_err(|_| JsError::new("the comparison's table could not be sent"))?;
    let reply = crate::compare::targets(&request).map_err(|e| JsError::new(&e))?;
    Ok(reply.encode())
}

/// The comparison of machines `request` ([`Machines`] bytes), as the Compare view's Worker
/// runs it: the reply's bytes ([`wire::MachinesReply`]).
#[wasm_bindgen]
pub fn compare_machines(request: &[u8]) -> Result<Vec<u8>, JsError> {
    let request = Machines::decode(request).map_err(|e| JsError::new(&e))?;
    let reply = crate::compare::machines(&request).map_err(|e| JsError::new(&e))?;
    Ok(reply.encode())
}

/// The Compare view's CSV of the comparison shown (`request`: [`crate::compare_csv::Csv`]
/// bytes). Async only so the page awaits it as it awaits `pdf`.
#[wasm_bindgen]
pub async fn compare_csv(request: Vec<u8>) -> Result<String, JsError> {
    let csv = crate::compare_csv::Csv::decode(&request).map_err(|e| JsError::new(&e))?;
    csv.text().map_err(|e| JsError::new(&e))
}

/// The why panel of the episode `request` ([`crate::why::Request`] bytes) as HTML text. Async
/// only so the page awaits it as it awaits `pdf`.
#[wasm_bindgen]
pub async fn why(request: Vec<u8>) -> Result<String, JsError> {
    let request = crate::why::Request::decode(&request).map_err(|e| JsError::new(&e))?;
    let explained = crate::why::explain(&request).map_err(|e| JsError::new(&e))?;
    Ok(crate::why::html::render(&explained, &request.series[0].0))
}

/// The site's brand.json read and checked ([`crate::brand`]; `request`: its URL, a line break,
/// its text): [`crate::brand::Shown`] as one string. Async only so the page awaits it as it
/// awaits `why`.
#[wasm_bindgen]
pub async fn brand(request: String) -> String {
    let (base, text) = request.split_once('\n').unwrap_or(("", &request));
    let resolve = |value: &str| {
        let url = Address::new(value, base).ok()?;
        Some((url.href(), url.protocol()))
    };
    let (brand, problems) = crate::brand::read(text, |c| css_supports("color", c), resolve);
    crate::brand::Shown::of(brand, &problems).encode()
}

#[wasm_bindgen]
extern "C" {
    /// `CSS.supports(property, value)`: whether the browser takes `value` for `property`.
    #[wasm_bindgen(js_namespace = CSS, js_name = supports)]
    fn css_supports(property: &str, value: &str) -> bool;
    /// The browser's `URL`.
    #[wasm_bindgen(js_name = URL)]
    type Address;
    #[wasm_bindgen(catch, constructor, js_class = URL)]
    fn new(url: &str, base: &str) -> Result<Address, JsValue>;
    #[wasm_bindgen(method, getter, js_class = URL)]
    fn href(this: &Address) -> String;
    #[wasm_bindgen(method, getter, js_class = URL)]
    fn protocol(this: &Address) -> String;
}

/// A new derived stream's formula compiled ([`crate::derived::Request`] bytes in,
/// [`crate::derived::Program`] bytes out), or what is wrong with it and where.
#[wasm_bindgen]
pub async fn derived(request: Vec<u8>) -> Result<Vec<u8>, JsError> {
    let request = crate::derived::Request::decode(&request).map_err(|e| JsError::new(&e))?;
    let program = crate::derived::compile(&request).map_err(|e| JsError::new(&e))?;
    Ok(program.encode())
}

/// The forecast of `request` ([`crate::forecast::Request`] bytes): what the dashboard shows
/// of it, [`crate::forecast::Shown`] as text. Async only so the page awaits it as it awaits
/// `why`.
#[wasm_bindgen]
pub async fn forecast(request: Vec<u8>) -> Result<String, JsError> {
    use crate::forecast::{run, Request, Shown};
    let request = Request::decode(&request).map_err(|e| JsError::new(&e))?;
    let reply = run(&request).map_err(|e| JsError::new(&e))?;
    Ok(Shown::of(reply, &request.name).encode())
}

/// The workspace view (issue 16, [`crate::team`]): at the page's start with the version of
/// the Worker that serves the page (empty when none), or shown or hidden (`null`, the
/// header's "Team" button).
#[wasm_bindgen]
pub async fn team(start: Option<String>) -> Result<(), JsError> {
    crate::team::page::open(start)
        .await
        .map_err(|e| JsError::new(&e))
}

/// Outside quality scores read from a file (`request`: its name, a new line, its text):
/// [`crate::quality::Scores`] as bytes, or what makes the file unusable. Async only so the
/// page awaits it as it awaits `why`.
#[wasm_bindgen]
pub async fn quality(request: String) -> Result<Vec<u8>, JsError> {
    let (file, text) = request.split_once('\n').unwrap_or((&request, ""));
    crate::quality::parse(file, text)
        .map(|s| s.encode())
        .map_err(|e| JsError::new(&e))
}

/// The full-telemetry export's text for the session's JSON ([`crate::telemetry::export`]).
#[wasm_bindgen]
pub async fn telemetry_export(session: String) -> Result<String, JsError> {
    let session = serde_json::from_str(&session).map_err(|e| JsError::new(&e.to_string()))?;
    Ok(crate::telemetry::export(session))
}

/// The session's JSON of an exported file, its raw records put back
/// ([`crate::telemetry::import`]), or what makes the file unusable.
#[wasm_bindgen]
pub async fn telemetry_import(text: String) -> Result<String, JsError> {
    let session = crate::telemetry::import(&text).map_err(|e| JsError::new(&e))?;
    Ok(session.to_string())
}

/// A share link's data zlib-compressed ([`crate::pack::deflate`]).
#[wasm_bindgen]
pub fn zlib(bytes: &[u8]) -> Vec<u8> {
    crate::pack::deflate(bytes)
}

/// A share link's data inflated, at most `limit` bytes; throws `too large` or `damaged`.
#[wasm_bindgen]
pub fn unzlib(body: &[u8], limit: usize) -> Result<Vec<u8>, JsError> {
    crate::pack::inflate(body, limit).map_err(|e| JsError::new(e.word()))
}

/// A session sealed for a probe Worker ([`crate::pack::seal`]); `key` 32 bytes, `nonce` 12.
#[wasm_bindgen]
pub fn seal(plain: &[u8], key: &[u8], nonce: &[u8]) -> Result<Vec<u8>, JsError> {
    let (key, nonce) = key_nonce(key, nonce)?;
    Ok(crate::pack::seal(plain, key, nonce))
}

/// A sealed session opened; throws `tampered` when the key or the data was altered.
#[wasm_bindgen]
pub fn unseal(sealed: &[u8], key: &[u8], nonce: &[u8]) -> Result<Vec<u8>, JsError> {
    let (key, nonce) = key_nonce(key, nonce)?;
    crate::pack::unseal(sealed, key, nonce).ok_or_else(|| JsError::new("tampered"))
}

fn key_nonce<'a>(key: &'a [u8], nonce: &'a [u8]) -> Result<(&'a [u8; 32], &'a [u8; 12]), JsError> {
    Ok((
        key.try_into()
            .map_err(|_| JsError::new("the key is not 32 bytes"))?,
        nonce
            .try_into()
            .map_err(|_| JsError::new("the nonce is not 12 bytes"))?,
    ))
}

async fn fetch_font(url: &str) -> Result<Vec<u8>, JsError> {
    let window = web_sys::window().ok_or_else(|| JsError::new("no window"))?;
    let cannot = |why: &str| JsError::new(&format!("cannot fetch the report font ({url}){why}"));
    let response = wasm_bindgen_futures::JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|_| cannot(""))?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| cannot(": no response"))?;
    if !response.ok() {
        return Err(cannot(&format!(": HTTP {}", response.status())));
    }
    let body = response.array_buffer().map_err(|_| cannot(": no body"))?;
    let buffer = wasm_bindgen_futures::JsFuture::from(body)
        .await
        .map_err(|_| cannot(": the body could not be read"))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}
