//! Repository hygiene, written as ordinary tests (rust-analyzer's `tidy.rs`): they run with
//! `cargo test --workspace`.

#[cfg(test)]
mod tests {
    use crate::util::root;
    use std::path::{Path, PathBuf};

    /// Library crates whose public items must all be documented.
    const LIBRARIES: [&str; 7] = [
        "spc-wasm",
        "protocol",
        "gateway-shim",
        "workers",
        "app",
        "app/lazy",
        "app/fleet",
    ];

    /// Non-test lines a source file may hold before it should be split.
    const LINE_BUDGET: usize = 700;

    /// Files allowed past the budget, each with the reason it stays whole.
    const OVER_BUDGET: [(&str, &str); 0] = [];

    fn read(path: &Path) -> String {
        std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    }

    /// The workspace members, as Cargo.toml lists them.
    fn members() -> Vec<String> {
        let manifest = read(&root().join("Cargo.toml"));
        let line = manifest
            .lines()
            .find(|l| l.trim_start().starts_with("members"))
            .expect("Cargo.toml lists the workspace members on one line");
        let members: Vec<String> = line
            .split('"')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect();
        assert!(members.len() > 5, "found only {members:?} in {line}");
        members
    }

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// Every `.rs` file under a member's `src/`.
    fn sources() -> Vec<PathBuf> {
        let mut files = Vec::new();
        for member in members() {
            rust_files(&root().join(member).join("src"), &mut files);
        }
        assert!(files.len() > 50, "found only {} source files", files.len());
        files
    }

    /// Every module, and so every `src/` folder's `mod.rs`, opens with a `//!` doc that says what
    /// it is for.
    #[test]
    fn every_module_has_a_doc_comment() {
        let missing: Vec<_> = sources()
            .into_iter()
            .filter(|f| !read(f).trim_start().starts_with("//!"))
            .collect();
        assert!(missing.is_empty(), "modules without a //! doc: {missing:?}");
    }

    /// A folder under `src/` is a module with its own doc: `mod.rs` or a sibling `<folder>.rs`.
    #[test]
    fn every_source_folder_is_a_documented_module() {
        let mut folders = Vec::new();
        for f in sources() {
            let dir = f
                .parent()
                .expect("a source file sits in a folder")
                .to_path_buf();
            if dir.file_name().is_some_and(|n| n != "src") && !folders.contains(&dir) {
                folders.push(dir);
            }
        }
        assert!(!folders.is_empty(), "found no source folders");
        let missing: Vec<_> = folders
            .iter()
            .filter(|d| !d.join("mod.rs").is_file() && !d.with_extension("rs").is_file())
            .collect();
        assert!(
            missing.is_empty(),
            "folders without a module file: {missing:?}"
        );
    }

    /// The product's library crates deny undocumented public items.
    #[test]
    fn libraries_deny_missing_docs() {
        let missing: Vec<_> = LIBRARIES
            .iter()
            .filter(|lib| {
                !read(&root().join(lib).join("src/lib.rs")).contains("#![deny(missing_docs)]")
            })
            .collect();
        assert!(
            missing.is_empty(),
            "lib.rs without #![deny(missing_docs)]: {missing:?}"
        );
    }

    /// Lines before a file's unit tests (`#[cfg(test)]`, other attributes, then `mod`).
    fn code_lines(text: &str) -> usize {
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        let opens_tests = |i: usize| {
            lines[i] == "#[cfg(test)]"
                && lines[i + 1..]
                    .iter()
                    .find(|l| !l.starts_with("#["))
                    .is_some_and(|l| l.starts_with("mod "))
        };
        (0..lines.len())
            .find(|&i| opens_tests(i))
            .unwrap_or(lines.len())
    }

    #[test]
    fn code_lines_stop_at_the_unit_tests() {
        assert_eq!(code_lines("a\nb\n#[cfg(test)]\nmod tests {\n}\n"), 2);
        assert_eq!(
            code_lines("a\n#[cfg(test)]\n#[allow(x)]\nmod tests {}\n"),
            1
        );
        assert_eq!(code_lines("a\n#[cfg(test)]\nfn helper() {}\nb\n"), 4);
    }

    /// No source file grows past the budget unless the allowlist says why.
    #[test]
    fn files_stay_within_the_line_budget() {
        let root = root();
        let mut over = Vec::new();
        for f in sources() {
            let name = f
                .strip_prefix(&root)
                .unwrap_or(&f)
                .to_string_lossy()
                .into_owned();
            let n = code_lines(&read(&f));
            let allowed = OVER_BUDGET.iter().any(|(path, _)| *path == name);
            if n > LINE_BUDGET && !allowed {
                over.push(format!("{name}: {n} lines"));
            }
        }
        assert!(
            over.is_empty(),
            "over {LINE_BUDGET} lines of non-test code (split by job, or add to OVER_BUDGET with why): {over:?}"
        );
    }

    /// The README names the two commands, and CI runs the test one.
    #[test]
    fn readme_and_ci_agree() {
        let readme = read(&root().join("README.md"));
        let ci = read(&root().join(".ci/run"));
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
        assert!(files.len() > 10, "found only {} engine files", files.len());
        for f in files {
            let text = read(&f);
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
