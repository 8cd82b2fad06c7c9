//! End to end with Notes as a side: the Domino emulator's mail file (edited as its Notes user
//! would, and read by tandem over HTTP after a real login), the Salesforce emulator, and the
//! CalDAV/CardDAV server — the stories of the seeds' Notes guides, and the faults a Domino
//! server throws at a sync.

#[path = "../common/mod.rs"]
mod common;
#[path = "../sync/rig.rs"]
mod rig;

use rig::Rig;
use serde_json::{Map, Value, json};
use tandem::config::Settings;
use tandem::protocol::{RecordKind, Side};
use tandem_domino_emulator::{Document, DominoEmulator, DominoHandle};

const CONTACTS: &str = "/dav/addressbooks/contacts/";
const CALENDAR: &str = "/dav/calendars/calendar/";

/// The product with Notes logged in.
struct WithNotes {
    rig: Rig,
    domino: DominoHandle,
}

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().expect("an object")
}

impl WithNotes {
    async fn start() -> WithNotes {
        let domino = DominoEmulator::start()
            .await
            .expect("the Domino emulator starts");
        WithNotes::on(domino).await
    }

    async fn on(domino: DominoHandle) -> WithNotes {
        let mut rig = Rig::with_settings(Settings::default()).await;
        common::notes::log_in(&domino, rig.dir.path()).await;
        let saved = Settings::load(rig.dir.path()).expect("the settings file reads");
        rig.settings.notes = tandem::config::NotesSettings {
            backoff_base_ms: 0,
            backoff_max_ms: 0,
            ..saved.notes
        };
        assert!(rig.settings.notes.signed_in());
        WithNotes { rig, domino }
    }

    /// The Notes user saves a document (a contact, a to-do) in the mail file.
    fn notes_create(&self, items: Value) -> String {
        self.domino.mail_file(|m| m.create(object(items)))
    }

    /// The Notes user edits a document: `items` merged into it, a `null` removing one.
    fn notes_update(&self, unid: &str, items: Value) {
        let found = self
            .domino
            .mail_file(|m| m.update(unid, object(items), false).is_some());
        assert!(found, "no document {unid}");
    }

    /// The Notes user saves a calendar entry.
    fn notes_entry(&self, body: Value) -> String {
        self.domino
            .mail_file(|m| m.create_entry(object(body)))
            .expect("the entry is saved")
    }

    fn documents(&self, form: &str) -> Vec<Document> {
        self.domino.mail_file(|m| {
            m.documents()
                .into_iter()
                .filter(|d| d.form() == Some(form))
                .cloned()
                .collect()
        })
    }

    fn document(&self, unid: &str) -> Document {
        self.domino
            .mail_file(|m| m.get(unid).cloned())
            .expect("the document is in the mail file")
    }

    /// One more run finds nothing to do on any side: no echo, nothing left behind.
    async fn in_step(&self) {
        let idle = self.rig.preview().await;
        assert!(
            idle.plan.items.iter().all(|i| !i.runs()),
            "{:#?}",
            idle.plan
        );
        let idle = self.rig.apply().await;
        let record = idle.record.expect("the run is recorded");
        assert!(record.results.is_empty(), "{:#?}", record.results);
        assert!(record.unreachable.is_empty(), "{:?}", record.unreachable);
    }
}

fn item<'a>(doc: &'a Document, name: &str) -> &'a Value {
    doc.item(name).unwrap_or(&Value::Null)
}

fn in_days(days: u64) -> chrono::NaiveDate {
    chrono::Utc::now().date_naive() + chrono::Days::new(days)
}

