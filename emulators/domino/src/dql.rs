//! The subset of DQL (help.hcl-software.com/dom_designer/12.0.2/basic/dql_syntax.html) a sync
//! needs: terms joined by `and`, each `@ModifiedInThisFile` or `@Created` compared with
//! `@dt('ISO 8601 with offset')`, or `Item = 'text'` (true when any value of a multi-value
//! item equals it). Anything else is refused, as a query DRAPI cannot parse is: better an
//! error a test sees than a silently wrong answer.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::mailfile::Document;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
}

impl Cmp {
    fn holds<T: PartialOrd>(self, left: T, right: T) -> bool {
        match self {
            Cmp::Gt => left > right,
            Cmp::Ge => left >= right,
            Cmp::Lt => left < right,
            Cmp::Le => left <= right,
            Cmp::Eq => left == right,
        }
    }
}

/// One term of a query.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    Modified(Cmp, DateTime<Utc>),
    Created(Cmp, DateTime<Utc>),
    ItemEquals(String, String),
}

/// A parsed query: all its terms must hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Query(pub Vec<Term>);

/// Why a query was refused; the text goes into the error's `details`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError(pub String);

impl Query {
    /// Parses `query`, `?Name` placeholders taken from `variables` (QueryRequest.variables).
    pub fn parse(query: &str, variables: &Map<String, Value>) -> Result<Query, ParseError> {
        let terms = split_and(query)
            .into_iter()
            .map(|t| parse_term(t.trim(), variables))
            .collect::<Result<Vec<_>, _>>()?;
        if terms.is_empty() {
            return Err(ParseError("empty query".into()));
        }
        Ok(Query(terms))
    }

    pub fn matches(&self, doc: &Document) -> bool {
        self.0.iter().all(|term| match term {
            Term::Modified(cmp, t) => cmp.holds(doc.modified, *t),
            Term::Created(cmp, t) => cmp.holds(doc.created, *t),
            Term::ItemEquals(name, text) => match doc.item(name) {
                Some(Value::Array(values)) => values.iter().any(|v| v.as_str() == Some(text)),
                Some(Value::String(s)) => s == text,
                _ => false,
            },
        })
    }
}

/// Splits on the keyword `and` outside quotes.
fn split_and(query: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    let bytes = query.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' => quoted = !quoted,
            _ if !quoted
                && i + 5 <= bytes.len()
                && bytes[i].is_ascii_whitespace()
                && bytes[i + 1..i + 4].eq_ignore_ascii_case(b"and")
                && bytes[i + 4].is_ascii_whitespace() =>
            {
                parts.push(&query[start..i]);
                start = i + 5;
                i += 4;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&query[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

fn parse_term(term: &str, variables: &Map<String, Value>) -> Result<Term, ParseError> {
    let (left, cmp, right) = split_comparison(term)
        .ok_or_else(|| ParseError(format!("no comparison in term {term:?}")))?;
    let left = left.trim();
    let right = right.trim();
    if left.eq_ignore_ascii_case("@ModifiedInThisFile") || left.eq_ignore_ascii_case("@Created") {
        let time = parse_dt(right, variables)?;
        return Ok(if left.eq_ignore_ascii_case("@Created") {
            Term::Created(cmp, time)
        } else {
            Term::Modified(cmp, time)
        });
    }
    if left.starts_with('@') {
        return Err(ParseError(format!("unsupported function {left}")));
    }
    if cmp != Cmp::Eq || !is_item_name(left) {
        return Err(ParseError(format!("unsupported term {term:?}")));
    }
    Ok(Term::ItemEquals(
        left.to_string(),
        text_value(right, variables)?,
    ))
}

fn split_comparison(term: &str) -> Option<(&str, Cmp, &str)> {
    for (op, cmp) in [
        (">=", Cmp::Ge),
        ("<=", Cmp::Le),
        (">", Cmp::Gt),
        ("<", Cmp::Lt),
        ("=", Cmp::Eq),
    ] {
        if let Some(at) = term.find(op) {
            return Some((&term[..at], cmp, &term[at + op.len()..]));
        }
    }
    None
}

fn is_item_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// `'text'`, or `?Name` from the variables.
fn text_value(value: &str, variables: &Map<String, Value>) -> Result<String, ParseError> {
    if let Some(name) = value.strip_prefix('?') {
        return variables
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| ParseError(format!("no text variable {name}")));
    }
    value
        .strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .filter(|v| !v.contains('\''))
        .map(str::to_string)
        .ok_or_else(|| ParseError(format!("expected a quoted value, got {value}")))
}

/// `@dt('2026-12-01T10:00:00Z')`: the time must carry `Z` or an offset.
fn parse_dt(value: &str, variables: &Map<String, Value>) -> Result<DateTime<Utc>, ParseError> {
    let inner = value
        .strip_prefix("@dt(")
        .or_else(|| value.strip_prefix("@DT("))
        .and_then(|v| v.strip_suffix(')'))
        .ok_or_else(|| ParseError(format!("expected @dt('…'), got {value}")))?;
    let text = text_value(inner.trim(), variables)?;
    DateTime::parse_from_rfc3339(&text)
        .map(|t| t.to_utc())
        .map_err(|e| ParseError(format!("bad @dt time {text:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_sync_subset() {
        let q = Query::parse(
            "@ModifiedInThisFile > @dt('2026-12-01T10:00:00+01:00') and Form = 'Person' AND Categories = 'CRM'",
            &Map::new(),
        )
        .unwrap();
        assert_eq!(
            q.0,
            vec![
                Term::Modified(
                    Cmp::Gt,
                    DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z")
                        .unwrap()
                        .to_utc()
                ),
                Term::ItemEquals("Form".into(), "Person".into()),
                Term::ItemEquals("Categories".into(), "CRM".into()),
            ]
        );
    }

    #[test]
    fn and_inside_quotes_is_text() {
        let q = Query::parse("Subject = 'Salt and pepper'", &Map::new()).unwrap();
        assert_eq!(
            q.0,
            vec![Term::ItemEquals("Subject".into(), "Salt and pepper".into())]
        );
    }

    #[test]
    fn refuses_what_it_does_not_know() {
        for q in [
            "Form = 'Person' or Form = 'Task'",
            "@ModifiedInThisFile > @dt('2026-12-01T10:00:00')",
            "@Contains(Subject; 'x')",
            "",
        ] {
            assert!(Query::parse(q, &Map::new()).is_err(), "{q}");
        }
    }
}
