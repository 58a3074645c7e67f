//! The second wasm module (`app/lazy`, `llmscope-app-lazy`): code a user who only watches
//! charts never needs, so the site's first download leaves it out. The page
//! (`static/index.template.html`) defines `window.llmscopeLazy()`, which imports and starts
//! the module on first use and keeps it (the PDF report), and `window.llmscopeCompare()`,
//! which runs a comparison in a module Web Worker that imports it (the Compare view). A
//! failure is an error in words, and the next use tries again.

use js_sys::{Function, Promise, Reflect, Uint8Array};
use llmscope_app_lazy::doc::Doc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// What a thrown JavaScript value says.
fn message(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}

/// The started module's exports.
async fn module() -> Result<JsValue, String> {
    let window = web_sys::window().ok_or("no window")?;
    let load = Reflect::get(&window, &"llmscopeLazy".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .ok_or(
            "this page cannot load the report module (no window.llmscopeLazy): serve the site \
             that `cargo xtask site` builds",
        )?;
    let promise = load
        .call0(&window)
        .map_err(|e| message(&e))?
        .dyn_into::<Promise>()
        .map_err(|_| "window.llmscopeLazy() did not return a promise")?;
    JsFuture::from(promise).await.map_err(|e| {
        format!(
            "the report module could not be loaded ({}): check the connection and try again",
            message(&e)
        )
    })
}

/// Calls the module's `name` with one argument and awaits its promise.
async fn call(name: &str, argument: &JsValue) -> Result<JsValue, String> {
    let exports = module().await?;
    let f = Reflect::get(&exports, &name.into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .ok_or_else(|| format!("the report module has no `{name}`: reload the page"))?;
    let promise = f
        .call1(&JsValue::NULL, argument)
        .map_err(|e| message(&e))?
        .dyn_into::<Promise>()
        .map_err(|_| format!("the report module's `{name}` did not return a promise"))?;
    JsFuture::from(promise).await.map_err(|e| message(&e))
}

/// The report described by `doc` as PDF bytes, laid out and written by the module.
pub async fn pdf(doc: &Doc) -> Result<Vec<u8>, String> {
    let bytes = doc.encode()?;
    let pdf = call("pdf", &Uint8Array::from(bytes.as_slice()).into()).await?;
    Ok(Uint8Array::new(&pdf).to_vec())
}

/// The why panel's HTML for the episode of `request`, explained by the module.
pub async fn why(request: &llmscope_app_lazy::why::Request) -> Result<String, String> {
    let html = call("why", &Uint8Array::from(request.encode().as_slice()).into()).await?;
    html.as_string()
        .ok_or_else(|| "the report module's `why` did not return text: reload the page".into())
}

/// The session's JSON of an exported file's `text`, its raw records put back by the module.
pub async fn telemetry_import(text: &str) -> Result<String, String> {
    let session = call("telemetry_import", &text.into()).await?.as_string();
    session.ok_or_else(|| "the report module's `telemetry_import` did not return text".into())
}

/// The site's brand.json (`request`: its URL, a line break, its text) read and checked by the
/// module: `llmscope_app_lazy::brand::Shown` as its one string.
pub async fn brand(request: &str) -> Result<String, String> {
    let shown = call("brand", &request.into()).await?.as_string();
    Ok(shown.unwrap_or_default())
}

/// A new derived stream's formula compiled by the module, or what is wrong with it and where.
pub async fn derived(
    request: &llmscope_app_lazy::derived::Request,
) -> Result<llmscope_app_lazy::derived::Program, String> {
    let program = call(
        "derived",
        &Uint8Array::from(request.encode().as_slice()).into(),
    )
    .await?;
    llmscope_app_lazy::derived::Program::decode(&Uint8Array::new(&program).to_vec())
}

/// Outside quality scores read from the file `file` (its text `text`) by the module.
pub async fn quality(file: &str, text: &str) -> Result<llmscope_app_lazy::quality::Scores, String> {
    let bytes = call("quality", &format!("{file}\n{text}").into()).await?;
    llmscope_app_lazy::quality::Scores::decode(&Uint8Array::new(&bytes).to_vec())
}

/// The rule editor, written by the module into the stream view's `.rules-host` for `input`
/// (`rules_editor`'s argument there); the set the user applies: (tests, named rules, text).
pub async fn rules_editor(input: String) -> Result<(String, String, String), String> {
    let applied = call("rules_editor", &input.into()).await?.as_string();
    let applied = applied.ok_or("the report module's `rules_editor` did not return text")?;
    let mut parts = applied.splitn(3, '\u{1}').map(String::from);
    let mut part = || parts.next().unwrap_or_default();
    Ok((part(), part(), part()))
}

/// Offers as the file `name` (of type `mime`) the text the module's `op` makes of `argument`
/// (the Compare view's CSV, the JSON export); `failed` is told what went wrong. One function
/// for both, as each future weighs on the site's wasm.
pub fn download(
    op: &'static str,
    argument: JsValue,
    name: &'static str,
    mime: &'static str,
    failed: Box<dyn Fn(String)>,
) {
    wasm_bindgen_futures::spawn_local(async move {
        let text = call(op, &argument).await.and_then(|t| {
            t.as_string().ok_or_else(|| {
                format!("the report module's `{op}` did not return text: reload the page")
            })
        });
        match text {
            Ok(text) => crate::export::download::download(name, mime, &text),
            Err(e) => failed(e),
        }
    });
}

/// A comparison made in the Compare view's Web Worker: of targets (`kind` "targets", `request`
/// as `llmscope_app_lazy::wire::Request` bytes; `on_table` gets the per-target table's bytes
/// first) or of machines ("machines", `wire::Machines` bytes). The result is the reply's
/// bytes.
pub async fn compare(
    kind: &str,
    request: &[u8],
    on_table: impl Fn(Vec<u8>) + 'static,
) -> Result<Vec<u8>, String> {
    let window = web_sys::window().ok_or("no window")?;
    let run = Reflect::get(&window, &"llmscopeCompare".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .ok_or(
            "this page cannot start the comparison's worker (no window.llmscopeCompare): serve \
             the site that `cargo xtask site` builds",
        )?;
    let on_table = Closure::<dyn Fn(JsValue)>::new(move |bytes: JsValue| {
        on_table(Uint8Array::new(&bytes).to_vec());
    });
    let promise = run
        .call3(
            &window,
            &kind.into(),
            &Uint8Array::from(request).into(),
            on_table.as_ref().unchecked_ref(),
        )
        .map_err(|e| message(&e))?
        .dyn_into::<Promise>()
        .map_err(|_| "window.llmscopeCompare() did not return a promise")?;
    let reply = JsFuture::from(promise)
        .await
        .map_err(|e| format!("the comparison failed: {}", message(&e)));
    // Kept until the worker has answered: it calls `on_table` before.
    drop(on_table);
    Ok(Uint8Array::new(&reply?).to_vec())
}

/// What the dashboard shows of the forecast of `request`, made (and written) by the module
/// (the engine's forecast stays out of this one).
pub async fn forecast(
    request: &llmscope_app_lazy::forecast::Request,
) -> Result<llmscope_app_lazy::forecast::Shown, String> {
    let bytes = Uint8Array::from(request.encode().as_slice());
    let text = call("forecast", &bytes.into()).await?.as_string();
    let text = text.ok_or("the report module's `forecast` did not return text: reload the page")?;
    Ok(llmscope_app_lazy::forecast::Shown::decode(&text))
}

/// The module's byte work under share links (`llmscope_app_lazy::pack`: zlib, AES-256-GCM),
/// called synchronously once the module is loaded, so the link format stays plain code.
pub struct Pack {
    exports: JsValue,
}

impl Pack {
    /// Loads the module (once; then at once).
    pub async fn load() -> Result<Pack, String> {
        Ok(Pack {
            exports: module().await?,
        })
    }

    fn call(&self, name: &str, args: &[JsValue]) -> Result<Vec<u8>, String> {
        let f = Reflect::get(&self.exports, &name.into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
            .ok_or_else(|| format!("the report module has no `{name}`: reload the page"))?;
        let args: js_sys::Array = args.iter().collect();
        let out = f.apply(&JsValue::NULL, &args).map_err(|e| message(&e))?;
        Ok(Uint8Array::new(&out).to_vec())
    }
}

fn bytes(b: &[u8]) -> JsValue {
    Uint8Array::from(b).into()
}

impl crate::export::share::Pack for Pack {
    fn deflate(&self, b: &[u8]) -> Vec<u8> {
        self.call("zlib", &[bytes(b)]).unwrap_or_default()
    }
    fn inflate(
        &self,
        body: &[u8],
        limit: usize,
    ) -> Result<Vec<u8>, llmscope_app_lazy::pack::Inflate> {
        use llmscope_app_lazy::pack::Inflate;
        self.call("unzlib", &[bytes(body), (limit as f64).into()])
            .map_err(|e| match e == Inflate::TooLarge.word() {
                true => Inflate::TooLarge,
                false => Inflate::Damaged,
            })
    }
    fn seal(&self, plain: &[u8], key: &[u8; 32], nonce: &[u8; 12]) -> Vec<u8> {
        self.call("seal", &[bytes(plain), bytes(key), bytes(nonce)])
            .unwrap_or_default()
    }
    fn unseal(&self, sealed: &[u8], key: &[u8; 32], nonce: &[u8; 12]) -> Option<Vec<u8>> {
        self.call("unseal", &[bytes(sealed), bytes(key), bytes(nonce)])
            .ok()
    }
}