#[tokio::test]
async fn a_crm_contact_reaches_salesforce_with_its_account_and_the_carddav_client_and_a_personal_one_never_does()
 {
    let notes = WithNotes::start().await;
    let rig = &notes.rig;
    let account = rig.sf_create("Account", json!({"Name": "Lima Consulting"}));
    notes.notes_create(json!({
        "Form": "Person",
        "FirstName": "Ana",
        "LastName": "Lima",
        "CompanyName": "Lima Consulting",
        "JobTitle": "Director",
        "MailAddress": "ana@lima.example",
        "Categories": ["CRM", "Lisbon"],
    }));
    let personal = notes.notes_create(json!({
        "Form": "Person",
        "FirstName": "Mum",
        "LastName": "Home",
        "PhoneNumber": "+44 20 7946 0000",
    }));
    let before = notes.document(&personal);

    let preview = rig.preview().await;
    assert_eq!(
        preview.pulled[&Side::NOTES][&RecordKind::Contact].created,
        1
    );
    rig.apply().await;
    let rows = rig
        .soql("SELECT Id, LastName, Email, Title, AccountId FROM Contact")
        .await;
    assert_eq!(rows.len(), 1, "only the CRM contact: {rows:#?}");
    assert_eq!(rows[0]["LastName"], "Lima");
    assert_eq!(rows[0]["Email"], "ana@lima.example");
    assert_eq!(rows[0]["Title"], "Director");
    assert_eq!(
        rows[0]["AccountId"],
        json!(account),
        "linked to its Account"
    );
    let members = rig.members(CONTACTS).await;
    assert_eq!(members.len(), 1, "{members:?}");
    let (_, card) = rig.get(&members[0]).await;
    assert!(card.contains("FN:Ana Lima"), "{card}");

    // The personal contact was never touched, and nothing echoes or doubles.
    notes.in_step().await;
    assert_eq!(notes.document(&personal), before);
    assert_eq!(notes.documents("Person").len(), 2);
    assert_eq!(rig.soql("SELECT Id FROM Contact").await.len(), 1);
    rig.verify_replay();
}

#[tokio::test]
async fn a_salesforce_contact_reaches_notes_categorised_and_edits_travel_both_ways() {
    let notes = WithNotes::start().await;
    let rig = &notes.rig;
    let sf = rig.sf_create(
        "Contact",
        json!({"FirstName": "Ben", "LastName": "Okafor", "Title": "Buyer"}),
    );
    rig.sync().await;
    let people = notes.documents("Person");
    assert_eq!(people.len(), 1, "{people:#?}");
    let ben = &people[0];
    assert_eq!(item(ben, "LastName"), "Okafor");
    assert_eq!(item(ben, "JobTitle"), "Buyer");
    let categories = item(ben, "Categories");
    assert!(
        categories == &json!("CRM") || categories == &json!(["CRM"]),
        "made in the sync category, so it stays in scope: {categories}"
    );

    // Both edit other fields before the next run: both edits survive everywhere.
    notes.notes_update(&ben.unid, json!({"CellPhoneNumber": "+49 170 1234567"}));
    rig.sf_update("Contact", &sf, json!({"Title": "Head of Purchasing"}));
    rig.sync().await;
    let row = rig.sf_get(&sf);
    assert_eq!(row["MobilePhone"], "+49 170 1234567");
    assert_eq!(row["Title"], "Head of Purchasing");
    let ben = notes.document(&ben.unid);
    assert_eq!(item(&ben, "JobTitle"), "Head of Purchasing");
    assert_eq!(item(&ben, "CellPhoneNumber"), "+49 170 1234567");
    notes.in_step().await;
    assert_eq!(notes.documents("Person").len(), 1);
}

