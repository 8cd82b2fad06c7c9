//! End to end with Outlook as a third side: the Graph emulator's mailbox (edited as its Outlook
//! user would, and read by tandem over HTTP after a real device-code sign-in), the Salesforce
//! emulator, and the CalDAV/CardDAV server — what a salesperson who lives in Outlook relies on.

#[path = "../common/mod.rs"]
mod common;
#[path = "../sync/rig.rs"]
mod rig;

use rig::Rig;
use serde_json::{Map, Value, json};
use tandem::config::Settings;
use tandem::protocol::Side;
use tandem_graph_emulator::{DEFAULT_CLIENT_ID, GraphEmulator, GraphHandle, Item, Kind};

const CONTACTS: &str = "/dav/addressbooks/contacts/";

/// The product with Outlook signed in.
struct Three {
    rig: Rig,
    graph: GraphHandle,
}

impl Three {
    async fn start() -> Three {
        Three::with_settings(Settings::default()).await
    }

    async fn with_settings(settings: Settings) -> Three {
        let graph = GraphEmulator::start()
            .await
            .expect("the Graph emulator starts");
        // A refresh token used once is spent: every run must use the one the last saved.
        graph.rotate_refresh_tokens_strictly();
        let mut rig = Rig::with_settings(settings).await;
        common::outlook::sign_in(&graph, rig.dir.path()).await;
        let saved = Settings::load(rig.dir.path()).expect("the settings file reads");
        rig.settings.outlook = tandem::config::OutlookSettings {
            backoff_base_ms: 0,
            backoff_max_ms: 0,
            ..saved.outlook
        };
        assert!(rig.settings.outlook.signed_in());
        Three { rig, graph }
    }

    fn folder(&self, name: &str, kind: Kind) -> String {
        self.graph.mailbox(|m| {
            m.folders
                .iter()
                .find(|f| f.name == name && f.kind == kind)
                .map(|f| f.id.clone())
                .unwrap_or_else(|| panic!("no {name} in the mailbox"))
        })
    }

    /// The Outlook user saves an item in a folder or list.
    fn outlook_create(&self, folder: &str, kind: Kind, body: Value) -> Item {
        let body: Map<String, Value> = body.as_object().cloned().unwrap();
        let now = self.graph.now();
        self.graph
            .mailbox(|m| m.create(folder, kind, &body, now))
            .expect("the item is saved")
    }

    fn outlook_update(&self, id: &str, kind: Kind, body: Value) -> Item {
        let body: Map<String, Value> = body.as_object().cloned().unwrap();
        let now = self.graph.now();
        self.graph
            .mailbox(|m| m.update(id, kind, &body, None, now))
            .expect("the item is saved")
    }

    fn items_in(&self, folder: &str) -> Vec<Item> {
        self.graph
            .mailbox(|m| m.in_folder(folder).into_iter().cloned().collect())
    }

    /// A Salesforce contact synced to Outlook, then retitled in Salesforce and previewed: the
    /// run waiting to update Outlook. Its Salesforce id and its Outlook id.
    async fn retitled_in_salesforce(&self, first: &str, last: &str) -> (String, String) {
        let rig = &self.rig;
        let sf = rig.sf_create(
            "Contact",
            json!({"FirstName": first, "LastName": last, "Title": "Buyer"}),
        );
        rig.sync().await;
        let synced = self.folder("Salesforce Contacts", Kind::Contact);
        let id = self.items_in(&synced)[0].immutable_id.clone();
        rig.sf_update("Contact", &sf, json!({"Title": "Head of Purchasing"}));
        rig.preview().await;
        (sf, id)
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
        let record = idle.record.as_ref().expect("the run is recorded");
        assert!(record.results.is_empty(), "{:#?}", record.results);
    }

    fn item(&self, id: &str, kind: Kind) -> Item {
        self.graph
            .mailbox(|m| m.find(id, kind).cloned())
            .expect("the item is in the mailbox")
    }
}

fn field<'a>(item: &'a Item, name: &str) -> &'a Value {
    item.fields.get(name).unwrap_or(&Value::Null)
}

#[tokio::test]
async fn a_contact_saved_in_the_synced_folder_reaches_salesforce_with_its_account_and_the_carddav_client()
 {
    let three = Three::start().await;
    let rig = &three.rig;
    let account = rig.sf_create("Account", json!({"Name": "Lima Consulting"}));
    // The first run creates the synced folder, as SmartCloud Connect does.
    rig.sync().await;
    let synced = three.folder("Salesforce Contacts", Kind::Contact);
    three.outlook_create(
        &synced,
        Kind::Contact,
        json!({
            "givenName": "Ana",
            "surname": "Lima",
            "companyName": "Lima Consulting",
            "jobTitle": "Director",
            "emailAddresses": [{"address": "ana@lima.example", "name": "Ana Lima"}],
        }),
    );

    let preview = rig.preview().await;
    let pulled = &preview.pulled[&Side::OUTLOOK][&tandem::protocol::RecordKind::Contact];
    assert_eq!(pulled.created, 1);
    rig.apply().await;
    let rows = rig
        .soql("SELECT Id, LastName, FirstName, Email, Title, AccountId FROM Contact")
        .await;
    assert_eq!(rows.len(), 1, "{rows:#?}");
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
    assert!(card.contains("ana@lima.example"), "{card}");

    // Nothing echoes back, and nothing is made twice.
    three.in_step().await;
    assert_eq!(three.items_in(&synced).len(), 1);
    assert_eq!(rig.soql("SELECT Id FROM Contact").await.len(), 1);
    rig.verify_replay();
}

