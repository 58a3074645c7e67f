//! The dashboard's static site (`[server] site`), served from memory: every file is read once
//! at startup; its gzip and brotli forms are made once, on first request, and kept.
//!
//! - Encoding: negotiated by `Accept-Encoding` (RFC 9110 §12.5.3): brotli, else gzip, else the
//!   file as is; `Vary: Accept-Encoding`. A form is only offered for types that compress (text,
//!   JavaScript, JSON, SVG, wasm) and only when it is smaller.
//! - Caching: a file whose name carries a content hash (`app.3f9a2c1b.css`,
//!   `llmscope-3f9a2c1b7d.js`: 8 or more hex digits between `.`/`-` and the extension, as
//!   `cargo xtask site` names the dashboard's `pkg/` files) never
//!   changes, so it is `public, max-age=31536000, immutable`; every other file (`index.html`
//!   first) is `no-cache`: revalidated each time with its strong `ETag` (one per encoding), and
//!   answered `304 Not Modified` when unchanged.
//!
//! Only GET and HEAD; a path names a file of the folder or nothing (`/` and `dir/` mean their
//! `index.html`), so nothing outside the folder can be reached.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;

/// Brotli quality: 9 of 11 compresses a 300 KB site in well under a second, within a few
/// percent of the best.
const BROTLI_QUALITY: u32 = 9;
/// Brotli window, log2 bytes.
const BROTLI_WINDOW: u32 = 22;

/// The files of the site, by URL path without the leading `/`.
pub struct Site {
    files: HashMap<String, Asset>,
}

/// One file and its encoded forms.
struct Asset {
    mime: &'static str,
    body: Vec<u8>,
    /// The content's hash, the ETag's stem.
    hash: String,
    immutable: bool,
    compressible: bool,
    gzip: OnceLock<Option<Vec<u8>>>,
    brotli: OnceLock<Option<Vec<u8>>>,
}

/// A content coding the server can send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Coding {
    Brotli,
    Gzip,
    Identity,
}

impl Site {
    /// Reads every file under `dir`.
    pub fn load(dir: &Path) -> std::io::Result<Site> {
        let mut files = HashMap::new();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(folder) = pending.pop() {
            for entry in std::fs::read_dir(&folder)? {
                let path = entry?.path();
                if path.is_dir() {
                    pending.push(path);
                    continue;
                }
                let Ok(relative) = path.strip_prefix(dir) else {
                    continue;
                };
                let parts: Vec<String> = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                files.insert(parts.join("/"), Asset::new(std::fs::read(&path)?, &parts));
            }
        }
        Ok(Site { files })
    }

