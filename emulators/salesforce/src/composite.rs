//! The Composite resource: up to 25 subrequests in one API call, `@{ref.path}` substitution between them,
//! and allOrNone rollback with PROCESSING_HALTED for the others.

use std::collections::HashMap;

use hyper::Method;
use hyper::body::Bytes;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value as Json;

use super::errors::ApiError;
use super::http::{self, ApiRequest, Call, Reply};
use super::org::Org;
use super::validate::parse_json;
use super::value::Doc;

pub const MAX_SUBREQUESTS: usize = 25;
/// At most this many subrequests may be queries or sObject Collections.
pub const MAX_QUERY_OR_COLLECTION: usize = 5;

fn halted_rolled_back() -> ApiError {
    ApiError::bad_request(
        "PROCESSING_HALTED",
        "The transaction was rolled back since another operation in the same transaction failed.",
    )
}

struct Sub {
    method: Method,
    url: String,
    reference: String,
    body: Option<Json>,
    headers: HeaderMap,
}

fn parse_subrequests(json: &Json) -> Result<(bool, Vec<Sub>), ApiError> {
    let all_or_none = json
        .get("allOrNone")
        .and_then(Json::as_bool)
        .unwrap_or(false);
    let Some(list) = json.get("compositeRequest").and_then(Json::as_array) else {
        return Err(ApiError::json_parser(
            "Required field 'compositeRequest' is missing or is not an array",
        ));
    };
    if list.is_empty() {
        return Err(ApiError::bad_request(
            "INVALID_FIELD",
            "compositeRequest must contain at least one subrequest",
        ));
    }
    if list.len() > MAX_SUBREQUESTS {
        return Err(ApiError::bad_request(
            "LIMIT_EXCEEDED",
            format!("A composite request can contain at most {MAX_SUBREQUESTS} subrequests."),
        ));
    }
    let mut subs = Vec::with_capacity(list.len());
    let mut heavy = 0;
    for item in list {
        let field = |k: &str| item.get(k).and_then(Json::as_str).map(str::to_string);
        let (Some(method), Some(url), Some(reference)) =
            (field("method"), field("url"), field("referenceId"))
        else {
            return Err(ApiError::json_parser(
                "Each subrequest needs method, url and referenceId",
            ));
        };
        let valid_ref = reference
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && reference
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_ref || subs.iter().any(|s: &Sub| s.reference == reference) {
            return Err(ApiError::bad_request(
                "INVALID_FIELD",
                format!("Invalid or duplicate referenceId: {reference}"),
            ));
        }
        let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).map_err(|_| {
            ApiError::bad_request("INVALID_FIELD", format!("Invalid method: {method}"))
        })?;
        if url.contains("/query") || url.contains("/composite/sobjects") {
            heavy += 1;
        }
        let mut headers = HeaderMap::new();
        if let Some(h) = item.get("httpHeaders").and_then(Json::as_object) {
            for (k, v) in h {
                if let (Ok(name), Some(Ok(value))) = (
                    HeaderName::try_from(k.as_str()),
                    v.as_str().map(HeaderValue::try_from),
                ) {
                    headers.insert(name, value);
                }
            }
        }
        subs.push(Sub {
            method,
            url,
            reference,
            body: item.get("body").cloned(),
            headers,
        });
    }
    if heavy > MAX_QUERY_OR_COLLECTION {
        return Err(ApiError::bad_request(
            "LIMIT_EXCEEDED",
            format!(
                "A composite request can contain at most {MAX_QUERY_OR_COLLECTION} query or sObject Collections subrequests."
            ),
        ));
    }
    Ok((all_or_none, subs))
}

/// Resolves `records[0].Id`-style paths inside an earlier response body.
fn lookup_path<'a>(body: &'a Json, path: &str) -> Option<&'a Json> {
    let mut cur = body;
    for part in path.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((n, rest)) => (
                n,
                rest.strip_suffix(']').and_then(|i| i.parse::<usize>().ok()),
            ),
            None => (part, None),
        };
        if !name.is_empty() {
            cur = cur.get(name)?;
        }
        if let Some(i) = index {
            cur = cur.get(i)?;
        }
    }
    Some(cur)
}

