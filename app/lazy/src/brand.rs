//! White-label (issue 16, README "White-label"): a site's `brand.json` read key by key and
//! checked, then what the dashboard shows of it ([`Shown`]): the header's mark and the footer
//! as escaped HTML, the colour tokens as an inline style, the icon, the names, and a notice
//! naming each key or value left out. The dashboard fetches the file and applies the result
//! (`app/src/brand.rs`); only a site that has one loads this module for it.

use crate::forecast::SEP;
use crate::text::esc;
use serde_json::Value;

/// The product's own name, where no brand names another.
pub const PRODUCT: &str = "LLMscope";
/// The header's mark without a brand ([`Shown::mark`]).
pub const MARK: &str = "<span data-testid=\"brand-name\">LLMscope</span>";

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
const KEYS: &str =
    "name, logo_light, logo_dark, favicon, colors, footer, footer_link, report_title";
/// The schemes of an image's URL; a link may also be `mailto:`.
const IMAGE: &[&str] = &["http:", "https:"];
const LINK: &[&str] = &["http:", "https:", "mailto:"];

/// What brand.json sets; `None` (or no `colors`): the product's own.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Brand {
    /// The product's name: the header, the page's title, the report's producer.
    pub name: Option<String>,
    /// The header's logo in the light theme (a full URL).
    pub logo_light: Option<String>,
    /// The header's logo in the dark theme (a full URL).
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

/// brand.json's text read key by key: the brand, and a problem for each key or value left
/// out. `color` says whether a value is a CSS colour; `url` resolves a value against
/// brand.json's address, to the full URL and its scheme (`https:`). In the page both are the
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
        return Err(format!("must be text, not {}", kind(&value)));
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
        problems.push(format!(
            "\"colors\" must be an object of token to colour, not {}",
            kind(&value)
        ));
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
            Some(c) => format!("is not a CSS colour: \"{c}\""),
            None => format!("must be a CSS colour, not {}", kind(&value)),
        };
        problems.push(format!("\"colors.{token}\" {why}"));
    }
}

/// What a JSON value is, in words.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// What the dashboard shows of a brand; an empty field is the dashboard's own. It crosses as
/// one string ([`Shown::encode`]), which the dashboard keeps and reads by [`field`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Shown {
    /// The name (the page's title, the header's text, the report's producer): the brand's,
    /// else [`PRODUCT`].
    pub name: String,
    /// The PDF report's title (empty: "<name> report").
    pub report_title: String,
    /// The header's mark, HTML: the logo for each theme (`data-scheme`, the stylesheet shows
    /// the one of the theme in use), then the name.
    pub mark: String,
    /// The footer's content, HTML.
    pub footer: String,
    /// The colour tokens as the inline style of `<html>`: `--accent:#c2410c;`.
    pub style: String,
    /// The page's icon.
    pub favicon: String,
    /// What to tell the user of the keys and values left out.
    pub notice: String,
}

/// The positions of [`Shown`]'s fields in [`Shown::encode`]'s string, for the dashboard, which
/// keeps the string and reads a field when it needs it ([`field`]).
pub mod at {
    /// [`super::Shown::name`].
    pub const NAME: usize = 0;
    /// [`super::Shown::report_title`].
    pub const REPORT_TITLE: usize = 1;
    /// [`super::Shown::mark`].
    pub const MARK: usize = 2;
    /// [`super::Shown::footer`].
    pub const FOOTER: usize = 3;
    /// [`super::Shown::style`].
    pub const STYLE: usize = 4;
    /// [`super::Shown::favicon`].
    pub const FAVICON: usize = 5;
    /// [`super::Shown::notice`].
    pub const NOTICE: usize = 6;
}

/// The field at position `at` ([`at`]) of [`Shown::encode`]'s `text`; missing: empty.
pub fn field(text: &str, at: usize) -> &str {
    text.split(SEP).nth(at).unwrap_or_default()
}

