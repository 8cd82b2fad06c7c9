//! Typed field values as stored in the org, and the ordered JSON documents the API renders from them.

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, Utc};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value as Json;

use super::clock::format_datetime;

/// One field's value. Dates and datetimes stay typed so SOQL compares instants, not strings.
/// (Serde is for the kept org file, not for the API, which renders through `Doc`.)
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Double(f64),
    Text(String),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> bool {
        matches!(self, Value::Bool(true))
    }

    pub fn as_datetime(&self) -> Option<DateTime<Utc>> {
        match self {
            Value::DateTime(t) => Some(*t),
            _ => None,
        }
    }

    pub fn as_date(&self) -> Option<NaiveDate> {
        match self {
            Value::Date(d) => Some(*d),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Double(d) => Some(*d as i64),
            _ => None,
        }
    }

    pub fn to_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::Double(d) => serde_json::Number::from_f64(*d)
                .map(Json::Number)
                .unwrap_or(Json::Null),
            Value::Text(s) => Json::String(s.clone()),
            Value::Date(d) => Json::String(d.format("%Y-%m-%d").to_string()),
            Value::DateTime(t) => Json::String(format_datetime(*t)),
        }
    }

    /// Total order used by ORDER BY: text compares case-insensitively like Salesforce; mixed kinds by kind.
    pub fn sort_cmp(&self, other: &Value) -> Ordering {
        match (self, other) {
            (Value::Text(a), Value::Text(b)) => a
                .to_lowercase()
                .cmp(&b.to_lowercase())
                .then_with(|| a.cmp(b)),
            (Value::Int(a), Value::Int(b)) => a.cmp(b),
            (Value::Double(a), Value::Double(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
            (Value::Int(a), Value::Double(b)) => {
                (*a as f64).partial_cmp(b).unwrap_or(Ordering::Equal)
            }
            (Value::Double(a), Value::Int(b)) => {
                a.partial_cmp(&(*b as f64)).unwrap_or(Ordering::Equal)
            }
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            (Value::Date(a), Value::Date(b)) => a.cmp(b),
            (Value::DateTime(a), Value::DateTime(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Int(_) | Value::Double(_) => 2,
            Value::Text(_) => 3,
            Value::Date(_) => 4,
            Value::DateTime(_) => 5,
        }
    }
}

/// A JSON document whose object keys keep insertion order: records render `attributes` first and fields in
/// schema or SELECT order, like Salesforce, without switching serde_json's map type for the whole program.
#[derive(Debug, Clone, PartialEq)]
pub enum Doc {
    Scalar(Json),
    Object(Vec<(String, Doc)>),
    Array(Vec<Doc>),
}

impl Doc {
    pub fn object() -> Self {
        Doc::Object(Vec::new())
    }

    /// Adds a key (builder style). On a non-object this is a no-op.
    pub fn with(mut self, key: &str, value: impl Into<Doc>) -> Self {
        self.push(key, value);
        self
    }

    pub fn push(&mut self, key: &str, value: impl Into<Doc>) {
        if let Doc::Object(entries) = self {
            entries.push((key.to_string(), value.into()));
        }
    }

    pub fn get(&self, key: &str) -> Option<&Doc> {
        match self {
            Doc::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Doc> {
        match self {
            Doc::Object(entries) => entries.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Converts to a plain `serde_json::Value` (key order is then up to serde_json).
    pub fn to_json(&self) -> Json {
        match self {
            Doc::Scalar(v) => v.clone(),
            Doc::Object(entries) => Json::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
            Doc::Array(items) => Json::Array(items.iter().map(Doc::to_json).collect()),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_else(|_| b"null".to_vec())
    }
}

impl From<Json> for Doc {
    fn from(v: Json) -> Self {
        match v {
            Json::Array(items) => Doc::Array(items.into_iter().map(Doc::from).collect()),
            Json::Object(map) => {
                Doc::Object(map.into_iter().map(|(k, v)| (k, Doc::from(v))).collect())
            }
            other => Doc::Scalar(other),
        }
    }
}

impl From<&str> for Doc {
    fn from(s: &str) -> Self {
        Doc::Scalar(Json::String(s.to_string()))
    }
}

impl From<String> for Doc {
    fn from(s: String) -> Self {
        Doc::Scalar(Json::String(s))
    }
}

impl From<bool> for Doc {
    fn from(b: bool) -> Self {
        Doc::Scalar(Json::Bool(b))
    }
}

impl From<u64> for Doc {
    fn from(n: u64) -> Self {
        Doc::Scalar(Json::from(n))
    }
}

impl From<i64> for Doc {
    fn from(n: i64) -> Self {
        Doc::Scalar(Json::from(n))
    }
}

impl From<Vec<Doc>> for Doc {
    fn from(items: Vec<Doc>) -> Self {
        Doc::Array(items)
    }
}

impl From<Option<String>> for Doc {
    fn from(s: Option<String>) -> Self {
        s.map(Doc::from).unwrap_or(Doc::Scalar(Json::Null))
    }
}

impl Serialize for Doc {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Doc::Scalar(v) => v.serialize(serializer),
            Doc::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            Doc::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_keeps_key_order() {
        let d = Doc::object().with("z", "1").with("a", true);
        assert_eq!(
            String::from_utf8_lossy(&d.to_bytes()),
            r#"{"z":"1","a":true}"#
        );
    }

    #[test]
    fn text_sorts_case_insensitively() {
        let a = Value::Text("apple".into());
        let b = Value::Text("Banana".into());
        assert_eq!(a.sort_cmp(&b), Ordering::Less);
        assert_eq!(Value::Null.sort_cmp(&a), Ordering::Less);
    }
}
