//! sObject Collections: create, update, upsert, delete and retrieve up to 200 records (2,000 ids for
//! retrieve) in one API call, with per-record SaveResults and allOrNone rollback.

use serde_json::{Map, Value as Json};

use super::errors::{ApiError, rolled_back, save_result};
use super::faults::lock_row_error;
use super::http::{Call, Reply};
use super::ids;
use super::org::Org;
use super::rows::{self, Upserted};
use super::validate::parse_json;
use super::value::Doc;

pub const MAX_RECORDS: usize = 200;
pub const MAX_RETRIEVE_IDS: usize = 2000;
/// sObject Collections exist from API 42.0 on.
const SINCE_VERSION: f32 = 42.0;

fn exceeded(what: &str, max: usize) -> ApiError {
    ApiError::bad_request(
        "EXCEEDED_ID_LIMIT",
        format!("{what} limit reached. cannot submit more than {max} records into this call"),
    )
}

pub fn handle(call: &Call, org: &mut Org, rest: &[&str]) -> Reply {
    if call.version.parse::<f32>().unwrap_or(0.0) < SINCE_VERSION {
        return Reply::error(&ApiError::not_found());
    }
    let m = &call.req.method;
    let result = match (rest, m.as_str()) {
        ([], "POST") => write(call, org, Op::Create),
        ([], "PATCH") => write(call, org, Op::Update),
        ([], "DELETE") => delete(call, org),
        ([object], "GET") => retrieve(call, org, object, false),
        ([object], "POST") => retrieve(call, org, object, true),
        ([object, field], "PATCH") => write(call, org, Op::Upsert(object, field)),
        ([], _) => Err(ApiError::method_not_allowed(
            m.as_str(),
            "POST,PATCH,DELETE",
        )),
        ([_], _) => Err(ApiError::method_not_allowed(m.as_str(), "GET,POST")),
        ([_, _], _) => Err(ApiError::method_not_allowed(m.as_str(), "PATCH")),
        _ => Err(ApiError::not_found()),
    };
    result.into()
}

enum Op<'a> {
    Create,
    Update,
    Upsert(&'a str, &'a str),
}

/// One record's outcome: the id it concerns (if any), the error, and for upserts whether it was created.
struct Outcome {
    id: Option<String>,
    error: Option<ApiError>,
    created: Option<bool>,
}

fn parse_body(call: &Call) -> Result<(bool, Vec<Json>), ApiError> {
    let json = parse_json(&call.req.body)?;
    let obj = json.as_object().ok_or_else(|| {
        ApiError::json_parser(
            "Cannot deserialize instance of SObjectCollection from START_ARRAY value [",
        )
    })?;
    let all_or_none = obj
        .get("allOrNone")
        .and_then(Json::as_bool)
        .unwrap_or(false);
    let records = match obj.get("records") {
        Some(Json::Array(r)) => r.clone(),
        _ => {
            return Err(ApiError::json_parser(
                "Required field 'records' is missing or is not an array",
            ));
        }
    };
    if records.len() > MAX_RECORDS {
        return Err(exceeded("record", MAX_RECORDS));
    }
    Ok((all_or_none, records))
}

fn record_type(org: &Org, rec: &Map<String, Json>) -> Result<usize, ApiError> {
    let name = rec
        .get("attributes")
        .and_then(|a| a.get("type"))
        .and_then(Json::as_str)
        .ok_or_else(|| {
            ApiError::bad_request("INVALID_TYPE", "Must send a concrete entity type.")
        })?;
    org.schema.object_index(name).ok_or_else(|| {
        ApiError::bad_request(
            "INVALID_TYPE",
            format!("sObject type '{name}' is not supported."),
        )
    })
}

fn record_id(rec: &Map<String, Json>) -> Option<String> {
    rec.get("id")
        .or_else(|| rec.get("Id"))
        .and_then(Json::as_str)
        .map(str::to_string)
}

