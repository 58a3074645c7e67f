//! White-label (issue 16): `brand.json` beside `index.html`, read at every start (no rebuild),
//! checked key by key, and applied: the page's title, favicon and colour tokens, the header's
//! name and logo, a footer, the PDF report's title and producer, the calendar events' product
//! and the downloads' names. README.md "White-label" is the contract.
//!
//! The page's inline script starts the fetch (`window.llmscopeBrand`, a promise of the
//! response), so it runs while the wasm downloads; [`load`] reads it before the app mounts, so
//! the first view is already branded. Only a 2xx answer that is not HTML is a brand: a missing
//! file (404, the usual case), a Worker's 401 for a path it does not serve, or a host's
//! single-page fallback (index.html for every path) mean no brand, silently. A bad value is
//! named in the notice line and left out; the rest applies.

use leptos::prelude::*;
use serde_json::Value;
use std::cell::RefCell;
use wasm_bindgen::JsCast;

/// The product's own name, where no brand names another.
pub const PRODUCT: &str = "LLMscope";

/// The tokens `colors` may set: the custom properties of static/app.css that hold a colour
/// (`accent` sets `--accent`).
pub const TOKENS: [&str; 14] = [
    "bg",
    "surface",
    "surface-2",
    "border",
    "text",
    "muted",
    "accent",
    "accent-text",
    "ok",
    "warn",
    "signal",
    "center",
    "limit",
    "focus",
];

/// brand.json's keys, for the notice about one it does not know.
const KEYS: &str = "name, logo_light, logo_dark, favicon, colors, footer, footer_link, report_title";
/// The schemes of an image's URL; a link may also be `mailto:`.
const IMAGE: &[&str] = &["http:", "https:"];
const LINK: &[&str] = &["http:", "https:", "mailto:"];

/// How long the start waits for brand.json.
const WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// What brand.json sets; `None` (or no `colors`): the product's own.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Brand {
    /// The product's name: the header, the page's title, the report's producer.
    pub name: Option<String>,
    /// The header's logo on a light background (a full URL).
    pub logo_light: Option<String>,
    /// The header's logo on a dark background (a full URL).
    pub logo_dark: Option<String>,
    /// The page's icon (a full URL).
    pub favicon: Option<String>,
    /// Colour tokens ([`TOKENS`]) and their CSS colours.
    pub colors: Vec<(String, String)>,
    /// The footer's text.
    pub footer: Option<String>,
    /// Where the footer links (a full URL).
    pub footer_link: Option<String>,
    /// The PDF report's title.
    pub report_title: Option<String>,
}

thread_local! {
    static BRAND: RefCell<Brand> = RefCell::default();
}

fn with<R>(f: impl FnOnce(&Brand) -> R) -> R {
    BRAND.with(|b| f(&b.borrow()))
}

/// The name to show: the brand's, else [`PRODUCT`].
pub fn name() -> String {
    with(|b| b.name.clone()).unwrap_or_else(|| PRODUCT.into())
}

/// The PDF report's title: `report_title`, else "<name> report".
pub fn report_title() -> String {
    with(|b| b.report_title.clone()).unwrap_or_else(|| format!("{} report", name()))
}

/// A download's name: `llmscope-<rest>` becomes `<brand name>-<rest>` (lower case, each run of
/// characters other than letters and digits as one `-`).
pub fn file_name(file: &str) -> String {
    let brand = with(|b| b.name.clone());
    match (file.strip_prefix("llmscope-"), brand) {
        (Some(rest), Some(brand)) => {
            let mut stem = String::new();
            for c in brand.to_lowercase().chars() {
                let c = if c.is_alphanumeric() { c } else { '-' };
                if c != '-' || !stem.ends_with('-') {
                    stem.push(c);
                }
            }
            match stem.trim_matches('-') {
                "" => rest.into(),
                stem => format!("{stem}-{rest}"),
            }
        }
        _ => file.into(),
    }
}

