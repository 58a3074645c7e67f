//! Repository hygiene, written as ordinary tests (rust-analyzer's `tidy.rs`): they run with
//! `cargo test --workspace`.

#[cfg(test)]
mod tests {
    use crate::util::root;
    use std::path::{Path, PathBuf};

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if name == "target" || name == "node_modules" || name.to_string_lossy().starts_with('.')
            {
                continue;
            }
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// Every module opens with a `//!` doc that says what it is for.
    #[test]
    fn every_module_has_a_doc_comment() {
        let mut files = Vec::new();
        for dir in [
            "spc-wasm/src",
            "gateway-shim/src",
            "workers/src",
            "tests/standin/src",
            "tests/probes/src",
            "xtask/src",
        ] {
            rust_files(&root().join(dir), &mut files);
        }
        assert!(files.len() > 10, "found only {} files", files.len());
        let missing: Vec<_> = files
            .iter()
            .filter(|f| {
                let text = std::fs::read_to_string(f).unwrap_or_default();
                !text.trim_start().starts_with("//!")
            })
            .collect();
        assert!(missing.is_empty(), "modules without a //! doc: {missing:?}");
    }

    /// The README names the two commands, and CI runs the test one.
    #[test]
    fn readme_and_ci_agree() {
        let readme = std::fs::read_to_string(root().join("README.md")).unwrap_or_default();
        let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap_or_default();
        assert!(
            readme.contains("cargo xtask start"),
            "README lacks the main command"
        );
        assert!(
            readme.contains("cargo xtask test"),
            "README lacks the test command"
        );
        assert!(
            ci.contains("cargo xtask test"),
            ".ci/run must call the README's test command"
        );
    }

    /// The engine does no I/O: it must not name the things that would do it.
    #[test]
    fn engine_does_no_io() {
        let mut files = Vec::new();
        rust_files(&root().join("spc-wasm/src"), &mut files);
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            for banned in [
                "std::fs",
                "std::net",
                "std::io::stdin",
                "println!",
                "std::env",
                "std::time::Instant",
            ] {
                assert!(
                    !text.contains(banned),
                    "{} uses {banned}: the engine does no I/O",
                    f.display()
                );
            }
        }
    }
}