#[tokio::test]
async fn a_categorised_contact_of_the_main_folder_syncs_and_a_personal_one_never_does() {
    let three = Three::start().await;
    let rig = &three.rig;
    let main = three.folder("Contacts", Kind::Contact);
    three.outlook_create(
        &main,
        Kind::Contact,
        json!({"givenName": "Cleo", "surname": "Park", "categories": ["CRM"]}),
    );
    let personal = three.outlook_create(
        &main,
        Kind::Contact,
        json!({"givenName": "Mum", "surname": "Home", "homePhones": ["+44 20 7946 0000"]}),
    );

    rig.sync().await;
    let names = rig.last_names().await;
    assert_eq!(names, vec![json!("Park")], "only the categorised contact");
    assert_eq!(rig.members(CONTACTS).await.len(), 1);
    // The personal contact was never touched: not rewritten, not moved.
    let after = three.item(&personal.immutable_id, Kind::Contact);
    assert_eq!(after.change_key, personal.change_key);
    assert_eq!(after.folder, main);

    // Categorising it later brings it into scope.
    three.outlook_update(
        &personal.immutable_id,
        Kind::Contact,
        json!({"categories": ["CRM"]}),
    );
    rig.sync().await;
    let mut names = rig.last_names().await;
    names.sort_by_key(|v| v.to_string());
    assert_eq!(names, vec![json!("Home"), json!("Park")]);
}

#[tokio::test]
async fn a_contact_that_loses_its_category_is_left_alone_and_nothing_is_deleted() {
    let three = Three::start().await;
    let rig = &three.rig;
    let main = three.folder("Contacts", Kind::Contact);
    let cleo = three.outlook_create(
        &main,
        Kind::Contact,
        json!({"givenName": "Cleo", "surname": "Park", "categories": ["CRM"]}),
    );
    rig.sync().await;
    assert_eq!(rig.last_names().await, vec![json!("Park")]);
    // The user takes the category off: the contact is personal again.
    three.outlook_update(&cleo.immutable_id, Kind::Contact, json!({"categories": []}));
    rig.sync().await;
    // Also when Graph has forgotten the delta links and every folder is listed whole.
    three.graph.evict_delta_tokens();
    rig.sync().await;
    assert_eq!(
        rig.last_names().await,
        vec![json!("Park")],
        "not deleted in Salesforce"
    );
    assert_eq!(rig.members(CONTACTS).await.len(), 1, "nor on the desktop");
    let after = three.item(&cleo.immutable_id, Kind::Contact);
    assert_eq!(after.folder, main, "not moved");
    assert_eq!(field(&after, "categories"), &json!([]), "not recategorised");
    let synced = three.folder("Salesforce Contacts", Kind::Contact);
    assert!(
        three.items_in(&synced).is_empty(),
        "not taken for deleted (and brought back into the synced folder)"
    );
}

#[tokio::test]
async fn a_salesforce_edit_and_an_outlook_edit_of_other_fields_both_survive_everywhere() {
    let three = Three::start().await;
    let rig = &three.rig;
    let sf = rig.sf_create(
        "Contact",
        json!({"FirstName": "Ben", "LastName": "Okafor", "Title": "Buyer"}),
    );
    rig.sync().await;
    let synced = three.folder("Salesforce Contacts", Kind::Contact);
    let items = three.items_in(&synced);
    assert_eq!(
        items.len(),
        1,
        "the Salesforce contact reached Outlook's synced folder"
    );
    let outlook_id = items[0].immutable_id.clone();
    assert_eq!(field(&items[0], "jobTitle"), "Buyer");

    // Both edit before the next run: Outlook the mobile phone, Salesforce the title.
    three.outlook_update(
        &outlook_id,
        Kind::Contact,
        json!({"mobilePhone": "+49 170 1234567"}),
    );
    rig.sf_update("Contact", &sf, json!({"Title": "Head of Purchasing"}));
    rig.sync().await;

    let item = three.item(&outlook_id, Kind::Contact);
    assert_eq!(field(&item, "jobTitle"), "Head of Purchasing");
    assert_eq!(field(&item, "mobilePhone"), "+49 170 1234567");
    let row = rig.sf_get(&sf);
    assert_eq!(row["Title"], "Head of Purchasing");
    assert_eq!(row["MobilePhone"], "+49 170 1234567");
    let members = rig.members(CONTACTS).await;
    let (_, card) = rig.get(&members[0]).await;
    assert!(
        card.contains("Head of Purchasing") && card.contains("+49 170 1234567"),
        "{card}"
    );
    three.in_step().await;
    assert_eq!(three.items_in(&synced).len(), 1);
}

