//! SOQL text built from the tables: the SELECT for each object, and safe string literals.

use super::SalesforceContext;
use super::table::{object_name, table};
use crate::record::RecordKind;

/// `SELECT <every inbound field and relationship name> FROM <Object>`, without the fields an
/// org must switch on. The engine appends its WHERE / ORDER BY.
pub fn soql_select(kind: RecordKind) -> String {
    select(kind, &[])
}

/// As [`soql_select`], with the optional fields this org has switched on.
pub fn soql_select_for(kind: RecordKind, ctx: &SalesforceContext) -> String {
    select(kind, &ctx.enabled_optional_fields)
}

fn select(kind: RecordKind, enabled: &[String]) -> String {
    format!(
        "SELECT {} FROM {}",
        field_list(kind, enabled).join(", "),
        object_name(kind)
    )
}

/// What a pull of `kind` always leaves out, as a SOQL condition. An invitee's copy of someone
/// else's meeting (`IsChild`) is not the user's event: the invitation reaches the desktop
/// through the user's mail, the meeting itself (when synced) through its organiser's record,
/// and Salesforce lets an invitee change nothing on the copy but its reminder.
pub fn pull_condition(kind: RecordKind) -> Option<&'static str> {
    (kind == RecordKind::Event).then_some("IsChild = false")
}

/// The fields a pull reads for this org: what [`soql_select_for`] selects, as a list.
pub fn select_fields(kind: RecordKind, ctx: &SalesforceContext) -> Vec<String> {
    let mut names = field_list(kind, &ctx.enabled_optional_fields);
    // The key that tells a detached occurrence's row (see `detached`).
    if let (RecordKind::Event, Some(key)) = (kind, &ctx.row_key_field)
        && !names.iter().any(|n| n.eq_ignore_ascii_case(key))
    {
        names.push(key.clone());
    }
    names
}

fn field_list(kind: RecordKind, enabled: &[String]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut add = |name: String| {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
            names.push(name);
        }
    };
    // A broken table is caught by the unit tests; the bare Id keeps this total.
    add("Id".into());
    if let Ok(table) = table(kind) {
        for row in table.rows.iter().filter(|r| r.direction.inbound()) {
            if row.optional && !enabled.iter().any(|f| f == &row.salesforce) {
                continue;
            }
            add(row.salesforce.clone());
            if let Some(rel) = &row.relationship {
                add(format!("{rel}.Name"));
            }
        }
    }
    names
}

/// A SOQL string literal, quotes included. Backslash, both quotes and the control
/// characters SOQL defines escapes for are escaped, so user text (a company name, an email)
/// can't end the literal and change the query.
pub fn soql_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    out.push('\'');
    out
}

/// A SOQL literal for `LIKE` that matches names containing `s`: `'%…%'`. SOQL gives `%` and
/// `_` their wildcard meaning inside LIKE unless escaped as `\%` and `\_`, so a company
/// called `100%_Pure` looks for exactly that text and not for every name with "100".
/// Those two escapes are only valid in LIKE, which is why [`soql_quote`] leaves them alone.
pub(crate) fn soql_like_contains(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    out.push_str("'%");
    for c in s.chars() {
        match c {
            '%' => out.push_str("\\%"),
            '_' => out.push_str("\\_"),
            c => push_escaped(&mut out, c),
        }
    }
    out.push_str("%'");
    out
}

/// A SOQL datetime literal: unquoted, UTC, whole seconds.
pub fn soql_datetime(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A SOQL literal for a JSON value of a field of Salesforce type `kind` (as `describe` names
/// it: `datetime`, `date`, `boolean`, `int`, `string`…); `None` when the value cannot be
/// compared in a WHERE clause (an object, a number that is not one).
pub fn soql_literal(value: &serde_json::Value, kind: &str) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::Null => Some("null".into()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => match kind {
            "datetime" => super::time::parse_datetime(s).map(soql_datetime),
            "date" => super::time::parse_date(s).map(|d| d.to_string()),
            "boolean" => s.parse::<bool>().ok().map(|b| b.to_string()),
            "int" | "double" | "currency" | "percent" => s.parse::<f64>().ok().map(|_| s.clone()),
            _ => Some(soql_quote(s)),
        },
        _ => None,
    }
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\'' => out.push_str("\\'"),
        '"' => out.push_str("\\\""),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn literals_follow_the_field_type() {
        assert_eq!(
            soql_literal(&json!("O'Neil"), "string").as_deref(),
            Some("'O\\'Neil'")
        );
        assert_eq!(
            soql_literal(&json!("2024-05-06T12:00:00.000+0200"), "datetime").as_deref(),
            Some("2024-05-06T10:00:00Z")
        );
        assert_eq!(
            soql_literal(&json!("2024-05-06"), "date").as_deref(),
            Some("2024-05-06")
        );
        assert_eq!(soql_literal(&json!("soon"), "date"), None);
        assert_eq!(soql_literal(&json!(null), "email").as_deref(), Some("null"));
        assert_eq!(soql_literal(&json!({"a": 1}), "string"), None);
    }

    #[test]
    fn select_lists_system_and_relationship_fields() {
        let q = soql_select(RecordKind::Contact);
        assert!(q.starts_with("SELECT Id, IsDeleted, "), "{q}");
        assert!(q.ends_with(" FROM Contact"), "{q}");
        for f in [
            "SystemModstamp",
            "LastModifiedDate",
            "AccountId",
            "Account.Name",
            "Owner.Name",
            "ReportsTo.Name",
            "MailingStreet",
            "Birthdate",
        ] {
            assert!(
                q.contains(&format!(" {f},")) || q.contains(&format!(" {f} ")),
                "{f} in {q}"
            );
        }
        assert_eq!(q.matches("Account.Name").count(), 1, "no duplicates: {q}");
        assert!(
            !q.contains("MiddleName"),
            "optional fields only when enabled"
        );
        let mut ctx = SalesforceContext::standard(chrono_tz::UTC);
        ctx.enabled_optional_fields = vec!["MiddleName".into()];
        assert!(soql_select_for(RecordKind::Contact, &ctx).contains("MiddleName"));

        let q = soql_select(RecordKind::Event);
        for f in [
            "Who.Name",
            "What.Name",
            "IsAllDayEvent",
            "Recurrence2PatternText",
            "DurationInMinutes",
        ] {
            assert!(q.contains(f), "{f} in {q}");
        }
        let q = soql_select(RecordKind::Task);
        for f in ["Status", "IsClosed", "CompletedDateTime", "Priority"] {
            assert!(q.contains(f), "{f} in {q}");
        }
    }

    #[test]
    fn quoting_escapes_everything_that_could_end_the_literal() {
        assert_eq!(soql_quote("O'Brien & Sons"), r"'O\'Brien & Sons'");
        assert_eq!(soql_quote(r"a\b"), r"'a\\b'");
        assert_eq!(soql_quote("x' OR Name != '"), r"'x\' OR Name != \''");
        assert_eq!(soql_quote("line\nbreak\t\"q\""), r#"'line\nbreak\t\"q\"'"#);
        assert_eq!(soql_quote(""), "''");
        assert_eq!(
            soql_quote("100%_x"),
            "'100%_x'",
            "LIKE escapes are not valid in ="
        );
    }

    #[test]
    fn like_literal_escapes_wildcards_as_well_as_quotes() {
        assert_eq!(soql_like_contains("Acme"), "'%Acme%'");
        assert_eq!(soql_like_contains("100%_Pure"), r"'%100\%\_Pure%'");
        assert_eq!(soql_like_contains(r"O'Brien\Co"), r"'%O\'Brien\\Co%'");
    }
}
