//! sObject Rows: single-record create, read, update, delete, external-id upsert, conditional requests
//! (If-Modified-Since / If-Unmodified-Since, and ETag only for Account) and series deletion.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::clock::{format_http_date, parse_http_date};
use super::errors::{ApiError, save_result};
use super::http::{Call, Reply};
use super::org::{Org, Record};
use super::series;
use super::validate::{expect_object, parse_json};
use super::value::Doc;

/// Upserts answer 200 with a body from this version on (older versions answer 204).
const UPSERT_BODY_SINCE: f32 = 46.0;

fn no_such_column(name: &str, entity: &str) -> ApiError {
    ApiError::bad_request(
        "INVALID_FIELD",
        format!(
            "No such column '{name}' on entity '{entity}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
        ),
    )
}

/// Resolves a `fields=A,B` parameter to field indexes.
pub fn field_list(
    org: &Org,
    obj: usize,
    param: Option<&str>,
) -> Result<Option<Vec<usize>>, ApiError> {
    let Some(param) = param.filter(|p| !p.trim().is_empty()) else {
        return Ok(None);
    };
    let def = org.def(obj);
    param
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(|f| {
            def.field_index(f)
                .ok_or_else(|| no_such_column(f, &def.name))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn last_modified(org: &Org, rec: &Record) -> Option<DateTime<Utc>> {
    org.get(rec, "LastModifiedDate").as_datetime()
}

/// Account ETags: a digest of the record's rendered state, so any change gives a new tag.
fn etag(org: &Org, rec: &Record) -> String {
    let stamp = org.get(rec, "SystemModstamp").to_json().to_string();
    let digest = Sha256::new()
        .chain_update(rec.id.as_bytes())
        .chain_update(stamp.as_bytes())
        .chain_update(format!("{:?}", rec.values).as_bytes())
        .finalize();
    format!("\"{}\"", STANDARD.encode(&digest[..20]))
}

fn etag_matches(header: &str, tag: &str) -> bool {
    header
        .split(',')
        .map(str::trim)
        .any(|h| h == "*" || h == tag)
}

fn header_date(call: &Call, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    match call.req.header(name) {
        None => Ok(None),
        Some(v) => parse_http_date(v).map(Some).ok_or_else(|| {
            ApiError::bad_request(
                "INVALID_HEADER_TYPE",
                format!("{name} header value is not a valid HTTP-date: {v}"),
            )
        }),
    }
}

fn precondition_failed(message: &str) -> ApiError {
    ApiError::new(412, "PRECONDITION_FAILED", message)
}

/// If-Unmodified-Since (second granularity) for every object, If-Match / If-None-Match for Account only.
fn check_write_preconditions(
    call: &Call,
    org: &Org,
    rec: &Record,
    check_since: bool,
) -> Result<(), ApiError> {
    if check_since
        && let Some(since) = header_date(call, "if-unmodified-since")?
        && last_modified(org, rec).is_some_and(|m| m.timestamp() > since.timestamp())
    {
        return Err(precondition_failed(
            "The requested resource has been modified since the time specified in the If-Unmodified-Since header.",
        ));
    }
    if org.def(rec.object).etag {
        let tag = etag(org, rec);
        if let Some(h) = call.req.header("if-match")
            && !etag_matches(h, &tag)
        {
            return Err(precondition_failed(
                "The ETag in the If-Match header doesn't match the record.",
            ));
        }
        if let Some(h) = call.req.header("if-none-match")
            && etag_matches(h, &tag)
        {
            return Err(precondition_failed(
                "The ETag in the If-None-Match header matches the record.",
            ));
        }
    }
    Ok(())
}

fn body_object(
    call: &Call,
    org: &Org,
    obj: usize,
) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    let json = parse_json(&call.req.body)?;
    Ok(expect_object(&json, &org.def(obj).name)?.clone())
}

pub fn create(call: &Call, org: &mut Org, obj: usize) -> Result<Reply, ApiError> {
    let body = body_object(call, org, obj)?;
    let id = org.create(obj, &body, &call.ctx)?;
    Ok(Reply::json(201, &save_result(Some(&id), &[], None)))
}

pub fn get(call: &Call, org: &mut Org, obj: usize, id: &str) -> Result<Reply, ApiError> {
    let rec = org.live_of(obj, id)?;
    let fields = field_list(org, obj, call.req.param("fields"))?;
    let modified = last_modified(org, &rec);
    let mut headers: Vec<(String, String)> = Vec::new();
    if let Some(m) = modified {
        headers.push(("Last-Modified".into(), format_http_date(m)));
    }
    let tag = org.def(obj).etag.then(|| etag(org, &rec));
    if let Some(t) = &tag {
        headers.push(("ETag".into(), t.clone()));
    }
    let not_modified = match (
        header_date(call, "if-modified-since").ok().flatten(),
        modified,
    ) {
        (Some(since), Some(m)) => m.timestamp() <= since.timestamp(),
        _ => false,
    } || matches!((call.req.header("if-none-match"), &tag), (Some(h), Some(t)) if etag_matches(h, t));
    let mut reply = if not_modified {
        Reply::empty(304)
    } else {
        Reply::json(
            200,
            &org.render(&rec, fields.as_deref(), call.version, call.ctx.now),
        )
    };
    if call.req.method == hyper::Method::HEAD {
        reply.body.clear();
    }
    for (k, v) in headers {
        reply = reply.with_header(&k, v);
    }
    Ok(reply)
}

pub fn update(call: &Call, org: &mut Org, obj: usize, id: &str) -> Result<Reply, ApiError> {
    let rec = org.live_of(obj, id)?;
    let body = body_object(call, org, obj)?;
    check_write_preconditions(call, org, &rec, true)?;
    org.update(obj, &rec.id, &body, &call.ctx)?;
    Ok(Reply::empty(204))
}

pub fn delete(call: &Call, org: &mut Org, obj: usize, id: &str) -> Result<Reply, ApiError> {
    let rec = org.live_of(obj, id)?;
    // If-Unmodified-Since isn't supported on DELETE; Account's If-Match is.
    check_write_preconditions(call, org, &rec, false)?;
    org.delete(Some(obj), &rec.id, &call.ctx)?;
    Ok(Reply::empty(204))
}

pub fn delete_series(call: &Call, org: &mut Org, obj: usize, id: &str) -> Result<Reply, ApiError> {
    if org.def(obj).name != super::schema::EVENT {
        return Err(ApiError::not_found());
    }
    series::delete_from(org, id, &call.ctx)?;
    Ok(Reply::json(
        200,
        &Doc::object().with(
            "success",
            "We’re deleting the selected events from the series. Wait for all events to be removed.",
        ),
    ))
}

/// Resolves the external-id field of an upsert URL (`Id` counts as one).
fn external_field(org: &Org, obj: usize, field: &str) -> Result<usize, ApiError> {
    let def = org.def(obj);
    let Some(idx) = def.field_index(field) else {
        return Err(ApiError::new(
            404,
            "NOT_FOUND",
            format!("Provided external ID field does not exist or is not accessible: {field}"),
        ));
    };
    let fd = &def.fields[idx];
    if !(fd.external_id || fd.name == "Id") {
        return Err(ApiError::bad_request(
            "INVALID_FIELD",
            format!("Field {} is not an External ID or Id field", fd.name),
        )
        .with_fields(&[]));
    }
    Ok(idx)
}

fn matches_for(org: &Org, obj: usize, idx: usize, value: &str) -> Vec<String> {
    if org.def(obj).fields[idx].name == "Id" {
        return org
            .live(value)
            .filter(|r| r.object == obj)
            .map(|r| vec![r.id.clone()])
            .unwrap_or_default();
    }
    org.find_by_field(obj, idx, value)
}

fn multiple_choices(org: &Org, obj: usize, ids: &[String], version: &str) -> Reply {
    let urls: Vec<Doc> = ids
        .iter()
        .map(|id| Doc::from(org.record_url(obj, id, version)))
        .collect();
    Reply::json(300, &Doc::Array(urls))
}

pub fn get_by_external_id(
    call: &Call,
    org: &mut Org,
    obj: usize,
    field: &str,
    value: &str,
) -> Result<Reply, ApiError> {
    let idx = external_field(org, obj, field)?;
    let ids = matches_for(org, obj, idx, value);
    match ids.as_slice() {
        [] => Err(ApiError::not_found()),
        [one] => get(call, org, obj, &one.clone()),
        many => Ok(multiple_choices(org, obj, many, call.version)),
    }
}

/// Outcome of one upsert, shared with collections.
pub enum Upserted {
    Created(String),
    Updated(String),
    Multiple(Vec<String>),
}

/// Upserts one record by external id: 0 matches create (unless `update_only`), 1 updates, more is ambiguous.
pub fn upsert_one(
    org: &mut Org,
    obj: usize,
    idx: usize,
    value: &str,
    body: &serde_json::Map<String, serde_json::Value>,
    update_only: bool,
    ctx: &super::org::WriteCtx,
) -> Result<Upserted, ApiError> {
    let def = org.def(obj).clone();
    let field_name = def.fields[idx].name.clone();
    let mut body = body.clone();
    if let Some((key, v)) = body
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(&field_name))
    {
        if v.as_str().is_some_and(|s| !s.eq_ignore_ascii_case(value)) {
            return Err(ApiError::bad_request(
                "INVALID_FIELD",
                format!(
                    "{field_name} in the body ({v}) doesn't match the value in the URL ({value})"
                ),
            )
            .with_fields(&[&field_name]));
        }
        let key = key.clone();
        body.remove(&key);
    }
    let ids = matches_for(org, obj, idx, value);
    match ids.as_slice() {
        [] if update_only || field_name == "Id" => Err(ApiError::not_found()),
        [] => {
            body.insert(field_name, serde_json::Value::String(value.to_string()));
            org.create(obj, &body, ctx).map(Upserted::Created)
        }
        [one] => {
            org.update(obj, one, &body, ctx)?;
            Ok(Upserted::Updated(one.clone()))
        }
        many => Ok(Upserted::Multiple(many.to_vec())),
    }
}

pub fn upsert(
    call: &Call,
    org: &mut Org,
    obj: usize,
    field: &str,
    value: &str,
) -> Result<Reply, ApiError> {
    let idx = external_field(org, obj, field)?;
    let body = body_object(call, org, obj)?;
    let update_only = call.req.param("updateOnly") == Some("true");
    if let Some(id) = matches_for(org, obj, idx, value).first()
        && let Ok(rec) = org.live_of(obj, id)
    {
        check_write_preconditions(call, org, &rec, true)?;
    }
    match upsert_one(org, obj, idx, value, &body, update_only, &call.ctx)? {
        Upserted::Created(id) => Ok(Reply::json(201, &save_result(Some(&id), &[], Some(true)))),
        Upserted::Updated(id) => {
            if call.version.parse::<f32>().unwrap_or(0.0) >= UPSERT_BODY_SINCE {
                Ok(Reply::json(200, &save_result(Some(&id), &[], Some(false))))
            } else {
                Ok(Reply::empty(204))
            }
        }
        Upserted::Multiple(ids) => Ok(multiple_choices(org, obj, &ids, call.version)),
    }
}