#[tokio::test]
async fn a_salesforce_edit_sent_with_a_stale_if_match_is_read_again_and_the_outlook_edit_stays() {
    let three = Three::start().await;
    let rig = &three.rig;
    let (sf, id) = three.retitled_in_salesforce("Kai", "Race").await;
    // The user saves the contact in Outlook just as tandem's update arrives: its If-Match is
    // stale, the update is refused (412), read again and sent once more.
    three
        .graph
        .edit_before_next_write(&id, json!({"mobilePhone": "+49 170 7654321"}));
    rig.apply().await;
    let item = three.item(&id, Kind::Contact);
    assert_eq!(field(&item, "jobTitle"), "Head of Purchasing");
    assert_eq!(
        field(&item, "mobilePhone"),
        "+49 170 7654321",
        "the user's edit stays"
    );
    // The next run brings the Outlook edit to Salesforce.
    rig.sync().await;
    assert_eq!(rig.sf_get(&sf)["MobilePhone"], "+49 170 7654321");
    three.in_step().await;
}

#[tokio::test]
async fn the_same_field_edited_in_outlook_during_the_run_is_not_overwritten_unseen() {
    let three = Three::start().await;
    let rig = &three.rig;
    let (sf, id) = three.retitled_in_salesforce("Mo", "Same").await;
    // The user retitles the contact in Outlook just as tandem's update arrives.
    three
        .graph
        .edit_before_next_write(&id, json!({"jobTitle": "Chief Buyer"}));
    let applied = rig.apply().await;
    let failed: Vec<_> = applied.record.as_ref().unwrap().failures().collect();
    assert_eq!(failed.len(), 1, "the Outlook step waits: {failed:#?}");
    assert_eq!(
        field(&three.item(&id, Kind::Contact), "jobTitle"),
        "Chief Buyer",
        "not overwritten"
    );
    // The next run takes the Outlook edit in; the conflict policy decides, and every side ends
    // with the same title.
    rig.sync().await;
    three.in_step().await;
    let outlook = field(&three.item(&id, Kind::Contact), "jobTitle").clone();
    assert_eq!(rig.sf_get(&sf)["Title"], outlook);
}

#[tokio::test]
async fn a_task_completed_in_outlook_closes_in_salesforce() {
    let three = Three::start().await;
    let rig = &three.rig;
    let due = (chrono::Utc::now() + chrono::Duration::days(3)).date_naive();
    let sf = rig.sf_create(
        "Task",
        json!({"Subject": "Send the offer", "ActivityDate": due.to_string(), "Status": "Not Started"}),
    );
    rig.sync().await;
    let list = three.folder("Tasks", Kind::Task);
    let tasks = three.items_in(&list);
    assert_eq!(tasks.len(), 1, "the Salesforce task reached the To Do list");
    assert_eq!(field(&tasks[0], "title"), "Send the offer");
    let due_there = field(&tasks[0], "dueDateTime")["dateTime"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        due_there.starts_with(&due.to_string()),
        "the due day does not move: {due_there}"
    );

    three.outlook_update(
        &tasks[0].rest_id,
        Kind::Task,
        json!({"status": "completed", "completedDateTime": {"dateTime": format!("{due}T10:00:00.0000000"), "timeZone": "UTC"}}),
    );
    rig.sync().await;
    let row = rig.sf_get(&sf);
    assert_eq!(row["Status"], "Completed", "{row:#}");
    assert_eq!(row["ActivityDate"], due.to_string());
}

#[tokio::test]
async fn a_reset_delta_a_throttling_storm_and_an_expired_token_end_in_a_complete_run_with_nothing_twice()
 {
    let three = Three::start().await;
    let rig = &three.rig;
    rig.sync().await;
    let synced = three.folder("Salesforce Contacts", Kind::Contact);
    for i in 0..5 {
        three.outlook_create(
            &synced,
            Kind::Contact,
            json!({"givenName": "Lee", "surname": format!("Number {i}")}),
        );
    }
    rig.sf_create(
        "Contact",
        json!({"FirstName": "Sam", "LastName": "Salesforce"}),
    );
    // Graph forgets the delta tokens, throttles the next requests (with and without a wait),
    // and the access token expires.
    three.graph.evict_delta_tokens();
    three.graph.throttle(3, Some(0));
    three.graph.throttle(3, None);
    three.graph.expire_tokens();
    // The first run may not get through the storm; the next one completes.
    rig.preview().await;
    rig.apply().await;
    rig.sync().await;

    assert_eq!(rig.soql("SELECT Id FROM Contact").await.len(), 6);
    assert_eq!(
        three.items_in(&synced).len(),
        6,
        "five from Outlook, one from Salesforce"
    );
    assert_eq!(rig.members(CONTACTS).await.len(), 6);

    // Once more with everything reset: still nothing twice.
    three.graph.evict_delta_tokens();
    three.in_step().await;
    assert_eq!(three.items_in(&synced).len(), 6);
    assert_eq!(rig.soql("SELECT Id FROM Contact").await.len(), 6);
    rig.verify_replay();
}

#[tokio::test]
async fn the_summary_shows_outlook_as_its_own_column() {
    let three = Three::start().await;
    let rig = &three.rig;
    rig.sf_create("Contact", json!({"FirstName": "Ida", "LastName": "Column"}));
    let preview = rig.preview().await;
    assert_eq!(
        preview.plan.columns(),
        vec![Side::SALESFORCE, Side::DESKTOP, Side::OUTLOOK]
    );
    let text = tandem::cli::sync::summary(&preview.plan, false, false);
    assert!(text.contains("Outlook 1 create"), "{text}");
    assert!(text.contains("OUTLOOK"), "{text}");
    assert!(text.contains("create -> outlook"), "{text}");
}

