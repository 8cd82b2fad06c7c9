//! Reading Salesforce's answers that the push decides on: the per-record results of an sObject
//! Collections call, and an object's `describe`.

use super::super::ApiError;
use super::ItemAnswer;
use serde_json::Value;
use std::collections::HashMap;

/// An answer that is not what Salesforce sends: the call was carried out, but what it did
/// cannot be read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MalformedAnswer(pub String);

fn malformed(message: impl Into<String>) -> MalformedAnswer {
    MalformedAnswer(message.into())
}

/// The per-record results of a collection call for `expected` records, in request order.
pub fn save_results(body: &Value, expected: usize) -> Result<Vec<ItemAnswer>, MalformedAnswer> {
    let list = body
        .as_array()
        .ok_or_else(|| malformed("the body is not an array of results"))?;
    if list.len() != expected {
        return Err(malformed(format!(
            "{} results for {expected} records",
            list.len()
        )));
    }
    list.iter()
        .map(|r| {
            let success = r
                .get("success")
                .and_then(Value::as_bool)
                .ok_or_else(|| malformed("a result has no `success`"))?;
            let id = r.get("id").and_then(Value::as_str).map(str::to_string);
            let error = (!success).then(|| {
                r.get("errors")
                    .and_then(Value::as_array)
                    .and_then(|a| a.first())
                    .and_then(|e| ApiError::from_item(400, e))
                    .unwrap_or(ApiError {
                        status: 400,
                        code: "UNKNOWN".into(),
                        message: "Salesforce reported a failure without an error".into(),
                        fields: Vec::new(),
                    })
            });
            Ok(ItemAnswer { id, error })
        })
        .collect()
}

/// One field as `describe` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldInfo {
    pub name: String,
    /// Salesforce's type name: `string`, `datetime`, `date`, `boolean`, `int`…
    pub kind: String,
    pub filterable: bool,
    pub external_id: bool,
}

/// The fields of an object (`sobjects/X/describe`), by lower-case name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Describe {
    pub object: String,
    fields: HashMap<String, FieldInfo>,
}

impl Describe {
    pub fn from_body(object: &str, body: &Value) -> Result<Describe, MalformedAnswer> {
        let list = body
            .get("fields")
            .and_then(Value::as_array)
            .ok_or_else(|| malformed("no `fields` array"))?;
        let mut fields = HashMap::new();
        for f in list {
            let name = f
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| malformed("a field has no `name`"))?;
            let flag = |k: &str| f.get(k).and_then(Value::as_bool).unwrap_or(false);
            fields.insert(
                name.to_ascii_lowercase(),
                FieldInfo {
                    name: name.to_string(),
                    kind: f
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("string")
                        .to_string(),
                    filterable: flag("filterable"),
                    external_id: flag("externalId"),
                },
            );
        }
        Ok(Describe {
            object: object.to_string(),
            fields,
        })
    }

    /// A field by name, whatever its case.
    pub fn field(&self, name: &str) -> Option<&FieldInfo> {
        self.fields.get(&name.to_ascii_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn save_results_must_match_the_request() {
        let body = json!([{"id": "003", "success": true, "errors": []},
            {"id": null, "success": false, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "m", "fields": []}]}]);
        let r = save_results(&body, 2).expect("parses");
        assert_eq!(
            r[1].error.as_ref().map(|e| e.code.as_str()),
            Some("UNABLE_TO_LOCK_ROW")
        );
        assert!(save_results(&body, 3).is_err());
        assert!(save_results(&json!({"x": 1}), 1).is_err());
        assert!(save_results(&json!([{"id": "003"}]), 1).is_err());
    }

    #[test]
    fn describe_finds_fields_whatever_their_case() {
        let body = json!({"fields": [{"name": "Tandem_Id__c", "type": "string", "externalId": true, "filterable": true}]});
        let d = Describe::from_body("Contact", &body).expect("parses");
        assert!(d.field("tandem_id__C").is_some_and(|f| f.external_id));
        assert!(Describe::from_body("Contact", &json!({})).is_err());
    }
}
