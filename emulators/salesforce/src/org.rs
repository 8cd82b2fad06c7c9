//! The in-memory org: records per object, the recycle bin and its delete log, and the create/update/delete
//! pipeline every write path (rows, collections, composite, seed) goes through.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value as Json};

use super::errors::ApiError;
use super::ids;
use super::rules;
use super::schema::{self, Kind, ObjectDef, Schema, TaskStatusDef};
use super::series;
use super::validate::{self, Mode};
use super::value::{Doc, Value};

/// Deleted records stay in the recycle bin (and in the getDeleted log) this long, then are purged for good.
pub const RECYCLE_BIN_DAYS: i64 = 15;
/// Activities this old are archived: hidden from `query`, visible to `queryAll`.
pub const ARCHIVE_DAYS: i64 = 365;

pub fn truncate_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

/// Who writes and when: every write stamps these into the system fields.
#[derive(Debug, Clone)]
pub struct WriteCtx {
    pub now: DateTime<Utc>,
    pub user_id: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: String,
    pub object: usize,
    pub values: Vec<Value>,
    pub deleted_at: Option<DateTime<Utc>>,
    /// Internal key of the Lightning event series this occurrence belongs to (not exposed, like the real API).
    pub series: Option<u64>,
    /// For an invitee's child event: the parent event and the EventRelation that made it.
    pub parent_event: Option<String>,
    pub via_relation: Option<String>,
}

