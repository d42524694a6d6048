//! The SPA's files, loaded into memory with their validators, content types
//! and coded forms (gzip, brotli, zstd: shipped `.gz`/`.br` siblings where
//! present, the rest compressed once at load), and swapped whole on reload.
//!
//! Only files found under the root are ever served, so no request path can
//! reach outside it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::encoding::{Effort, Variants};

/// Largest total size loaded, coded forms included; a bigger tree is refused at load time.
const MAX_TOTAL_BYTES: u64 = 256 * 1024 * 1024;

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
    root: PathBuf,
}

/// Why the site could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    /// The root cannot be read.
    #[error("cannot read static root {path}: {source}")]
    Read {
        /// Path.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// Too much to hold in memory.
    #[error("static root {0} holds more than 256 MiB (coded forms included)")]
    TooLarge(String),
}

impl Site {
    /// Loads every regular file under `root` (symlinks are not followed) on a
    /// blocking thread: compressing a build takes a while, and connections go on meanwhile.
    pub async fn load_async(root: &Path) -> Result<Self, SiteError> {
        let owned = root.to_path_buf();
        tokio::task::spawn_blocking(move || Self::load(&owned))
            .await
            .unwrap_or_else(|err| {
                Err(SiteError::Read {
                    path: root.display().to_string(),
                    source: std::io::Error::other(err.to_string()),
                })
            })
    }

    /// Loads every regular file under `root` (symlinks are not followed).
    pub fn load(root: &Path) -> Result<Self, SiteError> {
        let mut files = HashMap::new();
        let mut total = 0;
        let mut pending = vec![root.to_path_buf()];
        let read_err = |path: &Path, source| SiteError::Read {
            path: path.display().to_string(),
            source,
        };
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).map_err(|e| read_err(&dir, e))? {
                let entry = entry.map_err(|e| read_err(&dir, e))?;
                let kind = entry.file_type().map_err(|e| read_err(&entry.path(), e))?;
                let path = entry.path();
                if kind.is_dir() {
                    pending.push(path);
                    continue;
                }
                if !kind.is_file() {
                    continue;
                }
                let name = path.to_string_lossy();
                if name.ends_with(".br") || name.ends_with(".gz") || name.ends_with(".zst") {
                    continue;
                }
                let body = std::fs::read(&path).map_err(|e| read_err(&path, e))?;
                if total + body.len() as u64 > MAX_TOTAL_BYTES {
                    return Err(SiteError::TooLarge(root.display().to_string()));
                }
                let sibling =
                    |ext: &str| std::fs::read(format!("{name}.{ext}")).ok().map(Bytes::from);
                let relative = path.strip_prefix(root).unwrap_or(&path);
                let url = format!("/{}", relative.to_string_lossy().replace('\\', "/"));
                let immutable = url.starts_with("/assets/");
                let content_type = content_type(&path);
                let shipped = Variants {
                    gzip: sibling("gz"),
                    br: sibling("br"),
                    zstd: sibling("zst"),
                };
                // Compressed once here, at the highest levels: every answer in
                // a coding is then a lookup (about 1.7 ms of CPU per 150 KB
                // gzip answer on the fly before).
                let variants = shipped.complete(&body, content_type, Effort::Max);
                total += (body.len() + variants.bytes()) as u64;
                if total > MAX_TOTAL_BYTES {
                    return Err(SiteError::TooLarge(root.display().to_string()));
                }
                files.insert(
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
        }
        Ok(Self {
            files,
            root: root.to_path_buf(),
        })
    }

    /// An empty site (no static root yet): every page is a 404.
    pub fn empty(root: &Path) -> Self {
        Self {
            files: HashMap::new(),
            root: root.to_path_buf(),
        }
    }

    /// Where it was loaded from.
    pub fn root(&self) -> &Path {
        &self.root
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

    fn site() -> (tempfile::TempDir, Site) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("assets")).unwrap();
        std::fs::write(dir.path().join("index.html"), "<html>app</html>").unwrap();
        std::fs::write(dir.path().join("assets/app-1a2b.js"), "console.log(1)").unwrap();
        std::fs::write(dir.path().join("assets/app-1a2b.js.br"), "BR").unwrap();
        std::fs::write(dir.path().join("robots.txt"), "User-agent: *").unwrap();
        std::fs::write(
            dir.path().join("big.css"),
            "body { color: red }\n".repeat(100),
        )
        .unwrap();
        let site = Site::load(dir.path()).unwrap();
        (dir, site)
    }

    #[test]
    fn files_pages_and_real_404s() {
        let (_dir, site) = site();
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
