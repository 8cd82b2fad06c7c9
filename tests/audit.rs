//! History, blame and restore over the real binary: who changed which field, when, from where,
//! and bringing a record back — including a deleted one — by appending events.

mod common;

use common::{Scratch, observe, observe_on};
use serde_json::{Value, json};

/// A contact created on the desktop, then edited concurrently: the desktop changes phone and
/// title, Salesforce (which saw only the creation) changes email and title.
fn concurrent_edits(s: &Scratch) -> (String, u64) {
    let acks = s.ingest(&[observe(
        "desktop",
        "create",
        "/dav/contacts/ana.vcf",
        json!({"first_name": "Ana", "last_name": "Lima", "title": "Buyer"}),
    )]);
    let record = acks[0]["record"].as_str().unwrap().to_string();
    let created = acks[0]["hlc"].as_u64().unwrap();
    s.ingest(&[
        observe_on(
            "desktop",
            "update",
            &record,
            &[created],
            json!({"phone": "+55 11 5555 0100", "title": "Head of Purchasing"}),
        ),
        observe_on(
            "salesforce",
            "update",
            &record,
            &[created],
            json!({"email": "ana@lima.example", "title": "Purchasing Director"}),
        ),
    ]);
    (record, created)
}

#[test]
fn concurrent_edits_merge_field_by_field_and_history_shows_the_conflict() {
    let s = Scratch::new();
    let (record, _) = concurrent_edits(&s);

    let blame: Vec<Value> = serde_json::from_str(&s.ok(&["blame", &record, "--json"])).unwrap();
    let field = |name: &str| blame.iter().find(|l| l["field"] == name).unwrap().clone();
    assert_eq!(field("phone")["value"], "+55 11 5555 0100");
    assert_eq!(field("phone")["origin"]["side"], "desktop");
    assert_eq!(field("email")["value"], "ana@lima.example");
    assert_eq!(field("email")["origin"]["side"], "salesforce");
    // Newest wins: the Salesforce edit came last.
    assert_eq!(field("title")["value"], "Purchasing Director");
    assert_eq!(
        field("title")["conflicting"][0]["value"],
        "Head of Purchasing"
    );
    assert_eq!(field("first_name")["seq"], 1);

    let history: Vec<Value> = serde_json::from_str(&s.ok(&["history", &record, "--json"])).unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[0]["origin"]["side"], "desktop");
    let last = &history[2];
    assert_eq!(last["origin"]["side"], "salesforce");
    let title = last["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == "title")
        .unwrap();
    assert_eq!(title["before"], "Head of Purchasing");
    assert_eq!(title["after"], "Purchasing Director");
    assert_eq!(last["conflicts"][0]["field"], "title");
    assert_eq!(
        last["conflicts"][0]["over"][0]["value"],
        "Head of Purchasing"
    );
    assert_eq!(last["conflicts"][0]["policy"], "newest-wins");

    let text = s.ok(&["history", &record]);
    assert!(
        text.contains("conflict on title: kept \"Purchasing Director\" from salesforce"),
        "{text}"
    );
}

#[test]
fn the_policy_comes_from_the_settings_file() {
    let s = Scratch::new();
    std::fs::write(
        s.path().join("tandem.toml"),
        "[contacts]\nconflict_policy = \"desktop-wins\"\n",
    )
    .unwrap();
    let (record, _) = concurrent_edits(&s);
    let blame: Vec<Value> = serde_json::from_str(&s.ok(&["blame", &record, "--json"])).unwrap();
    let title = blame.iter().find(|l| l["field"] == "title").unwrap();
    assert_eq!(title["value"], "Head of Purchasing");
}

#[test]
fn records_are_found_by_every_name() {
    let s = Scratch::new();
    let mut draft = observe(
        "desktop",
        "create",
        "/dav/contacts/bo.vcf",
        json!({"last_name": "Bo"}),
    );
    draft["uid"] = json!("bo-uid-1");
    let acks = s.ingest(&[draft]);
    let record = acks[0]["record"].as_str().unwrap();
    s.ingest(&[json!({
        "origin": {"side": "salesforce", "agent": "test"},
        "type": "outcome", "record": record, "side": "salesforce", "op": "create",
        "written": [acks[0]["hlc"]], "result": {"status": "succeeded", "external_id": "003000000000001AAA"}
    })]);
    for name in [
        record,
        "bo-uid-1",
        "/dav/contacts/bo.vcf",
        "http://127.0.0.1:5232/dav/contacts/bo.vcf",
        "003000000000001AAA",
    ] {
        let out = s.ok(&["blame", name]);
        assert!(out.starts_with(record), "{name}: {out}");
    }
}

