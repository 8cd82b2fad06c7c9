//! Finding the record a lost create made: the fields that identify a record of each object, and
//! the query that looks for one this user created with the same values.

use super::Describe;
use crate::mapping::{soql_literal, soql_quote};
use serde_json::{Map, Value};

/// The fields that identify a record of `object` when tandem has no id for it.
pub fn natural_keys(object: &str) -> &'static [&'static str] {
    match object {
        "Contact" | "Lead" => &["LastName", "FirstName", "Email"],
        "Account" => &["Name"],
        "Event" => &["Subject", "StartDateTime", "EndDateTime", "ActivityDate"],
        "Task" => &["Subject", "ActivityDate", "Status"],
        _ => &["Name", "Subject"],
    }
}

/// The create sets none of the identifying fields: whether it landed cannot be told.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "it sets none of the {object} fields {} that identify a record; set [salesforce] external_id_field to an external-id field of {object}",
    keys.join(", ")
)]
pub struct NoNaturalKey {
    pub object: String,
    pub keys: Vec<String>,
}

/// The SOQL that lists, newest first, the records of `object` that `user` created with the
/// values `fields` sets for `keys` (only the keys the object has and can filter on).
pub fn reconcile_query(
    describe: &Describe,
    keys: &[String],
    fields: &Map<String, Value>,
    user: Option<&str>,
) -> Result<String, NoNaturalKey> {
    let object = &describe.object;
    let mut conditions = Vec::new();
    for key in keys {
        let Some(info) = describe.field(key).filter(|f| f.filterable) else {
            continue;
        };
        let Some((_, value)) = fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) else {
            continue;
        };
        if let Some(literal) = soql_literal(value, &info.kind) {
            conditions.push(format!("{} = {literal}", info.name));
        }
    }
    if conditions.is_empty() {
        return Err(NoNaturalKey {
            object: object.clone(),
            keys: keys.to_vec(),
        });
    }
    if let Some(user) = user {
        conditions.push(format!("CreatedById = {}", soql_quote(user)));
    }
    Ok(format!(
        "SELECT Id FROM {object} WHERE {} ORDER BY CreatedDate DESC, Id DESC LIMIT 50",
        conditions.join(" AND ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn describe() -> Describe {
        let body = json!({"fields": [
            {"name": "LastName", "type": "string", "filterable": true},
            {"name": "FirstName", "type": "string", "filterable": true},
            {"name": "Email", "type": "email", "filterable": false},
        ]});
        Describe::from_body("Contact", &body).expect("a describe")
    }

    #[test]
    fn the_query_names_the_filterable_keys_the_create_sets() {
        let keys: Vec<String> = natural_keys("Contact")
            .iter()
            .map(|k| k.to_string())
            .collect();
        let Value::Object(fields) = json!({"lastname": "O'Neil", "Email": "a@b.c", "Phone": "1"})
        else {
            unreachable!()
        };
        let soql = reconcile_query(&describe(), &keys, &fields, Some("005x")).expect("a query");
        assert_eq!(
            soql,
            "SELECT Id FROM Contact WHERE LastName = 'O\\'Neil' AND CreatedById = '005x' ORDER BY CreatedDate DESC, Id DESC LIMIT 50"
        );
        let Value::Object(none) = json!({"Phone": "1"}) else {
            unreachable!()
        };
        let err = reconcile_query(&describe(), &keys, &none, None).unwrap_err();
        assert!(err.to_string().contains("external_id_field"), "{err}");
    }
}