#[tokio::test]
async fn a_notes_entry_reaches_salesforce_and_a_salesforce_event_reaches_notes_mailing_no_one() {
    let notes = WithNotes::start().await;
    let rig = &notes.rig;
    let day = in_days(3);
    notes.notes_entry(json!({
        "title": "Pricing review",
        "start": format!("{day}T10:00:00"),
        "duration": "PT1H",
        "timeZone": "America/New_York",
        "participants": {
            "a": {"@type": "Participant", "email": "ann@acme.example", "roles": {"owner": true}},
            "b": {"@type": "Participant", "email": "buyer@customer.example", "roles": {"attendee": true}},
        },
    }));
    let start = chrono::NaiveDateTime::parse_from_str(
        &format!("{} 15:00:00", in_days(5)),
        "%Y-%m-%d %H:%M:%S",
    )
    .unwrap()
    .and_utc();
    rig.sf_create(
        "Event",
        json!({
            "Subject": "Quarterly business review",
            "StartDateTime": start.to_rfc3339(),
            "EndDateTime": (start + chrono::Duration::hours(1)).to_rfc3339(),
        }),
    );
    rig.sync().await;
    let rows = rig
        .soql("SELECT Id, Subject, StartDateTime FROM Event ORDER BY Subject")
        .await;
    assert_eq!(rows.len(), 2, "{rows:#?}");
    let review = rows
        .iter()
        .find(|r| r["Subject"] == "Pricing review")
        .unwrap();
    // 10:00 in New York (EST in winter, EDT in summer) is that instant in UTC.
    let expected = chrono_tz::America::New_York
        .from_local_datetime(&day.and_hms_opt(10, 0, 0).unwrap())
        .single()
        .unwrap()
        .to_utc();
    assert_eq!(
        chrono::DateTime::parse_from_str(
            review["StartDateTime"].as_str().unwrap(),
            "%Y-%m-%dT%H:%M:%S%.3f%z"
        )
        .unwrap()
        .to_utc(),
        expected,
        "{review:#?}"
    );
    let entries = notes.documents("Appointment");
    assert_eq!(entries.len(), 2, "{entries:#?}");
    assert!(
        notes.domino.notices().is_empty(),
        "no invitation or update was mailed: {:?}",
        notes.domino.notices()
    );
    assert_eq!(rig.members(CALENDAR).await.len(), 2);
    notes.in_step().await;

    // The meeting with an invitee is deleted in Salesforce: gone from Notes, no cancellation.
    let id = review["Id"].as_str().unwrap().to_string();
    rig.sf_delete(&id);
    rig.sync().await;
    assert_eq!(notes.documents("Appointment").len(), 1);
    assert!(
        notes.domino.notices().is_empty(),
        "{:?}",
        notes.domino.notices()
    );
}

use chrono::TimeZone;

#[tokio::test]
async fn a_repeating_meeting_with_a_rescheduled_instance_round_trips_as_one_series_with_its_exception()
 {
    let notes = WithNotes::start().await;
    let rig = &notes.rig;
    let first = in_days(2);
    let moved = first + chrono::Days::new(7);
    let unid = notes.notes_entry(json!({
        "title": "Weekly pipeline",
        "start": format!("{first}T09:00:00"),
        "duration": "PT30M",
        "timeZone": "America/New_York",
        "recurrenceRules": [{"@type": "RecurrenceRule", "frequency": "weekly", "count": 4}],
        "recurrenceOverrides": {
            format!("{moved}T09:00:00"): {"start": format!("{moved}T14:00:00")},
        },
    }));
    rig.sync().await;
    let members = rig.members(CALENDAR).await;
    assert_eq!(members.len(), 1, "one series, not four events: {members:?}");
    let (_, ics) = rig.get(&members[0]).await;
    assert!(ics.contains("RRULE:FREQ=WEEKLY"), "{ics}");
    assert_eq!(
        ics.matches("BEGIN:VEVENT").count(),
        2,
        "the series and its exception: {ics}"
    );
    assert!(ics.contains("RECURRENCE-ID"), "{ics}");
    notes.in_step().await;

    // The desktop renames the series: Notes gets the new title, and keeps the exception.
    let renamed = ics.replace("SUMMARY:Weekly pipeline", "SUMMARY:Weekly pipeline (EMEA)");
    assert!(rig.put(&members[0], &renamed).await.is_success());
    rig.sync().await;
    let entry = notes.document(&unid);
    let event = entry.event.expect("a calendar entry");
    assert_eq!(event["title"], "Weekly pipeline (EMEA)");
    let overrides = event["recurrenceOverrides"]
        .as_object()
        .expect("overrides kept");
    assert_eq!(overrides.len(), 1, "{overrides:?}");
    assert_eq!(
        overrides.values().next().unwrap()["start"],
        format!("{moved}T14:00:00")
    );
    notes.in_step().await;
    assert!(notes.domino.notices().is_empty());
}

