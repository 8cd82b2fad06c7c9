//! Contact rules the table can't express: the required LastName.

use super::error::{MappingError, Warning};
use super::limits::truncate;
use super::table::SfRow;
use super::{Mode, Outgoing};
use crate::record::Fields;
use serde_json::{Map, Value};

const LAST_NAME_MAX: usize = 80;

/// What Salesforce's own Web-to-Lead writes when a required name is unknown.
pub(crate) const NOT_PROVIDED: &str = "[not provided]";

pub(crate) fn read(row: &SfRow, fields: &mut Fields) -> Result<(), MappingError> {
    if let Some(last) = row.text("LastName")? {
        fields.insert("last_name".into(), Value::String(last));
    }
    Ok(())
}

pub(crate) fn write(fields: &Fields, mode: Mode, out: &mut Outgoing) -> Result<(), MappingError> {
    match fields.get("last_name").and_then(Value::as_str) {
        Some(last) if !last.trim().is_empty() => {
            let (cut, warning) = truncate("Contact", "LastName", last, Some(LAST_NAME_MAX));
            out.fields.insert("LastName".into(), Value::String(cut));
            out.warnings.extend(warning);
        }
        _ if mode == Mode::Create => {
            let (filled, warning) = fill_last_name(fields, &mut out.fields);
            out.fields.insert("LastName".into(), Value::String(filled));
            out.warnings.push(warning);
            // A create has nothing to clear.
            if out.fields.get("FirstName") == Some(&Value::Null) {
                out.fields.remove("FirstName");
            }
        }
        _ => {}
    }
    Ok(())
}

/// Salesforce requires a last name; a desktop contact may have none. Use, in order: the first
/// name (a one-name person such as "Madonna" is better shown by that name alone, so FirstName
/// is then not sent), the local part of the email, the company, and finally `[not provided]`.
pub(crate) fn fill_last_name(fields: &Fields, body: &mut Map<String, Value>) -> (String, Warning) {
    let text = |name: &str| {
        fields
            .get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let (source, value) = if let Some(first) = text("first_name") {
        body.insert("FirstName".into(), Value::Null);
        ("first name", first)
    } else if let Some(local) = text("email")
        .and_then(|e| e.split('@').next().map(str::to_string))
        .filter(|l| !l.is_empty())
    {
        ("email address", local)
    } else if let Some(company) = text("company") {
        ("company", company)
    } else {
        ("placeholder Salesforce uses", NOT_PROVIDED.to_string())
    };
    let (cut, _) = truncate("Contact", "LastName", &value, Some(LAST_NAME_MAX));
    (cut.clone(), Warning::LastNameFilled { source, value: cut })
}