/// brand.json's text read key by key: the brand, and a problem for each key or value left
/// out. `color` says whether a value is a CSS colour; `url` resolves a value against
/// brand.json's address, to the full URL and its scheme (`https:`). On the page both are the
/// browser's own (`CSS.supports`, `URL`).
pub fn read(
    text: &str,
    color: impl Fn(&str) -> bool,
    url: impl Fn(&str) -> Option<(String, String)>,
) -> (Brand, Vec<String>) {
    let mut b = Brand::default();
    let mut problems = Vec::new();
    let fields = match serde_json::from_str(text) {
        Ok(Value::Object(fields)) => fields,
        Ok(_) => return (b, vec!["it is not a JSON object".into()]),
        Err(e) => return (b, vec![format!("it is not JSON ({e})")]),
    };
    for (key, value) in fields {
        let (slot, schemes) = match key.as_str() {
            "colors" => {
                colors(value, &color, &mut b.colors, &mut problems);
                continue;
            }
            "name" => (&mut b.name, None),
            "footer" => (&mut b.footer, None),
            "report_title" => (&mut b.report_title, None),
            "logo_light" => (&mut b.logo_light, Some(IMAGE)),
            "logo_dark" => (&mut b.logo_dark, Some(IMAGE)),
            "favicon" => (&mut b.favicon, Some(IMAGE)),
            "footer_link" => (&mut b.footer_link, Some(LINK)),
            _ => {
                problems.push(format!("\"{key}\" is not a key of brand.json ({KEYS})"));
                continue;
            }
        };
        match checked(value, schemes, &url) {
            Ok(v) => *slot = Some(v),
            Err(why) => problems.push(format!("\"{key}\" {why}")),
        }
    }
    (b, problems)
}

/// A text value, or with `schemes` a URL of one of them, resolved by `url`.
fn checked(
    value: Value,
    schemes: Option<&[&str]>,
    url: &impl Fn(&str) -> Option<(String, String)>,
) -> Result<String, String> {
    let Value::String(text) = value else {
        return Err(format!("must be text, not {value}"));
    };
    let text = text.trim();
    if text.is_empty() {
        return Err("is empty".into());
    }
    let Some(schemes) = schemes else {
        return Ok(text.into());
    };
    let (href, scheme) = url(text).ok_or("is not a URL")?;
    if schemes.contains(&scheme.as_str()) {
        Ok(href)
    } else {
        Err(format!(
            "may not be a {scheme} URL (give a path beside brand.json, or {})",
            schemes.join(" ")
        ))
    }
}

/// `colors`: an object of token to colour; each bad token or colour is a problem.
fn colors(
    value: Value,
    color: &impl Fn(&str) -> bool,
    out: &mut Vec<(String, String)>,
    problems: &mut Vec<String>,
) {
    let Value::Object(tokens) = value else {
        problems.push(format!("\"colors\" must be an object of token to colour, not {value}"));
        return;
    };
    for (token, value) in tokens {
        let why = match value.as_str() {
            _ if !TOKENS.contains(&token.as_str()) => {
                format!("is not a colour token ({})", TOKENS.join(", "))
            }
            Some(c) if color(c) => {
                out.push((token, c.into()));
                continue;
            }
            _ => format!("is not a CSS colour: {value}"),
        };
        problems.push(format!("\"colors.{token}\" {why}"));
    }
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// `CSS.supports(property, value)`.
    #[wasm_bindgen(js_namespace = CSS, js_name = supports)]
    fn css_supports(property: &str, value: &str) -> bool;
}

/// `value` resolved against the page's address (brand.json is beside it): the URL, its scheme.
fn resolve(value: &str) -> Option<(String, String)> {
    let base = web_sys::window()?.location().href().ok()?;
    let url = web_sys::Url::new_with_base(value, &base).ok()?;
    Some((url.href(), url.protocol()))
}

