//! Incremental pull of one object: rows whose SystemModstamp is past the watermark (minus an
//! overlap for late commits) plus `sobjects/X/deleted`; when the delete history no longer reaches
//! back to the watermark, a full comparison that lists every id Salesforce still has.
//!
//! The watermark comes in with the request and goes out with the result: the new one is the
//! server's `Date` of the first query page, never the local clock, so a change committed after
//! that moment has a later SystemModstamp and is read next time. The caller records the changes
//! first and the watermark last (invariant 1).
//!
//! The changed rows are handed over a page at a time: a first pull of 50,000 rows held them
//! all (with the observations made of them) and took hundreds of megabytes for a moment.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Timelike, Utc};
use serde_json::Value as Json;
use tandem_protocol::mapping::{parse_salesforce_datetime, soql_datetime};

use super::http::{Request, SalesforceClient};
use super::query::QueryPager;
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
    /// Whether the caller holds records of this object from an earlier pull. A first pull then
    /// lists every id Salesforce has, so that those gone since can be told; later pulls decide
    /// that from the delete history.
    pub holds_records: bool,
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

/// A pull under way: what was deleted (or every id there is) is known when it starts, and the
/// rows created or changed since the watermark come a page at a time from [`Pull::next_rows`].
pub struct Pull {
    /// Deletions from the delete history (empty after a full comparison).
    pub deleted: Vec<Deletion>,
    /// Every id Salesforce has in scope, when a full comparison ran: whatever tandem knows and
    /// is not in here has disappeared.
    pub all_ids: Option<BTreeSet<String>>,
    pub full: Option<FullReason>,
    /// The server time to store as the new watermark once the changes are in the log.
    pub watermark: DateTime<Utc>,
    first: Option<Vec<Row>>,
    rest: QueryPager,
}

impl Pull {
    /// The next page of rows created or changed since the watermark (with the overlap: some may
    /// be known), or `None` once all are read.
    pub async fn next_rows(&mut self) -> Result<Option<Vec<Row>>, ClientError> {
        if let Some(first) = self.first.take() {
            return Ok(Some(first));
        }
        Ok(self.rest.next_page().await?.map(|page| page.records))
    }

    /// Every row still to come, at once.
    pub async fn all_rows(mut self) -> Result<Vec<Row>, ClientError> {
        let mut rows = Vec::new();
        while let Some(page) = self.next_rows().await? {
            rows.extend(page);
        }
        Ok(rows)
    }
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
    pub async fn pull(&self, req: &PullRequest) -> Result<Pull, ClientError> {
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
        let mut rest = self.pager(soql, req.include_archived);
        let first = rest.next_page().await?;
        let server_now = first.as_ref().and_then(|page| page.date).ok_or_else(|| {
            ClientError::malformed(
                &what,
                "the query answer has no Date header, so there is no server time to take the watermark from",
            )
        })?;
        let pull = |deleted, all_ids, full| Pull {
            deleted,
            all_ids,
            full,
            watermark: server_now,
            first: first.map(|page| page.records),
            rest,
        };
        let all_ids = || async {
            let soql = format!(
                "SELECT Id FROM {}{}",
                req.object,
                where_clause(&scope_conditions)
            );
            let all = self.pager(soql, req.include_archived).collect().await?;
            ids_of(&all, &what)
        };

        let Some(watermark) = req.watermark else {
            let ids = match req.holds_records {
                true => Some(all_ids().await?),
                false => None,
            };
            return Ok(pull(Vec::new(), ids, Some(FullReason::FirstRun)));
        };

        let missed = |earliest| FullReason::DeleteWindowMissed {
            watermark,
            earliest_available: earliest,
        };
        let window_start = server_now - Duration::days(DELETE_WINDOW_DAYS);
        let full = if watermark <= window_start + Duration::minutes(1) {
            missed(None)
        } else {
            // The overlap again, but never further back than the history reaches.
            let start = to_minute((watermark - overlap).max(window_start + Duration::minutes(2)));
            let end = to_minute(server_now).max(start + Duration::minutes(2));
            match self.deleted(&req.object, start, end).await {
                Ok((deleted, earliest)) if earliest.is_none_or(|e| e <= to_minute(watermark)) => {
                    return Ok(pull(deleted, None, None));
                }
                Ok((_, earliest)) => missed(earliest),
                Err(e) if e.api_code() == Some("INVALID_REPLICATION_DATE") => missed(None),
                Err(e) => return Err(e),
            }
        };
        let ids = all_ids().await?;
        Ok(pull(Vec::new(), Some(ids), Some(full)))
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
