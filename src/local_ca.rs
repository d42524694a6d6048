//! The embedded default's CA files in the data directory: created on first
//! use, the key readable only by its owner.

use std::path::{Path, PathBuf};

use acme::LocalCa;
use anyhow::Context;

/// Root certificate file, PEM (public).
pub fn cert_path(data_dir: &Path) -> PathBuf {
    data_dir.join("ca").join("root.pem")
}

fn key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("ca").join("root.key")
}

/// Loads the CA, creating it when the data directory has none.
pub fn load_or_create(data_dir: &Path) -> anyhow::Result<LocalCa> {
    let (cert, key) = (cert_path(data_dir), key_path(data_dir));
    if cert.exists() || key.exists() {
        let cert_pem = std::fs::read_to_string(&cert)
            .with_context(|| format!("cannot read {}", cert.display()))?;
        let key_pem = std::fs::read_to_string(&key)
            .with_context(|| format!("cannot read {}", key.display()))?;
        return LocalCa::from_pem(&cert_pem, &key_pem)
            .with_context(|| format!("local CA in {}", cert.display()));
    }
    let dir = data_dir.join("ca");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let generated = LocalCa::generate()?;
    write_private(&key, &generated.key_pem)?;
    std::fs::write(&cert, &generated.cert_pem)
        .with_context(|| format!("cannot write {}", cert.display()))?;
    tracing::info!(root = %cert.display(), "local CA created; trust it with `statuswatch certs export-ca`");
    Ok(generated.ca)
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}
