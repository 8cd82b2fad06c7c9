//! Incremental pull of one object: rows whose SystemModstamp is past the watermark (minus an
//! overlap for late commits) plus `sobjects/X/deleted`; when the delete history no longer reaches
//! back to the watermark, a full comparison that lists every id Salesforce still has.
//!
//! The watermark comes in with the request and goes out with the result: the new one is the
//! server's `Date` of the first query page, never the local clock, so a change committed after
//! that moment has a later SystemModstamp and is read next time. The caller records the changes
//! first and the watermark last (invariant 1).

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Timelike, Utc};
use serde_json::Value as Json;
use tandem_protocol::mapping::{parse_salesforce_datetime, soql_datetime};

use super::http::{Request, SalesforceClient};
use super::{ClientError, Row};

/// Salesforce keeps deleted-record history this long (less if the recycle bin was emptied).
pub const DELETE_WINDOW_DAYS: i64 = 15;

/// What to pull for one object.
#[derive(Clone, Debug)]
pub struct PullRequest {
    pub object: String,
    /// Fields to read; `Id` and `SystemModstamp` are always added.
    pub fields: Vec<String>,
    /// A SOQL condition that scopes the object (e.g. `OwnerId = '005...'`).
    pub filter: Option<String>,
    /// Use queryAll so archived activities (older than a year) are seen too.
    pub include_archived: bool,
    /// Where the last pull ended; `None` for the first pull.
    pub watermark: Option<DateTime<Utc>>,
}

/// A record Salesforce reports deleted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deletion {
    pub id: String,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// Why a pull compared every id instead of trusting the delete history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FullReason {
    FirstRun,
    /// The watermark is older than the delete history reaches: deletes may have been missed.
    DeleteWindowMissed {
        watermark: DateTime<Utc>,
        earliest_available: Option<DateTime<Utc>>,
    },
}

#[derive(Clone, Debug)]
pub struct PullResult {
    pub object: String,
    /// Rows created or changed since the watermark (with the overlap: some may be known).
    pub changed: Vec<Row>,
    /// Deletions from the delete history (empty after a full comparison).
    pub deleted: Vec<Deletion>,
    /// Every id Salesforce has in scope, when a full comparison ran: whatever tandem knows and
    /// is not in here has disappeared.
    pub all_ids: Option<BTreeSet<String>>,
    pub full: Option<FullReason>,
    /// The server time to store as the new watermark once the changes are in the log.
    pub watermark: DateTime<Utc>,
}

fn to_minute(t: DateTime<Utc>) -> DateTime<Utc> {
    t.with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(t)
}

fn is_field_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

