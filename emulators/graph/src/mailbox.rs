//! One Outlook mailbox: contact folders with their contacts, To Do lists with their tasks, and
//! the default calendar with its events (whose series and time rules are events.rs's).
//! Items have two ids (the REST id that changes when the item moves, and the immutable id,
//! outlook-immutable-id.md, which To Do tasks do not have), change keys that change on every
//! write, and a journal of changes per container that delta queries read.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

use crate::error::GraphError;

/// What a container holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Contact,
    Task,
    Event,
}

impl Kind {
    /// The properties a client may write: for contacts (resources/contact.md) the ones Outlook
    /// users fill in most, for tasks resources/todotask.md; anything else is refused as Graph
    /// refuses it.
    fn writable(self) -> &'static [&'static str] {
        match self {
            Kind::Contact => &[
                "givenName",
                "middleName",
                "surname",
                "displayName",
                "nickName",
                "title",
                "jobTitle",
                "companyName",
                "department",
                "emailAddresses",
                "businessPhones",
                "homePhones",
                "mobilePhone",
                "businessAddress",
                "homeAddress",
                "otherAddress",
                "birthday",
                "personalNotes",
                "generation",
                "assistantName",
                "categories",
                "singleValueExtendedProperties",
            ],
            // A To Do task has no extended properties in v1.0; a partner application links
            // its own id through linkedResources (todotasklist-post-tasks.md, linkedresource.md).
            Kind::Task => &[
                "title",
                "body",
                "importance",
                "status",
                "dueDateTime",
                "startDateTime",
                "completedDateTime",
                "reminderDateTime",
                "isReminderOn",
                "categories",
                "recurrence",
                "linkedResources",
            ],
            // resources/event.md: what a sync client writes; the rest is read-only or not
            // modelled (online meetings, attachments, responses).
            Kind::Event => &[
                "subject",
                "body",
                "start",
                "end",
                "isAllDay",
                "location",
                "sensitivity",
                "showAs",
                "importance",
                "isReminderOn",
                "reminderMinutesBeforeStart",
                "categories",
                "attendees",
                "recurrence",
                "transactionId",
                "singleValueExtendedProperties",
            ],
        }
    }

    pub fn type_name(self) -> &'static str {
        match self {
            Kind::Contact => "microsoft.graph.contact",
            Kind::Task => "microsoft.graph.todoTask",
            Kind::Event => "microsoft.graph.event",
        }
    }

    /// Immutable ids cover contacts and events, not To Do tasks (outlook-immutable-id.md).
    pub(crate) fn immutable_ids(self) -> bool {
        matches!(self, Kind::Contact | Kind::Event)
    }

    /// A property's value when the item has none, as Graph returns it.
    fn empty(self, name: &str) -> Value {
        match (self, name) {
            (
                _,
                "emailAddresses" | "businessPhones" | "homePhones" | "categories"
                | "linkedResources",
            ) => json!([]),
            (_, "businessAddress" | "homeAddress" | "otherAddress") => json!({}),
            (Kind::Task, "status") => json!("notStarted"),
            (Kind::Task, "importance") => json!("normal"),
            (Kind::Task, "isReminderOn") => json!(false),
            (Kind::Task, "body") => json!({"content": "", "contentType": "text"}),
            _ => Value::Null,
        }
    }

    /// Values a property takes from a fixed list (resources/todotask.md, resources/event.md).
    fn check(self, name: &str, value: &Value) -> Result<(), GraphError> {
        let allowed: &[&str] = match (self, name) {
            (Kind::Task, "status") => &[
                "notStarted",
                "inProgress",
                "completed",
                "waitingOnOthers",
                "deferred",
            ],
            (Kind::Task | Kind::Event, "importance") => &["low", "normal", "high"],
            (Kind::Event, "sensitivity") => &["normal", "personal", "private", "confidential"],
            (Kind::Event, "showAs") => &[
                "free",
                "tentative",
                "busy",
                "oof",
                "workingElsewhere",
                "unknown",
            ],
            _ => return Ok(()),
        };
        match value.as_str() {
            Some(v) if allowed.contains(&v) => Ok(()),
            _ => Err(GraphError::bad_request(
                "RequestBodyRead",
                format!("Cannot convert the literal '{value}' to the expected type of '{name}'."),
            )),
        }
    }
}

