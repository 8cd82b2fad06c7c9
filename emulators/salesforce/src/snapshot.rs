//! The org kept in a file, so an emulator can stop and start again with the same records, ids and
//! delete log (what `tandem demo` needs to be resumed). Fields are kept by name, not by position,
//! so a file outlives a change of the schema's field order; what the file does not name gets the
//! field's default. Sessions and API usage are not kept: a restarted org is a new session, as
//! after a Salesforce maintenance window.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::org::{Deletion, Org, Record};
use super::schema::{Schema, TaskStatusDef};
use super::value::Value;

/// The version of the file's layout; a file of another version is refused, never misread.
const FORMAT: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read the kept org {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the kept org {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the kept org {path} is not an org file of this emulator ({reason}); move it away to start a new org"
    )]
    Invalid { path: PathBuf, reason: String },
}

/// Everything of an org that outlives a restart.
#[derive(Debug, Serialize, Deserialize)]
pub struct Snapshot {
    pub format: u32,
    /// The seed the org was made from (`None`: only users).
    pub seed: Option<u64>,
    pub org_id: String,
    pub current_user: String,
    pub seq: u64,
    pub id_counter: u64,
    pub next_series: u64,
    pub earliest_available: DateTime<Utc>,
    pub records: Vec<KeptRecord>,
    pub deletions: Vec<KeptDeletion>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct KeptRecord {
    /// Insertion order (replication and default query order follow it).
    pub seq: u64,
    pub object: String,
    pub id: String,
    /// Non-null fields by name.
    pub fields: BTreeMap<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_event: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via_relation: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct KeptDeletion {
    pub object: String,
    pub id: String,
    pub at: DateTime<Utc>,
}

impl Snapshot {
    pub fn of(org: &Org, seed: Option<u64>) -> Snapshot {
        let schema = &org.schema;
        let records = org
            .tables
            .iter()
            .enumerate()
            .flat_map(|(object, table)| {
                let def = &schema.objects[object];
                table.iter().map(move |(seq, r)| KeptRecord {
                    seq: *seq,
                    object: def.name.clone(),
                    id: r.id.clone(),
                    fields: def
                        .fields
                        .iter()
                        .zip(&r.values)
                        .filter(|(_, v)| !v.is_null())
                        .map(|(f, v)| (f.name.clone(), v.clone()))
                        .collect(),
                    deleted_at: r.deleted_at,
                    series: r.series,
                    parent_event: r.parent_event.clone(),
                    via_relation: r.via_relation.clone(),
                })
            })
            .collect();
        Snapshot {
            format: FORMAT,
            seed,
            org_id: org.org_id.clone(),
            current_user: org.current_user.clone(),
            seq: org.seq,
            id_counter: org.id_counter,
            next_series: org.next_series,
            earliest_available: org.earliest_available,
            records,
            deletions: org
                .deletions
                .iter()
                .map(|d| KeptDeletion {
                    object: schema.objects[d.object].name.clone(),
                    id: d.id.clone(),
                    at: d.at,
                })
                .collect(),
        }
    }

    /// The org this snapshot keeps, on `schema`. An object the schema does not have is an error
    /// (the file is of another emulator); a field it does not have is dropped.
    pub fn into_org(
        self,
        schema: Arc<Schema>,
        task_statuses: Vec<TaskStatusDef>,
        series_horizon_days: i64,
        path: &Path,
    ) -> Result<Org, SnapshotError> {
        let invalid = |reason: String| SnapshotError::Invalid {
            path: path.to_path_buf(),
            reason,
        };
        let object = |name: &str| {
            schema
                .object_index(name)
                .ok_or_else(|| invalid(format!("it has {name} records, an object this org lacks")))
        };
        let mut org = Org::new(schema.clone(), self.earliest_available, task_statuses);
        org.tables.iter_mut().for_each(|t| t.clear());
        org.index = HashMap::new();
        org.org_id = self.org_id;
        org.current_user = self.current_user;
        org.series_horizon_days = series_horizon_days;
        for kept in self.records {
            let obj = object(&kept.object)?;
            let def = &schema.objects[obj];
            let mut values: Vec<Value> = def
                .fields
                .iter()
                .map(|f| f.default.clone().unwrap_or(Value::Null))
                .collect();
            for (name, value) in kept.fields {
                if let Some(i) = def.field_index(&name) {
                    values[i] = value;
                }
            }
            if org.index.insert(kept.id.clone(), (obj, kept.seq)).is_some() {
                return Err(invalid(format!("it has {} twice", kept.id)));
            }
            org.tables[obj].insert(
                kept.seq,
                Record {
                    id: kept.id,
                    object: obj,
                    values,
                    deleted_at: kept.deleted_at,
                    series: kept.series,
                    parent_event: kept.parent_event,
                    via_relation: kept.via_relation,
                },
            );
        }
        org.deletions = self
            .deletions
            .into_iter()
            .map(|d| {
                Ok(Deletion {
                    object: object(&d.object)?,
                    id: d.id,
                    at: d.at,
                })
            })
            .collect::<Result<_, SnapshotError>>()?;
        org.seq = self.seq;
        org.id_counter = self.id_counter;
        org.next_series = self.next_series;
        org.earliest_available = self.earliest_available;
        Ok(org)
    }

    /// The snapshot in `path`, or `None` when there is no file.
    pub fn read(path: &Path) -> Result<Option<Snapshot>, SnapshotError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(SnapshotError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let snapshot: Snapshot =
            serde_json::from_slice(&bytes).map_err(|e| SnapshotError::Invalid {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        if snapshot.format != FORMAT {
            return Err(SnapshotError::Invalid {
                path: path.to_path_buf(),
                reason: format!("format {}, this emulator reads {FORMAT}", snapshot.format),
            });
        }
        Ok(Some(snapshot))
    }

    /// Replace `path` with this snapshot: a sibling file, synced, renamed over it — a crash
    /// leaves the old org or the new one, never half of one. The file is its owner's alone: it
    /// holds the org's records and its OAuth secrets.
    pub fn write(&self, path: &Path) -> Result<(), SnapshotError> {
        let fail = |source| SnapshotError::Write {
            path: path.to_path_buf(),
            source,
        };
        let bytes = serde_json::to_vec(self).map_err(|e| fail(e.into()))?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".new");
        let tmp = PathBuf::from(tmp);
        let written = (|| {
            use std::io::Write;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&tmp)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        written.map_err(fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EmulatorConfig;
    use crate::org::WriteCtx;

    #[test]
    fn an_org_comes_back_from_its_file_as_it_was() {
        let config = EmulatorConfig {
            seed: Some(4),
            ..EmulatorConfig::default()
        };
        let now = "2026-12-05T10:00:00Z".parse().unwrap();
        let mut org = crate::seed::build_org(&config, now);
        let contact = crate::schema::CONTACT;
        let obj = org.schema.object_index(contact).unwrap();
        let doomed = org.records(obj).next().unwrap().id.clone();
        let ctx = WriteCtx {
            now,
            user_id: org.current_user.clone(),
        };
        org.delete(Some(obj), &doomed, &ctx).unwrap();

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("org.json");
        Snapshot::of(&org, config.seed).write(&path).unwrap();
        let kept = Snapshot::read(&path).unwrap().unwrap();
        assert_eq!(kept.seed, Some(4));
        let back = kept
            .into_org(org.schema.clone(), config.task_statuses.clone(), 365, &path)
            .unwrap();
        for o in 0..org.schema.objects.len() {
            assert!(
                org.records(o).eq(back.records(o)),
                "{} differs",
                org.schema.objects[o].name
            );
        }
        assert_eq!(back.deletions(), org.deletions());
        assert_eq!(back.any(&doomed).unwrap().deleted_at, Some(now));
        // New ids continue after the kept ones, never reusing one.
        let mut back = back;
        assert_eq!(back.alloc_id(obj), org.alloc_id(obj));
    }

    #[test]
    fn a_file_of_another_format_is_refused_not_misread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("org.json");
        std::fs::write(&path, br#"{"format": 9}"#).unwrap();
        let err = Snapshot::read(&path).unwrap_err().to_string();
        assert!(err.contains("move it away"), "{err}");
    }
}
