//! White-label (issue 16, README "White-label"), in headless Chromium: a site served with a
//! brand.json shows the brand (title, header name and logo, favicon, colour tokens, footer
//! link) and the product's name nowhere a user can see: the page, its title, index.html's own
//! words, the PNG export, the PDF report (its text read back with `pdftotext`, its metadata
//! with `pdfinfo`) and the downloads' names. A bad brand.json is named in the notice, key by
//! key, and the rest of it applies.

use fantoccini::Locator;
use llmscope_e2e::{
    click, console_errors, count, downloaded, import, js, notice, pause_simulators, poppler, root,
    screenshot, temp_csv, wait_for, Session, Site, SiteCopy, APP_MOUNTED, DEADLINE,
};

/// The product's name, in any case.
const PRODUCT: &str = "llmscope";

/// The logos shown (the header has one for each theme; the stylesheet hides the other).
const SHOWN_LOGOS: &str = "[...document.querySelectorAll('[data-testid=brand-logo]')]
    .filter(i => getComputedStyle(i).display !== 'none').map(i => i.src)";

/// A logo: a coloured square with a letter (no product name in it).
fn logo(fill: &str) -> Vec<u8> {
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="{fill}"/><text x="16" y="23" font-size="20" text-anchor="middle" fill="#fff">A</text></svg>"##
    )
    .into_bytes()
}

const BRAND: &str = r##"{
  "name": "Acme Quality",
  "logo_light": "acme-light.svg",
  "logo_dark": "acme-dark.svg",
  "favicon": "acme-icon.svg",
  "colors": {"accent": "#c2410c", "bg": "light-dark(#fff7ed, #1c1917)", "surface": "#ffedd5"},
  "footer": "Acme Quality, support",
  "footer_link": "https://acme.example/support",
  "report_title": "Acme process report"
}"##;

/// Whether `bytes` hold the product's name, in any case.
fn names_the_product(bytes: &[u8]) -> bool {
    bytes
        .windows(PRODUCT.len())
        .any(|w| w.eq_ignore_ascii_case(PRODUCT.as_bytes()))
}

/// What a user can read on the page: its text (the notice line and footer too), its title and
/// every attribute that is shown (tooltips, alternative text, placeholders, labels, values),
/// and the `<noscript>` text.
async fn visible_words(client: &fantoccini::Client) -> String {
    let words = js(
        client,
        "const shown = ['title', 'alt', 'placeholder', 'aria-label', 'value'];
         const attributes = [...document.querySelectorAll('*')].flatMap(e =>
           shown.map(a => e.getAttribute(a)).filter(Boolean));
         return [document.title, document.body.innerText,
           ...[...document.querySelectorAll('noscript')].map(n => n.textContent),
           ...attributes].join('\\n');",
    )
    .await;
    words.as_str().unwrap_or_default().to_string()
}

/// index.html as served, without its scripts and comments (code and notes, never shown): its
/// title, description, `<noscript>` text. The start-failure text is in a script, so it is
/// checked on its own.
fn page_words(html: &str) -> String {
    let mut words = String::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        words.push_str(&rest[..at]);
        let (close, from) = if rest[at..].starts_with("<script") {
            ("</script>", at)
        } else if rest[at..].starts_with("<!--") {
            ("-->", at)
        } else {
            (">", at)
        };
        let tag_end = rest[from..]
            .find(close)
            .map_or(rest.len(), |e| from + e + close.len());
        // A tag's attributes may be shown (the description in a search result): keep them.
        if close == ">" {
            words.push_str(&rest[from..tag_end]);
        }
        rest = &rest[tag_end..];
    }
    words.push_str(rest);
    words
}