#[test]
fn restore_brings_back_an_earlier_state_and_a_deleted_record_by_appending() {
    let s = Scratch::new();
    let (record, _) = concurrent_edits(&s);
    s.ingest(&[observe(
        "desktop",
        "delete",
        "/dav/contacts/ana.vcf",
        json!({}),
    )]);
    let before = s.log().len();
    assert!(s.ok(&["blame", &record]).contains("(deleted)"));

    // Back to just after the creation (#1): the later fields go, the record exists again.
    let out = s.ok(&["restore", &record, "--at", "#1"]);
    assert!(out.contains("restored"), "{out}");
    let log = s.log();
    assert_eq!(log.len(), before + 1, "one event appended, none rewritten");
    assert_eq!(log[before]["event"]["origin"]["side"], "tandem");
    assert_eq!(log[before]["event"]["op"], "create");

    let blame: Vec<Value> = serde_json::from_str(&s.ok(&["blame", &record, "--json"])).unwrap();
    let value = |f: &str| {
        blame
            .iter()
            .find(|l| l["field"] == f)
            .map(|l| l["value"].clone())
    };
    assert_eq!(value("title"), Some(json!("Buyer")));
    assert_eq!(value("email"), None);
    assert_eq!(value("phone"), None);
    assert!(!s.ok(&["blame", &record]).contains("(deleted)"));

    // Restoring to the present state again changes nothing.
    let seq = log.len().to_string();
    let again = s.ok(&["restore", &record, "--at", &seq]);
    assert!(again.contains("nothing to restore"), "{again}");

    // By time: before the record existed is a clear error.
    let out = s.run(&["restore", &record, "--at", "2001-01-01"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("did not exist yet"));
}

#[test]
fn log_since_and_limit() {
    let s = Scratch::new();
    concurrent_edits(&s);
    let text = s.ok(&["log", "--since", "#2"]);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.lines().next().unwrap().starts_with("#2"));
    assert_eq!(s.ok(&["log", "--limit", "1"]).lines().count(), 1);
    assert_eq!(s.ok(&["log", "--since", "2999-01-01"]).lines().count(), 0);
    assert_eq!(s.ok(&["log", "--since", "2000-01-01"]).lines().count(), 3);
}

#[test]
fn log_since_a_time_starts_at_the_first_event_stamped_then_or_later() {
    let s = Scratch::new();
    let mut stamps = Vec::new();
    for i in 0..12 {
        let acks = s.ingest(&[observe(
            "desktop",
            "create",
            &format!("/dav/contacts/{i}.vcf"),
            json!({"last_name": format!("L{i}")}),
        )]);
        stamps.push(tandem::protocol::Hlc(acks[0]["hlc"].as_u64().unwrap()).wall_ms() as i64);
    }
    for ms in stamps.iter().flat_map(|ms| [ms - 1, *ms, ms + 1]) {
        let at = chrono::DateTime::from_timestamp_millis(ms)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let text = s.ok(&["log", "--since", &at]);
        let first = stamps.iter().position(|stamp| *stamp >= ms);
        assert_eq!(
            text.lines().count(),
            first.map_or(0, |f| stamps.len() - f),
            "since {at}: {text}"
        );
        if let Some(first) = first {
            let seq = format!("#{} ", first + 1);
            assert!(text.starts_with(&seq), "since {at}: {text}");
        }
    }
}

#[test]
fn blame_credits_the_event_that_set_a_value_not_one_that_repeated_it() {
    let s = Scratch::new();
    let acks = s.ingest(&[observe(
        "salesforce",
        "create",
        "003000000000001AAA",
        json!({"last_name": "Lima", "owner": {"salesforce_id": "005A", "name": "Alex"}}),
    )]);
    let record = acks[0]["record"].as_str().unwrap().to_string();
    let created = acks[0]["hlc"].as_u64().unwrap();
    // A later pull reports the same owner, and a new title.
    s.ingest(&[observe_on(
        "salesforce",
        "update",
        &record,
        &[created],
        json!({"owner": {"salesforce_id": "005A", "name": "Alex"}, "title": "Buyer"}),
    )]);
    let blame: Vec<Value> = serde_json::from_str(&s.ok(&["blame", &record, "--json"])).unwrap();
    let field = |name: &str| blame.iter().find(|l| l["field"] == name).unwrap().clone();
    assert_eq!(field("owner")["seq"], 1, "the owner was set by the create");
    assert_eq!(field("last_name")["seq"], 1);
    assert_eq!(field("title")["seq"], 2);
    let text = s.ok(&["blame", &record]);
    assert!(
        text.contains("+N after a time"),
        "the clock's counter suffix is explained: {text}"
    );
}

#[test]
fn restoring_a_record_that_is_ignored_lifts_the_ignore_and_says_so() {
    let s = Scratch::new();
    let acks = s.ingest(&[observe(
        "desktop",
        "create",
        "/dav/addressbooks/contacts/bo.vcf",
        json!({"first_name": "Bo", "last_name": "Lind", "categories": ["CRM"]}),
    )]);
    let record = acks[0]["record"].as_str().unwrap().to_string();
    let created = acks[0]["seq"].as_u64().unwrap();
    s.ingest(&[observe(
        "desktop",
        "delete",
        "/dav/addressbooks/contacts/bo.vcf",
        json!({}),
    )]);
    s.ok(&["sync", "ignore", &record, "--forever"]);
    let out = s.ok(&["restore", &record, "--at", &format!("#{created}")]);
    assert!(
        out.contains("no longer ignored"),
        "the restore says it lifted the ignore: {out}"
    );
    let preview: Value = serde_json::from_str(&s.ok(&["sync", "preview", "--json"])).unwrap();
    let item = preview["plan"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["record"] == record.as_str())
        .cloned()
        .expect("the restored record is planned");
    assert_ne!(
        item["steps"]["salesforce"]["skipped"], "ignored_forever",
        "{item}"
    );
}
