//! The PIM calendar (openapi.pim.json 1.0.2, `/api/pim-v1`) against the emulator, over HTTP:
//! JSCalendar entries, the date-range listing, Notes zones on read, implicit scheduling, the
//! PIM error envelope and the mailbox on another server. Each test names the operation or
//! the line of shared/reference/connectors.md it follows.

mod common;

use common::{Client, assert_pim_error};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tandem_domino_emulator::{DominoEmulator, NoticeKind};

const CAL: &str = "/api/pim-v1/calendar/default";

fn meeting(start: &str) -> Value {
    json!({
        "@type": "jsevent",
        "title": "Quarterly review",
        "start": start,
        "duration": "PT1H",
        "timeZone": "America/New_York",
        "privacy": "public",
        "participants": {
            "167a0b3c-b824-2a3c-909f-5b149ca579b6": {"@type": "Participant", "email": "ann@acme.example", "roles": {"owner": true, "chair": true}},
            "524c8a9d-b824-2a3c-589f-5b149ca225d8": {"@type": "Participant", "email": "bo@acme.example", "roles": {"attendee": true}}
        }
    })
}

async fn create(client: &Client, body: Value, send: Option<bool>) -> Value {
    let path = match send {
        Some(send) => format!("{CAL}?send={send}"),
        None => CAL.to_string(),
    };
    let answer = client.post(&path, body).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.body
}

/// createCalendarEntry then getCalendarEntry: the entry comes back as a `jsevent` with a
/// 32-hex `uid`, `created`/`updated`, `start` still local, and `duration`.
#[tokio::test]
async fn a_created_entry_reads_back_as_a_jsevent() {
    let client = Client::start().await;
    let created = create(&client, meeting("2026-12-03T10:30:00"), Some(false)).await;
    let uid = created["uid"].as_str().unwrap();
    assert_eq!(uid.len(), 32);
    let read = client.get(&format!("{CAL}/{uid}")).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["@type"], "jsevent");
    assert_eq!(read.body["start"], "2026-12-03T10:30:00");
    assert_eq!(read.body["duration"], "PT1H");
    assert_eq!(read.body["title"], "Quarterly review");
    assert!(read.body["updated"].as_str().unwrap().ends_with('Z'));
}

/// getOneCalendar's example reads the zone as `"Z=5$DO=1$DL=3 2 1 11 1 1$ZX=40$ZN=Eastern"`
/// while createCalendarEntry's writes `"Asia/Manila"`, which getCalendarEntry echoes
/// (connectors.md C8).
#[tokio::test]
async fn zones_read_back_in_notes_notation_where_notes_has_one() {
    let client = Client::start().await;
    let eastern = create(&client, meeting("2026-12-03T10:30:00"), Some(false)).await;
    assert_eq!(
        eastern["timeZone"],
        "Z=5$DO=1$DL=3 2 1 11 1 1$ZX=40$ZN=Eastern"
    );
    let mut manila = meeting("2026-12-03T10:30:00");
    manila["timeZone"] = json!("Asia/Manila");
    let manila = create(&client, manila, Some(false)).await;
    assert_eq!(manila["timeZone"], "Asia/Manila");
    // Writing back what was read is accepted.
    let mut echoed = meeting("2026-12-03T10:30:00");
    echoed["timeZone"] = eastern["timeZone"].clone();
    create(&client, echoed, Some(false)).await;
}

/// JSEvent: `start` is a LocalDateTime ("in the event's time zone"), so an offset is
/// refused; a zone that is neither IANA nor Notes is too. Errors come in the PIM
/// ErrorMessage envelope `{code, message}`.
#[tokio::test]
async fn invalid_entries_are_400_in_the_pim_envelope() {
    let client = Client::start().await;
    for body in [
        json!({"title": "x", "start": "2026-12-03T10:30:00Z"}),
        json!({"title": "x"}),
        json!({"title": "x", "start": "2026-12-03T10:30:00", "timeZone": "Eastern Standard Time"}),
        json!({"title": "x", "start": "2026-12-03T10:30:00", "duration": "1 hour"}),
    ] {
        assert_pim_error(&client.post(CAL, body).await, StatusCode::BAD_REQUEST);
    }
}

