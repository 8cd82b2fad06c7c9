//! Salesforce changes into the log, against the emulator over HTTP: a first pull observes every
//! record, a second finds nothing new, an edit becomes an observation of just that field, and a
//! deletion becomes a delete.

use chrono::Duration;
use serde_json::{Value, json};
use std::sync::Arc;
use tandem::config::{SalesforceSettings, Settings};
use tandem::engine::sync::{LogLedger, pull_into_log};
use tandem::protocol::mapping::SalesforceContext;
use tandem::protocol::{EventBody, RecordKind, Side};
use tandem::salesforce::client::SalesforceClient;
use tandem::store::Writer;
use tandem::store::system_clock;
use tandem::store::{Store, read};
use tandem_salesforce_emulator::{Emulator, EmulatorConfig, EmulatorHandle, FixedClock};

/// A seeded demo org in the emulator, a client logged in to it, and a scratch log.
struct Org {
    emu: EmulatorHandle,
    settings: SalesforceSettings,
    client: SalesforceClient,
    store: Arc<Store>,
    writer: Writer,
    ctx: SalesforceContext,
    _dir: tempfile::TempDir,
}

impl Org {
    async fn start(seed: u64) -> Org {
        let emu = Emulator::start(EmulatorConfig {
            clock: Arc::new(FixedClock::at(2024, 5, 6, 10, 0, 0)),
            seed: Some(seed),
            ..EmulatorConfig::default()
        })
        .await
        .unwrap();
        let settings = SalesforceSettings {
            login_url: emu.base_url(),
            client_id: Some(emu.client_id()),
            client_secret: Some(emu.client_secret()),
            refresh_token: Some(emu.initial_refresh_token()),
            backoff_base_ms: 0,
            backoff_max_ms: 0,
            ..SalesforceSettings::default()
        };
        let client = SalesforceClient::new(settings.clone(), None).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open_or_create(dir.path()).unwrap());
        let writer = Writer::spawn(
            store.clone(),
            Settings::default().policies(),
            system_clock(),
        )
        .unwrap();
        Org {
            emu,
            settings,
            client,
            store,
            writer,
            ctx: SalesforceContext::standard(chrono_tz::Europe::Berlin),
            _dir: dir,
        }
    }
}

fn log_len(store: &Store) -> usize {
    read::events_from(&store.read().unwrap(), 1).unwrap().len()
}

#[tokio::test]
async fn pulls_become_observations_and_nothing_is_observed_twice() {
    let Org {
        emu,
        client,
        store,
        writer,
        ctx,
        ..
    } = Org::start(7).await;
    let contacts = emu.org().count("Contact", false);
    assert!(contacts > 10, "the demo org has contacts");

    let first = pull_into_log(&client, &writer, &store, RecordKind::Contact, &ctx, None)
        .await
        .unwrap();
    assert_eq!(first.created, contacts, "{first:?}");
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    assert!(first.full, "the first pull compares everything");
    let events = log_len(&store);
    assert_eq!(
        events,
        contacts + 1,
        "one observation per contact, then the watermark"
    );

    // Nothing changed in Salesforce: the overlap re-reads are recognised, only the watermark moves.
    emu.advance_clock(Duration::minutes(1));
    let second = pull_into_log(&client, &writer, &store, RecordKind::Contact, &ctx, None)
        .await
        .unwrap();
    assert_eq!(
        (second.created, second.updated, second.deleted),
        (0, 0, 0),
        "{second:?}"
    );
    assert_eq!(log_len(&store), events + 1);

    // An edit in Salesforce is observed as a change of that field alone.
    let id = {
        let txn = store.read().unwrap();
        let first_event = read::event_at(&txn, 1).unwrap().unwrap();
        match first_event.body {
            EventBody::Observation(o) => o.external_id.unwrap(),
            other => panic!("{other:?}"),
        }
    };
    emu.advance_clock(Duration::minutes(1));
    emu.org()
        .update("Contact", &id, json!({"Title": "Head of Procurement"}))
        .unwrap();
    emu.advance_clock(Duration::minutes(1));
    let third = pull_into_log(&client, &writer, &store, RecordKind::Contact, &ctx, None)
        .await
        .unwrap();
    assert_eq!(third.updated, 1, "{third:?}");
    let txn = store.read().unwrap();
    let record = read::record_on(&txn, Side::SALESFORCE, &id)
        .unwrap()
        .unwrap();
    let events = read::record_events(&txn, &record).unwrap();
    let (_, last) = events.last().unwrap();
    assert_eq!(last.origin.side, Side::SALESFORCE);
    match &last.body {
        EventBody::Observation(o) => {
            let changed: Vec<&String> = o.changes.keys().collect();
            assert_eq!(changed, ["title"], "only the edited field: {:?}", o.changes);
            assert_eq!(o.changes["title"], Value::from("Head of Procurement"));
            assert!(
                o.changed_at_ms.is_some(),
                "Salesforce's own time of the change travels"
            );
        }
        other => panic!("{other:?}"),
    }
    drop(txn);

    // A deletion in Salesforce deletes the record in tandem.
    emu.org().delete(&id).unwrap();
    emu.advance_clock(Duration::minutes(1));
    let fourth = pull_into_log(&client, &writer, &store, RecordKind::Contact, &ctx, None)
        .await
        .unwrap();
    assert_eq!(fourth.deleted, 1, "{fourth:?}");
    let txn = store.read().unwrap();
    assert!(read::record(&txn, &record).unwrap().unwrap().deleted);
}

