//! The mapping tables (`protocol/mapping/*.toml`): loading them once, and the field-by-field
//! conversion every plain row gets. Rows marked with a `rule` are converted by the object's
//! own module (times, status, reminders), because they depend on other fields or the context.

use super::error::{MappingError, Warning, show};
use super::limits;
use super::time::{parse_date, parse_datetime, salesforce_date, salesforce_datetime};
use crate::record::{Fields, RecordKind};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::OnceLock;

const CONTACT_TOML: &str = include_str!("../../mapping/contact.toml");
const EVENT_TOML: &str = include_str!("../../mapping/event.toml");
const TASK_TOML: &str = include_str!("../../mapping/task.toml");

/// Salesforce field types as `describe` names them; they decide the JSON shape on both sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SfType {
    Id,
    Reference,
    String,
    Textarea,
    Email,
    Phone,
    Picklist,
    Combobox,
    Boolean,
    Int,
    Date,
    Datetime,
}

/// Which way a row travels: `in` from Salesforce only (read-only or system fields), `out` to
/// Salesforce only, `both` ways.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    In,
    Out,
    Both,
}

impl Direction {
    pub fn inbound(self) -> bool {
        matches!(self, Direction::In | Direction::Both)
    }
    pub fn outbound(self) -> bool {
        matches!(self, Direction::Out | Direction::Both)
    }
}

/// One row of a table: one Salesforce field and where it goes in the record.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    /// The API name, or a relationship path (`Account.Name`) for values only read.
    pub salesforce: String,
    /// The record field, with `.` into an address (`mailing_address.city`). Absent for fields
    /// queried only for sync bookkeeping (Id, SystemModstamp…).
    #[serde(default)]
    pub record: Option<String>,
    #[serde(rename = "type")]
    pub sf_type: SfType,
    #[serde(default)]
    pub max_length: Option<usize>,
    pub direction: Direction,
    /// For references: the relationship whose `Name` is queried and kept as the link's name.
    #[serde(default)]
    pub relationship: Option<String>,
    /// The record field is a list of links whose first one is this reference (Who).
    #[serde(default)]
    pub many: bool,
    /// Handled by the object's module rather than by the plain conversion.
    #[serde(default)]
    pub rule: Option<String>,
    /// Picklist values: Salesforce value → record value.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    /// The field exists only when the org turns it on (MiddleName, Suffix).
    #[serde(default)]
    pub optional: bool,
    /// Salesforce takes the field on create only.
    #[serde(default)]
    pub create_only: bool,
    pub comment: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// The sObject name.
    pub object: String,
    #[serde(rename = "field")]
    pub rows: Vec<Row>,
}

impl Table {
    pub fn row(&self, salesforce: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.salesforce == salesforce)
    }
}

struct Tables {
    contact: Result<Table, MappingError>,
    event: Result<Table, MappingError>,
    task: Result<Table, MappingError>,
}

fn parse(name: &'static str, text: &str) -> Result<Table, MappingError> {
    toml::from_str::<Table>(text).map_err(|e| MappingError::BadTable {
        table: name,
        reason: e.to_string(),
    })
}

/// The table of a kind, parsed on first use.
pub fn table(kind: RecordKind) -> Result<&'static Table, MappingError> {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    let tables = TABLES.get_or_init(|| Tables {
        contact: parse("contact", CONTACT_TOML),
        event: parse("event", EVENT_TOML),
        task: parse("task", TASK_TOML),
    });
    let table = match kind {
        RecordKind::Contact => &tables.contact,
        RecordKind::Event => &tables.event,
        RecordKind::Task => &tables.task,
    };
    table.as_ref().map_err(Clone::clone)
}

/// The sObject name of a kind.
pub fn object_name(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Contact => "Contact",
        RecordKind::Event => "Event",
        RecordKind::Task => "Task",
    }
}

/// Typed reading of a queried row; every error names the object, the field and the value.
pub struct SfRow<'a> {
    pub object: &'static str,
    pub map: &'a Map<String, Value>,
}

