//! The SPA's build directory (`edge.static_root`) read for the edge, at start
//! and on every reload: the edge itself reads no files.

use std::path::Path;

use proxy::site::{MAX_TOTAL_BYTES, Site, SiteFile};

/// Every regular file under `root` (symlinks are not followed), by its
/// `/`-separated path below `root`; refused past the edge's size limit.
pub fn read(root: &Path) -> Result<Vec<SiteFile>, String> {
    let read_err = |path: &Path, err: std::io::Error| {
        format!("cannot read static root {}: {err}", path.display())
    };
    let mut files = Vec::new();
    let mut total = 0;
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| read_err(&dir, e))? {
            let entry = entry.map_err(|e| read_err(&dir, e))?;
            let path = entry.path();
            let kind = entry.file_type().map_err(|e| read_err(&path, e))?;
            if kind.is_dir() {
                pending.push(path);
                continue;
            }
            if !kind.is_file() {
                continue;
            }
            let body = std::fs::read(&path).map_err(|e| read_err(&path, e))?;
            total += body.len() as u64;
            if total > MAX_TOTAL_BYTES {
                return Err(format!(
                    "static root {} holds more than 256 MiB",
                    root.display()
                ));
            }
            let relative = path.strip_prefix(root).unwrap_or(&path);
            files.push(SiteFile {
                path: relative.to_string_lossy().replace('\\', "/"),
                body,
            });
        }
    }
    Ok(files)
}

/// The site under `root` for the edge's start; unreadable, an empty site
/// (every page a 404) until a reload finds the files.
pub async fn load(root: &Path) -> Site {
    let owned = root.to_path_buf();
    let files = tokio::task::spawn_blocking(move || read(&owned))
        .await
        .unwrap_or_else(|err| Err(err.to_string()));
    let built = match files {
        Ok(files) => Site::build_async(files).await.map_err(|e| e.to_string()),
        Err(err) => Err(err),
    };
    match built {
        Ok(site) => {
            tracing::info!(root = %root.display(), files = site.len(), "static site loaded");
            site
        }
        Err(err) => {
            tracing::warn!(error = %err, "static site not loaded; pages answer 404 until a reload");
            Site::empty()
        }
    }
}
