//! Exports end to end, in headless Chromium: the chart as a presentation PNG, the PDF report
//! read back with poppler's `pdftotext` and `pdffonts`, and the session JSON round trip.

use fantoccini::Locator;
use llmscope_e2e::{
    click, console_errors, count, downloaded, import, notice, pause_simulators, poppler,
    resource_urls, root, temp_csv, wait_for, Session, DEADLINE,
};
use std::time::Duration;

/// The site's CJK fallback font, fetched only for a report that needs it.
const CJK_FONT: &str = "fonts/DroidSansFallbackFull.ttf";

/// A font as `pdffonts` lists it.
#[derive(Debug)]
struct EmbeddedFont {
    name: String,
    kind: String,
    encoding: String,
    /// Embedded, a subset, with a ToUnicode map: `yes` or `no` each.
    emb: String,
    sub: String,
    uni: String,
}

/// The fonts of a PDF, from `pdffonts` (name, type, encoding, emb, sub, uni, object, generation;
/// the type may hold spaces).
fn embedded_fonts(pdf: &str) -> Vec<EmbeddedFont> {
    poppler("pdffonts", &[pdf])
        .lines()
        .skip(2)
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let n = words.len();
            assert!(n >= 8, "a pdffonts line: {line:?}");
            EmbeddedFont {
                name: words[0].into(),
                kind: words[1..n - 6].join(" "),
                encoding: words[n - 6].into(),
                emb: words[n - 5].into(),
                sub: words[n - 4].into(),
                uni: words[n - 3].into(),
            }
        })
        .collect()
}

/// A subset of `family` (its name is `ABCDEF+family`), a CID TrueType font, embedded, with a
/// ToUnicode map, so its text copies out as written.
fn assert_subset_with_unicode(font: &EmbeddedFont, family: &str) {
    let (tag, name) = font.name.split_once('+').unwrap_or(("", &font.name));
    assert!(
        tag.len() == 6 && tag.bytes().all(|b| b.is_ascii_uppercase()) && name == family,
        "{font:?}"
    );
    assert_eq!(
        (font.kind.as_str(), font.encoding.as_str()),
        ("CID TrueType", "Identity-H"),
        "{font:?}"
    );
    assert_eq!(
        (font.emb.as_str(), font.sub.as_str(), font.uni.as_str()),
        ("yes", "yes", "yes"),
        "{font:?}"
    );
}

#[tokio::test]
async fn png_pdf_and_json_exports_hold_what_the_screen_shows() {
    let session = Session::open().await;
    let client = &session.client;
    pause_simulators(client).await;
    let mut csv = String::from("t,barrel_temp\n");
    for i in 0..300 {
        let shift = if i >= 240 { 5.0 } else { 0.0 };
        csv += &format!(
            "{},{}\n",
            1_795_000_000_000u64 + i * 60_000,
            210.0 + shift + ((i * 37 % 11) as f64 - 5.0) * 0.4
        );
    }
    import(client, &temp_csv("exports.csv", &csv)).await;
    assert!(notice(client).await.contains("imported"));
    click(
        client,
        Locator::XPath("//article[.//h2[contains(., 'barrel_temp')]]"),
    )
    .await;
    let center = wait_for(client, "[data-testid=center]", DEADLINE)
        .await
        .text()
        .await
        .expect("center");
    let points = count(client, "[data-testid=signal-row]").await;
    assert!(points > 0, "the shift raised signals");

    // PNG: presentation size, and not blank.
    wait_for(client, "[data-testid=download-png]", DEADLINE)
        .await
        .click()
        .await
        .expect("png");
    let png = downloaded(&session.downloads, ".png").await;
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png).expect("png"),
    ));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut pixels).expect("decode");
    assert_eq!(
        (info.width, info.height),
        (1920, 1080),
        "the presentation size"
    );
    let colors: std::collections::HashSet<&[u8]> = pixels.chunks(4).collect();
    assert!(colors.len() > 20, "only {} colors: blank?", colors.len());
    let shots = root().join("target/screenshots");
    std::fs::create_dir_all(&shots).expect("target/screenshots");
    std::fs::copy(&png, shots.join("export.png")).expect("keep the PNG");

    // PDF: the stream, its limits and its signals, with the font embedded.
    wait_for(client, "[data-testid=report-pdf]", DEADLINE)
        .await
        .click()
        .await
        .expect("pdf");
    let pdf = downloaded(&session.downloads, ".pdf").await;
    let kept = shots.join("report.pdf");
    std::fs::copy(&pdf, &kept).expect("keep the PDF");
    println!(
        "report PDF: {} bytes",
        std::fs::metadata(&kept).expect("the PDF").len()
    );
    let pdf = pdf.to_string_lossy().into_owned();
    let text = poppler("pdftotext", &["-layout", &pdf, "-"]);
    for needed in [
        "LLMscope report",
        "exports/barrel_temp",
        &center,
        "UCL",
        "Phase I",
        "Tests in use",
    ] {
        assert!(
            text.contains(needed),
            "the report lacks {needed:?}:\n{text}"
        );
    }
    assert!(
        text.contains(&format!("at {points} points")),
        "signal count {points} not in:\n{text}"
    );
    // One font, a subset with a ToUnicode map; the CJK fallback was not even fetched.
    let fonts = embedded_fonts(&pdf);
    assert_eq!(fonts.len(), 1, "{fonts:?}");
    assert_subset_with_unicode(&fonts[0], "LiberationSans");
    let fetched = resource_urls(client).await;
    assert!(
        !fetched.iter().any(|u| u.ends_with(CJK_FONT)),
        "{fetched:#?}"
    );
    poppler(
        "pdftoppm",
        &[
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "2",
            &pdf,
            &shots.join("report").to_string_lossy(),
        ],
    );
    assert!(shots.join("report-1.png").exists() || shots.join("report-01.png").exists());

    // JSON: export, clear, import: the same session.
    click(client, Locator::XPath("//button[. = 'Export session']")).await;
    let first = downloaded(&session.downloads, "llmscope-session.json").await;
    let exported = std::fs::read_to_string(&first).expect("json");
    std::fs::remove_file(&first).expect("move it aside");
    click(client, Locator::XPath("//button[. = 'Clear…']")).await;
    client.accept_alert().await.expect("confirm");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(count(client, "[data-testid=stream-card]").await, 0);
    let again = temp_csv("roundtrip.json", &exported);
    import(client, &again).await;
    notice(client).await;
    wait_for(client, "[data-testid=stream-card]", DEADLINE).await;
    click(client, Locator::XPath("//button[. = 'Export session']")).await;
    let second = downloaded(&session.downloads, "llmscope-session.json").await;
    assert_eq!(
        std::fs::read_to_string(second).expect("json"),
        exported,
        "the same session after the round trip"
    );
    let errors = console_errors(client).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    session.close().await;
}