#[tokio::test]
async fn a_branded_site_shows_its_brand_and_never_the_product_name() {
    let (light, dark, icon) = (logo("#c2410c"), logo("#fb923c"), logo("#7c2d12"));
    let copy = SiteCopy::with(&[
        ("brand.json", BRAND.as_bytes()),
        ("acme-light.svg", &light),
        ("acme-dark.svg", &dark),
        ("acme-icon.svg", &icon),
    ]);
    let session = Session::open_on(Site::serve(&copy.dir)).await;
    let client = &session.client;
    wait_for(client, APP_MOUNTED, DEADLINE).await;

    // The title, the header's name and logo (the light one: the browser's scheme is light),
    // the favicon, the colour tokens and the footer.
    assert_eq!(client.title().await.expect("a title"), "Acme Quality");
    let name = wait_for(client, "[data-testid=brand-name]", DEADLINE).await;
    assert_eq!(name.text().await.expect("the name"), "Acme Quality");
    let applied = js(
        client,
        &format!(
            "const root = getComputedStyle(document.documentElement);
         const logo = document.querySelector('[data-testid=brand-logo][data-scheme=light]');
         const link = document.querySelector('[data-testid=brand-footer-link]');
         return {{
           accent: root.getPropertyValue('--accent').trim(),
           link_color: getComputedStyle(link).color,
           background: getComputedStyle(document.body).backgroundColor,
           logo: {SHOWN_LOGOS}, logo_width: logo.naturalWidth,
           icon: document.querySelector('link[rel=icon]').href,
           footer: document.querySelector('[data-testid=brand-footer]').innerText,
           footer_link: link.href,
         }};"
        ),
    )
    .await;
    let field = |k: &str| applied[k].as_str().unwrap_or_default().to_string();
    assert_eq!(field("accent"), "#c2410c", "{applied}");
    assert_eq!(field("link_color"), "rgb(194, 65, 12)", "{applied}");
    assert_eq!(field("background"), "rgb(255, 247, 237)", "{applied}");
    let light = serde_json::json!([session.url("acme-light.svg")]);
    assert_eq!(applied["logo"], light, "{applied}");
    assert!(
        applied["logo_width"].as_u64() > Some(0),
        "the logo did not load: {applied}"
    );
    assert_eq!(field("icon"), session.url("acme-icon.svg"), "{applied}");
    assert_eq!(field("footer"), "Acme Quality, support", "{applied}");
    assert_eq!(
        field("footer_link"),
        "https://acme.example/support",
        "{applied}"
    );
    // The dark theme shows the dark logo, and light-dark() gives the background its dark colour.
    click(client, Locator::Css("[aria-label='toggle dark theme']")).await;
    let dark_theme = js(
        client,
        &format!("return [{SHOWN_LOGOS}, getComputedStyle(document.body).backgroundColor];"),
    )
    .await;
    assert_eq!(
        dark_theme,
        serde_json::json!([[session.url("acme-dark.svg")], "rgb(28, 25, 23)"])
    );
    click(client, Locator::Css("[aria-label='toggle dark theme']")).await;

    // A stream with signals, for the exports.
    pause_simulators(client).await;
    let mut csv = String::from("t,barrel_temp\n");
    for i in 0..300u64 {
        let shift = if i >= 240 { 5.0 } else { 0.0 };
        let noise = ((i * 37 % 11) as f64 - 5.0) * 0.4;
        csv += &format!(
            "{},{}\n",
            1_795_000_000_000 + i * 60_000,
            210.0 + shift + noise
        );
    }
    import(client, &temp_csv("acme.csv", &csv)).await;
    assert!(notice(client).await.contains("imported"));
    wait_for(client, "[data-testid=stream-card]", DEADLINE).await;
    let shot = screenshot(client, "brand").await;
    assert!(std::fs::metadata(&shot).expect("the screenshot").len() > 1000);
    let words = visible_words(client).await;
    assert!(
        !names_the_product(words.as_bytes()),
        "the dashboard shows the product's name:\n{words}"
    );

    // The stream view, then its PNG: neither drawn text nor metadata names the product.
    click(
        client,
        Locator::XPath("//article[.//h2[contains(., 'barrel_temp')]]"),
    )
    .await;
    wait_for(client, "[data-testid=download-png]", DEADLINE)
        .await
        .click()
        .await
        .expect("png");
    let words = visible_words(client).await;
    assert!(
        !names_the_product(words.as_bytes()),
        "the stream view shows the product's name:\n{words}"
    );
    let png = downloaded(&session.downloads, ".png").await;
    let bytes = std::fs::read(&png).expect("the PNG");
    assert!(bytes.starts_with(b"\x89PNG"), "{}", png.display());
    assert!(!names_the_product(&bytes), "the PNG names the product");
    let chunks = png_chunks(&bytes);
    assert!(
        chunks
            .iter()
            .all(|c| !["tEXt", "iTXt", "zTXt"].contains(&c.as_str())),
        "the PNG carries text: {chunks:?}"
    );

    // The PDF report: its title, its text and its metadata are the brand's.
    wait_for(client, "[data-testid=report-pdf]", DEADLINE)
        .await
        .click()
        .await
        .expect("pdf");
    let pdf = downloaded(&session.downloads, ".pdf").await;
    assert_eq!(
        pdf.file_name().and_then(|n| n.to_str()),
        Some("acme-quality-report.pdf")
    );
    let shots = root().join("target/screenshots");
    std::fs::copy(&pdf, shots.join("brand-report.pdf")).expect("keep the PDF");
    let raw = std::fs::read(&pdf).expect("the PDF");
    assert!(!names_the_product(&raw), "the PDF's bytes name the product");
    let pdf = pdf.to_string_lossy().into_owned();
    let text = poppler("pdftotext", &["-layout", &pdf, "-"]);
    assert!(text.contains("Acme process report"), "{text}");
    assert!(text.contains("acme/barrel_temp"), "{text}");
    assert!(!names_the_product(text.as_bytes()), "{text}");
    let info = poppler("pdfinfo", &[&pdf]);
    let line = |key: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().to_string())
    };
    assert_eq!(
        line("Title:").as_deref(),
        Some("Acme process report"),
        "{info}"
    );
    assert_eq!(line("Producer:").as_deref(), Some("Acme Quality"), "{info}");
    assert!(!names_the_product(info.as_bytes()), "{info}");

    // The session's download is named for the brand too.
    click(client, Locator::XPath("//button[. = 'Export session']")).await;
    downloaded(&session.downloads, "acme-quality-session.json").await;

    // index.html itself, before brand.json can be read: no product name in what it shows.
    let html = js(client, "return fetch('index.html').then(r => r.text());").await;
    let html = html.as_str().unwrap_or_default();
    let shown = page_words(html);
    assert!(shown.contains("<title>"), "{shown}");
    assert!(
        !names_the_product(shown.as_bytes()),
        "index.html shows:\n{shown}"
    );
    assert!(
        html.contains("\"The dashboard could not start: \""),
        "{html}"
    );

    let errors = console_errors(client).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    session.close().await;
}

