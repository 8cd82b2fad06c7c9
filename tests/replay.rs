//! Replay: after a mixed workload `replay --verify` finds every projection identical to one
//! rebuilt from the log alone — and when a projection is tampered with, it says where.

mod common;

use common::raw as tables;
use common::{Scratch, observe, observe_on};
use redb::ReadableTable;
use serde_json::json;
use tandem::store::{Access, Store};

/// Creates, concurrent updates from both sides, deletes, a restore, outcomes, a watermark,
/// ignore decisions and a resolved conflict.
fn mixed_workload(s: &Scratch) {
    let mut drafts = Vec::new();
    for i in 0..40 {
        drafts.push(observe(
            "desktop",
            "create",
            &format!("/dav/c/{i}.vcf"),
            json!({"last_name": format!("L{i}"), "categories": ["CRM"]}),
        ));
    }
    let acks = s.ingest(&drafts);
    let mut more = Vec::new();
    for (i, ack) in acks.iter().enumerate() {
        let record = ack["record"].as_str().unwrap();
        let created = ack["hlc"].as_u64().unwrap();
        more.push(observe_on(
            "desktop",
            "update",
            record,
            &[created],
            json!({"title": format!("desk {i}"), "phone": "1"}),
        ));
        more.push(observe_on(
            "salesforce",
            "update",
            record,
            &[created],
            json!({"title": format!("sf {i}"), "email": format!("{i}@x.example")}),
        ));
        if i % 7 == 0 {
            more.push(observe(
                "desktop",
                "delete",
                &format!("/dav/c/{i}.vcf"),
                json!({}),
            ));
        }
        if i % 5 == 0 {
            more.push(json!({"origin": {"side": "salesforce", "agent": "t"}, "type": "outcome", "record": record,
                "side": "salesforce", "op": "create", "written": [created], "result": {"status": "intent"}}));
            more.push(json!({"origin": {"side": "salesforce", "agent": "t"}, "type": "outcome", "record": record,
                "side": "salesforce", "op": "create", "written": [created],
                "result": {"status": "succeeded", "external_id": format!("003{i:015}"), "version": "2026-11-21T10:00:00.000+0000"}}));
        }
        if i % 9 == 0 {
            more.push(json!({"origin": {"side": "tandem", "agent": "t"}, "type": "decision", "decision": "ignore_once", "record": record, "heads": [created]}));
        }
        if i % 11 == 0 {
            more.push(json!({"origin": {"side": "tandem", "agent": "t"}, "type": "decision", "decision": "ignore_forever", "record": record}));
        }
    }
    more.push(json!({"origin": {"side": "salesforce", "agent": "t"}, "type": "watermark", "side": "salesforce", "scope": "Contact", "value": "2026-11-21T10:00:00.000+0000"}));
    s.ingest(&more);
    let record = acks[3]["record"].as_str().unwrap();
    let heads: Vec<u64> =
        serde_json::from_str::<Vec<serde_json::Value>>(&s.ok(&["history", record, "--json"]))
            .unwrap()
            .iter()
            .skip(1)
            .map(|e| e["hlc"].as_u64().unwrap())
            .collect();
    s.ingest(&[json!({"origin": {"side": "tandem", "agent": "t"}, "type": "decision", "decision": "resolve",
        "record": record, "field": "title", "value": "settled", "base": heads})]);
    s.ok(&["restore", acks[7]["record"].as_str().unwrap(), "--at", "#8"]);
}

#[test]
fn replay_after_a_mixed_workload_is_identical() {
    let s = Scratch::new();
    mixed_workload(&s);
    let out = s.ok(&["replay", "--verify"]);
    assert!(out.contains("identical byte for byte"), "{out}");
    assert!(out.contains(&format!("{} events", s.log().len())), "{out}");
}

#[test]
fn a_tampered_projection_is_found_and_named() {
    let s = Scratch::new();
    mixed_workload(&s);
    {
        let store = Store::open_existing(s.path(), Access::ReadWrite).unwrap();
        let txn = store.begin_write().unwrap();
        {
            let mut records = txn.open_table(tables::RECORDS).unwrap();
            let (key, mut value) = {
                let (k, v) = records.first().unwrap().unwrap();
                (k.value().to_string(), v.value().to_vec())
            };
            value.extend_from_slice(b" ");
            records.insert(key.as_str(), value.as_slice()).unwrap();
            let mut aliases = txn.open_table(tables::ALIASES).unwrap();
            aliases
                .insert("uid:planted", "con-0000000000000001")
                .unwrap();
        }
        txn.commit().unwrap();
    }
    let out = s.run(&["replay", "--verify"]);
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("replay found 2 differences"), "{stdout}");
    assert!(stdout.contains("records        Changed"), "{stdout}");
    assert!(
        stdout.contains("aliases        Extra uid:planted"),
        "{stdout}"
    );
}