/// Reads brand.json (see the module's doc), keeps it and applies it to the page; returns what
/// to tell the user about it, if anything.
pub async fn load() -> Option<String> {
    let (brand, problems) = match crate::export::link::within(WAIT, fetched()).await {
        Some(Some(text)) => read(&text, |c| css_supports("color", c), resolve),
        Some(None) => Default::default(),
        None => (Brand::default(), vec![format!("it did not answer within {WAIT:?}")]),
    };
    apply(&brand);
    BRAND.with(|b| *b.borrow_mut() = brand);
    (!problems.is_empty()).then(|| {
        format!(
            "brand.json: {}. The rest of the brand applies.",
            problems.join("; ")
        )
    })
}

/// brand.json's text, from the fetch the page started; `None`: no brand.
async fn fetched() -> Option<String> {
    use wasm_bindgen_futures::JsFuture;
    let window = web_sys::window()?;
    let started = js_sys::Reflect::get(&window, &"llmscopeBrand".into()).ok()?;
    let answer = JsFuture::from(started.dyn_into::<js_sys::Promise>().ok()?)
        .await
        .ok()?;
    let response = answer.dyn_into::<web_sys::Response>().ok()?;
    let kind = response.headers().get("content-type").ok().flatten();
    if !response.ok() || kind.is_some_and(|k| k.contains("html")) {
        return None;
    }
    JsFuture::from(response.text().ok()?).await.ok()?.as_string()
}

/// The page's title, colour tokens (inline on `<html>`, so in both themes; `light-dark()`
/// gives a token one colour per theme) and icon.
fn apply(b: &Brand) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    doc.set_title(b.name.as_deref().unwrap_or(PRODUCT));
    if let Some(root) = doc.document_element().filter(|_| !b.colors.is_empty()) {
        let style: String = b.colors.iter().map(|(k, v)| format!("--{k}:{v};")).collect();
        let _ = root.set_attribute("style", &style);
    }
    if let (Some(icon), Ok(Some(link))) = (&b.favicon, doc.query_selector("link[rel=icon]")) {
        let _ = link.remove_attribute("type");
        let _ = link.set_attribute("href", icon);
    }
}

/// The header's mark: the brand's logo for the theme in use (the other one when only one is
/// given), then the name.
#[component]
pub fn Mark() -> impl IntoView {
    let theme = crate::ui::context::theme();
    let (light, dark) = with(|b| (b.logo_light.clone(), b.logo_dark.clone()));
    let logo = move || {
        let (first, second) = if theme.dark.get() {
            (&dark, &light)
        } else {
            (&light, &dark)
        };
        first.as_ref().or(second.as_ref()).map(|src| {
            view! { <img class="brand-logo" data-testid="brand-logo" src=src.clone() alt=""/> }
        })
    };
    view! { {logo}<span data-testid="brand-name">{name()}</span> }
}

