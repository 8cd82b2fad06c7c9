//! The plain WebDAV area projection: collections and resources under `/dav/files`, their bytes
//! and dead properties. Built from `FileChange` events only, so `replay` rebuilds it.
//!
//! Paths are decoded and carry no trailing slash (`/dav/files/a/b`): `b/` and `b` name the
//! same resource, as WebDAV clients expect. The area's root always exists and is not stored.

use super::StoreError;
use super::project::{decode, encode};
use super::tables::{FILE_BODIES, FILES, Tables, Text};
use redb::{ReadTransaction, ReadableTable, Table};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tandem_protocol::Hlc;
use tandem_protocol::dav::resource::etag;
use tandem_protocol::event::{FileChange, PropOp};

/// The root of the plain area; it exists without being created.
pub const ROOT: &str = tandem_protocol::dav::layout::FILES_ROOT;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileState {
    pub collection: bool,
    /// Of a resource: strong, derived from its bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default)]
    pub length: u64,
    /// The event that last changed the bytes (or created the collection): Last-Modified.
    pub modified: Hlc,
    /// Dead properties by Clark name → XML value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub props: BTreeMap<String, String>,
}

impl FileState {
    fn root() -> FileState {
        FileState {
            collection: true,
            etag: None,
            content_type: None,
            length: 0,
            modified: Hlc::ZERO,
            props: BTreeMap::new(),
        }
    }
}

/// The parent of a path (`/dav/files/a/b` → `/dav/files/a`).
pub fn parent(path: &str) -> Option<&str> {
    path.rsplit_once('/').map(|(parent, _)| parent)
}

/// Whether `path` lies strictly below `ancestor`.
pub fn is_below(path: &str, ancestor: &str) -> bool {
    path.len() > ancestor.len()
        && path.starts_with(ancestor)
        && path[ancestor.len()..].starts_with('/')
}

fn in_area(path: &str) -> bool {
    path == ROOT || is_below(path, ROOT)
}

fn entry_in<T: ReadableTable<Text, &'static [u8]>>(
    table: &T,
    path: &str,
) -> Result<Option<FileState>, StoreError> {
    if path == ROOT {
        return Ok(Some(FileState::root()));
    }
    match table.get(path)? {
        Some(bytes) => Ok(Some(decode("files", bytes.value())?)),
        None => Ok(None),
    }
}

/// Everything strictly below `path`, in path order.
fn below_in<T: ReadableTable<Text, &'static [u8]>>(
    table: &T,
    path: &str,
) -> Result<Vec<(String, FileState)>, StoreError> {
    let prefix = format!("{path}/");
    let mut out = Vec::new();
    for row in table.range(prefix.as_str()..)? {
        let (key, value) = row?;
        let key = key.value();
        if !key.starts_with(&prefix) {
            break;
        }
        out.push((key.to_string(), decode("files", value.value())?));
    }
    Ok(out)
}

fn conflict(message: String) -> StoreError {
    StoreError::Conflict(message)
}

/// The existing entry at `path`, or a conflict saying what is missing.
fn existing<T: ReadableTable<Text, &'static [u8]>>(
    table: &T,
    path: &str,
) -> Result<FileState, StoreError> {
    entry_in(table, path)?.ok_or_else(|| conflict(format!("there is nothing at {path}")))
}

/// A new entry at `path` needs a parent collection (RFC 4918 §9.3.1, §9.7.1: 409 otherwise).
fn check_parent<T: ReadableTable<Text, &'static [u8]>>(
    table: &T,
    path: &str,
) -> Result<(), StoreError> {
    if !is_below(path, ROOT) {
        return Err(conflict(format!("{path} is outside the file area {ROOT}/")));
    }
    let parent = parent(path).unwrap_or(ROOT);
    match entry_in(table, parent)? {
        Some(state) if state.collection => Ok(()),
        Some(_) => Err(conflict(format!(
            "{parent} is a resource, not a collection"
        ))),
        None => Err(conflict(format!(
            "the collection {parent}/ does not exist; create it first with MKCOL"
        ))),
    }
}

/// Remove `path` and everything below it.
fn remove_tree(
    files: &mut Table<'_, Text, &'static [u8]>,
    bodies: &mut Table<'_, Text, &'static [u8]>,
    path: &str,
) -> Result<(), StoreError> {
    let mut paths: Vec<String> = below_in(files, path)?.into_iter().map(|(p, _)| p).collect();
    paths.push(path.to_string());
    for p in &paths {
        files.remove(p.as_str())?;
        bodies.remove(p.as_str())?;
    }
    Ok(())
}

