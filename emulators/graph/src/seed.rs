//! Plausible items in bulk, for demos and benchmarks: made through the same mailbox calls as
//! the API's, so they are what a client would have made.

use chrono::{DateTime, Duration, Timelike, Utc};
use serde_json::{Map, Value, json};

use crate::error::GraphError;
use crate::mailbox::{Kind, Mailbox};

const GIVEN: [&str; 8] = ["Ana", "Bo", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana"];
const SURNAMES: [&str; 6] = ["Lima", "Okafor", "Berg", "Nakamura", "Rossi", "Silva"];
const SUBJECTS: [&str; 5] = [
    "Quarterly review",
    "Call with the buyer",
    "Site visit",
    "Pricing workshop",
    "Renewal check-in",
];

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

fn folder(mailbox: &Mailbox, kind: Kind) -> Result<String, GraphError> {
    mailbox
        .folders
        .iter()
        .find(|f| f.kind == kind)
        .map(|f| f.id.clone())
        .ok_or_else(GraphError::not_found)
}

pub fn fill(
    mailbox: &mut Mailbox,
    now: DateTime<Utc>,
    contacts: usize,
    events: usize,
    tasks: usize,
) -> Result<(), GraphError> {
    let contact_folder = folder(mailbox, Kind::Contact)?;
    for n in 0..contacts {
        let (given, surname) = (GIVEN[n % GIVEN.len()], SURNAMES[n % SURNAMES.len()]);
        let body = object(json!({
            "givenName": given,
            "surname": format!("{surname} {n}"),
            "emailAddresses": [{"address": format!("{}.{n}@example.com", given.to_lowercase()), "name": given}],
            "businessPhones": [format!("+1 555 01{:02}", n % 100)],
            "companyName": format!("{surname} Trading"),
            // Nine in ten are business contacts, categorised as the seeds' users are told to;
            // the tenth is personal.
            "categories": if n % 10 == 9 { json!([]) } else { json!(["CRM"]) },
        }));
        mailbox.create(&contact_folder, Kind::Contact, &body, now)?;
    }
    let task_folder = folder(mailbox, Kind::Task)?;
    for n in 0..tasks {
        let due = (now + Duration::days((n % 30) as i64)).format("%Y-%m-%dT00:00:00.0000000");
        let importance = ["low", "normal", "high"][n % 3];
        let body = object(json!({
            "title": format!("Follow up {}", n + 1),
            "importance": importance,
            "dueDateTime": {"dateTime": due.to_string(), "timeZone": "UTC"},
        }));
        mailbox.create(&task_folder, Kind::Task, &body, now)?;
    }
    let calendar = folder(mailbox, Kind::Event)?;
    let day0 = now
        .with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(now);
    for n in 0..events {
        let start = day0 + Duration::days((n % 60) as i64) + Duration::hours((n % 8) as i64);
        let end = start + Duration::minutes(30 + 30 * (n % 3) as i64);
        let at = |t: DateTime<Utc>| json!({"dateTime": t.format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": "UTC"});
        let mut body = json!({
            "subject": format!("{} {}", SUBJECTS[n % SUBJECTS.len()], n + 1),
            "start": at(start),
            "end": at(end),
            "location": {"displayName": format!("Room {}", 100 + n % 20)},
            "categories": if n % 4 == 0 { json!(["CRM"]) } else { json!([]) },
        });
        if n % 10 == 9 {
            let day = start.format("%A").to_string().to_lowercase();
            body["recurrence"] = json!({
                "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": [day]},
                "range": {"type": "numbered", "startDate": start.format("%Y-%m-%d").to_string(), "numberOfOccurrences": 10},
            });
        }
        mailbox.create_event(&calendar, &object(body), now)?;
    }
    Ok(())
}
