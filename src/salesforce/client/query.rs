//! SOQL query and queryAll, page by page: the first page from `query?q=`, the rest from each
//! page's `nextRecordsUrl`, with `Sforce-Query-Options: batchSize` asking for the page size.

use chrono::{DateTime, Utc};
use serde_json::Value as Json;

use super::http::{Request, SalesforceClient};
use super::{ClientError, Row};

/// One page of query results.
#[derive(Clone, Debug)]
pub struct Page {
    pub records: Vec<Row>,
    /// How many records the whole query has.
    pub total_size: u64,
    pub done: bool,
    /// The server's time when it answered this page.
    pub date: Option<DateTime<Utc>>,
}

enum Next {
    First,
    Url(String),
    Done,
}

/// Walks a query's pages. Each page is one API call, so the budget bounds the walk.
pub struct QueryPager {
    client: SalesforceClient,
    soql: String,
    all: bool,
    next: Next,
    pages: u64,
}

impl QueryPager {
    /// Pages read so far.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    fn what(&self) -> String {
        let verb = if self.all { "queryAll" } else { "query" };
        let soql: String = self.soql.chars().take(120).collect();
        format!("{verb} `{soql}` (page {})", self.pages + 1)
    }

    /// The next page, or `None` once the query is done.
    pub async fn next_page(&mut self) -> Result<Option<Page>, ClientError> {
        let batch = self.client.settings().query_batch_size;
        let what = self.what();
        let req = match &self.next {
            Next::Done => return Ok(None),
            Next::First => Request::get(if self.all { "/queryAll" } else { "/query" })
                .param("q", self.soql.clone()),
            Next::Url(url) => Request::get(url.clone()),
        }
        .named(what.clone())
        .header("Sforce-Query-Options", format!("batchSize={batch}"));
        let resp = self.client.send(&req).await?;
        let body = resp
            .body
            .as_object()
            .ok_or_else(|| ClientError::malformed(&what, "the body is not a JSON object"))?;
        let records = body
            .get("records")
            .and_then(Json::as_array)
            .ok_or_else(|| ClientError::malformed(&what, "no `records` array"))?
            .iter()
            .map(|r| {
                r.as_object()
                    .cloned()
                    .ok_or_else(|| ClientError::malformed(&what, "a record is not a JSON object"))
            })
            .collect::<Result<Vec<Row>, _>>()?;
        let done = body
            .get("done")
            .and_then(Json::as_bool)
            .ok_or_else(|| ClientError::malformed(&what, "no `done` flag"))?;
        let total_size = body.get("totalSize").and_then(Json::as_u64).unwrap_or(0);
        self.pages += 1;
        self.next = if done {
            Next::Done
        } else {
            let url = body
                .get("nextRecordsUrl")
                .and_then(Json::as_str)
                .ok_or_else(|| {
                    ClientError::malformed(
                        &what,
                        "`done` is false but there is no `nextRecordsUrl`",
                    )
                })?;
            // The bearer token only ever goes to the instance's data API.
            if !url.starts_with("/services/data/") {
                return Err(ClientError::malformed(
                    &what,
                    format!("`nextRecordsUrl` {url} is not a data API path"),
                ));
            }
            Next::Url(url.to_string())
        };
        Ok(Some(Page {
            records,
            total_size,
            done,
            date: resp.date,
        }))
    }

    /// Reads every remaining page.
    pub async fn collect(mut self) -> Result<Vec<Row>, ClientError> {
        let mut rows = Vec::new();
        while let Some(page) = self.next_page().await? {
            rows.extend(page.records);
        }
        Ok(rows)
    }
}

impl SalesforceClient {
    /// A pager over `query` (`all = false`) or `queryAll` (deleted and archived rows too).
    pub fn pager(&self, soql: impl Into<String>, all: bool) -> QueryPager {
        QueryPager {
            client: self.clone(),
            soql: soql.into(),
            all,
            next: Next::First,
            pages: 0,
        }
    }

    /// Every row of a query.
    pub async fn query(&self, soql: impl Into<String>) -> Result<Vec<Row>, ClientError> {
        self.pager(soql, false).collect().await
    }

    /// Every row of a queryAll.
    pub async fn query_all(&self, soql: impl Into<String>) -> Result<Vec<Row>, ClientError> {
        self.pager(soql, true).collect().await
    }
}