    /// The answer to `method path` with the request's `headers`.
    pub fn respond(&self, method: &Method, path: &str, headers: &HeaderMap) -> Response {
        if method != Method::GET && method != Method::HEAD {
            return status(StatusCode::METHOD_NOT_ALLOWED);
        }
        let mut key = path.trim_start_matches('/').to_string();
        if key.is_empty() || key.ends_with('/') {
            key.push_str("index.html");
        }
        let Some(asset) = self.files.get(&key) else {
            return status(StatusCode::NOT_FOUND);
        };
        let coding = asset.coding(headers);
        let etag = asset.etag(coding);
        let mut response = if matches(headers, &etag) {
            status(StatusCode::NOT_MODIFIED)
        } else {
            let mut r = Response::new(Body::from(asset.body_for(coding).to_vec()));
            set(&mut r, header::CONTENT_TYPE, asset.mime);
            match coding {
                Coding::Brotli => set(&mut r, header::CONTENT_ENCODING, "br"),
                Coding::Gzip => set(&mut r, header::CONTENT_ENCODING, "gzip"),
                Coding::Identity => {}
            }
            r
        };
        let cache = if asset.immutable {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        set(&mut response, header::CACHE_CONTROL, cache);
        set(&mut response, header::VARY, "Accept-Encoding");
        if let Ok(v) = HeaderValue::from_str(&etag) {
            response.headers_mut().insert(header::ETAG, v);
        }
        response
    }
}

impl Asset {
    fn new(body: Vec<u8>, parts: &[String]) -> Asset {
        let name = parts.last().map_or("", String::as_str);
        let extension = name.rsplit_once('.').map_or("", |(_, e)| e);
        let (mime, compressible) = mime(extension);
        let hash: String = Sha256::digest(&body)[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Asset {
            mime,
            hash,
            immutable: is_hashed(name),
            compressible,
            body,
            gzip: OnceLock::new(),
            brotli: OnceLock::new(),
        }
    }

    /// The best coding both sides accept.
    fn coding(&self, headers: &HeaderMap) -> Coding {
        if !self.compressible {
            return Coding::Identity;
        }
        let accepted = accepted_codings(headers);
        if accepted.contains(&Coding::Brotli) && self.encoded(Coding::Brotli).is_some() {
            Coding::Brotli
        } else if accepted.contains(&Coding::Gzip) && self.encoded(Coding::Gzip).is_some() {
            Coding::Gzip
        } else {
            Coding::Identity
        }
    }

    /// The encoded form, made on first use; None when it would not be smaller.
    fn encoded(&self, coding: Coding) -> Option<&[u8]> {
        let (cell, make): (_, Encoder) = match coding {
            Coding::Brotli => (&self.brotli, brotli_of),
            Coding::Gzip => (&self.gzip, gzip_of),
            Coding::Identity => return Some(&self.body),
        };
        cell.get_or_init(|| make(&self.body).ok().filter(|e| e.len() < self.body.len()))
            .as_deref()
    }

    fn body_for(&self, coding: Coding) -> &[u8] {
        self.encoded(coding).unwrap_or(&self.body)
    }

    /// A strong ETag per representation (RFC 9110 §8.8.3: each encoding is its own).
    fn etag(&self, coding: Coding) -> String {
        match coding {
            Coding::Brotli => format!("\"{}-br\"", self.hash),
            Coding::Gzip => format!("\"{}-gz\"", self.hash),
            Coding::Identity => format!("\"{}\"", self.hash),
        }
    }
}

/// Makes one encoded form.
type Encoder = fn(&[u8]) -> std::io::Result<Vec<u8>>;

fn gzip_of(body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(body)?;
    encoder.finish()
}

fn brotli_of(body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut writer =
            brotli::CompressorWriter::new(&mut out, 4096, BROTLI_QUALITY, BROTLI_WINDOW);
        writer.write_all(body)?;
    }
    Ok(out)
}

/// The codings `Accept-Encoding` allows (q above 0); `*` allows both.
fn accepted_codings(headers: &HeaderMap) -> Vec<Coding> {
    let mut out = Vec::new();
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(text) = value.to_str() else { continue };
        for item in text.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            if refused {
                continue;
            }
            match name.as_str() {
                "br" => out.push(Coding::Brotli),
                "gzip" | "x-gzip" => out.push(Coding::Gzip),
                "*" => out.extend([Coding::Brotli, Coding::Gzip]),
                _ => {}
            }
        }
    }
    out
}

/// True when `If-None-Match` names `etag` (or is `*`).
fn matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

/// `name.<8+ hex>.ext` or `name-<8+ hex>.ext`.
fn is_hashed(name: &str) -> bool {
    let Some((stem, _)) = name.rsplit_once('.') else {
        return false;
    };
    let hash = stem.rsplit(['.', '-']).next().unwrap_or("");
    hash.len() >= 8 && hash.len() < stem.len() && hash.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The Content-Type of an extension, and whether it compresses.
fn mime(extension: &str) -> (&'static str, bool) {
    match extension.to_ascii_lowercase().as_str() {
        "html" | "htm" => ("text/html; charset=utf-8", true),
        "js" | "mjs" => ("text/javascript; charset=utf-8", true),
        "css" => ("text/css; charset=utf-8", true),
        "json" | "map" => ("application/json", true),
        "svg" => ("image/svg+xml", true),
        "wasm" => ("application/wasm", true),
        "txt" | "md" => ("text/plain; charset=utf-8", true),
        "ico" => ("image/x-icon", true),
        "woff2" => ("font/woff2", false),
        "woff" => ("font/woff", false),
        "ttf" => ("font/ttf", true),
        "png" => ("image/png", false),
        "jpg" | "jpeg" => ("image/jpeg", false),
        _ => ("application/octet-stream", false),
    }
}

fn status(code: StatusCode) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = code;
    r
}

fn set(r: &mut Response, name: header::HeaderName, value: &'static str) {
    r.headers_mut()
        .insert(name, HeaderValue::from_static(value));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_and_codings() {
        assert!(is_hashed("app.3f9a2c1b.css"));
        assert!(is_hashed("llmscope-3f9a2c1b7d.js"));
        // The names `cargo xtask site` gives (xtask/src/site.rs `hashed_name`).
        assert!(is_hashed("llmscope_bg-3f9a2c1b7d.wasm"));
        assert!(is_hashed("app-e3b0c44298.css"));
        assert!(!is_hashed("index.html"));
        assert!(!is_hashed("llmscope_bg.wasm"));
        assert!(
            !is_hashed("deadbeef.js"),
            "the whole stem is no hash of a name"
        );
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            "gzip, deflate, br;q=0".parse().unwrap(),
        );
        assert_eq!(accepted_codings(&h), [Coding::Gzip]);
        h.insert(header::ACCEPT_ENCODING, "BR;q=0.5, *".parse().unwrap());
        assert_eq!(
            accepted_codings(&h),
            [Coding::Brotli, Coding::Brotli, Coding::Gzip]
        );
    }
}
