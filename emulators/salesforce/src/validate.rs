//! Turns JSON request bodies into typed field values, with the error codes Salesforce gives for each kind of bad input.

use chrono::{Datelike, NaiveDate};
use serde_json::{Map, Value as Json};

use super::clock::parse_datetime;
use super::errors::ApiError;
use super::ids;
use super::schema::{FieldDef, Kind, ObjectDef, Schema};
use super::value::Value;

/// Salesforce stores dates between the years 1700 and 4000.
const YEARS: std::ops::RangeInclusive<i32> = 1700..=4000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Create,
    Update,
}

/// Parses a request body into JSON, mapping syntax errors to JSON_PARSER_ERROR like the real API.
pub fn parse_json(body: &[u8]) -> Result<Json, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        let what = e.to_string();
        let what = what
            .rsplit_once(" at line ")
            .map(|(msg, _)| msg.to_string())
            .unwrap_or(what);
        ApiError::json_parser(format!(
            "{what} at [line:{}, column:{}]",
            e.line(),
            e.column()
        ))
    })
}

/// The body of a single-record write must be a JSON object.
pub fn expect_object<'a>(json: &'a Json, object: &str) -> Result<&'a Map<String, Json>, ApiError> {
    json.as_object().ok_or_else(|| {
        let token = match json {
            Json::Array(_) => "START_ARRAY value [",
            Json::String(_) => "VALUE_STRING value",
            Json::Number(_) => "VALUE_NUMBER_INT value",
            Json::Bool(_) => "VALUE_TRUE value",
            _ => "VALUE_NULL value",
        };
        ApiError::json_parser(format!(
            "Cannot deserialize instance of {object} from {token} or request may be missing a required field"
        ))
    })
}

/// Converts the fields of a body into `(field index, value)` pairs, checking names, access, types,
/// lengths, restricted picklists and id syntax. Cross-record rules are checked later by the org.
pub fn parse_input(
    schema: &Schema,
    def: &ObjectDef,
    input: &Map<String, Json>,
    mode: Mode,
) -> Result<Vec<(usize, Value)>, ApiError> {
    let mut out = Vec::with_capacity(input.len());
    let mut not_writeable = Vec::new();
    for (key, raw) in input {
        if key == "attributes" {
            continue;
        }
        if key.eq_ignore_ascii_case("Id") {
            if mode == Mode::Create {
                return Err(ApiError::bad_request(
                    "INVALID_FIELD",
                    "cannot specify Id in an insert call",
                )
                .with_fields(&["Id"]));
            }
            continue;
        }
        let Some(idx) = def.field_index(key) else {
            return Err(ApiError::bad_request(
                "INVALID_FIELD",
                format!("No such column '{key}' on sobject of type {}", def.name),
            )
            .with_fields(&[]));
        };
        let fd = &def.fields[idx];
        let writeable = match mode {
            Mode::Create => fd.createable,
            Mode::Update => fd.updateable,
        };
        if !writeable {
            not_writeable.push(fd.name.clone());
            continue;
        }
        out.push((idx, convert(schema, fd, raw)?));
    }
    if !not_writeable.is_empty() {
        let verb = if mode == Mode::Create {
            "create"
        } else {
            "update"
        };
        let names: Vec<&str> = not_writeable.iter().map(String::as_str).collect();
        return Err(ApiError::bad_request(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            format!(
                "Unable to {verb} fields: {}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.",
                names.join(", ")
            ),
        )
        .with_fields(&names));
    }
    Ok(out)
}

fn type_error(type_name: &str, raw: &Json) -> ApiError {
    let token = match raw {
        Json::Object(_) => "START_OBJECT value {".to_string(),
        Json::Array(_) => "START_ARRAY value [".to_string(),
        Json::String(s) => format!("VALUE_STRING value {s}"),
        Json::Number(n) => format!("VALUE_NUMBER value {n}"),
        Json::Bool(b) => format!("VALUE_{} value {b}", if *b { "TRUE" } else { "FALSE" }),
        Json::Null => "VALUE_NULL value null".to_string(),
    };
    ApiError::json_parser(format!(
        "Cannot deserialize instance of {type_name} from {token} or request may be missing a required field"
    ))
}

