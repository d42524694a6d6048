//! A log file rotated by size: `FILE` grows to `max_bytes`, then becomes
//! `FILE.1` (the old `FILE.1` becomes `FILE.2`, …) and the oldest past
//! `max_files` is deleted. Size-based, as the old deployment's 10 MB × 5 files.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tracing_subscriber::fmt::MakeWriter;

/// The shared file handle; every writer appends through the lock, so lines
/// from concurrent threads never interleave.
#[derive(Clone)]
pub struct RotatingFile {
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    path: PathBuf,
    file: File,
    size: u64,
    max_bytes: u64,
    max_files: u32,
}

/// `path` with `.n` appended.
pub fn rotated(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

impl RotatingFile {
    /// Opens (creating the directory and file as needed) for appending.
    pub fn open(path: &Path, max_bytes: u64, max_files: u32) -> io::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let size = file.metadata()?.len();
        Ok(Self {
            inner: Arc::new(Mutex::new(Inner {
                path: path.to_owned(),
                file,
                size,
                max_bytes,
                max_files,
            })),
        })
    }
}

impl Inner {
    fn rotate(&mut self) -> io::Result<()> {
        let _ = std::fs::remove_file(rotated(&self.path, self.max_files));
        for n in (1..self.max_files).rev() {
            let from = rotated(&self.path, n);
            if from.exists() {
                std::fs::rename(&from, rotated(&self.path, n + 1))?;
            }
        }
        std::fs::rename(&self.path, rotated(&self.path, 1))?;
        self.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.size = 0;
        Ok(())
    }

    fn write_line(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.size > 0 && self.size + buf.len() as u64 > self.max_bytes {
            // A failed rotation keeps writing to the current file rather than
            // losing the line.
            let _ = self.rotate();
        }
        self.file.write_all(buf)?;
        self.size += buf.len() as u64;
        Ok(buf.len())
    }
}

/// One event's writer: tracing formats the whole event, then writes it here.
pub struct LineWriter {
    inner: Arc<Mutex<Inner>>,
    buf: Vec<u8>,
}

impl Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        if let Ok(mut inner) = self.inner.lock() {
            let _ = inner.write_line(&self.buf);
        }
    }
}

impl<'a> MakeWriter<'a> for RotatingFile {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            inner: Arc::clone(&self.inner),
            buf: Vec::with_capacity(256),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_by_size_and_keeps_max_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs/sw.log");
        let log = RotatingFile::open(&path, 100, 2).unwrap();
        for n in 0..10 {
            let mut writer = log.make_writer();
            writeln!(writer, "line {n:02} {}", "x".repeat(30)).unwrap();
        }
        let current = std::fs::read_to_string(&path).unwrap();
        let one = std::fs::read_to_string(rotated(&path, 1)).unwrap();
        let two = std::fs::read_to_string(rotated(&path, 2)).unwrap();
        assert!(!rotated(&path, 3).exists());
        // 40-byte lines, 100-byte files: two lines each, newest in FILE.
        assert_eq!(current.lines().count(), 2, "{current}");
        assert!(current.starts_with("line 08"), "{current}");
        assert!(one.starts_with("line 06"), "{one}");
        assert!(two.starts_with("line 04"), "{two}");
        // Reopening appends to what is there.
        let log = RotatingFile::open(&path, 1000, 2).unwrap();
        writeln!(log.make_writer(), "after").unwrap();
        assert!(std::fs::read_to_string(&path).unwrap().ends_with("after\n"));
    }
}
