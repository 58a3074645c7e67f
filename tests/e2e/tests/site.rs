//! The site in a real browser: it loads from the shim, the app mounts without a console error,
//! everything comes from 127.0.0.1, the assets are served as they should be, and the hashed
//! ones are cached for good while the page is revalidated.

use llmscope_e2e::{
    built_assets, console_errors, resource_urls, screenshot, wait_for, Session, Site, APP_MOUNTED,
    DEADLINE,
};

#[tokio::test]
async fn the_app_mounts_without_console_errors() {
    let session = Session::open().await;
    let client = &session.client;
    let app = wait_for(client, APP_MOUNTED, DEADLINE).await;
    let text = app.text().await.expect("the app's text");
    assert!(
        text.contains("LLMscope"),
        "the app shows no title: {text:?}"
    );
    assert_eq!(client.title().await.expect("a title"), "LLMscope");
    // Give late failures (a rejected promise, a failed fetch) a moment to reach the log.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let errors = console_errors(client).await;
    let shot = screenshot(client, "home").await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    assert!(std::fs::metadata(&shot).expect("the screenshot").len() > 1000);
    session.close().await;
}

#[tokio::test]
async fn nothing_is_requested_from_outside_127_0_0_1() {
    let session = Session::open().await;
    let client = &session.client;
    // One simulated point a minute: no stream reaches the 10 points a card's forecast needs
    // (made in the second module) while this test looks, so nothing here needs the module.
    client
        .goto(&session.url("?tick=60000"))
        .await
        .expect("open with slow simulators");
    wait_for(client, APP_MOUNTED, DEADLINE).await;
    let urls = resource_urls(client).await;
    let own = format!("http://127.0.0.1:{}/", session.site.port);
    // The favicon is left out: Chromium fetches it lazily, outside resource timing (the next test
    // checks it is served). The second module (`pkg/llmscope_lazy…`, the PDF writer) is loaded
    // on first use only: a page whose streams are too short to forecast never downloads it. The
    // third (`pkg/llmscope_fleet…` and its worker) only for a broker source.
    for asset in built_assets() {
        let loaded = urls.iter().any(|u| u == &session.url(&asset));
        let on_first_use = [
            "pkg/llmscope_lazy",
            "pkg/llmscope_fleet",
            "pkg/fleet-worker",
        ];
        if on_first_use.iter().any(|p| asset.starts_with(p)) {
            assert!(!loaded, "{asset} was loaded before it was needed");
        } else {
            assert!(loaded, "{asset} was not loaded; loaded: {urls:#?}");
        }
    }
    let outside: Vec<_> = urls.iter().filter(|u| !u.starts_with(&own)).collect();
    assert!(outside.is_empty(), "requested from elsewhere: {outside:#?}");
    // And nothing in the document points elsewhere (fonts, scripts, styles, images).
    let links = client
        .execute(
            "return [...document.querySelectorAll('[src],[href]')]
               .map(e => e.src || e.href)
               .filter(u => !u.startsWith(location.origin + '/'));",
            vec![],
        )
        .await
        .expect("the document's links");
    assert_eq!(links, serde_json::json!([]), "links to elsewhere");
    session.close().await;
}

#[tokio::test]
async fn the_assets_are_served_with_their_types_and_the_themes_apply() {
    let session = Session::open().await;
    let client = &session.client;
    wait_for(client, APP_MOUNTED, DEADLINE).await;
    let mut paths = built_assets();
    paths.extend(["app.css", "favicon.svg", "index.html"].map(String::from));
    let types = client
        .execute_async(
            "const [paths, done] = arguments;
             Promise.all(paths
               .map(p => fetch(p).then(r => [p, r.status, r.headers.get('content-type')])))
               .then(done, e => done(String(e)));",
            vec![serde_json::json!(paths)],
        )
        .await
        .expect("the assets' types");
    let types: Vec<(String, u16, String)> =
        serde_json::from_value(types.clone()).unwrap_or_else(|_| panic!("fetches: {types}"));
    for (path, status, kind) in types {
        assert_eq!(status, 200, "{path}");
        let expected = match path.rsplit('.').next() {
            Some("wasm") => "application/wasm",
            Some("js") => "text/javascript",
            Some("css") => "text/css",
            Some("svg") => "image/svg+xml",
            _ => "text/html",
        };
        assert!(
            kind.starts_with(expected),
            "{path} is served as {kind}, not {expected}"
        );
    }
    // [data-theme] overrides the system's preference both ways.
    let backgrounds = client
        .execute(
            "const bg = () => getComputedStyle(document.body).backgroundColor;
             const root = document.documentElement;
             root.dataset.theme = 'light'; const light = bg();
             root.dataset.theme = 'dark'; const dark = bg();
             delete root.dataset.theme;
             return [light, dark];",
            vec![],
        )
        .await
        .expect("the theme colours");
    let brightness = |i: usize| -> u32 {
        let rgb = backgrounds[i].as_str().unwrap_or_default();
        rgb.trim_start_matches("rgb(")
            .trim_end_matches(')')
            .split(',')
            .filter_map(|c| c.trim().parse::<u32>().ok())
            .sum()
    };
    assert!(
        brightness(0) > 600 && brightness(1) < 150,
        "light and dark backgrounds: {backgrounds}"
    );
    let errors = console_errors(client).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    session.close().await;
}