/// getOneCalendar `startdate`/`enddate` (format date; enddate "Last day (inclusive)").
#[tokio::test]
async fn the_listing_takes_a_date_range() {
    let client = Client::start().await;
    create(&client, meeting("2026-11-30T10:00:00"), Some(false)).await;
    let inside = create(&client, meeting("2026-12-03T23:00:00"), Some(false)).await;
    create(&client, meeting("2026-12-04T00:00:00"), Some(false)).await;
    let listed = client
        .get(&format!("{CAL}?startdate=2026-12-01&enddate=2026-12-03"))
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    let uids: Vec<&Value> = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["uid"])
        .collect();
    assert_eq!(uids, vec![&inside["uid"]]);
}

/// RecurrenceRule and recurrenceOverrides (PIM schemas) are kept; a repeating entry is
/// listed as its master when its series starts before the range ends.
#[tokio::test]
async fn repeating_entries_keep_their_rules_and_overrides() {
    let client = Client::start().await;
    let mut body = meeting("2026-11-02T09:00:00");
    body["recurrenceRules"] =
        json!([{"@type": "RecurrenceRule", "frequency": "weekly", "count": 10}]);
    body["recurrenceOverrides"] = json!({"2026-11-09T09:00:00": {"start": "2026-11-09T11:00:00"}});
    let created = create(&client, body, Some(false)).await;
    let listed = client
        .get(&format!("{CAL}?startdate=2026-12-01&enddate=2026-12-07"))
        .await;
    let entries = listed.body.as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["uid"], created["uid"]);
    assert_eq!(entries[0]["recurrenceRules"][0]["frequency"], "weekly");
    assert_eq!(
        entries[0]["recurrenceOverrides"]["2026-11-09T09:00:00"]["start"],
        "2026-11-09T11:00:00"
    );
}

/// createCalendarEntry `send`: "Should the calendar entry be sent out to the invitees or stay
/// as draft"; with no default documented, an absent `send` sends (implicit scheduling,
/// connectors.md C9 and pitfall 4). The owner gets no invitation.
#[tokio::test]
async fn creating_a_meeting_invites_its_attendees_unless_send_is_false() {
    let client = Client::start().await;
    create(&client, meeting("2026-12-03T10:30:00"), Some(false)).await;
    assert!(client.domino.notices().is_empty());
    let sent = create(&client, meeting("2026-12-04T10:30:00"), Some(true)).await;
    let implicit = create(&client, meeting("2026-12-05T10:30:00"), None).await;
    let notices = client.domino.notices();
    assert_eq!(notices.len(), 2);
    assert_eq!(notices[0].kind, NoticeKind::Invitation);
    assert_eq!(notices[0].uid, sent["uid"].as_str().unwrap());
    assert_eq!(notices[0].recipients, vec!["bo@acme.example".to_string()]);
    assert_eq!(notices[1].uid, implicit["uid"].as_str().unwrap());
}

/// updateCalendarEntry (PUT, with `send`) replaces the entry and updates the attendees;
/// deleteCalendarEntry "Removes a calendar entry" and, having no `send`, always cancels
/// (connectors.md pitfall 4: "creating or deleting a meeting mails the attendees").
#[tokio::test]
async fn updating_and_deleting_a_meeting_mail_the_attendees() {
    let client = Client::start().await;
    let created = create(&client, meeting("2026-12-03T10:30:00"), Some(false)).await;
    let uid = created["uid"].as_str().unwrap();
    let mut changed = meeting("2026-12-03T11:00:00");
    changed["title"] = json!("Moved review");
    let put = client
        .send(
            Method::PUT,
            &format!("{CAL}/{uid}?send=true"),
            Some(changed),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.body["start"], "2026-12-03T11:00:00");
    assert_ne!(put.body["updated"], Value::Null);

    let deleted = client
        .send(Method::DELETE, &format!("{CAL}/{uid}"), None)
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_pim_error(
        &client.get(&format!("{CAL}/{uid}")).await,
        StatusCode::NOT_FOUND,
    );

    let kinds: Vec<NoticeKind> = client.domino.notices().iter().map(|n| n.kind).collect();
    assert_eq!(kinds, vec![NoticeKind::Update, NoticeKind::Cancellation]);
}