/// Collections report a missing or foreign record as a bad cross reference, not as a 404.
fn as_item_error(e: ApiError) -> ApiError {
    if e.code == "NOT_FOUND" {
        ApiError::bad_request("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
            .with_fields(&[])
    } else {
        e
    }
}

fn write(call: &Call, org: &mut Org, op: Op) -> Result<Reply, ApiError> {
    let (all_or_none, records) = parse_body(call)?;
    let mut maps = Vec::with_capacity(records.len());
    for r in &records {
        let Json::Object(map) = r else {
            return Err(ApiError::json_parser("Each record must be a JSON object"));
        };
        maps.push(map.clone());
    }
    let upsert_target = match op {
        Op::Upsert(object, field) => {
            let obj = org
                .schema
                .object_index(object)
                .ok_or_else(ApiError::not_found)?;
            let def = org.def(obj);
            let idx = def
                .field_index(field)
                .filter(|i| def.fields[*i].external_id)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "INVALID_FIELD",
                        format!("Field {field} is not an External ID field on {}", def.name),
                    )
                })?;
            Some((obj, idx))
        }
        _ => None,
    };
    // Types are checked up front: a record without a concrete type fails the whole request.
    let types = maps
        .iter()
        .map(|m| record_type(org, m))
        .collect::<Result<Vec<_>, _>>()?;
    if call.lock_fault {
        let outcomes = maps
            .iter()
            .map(|m| Outcome {
                id: record_id(m),
                error: Some(lock_row_error(&[record_id(m).as_deref().unwrap_or("")])),
                created: None,
            })
            .collect();
        return Ok(render(outcomes));
    }
    org.begin();
    let mut outcomes = Vec::with_capacity(maps.len());
    for (map, obj) in maps.iter().zip(types) {
        let outcome = match (&op, upsert_target) {
            (Op::Create, _) => match org.create(obj, map, &call.ctx) {
                Ok(id) => Outcome {
                    id: Some(id),
                    error: None,
                    created: None,
                },
                Err(e) => Outcome {
                    id: None,
                    error: Some(e),
                    created: None,
                },
            },
            (Op::Update, _) => match record_id(map) {
                None => Outcome {
                    id: None,
                    error: Some(
                        ApiError::bad_request(
                            "MISSING_ARGUMENT",
                            "Id not specified in an update call",
                        )
                        .with_fields(&[]),
                    ),
                    created: None,
                },
                Some(id) => {
                    let id18 = ids::to18(&id).unwrap_or(id.clone());
                    let result = org
                        .update(obj, &id18, map, &call.ctx)
                        .map_err(as_item_error);
                    Outcome {
                        id: Some(id18),
                        error: result.err(),
                        created: None,
                    }
                }
            },
            (Op::Upsert(..), Some((target, idx))) => upsert_item(call, org, obj, target, idx, map),
            (Op::Upsert(..), None) => Outcome {
                id: None,
                error: Some(ApiError::not_found()),
                created: None,
            },
        };
        outcomes.push(outcome);
    }
    finish(org, all_or_none, &mut outcomes);
    Ok(render(outcomes))
}

fn upsert_item(
    call: &Call,
    org: &mut Org,
    obj: usize,
    target: usize,
    idx: usize,
    map: &Map<String, Json>,
) -> Outcome {
    let fail = |e: ApiError| Outcome {
        id: None,
        error: Some(e),
        created: None,
    };
    if obj != target {
        return fail(ApiError::bad_request(
            "INVALID_TYPE",
            format!(
                "Record type {} doesn't match the upsert type {}",
                org.def(obj).name,
                org.def(target).name
            ),
        ));
    }
    let field = org.def(obj).fields[idx].name.clone();
    let value = map
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(&field))
        .and_then(|(_, v)| v.as_str().map(str::to_string));
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return fail(
            ApiError::bad_request("MISSING_ARGUMENT", format!("{field} not specified"))
                .with_fields(&[&field]),
        );
    };
    match rows::upsert_one(org, obj, idx, &value, map, false, &call.ctx) {
        Ok(Upserted::Created(id)) => Outcome {
            id: Some(id),
            error: None,
            created: Some(true),
        },
        Ok(Upserted::Updated(id)) => Outcome {
            id: Some(id),
            error: None,
            created: Some(false),
        },
        Ok(Upserted::Multiple(ids)) => fail(
            ApiError::bad_request(
                "DUPLICATE_EXTERNAL_ID",
                format!(
                    "{field}: more than one record found for external id field: [{}]",
                    ids.join(", ")
                ),
            )
            .with_fields(&[&field]),
        ),
        Err(e) => fail(e),
    }
}