/// Replaces every `@{ref.path}` in `text` using earlier successful results.
fn substitute(text: &str, results: &HashMap<String, Json>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("@{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(format!("Invalid reference specified: {rest}"));
        };
        let expr = &after[..end];
        let (reference, path) = expr.split_once('.').unwrap_or((expr, ""));
        let value = results
            .get(reference)
            .and_then(|body| lookup_path(body, path))
            .ok_or_else(|| {
                format!("Invalid reference specified. No value for {expr} found in {reference}. Provided referenceId ({reference}) may be invalid or the referenced subrequest failed.")
            })?;
        match value {
            Json::String(s) => out.push_str(s),
            other => out.push_str(&other.to_string()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn substitute_json(v: &Json, results: &HashMap<String, Json>) -> Result<Json, String> {
    Ok(match v {
        Json::String(s) => Json::String(substitute(s, results)?),
        Json::Array(a) => Json::Array(
            a.iter()
                .map(|x| substitute_json(x, results))
                .collect::<Result<_, _>>()?,
        ),
        Json::Object(m) => Json::Object(
            m.iter()
                .map(|(k, x)| Ok((k.clone(), substitute_json(x, results)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

fn run_sub(call: &Call, org: &mut Org, sub: &Sub, results: &HashMap<String, Json>) -> Reply {
    let halted = |msg: String| Reply::error(&ApiError::bad_request("PROCESSING_HALTED", msg));
    let url = match substitute(&sub.url, results) {
        Ok(u) => u,
        Err(e) => return halted(e),
    };
    let body = match sub
        .body
        .as_ref()
        .map(|b| substitute_json(b, results))
        .transpose()
    {
        Ok(b) => b,
        Err(e) => return halted(e),
    };
    let (path, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
    let owned = http::segments(path);
    let segs: Vec<&str> = owned.iter().map(String::as_str).collect();
    let ["services", "data", version, rest @ ..] = segs.as_slice() else {
        return Reply::error(&ApiError::not_found());
    };
    let Some(version) = version.strip_prefix('v') else {
        return Reply::error(&ApiError::not_found());
    };
    if matches!(rest, ["composite"]) {
        return Reply::error(&ApiError::bad_request(
            "INVALID_FIELD",
            "Composite requests can't be nested.",
        ));
    }
    let req = ApiRequest {
        method: sub.method.clone(),
        path: path.to_string(),
        query: form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect(),
        headers: sub.headers.clone(),
        body: body.map(|b| Bytes::from(b.to_string())).unwrap_or_default(),
    };
    let sub_call = Call {
        state: call.state,
        req: &req,
        version,
        ctx: call.ctx.clone(),
        usage: call.usage,
        lock_fault: false,
    };
    let mut reply = http::dispatch(&sub_call, org, rest);
    if reply.status == 201
        && let (Some(id), ["sobjects", object]) =
            (reply.json_body().get("id").and_then(Json::as_str), rest)
    {
        let location = format!("/services/data/v{version}/sobjects/{object}/{id}");
        reply = reply.with_header("Location", location);
    }
    reply
}

fn sub_response(reference: &str, reply: &Reply) -> Doc {
    let mut headers = Doc::object();
    for (k, v) in &reply.headers {
        if !k.eq_ignore_ascii_case("content-type") {
            headers.push(k, v.as_str());
        }
    }
    let body = if reply.body.is_empty() {
        Doc::Scalar(Json::Null)
    } else {
        Doc::from(reply.json_body())
    };
    Doc::object()
        .with("body", body)
        .with("httpHeaders", headers)
        .with("httpStatusCode", reply.status as u64)
        .with("referenceId", reference)
}

pub fn handle(call: &Call, org: &mut Org) -> Reply {
    let parsed = parse_json(&call.req.body).and_then(|j| parse_subrequests(&j));
    let (all_or_none, subs) = match parsed {
        Ok(p) => p,
        Err(e) => return Reply::error(&e),
    };
    org.begin();
    let mut results: HashMap<String, Json> = HashMap::new();
    let mut replies: Vec<Reply> = Vec::with_capacity(subs.len());
    let mut failed_at = None;
    // A lock fault drawn for the call hits its first writing subrequest: a row it writes is
    // locked by another transaction, so it does nothing and says so, and the others run.
    let locked = call
        .lock_fault
        .then(|| subs.iter().position(|s| s.method != Method::GET))
        .flatten();
    for (i, sub) in subs.iter().enumerate() {
        if all_or_none && failed_at.is_some() {
            replies.push(Reply::error(&halted_rolled_back()));
            continue;
        }
        let reply = if Some(i) == locked {
            let id = sub.url.rsplit('/').next().unwrap_or("");
            Reply::error(&crate::faults::lock_row_error(&[id]))
        } else {
            run_sub(call, org, sub, &results)
        };
        if reply.status >= 400 {
            failed_at.get_or_insert(i);
        } else {
            results.insert(sub.reference.clone(), reply.json_body());
        }
        replies.push(reply);
    }
    if let (true, Some(failed)) = (all_or_none, failed_at) {
        org.rollback();
        for (i, r) in replies.iter_mut().enumerate() {
            if i != failed {
                *r = Reply::error(&halted_rolled_back());
            }
        }
    } else {
        org.commit();
    }
    let items: Vec<Doc> = subs
        .iter()
        .zip(&replies)
        .map(|(s, r)| sub_response(&s.reference, r))
        .collect();
    Reply::json(
        200,
        &Doc::object().with("compositeResponse", Doc::Array(items)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_references() {
        let mut results = HashMap::new();
        results.insert(
            "ev1".to_string(),
            serde_json::json!({"id": "00U1", "records": [{"Id": "003X"}]}),
        );
        assert_eq!(
            substitute("/x/@{ev1.id}/y", &results).as_deref(),
            Ok("/x/00U1/y")
        );
        assert_eq!(
            substitute("@{ev1.records[0].Id}", &results).as_deref(),
            Ok("003X")
        );
        assert!(substitute("@{nope.id}", &results).is_err());
        assert!(substitute("@{ev1.missing}", &results).is_err());
        assert!(substitute("@{ev1.id", &results).is_err());
    }
}