pub enum Lookup<'a> {
    Live(&'a Record),
    Deleted(&'a Record),
    Missing,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Deletion {
    pub object: usize,
    pub id: String,
    pub at: DateTime<Utc>,
}

/// What a transaction must undo on rollback (allOrNone collections and composite requests).
enum Undo {
    Put {
        object: usize,
        seq: u64,
        before: Option<Record>,
    },
    Deletion,
}

pub struct Org {
    pub schema: Arc<Schema>,
    pub org_id: String,
    /// The user every OAuth token of this emulator acts as.
    pub current_user: String,
    pub task_statuses: Vec<TaskStatusDef>,
    /// How far ahead an open-ended event series is materialised.
    pub series_horizon_days: i64,
    pub(crate) tables: Vec<BTreeMap<u64, Record>>,
    pub(crate) index: HashMap<String, (usize, u64)>,
    pub(crate) seq: u64,
    pub(crate) id_counter: u64,
    pub(crate) next_series: u64,
    pub(crate) deletions: Vec<Deletion>,
    pub(crate) earliest_available: DateTime<Utc>,
    journal: Option<Vec<Undo>>,
    marks: Vec<usize>,
    /// Counts every change (write, delete-log entry, purge, rollback): whoever keeps the org in a
    /// file knows from it whether there is anything new to write.
    pub(crate) changes: u64,
}

impl Org {
    pub fn new(
        schema: Arc<Schema>,
        created: DateTime<Utc>,
        task_statuses: Vec<TaskStatusDef>,
    ) -> Self {
        let tables = schema.objects.iter().map(|_| BTreeMap::new()).collect();
        let mut org = Org {
            org_id: ids::make("00D", 1),
            current_user: String::new(),
            schema,
            task_statuses,
            series_horizon_days: 365,
            tables,
            index: HashMap::new(),
            seq: 0,
            id_counter: 1000,
            next_series: 1,
            deletions: Vec::new(),
            earliest_available: truncate_seconds(created),
            journal: None,
            marks: Vec::new(),
            changes: 0,
        };
        org.insert_task_statuses(created);
        org
    }

    fn insert_task_statuses(&mut self, now: DateTime<Utc>) {
        let statuses = self.task_statuses.clone();
        for (i, s) in statuses.iter().enumerate() {
            let values = vec![
                ("MasterLabel", Value::Text(s.label.clone())),
                ("ApiName", Value::Text(s.label.clone())),
                ("IsClosed", Value::Bool(s.closed)),
                ("IsDefault", Value::Bool(s.default)),
                ("SortOrder", Value::Int(i as i64 + 1)),
            ];
            self.insert_system(schema::TASK_STATUS, values, now, None);
        }
    }

    /// Inserts a record of a read-only object (User, TaskStatus) directly, bypassing validation.
    pub fn insert_system(
        &mut self,
        object: &str,
        fields: Vec<(&str, Value)>,
        now: DateTime<Utc>,
        created_by: Option<&str>,
    ) -> String {
        let schema = self.schema.clone();
        let obj = schema.obj(object);
        let def = &schema.objects[obj];
        let id = self.alloc_id(obj);
        let mut values = self.initial_values(def, &id, now, created_by.unwrap_or(""));
        for (name, v) in fields {
            if let Some(i) = def.field_index(name) {
                values[i] = v;
            }
        }
        if created_by.is_none() {
            let me = Value::Text(id.clone());
            values[def.idx("CreatedById")] = me.clone();
            values[def.idx("LastModifiedById")] = me;
        }
        self.put(Record {
            id: id.clone(),
            object: obj,
            values,
            deleted_at: None,
            series: None,
            parent_event: None,
            via_relation: None,
        });
        id
    }

    fn initial_values(
        &self,
        def: &ObjectDef,
        id: &str,
        now: DateTime<Utc>,
        user: &str,
    ) -> Vec<Value> {
        let mut values: Vec<Value> = def
            .fields
            .iter()
            .map(|fd| fd.default.clone().unwrap_or(Value::Null))
            .collect();
        let now = Value::DateTime(truncate_seconds(now));
        let user = Value::Text(user.to_string());
        values[def.idx("Id")] = Value::Text(id.to_string());
        values[def.idx("IsDeleted")] = Value::Bool(false);
        for f in ["CreatedDate", "LastModifiedDate", "SystemModstamp"] {
            values[def.idx(f)] = now.clone();
        }
        for f in ["CreatedById", "LastModifiedById"] {
            values[def.idx(f)] = user.clone();
        }
        if let Some(i) = def.field_index("OwnerId") {
            values[i] = user;
        }
        values
    }

    pub fn alloc_id(&mut self, obj: usize) -> String {
        self.id_counter += 1;
        ids::make(&self.schema.objects[obj].prefix, self.id_counter)
    }

    pub fn alloc_series(&mut self) -> u64 {
        self.next_series += 1;
        self.next_series
    }

    pub fn def(&self, obj: usize) -> &ObjectDef {
        &self.schema.objects[obj]
    }

    // ---- reading ---------------------------------------------------------------------------------

    pub fn lookup(&self, id: &str) -> Lookup<'_> {
        let Some(id) = ids::to18(id) else {
            return Lookup::Missing;
        };
        match self
            .index
            .get(&id)
            .and_then(|(obj, seq)| self.tables[*obj].get(seq))
        {
            Some(r) if r.deleted_at.is_some() => Lookup::Deleted(r),
            Some(r) => Lookup::Live(r),
            None => Lookup::Missing,
        }
    }

    /// A live record by id.
    pub fn live(&self, id: &str) -> Option<&Record> {
        match self.lookup(id) {
            Lookup::Live(r) => Some(r),
            _ => None,
        }
    }

    /// A record by id, in the recycle bin or not.
    pub fn any(&self, id: &str) -> Option<&Record> {
        match self.lookup(id) {
            Lookup::Live(r) | Lookup::Deleted(r) => Some(r),
            Lookup::Missing => None,
        }
    }

    /// All records of an object in insertion order, recycle bin included.
    pub fn records(&self, obj: usize) -> impl Iterator<Item = &Record> {
        self.tables[obj].values()
    }

    pub fn get<'a>(&self, rec: &'a Record, field: &str) -> &'a Value {
        static NULL: Value = Value::Null;
        self.def(rec.object)
            .field_index(field)
            .and_then(|i| rec.values.get(i))
            .unwrap_or(&NULL)
    }

    pub fn text<'a>(&self, rec: &'a Record, field: &str) -> Option<&'a str> {
        self.get(rec, field).as_text()
    }

    /// A field's value as the API shows it; IsArchived is derived from the clock because archiving is a
    /// background process in Salesforce, not a write.
    pub fn value_of(&self, rec: &Record, idx: usize, now: DateTime<Utc>) -> Value {
        let def = self.def(rec.object);
        if def.fields[idx].name == "IsArchived" {
            return Value::Bool(self.is_archived(rec, now));
        }
        rec.values.get(idx).cloned().unwrap_or(Value::Null)
    }

    pub fn is_archived(&self, rec: &Record, now: DateTime<Utc>) -> bool {
        let def = self.def(rec.object);
        let cutoff = now.date_naive() - Duration::days(ARCHIVE_DAYS);
        match def.name.as_str() {
            schema::EVENT => {
                let day = self
                    .get(rec, "EndDate")
                    .as_date()
                    .or_else(|| self.get(rec, "ActivityDate").as_date());
                day.is_some_and(|d| d <= cutoff)
            }
            schema::TASK => {
                if !self.get(rec, "IsClosed").as_bool() {
                    return false;
                }
                match self.get(rec, "ActivityDate").as_date() {
                    Some(d) => d <= cutoff,
                    None => self
                        .get(rec, "CreatedDate")
                        .as_datetime()
                        .is_some_and(|t| t.date_naive() <= cutoff),
                }
            }
            _ => false,
        }
    }

    /// Live records of `obj` whose `field` equals `value` (case-insensitively, like external-id matching).
    pub fn find_by_field(&self, obj: usize, field: usize, value: &str) -> Vec<String> {
        self.records(obj)
            .filter(|r| r.deleted_at.is_none())
            .filter(|r| {
                r.values
                    .get(field)
                    .and_then(Value::as_text)
                    .is_some_and(|v| v.eq_ignore_ascii_case(value))
            })
            .map(|r| r.id.clone())
            .collect()
    }

    pub fn user_tz(&self, user_id: &str) -> Tz {
        self.live(user_id)
            .and_then(|u| self.text(u, "TimeZoneSidKey"))
            .and_then(|k| k.parse::<Tz>().ok())
            .unwrap_or(Tz::UTC)
    }

    pub fn task_status_closed(&self, status: &str) -> bool {
        self.task_statuses
            .iter()
            .any(|s| s.label == status && s.closed)
    }

    pub fn deletions(&self) -> &[Deletion] {
        &self.deletions
    }

    pub fn earliest_available(&self) -> DateTime<Utc> {
        self.earliest_available
    }

    pub fn record_url(&self, obj: usize, id: &str, version: &str) -> String {
        format!(
            "/services/data/v{version}/sobjects/{}/{id}",
            self.def(obj).name
        )
    }

    pub fn attributes(&self, obj: usize, id: &str, version: &str) -> Doc {
        Doc::object()
            .with("type", self.def(obj).name.as_str())
            .with("url", self.record_url(obj, id, version))
    }

    /// A record as sObject Rows GET renders it: `attributes`, then the fields in schema order (or the asked ones).
    pub fn render(
        &self,
        rec: &Record,
        fields: Option<&[usize]>,
        version: &str,
        now: DateTime<Utc>,
    ) -> Doc {
        let def = self.def(rec.object);
        let mut doc =
            Doc::object().with("attributes", self.attributes(rec.object, &rec.id, version));
        let all: Vec<usize> = (0..def.fields.len()).collect();
        for &i in fields.unwrap_or(&all) {
            doc.push(&def.fields[i].name, self.value_of(rec, i, now).to_json());
        }
        doc
    }

    // ---- transactions ----------------------------------------------------------------------------

    /// Starts a (possibly nested) transaction: changes from here on can be rolled back.
    pub fn begin(&mut self) {
        let journal = self.journal.get_or_insert_with(Vec::new);
        self.marks.push(journal.len());
    }

    /// Keeps the changes of the innermost transaction (an outer rollback can still undo them).
    pub fn commit(&mut self) {
        self.marks.pop();
        if self.marks.is_empty() {
            self.journal = None;
        }
    }

    /// Undoes every change since the innermost `begin`.
    pub fn rollback(&mut self) {
        let Some(mark) = self.marks.pop() else {
            return;
        };
        self.changes += 1;
        let tail = self
            .journal
            .as_mut()
            .map(|j| j.split_off(mark))
            .unwrap_or_default();
        if self.marks.is_empty() {
            self.journal = None;
        }
        for undo in tail.into_iter().rev() {
            match undo {
                Undo::Put {
                    object,
                    seq,
                    before,
                } => match before {
                    Some(rec) => {
                        self.tables[object].insert(seq, rec);
                    }
                    None => {
                        if let Some(rec) = self.tables[object].remove(&seq) {
                            self.index.remove(&rec.id);
                        }
                    }
                },
                Undo::Deletion => {
                    self.deletions.pop();
                }
            }
        }
    }

    /// Inserts or replaces a record, journalling the previous state.
    pub fn put(&mut self, rec: Record) {
        self.changes += 1;
        let (object, seq, before) = match self.index.get(&rec.id) {
            Some(&(object, seq)) => (object, seq, self.tables[object].get(&seq).cloned()),
            None => {
                self.seq += 1;
                self.index.insert(rec.id.clone(), (rec.object, self.seq));
                (rec.object, self.seq, None)
            }
        };
        if let Some(j) = self.journal.as_mut() {
            j.push(Undo::Put {
                object,
                seq,
                before,
            });
        }
        self.tables[object].insert(seq, rec);
    }

    fn log_deletion(&mut self, d: Deletion) {
        self.changes += 1;
        self.deletions.push(d);
        if let Some(j) = self.journal.as_mut() {
            j.push(Undo::Deletion);
        }
    }

    // ---- writing ---------------------------------------------------------------------------------

    fn object_for_write(
        &self,
        obj: usize,
        allowed: bool,
        verb: &str,
    ) -> Result<&ObjectDef, ApiError> {
        let def = self.def(obj);
        if !allowed {
            return Err(ApiError::bad_request(
                "INVALID_TYPE_FOR_OPERATION",
                format!("entity type {} does not support {verb}", def.name),
            ));
        }
        Ok(def)
    }

    /// Creates a record from a JSON body; returns the new id (the first occurrence for an event series).
    pub fn create(
        &mut self,
        obj: usize,
        input: &Map<String, Json>,
        ctx: &WriteCtx,
    ) -> Result<String, ApiError> {
        let schema = self.schema.clone();
        let def = self.object_for_write(obj, schema.objects[obj].createable, "insert")?;
        let parsed = validate::parse_input(&schema, def, input, Mode::Create)?;
        self.create_parsed(obj, parsed, ctx)
    }

    pub fn create_parsed(
        &mut self,
        obj: usize,
        parsed: Vec<(usize, Value)>,
        ctx: &WriteCtx,
    ) -> Result<String, ApiError> {
        let schema = self.schema.clone();
        let def = &schema.objects[obj];
        let mut values = self.initial_values(def, "", ctx.now, &ctx.user_id);
        let mut given = Vec::with_capacity(parsed.len());
        for (i, v) in parsed {
            values[i] = v;
            given.push(i);
        }
        let missing: Vec<&str> = def
            .fields
            .iter()
            .enumerate()
            // Defaults are already in place, so a null here is a missing value or an explicit null.
            .filter(|(i, fd)| !fd.nillable && fd.createable && values[*i].is_null())
            .map(|(_, fd)| fd.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(ApiError::required_missing(&missing));
        }
        self.check_references(def, &values, &given)?;
        rules::apply(self, obj, &mut values, &given, None, ctx)?;
        self.check_unique(def, &values, None)?;
        if def.name == schema::EVENT && values[def.idx("IsRecurrence2")].as_bool() {
            return series::create_series(self, values, ctx);
        }
        let id = self.alloc_id(obj);
        values[def.idx("Id")] = Value::Text(id.clone());
        self.put(Record {
            id: id.clone(),
            object: obj,
            values,
            deleted_at: None,
            series: None,
            parent_event: None,
            via_relation: None,
        });
        rules::after_insert(self, obj, &id, ctx)?;
        Ok(id)
    }

    /// The live record `id` of object `obj`, or the error the API gives for it.
    pub fn live_of(&self, obj: usize, id: &str) -> Result<Record, ApiError> {
        match self.lookup(id) {
            Lookup::Live(r) if r.object == obj => Ok(r.clone()),
            Lookup::Deleted(r) if r.object == obj => Err(ApiError::entity_is_deleted()),
            _ => Err(ApiError::not_found()),
        }
    }

    /// Updates a record from a JSON body (sObject Rows PATCH semantics).
    pub fn update(
        &mut self,
        obj: usize,
        id: &str,
        input: &Map<String, Json>,
        ctx: &WriteCtx,
    ) -> Result<(), ApiError> {
        let schema = self.schema.clone();
        let def = self.object_for_write(obj, schema.objects[obj].updateable, "update")?;
        let prev = self.live_of(obj, id)?;
        let parsed = validate::parse_input(&schema, def, input, Mode::Update)?;
        self.update_parsed(prev, parsed, ctx)
    }

    pub fn update_parsed(
        &mut self,
        prev: Record,
        parsed: Vec<(usize, Value)>,
        ctx: &WriteCtx,
    ) -> Result<(), ApiError> {
        if prev.series.is_some() {
            return series::update_occurrence(self, prev, parsed, ctx);
        }
        let values = self.validated_update(&prev, &parsed, ctx)?;
        self.store_update(prev, values, ctx)
    }

    /// Applies parsed changes to a copy of `prev` and runs every check; nothing is stored.
    pub fn validated_update(
        &self,
        prev: &Record,
        parsed: &[(usize, Value)],
        ctx: &WriteCtx,
    ) -> Result<Vec<Value>, ApiError> {
        let schema = self.schema.clone();
        let def = &schema.objects[prev.object];
        let mut values = prev.values.clone();
        let mut given = Vec::with_capacity(parsed.len());
        for (i, v) in parsed {
            values[*i] = v.clone();
            given.push(*i);
        }
        let missing: Vec<&str> = given
            .iter()
            .filter(|i| !def.fields[**i].nillable && values[**i].is_null())
            .map(|i| def.fields[*i].name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(ApiError::required_missing(&missing));
        }
        self.check_references(def, &values, &given)?;
        rules::apply(
            self,
            prev.object,
            &mut values,
            &given,
            Some(&prev.values),
            ctx,
        )?;
        self.check_unique(def, &values, Some(&prev.id))?;
        Ok(values)
    }

    /// Stores new values for an existing record with fresh modification stamps.
    pub fn store_update(
        &mut self,
        prev: Record,
        mut values: Vec<Value>,
        ctx: &WriteCtx,
    ) -> Result<(), ApiError> {
        let schema = self.schema.clone();
        let def = &schema.objects[prev.object];
        let now = Value::DateTime(truncate_seconds(ctx.now));
        values[def.idx("LastModifiedDate")] = now.clone();
        values[def.idx("SystemModstamp")] = now;
        values[def.idx("LastModifiedById")] = Value::Text(ctx.user_id.clone());
        let id = prev.id.clone();
        let obj = prev.object;
        self.put(Record { values, ..prev });
        rules::after_update(self, obj, &id, ctx)
    }

    /// Soft-deletes into the recycle bin (sObject Rows DELETE semantics).
    pub fn delete(&mut self, obj: Option<usize>, id: &str, ctx: &WriteCtx) -> Result<(), ApiError> {
        let rec = match self.lookup(id) {
            Lookup::Live(r) if obj.is_none_or(|o| o == r.object) => r.clone(),
            Lookup::Deleted(r) if obj.is_none_or(|o| o == r.object) => {
                return Err(ApiError::entity_is_deleted());
            }
            _ => return Err(ApiError::not_found()),
        };
        let deletable = self.def(rec.object).deletable;
        self.object_for_write(rec.object, deletable, "delete")?;
        self.soft_delete(&rec.id, ctx);
        Ok(())
    }

    /// Moves a record to the recycle bin and cascades to what depends on it.
    pub fn soft_delete(&mut self, id: &str, ctx: &WriteCtx) {
        let Some(mut rec) = self.live(id).cloned() else {
            return;
        };
        let now = truncate_seconds(ctx.now);
        let def = self.def(rec.object);
        let (deleted_idx, stamp_idx) = (def.idx("IsDeleted"), def.idx("SystemModstamp"));
        rec.values[deleted_idx] = Value::Bool(true);
        rec.values[stamp_idx] = Value::DateTime(now);
        rec.deleted_at = Some(now);
        let object = rec.object;
        self.put(rec);
        self.log_deletion(Deletion {
            object,
            id: id.to_string(),
            at: now,
        });
        rules::after_delete(self, object, id, ctx);
    }

    /// Restores a record from the recycle bin (test/control use; the REST API has no undelete resource).
    pub fn undelete(&mut self, id: &str, ctx: &WriteCtx) -> Result<(), ApiError> {
        let Some(mut rec) = (match self.lookup(id) {
            Lookup::Deleted(r) => Some(r.clone()),
            _ => None,
        }) else {
            return Err(ApiError::not_found());
        };
        let def = self.def(rec.object);
        let (deleted_idx, stamp_idx) = (def.idx("IsDeleted"), def.idx("SystemModstamp"));
        rec.values[deleted_idx] = Value::Bool(false);
        rec.values[stamp_idx] = Value::DateTime(truncate_seconds(ctx.now));
        rec.deleted_at = None;
        let rid = rec.id.clone();
        self.put(rec);
        self.deletions.retain(|d| d.id != rid);
        self.changes += 1;
        Ok(())
    }

    /// Purges recycle-bin records (and delete-log entries) older than the retention window.
    pub fn housekeeping(&mut self, now: DateTime<Utc>) {
        let cutoff = now - Duration::days(RECYCLE_BIN_DAYS);
        self.purge_where(|at| at <= cutoff, None);
    }

    /// Empties the recycle bin now: the delete log is lost, and `earliestDateAvailable` moves to now.
    pub fn empty_recycle_bin(&mut self, now: DateTime<Utc>) {
        self.purge_where(|_| true, Some(truncate_seconds(now)));
    }

    fn purge_where(&mut self, old: impl Fn(DateTime<Utc>) -> bool, mark: Option<DateTime<Utc>>) {
        let mut latest_purged = None;
        for table in &mut self.tables {
            let doomed: Vec<u64> = table
                .iter()
                .filter(|(_, r)| r.deleted_at.is_some_and(&old))
                .map(|(k, _)| *k)
                .collect();
            for k in doomed {
                self.changes += 1;
                if let Some(r) = table.remove(&k) {
                    self.index.remove(&r.id);
                    latest_purged = latest_purged.max(r.deleted_at);
                }
            }
        }
        let before = self.deletions.len();
        self.deletions.retain(|d| !old(d.at));
        self.changes += (before - self.deletions.len()) as u64;
        if before != self.deletions.len() || latest_purged.is_some() {
            let mark = mark
                .or(latest_purged)
                .or(self.deletions.first().map(|d| d.at));
            if let Some(m) = mark {
                self.earliest_available = self.earliest_available.max(m);
            }
        }
    }

    fn check_references(
        &self,
        def: &ObjectDef,
        values: &[Value],
        given: &[usize],
    ) -> Result<(), ApiError> {
        for &i in given {
            let fd = &def.fields[i];
            if fd.kind != Kind::Reference {
                continue;
            }
            let Some(id) = values[i].as_text() else {
                continue;
            };
            let ok = match self.live(id) {
                Some(target)
                    if fd
                        .reference_to
                        .iter()
                        .any(|t| *t == self.def(target.object).name) =>
                {
                    // Only active users can own records.
                    self.def(target.object).name != schema::USER
                        || self.get(target, "IsActive").as_bool()
                }
                _ => false,
            };
            if !ok {
                let owner = fd.name == "OwnerId";
                let (code, message) = if owner {
                    (
                        "INACTIVE_OWNER_OR_USER",
                        "operation performed with inactive user".to_string(),
                    )
                } else {
                    (
                        "INVALID_CROSS_REFERENCE_KEY",
                        "invalid cross reference id".to_string(),
                    )
                };
                return Err(ApiError::bad_request(code, message).with_fields(&[&fd.name]));
            }
        }
        Ok(())
    }

    fn check_unique(
        &self,
        def: &ObjectDef,
        values: &[Value],
        own: Option<&str>,
    ) -> Result<(), ApiError> {
        let obj = self.schema.obj(&def.name);
        for (i, fd) in def.fields.iter().enumerate() {
            if !fd.unique {
                continue;
            }
            let Some(v) = values[i].as_text() else {
                continue;
            };
            if let Some(other) = self
                .find_by_field(obj, i, v)
                .into_iter()
                .find(|id| Some(id.as_str()) != own)
            {
                return Err(ApiError::bad_request(
                    "DUPLICATE_VALUE",
                    format!(
                        "duplicate value found: {} duplicates value on record with id: {other}",
                        fd.name
                    ),
                )
                .with_fields(&[]));
            }
        }
        Ok(())
    }
}
