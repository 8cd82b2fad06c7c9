//! Reading Graph JSON by property with typed errors, and putting record values into fields.
//!
//! Graph returns every property of an item, unset ones as `null`, `""`, `[]` or `{}`; all of
//! those read as "no value", as an absent field does in a record.

use super::error::{GraphMappingError, show};
use crate::record::Fields;
use serde::Serialize;
use serde_json::{Map, Value};

/// One Graph object (an item or a complex property of it), for reading properties by name.
#[derive(Clone, Copy)]
pub(crate) struct Item<'a> {
    /// Graph's name of the item kind, for errors: `contact`, `todoTask`, `event`.
    pub kind: &'static str,
    /// Where this object sits in the item (`location.` for the location), for errors.
    pub path: &'a str,
    pub map: &'a Map<String, Value>,
}

impl<'a> Item<'a> {
    pub fn new(kind: &'static str, value: &'a Value) -> Result<Item<'a>, GraphMappingError> {
        match value {
            Value::Object(map) => Ok(Item {
                kind,
                path: "",
                map,
            }),
            other => Err(GraphMappingError::NotAnObject {
                item: kind,
                value: show(other),
            }),
        }
    }

    fn name(&self, property: &str) -> String {
        format!("{}{property}", self.path)
    }

    pub fn wrong(
        &self,
        property: &str,
        expected: &'static str,
        value: &Value,
    ) -> GraphMappingError {
        GraphMappingError::WrongType {
            item: self.kind,
            property: self.name(property),
            expected,
            value: show(value),
        }
    }

    pub fn bad(&self, property: &str, value: &str, expected: &'static str) -> GraphMappingError {
        GraphMappingError::BadValue {
            item: self.kind,
            property: self.name(property),
            value: value.to_string(),
            expected,
        }
    }

    /// The raw value, `None` when absent or `null`.
    pub fn get(&self, property: &str) -> Option<&'a Value> {
        self.map.get(property).filter(|v| !v.is_null())
    }

    /// A string property; an empty string is no value.
    pub fn text(&self, property: &str) -> Result<Option<String>, GraphMappingError> {
        match self.get(property) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.wrong(property, "a string", other)),
        }
    }

    /// A boolean property; absent is `false`, as Graph's default for every flag tandem reads.
    pub fn flag(&self, property: &str) -> Result<bool, GraphMappingError> {
        match self.get(property) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(self.wrong(property, "true or false", other)),
        }
    }

    pub fn int(&self, property: &str) -> Result<Option<i64>, GraphMappingError> {
        match self.get(property) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.wrong(property, "a whole number", v)),
        }
    }

    /// A string collection, empty strings left out.
    pub fn texts(&self, property: &str) -> Result<Vec<String>, GraphMappingError> {
        Ok(self
            .list(property)?
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(self.wrong(property, "a list of strings", other)),
            })
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect())
    }

    pub fn list(&self, property: &str) -> Result<Vec<&'a Value>, GraphMappingError> {
        match self.get(property) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items.iter().collect()),
            Some(other) => Err(self.wrong(property, "a list", other)),
        }
    }

    /// A complex property (an object), read with the same kind and a longer path.
    pub fn object(
        &self,
        property: &str,
        path: &'a str,
    ) -> Result<Option<Item<'a>>, GraphMappingError> {
        match self.get(property) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Item {
                kind: self.kind,
                path,
                map,
            })),
            Some(other) => Err(self.wrong(property, "an object", other)),
        }
    }

    /// An element of a list property, as an object.
    pub fn element(
        &self,
        property: &str,
        value: &'a Value,
        path: &'a str,
    ) -> Result<Item<'a>, GraphMappingError> {
        match value {
            Value::Object(map) => Ok(Item {
                kind: self.kind,
                path,
                map,
            }),
            other => Err(self.wrong(property, "a list of objects", other)),
        }
    }
}

/// Set a field to a typed value; a value that serializes empty is left out, as in any record.
pub(crate) fn put<T: Serialize>(fields: &mut Fields, name: &str, value: T) {
    let value = serde_json::to_value(value).unwrap_or(Value::Null);
    if !crate::record::is_empty_value(&value) {
        fields.insert(name.to_string(), value);
    }
}

/// Whether a property value is Graph's "nothing here": null, "", [], or an object of those.
pub(crate) fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.values().all(is_blank),
        Value::Bool(_) | Value::Number(_) => false,
    }
}

/// Line breaks as records keep them (`\n`): Outlook stores `\r\n`.
pub(crate) fn unix_breaks(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}