impl Shown {
    /// What the dashboard shows of `brand`, read with `problems`.
    pub fn of(brand: Brand, problems: &[String]) -> Shown {
        let name = brand.name.unwrap_or(PRODUCT.into());
        let logo = |src: &Option<String>, scheme: &str| {
            src.as_ref().map_or(String::new(), |src| {
                format!(
                    "<img class=\"brand-logo\" data-testid=\"brand-logo\" data-scheme=\"{scheme}\" \
                     src=\"{}\" alt=\"\">",
                    esc(src)
                )
            })
        };
        // One logo given: it stands for both themes.
        let mark = match (&brand.logo_light, &brand.logo_dark) {
            (Some(_), Some(_)) => {
                logo(&brand.logo_light, "light") + &logo(&brand.logo_dark, "dark")
            }
            (light, dark) => logo(&light.clone().or(dark.clone()), "any"),
        };
        let footer_text = brand.footer.or(brand.footer_link.clone());
        let footer = match (footer_text, brand.footer_link) {
            (Some(text), Some(href)) => format!(
                "<a data-testid=\"brand-footer-link\" href=\"{}\">{}</a>",
                esc(&href),
                esc(&text)
            ),
            (text, _) => esc(&text.unwrap_or_default()),
        };
        Shown {
            mark: format!(
                "{mark}<span data-testid=\"brand-name\">{}</span>",
                esc(&name)
            ),
            name,
            report_title: brand.report_title.unwrap_or_default(),
            footer,
            style: brand
                .colors
                .iter()
                .map(|(token, value)| format!("--{token}:{value};"))
                .collect(),
            favicon: brand.favicon.unwrap_or_default(),
            notice: if problems.is_empty() {
                String::new()
            } else {
                format!(
                    "brand.json: {}. The rest of the brand applies.",
                    problems.join("; ")
                )
            },
        }
    }

