//! A copy of the built site with files of its own (a white-label `brand.json` and its logos),
//! so a test serves a deployment's folder without writing into `static/`: a temporary folder
//! under `target/e2e/sites/` holding a symbolic link to every entry of `static/` and the extra
//! files; removed when dropped.

use std::path::{Path, PathBuf};

/// The folder; removed when dropped.
pub struct SiteCopy {
    /// The folder to serve ([`crate::Site::serve`]).
    pub dir: PathBuf,
}

impl SiteCopy {
    /// `static/` with `files` (name, content) beside its `index.html`.
    pub fn with(files: &[(&str, &[u8])]) -> SiteCopy {
        let site = crate::root().join("static");
        let dir = crate::fresh_dir("sites");
        let entries = std::fs::read_dir(&site)
            .unwrap_or_else(|e| panic!("{}: {e}: the site is not built", site.display()));
        for entry in entries {
            let name = entry.expect("an entry of static/").file_name();
            link(&site.join(&name), &dir.join(&name));
        }
        for (name, body) in files {
            let path = dir.join(name);
            let _ = std::fs::remove_file(&path);
            std::fs::write(&path, body).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
        SiteCopy { dir }
    }
}

fn link(from: &Path, to: &Path) {
    std::os::unix::fs::symlink(from, to)
        .unwrap_or_else(|e| panic!("{} -> {}: {e}", to.display(), from.display()));
}

impl Drop for SiteCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
