//! Timings for the browser benchmarks, kept in `window.__llmscope`, and the page's clock.

/// Milliseconds since navigation (`performance.now()`).
pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// A time of day for people, in the browser's locale.
pub fn clock(t: f64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(t));
    String::from(d.to_locale_time_string("default"))
}

/// Updates `window.__llmscope`, the timings the browser benchmarks read.
fn with_timings(update: impl FnOnce(&wasm_bindgen::JsValue)) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let key = wasm_bindgen::JsValue::from_str("__llmscope");
    let timings = js_sys::Reflect::get(&window, &key)
        .ok()
        .filter(|v| v.is_object())
        .unwrap_or_else(|| js_sys::Object::new().into());
    update(&timings);
    let _ = js_sys::Reflect::set(&window, &key, &timings);
}

/// Keeps `first_chart_ms` (when the first control chart was painted, ms since navigation) and
/// `draw_ms` (how long the last draw took) for the browser benchmark.
pub fn record_draw(started: f64, ended: f64) {
    with_timings(|timings| {
        let first = wasm_bindgen::JsValue::from_str("first_chart_ms");
        if js_sys::Reflect::get(timings, &first).map_or(true, |v| v.is_undefined()) {
            let _ = js_sys::Reflect::set(timings, &first, &ended.into());
        }
        let _ = js_sys::Reflect::set(timings, &"draw_ms".into(), &(ended - started).into());
    });
}

/// Keeps `<name>_ms` (the last) and `<name>_max_ms` (the longest) for the browser benchmarks.
pub fn record_timing(name: &str, ms: f64) {
    with_timings(|timings| {
        let max = wasm_bindgen::JsValue::from_str(&format!("{name}_max_ms"));
        let before = js_sys::Reflect::get(timings, &max)
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0);
        let _ = js_sys::Reflect::set(timings, &max, &before.max(ms).into());
        let _ = js_sys::Reflect::set(timings, &format!("{name}_ms").into(), &ms.into());
    });
}