#[tokio::test]
async fn a_to_do_completed_in_notes_closes_in_salesforce() {
    let notes = WithNotes::start().await;
    let rig = &notes.rig;
    let due = in_days(5);
    let todo = notes.notes_create(json!({
        "Form": "Task",
        "Subject": "Prepare the renewal",
        "DueDateTime": format!("{due}T00:00:00Z"),
        "DueState": "2",
        "Importance": "1",
    }));
    rig.sync().await;
    let rows = rig
        .soql("SELECT Id, Subject, ActivityDate, Priority, Status FROM Task")
        .await;
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0]["Subject"], "Prepare the renewal");
    assert_eq!(
        rows[0]["ActivityDate"],
        due.to_string(),
        "the due day does not move"
    );
    assert_eq!(rows[0]["Priority"], "High");
    // Marking it done in the Notes client closes it and says when.
    notes.notes_update(
        &todo,
        json!({"DueState": "0", "CompletedDateTime": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)}),
    );
    rig.sync().await;
    let rows = rig.soql("SELECT Id, Status FROM Task").await;
    assert_eq!(rows[0]["Status"], "Completed", "{rows:#?}");
    notes.in_step().await;
    assert_eq!(notes.documents("Task").len(), 1);
}

#[tokio::test]
async fn a_contact_deleted_in_notes_comes_back_there_while_salesforce_prevents_the_delete() {
    let notes = WithNotes::start().await;
    let rig = &notes.rig;
    rig.sf_create("Contact", json!({"FirstName": "Liv", "LastName": "Kept"}));
    rig.sync().await;
    let gone = notes.documents("Person")[0].unid.clone();
    assert!(notes.domino.mail_file(|m| m.delete(&gone)));
    rig.sync().await;
    // Salesforce contact deletes are prevented by default: brought back where it was deleted,
    // once, and kept everywhere else.
    let back = notes.documents("Person");
    assert_eq!(back.len(), 1, "{back:#?}");
    assert_eq!(item(&back[0], "LastName"), "Kept");
    assert_eq!(rig.last_names().await, vec![json!("Kept")]);
    assert_eq!(rig.members(CONTACTS).await.len(), 1);
    notes.in_step().await;
    assert_eq!(notes.documents("Person").len(), 1);
}

#[tokio::test]
async fn a_private_entry_never_leaves_notes() {
    let notes = WithNotes::start().await;
    let rig = &notes.rig;
    notes.notes_entry(json!({
        "title": "Doctor",
        "start": format!("{}T08:00:00", in_days(1)),
        "duration": "PT1H",
        "timeZone": "Europe/Berlin",
        "privacy": "private",
    }));
    rig.sync().await;
    assert!(rig.soql("SELECT Id FROM Event").await.is_empty());
    notes.in_step().await;
}

#[tokio::test]
async fn an_expired_token_a_revision_conflict_and_a_503_storm_end_in_a_complete_run_with_nothing_doubled()
 {
    let notes = WithNotes::start().await;
    let rig = &notes.rig;
    notes.domino.schema(|s| s.require_revision = true);
    let sf = rig.sf_create(
        "Contact",
        json!({"FirstName": "Rui", "LastName": "Costa", "Title": "Buyer"}),
    );
    notes.notes_create(json!({
        "Form": "Person", "FirstName": "Eva", "LastName": "Stone", "Categories": "CRM",
    }));
    rig.sync().await;
    assert_eq!(notes.documents("Person").len(), 2);

    // The token ends, the user saves the contact just as tandem writes it, and the server
    // answers 503 a few times: the run still completes.
    notes.domino.expire_tokens();
    rig.sf_update("Contact", &sf, json!({"Title": "Head of Purchasing"}));
    rig.preview().await;
    notes.domino.save_before_next_update();
    notes.domino.fail_next(3, 503);
    let applied = rig.apply().await;
    let record = applied.record.expect("recorded");
    assert!(
        record.results.iter().all(|r| r.error.is_none()),
        "{:#?}",
        record.results
    );
    let rui = notes
        .documents("Person")
        .into_iter()
        .find(|d| item(d, "LastName") == "Costa")
        .expect("in Notes");
    assert_eq!(item(&rui, "JobTitle"), "Head of Purchasing");
    notes.in_step().await;
    assert_eq!(notes.documents("Person").len(), 2);
    assert_eq!(rig.soql("SELECT Id FROM Contact").await.len(), 2);
    rig.verify_replay();
}

