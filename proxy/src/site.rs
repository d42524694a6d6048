//! The SPA's files, held in memory with their validators, content types
//! and coded forms (gzip, brotli, zstd: shipped `.gz`/`.br`/`.zst` siblings
//! where present, the rest compressed once), and swapped whole on reload.
//!
//! The binary reads the files (`edge.static_root`) and hands them over as
//! [`SiteFile`]s; only those are ever served, so no request path can reach
//! anything else.

use std::collections::HashMap;
use std::path::Path;

use bytes::Bytes;

use crate::encoding::{Effort, Variants};

/// Largest total size held, coded forms included; a bigger site is refused.
pub const MAX_TOTAL_BYTES: u64 = 256 * 1024 * 1024;

/// One file as read from the site's directory.
#[derive(Debug, Clone)]
pub struct SiteFile {
    /// Path below the site's root, `/`-separated, without a leading `/` (`assets/x-1a2b.js`).
    pub path: String,
    /// Content.
    pub body: Vec<u8>,
}

/// One file and what is needed to answer for it.
#[derive(Debug, Clone)]
pub struct Asset {
    /// Identity body.
    pub body: Bytes,
    /// Coded forms: shipped siblings, else compressed at load.
    pub variants: Variants,
    /// Strong validator derived from the content (a coded form appends its coding).
    pub etag: String,
    /// MIME type.
    pub content_type: &'static str,
    /// Content-hashed build output: cache forever.
    pub immutable: bool,
}

/// Every file of the site by URL path (`/index.html`, `/assets/x-1a2b.js`).
#[derive(Debug, Default)]
pub struct Site {
    files: HashMap<String, Asset>,
}

/// Why a site was refused.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    /// Too much to hold in memory.
    #[error("the static files hold more than 256 MiB (coded forms included)")]
    TooLarge,
    /// The blocking task building it failed.
    #[error("building the static site failed: {0}")]
    Build(String),
}

/// Extensions of the shipped coded forms, which are siblings, not files of their own.
const SIBLINGS: [&str; 3] = ["gz", "br", "zst"];

impl Site {
    /// [`Site::build`] on a blocking thread: compressing a build takes a
    /// while, and connections go on meanwhile.
    pub async fn build_async(files: Vec<SiteFile>) -> Result<Self, SiteError> {
        tokio::task::spawn_blocking(move || Self::build(files))
            .await
            .unwrap_or_else(|err| Err(SiteError::Build(err.to_string())))
    }

    /// Pairs each file with its shipped coded siblings and makes the missing forms.
    pub fn build(files: Vec<SiteFile>) -> Result<Self, SiteError> {
        let mut by_path: HashMap<String, Vec<u8>> =
            files.into_iter().map(|f| (f.path, f.body)).collect();
        let is_sibling = |path: &str| {
            path.rsplit_once('.')
                .is_some_and(|(_, ext)| SIBLINGS.contains(&ext))
        };
        let plain: Vec<String> = by_path.keys().filter(|p| !is_sibling(p)).cloned().collect();
        let mut site = HashMap::new();
        let mut total = 0;
        for path in plain {
            let Some(body) = by_path.remove(&path) else {
                continue;
            };
            let mut sibling = |ext: &str| by_path.remove(&format!("{path}.{ext}")).map(Bytes::from);
            let shipped = Variants {
                gzip: sibling("gz"),
                br: sibling("br"),
                zstd: sibling("zst"),
            };
            total += body.len() as u64;
            if total > MAX_TOTAL_BYTES {
                return Err(SiteError::TooLarge);
            }
            let url = format!("/{path}");
            let immutable = url.starts_with("/assets/");
            let content_type = content_type(Path::new(&path));
            // Compressed once here, at the highest levels: every answer in
            // a coding is then a lookup (about 1.7 ms of CPU per 150 KB
            // gzip answer on the fly before).
            let variants = shipped.complete(&body, content_type, Effort::Max);
            total += variants.bytes() as u64;
            if total > MAX_TOTAL_BYTES {
                return Err(SiteError::TooLarge);
            }
            site.insert(
                url,
                Asset {
                    etag: etag(&body),
                    content_type,
                    variants,
                    body: Bytes::from(body),
                    immutable,
                },
            );
        }
        Ok(Self { files: site })
    }

    /// An empty site (no static files yet): every page is a 404.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether there are no files.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// What to answer for a request path: the file, the SPA's `index.html`
    /// for page-like paths, or nothing (404).
    pub fn lookup(&self, path: &str) -> Option<(&Asset, bool)> {
        let path = if path.is_empty() { "/" } else { path };
        if path.split('/').any(|s| s == ".." || s == ".") || path.contains(['\\', '\0']) {
            return None;
        }
        if let Some(asset) = self.files.get(path) {
            return Some((asset, false));
        }
        if path.ends_with('/')
            && let Some(asset) = self.files.get(&format!("{path}index.html"))
        {
            return Some((asset, false));
        }
        // A missing build file is a real 404; a path without an extension is a page.
        let last = path.rsplit('/').next().unwrap_or_default();
        if path.starts_with("/assets/") || last.contains('.') {
            return None;
        }
        self.files.get("/index.html").map(|asset| (asset, true))
    }
}

/// FNV-1a of the content, quoted: stable across restarts and nodes.
fn etag(body: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in body {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"{hash:016x}-{:x}\"", body.len())
}

fn content_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
    {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" => "text/plain; charset=utf-8",
        "xml" => "application/xml",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::Coding;

    fn site() -> Site {
        let file = |path: &str, body: &str| SiteFile {
            path: path.to_owned(),
            body: body.as_bytes().to_vec(),
        };
        Site::build(vec![
            file("index.html", "<html>app</html>"),
            file("assets/app-1a2b.js", "console.log(1)"),
            file("assets/app-1a2b.js.br", "BR"),
            file("robots.txt", "User-agent: *"),
            file("big.css", &"body { color: red }\n".repeat(100)),
        ])
        .unwrap()
    }

    #[test]
    fn files_pages_and_real_404s() {
        let site = site();
        let (js, fallback) = site.lookup("/assets/app-1a2b.js").unwrap();
        assert!(!fallback && js.immutable);
        assert_eq!(
            js.variants.br.as_deref(),
            Some(&b"BR"[..]),
            "the shipped sibling"
        );
        assert!(js.variants.gzip.is_none(), "14 bytes: not worth coding");
        let (page, _) = site.lookup("/big.css").unwrap();
        for coding in Coding::ALL {
            assert!(
                page.variants
                    .get(coding)
                    .is_some_and(|v| v.len() < page.body.len()),
                "{coding:?} made at load"
            );
        }
        assert_eq!(js.content_type, "text/javascript; charset=utf-8");
        assert_eq!(
            site.lookup("/").unwrap().0.content_type,
            "text/html; charset=utf-8"
        );
        assert!(
            site.lookup("/dashboard/monitors").unwrap().1,
            "pages fall back to index.html"
        );
        assert!(site.lookup("/assets/missing.js").is_none());
        assert!(site.lookup("/missing.png").is_none());
        assert!(
            site.lookup("/assets/app-1a2b.js.br").is_none(),
            "siblings are not files of their own"
        );
        assert!(site.lookup("/../../etc/passwd").is_none());
        assert_eq!(site.len(), 4);
    }

    #[test]
    fn etags_follow_content() {
        assert_eq!(etag(b"a"), etag(b"a"));
        assert_ne!(etag(b"a"), etag(b"b"));
    }
}
