//! The record id tandem stamps on the items it creates in Outlook, so a create whose answer was
//! lost is found again; and the query options (`$select`, `$expand`, `$filter`) that read it.
//!
//! Contacts and events carry it as a single-value extended property
//! (singlevaluelegacyextendedproperty-post-singlevalueextendedproperties.md). To Do tasks have
//! no extended properties in Graph v1.0 (resources/todotask.md lists extensions and
//! linkedResources only): a task carries it as a linked resource, which can be created with
//! the task (todotasklist-post-tasks.md) and names the partner application's id (`externalId`).

use crate::record::RecordKind;
use serde_json::{Map, Value, json};

/// The single-value extended property tandem writes on every contact and event it creates,
/// holding the record id: type `String`, a GUID of tandem's own (a named property set), name
/// `tandemRecordId` (extended-properties-overview.md, "String {GUID} Name name").
pub const RECORD_ID_PROPERTY: &str =
    "String {5f0a8d3c-7b21-4e9a-b6c4-2d9e81f3a7b0} Name tandemRecordId";

/// The `applicationName` of the linked resource that stamps a To Do task.
pub const LINK_APPLICATION: &str = "tandem";

/// The extended property to add to a contact's or an event's create body so the item carries
/// `record`. (A To Do task refuses extended properties: use [`stamp_for`].)
pub fn stamp(body: &mut Map<String, Value>, record: &str) {
    push(
        body,
        "singleValueExtendedProperties",
        json!({"id": RECORD_ID_PROPERTY, "value": record}),
    );
}

/// The stamp for an item of `kind`: the extended property on contacts and events, a linked
/// resource on To Do tasks.
pub fn stamp_for(kind: RecordKind, body: &mut Map<String, Value>, record: &str) {
    match kind {
        RecordKind::Task => push(
            body,
            "linkedResources",
            json!({
                "applicationName": LINK_APPLICATION,
                "displayName": format!("tandem record {record}"),
                "externalId": record,
            }),
        ),
        RecordKind::Contact | RecordKind::Event => stamp(body, record),
    }
}

fn push(body: &mut Map<String, Value>, list: &str, entry: Value) {
    match body.get_mut(list) {
        Some(Value::Array(items)) => items.push(entry),
        _ => {
            body.insert(list.into(), Value::Array(vec![entry]));
        }
    }
}

/// The record id tandem stamped on an item, read from `singleValueExtendedProperties` (as
/// `$expand` returns it) or, for a To Do task, from `linkedResources`.
pub fn stamped_record_id(item: &Value) -> Option<String> {
    let list = |name: &str| {
        item.get(name)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
    };
    let text = |v: &Value, name: &str| v.get(name).and_then(Value::as_str).map(str::to_string);
    list("singleValueExtendedProperties")
        .find(|p| {
            p.get("id")
                .and_then(Value::as_str)
                .is_some_and(|id| id.eq_ignore_ascii_case(RECORD_ID_PROPERTY))
        })
        .and_then(|p| text(p, "value"))
        .or_else(|| {
            list("linkedResources")
                .find(|r| {
                    r.get("applicationName").and_then(Value::as_str) == Some(LINK_APPLICATION)
                })
                .and_then(|r| text(r, "externalId"))
        })
        .filter(|id| !id.is_empty())
}

/// `$select` for a GET or a delta of `kind`: what `from_graph` reads, the id, and the version
/// (`changeKey`; `@odata.etag` comes with every item and cannot be selected). Contacts add
/// `parentFolderId`; To Do tasks have neither `changeKey` nor `parentFolderId` (Graph refuses
/// them in `$select`). An events delta takes no `$select` (event-delta.md): the event list is
/// for a GET of one event or of a series' instances.
pub fn select(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Contact => concat!(
            "id,changeKey,parentFolderId,categories,displayName,givenName,middleName,surname,",
            "title,generation,companyName,department,jobTitle,emailAddresses,businessPhones,",
            "mobilePhone,homePhones,businessAddress,otherAddress,birthday,personalNotes,assistantName"
        ),
        RecordKind::Task => concat!(
            "id,categories,title,body,status,importance,dueDateTime,startDateTime,",
            "completedDateTime,reminderDateTime,isReminderOn,recurrence"
        ),
        RecordKind::Event => concat!(
            "id,changeKey,categories,subject,body,start,end,isAllDay,originalStartTimeZone,",
            "originalEndTimeZone,location,sensitivity,showAs,isReminderOn,reminderMinutesBeforeStart,",
            "organizer,attendees,recurrence,type,seriesMasterId,originalStart,isCancelled"
        ),
    }
}

/// `$expand` that brings the stamp along with an item of `kind`.
pub fn expand(kind: RecordKind) -> String {
    match kind {
        RecordKind::Task => "linkedResources".into(),
        RecordKind::Contact | RecordKind::Event => {
            format!("singleValueExtendedProperties($filter=id eq '{RECORD_ID_PROPERTY}')")
        }
    }
}

/// `$filter` finding the contact or event stamped with `record`
/// (singlevaluelegacyextendedproperty-get.md). To Do tasks cannot be filtered on their linked
/// resources: list them with [`expand`] and compare [`stamped_record_id`].
pub fn record_id_filter(record: &str) -> String {
    let quoted = record.replace('\'', "''");
    format!(
        "singleValueExtendedProperties/Any(ep: ep/id eq '{RECORD_ID_PROPERTY}' and ep/value eq '{quoted}')"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamped_item_gives_its_record_back() {
        let mut body = Map::new();
        body.insert("givenName".into(), json!("Ana"));
        stamp(&mut body, "con-0000018c2f4e1a00");
        // As `$expand` returns it on a GET.
        let item = json!({
            "id": "AAMkAGI2",
            "givenName": "Ana",
            "singleValueExtendedProperties": [
                {"id": "String {5F0A8D3C-7B21-4E9A-B6C4-2D9E81F3A7B0} Name tandemRecordId", "value": "con-0000018c2f4e1a00"}
            ]
        });
        assert_eq!(
            body["singleValueExtendedProperties"][0]["id"],
            RECORD_ID_PROPERTY
        );
        assert_eq!(
            stamped_record_id(&item).as_deref(),
            Some("con-0000018c2f4e1a00")
        );
        assert_eq!(stamped_record_id(&json!({"id": "x"})), None);

        let mut task = Map::new();
        stamp_for(RecordKind::Task, &mut task, "tsk-0000018c2f4e1a01");
        assert!(task.get("singleValueExtendedProperties").is_none());
        assert_eq!(
            stamped_record_id(&Value::Object(task)).as_deref(),
            Some("tsk-0000018c2f4e1a01")
        );
    }

    #[test]
    fn query_options_name_the_property() {
        assert!(expand(RecordKind::Event).contains(RECORD_ID_PROPERTY));
        assert_eq!(expand(RecordKind::Task), "linkedResources");
        assert!(record_id_filter("evt-1").ends_with("ep/value eq 'evt-1')"));
        assert!(!select(RecordKind::Task).contains("changeKey"));
        assert!(select(RecordKind::Contact).contains("parentFolderId"));
    }
}
