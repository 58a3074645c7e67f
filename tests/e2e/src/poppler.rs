//! Poppler's command-line tools (`pdftotext`, `pdfinfo`, `pdffonts`, `pdftoppm`), which read
//! the exported PDF reports back.

use std::process::Command;

/// Runs `program` with `args` and returns what it printed; fails with its error words.
pub fn poppler(program: &str, args: &[&str]) -> String {
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
