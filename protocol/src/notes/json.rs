//! Reading Notes JSON by name with typed errors, and putting record values into fields.
//!
//! Notes item names are case-insensitive (`STARTDATETIME` is `StartDateTime`), so a name is
//! looked up exactly first and then without regard to case. The basis API's schema coercion
//! makes a multi-value item a list and may hand a one-value list back as a bare value, so a
//! list reads from either; values that are numbers in one document (`DueState: 1`) are strings
//! in another (`"1"`), so codes read from both.

use super::error::{NotesMappingError, show};
use crate::record::Fields;
use serde::Serialize;
use serde_json::{Map, Value};

/// One Notes object (a document, a jsevent, or an object inside one), for reading by name.
#[derive(Clone)]
pub(crate) struct Item<'a> {
    /// What is read, for errors: `Person document`, `Task document`, `jsevent`.
    pub kind: &'static str,
    /// Where this object sits in the item (`alerts/1/trigger/`), for errors.
    pub path: String,
    pub map: &'a Map<String, Value>,
}

impl<'a> Item<'a> {
    pub fn new(kind: &'static str, value: &'a Value) -> Result<Item<'a>, NotesMappingError> {
        match value {
            Value::Object(map) => Ok(Item {
                kind,
                path: String::new(),
                map,
            }),
            other => Err(NotesMappingError::NotAnObject {
                item: kind,
                value: show(other),
            }),
        }
    }

    fn name(&self, name: &str) -> String {
        format!("{}{name}", self.path)
    }

    pub fn wrong(&self, name: &str, expected: &'static str, value: &Value) -> NotesMappingError {
        NotesMappingError::WrongType {
            item: self.kind,
            name: self.name(name),
            expected,
            value: show(value),
        }
    }

    pub fn bad(&self, name: &str, value: &str, expected: &'static str) -> NotesMappingError {
        NotesMappingError::BadValue {
            item: self.kind,
            name: self.name(name),
            value: value.to_string(),
            expected,
        }
    }

    /// The name as the object spells it: exactly, else the first key equal without regard to
    /// case.
    pub fn key(&self, name: &str) -> Option<&'a str> {
        key_in(self.map, name)
    }

    /// The raw value, `None` when absent or `null`.
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.key(name)
            .and_then(|k| self.map.get(k))
            .filter(|v| !v.is_null())
    }

    /// A text value; an empty string is no value. A one-element list (a multi-value item
    /// holding one value) reads as its element.
    pub fn text(&self, name: &str) -> Result<Option<String>, NotesMappingError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok((!s.is_empty()).then(|| s.clone())),
            Some(Value::Array(items)) if items.len() <= 1 => match items.first() {
                None => Ok(None),
                Some(Value::String(s)) => Ok((!s.is_empty()).then(|| s.clone())),
                Some(other) => Err(self.wrong(name, "a text", other)),
            },
            Some(other) => Err(self.wrong(name, "a text", other)),
        }
    }

    /// A keyword item such as `DueState` or `Importance`: a string or a number, as text.
    pub fn code(&self, name: &str) -> Result<Option<String>, NotesMappingError> {
        match self.get(name) {
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            _ => self.text(name),
        }
    }

    /// A list of texts, empty ones left out; a bare string is a list of one.
    pub fn texts(&self, name: &str) -> Result<Vec<String>, NotesMappingError> {
        let values: Vec<&Value> = match self.get(name) {
            None => Vec::new(),
            Some(Value::Array(items)) => items.iter().collect(),
            Some(one) => vec![one],
        };
        values
            .into_iter()
            .filter_map(|v| match v {
                Value::String(s) if s.is_empty() => None,
                Value::String(s) => Some(Ok(s.clone())),
                other => Some(Err(self.wrong(name, "a text or a list of texts", other))),
            })
            .collect()
    }

    /// A list property's elements; a single value is a list of one.
    pub fn list_of(&self, name: &str) -> Result<Vec<&'a Value>, NotesMappingError> {
        Ok(match self.get(name) {
            None => Vec::new(),
            Some(Value::Array(items)) => items.iter().collect(),
            Some(one) => vec![one],
        })
    }

    /// A boolean property; absent is `false`, JSCalendar's default for the flags tandem reads.
    pub fn flag(&self, name: &str) -> Result<bool, NotesMappingError> {
        match self.get(name) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(self.wrong(name, "true or false", other)),
        }
    }

    pub fn int(&self, name: &str) -> Result<Option<i64>, NotesMappingError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.wrong(name, "a whole number", v)),
        }
    }

    /// An object property, read with the same kind and a longer path.
    pub fn object(&self, name: &str) -> Result<Option<Item<'a>>, NotesMappingError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Item {
                kind: self.kind,
                path: format!("{}{name}/", self.path),
                map,
            })),
            Some(other) => Err(self.wrong(name, "an object", other)),
        }
    }

    /// The entries of a JSCalendar map (`Id[Location]`, `Id[Alert]`…) that are objects, in
    /// the map's order.
    pub fn entries(&self, name: &str) -> Result<Vec<(&'a str, Item<'a>)>, NotesMappingError> {
        let Some(map) = self.object(name)? else {
            return Ok(Vec::new());
        };
        map.map
            .iter()
            .map(|(id, v)| match v {
                Value::Object(inner) => Ok((
                    id.as_str(),
                    Item {
                        kind: self.kind,
                        path: format!("{}{id}/", map.path),
                        map: inner,
                    },
                )),
                other => Err(map.wrong(id, "an object", other)),
            })
            .collect()
    }
}

/// `name` as `map` spells it (see [`Item::key`]).
pub(crate) fn key_in<'m>(map: &'m Map<String, Value>, name: &str) -> Option<&'m str> {
    if let Some((k, _)) = map.get_key_value(name) {
        return Some(k.as_str());
    }
    map.keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .map(String::as_str)
}

/// Set a field to a typed value; a value that serializes empty is left out, as in any record.
pub(crate) fn put<T: Serialize>(fields: &mut Fields, name: &str, value: T) {
    let value = serde_json::to_value(value).unwrap_or(Value::Null);
    if !crate::record::is_empty_value(&value) {
        fields.insert(name.to_string(), value);
    }
}

/// Line breaks as records keep them (`\n`): Notes stores `\r\n`.
pub(crate) fn unix_breaks(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}