/// The footer: its text, a link when `footer_link` is set (its URL when there is no text);
/// nothing without either.
#[component]
pub fn Footer() -> impl IntoView {
    let (text, link) = with(|b| (b.footer.clone(), b.footer_link.clone()));
    text.or(link.clone()).map(|text| {
        let shown = match link {
            Some(href) => view! { <a href=href data-testid="brand-footer-link">{text}</a> }.into_any(),
            None => text.into_any(),
        };
        view! { <footer class="brand-footer" data-testid="brand-footer">{shown}</footer> }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in for `CSS.supports("color", _)`: hex colours and `light-dark(…)`.
    fn color(c: &str) -> bool {
        c.starts_with('#') || c.starts_with("light-dark(")
    }

    /// A stand-in for `URL` against `https://example.org/dash/`.
    fn url(v: &str) -> Option<(String, String)> {
        match v.split_once(':') {
            Some((scheme, _)) if !scheme.contains('/') => Some((v.into(), format!("{scheme}:"))),
            _ if v.contains(' ') => None,
            _ => Some((format!("https://example.org/dash/{v}"), "https:".into())),
        }
    }

    #[test]
    fn every_key_is_read_and_urls_resolve_beside_brand_json() {
        let (b, problems) = read(
            r##"{"name": " Acme Scope ", "logo_light": "logo.svg", "logo_dark": "https://cdn.example/d.png",
                "favicon": "icon.png", "colors": {"accent": "#ff6600", "bg": "light-dark(#fff, #000)"},
                "footer": "Acme Inc.", "footer_link": "mailto:help@acme.example", "report_title": "Acme quality report"}"##,
            color,
            url,
        );
        assert_eq!(problems, Vec::<String>::new());
        assert_eq!(b.name.as_deref(), Some("Acme Scope"));
        assert_eq!(b.logo_light.as_deref(), Some("https://example.org/dash/logo.svg"));
        assert_eq!(b.logo_dark.as_deref(), Some("https://cdn.example/d.png"));
        assert_eq!(b.favicon.as_deref(), Some("https://example.org/dash/icon.png"));
        assert_eq!(b.footer_link.as_deref(), Some("mailto:help@acme.example"));
        assert_eq!(b.report_title.as_deref(), Some("Acme quality report"));
        assert_eq!(
            b.colors,
            [("accent", "#ff6600"), ("bg", "light-dark(#fff, #000)")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
        );
    }

    #[test]
    fn a_bad_value_is_named_and_the_rest_applies() {
        let (b, problems) = read(
            r##"{"name": "Acme", "logo": "x.svg", "logo_dark": "javascript:alert(1)",
                "favicon": "data:image/png;base64,AA", "footer": 3, "report_title": "  ",
                "colors": {"accent": "bluish", "brand": "#fff", "text": "#111"},
                "footer_link": "not a url"}"##,
            color,
            url,
        );
        assert_eq!(b.name.as_deref(), Some("Acme"));
        assert_eq!(b.colors, [("text".to_string(), "#111".to_string())]);
        assert_eq!((&b.logo_dark, &b.favicon, &b.footer), (&None, &None, &None));
        let all = problems.join("\n");
        for needed in [
            "\"logo\" is not a key of brand.json (name, logo_light",
            "\"logo_dark\" may not be a javascript: URL",
            "\"favicon\" may not be a data: URL",
            "\"footer\" must be text, not 3",
            "\"report_title\" is empty",
            "\"colors.accent\" is not a CSS colour: \"bluish\"",
            "\"colors.brand\" is not a colour token (bg, surface",
            "\"footer_link\" is not a URL",
        ] {
            assert!(all.contains(needed), "{needed:?} not in:\n{all}");
        }
        assert_eq!(problems.len(), 8, "{all}");
    }

    #[test]
    fn text_that_is_not_a_json_object_applies_nothing() {
        for (text, said) in [
            ("[1, 2]", "it is not a JSON object"),
            ("{\"name\": ", "it is not JSON (EOF while parsing"),
            ("<!doctype html>", "it is not JSON (expected value at line 1 column 1)"),
        ] {
            let (b, problems) = read(text, color, url);
            assert_eq!(b, Brand::default());
            assert!(problems[0].starts_with(said), "{problems:?}");
        }
        let (_, problems) = read(r#"{"colors": ["#fff"]}"#, color, url);
        assert_eq!(
            problems,
            ["\"colors\" must be an object of token to colour, not [\"#fff\"]"]
        );
    }

    #[test]
    fn the_names_fall_back_to_the_product_and_downloads_take_the_brand() {
        assert_eq!((name().as_str(), report_title().as_str()), ("LLMscope", "LLMscope report"));
        assert_eq!(file_name("llmscope-report.pdf"), "llmscope-report.pdf");
        BRAND.with(|b| b.borrow_mut().name = Some("Acme Scope™ / EU".into()));
        assert_eq!(report_title(), "Acme Scope™ / EU report");
        assert_eq!(file_name("llmscope-report.pdf"), "acme-scope-eu-report.pdf");
        assert_eq!(file_name("cnc1_temp.png"), "cnc1_temp.png");
        BRAND.with(|b| b.borrow_mut().name = Some("☆".into()));
        assert_eq!(file_name("llmscope-session.json"), "session.json");
        BRAND.with(|b| b.borrow_mut().report_title = Some("Quality".into()));
        assert_eq!(report_title(), "Quality");
    }
}