/// Polls `done` (bounded in count and time).
async fn until(mut done: impl FnMut() -> bool) {
    for _ in 0..10_000 {
        if done() {
            return;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    panic!("the condition never came true");
}

/// An apply that dies while Outlook's answer to its first write is on its way: the write was
/// made, tandem never heard of it.
async fn apply_dies_waiting_for_an_answer(three: &Three) {
    three.rig.preview().await;
    three.graph.hold_answers();
    let engine = three.rig.engine();
    let run = tokio::spawn(async move {
        engine
            .apply(&tandem::engine::sync::Selection::default(), &|_, _| {})
            .await
    });
    until(|| three.graph.answers_waiting() > 0).await;
    run.abort();
    let _ = run.await;
    three.graph.release_answers();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_outlook_made_whose_answer_never_came_back_is_found_not_made_twice() {
    let three = Three::start().await;
    let rig = &three.rig;
    let list = three.folder("Tasks", Kind::Task);
    // A contact: found again by its extended property.
    rig.sf_create("Contact", json!({"FirstName": "Eve", "LastName": "Once"}));
    apply_dies_waiting_for_an_answer(&three).await;
    let synced = three.folder("Salesforce Contacts", Kind::Contact);
    let made = three.items_in(&synced);
    assert_eq!(made.len(), 1, "Outlook made the contact");
    // The user edits it before tandem has heard of it: the edit must not be taken as tandem's.
    three.outlook_update(
        &made[0].immutable_id,
        Kind::Contact,
        json!({"jobTitle": "Founder"}),
    );
    rig.sync().await;
    assert_eq!(three.items_in(&synced).len(), 1, "the contact exists once");
    let rows = rig.soql("SELECT Title FROM Contact").await;
    assert_eq!(
        rows[0]["Title"], "Founder",
        "the Outlook edit reached Salesforce"
    );

    // A task: To Do has no extended properties; found again by its linked resource.
    let due = (chrono::Utc::now() + chrono::Duration::days(2)).date_naive();
    rig.sf_create(
        "Task",
        json!({"Subject": "Call Eve", "ActivityDate": due.to_string(), "Status": "Not Started"}),
    );
    apply_dies_waiting_for_an_answer(&three).await;
    assert_eq!(three.items_in(&list).len(), 1, "Outlook made the task");
    rig.sync().await;
    assert_eq!(three.items_in(&list).len(), 1, "the task exists once");

    three.in_step().await;
    rig.verify_replay();
}

#[tokio::test]
async fn tandem_login_outlook_with_a_device_code_saves_a_refresh_token_that_works() {
    use tokio::io::AsyncBufReadExt;
    let graph = GraphEmulator::start().await.unwrap();
    graph.device_code_interval(0);
    graph.rotate_refresh_tokens_strictly();
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tandem"))
        .arg("--data")
        .arg(dir.path())
        .args([
            "login",
            "outlook",
            "--device-code",
            "--client-id",
            DEFAULT_CLIENT_ID,
        ])
        .args([
            "--login-url",
            &graph.base_url(),
            "--graph-url",
            &graph.base_url(),
        ])
        .env_remove("TANDEM_DATA")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("tandem login starts");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let message = lines
        .next_line()
        .await
        .unwrap()
        .expect("the sign-in message");
    // "To sign in, use a web browser to open the page … and enter the code XXXX to authenticate."
    let code = message
        .split("enter the code ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("a code in {message}"));
    graph.approve_device_code(code).expect("the user approves");
    let status = child.wait().await.unwrap();
    assert!(status.success());
    let saved = Settings::load(dir.path()).unwrap().outlook;
    assert!(saved.signed_in(), "{saved:?}");
    assert_eq!(saved.graph_url, graph.base_url());

    // A refresh token that was used once is spent: a second client with it is refused, the
    // saved one (rotated) still works.
    let session = |settings: &tandem::config::OutlookSettings| {
        tandem::outlook::signin::Session::new(settings, None).unwrap()
    };
    let http = reqwest::Client::new();
    session(&saved)
        .access_token(&http)
        .await
        .expect("the saved token works");
    let spent = session(&saved).access_token(&http).await.unwrap_err();
    assert!(spent.to_string().contains("invalid_grant"), "{spent}");
}

/// A weekly series in Outlook: Mondays at 09:00 UTC from next Monday, six times.
fn weekly_body(subject: &str) -> (Value, chrono::NaiveDate) {
    let today = chrono::Utc::now().date_naive();
    let monday = today + chrono::Days::new(7 - u64::from(today.weekday().num_days_from_monday()));
    let body = json!({
        "subject": subject,
        "start": {"dateTime": format!("{monday}T09:00:00"), "timeZone": "UTC"},
        "end": {"dateTime": format!("{monday}T10:00:00"), "timeZone": "UTC"},
        "recurrence": {
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"], "firstDayOfWeek": "monday"},
            "range": {"type": "numbered", "startDate": monday.to_string(), "numberOfOccurrences": 6, "recurrenceTimeZone": "UTC"},
        },
    });
    (body, monday)
}

use chrono::Datelike;

impl Three {
    fn calendar(&self) -> String {
        self.graph
            .mailbox(|m| m.calendar_id().map(str::to_string))
            .expect("the mailbox has a calendar")
    }

    /// The Outlook user saves an event.
    fn outlook_event(&self, body: Value) -> tandem_graph_emulator::Instance {
        let body: Map<String, Value> = body.as_object().cloned().unwrap();
        let now = self.graph.now();
        let calendar = self.calendar();
        self.graph
            .mailbox(|m| m.create_event(&calendar, &body, now))
            .expect("the event is saved")
            .0
    }

    fn occurrences(&self, master: &str) -> Vec<tandem_graph_emulator::Instance> {
        let now = self.graph.now();
        self.graph
            .mailbox(|m| {
                m.event_instances(
                    master,
                    now - chrono::Duration::days(30),
                    now + chrono::Duration::days(365),
                )
            })
            .expect("the series' instances")
    }

    fn event_count(&self) -> usize {
        self.graph.mailbox(|m| m.events().count())
    }
}

#[tokio::test]
async fn an_outlook_series_with_a_cancelled_and_a_moved_occurrence_is_one_series_in_salesforce_and_comes_back_unchanged()
 {
    // With the org's external-id field, a moved occurrence is detached in Salesforce.
    let keyed = Settings::parse("[salesforce]\nexternal_id_field = \"Tandem_Id__c\"\n").unwrap();
    let three = Three::with_settings(keyed).await;
    let rig = &three.rig;
    let (body, monday) = weekly_body("Pipeline review");
    let master = three.outlook_event(body);
    let occurrences = three.occurrences(&master.id);
    assert_eq!(occurrences.len(), 6);
    // The user cancels the third meeting and moves the fifth by an hour.
    three
        .graph
        .mailbox(|m| m.cancel_occurrence(&occurrences[2].id))
        .unwrap();
    let fifth = &occurrences[4];
    let now = three.graph.now();
    three
        .graph
        .mailbox(|m| {
            m.move_occurrence(
                &fifth.id,
                fifth.start + chrono::Duration::hours(1),
                fifth.end + chrono::Duration::hours(1),
                now,
            )
        })
        .unwrap();
    let before: Vec<_> = three
        .occurrences(&master.id)
        .iter()
        .map(|i| (i.start, i.change_key.clone()))
        .collect();

    rig.sync().await;
    // One series in Salesforce: its occurrences but the cancelled one, nothing doubled.
    let rows = rig
        .soql("SELECT Id, Subject, StartDateTime, IsRecurrence2 FROM Event ORDER BY StartDateTime")
        .await;
    let days: Vec<String> = rows
        .iter()
        .map(|r| r["StartDateTime"].as_str().unwrap()[..10].to_string())
        .collect();
    let cancelled = (monday + chrono::Days::new(14)).to_string();
    assert!(
        !days.contains(&cancelled),
        "the cancelled Monday is not in Salesforce: {days:?}"
    );
    assert_eq!(rows.len(), 5, "{days:?}");
    assert!(rows.iter().all(|r| r["Subject"] == "Pipeline review"));
    // The moved meeting is a row of its own at its new time; the series has the other four.
    let alone: Vec<_> = rows
        .iter()
        .filter(|r| r["IsRecurrence2"] == false)
        .collect();
    assert_eq!(alone.len(), 1, "{rows:#?}");
    let at = chrono::DateTime::parse_from_str(
        alone[0]["StartDateTime"].as_str().unwrap(),
        "%Y-%m-%dT%H:%M:%S%.f%z",
    )
    .unwrap();
    assert_eq!(at, fifth.start + chrono::Duration::hours(1));
    // On the desktop: one event with its rule and the cancellation.
    let calendar = rig.members("/dav/calendars/calendar/").await;
    assert_eq!(calendar.len(), 1, "{calendar:?}");
    let (_, ics) = rig.get(&calendar[0]).await;
    assert!(ics.contains("RRULE:FREQ=WEEKLY"), "{ics}");
    assert!(ics.contains("EXDATE"), "{ics}");
    // The moved meeting is an override at its new time.
    let moved = (fifth.start + chrono::Duration::hours(1))
        .format("%Y%m%dT%H%M%SZ")
        .to_string();
    assert!(ics.contains("RECURRENCE-ID"), "{ics}");
    assert!(ics.contains(&moved), "the fifth meeting at {moved}: {ics}");

    // Outlook is as the user left it: no write came back, no extra event or occurrence.
    three.in_step().await;
    let after: Vec<_> = three
        .occurrences(&master.id)
        .iter()
        .map(|i| (i.start, i.change_key.clone()))
        .collect();
    assert_eq!(after, before);
    assert_eq!(three.event_count(), 1);
    rig.verify_replay();
}

#[tokio::test]
async fn a_private_outlook_event_never_leaves_outlook() {
    let three = Three::start().await;
    let rig = &three.rig;
    let day = chrono::Utc::now().date_naive() + chrono::Days::new(2);
    three.outlook_event(json!({
        "subject": "Doctor",
        "sensitivity": "private",
        "start": {"dateTime": format!("{day}T08:00:00"), "timeZone": "UTC"},
        "end": {"dateTime": format!("{day}T09:00:00"), "timeZone": "UTC"},
    }));
    three.outlook_event(json!({
        "subject": "Demo at Lima",
        "start": {"dateTime": format!("{day}T14:00:00"), "timeZone": "W. Europe Standard Time"},
        "end": {"dateTime": format!("{day}T15:00:00"), "timeZone": "W. Europe Standard Time"},
    }));
    rig.sync().await;
    let rows = rig.soql("SELECT Subject, StartDateTime FROM Event").await;
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0]["Subject"], "Demo at Lima");
    // 14:00 in Berlin (a Windows zone name in Outlook) is 13:00 UTC in winter.
    let start = chrono::DateTime::parse_from_str(
        rows[0]["StartDateTime"].as_str().unwrap(),
        "%Y-%m-%dT%H:%M:%S%.3f%z",
    )
    .unwrap();
    let berlin = chrono_tz::Europe::Berlin;
    use chrono::TimeZone;
    let expected = berlin
        .from_local_datetime(&day.and_hms_opt(14, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    assert_eq!(start.with_timezone(&chrono::Utc), expected);
    let calendar = rig.members("/dav/calendars/calendar/").await;
    assert_eq!(
        calendar.len(),
        1,
        "the private event stays in Outlook: {calendar:?}"
    );
}

#[tokio::test]
async fn a_salesforce_meeting_reaches_the_outlook_calendar_once_and_its_edit_follows() {
    let three = Three::start().await;
    let rig = &three.rig;
    let day = chrono::Utc::now().date_naive() + chrono::Days::new(3);
    let sf = rig.sf_create(
        "Event",
        json!({
            "Subject": "Kick-off",
            "StartDateTime": format!("{day}T10:00:00.000+0000"),
            "EndDateTime": format!("{day}T11:00:00.000+0000"),
            "Location": "Room 4",
        }),
    );
    rig.sync().await;
    let events: Vec<Value> = three.graph.mailbox(|m| {
        m.events()
            .map(|e| Value::Object(e.fields.clone()))
            .collect()
    });
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["subject"], "Kick-off");
    assert_eq!(events[0]["location"]["displayName"], "Room 4");

    rig.sf_update("Event", &sf, json!({"Location": "Room 7"}));
    rig.sync().await;
    let events: Vec<Value> = three.graph.mailbox(|m| {
        m.events()
            .map(|e| Value::Object(e.fields.clone()))
            .collect()
    });
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["location"]["displayName"], "Room 7");
    three.in_step().await;
}

#[tokio::test]
async fn tandem_login_outlook_in_a_browser_comes_back_to_the_loopback_and_saves_the_token() {
    use tokio::io::AsyncBufReadExt;
    let graph = GraphEmulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tandem"))
        .arg("--data")
        .arg(dir.path())
        .args(["login", "outlook", "--client-id", DEFAULT_CLIENT_ID])
        .args([
            "--login-url",
            &graph.base_url(),
            "--graph-url",
            &graph.base_url(),
        ])
        // Port 0: one the system picks (a real registration names a fixed one).
        .args(["--callback", "http://127.0.0.1:0/outlook"])
        .env_remove("TANDEM_DATA")
        .env("TANDEM_NO_BROWSER", "1")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("tandem login starts");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut url = None;
    for _ in 0..10 {
        let line = lines
            .next_line()
            .await
            .unwrap()
            .expect("the sign-in page's address");
        if line.starts_with("http") {
            url = Some(line);
            break;
        }
    }
    let url = url.expect("the authorize URL is printed");
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    assert!(!url.contains("client_secret"), "a public client: {url}");
    // The browser: the platform (a user who consented) redirects to the loopback address.
    let landed = reqwest::get(&url).await.expect("the browser comes back");
    assert!(landed.status().is_success(), "{}", landed.status());
    assert!(child.wait().await.unwrap().success());
    let saved = Settings::load(dir.path()).unwrap().outlook;
    assert!(saved.signed_in(), "{saved:?}");
    let session = tandem::outlook::signin::Session::new(&saved, None).unwrap();
    session
        .access_token(&reqwest::Client::new())
        .await
        .expect("the saved refresh token works");
}

#[tokio::test]
async fn a_desktop_series_with_a_cancelled_occurrence_reaches_outlook_as_one_series_without_it() {
    let three = Three::start().await;
    let rig = &three.rig;
    let (_, monday) = weekly_body("unused");
    let start = monday.and_hms_opt(9, 0, 0).unwrap().and_utc();
    let third = start + chrono::Duration::weeks(2);
    let ics = rig::vevent(
        "weekly-standup@desktop",
        "Weekly stand-up",
        start,
        &[
            "RRULE:FREQ=WEEKLY;COUNT=5",
            &format!("EXDATE:{}", third.format("%Y%m%dT%H%M%SZ")),
        ],
    );
    assert!(
        rig.put("/dav/calendars/calendar/standup.ics", &ics)
            .await
            .is_success()
    );
    rig.sync().await;
    assert_eq!(
        three.event_count(),
        1,
        "one series in Outlook, not five events"
    );
    let master = three
        .graph
        .mailbox(|m| m.events().next().unwrap().immutable_id.clone());
    let starts: Vec<_> = three.occurrences(&master).iter().map(|i| i.start).collect();
    assert_eq!(
        starts.len(),
        4,
        "five weeks but the cancelled one: {starts:?}"
    );
    assert!(!starts.contains(&third), "{starts:?}");
    three.in_step().await;
}

#[tokio::test]
async fn a_contact_deleted_in_outlook_comes_back_there_while_salesforce_prevents_the_delete() {
    let three = Three::start().await;
    let rig = &three.rig;
    rig.sf_create("Contact", json!({"FirstName": "Liv", "LastName": "Kept"}));
    rig.sync().await;
    let synced = three.folder("Salesforce Contacts", Kind::Contact);
    let gone = three.items_in(&synced)[0].immutable_id.clone();
    three
        .graph
        .mailbox(|m| m.delete(&gone, Kind::Contact))
        .unwrap();
    rig.sync().await;
    // Salesforce contact deletes are prevented by default: the contact is brought back where
    // it was deleted, once, and stays everywhere else.
    let back = three.items_in(&synced);
    assert_eq!(back.len(), 1, "{back:#?}");
    assert_eq!(field(&back[0], "surname"), "Kept");
    assert_eq!(rig.last_names().await, vec![json!("Kept")]);
    assert_eq!(rig.members(CONTACTS).await.len(), 1);
    three.in_step().await;
    assert_eq!(three.items_in(&synced).len(), 1);
}

#[tokio::test]
async fn a_to_do_made_in_outlook_reaches_salesforce_and_closing_it_there_completes_it_in_outlook() {
    let three = Three::start().await;
    let rig = &three.rig;
    let list = three.folder("Tasks", Kind::Task);
    let due = (chrono::Utc::now() + chrono::Days::new(5)).date_naive();
    let todo = three.outlook_create(
        &list,
        Kind::Task,
        json!({
            "title": "Prepare the renewal",
            "importance": "high",
            "dueDateTime": {"dateTime": format!("{due}T00:00:00.0000000"), "timeZone": "Pacific/Auckland"},
        }),
    );
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
    let sf = rows[0]["Id"].as_str().unwrap().to_string();
    rig.sf_update("Task", &sf, json!({"Status": "Completed"}));
    rig.sync().await;
    let done = three.item(&todo.rest_id, Kind::Task);
    assert_eq!(field(&done, "status"), "completed", "{done:#?}");
    three.in_step().await;
}

#[tokio::test]
async fn a_meeting_deleted_in_outlook_is_deleted_in_salesforce_and_on_the_desktop() {
    let three = Three::start().await;
    let rig = &three.rig;
    let day = chrono::Utc::now().date_naive() + chrono::Days::new(4);
    let meeting = three.outlook_event(json!({
        "subject": "Cancelled later",
        "start": {"dateTime": format!("{day}T10:00:00"), "timeZone": "UTC"},
        "end": {"dateTime": format!("{day}T11:00:00"), "timeZone": "UTC"},
    }));
    rig.sync().await;
    assert_eq!(rig.soql("SELECT Id FROM Event").await.len(), 1);
    assert_eq!(rig.members("/dav/calendars/calendar/").await.len(), 1);
    three
        .graph
        .mailbox(|m| m.delete_event(&meeting.id))
        .unwrap();
    rig.sync().await;
    assert!(rig.soql("SELECT Id FROM Event").await.is_empty());
    assert!(rig.members("/dav/calendars/calendar/").await.is_empty());
    assert_eq!(three.event_count(), 0, "not brought back");
}

#[tokio::test]
async fn a_desktop_meeting_in_a_named_zone_reaches_outlook_at_its_time_and_nothing_echoes() {
    let three = Three::start().await;
    let rig = &three.rig;
    let day = chrono::Utc::now().date_naive() + chrono::Days::new(6);
    let ics = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//tandem tests//EN",
        "BEGIN:VEVENT",
        "UID:zoned@desktop",
        "DTSTAMP:20261101T000000Z",
        &format!("DTSTART;TZID=Europe/Berlin:{}T093000", day.format("%Y%m%d")),
        &format!("DTEND;TZID=Europe/Berlin:{}T103000", day.format("%Y%m%d")),
        "SUMMARY:Berlin stand-up",
        "LOCATION:Room 2",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
    .join("\r\n");
    assert!(
        rig.put("/dav/calendars/calendar/zoned.ics", &ics)
            .await
            .is_success()
    );
    rig.sync().await;
    let events: Vec<Value> = three.graph.mailbox(|m| {
        m.events()
            .map(|e| Value::Object(e.fields.clone()))
            .collect()
    });
    assert_eq!(events.len(), 1, "{events:#?}");
    let start = &events[0]["start"];
    // 09:30 in Berlin, whichever name Outlook was given for the zone.
    use chrono::TimeZone;
    let local = chrono::NaiveDateTime::parse_from_str(
        start["dateTime"].as_str().unwrap().get(..19).unwrap(),
        "%Y-%m-%dT%H:%M:%S",
    )
    .unwrap();
    let zone = start["timeZone"].as_str().unwrap();
    let berlin = chrono_tz::Europe::Berlin;
    let expected = berlin
        .from_local_datetime(&day.and_hms_opt(9, 30, 0).unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    let sent = match zone {
        "UTC" => local.and_utc(),
        "Europe/Berlin" | "W. Europe Standard Time" => berlin
            .from_local_datetime(&local)
            .unwrap()
            .with_timezone(&chrono::Utc),
        other => panic!("an unexpected zone {other}"),
    };
    assert_eq!(sent, expected);
    three.in_step().await;
    let (_, body) = rig.get("/dav/calendars/calendar/zoned.ics").await;
    assert!(
        body.contains("TZID=Europe/Berlin"),
        "the client's zone stays: {body}"
    );
}

#[tokio::test]
async fn a_revoked_sign_in_leaves_the_other_sides_running_and_says_to_sign_in_again() {
    let three = Three::start().await;
    let rig = &three.rig;
    rig.sync().await;
    three.graph.revoke_refresh_tokens();
    rig.sf_create(
        "Contact",
        json!({"FirstName": "Ola", "LastName": "Meanwhile"}),
    );
    let preview = rig.preview().await;
    let why = &preview.record.as_ref().unwrap().unreachable[&Side::OUTLOOK];
    assert!(why.contains("tandem login outlook"), "{why}");
    assert_eq!(preview.unread, vec![Side::OUTLOOK]);
    let applied = rig.apply().await;
    // The desktop got the contact; Outlook's step waits for the sign-in, said per item.
    let record = applied.record.as_ref().unwrap();
    let waiting: Vec<_> = record.failures().collect();
    assert!(
        waiting.iter().all(|f| f.side == Side::OUTLOOK),
        "{waiting:#?}"
    );
    assert_eq!(rig.members(CONTACTS).await.len(), 1);

    // Signed in again, the next run completes, once.
    common::outlook::sign_in(&three.graph, rig.dir.path()).await;
    rig.sync().await;
    let synced = three.folder("Salesforce Contacts", Kind::Contact);
    assert_eq!(three.items_in(&synced).len(), 1);
    three.in_step().await;
}

#[tokio::test]
async fn a_batch_with_one_failed_create_makes_the_others_and_the_next_run_makes_it_once() {
    let three = Three::start().await;
    let rig = &three.rig;
    rig.sync().await;
    for last in ["One", "Two", "Three"] {
        rig.sf_create("Contact", json!({"FirstName": "Batch", "LastName": last}));
    }
    rig.preview().await;
    // Graph answers the second create of the batch with a 500 and makes the others.
    three.graph.fail_in_next_batch(1, 500);
    let applied = rig.apply().await;
    let failed: Vec<_> = applied.record.as_ref().unwrap().failures().collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0].side, Side::OUTLOOK);
    let synced = three.folder("Salesforce Contacts", Kind::Contact);
    assert_eq!(three.items_in(&synced).len(), 2);
    rig.sync().await;
    assert_eq!(
        three.items_in(&synced).len(),
        3,
        "the failed one made once, no other twice"
    );
    three.in_step().await;
}

#[tokio::test]
async fn an_occurrence_moved_on_the_desktop_becomes_an_exception_of_the_outlook_series() {
    let three = Three::start().await;
    let rig = &three.rig;
    let (body, _) = weekly_body("Team sync");
    let master = three.outlook_event(body);
    let occurrences = three.occurrences(&master.id);
    rig.sync().await;
    let calendar = rig.members("/dav/calendars/calendar/").await;
    assert_eq!(calendar.len(), 1);
    let (_, ics) = rig.get(&calendar[0]).await;

    // The desktop moves the second meeting by two hours and retitles it.
    let second = &occurrences[1];
    let fmt = |t: chrono::DateTime<chrono::Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    let uid = ics
        .replace("\r\n ", "")
        .lines()
        .find_map(|l| l.strip_prefix("UID:"))
        .unwrap()
        .to_string();
    let moved = second.start + chrono::Duration::hours(2);
    let block = [
        "BEGIN:VEVENT".to_string(),
        format!("UID:{uid}"),
        "DTSTAMP:20261101T000000Z".into(),
        format!("RECURRENCE-ID:{}", fmt(second.start)),
        format!("DTSTART:{}", fmt(moved)),
        format!("DTEND:{}", fmt(moved + chrono::Duration::hours(1))),
        "SUMMARY:Team sync (customer joins)".into(),
        "END:VEVENT".into(),
    ]
    .join("\r\n");
    let edited = ics.replace("END:VCALENDAR", &format!("{block}\r\nEND:VCALENDAR"));
    let status = rig.put(&calendar[0], &edited).await;
    assert!(status.is_success(), "{status}: {edited}");
    rig.sync().await;

    let now = three.occurrences(&master.id);
    assert_eq!(now.len(), 6, "no occurrence added or lost");
    let exception = now
        .iter()
        .find(|i| i.original_start == Some(second.start))
        .expect("the second occurrence");
    assert_eq!(exception.kind, tandem_graph_emulator::EventType::Exception);
    assert_eq!(exception.start, moved);
    let subject = three
        .graph
        .mailbox(|m| m.series[&master.id].exceptions[&second.start].fields["subject"].clone());
    assert_eq!(subject, "Team sync (customer joins)");
    assert!(
        now.iter()
            .filter(|i| i.original_start != Some(second.start))
            .all(|i| i.kind == tandem_graph_emulator::EventType::Occurrence),
        "the other meetings are untouched"
    );
    three.in_step().await;
    let (_, back) = rig.get(&calendar[0]).await;
    assert!(
        back.contains("SUMMARY:Team sync (customer joins)"),
        "{back}"
    );
    assert_eq!(three.event_count(), 1);
    rig.verify_replay();
}