impl SalesforceClient {
    /// Pulls one object's changes since `req.watermark`.
    pub async fn pull(&self, req: &PullRequest) -> Result<PullResult, ClientError> {
        let what = format!("the pull of {}", req.object);
        if !is_field_name(&req.object) {
            return Err(ClientError::Setup(format!(
                "`{}` is not an sObject name",
                req.object
            )));
        }
        let mut fields: Vec<String> = vec!["Id".into(), "SystemModstamp".into()];
        for f in &req.fields {
            if !is_field_name(f) {
                return Err(ClientError::Setup(format!("`{f}` is not a field name")));
            }
            if !fields.iter().any(|x| x.eq_ignore_ascii_case(f)) {
                fields.push(f.clone());
            }
        }
        let overlap = Duration::seconds(
            i64::try_from(self.settings().pull_overlap_seconds).unwrap_or(i64::MAX / 2),
        );
        let mut conditions = Vec::new();
        if let Some(filter) = &req.filter {
            conditions.push(format!("({filter})"));
        }
        if req.include_archived {
            conditions.push("IsDeleted = false".into());
        }
        let scope_conditions = conditions.clone();
        if let Some(w) = req.watermark {
            conditions.push(format!("SystemModstamp > {}", soql_datetime(w - overlap)));
        }
        let soql = format!(
            "SELECT {} FROM {}{} ORDER BY SystemModstamp, Id",
            fields.join(", "),
            req.object,
            where_clause(&conditions)
        );
        let mut pager = self.pager(soql, req.include_archived);
        let mut changed = Vec::new();
        let mut server_now = None;
        while let Some(page) = pager.next_page().await? {
            server_now = server_now.or(page.date);
            changed.extend(page.records);
        }
        let server_now = server_now.ok_or_else(|| {
            ClientError::malformed(
                &what,
                "the query answer has no Date header, so there is no server time to take the watermark from",
            )
        })?;

        let Some(watermark) = req.watermark else {
            let ids = ids_of(&changed, &what)?;
            return Ok(PullResult {
                object: req.object.clone(),
                changed,
                deleted: Vec::new(),
                all_ids: Some(ids),
                full: Some(FullReason::FirstRun),
                watermark: server_now,
            });
        };

        let missed = |earliest| FullReason::DeleteWindowMissed {
            watermark,
            earliest_available: earliest,
        };
        let window_start = server_now - Duration::days(DELETE_WINDOW_DAYS);
        let full = if watermark <= window_start + Duration::minutes(1) {
            Some(missed(None))
        } else {
            // The overlap again, but never further back than the history reaches.
            let start = to_minute((watermark - overlap).max(window_start + Duration::minutes(2)));
            let end = to_minute(server_now).max(start + Duration::minutes(2));
            match self.deleted(&req.object, start, end).await {
                Ok((deleted, earliest)) if earliest.is_none_or(|e| e <= to_minute(watermark)) => {
                    return Ok(PullResult {
                        object: req.object.clone(),
                        changed,
                        deleted,
                        all_ids: None,
                        full: None,
                        watermark: server_now,
                    });
                }
                Ok((_, earliest)) => Some(missed(earliest)),
                Err(e) if e.api_code() == Some("INVALID_REPLICATION_DATE") => Some(missed(None)),
                Err(e) => return Err(e),
            }
        };
        let soql = format!(
            "SELECT Id FROM {}{}",
            req.object,
            where_clause(&scope_conditions)
        );
        let all = self.pager(soql, req.include_archived).collect().await?;
        Ok(PullResult {
            object: req.object.clone(),
            changed,
            deleted: Vec::new(),
            all_ids: Some(ids_of(&all, &what)?),
            full,
            watermark: server_now,
        })
    }

    /// `sobjects/X/deleted/?start&end`: the deletions and `earliestDateAvailable`.
    pub async fn deleted(
        &self,
        object: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<(Vec<Deletion>, Option<DateTime<Utc>>), ClientError> {
        let what = format!("the deleted-records call for {object}");
        let req = Request::get(format!("/sobjects/{object}/deleted/"))
            .named(what.clone())
            .param("start", start.to_rfc3339())
            .param("end", end.to_rfc3339());
        let resp = self.send(&req).await?;
        let list = resp
            .body
            .get("deletedRecords")
            .and_then(Json::as_array)
            .ok_or_else(|| ClientError::malformed(&what, "no `deletedRecords` array"))?;
        let deleted =
            list.iter()
                .map(|d| {
                    let id = d.get("id").and_then(Json::as_str).ok_or_else(|| {
                        ClientError::malformed(&what, "a deleted record has no `id`")
                    })?;
                    Ok(Deletion {
                        id: id.to_string(),
                        deleted_at: d
                            .get("deletedDate")
                            .and_then(Json::as_str)
                            .and_then(|t| parse_salesforce_datetime(t).ok()),
                    })
                })
                .collect::<Result<Vec<_>, ClientError>>()?;
        let earliest = resp
            .body
            .get("earliestDateAvailable")
            .and_then(Json::as_str)
            .and_then(|t| parse_salesforce_datetime(t).ok());
        Ok((deleted, earliest))
    }
}

fn where_clause(conditions: &[String]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    }
}

fn ids_of(rows: &[Row], what: &str) -> Result<BTreeSet<String>, ClientError> {
    rows.iter()
        .map(|r| {
            r.get("Id")
                .and_then(Json::as_str)
                .map(str::to_string)
                .ok_or_else(|| ClientError::malformed(what, "a row has no `Id`"))
        })
        .collect()
}