impl<'a> SfRow<'a> {
    /// The raw value of a field or of a relationship path (`Account.Name`); a null
    /// relationship means "no value".
    pub fn raw(&self, path: &str) -> Result<Option<&'a Value>, MappingError> {
        let mut segments = path.split('.');
        let Some(first) = segments.next() else {
            return Ok(None);
        };
        let mut current = match self.map.get(first) {
            None | Some(Value::Null) => return Ok(None),
            Some(v) => v,
        };
        for segment in segments {
            let Value::Object(inner) = current else {
                return Err(self.wrong(path, "an object (a relationship)", current));
            };
            current = match inner.get(segment) {
                None | Some(Value::Null) => return Ok(None),
                Some(v) => v,
            };
        }
        Ok(Some(current))
    }

    fn wrong(&self, field: &str, expected: &'static str, value: &Value) -> MappingError {
        MappingError::WrongType {
            object: self.object,
            field: field.to_string(),
            expected,
            value: show(value),
        }
    }

    /// A text value; Salesforce returns empty text as null, so "" also means none.
    pub fn text(&self, field: &str) -> Result<Option<String>, MappingError> {
        match self.raw(field)? {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.wrong(field, "a string", other)),
        }
    }

    /// A checkbox; Salesforce booleans are never null, an absent one is false.
    pub fn flag(&self, field: &str) -> Result<bool, MappingError> {
        match self.raw(field)? {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(self.wrong(field, "true or false", other)),
        }
    }

    pub fn int(&self, field: &str) -> Result<Option<i64>, MappingError> {
        match self.raw(field)? {
            None => Ok(None),
            Some(v) => match v.as_i64() {
                Some(n) => Ok(Some(n)),
                // Numbers come back as 60.0 from some API versions.
                None => match v.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => Ok(Some(f as i64)),
                    _ => Err(self.wrong(field, "a whole number", v)),
                },
            },
        }
    }

    pub fn date(&self, field: &str) -> Result<Option<chrono::NaiveDate>, MappingError> {
        match self.raw(field)? {
            None => Ok(None),
            Some(Value::String(s)) => parse_date(s)
                .map(Some)
                .ok_or_else(|| self.bad_temporal(field, "date", "yyyy-MM-dd", s)),
            Some(other) => Err(self.wrong(field, "a date string", other)),
        }
    }

    pub fn datetime(
        &self,
        field: &str,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, MappingError> {
        match self.raw(field)? {
            None => Ok(None),
            Some(Value::String(s)) => parse_datetime(s).map(Some).ok_or_else(|| {
                self.bad_temporal(field, "datetime", "yyyy-MM-ddTHH:mm:ss.SSS+0000", s)
            }),
            Some(other) => Err(self.wrong(field, "a datetime string", other)),
        }
    }

    fn bad_temporal(
        &self,
        field: &str,
        expected: &'static str,
        format: &'static str,
        value: &str,
    ) -> MappingError {
        MappingError::BadTemporal {
            object: self.object,
            field: field.to_string(),
            expected,
            format,
            value: value.to_string(),
        }
    }
}

/// Set a record field, descending into a nested object for `a.b` paths.
pub fn set_path(fields: &mut Fields, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            fields.insert(path.to_string(), value);
        }
        Some((top, rest)) => {
            let entry = fields
                .entry(top.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(inner) = entry {
                inner.insert(rest.to_string(), value);
            }
        }
    }
}

/// A record field, descending into a nested object for `a.b` paths.
pub fn get_path<'a>(fields: &'a Fields, path: &str) -> Option<&'a Value> {
    let value = match path.split_once('.') {
        None => fields.get(path),
        Some((top, rest)) => fields.get(top).and_then(|v| v.get(rest)),
    };
    value.filter(|v| !v.is_null())
}