/// Stream names in Chinese, Russian and Greek print with their own glyphs and copy out of the
/// report as written: the CJK fallback font is fetched for them, and both fonts go in as
/// subsets with ToUnicode maps.
#[tokio::test]
async fn stream_names_in_three_scripts_print_and_copy_out_of_the_report() {
    let session = Session::open().await;
    let client = &session.client;
    pause_simulators(client).await;
    let names = ["温度", "температура", "θερμοκρασία"];
    let mut csv = format!("t,{}\n", names.join(","));
    for i in 0..60u64 {
        let v = |k: u64| 20.0 + ((i * k % 13) as f64 - 6.0) * 0.1;
        csv += &format!(
            "{},{},{},{}\n",
            1_795_000_000_000 + i * 60_000,
            v(5),
            v(7),
            v(11)
        );
    }
    import(client, &temp_csv("scripts.csv", &csv)).await;
    assert!(notice(client).await.contains("imported"));
    wait_for(client, "[data-testid=report-pdf]", DEADLINE)
        .await
        .click()
        .await
        .expect("pdf");
    let pdf = downloaded(&session.downloads, ".pdf").await;
    let shots = root().join("target/screenshots");
    std::fs::create_dir_all(&shots).expect("target/screenshots");
    std::fs::copy(&pdf, shots.join("report-scripts.pdf")).expect("keep the PDF");
    let pdf = pdf.to_string_lossy().into_owned();
    let text = poppler("pdftotext", &["-layout", &pdf, "-"]);
    for name in names {
        // Once in the summary table and once as its section's title.
        let stream = format!("scripts/{name}");
        assert!(
            text.matches(&stream).count() >= 2,
            "the report lacks {stream:?} twice:\n{text}"
        );
    }
    let fonts = embedded_fonts(&pdf);
    assert_eq!(fonts.len(), 2, "{fonts:?}");
    assert_subset_with_unicode(&fonts[0], "LiberationSans");
    assert_subset_with_unicode(&fonts[1], "DroidSansFallback");
    let fetched = resource_urls(client).await;
    assert!(
        fetched.iter().any(|u| u.ends_with(CJK_FONT)),
        "{fetched:#?}"
    );
    let errors = console_errors(client).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    session.close().await;
}

/// The PDF writer is a second module, loaded on the first report: when it cannot be loaded
/// the page says so and keeps running.
#[tokio::test]
async fn a_report_module_that_cannot_load_is_a_message_not_a_crash() {
    let session = Session::open().await;
    let client = &session.client;
    pause_simulators(client).await;
    // As when the network is gone: the page's loader (static/index.template.html) fails.
    llmscope_e2e::js(
        client,
        "window.realLazy = window.llmscopeLazy; window.llmscopeLazy = () => Promise.reject(new TypeError('Failed to fetch dynamically imported module')); return true;",
    )
    .await;
    wait_for(client, "[data-testid=report-pdf]", DEADLINE)
        .await
        .click()
        .await
        .expect("pdf");
    llmscope_e2e::eventually("the report's error", DEADLINE, || async {
        let text = notice(client).await;
        if text.contains("cannot make the report: the report module could not be loaded (Failed to fetch dynamically imported module): check the connection and try again") {
            Ok(())
        } else {
            Err(text)
        }
    })
    .await;
    // The network is back: the next report loads the module and is made.
    llmscope_e2e::js(
        client,
        "window.llmscopeLazy = window.realLazy; return true;",
    )
    .await;
    wait_for(client, "[data-testid=report-pdf]", DEADLINE)
        .await
        .click()
        .await
        .expect("pdf");
    let pdf = downloaded(&session.downloads, ".pdf").await;
    assert!(std::fs::read(&pdf).expect("the PDF").starts_with(b"%PDF-"));
    let errors = console_errors(client).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    session.close().await;
}
