//! Output: a site written into a folder, the way a static web root needs it.
//!
//! An *output* is the folder `byline build` writes. Each document is written
//! to a temporary file and renamed over the old one, so a reader (or a crash)
//! never sees half a feed; a document whose bytes did not change is left
//! alone, keeping its modification time for the web server's validators. The
//! folder's manifest (`.byline-manifest`) lists what byline wrote, so the
//! documents of views that no longer exist are removed, and nothing byline
//! did not write is ever touched.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use crate::site::Document;

/// The file listing what the last build wrote, one relative path a line.
pub const MANIFEST: &str = ".byline-manifest";

/// What writing a site did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
}

/// Why a site could not be written, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{path}: cannot write: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a path inside the output folder")]
    Outside { path: String },
}

/// Write `docs` into `out` and remove what an earlier build wrote that is
/// no longer part of the site.
pub fn write_site(out: &Path, docs: &[Document]) -> Result<Written, OutputError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| OutputError::Write { path, source }
    };
    std::fs::create_dir_all(out).map_err(io(out))?;
    let mut stats = Written::default();
    let mut now: BTreeSet<String> = BTreeSet::new();
    for doc in docs {
        let rel = inside(&doc.path)?;
        let path = out.join(&rel);
        now.insert(doc.path.clone());
        if std::fs::read(&path).is_ok_and(|old| old == doc.body.as_bytes()) {
            stats.unchanged += 1;
            continue;
        }
        write_atomically(&path, doc.body.as_bytes()).map_err(io(&path))?;
        stats.written += 1;
    }
    let manifest = out.join(MANIFEST);
    let before = std::fs::read_to_string(&manifest).unwrap_or_default();
    for old in before
        .lines()
        .filter(|l| !l.is_empty() && !now.contains(*l))
    {
        // A line that is not a plain relative path was not written by us.
        let Ok(rel) = inside(old) else { continue };
        let path = out.join(&rel);
        match std::fs::remove_file(&path) {
            Ok(()) => {
                stats.removed += 1;
                remove_empty_parents(out, &path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&path)(e)),
        }
    }
    let list: String = now.iter().map(|p| format!("{p}\n")).collect();
    write_atomically(&manifest, list.as_bytes()).map_err(io(&manifest))?;
    Ok(stats)
}

/// `path` as a relative path below the output folder, or an error: no
/// absolute paths, no `..`.
fn inside(path: &str) -> Result<PathBuf, OutputError> {
    let p = Path::new(path);
    let plain = !path.is_empty() && p.components().all(|c| matches!(c, Component::Normal(_)));
    if plain {
        Ok(p.to_path_buf())
    } else {
        Err(OutputError::Outside {
            path: path.to_owned(),
        })
    }
}

/// Remove the folders above `file` that are now empty, up to `out`.
fn remove_empty_parents(out: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == out || !d.starts_with(out) || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

/// Write via a temporary file beside the target and a rename.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".byline-tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(path: &str, body: &str) -> Document {
        Document {
            path: path.to_owned(),
            content_type: crate::site::HTML,
            body: body.to_owned(),
            last_modified: None,
        }
    }

    #[test]
    fn removes_only_what_it_wrote_and_no_longer_writes() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        std::fs::write(out.join("mine.txt"), "not byline's").unwrap();
        let first = write_site(out, &[doc("a.atom", "a"), doc("authors/x.atom", "x")]).unwrap();
        assert_eq!(first.written, 2);
        let again = write_site(out, &[doc("a.atom", "a")]).unwrap();
        assert_eq!((again.unchanged, again.removed), (1, 1));
        assert!(!out.join("authors").exists(), "empty folder removed");
        assert!(out.join("mine.txt").exists(), "never touches other files");
        assert!(write_site(out, &[doc("../escape", "x")]).is_err());
    }
}