    /// As one string for the dashboard.
    pub fn encode(&self) -> String {
        crate::forecast::join(&[
            &self.name,
            &self.report_title,
            &self.mark,
            &self.footer,
            &self.style,
            &self.favicon,
            &self.notice,
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in for `CSS.supports("color", _)`: hex colours and `light-dark(…)`.
    fn color(c: &str) -> bool {
        c.starts_with('#') || c.starts_with("light-dark(")
    }

    /// A stand-in for `URL` against `https://example.org/dash/brand.json`.
    fn url(v: &str) -> Option<(String, String)> {
        match v.split_once(':') {
            Some((scheme, _)) if !scheme.contains('/') => Some((v.into(), format!("{scheme}:"))),
            _ if v.contains(' ') => None,
            _ => Some((format!("https://example.org/dash/{v}"), "https:".into())),
        }
    }

    const FULL: &str = r##"{"name": " Acme <Scope> ", "logo_light": "logo.svg",
        "logo_dark": "https://cdn.example/d.png", "favicon": "icon.png",
        "colors": {"accent": "#ff6600", "bg": "light-dark(#fff, #000)"},
        "footer": "Acme & Co.", "footer_link": "mailto:help@acme.example",
        "report_title": "Acme quality report"}"##;

    #[test]
    fn every_key_is_read_and_urls_resolve_beside_brand_json() {
        let (b, problems) = read(FULL, color, url);
        assert_eq!(problems, Vec::<String>::new());
        assert_eq!(b.name.as_deref(), Some("Acme <Scope>"));
        let logo = b.logo_light.as_deref();
        assert_eq!(logo, Some("https://example.org/dash/logo.svg"));
        assert_eq!(b.logo_dark.as_deref(), Some("https://cdn.example/d.png"));
        let icon = b.favicon.as_deref();
        assert_eq!(icon, Some("https://example.org/dash/icon.png"));
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
                "colors": {"accent": "bluish", "brand": "#fff", "text": "#111", "ok": 1},
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
            "\"logo_dark\" may not be a javascript: URL (give a path beside brand.json, or http: https:)",
            "\"favicon\" may not be a data: URL",
            "\"footer\" must be text, not a number",
            "\"report_title\" is empty",
            "\"colors.accent\" is not a CSS colour: \"bluish\"",
            "\"colors.brand\" is not a colour token (bg, surface",
            "\"colors.ok\" must be a CSS colour, not a number",
            "\"footer_link\" is not a URL",
        ] {
            assert!(all.contains(needed), "{needed:?} not in:\n{all}");
        }
        assert_eq!(problems.len(), 9, "{all}");
        let notice = Shown::of(b, &problems).notice;
        assert!(notice.starts_with("brand.json: \""), "{notice}");
        assert!(
            notice.ends_with(". The rest of the brand applies."),
            "{notice}"
        );
    }

    #[test]
    fn text_that_is_not_a_json_object_applies_nothing() {
        for (text, said) in [
            ("[1, 2]", "it is not a JSON object"),
            ("{\"name\": ", "it is not JSON (EOF while parsing"),
            (
                "<!doctype html>",
                "it is not JSON (expected value at line 1 column 1)",
            ),
        ] {
            let (b, problems) = read(text, color, url);
            assert_eq!(b, Brand::default());
            assert!(problems[0].starts_with(said), "{problems:?}");
        }
        let (_, problems) = read(r##"{"colors": ["#fff"]}"##, color, url);
        assert_eq!(
            problems,
            ["\"colors\" must be an object of token to colour, not a list"]
        );
    }

    #[test]
    fn what_is_shown_is_escaped_and_crosses_unchanged() {
        let (b, problems) = read(FULL, color, url);
        let shown = Shown::of(b, &problems);
        assert_eq!(
            shown.mark,
            "<img class=\"brand-logo\" data-testid=\"brand-logo\" data-scheme=\"light\" \
             src=\"https://example.org/dash/logo.svg\" alt=\"\"><img class=\"brand-logo\" \
             data-testid=\"brand-logo\" data-scheme=\"dark\" src=\"https://cdn.example/d.png\" \
             alt=\"\"><span data-testid=\"brand-name\">Acme &lt;Scope&gt;</span>"
        );
        assert_eq!(
            shown.footer,
            "<a data-testid=\"brand-footer-link\" href=\"mailto:help@acme.example\">Acme &amp; \
             Co.</a>"
        );
        assert_eq!(shown.style, "--accent:#ff6600;--bg:light-dark(#fff, #000);");
        assert_eq!(shown.notice, "");
        let text = shown.encode();
        let fields = [
            (at::NAME, &shown.name),
            (at::REPORT_TITLE, &shown.report_title),
            (at::MARK, &shown.mark),
            (at::FOOTER, &shown.footer),
            (at::STYLE, &shown.style),
            (at::FAVICON, &shown.favicon),
            (at::NOTICE, &shown.notice),
        ];
        for (at, value) in fields {
            assert_eq!(field(&text, at), value, "field {at}");
        }
        assert_eq!(field("", at::NOTICE), "");

        // Without a name, the product's; without a logo, the name alone.
        assert_eq!(Shown::of(Brand::default(), &[]).mark, MARK);
        assert_eq!(Shown::of(Brand::default(), &[]).name, PRODUCT);
        // One logo for both themes; a link with no text shows its URL.
        let (b, _) = read(
            r#"{"logo_dark": "d.svg", "footer_link": "https://acme.example/"}"#,
            color,
            url,
        );
        let shown = Shown::of(b, &[]);
        assert!(shown.mark.starts_with("<img class=\"brand-logo\" data-testid=\"brand-logo\" data-scheme=\"any\" src=\"https://example.org/dash/d.svg\""), "{}", shown.mark);
        assert_eq!(
            shown.footer,
            "<a data-testid=\"brand-footer-link\" href=\"https://acme.example/\">https://acme.example/</a>"
        );
    }
}