/// The plain rows of a table, Salesforce → record.
pub fn read_plain(table: &Table, row: &SfRow, out: &mut Fields) -> Result<(), MappingError> {
    for r in table.rows.iter().filter(|r| r.direction.inbound()) {
        let (Some(path), None) = (&r.record, &r.rule) else {
            continue;
        };
        let value = match r.sf_type {
            SfType::Boolean => Some(Value::Bool(row.flag(&r.salesforce)?)),
            SfType::Int => row.int(&r.salesforce)?.map(Value::from),
            SfType::Date => row
                .date(&r.salesforce)?
                .map(|d| Value::String(salesforce_date(d))),
            SfType::Datetime => row
                .datetime(&r.salesforce)?
                .and_then(|t| serde_json::to_value(t).ok()),
            SfType::Reference => {
                let name = match &r.relationship {
                    Some(rel) => row.text(&format!("{rel}.Name"))?,
                    None => None,
                };
                row.text(&r.salesforce)?.map(|id| {
                    let mut link = Map::new();
                    link.insert("salesforce_id".into(), Value::String(id));
                    if let Some(name) = name {
                        link.insert("name".into(), Value::String(name));
                    }
                    if r.many {
                        Value::Array(vec![Value::Object(link)])
                    } else {
                        Value::Object(link)
                    }
                })
            }
            _ => match row.text(&r.salesforce)? {
                // An org's own picklist value the record has no name for is left out rather
                // than failing the whole row.
                Some(v) if !r.values.is_empty() => r.values.get(&v).cloned().map(Value::String),
                other => other.map(Value::String),
            },
        };
        if let Some(value) = value {
            set_path(out, path, value);
        }
    }
    Ok(())
}

/// The plain rows of a table, record → Salesforce. Text is cut to the field's length and a
/// value Salesforce would reject is left out, each with a warning: a write never fails for it.
pub fn write_plain(
    table: &Table,
    object: &'static str,
    fields: &Fields,
    optional_enabled: &[String],
    body: &mut Map<String, Value>,
    warnings: &mut Vec<Warning>,
) {
    for r in table.rows.iter().filter(|r| r.direction.outbound()) {
        let (Some(path), None) = (&r.record, &r.rule) else {
            continue;
        };
        if r.optional && !optional_enabled.iter().any(|f| f == &r.salesforce) {
            continue;
        }
        let value = get_path(fields, path);
        let sent = match (r.sf_type, value) {
            (SfType::Boolean, v) => Some(Value::Bool(v.and_then(Value::as_bool).unwrap_or(false))),
            (_, None) => None,
            (SfType::Reference, Some(v)) => {
                let link = if r.many { v.get(0) } else { Some(v) };
                link.and_then(|l| l.get("salesforce_id"))
                    .and_then(Value::as_str)
                    .map(|id| Value::String(id.to_string()))
            }
            (SfType::Datetime, Some(v)) => v
                .as_str()
                .and_then(parse_datetime)
                .map(|t| Value::String(salesforce_datetime(t))),
            (SfType::Int, Some(v)) => v.as_i64().map(Value::from),
            (SfType::Date, Some(v)) => v.as_str().map(|s| Value::String(s.to_string())),
            (_, Some(v)) => {
                let Some(text) = v.as_str() else { continue };
                let text = if r.values.is_empty() {
                    text.to_string()
                } else {
                    match r.values.iter().find(|(_, rec)| rec.as_str() == text) {
                        Some((sf, _)) => sf.clone(),
                        None => continue,
                    }
                };
                if r.sf_type == SfType::Email && !limits::is_salesforce_email(&text) {
                    warnings.push(Warning::NotSent {
                        object,
                        field: r.salesforce.clone(),
                        reason: format!("`{text}` is not an address Salesforce accepts"),
                    });
                    continue;
                }
                let (cut, warning) = limits::truncate(object, &r.salesforce, &text, r.max_length);
                warnings.extend(warning);
                Some(Value::String(cut))
            }
        };
        if let Some(v) = sent {
            body.insert(r.salesforce.clone(), v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_parses_and_names_real_record_fields() {
        for kind in RecordKind::ALL {
            let t = table(kind).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(t.object, object_name(kind));
            for r in &t.rows {
                assert!(
                    !r.comment.trim().is_empty(),
                    "{} needs a comment",
                    r.salesforce
                );
                if let Some(path) = &r.record {
                    let top = path.split('.').next().unwrap_or("");
                    assert!(
                        kind.field_names().contains(&top),
                        "{}: `{path}` is not a {kind} field",
                        r.salesforce
                    );
                }
                if r.sf_type == SfType::Reference && r.direction.inbound() {
                    assert!(
                        r.relationship.is_some() || r.record.is_none(),
                        "{}",
                        r.salesforce
                    );
                }
            }
        }
    }
}