/// What `$expand` names to bring a task's linked resources along.
pub const LINKED_RESOURCES: &str = "linkedResources";

/// A contact folder, a To Do list, or the calendar.
#[derive(Debug, Clone)]
pub struct Folder {
    pub id: String,
    pub name: String,
    pub kind: Kind,
    /// `defaultList` for the To Do list named "Tasks".
    pub wellknown: Option<&'static str>,
}

/// A contact, a task, or an event (a single one or a series master).
#[derive(Debug, Clone)]
pub struct Item {
    pub kind: Kind,
    pub immutable_id: String,
    pub rest_id: String,
    pub folder: String,
    pub change_key: String,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    pub fields: Map<String, Value>,
    pub extended: Extended,
}

/// Which of an item's ids a request wants (the `Prefer: IdType="ImmutableId"` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdType {
    Rest,
    Immutable,
}

impl Item {
    pub fn id(&self, ids: IdType) -> &str {
        match ids {
            IdType::Immutable if self.kind.immutable_ids() => &self.immutable_id,
            _ => &self.rest_id,
        }
    }

    pub fn etag(&self) -> String {
        format!("W/\"{}\"", self.change_key)
    }

    /// The item as Graph returns it: every property, absent ones empty; extended properties
    /// only when asked for (`$expand`).
    pub fn to_json(&self, ids: IdType, expand: Option<&str>) -> Value {
        let mut out = Map::new();
        out.insert("@odata.etag".into(), json!(self.etag()));
        out.insert("id".into(), json!(self.id(ids)));
        out.insert(
            "createdDateTime".into(),
            json!(self.created.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
        );
        out.insert(
            "lastModifiedDateTime".into(),
            json!(self.modified.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
        );
        if self.kind == Kind::Contact {
            out.insert("changeKey".into(), json!(self.change_key));
            out.insert("parentFolderId".into(), json!(self.folder));
        }
        for name in self
            .kind
            .writable()
            .iter()
            .filter(|n| **n != "singleValueExtendedProperties")
            // A navigation property: only with `$expand=linkedResources`.
            .filter(|n| **n != "linkedResources" || expand == Some(LINKED_RESOURCES))
        {
            let value = self
                .fields
                .get(*name)
                .cloned()
                .unwrap_or_else(|| self.kind.empty(name));
            out.insert((*name).into(), value);
        }
        if let Some(wanted) = expand.filter(|e| *e != LINKED_RESOURCES) {
            let list: Vec<Value> = self
                .extended
                .iter()
                .filter(|(id, _)| wanted.is_empty() || id.eq_ignore_ascii_case(wanted))
                .map(|(id, value)| json!({"id": id, "value": value}))
                .collect();
            out.insert("singleValueExtendedProperties".into(), json!(list));
        }
        Value::Object(out)
    }
}

/// One entry of the change journal: the item changed (or left) this container at `seq`.
#[derive(Debug, Clone)]
pub struct Change {
    pub seq: u64,
    pub folder: String,
    pub immutable_id: String,
    /// The REST id it had in this folder, for an `@removed` entry of a client that knows it so.
    pub rest_id: String,
}

#[derive(Debug, Default)]
pub struct Mailbox {
    pub folders: Vec<Folder>,
    pub items: BTreeMap<String, Item>,
    pub journal: Vec<Change>,
    pub seq: u64,
    next_id: u64,
    /// Delta tokens from before this journal position were evicted: their rounds answer 410.
    pub evicted_before: u64,
    /// The occurrences of series masters that were changed or cancelled, by master.
    pub series: BTreeMap<String, crate::events::Series>,
    /// Where the calendar view's delta rounds stand.
    pub(crate) calendar_sync: crate::event_delta::SyncStates,
}

impl Mailbox {
    /// A mailbox with Outlook's default "Contacts" folder, To Do's "Tasks" list and the default
    /// "Calendar".
    pub fn new() -> Mailbox {
        let mut mailbox = Mailbox::default();
        let id = mailbox.new_id("folder");
        mailbox.folders.push(Folder {
            id,
            name: "Contacts".into(),
            kind: Kind::Contact,
            wellknown: None,
        });
        let id = mailbox.new_id("list");
        mailbox.folders.push(Folder {
            id,
            name: "Tasks".into(),
            kind: Kind::Task,
            wellknown: Some("defaultList"),
        });
        let id = mailbox.new_id("calendar");
        mailbox.folders.push(Folder {
            id,
            name: "Calendar".into(),
            kind: Kind::Event,
            wellknown: None,
        });
        mailbox
    }

    /// An opaque id in Exchange's base64 shape, unique in the mailbox.
    fn new_id(&mut self, what: &str) -> String {
        self.next_id += 1;
        encode_id(&format!(
            "tandem-graph-emulator/{what}/{:016x}",
            self.next_id
        ))
    }

    pub(crate) fn change_key(&mut self) -> String {
        self.seq += 1;
        format!("EQAAABYAAAD{:010}", self.seq)
    }

    /// A container of `kind` by id.
    pub fn folder(&self, id: &str, kind: Kind) -> Result<&Folder, GraphError> {
        self.folders
            .iter()
            .find(|f| f.id == id && f.kind == kind)
            .ok_or_else(GraphError::not_found)
    }

    pub fn create_folder(&mut self, name: &str, kind: Kind) -> Result<Folder, GraphError> {
        if name.trim().is_empty() {
            return Err(GraphError::bad_request(
                "ErrorInvalidRequest",
                "The folder name is missing.",
            ));
        }
        if self
            .folders
            .iter()
            .any(|f| f.kind == kind && f.name.eq_ignore_ascii_case(name))
        {
            return Err(GraphError::folder_exists());
        }
        let folder = Folder {
            id: self.new_id("folder"),
            name: name.to_string(),
            kind,
            wellknown: None,
        };
        self.folders.push(folder.clone());
        Ok(folder)
    }

    /// An item of `kind` by either of its ids.
    pub fn find(&self, id: &str, kind: Kind) -> Result<&Item, GraphError> {
        self.items
            .get(id)
            .filter(|i| i.kind.immutable_ids())
            .or_else(|| self.items.values().find(|i| i.rest_id == id))
            .filter(|i| i.kind == kind)
            .ok_or_else(GraphError::not_found)
    }

    pub(crate) fn record(&mut self, folder: &str, immutable_id: &str, rest_id: &str) {
        self.journal.push(Change {
            seq: self.seq,
            folder: folder.to_string(),
            immutable_id: immutable_id.to_string(),
            rest_id: rest_id.to_string(),
        });
    }

    pub fn create(
        &mut self,
        folder: &str,
        kind: Kind,
        body: &Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<Item, GraphError> {
        self.folder(folder, kind)?;
        let (fields, extended) = writable(kind, body)?;
        let immutable_id = self.new_id("item");
        let rest_id = self.new_id("rest");
        let contact = Item {
            kind,
            immutable_id: immutable_id.clone(),
            rest_id: rest_id.clone(),
            folder: folder.to_string(),
            change_key: self.change_key(),
            created: now,
            modified: now,
            fields,
            extended,
        };
        self.record(folder, &immutable_id, &rest_id);
        self.items.insert(immutable_id, contact.clone());
        Ok(contact)
    }

    /// PATCH: the properties given replace theirs (`null` clears one); `if_match` must name
    /// the current change key when given.
    pub fn update(
        &mut self,
        id: &str,
        kind: Kind,
        body: &Map<String, Value>,
        if_match: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Item, GraphError> {
        let key = self.find(id, kind)?.immutable_id.clone();
        let current = self.items[&key].etag();
        if let Some(wanted) = if_match
            && wanted != "*"
            && wanted.trim() != current
            && wanted.trim().trim_start_matches("W/") != current.trim_start_matches("W/")
        {
            return Err(GraphError::conflict());
        }
        let (fields, extended) = writable(kind, body)?;
        let change_key = self.change_key();
        let contact = self.items.get_mut(&key).ok_or_else(GraphError::not_found)?;
        for (name, value) in fields {
            if value.is_null() {
                contact.fields.remove(&name);
            } else {
                contact.fields.insert(name, value);
            }
        }
        contact.extended.extend(extended);
        contact.change_key = change_key;
        contact.modified = now;
        let contact = contact.clone();
        self.record(&contact.folder, &contact.immutable_id, &contact.rest_id);
        Ok(contact)
    }

    pub fn delete(&mut self, id: &str, kind: Kind) -> Result<(), GraphError> {
        let key = self.find(id, kind)?.immutable_id.clone();
        let contact = self.items.remove(&key).ok_or_else(GraphError::not_found)?;
        self.seq += 1;
        self.record(&contact.folder, &contact.immutable_id, &contact.rest_id);
        Ok(())
    }

    /// What the user does in Outlook by dragging an item to another folder or list: it leaves
    /// one container's delta and joins the other's, and its REST id changes (the immutable one
    /// of a contact stays).
    pub fn move_item(&mut self, id: &str, kind: Kind, folder: &str) -> Result<Item, GraphError> {
        self.folder(folder, kind)?;
        let key = self.find(id, kind)?.immutable_id.clone();
        let rest_id = self.new_id("rest");
        let change_key = self.change_key();
        let contact = self.items.get_mut(&key).ok_or_else(GraphError::not_found)?;
        let (from, old_rest) = (contact.folder.clone(), contact.rest_id.clone());
        contact.folder = folder.to_string();
        contact.rest_id = rest_id;
        contact.change_key = change_key;
        let contact = contact.clone();
        self.record(&from, &contact.immutable_id, &old_rest);
        self.record(folder, &contact.immutable_id, &contact.rest_id);
        Ok(contact)
    }

    /// The container's items, in id order.
    pub fn in_folder(&self, folder: &str) -> Vec<&Item> {
        self.items.values().filter(|c| c.folder == folder).collect()
    }
}

/// An id in Exchange's base64 shape around `raw`.
pub(crate) fn encode_id(raw: &str) -> String {
    use base64::Engine;
    format!(
        "AAMkA{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    )
}

/// What `encode_id` wrapped, for an id the emulator made.
pub(crate) fn decode_id(id: &str) -> Option<String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(id.strip_prefix("AAMkA")?)
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// Single-value extended properties: property id → value.
pub type Extended = BTreeMap<String, String>;

/// The writable properties of a request body, and its extended properties; an unknown
/// property is refused with the message Graph gives.
pub(crate) fn writable(
    kind: Kind,
    body: &Map<String, Value>,
) -> Result<(Map<String, Value>, Extended), GraphError> {
    let mut fields = Map::new();
    let mut extended = BTreeMap::new();
    for (name, value) in body {
        if name.starts_with("@odata") {
            continue;
        }
        if !kind.writable().contains(&name.as_str()) {
            return Err(GraphError::bad_request(
                "RequestBodyRead",
                format!(
                    "Could not find a property named '{name}' on type '{}'.",
                    kind.type_name()
                ),
            ));
        }
        kind.check(name, value)?;
        if name == "singleValueExtendedProperties" {
            for property in value.as_array().into_iter().flatten() {
                let (Some(id), Some(value)) = (
                    property.get("id").and_then(Value::as_str),
                    property.get("value").and_then(Value::as_str),
                ) else {
                    return Err(GraphError::bad_request(
                        "RequestBodyRead",
                        "An extended property needs an id and a value.",
                    ));
                };
                extended.insert(id.to_string(), value.to_string());
            }
            continue;
        }
        fields.insert(name.clone(), value.clone());
    }
    Ok((fields, extended))
}