#[tokio::test]
async fn a_mailbox_on_another_server_is_followed_there() {
    let home = DominoEmulator::start().await.expect("starts");
    let mail_server = DominoEmulator::start().await.expect("starts");
    let notes = WithNotes::on(home).await;
    // The user's calendar lives on the other server; the home server redirects PIM requests.
    mail_server.add_user("Ann Lee", "demo-password", "CN=Ann Lee/O=Demo");
    notes.domino.move_mailbox(Some(&mail_server.base_url()));
    mail_server
        .mail_file(|m| {
            m.create_entry(object(json!({
                "title": "On the mail server",
                "start": format!("{}T11:00:00", in_days(2)),
                "duration": "PT1H",
                "timeZone": "Europe/Berlin",
            })))
        })
        .expect("saved");
    notes.rig.sync().await;
    let rows = notes.rig.soql("SELECT Subject FROM Event").await;
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0]["Subject"], "On the mail server");
    notes.in_step().await;
}

#[tokio::test]
async fn without_a_scope_for_the_mail_file_contacts_go_through_the_pim_api_and_are_never_created_there()
 {
    let domino = DominoEmulator::start().await.expect("starts");
    domino.set_data_source("mailfile-of-ann");
    let notes = WithNotes::on(domino).await;
    let rig = &notes.rig;
    assert_eq!(
        rig.settings.notes.contacts_and_todos,
        tandem::config::NotesItems::PimItems,
        "the login found no scope"
    );
    let ana = notes.notes_create(json!({
        "Form": "Person", "FirstName": "Ana", "LastName": "Lima", "Categories": ["CRM"],
    }));
    notes.notes_entry(json!({
        "title": "Calendar too",
        "start": format!("{}T11:00:00", in_days(2)),
        "duration": "PT1H",
        "timeZone": "UTC",
    }));
    rig.sf_create("Contact", json!({"FirstName": "Sal", "LastName": "Force"}));
    rig.sync().await;
    assert_eq!(rig.soql("SELECT Id FROM Event").await.len(), 1);
    let mut names = rig.last_names().await;
    names.sort_by_key(|v| v.to_string());
    assert_eq!(names, vec![json!("Force"), json!("Lima")]);
    // Salesforce's contact cannot be made in Notes: prevented, said, not failed every run.
    assert_eq!(notes.documents("Person").len(), 1);
    let preview = rig.preview().await;
    let prevented = preview
        .plan
        .items
        .iter()
        .find(|i| i.label.contains("Force"))
        .and_then(|i| i.steps().find(|(side, _)| *side == Side::NOTES))
        .map(|(_, step)| step.skipped);
    assert_eq!(
        prevented,
        Some(Some(tandem::protocol::plan::Skip::Prevented)),
        "{:#?}",
        preview.plan
    );
    // An edit in Salesforce reaches Notes through the PIM API.
    let sf = rig
        .soql("SELECT Id FROM Contact WHERE LastName = 'Lima'")
        .await[0]["Id"]
        .as_str()
        .unwrap()
        .to_string();
    rig.sf_update("Contact", &sf, json!({"Title": "Director"}));
    rig.sync().await;
    assert_eq!(item(&notes.document(&ana), "JobTitle"), "Director");
    notes.in_step().await;

    // The user is told plainly what their server allows, and what to ask for.
    let reach = tandem::notes::NotesClient::new(rig.settings.notes.clone())
        .unwrap()
        .reach()
        .await
        .unwrap();
    assert!(
        reach.calendar && reach.items && !reach.documents,
        "{reach:?}"
    );
    let said = tandem::app::notes_reach_text(&reach);
    assert!(said.contains("cannot create them in Notes"), "{said}");
    assert!(said.contains("administrator"), "{said}");
}

#[tokio::test]
async fn a_wrong_password_is_refused_plainly_and_nothing_is_saved() {
    let domino = DominoEmulator::start().await.expect("starts");
    domino.add_user("Ann Lee", "right", "CN=Ann Lee/O=Demo");
    let dir = tempfile::tempdir().unwrap();
    let refused = tandem::app::notes_sign_in(
        dir.path(),
        &tandem::app::NotesSignInArgs {
            url: Some(domino.base_url()),
            username: Some("Ann Lee".into()),
            password: Some("wrong".into()),
            data_source: None,
        },
    )
    .await
    .err()
    .expect("refused");
    let said = refused.to_string();
    assert!(said.contains("refused the user name or password"), "{said}");
    assert!(said.contains("tandem login notes"), "{said}");
    let saved = Settings::load(dir.path()).unwrap();
    assert!(!saved.notes.signed_in(), "{:?}", saved.notes);
    assert_eq!(saved.notes.password, None);
}