/// The quoted names in `text` that begin with `start` (a quote, then the name's start), as
/// paths on the site: index.html's `"./pkg/…"` (its scripts and stylesheet), or a script's
/// `'llmscope_bg-…'` (its wasm).
fn references(text: &str, start: &str) -> Vec<String> {
    let quote = &start[..1];
    text.match_indices(start)
        .filter_map(|(at, _)| text[at + 1..].split(quote).next())
        .map(|name| {
            let name = name.trim_start_matches("./pkg/").trim_start_matches("./");
            format!("pkg/{name}")
        })
        .collect()
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_the_page_is_revalidated() {
    let site = Site::start();
    let http = reqwest::Client::new();
    let get = |path: &str| {
        let url = format!("{}{path}", site.url);
        let request = http.get(&url).send();
        async move {
            let response = request.await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
            assert_eq!(response.status(), 200, "GET {url}");
            let cache = response
                .headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let body = response.text().await.unwrap_or_default();
            (cache, body)
        }
    };
    let (page_cache, page) = get("index.html").await;
    for (path, cache) in [("index.html", page_cache), ("", get("").await.0)] {
        assert_eq!(cache, "no-cache", "/{path} must be revalidated");
    }
    for path in ["app.css", "favicon.svg", "fonts/LiberationSans-Regular.ttf"] {
        assert_eq!(get(path).await.0, "no-cache", "{path} keeps its name");
    }

    // Follow the page's links: its script, the second module's script (imported on first use),
    // the broker source's worker script and the stylesheet; then the worker's module script, and
    // each module script's wasm.
    let mut linked = references(&page, "\"./pkg/");
    assert_eq!(
        linked.len(),
        4,
        "index.html links a script, the second module's, the fleet worker and a stylesheet: {page}"
    );
    let mut scripts: Vec<String> = linked
        .iter()
        .filter(|p| p.ends_with(".js"))
        .cloned()
        .collect();
    assert_eq!(scripts.len(), 3, "index.html names three scripts: {page}");
    while let Some(script) = scripts.pop() {
        let (_, body) = get(&script).await;
        let named = if script.starts_with("pkg/fleet-worker") {
            let module = references(&body, "\"./llmscope_fleet-");
            scripts.extend(module.iter().cloned());
            module
        } else if script.starts_with("pkg/llmscope_lazy") {
            references(&body, "'llmscope_lazy_bg-")
        } else if script.starts_with("pkg/llmscope_fleet") {
            references(&body, "'llmscope_fleet_bg-")
        } else {
            references(&body, "'llmscope_bg-")
        };
        assert!(!named.is_empty(), "{script} names no file of its own");
        linked.extend(named);
    }
    linked.sort();
    assert_eq!(
        linked,
        built_assets(),
        "the page and its script name exactly the files in static/pkg (none stale, none missing)"
    );
    for path in &linked {
        let name = path.trim_start_matches("pkg/");
        let (stem, _) = name.rsplit_once('.').expect("a name with an extension");
        let hash = stem.rsplit('-').next().unwrap_or_default();
        assert!(
            hash.len() == 10 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
            "{path} carries no content hash"
        );
        let (cache, _) = get(path).await;
        assert_eq!(cache, "public, max-age=31536000, immutable", "{path}");
    }
}

#[tokio::test]
async fn a_second_browser_has_its_own_fresh_profile() {
    let session = Session::open().await;
    wait_for(&session.client, APP_MOUNTED, DEADLINE).await;
    session
        .client
        .execute("localStorage.setItem('e2e-probe', 'first');", vec![])
        .await
        .expect("localStorage in the first browser");
    let second = session.second_browser().await;
    wait_for(&second, APP_MOUNTED, DEADLINE).await;
    let seen = second
        .execute("return localStorage.getItem('e2e-probe');", vec![])
        .await
        .expect("localStorage in the second browser");
    assert_eq!(seen, serde_json::Value::Null, "the profiles share storage");
    let errors = console_errors(&second).await;
    assert!(
        errors.is_empty(),
        "console errors in the second browser: {errors:#?}"
    );
    let _ = second.close().await;
    session.close().await;
}