/// A PNG's chunk types, in order.
fn png_chunks(bytes: &[u8]) -> Vec<String> {
    let mut types = Vec::new();
    let mut at = 8;
    while at + 8 <= bytes.len() {
        let length = u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes")) as usize;
        types.push(String::from_utf8_lossy(&bytes[at + 4..at + 8]).into_owned());
        at += 12 + length;
    }
    types
}

#[tokio::test]
async fn a_bad_brand_json_is_named_key_by_key_and_the_rest_applies() {
    let copy = SiteCopy::with(&[(
        "brand.json",
        br##"{"name": "Acme Quality", "logo": "acme.svg", "footer_link": "javascript:alert(1)",
             "colors": {"accent": "bluish", "surface": "#ffedd5", "brand": "#000"}}"##,
    )]);
    let session = Session::open_on(Site::serve(&copy.dir)).await;
    let client = &session.client;
    let said = notice(client).await;
    for needed in [
        "brand.json: ",
        "\"logo\" is not a key of brand.json",
        "\"footer_link\" may not be a javascript: URL",
        "\"colors.accent\" is not a CSS colour: \"bluish\"",
        "\"colors.brand\" is not a colour token",
        "The rest of the brand applies.",
    ] {
        assert!(
            said.contains(needed),
            "{needed:?} not in the notice: {said}"
        );
    }
    // The good values apply; the bad ones do not.
    assert_eq!(client.title().await.expect("a title"), "Acme Quality");
    let applied = js(
        client,
        "const root = getComputedStyle(document.documentElement);
         const footer = document.querySelector('[data-testid=brand-footer]');
         return [root.getPropertyValue('--surface').trim(), root.getPropertyValue('--accent').trim(),
                 footer.innerText, getComputedStyle(footer).display];",
    )
    .await;
    assert_eq!(
        applied,
        serde_json::json!(["#ffedd5", "#1f4fd1", "", "none"])
    );
    // And the page works: the simulators fill cards, and a stream opens.
    wait_for(client, "[data-testid=stream-card]", DEADLINE).await;
    click(client, Locator::Css("[data-testid=stream-card]")).await;
    wait_for(client, "[data-testid=download-png]", DEADLINE).await;
    assert!(count(client, "[data-testid=stream-card]").await == 0);
    let errors = console_errors(client).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    session.close().await;
}
