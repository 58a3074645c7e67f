//! Exports end to end, in headless Chromium: the chart as a presentation PNG, the PDF report
//! read back with poppler's `pdftotext` and `pdffonts`, and the session JSON round trip.

use fantoccini::Locator;
use llmscope_e2e::{
    click, console_errors, count, downloaded, import, js, notice, pause_simulators, root, temp_csv,
    wait_for, Session, DEADLINE,
};
use std::process::Command;
use std::time::Duration;

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("{program}: {e} (poppler-utils; `cargo xtask test` installs it)")
        });
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
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
    assert!(info.width >= 1920, "{} px wide", info.width);
    let colors: std::collections::HashSet<&[u8]> = pixels.chunks(4).collect();
    assert!(colors.len() > 20, "only {} colors: blank?", colors.len());
    std::fs::copy(&png, root().join("target/screenshots/export.png")).expect("keep the PNG");

    // PDF: the stream, its limits and its signals, with the font embedded.
    wait_for(client, "[data-testid=report-pdf]", DEADLINE)
        .await
        .click()
        .await
        .expect("pdf");
    let pdf = downloaded(&session.downloads, ".pdf").await;
    let pdf = pdf.to_string_lossy().into_owned();
    let text = run("pdftotext", &["-layout", &pdf, "-"]);
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
    let fonts = run("pdffonts", &[&pdf]);
    assert!(
        fonts
            .lines()
            .any(|l| l.contains("LiberationSans") && l.contains("TrueType") && l.contains(" yes ")),
        "{fonts}"
    );
    let shots = root().join("target/screenshots");
    run(
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
    assert!(js(client, "return true").await == true);
    let errors = console_errors(client).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    session.close().await;
}
