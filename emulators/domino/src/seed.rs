//! Bulk content for demos and benchmarks: contacts (Form "Person", PIM23's /person items),
//! to-dos (Form "Task", PIM23's /task items) and calendar entries (JSCalendar), some in the
//! `CRM` category a sync selects on.

use serde_json::{Map, Value, json};

use crate::mailfile::MailFile;

/// The UNIDs of what [`crate::DominoHandle::seed`] made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seeded {
    pub contacts: Vec<String>,
    pub entries: Vec<String>,
    pub todos: Vec<String>,
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Every other item is in the `CRM` category.
fn categories(i: usize) -> Value {
    if i.is_multiple_of(2) {
        json!(["CRM", "Seed"])
    } else {
        json!(["Seed"])
    }
}

pub fn seed(mail: &mut MailFile, contacts: usize, entries: usize, todos: usize) -> Seeded {
    let mut seeded = Seeded::default();
    for i in 0..contacts {
        seeded.contacts.push(mail.create(object(json!({
            "Form": "Person",
            "FirstName": format!("First{i}"),
            "LastName": format!("Last{i}"),
            "FullName": format!("First{i} Last{i}"),
            "CompanyName": format!("Company {}", i % 17),
            "email_1": format!("person{i}@example.com"),
            "OfficePhoneNumber": format!("+1 555 {:04}", i % 10000),
            "Categories": categories(i),
        }))));
    }
    for i in 0..todos {
        let due = format!("2026-12-{:02}", 1 + i % 28);
        // PIM23's states: 0 completed, 1 in progress, 2 not started.
        let state = ["0", "1", "2"][i % 3];
        let mut todo = object(json!({
            "Form": "Task",
            "Subject": format!("To-do {i}"),
            "DueDateTime": format!("{due}T17:00:00Z"),
            "DueState": state,
            "Categories": categories(i),
        }));
        if i % 3 == 0 {
            // Marking a to-do done in the Notes client says when.
            todo.insert(
                "CompletedDateTime".into(),
                json!(format!("{due}T16:00:00Z")),
            );
        }
        seeded.todos.push(mail.create(todo));
    }
    for i in 0..entries {
        let body = object(json!({
            "title": format!("Meeting {i}"),
            "start": format!("2026-12-{:02}T{:02}:00:00", 1 + i % 28, 8 + i % 9),
            "duration": "PT1H",
            "timeZone": "America/New_York",
            "privacy": "public",
            "categories": if i % 2 == 0 { json!({"CRM": true}) } else { json!({}) },
        }));
        // The body is built above to what `accept` takes, so this only fails on a bug here.
        if let Ok(unid) = mail.create_entry(body) {
            seeded.entries.push(unid);
        }
    }
    seeded
}