/// allOrNone: one failure rolls everything back; the records that were fine report the rollback.
fn finish(org: &mut Org, all_or_none: bool, outcomes: &mut [Outcome]) {
    let failed = outcomes.iter().any(|o| o.error.is_some());
    if all_or_none && failed {
        org.rollback();
        for o in outcomes.iter_mut().filter(|o| o.error.is_none()) {
            o.error = Some(rolled_back());
            o.created = None;
            if o.id.as_deref().is_some_and(|id| org.any(id).is_none()) {
                o.id = None;
            }
        }
    } else {
        org.commit();
    }
}

fn render(outcomes: Vec<Outcome>) -> Reply {
    let items: Vec<Doc> = outcomes
        .into_iter()
        .map(|o| {
            let errors: Vec<ApiError> = o.error.into_iter().collect();
            save_result(o.id.as_deref(), &errors, o.created)
        })
        .collect();
    Reply::json(200, &Doc::Array(items))
}

fn delete(call: &Call, org: &mut Org) -> Result<Reply, ApiError> {
    let ids_param = call
        .req
        .param("ids")
        .ok_or_else(|| ApiError::bad_request("MISSING_ARGUMENT", "ids parameter is required"))?;
    let all_or_none = call.req.param("allOrNone") == Some("true");
    let list: Vec<&str> = ids_param
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if list.len() > MAX_RECORDS {
        return Err(exceeded("id", MAX_RECORDS));
    }
    if call.lock_fault {
        let outcomes = list
            .iter()
            .map(|id| Outcome {
                id: Some(id.to_string()),
                error: Some(lock_row_error(&[id])),
                created: None,
            })
            .collect();
        return Ok(render(outcomes));
    }
    org.begin();
    let mut outcomes = Vec::with_capacity(list.len());
    for raw in list {
        let outcome = match ids::to18(raw) {
            None => Outcome {
                id: None,
                error: Some(
                    ApiError::bad_request("MALFORMED_ID", format!("malformed id {raw}"))
                        .with_fields(&[]),
                ),
                created: None,
            },
            Some(id) => {
                let result = org.delete(None, &id, &call.ctx).map_err(as_item_error);
                Outcome {
                    id: Some(id),
                    error: result.err(),
                    created: None,
                }
            }
        };
        outcomes.push(outcome);
    }
    finish(org, all_or_none, &mut outcomes);
    Ok(render(outcomes))
}

fn retrieve(call: &Call, org: &mut Org, object: &str, from_body: bool) -> Result<Reply, ApiError> {
    let obj = org
        .schema
        .object_index(object)
        .ok_or_else(ApiError::not_found)?;
    let (ids_list, fields): (Vec<String>, String) = if from_body {
        let json = parse_json(&call.req.body)?;
        let strings = |key: &str| -> Vec<String> {
            json.get(key)
                .and_then(Json::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Json::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        (strings("ids"), strings("fields").join(","))
    } else {
        let ids = call
            .req
            .param("ids")
            .map(|s| {
                s.split(',')
                    .map(|x| x.trim().to_string())
                    .filter(|x| !x.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        (ids, call.req.param("fields").unwrap_or("").to_string())
    };
    if ids_list.is_empty() {
        return Err(ApiError::bad_request("MISSING_ARGUMENT", "ids is required"));
    }
    if fields.trim().is_empty() {
        return Err(ApiError::bad_request(
            "MISSING_ARGUMENT",
            "fields is required",
        ));
    }
    if ids_list.len() > MAX_RETRIEVE_IDS {
        return Err(exceeded("id", MAX_RETRIEVE_IDS));
    }
    let fields = rows::field_list(org, obj, Some(&fields))?;
    let items: Vec<Doc> = ids_list
        .iter()
        .map(|id| match org.live(id).filter(|r| r.object == obj) {
            Some(r) => org.render(r, fields.as_deref(), call.version, call.ctx.now),
            None => Doc::Scalar(Json::Null),
        })
        .collect();
    Ok(Reply::json(200, &Doc::Array(items)))
}