/// One JSON value to one typed field value.
pub fn convert(schema: &Schema, fd: &FieldDef, raw: &Json) -> Result<Value, ApiError> {
    if raw.is_null() {
        // Salesforce booleans are never null: clearing one stores false.
        return Ok(if fd.kind == Kind::Boolean {
            Value::Bool(false)
        } else {
            Value::Null
        });
    }
    match fd.kind {
        k if k.is_textual() => {
            let s = match raw {
                Json::String(s) => s.clone(),
                Json::Number(n) => n.to_string(),
                _ => return Err(type_error(k.soql_type_name(), raw)),
            };
            // Salesforce stores empty strings as null.
            if s.is_empty() {
                return Ok(Value::Null);
            }
            check_text(schema, fd, s)
        }
        Kind::Boolean => match raw {
            Json::Bool(b) => Ok(Value::Bool(*b)),
            Json::String(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            Json::String(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            _ => Err(type_error("boolean", raw)),
        },
        Kind::Int => {
            let n = match raw {
                Json::Number(n) => n.as_i64(),
                Json::String(s) => s.trim().parse::<i64>().ok(),
                _ => None,
            };
            match n {
                Some(n) if n.unsigned_abs() < 10_u64.pow(fd.length.clamp(1, 18) as u32) => {
                    Ok(Value::Int(n))
                }
                Some(_) => Err(ApiError::bad_request(
                    "NUMBER_OUTSIDE_VALID_RANGE",
                    format!(
                        "{}: value outside of valid range on numeric field: {raw}",
                        fd.label
                    ),
                )
                .with_fields(&[&fd.name])),
                None => Err(type_error("int", raw)),
            }
        }
        Kind::Double => {
            let n = match raw {
                Json::Number(n) => n.as_f64(),
                Json::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            };
            n.map(Value::Double)
                .ok_or_else(|| type_error("double", raw))
        }
        Kind::Date => raw
            .as_str()
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
            .filter(|d| YEARS.contains(&d.year()))
            .map(Value::Date)
            .ok_or_else(|| type_error("date", raw)),
        Kind::DateTime => raw
            .as_str()
            .and_then(parse_datetime)
            .filter(|t| YEARS.contains(&t.year()))
            .map(|t| Value::DateTime(super::org::truncate_seconds(t)))
            .ok_or_else(|| type_error("datetime", raw)),
        _ => Err(type_error("string", raw)),
    }
}

fn check_text(schema: &Schema, fd: &FieldDef, s: String) -> Result<Value, ApiError> {
    match fd.kind {
        Kind::Id | Kind::Reference => {
            let Some(id) = ids::to18(&s) else {
                return Err(ApiError::bad_request(
                    "MALFORMED_ID",
                    format!("{}: id value of incorrect type: {s}", fd.label),
                )
                .with_fields(&[&fd.name]));
            };
            let prefix = ids::prefix(&id);
            let allowed = fd.reference_to.iter().any(|target| {
                schema
                    .object(target)
                    .map(|o| o.prefix == prefix)
                    // Lead is a legal WhoId target even though the emulator has no Lead object.
                    .unwrap_or(target == "Lead" && prefix == "00Q")
            });
            if fd.kind == Kind::Reference && !allowed {
                return Err(ApiError::integrity(
                    format!("{}: id value of incorrect type: {s}", fd.label),
                    &[&fd.name],
                ));
            }
            Ok(Value::Text(id))
        }
        _ => {
            let len = s.chars().count();
            if fd.length > 0 && len > fd.length {
                return Err(ApiError::bad_request(
                    "STRING_TOO_LONG",
                    format!(
                        "{}: data value too large: {} (max length={})",
                        fd.label,
                        s.chars().take(80).collect::<String>(),
                        fd.length
                    ),
                )
                .with_fields(&[&fd.name]));
            }
            if fd.kind == Kind::Picklist && fd.restricted && !fd.picklist.contains(&s) {
                return Err(ApiError::bad_request(
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    format!("{}: bad value for restricted picklist field: {s}", fd.label),
                )
                .with_fields(&[&fd.name]));
            }
            if fd.kind == Kind::Email && !is_email(&s) {
                return Err(ApiError::bad_request(
                    "INVALID_EMAIL_ADDRESS",
                    format!("{}: invalid email address: {s}", fd.label),
                )
                .with_fields(&[&fd.name]));
            }
            Ok(Value::Text(s))
        }
    }
}

/// Salesforce's own check, written here apart from the client's `mapping::is_salesforce_email`
/// on purpose: the emulator stands for the server, so a mistake in the client's rule must not be
/// hidden by the emulator sharing it.
fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::super::schema::{default_external_ids, default_task_statuses};
    use super::*;

    fn schema() -> Schema {
        Schema::new(&default_external_ids(), &default_task_statuses())
    }

    fn body(s: &str) -> Map<String, Json> {
        serde_json::from_str::<Json>(s)
            .ok()
            .and_then(|j| j.as_object().cloned())
            .unwrap_or_default()
    }

    #[test]
    fn rejects_unknown_and_read_only_fields() {
        let s = schema();
        let c = s.object("Contact").expect("contact");
        let e = parse_input(&s, c, &body(r#"{"Foo":1}"#), Mode::Create).expect_err("unknown");
        assert_eq!(e.code, "INVALID_FIELD");
        let e = parse_input(&s, c, &body(r#"{"Name":"x"}"#), Mode::Create).expect_err("ro");
        assert_eq!(e.code, "INVALID_FIELD_FOR_INSERT_UPDATE");
    }

    #[test]
    fn checks_lengths_emails_and_picklists() {
        let s = schema();
        let c = s.object("Contact").expect("contact");
        let long = "x".repeat(81);
        let e = parse_input(
            &s,
            c,
            &body(&format!(r#"{{"LastName":"{long}"}}"#)),
            Mode::Create,
        )
        .expect_err("too long");
        assert_eq!(e.code, "STRING_TOO_LONG");
        assert_eq!(e.fields.as_deref(), Some(&["LastName".to_string()][..]));
        let e = parse_input(&s, c, &body(r#"{"Email":"nope"}"#), Mode::Create).expect_err("email");
        assert_eq!(e.code, "INVALID_EMAIL_ADDRESS");
        let ev = s.object("Event").expect("event");
        let e =
            parse_input(&s, ev, &body(r#"{"ShowAs":"Maybe"}"#), Mode::Create).expect_err("pick");
        assert_eq!(e.code, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST");
        let ok = parse_input(
            &s,
            c,
            &body(r#"{"lastname":"Doe","Email":""}"#),
            Mode::Create,
        )
        .expect("ok");
        assert_eq!(ok.len(), 2);
        let email = c.field_index("Email").expect("email");
        assert!(
            ok.contains(&(email, Value::Null)),
            "empty string clears: {ok:?}"
        );
    }

    #[test]
    fn type_errors_are_json_parser_errors() {
        let s = schema();
        let ev = s.object("Event").expect("event");
        let e = parse_input(
            &s,
            ev,
            &body(r#"{"StartDateTime":"tomorrow"}"#),
            Mode::Create,
        )
        .expect_err("dt");
        assert_eq!(e.code, "JSON_PARSER_ERROR");
        let e = parse_input(
            &s,
            ev,
            &body(r#"{"WhoId":"001Kd0000000001"}"#),
            Mode::Create,
        )
        .expect_err("wrong target");
        assert_eq!(e.code, "FIELD_INTEGRITY_EXCEPTION");
        let e = parse_input(&s, ev, &body(r#"{"WhoId":"garbage"}"#), Mode::Create).expect_err("id");
        assert_eq!(e.code, "MALFORMED_ID");
        assert_eq!(
            parse_json(b"{nope").expect_err("bad").code,
            "JSON_PARSER_ERROR"
        );
    }
}
