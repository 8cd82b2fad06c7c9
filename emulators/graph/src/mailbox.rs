//! One Outlook mailbox's contacts: folders, contacts with their two ids (the REST id that
//! changes when the item moves, and the immutable id, outlook-immutable-id.md), change keys that
//! change on every write, and a journal of changes per folder that delta queries read.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

use crate::error::GraphError;

/// The contact properties a client may write (resources/contact.md, the subset tandem maps and
/// the ones Outlook users fill in most); anything else is refused as Graph refuses it.
const WRITABLE: &[&str] = &[
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
    "categories",
    "singleValueExtendedProperties",
];

/// A property's value when the contact has none, as Graph returns it.
fn empty(name: &str) -> Value {
    match name {
        "emailAddresses" | "businessPhones" | "homePhones" | "categories" => json!([]),
        "businessAddress" | "homeAddress" | "otherAddress" => json!({}),
        _ => Value::Null,
    }
}

#[derive(Debug, Clone)]
pub struct Folder {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct Contact {
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

impl Contact {
    pub fn id(&self, ids: IdType) -> &str {
        match ids {
            IdType::Rest => &self.rest_id,
            IdType::Immutable => &self.immutable_id,
        }
    }

    pub fn etag(&self) -> String {
        format!("W/\"{}\"", self.change_key)
    }

    /// The contact as Graph returns it: every property, absent ones empty; extended
    /// properties only when asked for (`$expand`).
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
        out.insert("changeKey".into(), json!(self.change_key));
        out.insert("parentFolderId".into(), json!(self.folder));
        for name in WRITABLE
            .iter()
            .filter(|n| **n != "singleValueExtendedProperties")
        {
            let value = self
                .fields
                .get(*name)
                .cloned()
                .unwrap_or_else(|| empty(name));
            out.insert((*name).into(), value);
        }
        if let Some(wanted) = expand {
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

/// One entry of the change journal: the contact changed (or left) this folder at `seq`.
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
    pub contacts: BTreeMap<String, Contact>,
    pub journal: Vec<Change>,
    pub seq: u64,
    next_id: u64,
    /// Delta tokens from before this journal position were evicted: their rounds answer 410.
    pub evicted_before: u64,
}

impl Mailbox {
    /// A mailbox with Outlook's default "Contacts" folder.
    pub fn new() -> Mailbox {
        let mut mailbox = Mailbox::default();
        let id = mailbox.new_id("folder");
        mailbox.folders.push(Folder {
            id,
            name: "Contacts".into(),
        });
        mailbox
    }

    /// An opaque id in Exchange's base64 shape, unique in the mailbox.
    fn new_id(&mut self, what: &str) -> String {
        use base64::Engine;
        self.next_id += 1;
        let raw = format!("tandem-graph-emulator/{what}/{:016x}", self.next_id);
        format!(
            "AAMkA{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
        )
    }

    fn change_key(&mut self) -> String {
        self.seq += 1;
        format!("EQAAABYAAAD{:010}", self.seq)
    }

    pub fn folder(&self, id: &str) -> Result<&Folder, GraphError> {
        self.folders
            .iter()
            .find(|f| f.id == id)
            .ok_or_else(GraphError::not_found)
    }

    pub fn create_folder(&mut self, name: &str) -> Result<Folder, GraphError> {
        if name.trim().is_empty() {
            return Err(GraphError::bad_request(
                "ErrorInvalidRequest",
                "The folder name is missing.",
            ));
        }
        if self
            .folders
            .iter()
            .any(|f| f.name.eq_ignore_ascii_case(name))
        {
            return Err(GraphError::folder_exists());
        }
        let folder = Folder {
            id: self.new_id("folder"),
            name: name.to_string(),
        };
        self.folders.push(folder.clone());
        Ok(folder)
    }

    /// A contact by either of its ids.
    pub fn find(&self, id: &str) -> Result<&Contact, GraphError> {
        self.contacts
            .get(id)
            .or_else(|| self.contacts.values().find(|c| c.rest_id == id))
            .ok_or_else(GraphError::not_found)
    }

    fn record(&mut self, folder: &str, immutable_id: &str, rest_id: &str) {
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
        body: &Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<Contact, GraphError> {
        self.folder(folder)?;
        let (fields, extended) = writable(body)?;
        let immutable_id = self.new_id("contact");
        let rest_id = self.new_id("rest");
        let contact = Contact {
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
        self.contacts.insert(immutable_id, contact.clone());
        Ok(contact)
    }

    /// PATCH: the properties given replace theirs (`null` clears one); `if_match` must name
    /// the current change key when given.
    pub fn update(
        &mut self,
        id: &str,
        body: &Map<String, Value>,
        if_match: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Contact, GraphError> {
        let key = self.find(id)?.immutable_id.clone();
        let current = self.contacts[&key].etag();
        if let Some(wanted) = if_match
            && wanted != "*"
            && wanted.trim() != current
            && wanted.trim().trim_start_matches("W/") != current.trim_start_matches("W/")
        {
            return Err(GraphError::conflict());
        }
        let (fields, extended) = writable(body)?;
        let change_key = self.change_key();
        let contact = self
            .contacts
            .get_mut(&key)
            .ok_or_else(GraphError::not_found)?;
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

    pub fn delete(&mut self, id: &str) -> Result<(), GraphError> {
        let key = self.find(id)?.immutable_id.clone();
        let contact = self
            .contacts
            .remove(&key)
            .ok_or_else(GraphError::not_found)?;
        self.seq += 1;
        self.record(&contact.folder, &contact.immutable_id, &contact.rest_id);
        Ok(())
    }

    /// What the user does in Outlook by dragging a contact to another folder: it leaves one
    /// folder's delta and joins the other's, and its REST id changes (the immutable one stays).
    pub fn move_contact(&mut self, id: &str, folder: &str) -> Result<Contact, GraphError> {
        self.folder(folder)?;
        let key = self.find(id)?.immutable_id.clone();
        let rest_id = self.new_id("rest");
        let change_key = self.change_key();
        let contact = self
            .contacts
            .get_mut(&key)
            .ok_or_else(GraphError::not_found)?;
        let (from, old_rest) = (contact.folder.clone(), contact.rest_id.clone());
        contact.folder = folder.to_string();
        contact.rest_id = rest_id;
        contact.change_key = change_key;
        let contact = contact.clone();
        self.record(&from, &contact.immutable_id, &old_rest);
        self.record(folder, &contact.immutable_id, &contact.rest_id);
        Ok(contact)
    }

    /// The folder's contacts, in id order.
    pub fn in_folder(&self, folder: &str) -> Vec<&Contact> {
        self.contacts
            .values()
            .filter(|c| c.folder == folder)
            .collect()
    }
}

/// Single-value extended properties: property id → value.
type Extended = BTreeMap<String, String>;

/// The writable properties of a request body, and its extended properties; an unknown
/// property is refused with the message Graph gives.
fn writable(body: &Map<String, Value>) -> Result<(Map<String, Value>, Extended), GraphError> {
    let mut fields = Map::new();
    let mut extended = BTreeMap::new();
    for (name, value) in body {
        if name.starts_with("@odata") {
            continue;
        }
        if !WRITABLE.contains(&name.as_str()) {
            return Err(GraphError::bad_request(
                "RequestBodyRead",
                format!(
                    "Could not find a property named '{name}' on type 'microsoft.graph.contact'."
                ),
            ));
        }
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