/// Apply a file change. Every check runs before the first write, so a refused change has
/// written nothing.
pub fn apply(t: &mut Tables, hlc: Hlc, change: &FileChange) -> Result<(), StoreError> {
    let (files, bodies) = (&mut t.files, &mut t.file_bodies);
    for path in [Some(change.path()), source(change)].into_iter().flatten() {
        if !in_area(path) || path.ends_with('/') || path.contains("//") {
            return Err(conflict(format!(
                "{path} is not a path in the file area {ROOT}/"
            )));
        }
    }
    match change {
        FileChange::MakeCollection { path, props } => {
            if entry_in(files, path)?.is_some() {
                return Err(conflict(format!("{path} exists already")));
            }
            check_parent(files, path)?;
            let state = FileState {
                collection: true,
                etag: None,
                content_type: None,
                length: 0,
                modified: hlc,
                props: props.clone(),
            };
            files.insert(path.as_str(), encode(&state)?.as_slice())?;
        }
        FileChange::Put { path, payload } => {
            let previous = entry_in(files, path)?;
            if previous.as_ref().is_some_and(|p| p.collection) {
                return Err(conflict(format!(
                    "{path} is a collection; PUT replaces resources only"
                )));
            }
            check_parent(files, path)?;
            let state = FileState {
                collection: false,
                etag: Some(etag(&payload.bytes)),
                content_type: Some(payload.content_type.clone()),
                length: payload.bytes.len() as u64,
                modified: hlc,
                props: previous.map(|p| p.props).unwrap_or_default(),
            };
            files.insert(path.as_str(), encode(&state)?.as_slice())?;
            bodies.insert(path.as_str(), payload.bytes.as_slice())?;
        }
        FileChange::Delete { path } => {
            if path == ROOT {
                return Err(conflict(format!("the root {ROOT}/ cannot be deleted")));
            }
            existing(files, path)?;
            remove_tree(files, bodies, path)?;
        }
        FileChange::Props { path, ops } => {
            if path == ROOT {
                return Err(conflict(format!(
                    "the root {ROOT}/ has no dead properties; set them on a collection below it"
                )));
            }
            let mut state = existing(files, path)?;
            for op in ops {
                match op {
                    PropOp::Set { name, value } => {
                        state.props.insert(name.clone(), value.clone());
                    }
                    PropOp::Remove { name } => {
                        state.props.remove(name);
                    }
                }
            }
            files.insert(path.as_str(), encode(&state)?.as_slice())?;
        }
        FileChange::Copy { from, to, deep } => {
            transfer(files, bodies, hlc, from, to, *deep, false)?;
        }
        FileChange::Move { from, to } => {
            transfer(files, bodies, hlc, from, to, true, true)?;
        }
    }
    Ok(())
}

fn source(change: &FileChange) -> Option<&str> {
    match change {
        FileChange::Copy { from, .. } | FileChange::Move { from, .. } => Some(from),
        _ => None,
    }
}

/// COPY or MOVE `from` onto `to`, replacing whatever is at `to`.
fn transfer(
    files: &mut Table<'_, Text, &'static [u8]>,
    bodies: &mut Table<'_, Text, &'static [u8]>,
    hlc: Hlc,
    from: &str,
    to: &str,
    deep: bool,
    remove_source: bool,
) -> Result<(), StoreError> {
    if from == ROOT || to == ROOT {
        return Err(conflict(format!(
            "the root {ROOT}/ cannot be copied, moved or replaced"
        )));
    }
    if from == to || is_below(to, from) || is_below(from, to) {
        return Err(conflict(format!(
            "{from} and {to} overlap; copy or move to a place outside the source"
        )));
    }
    let top = existing(files, from)?;
    check_parent(files, to)?;
    let mut moving = vec![(from.to_string(), top.clone())];
    if top.collection && deep {
        moving.extend(below_in(files, from)?);
    }
    let mut copies = Vec::with_capacity(moving.len());
    for (path, mut state) in moving {
        let body = bodies.get(path.as_str())?.map(|b| b.value().to_vec());
        if !remove_source {
            // A copy is a new resource: it was last modified now.
            state.modified = hlc;
        }
        copies.push((format!("{to}{}", &path[from.len()..]), state, body));
    }
    if remove_source {
        remove_tree(files, bodies, from)?;
    }
    if entry_in(files, to)?.is_some() {
        remove_tree(files, bodies, to)?;
    }
    for (path, state, body) in copies {
        files.insert(path.as_str(), encode(&state)?.as_slice())?;
        if let Some(body) = body {
            bodies.insert(path.as_str(), body.as_slice())?;
        }
    }
    Ok(())
}

// Reading, for the DAV server.

/// The entry at `path` (the root included).
pub fn entry(txn: &ReadTransaction, path: &str) -> Result<Option<FileState>, StoreError> {
    entry_in(&txn.open_table(FILES)?, path)
}

/// The entries one level below `path`, in path order.
pub fn children(txn: &ReadTransaction, path: &str) -> Result<Vec<(String, FileState)>, StoreError> {
    let all = below_in(&txn.open_table(FILES)?, path)?;
    Ok(all
        .into_iter()
        .filter(|(p, _)| !p[path.len() + 1..].contains('/'))
        .collect())
}

pub fn body(txn: &ReadTransaction, path: &str) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(txn
        .open_table(FILE_BODIES)?
        .get(path)?
        .map(|b| b.value().to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_means_strictly_below_at_a_segment_boundary() {
        assert!(is_below("/dav/files/a/b", "/dav/files/a"));
        assert!(!is_below("/dav/files/ab", "/dav/files/a"));
        assert!(!is_below("/dav/files/a", "/dav/files/a"));
        assert_eq!(parent("/dav/files/a/b"), Some("/dav/files/a"));
    }
}