/// modifyCalendarEntry (PATCH `{add, update, remove}` of invitees) returns the full entry;
/// new invitees are invited, removed ones cancelled.
#[tokio::test]
async fn patch_adds_and_removes_invitees() {
    let client = Client::start().await;
    let created = create(&client, meeting("2026-12-03T10:30:00"), Some(false)).await;
    let uid = created["uid"].as_str().unwrap();
    let patched = client
        .send(
            Method::PATCH,
            &format!("{CAL}/{uid}"),
            Some(json!({
                "add": [{"email": "cy@acme.example", "roles": {"optional": true}}],
                "remove": [{"email": "bo@acme.example"}]
            })),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    let emails: Vec<&str> = patched.body["participants"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p["email"].as_str().unwrap())
        .collect();
    assert!(emails.contains(&"cy@acme.example") && !emails.contains(&"bo@acme.example"));
    let notices = client.domino.notices();
    assert_eq!(notices.len(), 2);
    assert_eq!(
        (notices[0].kind, notices[0].recipients.clone()),
        (NoticeKind::Invitation, vec!["cy@acme.example".to_string()])
    );
    assert_eq!(
        (notices[1].kind, notices[1].recipients.clone()),
        (
            NoticeKind::Cancellation,
            vec!["bo@acme.example".to_string()]
        )
    );
}

/// Calendar entries live in the mail file: the basis API and DQL see them as documents of
/// Form "Appointment", so a sync's change query covers them (connectors.md A1 "Change
/// detection").
#[tokio::test]
async fn entries_are_appointment_documents_in_the_mail_file() {
    let client = Client::start().await;
    let mut body = meeting("2026-12-03T10:30:00");
    body["categories"] = json!({"CRM": true});
    let created = create(&client, body, Some(false)).await;
    let found = client
        .query("Form = 'Appointment' and Categories = 'CRM'", 0, 10)
        .await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["@meta"]["unid"], created["uid"]);
    assert_eq!(found[0]["Subject"], "Quarterly review");
}

/// openapi.pim.json info: "If the mailbox is located on a different server, a 302 redirect
/// reply gets issued" (connectors.md C10).
#[tokio::test]
async fn a_mailbox_on_another_server_is_a_302() {
    let client = Client::start().await;
    let other = DominoEmulator::start().await.unwrap();
    client.domino.move_mailbox(Some(&other.base_url()));
    let answer = client
        .get(&format!("{CAL}?startdate=2026-12-01&enddate=2026-12-03"))
        .await;
    assert_eq!(answer.status, StatusCode::FOUND);
    assert_eq!(
        answer.headers["location"],
        format!(
            "{}{CAL}?startdate=2026-12-01&enddate=2026-12-03",
            other.base_url()
        )
        .as_str()
    );
    client.domino.move_mailbox(None);
    assert_eq!(client.get(CAL).await.status, StatusCode::OK);
}

/// PIM 401/403 use the PIM envelope; only `default` is the mail-file calendar.
#[tokio::test]
async fn pim_errors_use_the_pim_envelope() {
    let mut client = Client::start().await;
    assert_pim_error(
        &client.get("/api/pim-v1/calendar/other").await,
        StatusCode::NOT_FOUND,
    );
    assert_pim_error(
        &client.get("/api/pim-v1/people").await,
        StatusCode::NOT_FOUND,
    );
    client.domino.set_access(common::USER, false);
    assert_pim_error(&client.get(CAL).await, StatusCode::FORBIDDEN);
    client.token = "not-a-token".into();
    assert_pim_error(&client.get(CAL).await, StatusCode::UNAUTHORIZED);
}

/// Entries the Notes user made (through the handle) show in the listing, with no notices.
#[tokio::test]
async fn entries_made_in_notes_are_listed() {
    let client = Client::start().await;
    let made = client.domino.mail_file(|m| {
        let Value::Object(body) = meeting("2026-12-03T10:30:00") else {
            unreachable!()
        };
        m.create_entry(body).unwrap()
    });
    let listed = client.get(CAL).await;
    assert_eq!(listed.body[0]["uid"], made.as_str());
    assert!(client.domino.notices().is_empty());
}