#[tokio::test]
async fn reading_back_tandems_own_write_is_no_change() {
    use tandem::salesforce::client::{Pusher, Update};
    let Org {
        emu,
        settings,
        client,
        store,
        writer,
        ctx,
        ..
    } = Org::start(3).await;
    pull_into_log(&client, &writer, &store, RecordKind::Contact, &ctx, None)
        .await
        .unwrap();

    // tandem writes a new title to one contact, and records what Salesforce now holds.
    let (id, record, had, heads) = {
        let txn = store.read().unwrap();
        let EventBody::Observation(o) = read::event_at(&txn, 1).unwrap().unwrap().body else {
            panic!()
        };
        let side = read::side_state(&txn, &o.record, Side::SALESFORCE)
            .unwrap()
            .unwrap();
        let heads = read::record(&txn, &o.record).unwrap().unwrap().heads;
        (o.external_id.unwrap(), o.record, side.fields, heads)
    };
    let mut now = had.clone();
    now.insert("title".into(), Value::from("Chief Buyer"));
    let body =
        tandem::protocol::mapping::changes_to_salesforce(RecordKind::Contact, &had, &now, &ctx)
            .unwrap()
            .fields;
    let pusher = Pusher::new(
        SalesforceClient::new(settings, None).unwrap(),
        LogLedger::new(store.clone(), writer.clone()),
    );
    let report = pusher
        .update(vec![Update {
            record: record.clone(),
            object: "Contact".into(),
            id: id.clone(),
            fields: body,
            version: None,
            written: heads,
            side_fields: Some(now),
        }])
        .await;
    assert!(report.stopped.is_none(), "{report:?}");

    // The next pull reads the title back from Salesforce: recognised, nothing observed; only
    // the new SystemModstamp is noted, for the next conditional update to name.
    emu.advance_clock(Duration::minutes(1));
    let before = log_len(&store);
    let pulled = pull_into_log(&client, &writer, &store, RecordKind::Contact, &ctx, None)
        .await
        .unwrap();
    assert_eq!(
        (pulled.created, pulled.updated),
        (0, 0),
        "the read-back was taken for a change: {pulled:?}"
    );
    assert!(pulled.unchanged >= 1, "{pulled:?}");
    assert_eq!(
        log_len(&store),
        before + 2,
        "the write's new version, and the watermark"
    );
    let txn = store.read().unwrap();
    let side = read::side_state(&txn, &record, Side::SALESFORCE)
        .unwrap()
        .unwrap();
    assert_eq!(side.fields.get("title"), Some(&Value::from("Chief Buyer")));
    assert_eq!(
        side.version.as_deref(),
        emu.org().get(&id).unwrap()["SystemModstamp"].as_str(),
        "the version the write got"
    );
}
