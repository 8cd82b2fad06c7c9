//! A store written by the previous release (store format 1, event format 1) upgrades in place:
//! the first command that opens it rebuilds its projections under the current layout from the
//! log, which it never rewrites; afterwards `replay --verify` passes and history, blame and the
//! log read exactly as the old build printed them.

mod common;

use common::Scratch;
use common::raw;
use redb::{ReadableDatabase, ReadableTable};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/store/v1");

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURE}/{name}")).expect("a fixture")
}

/// Every log entry, as bytes.
fn log_bytes(s: &Scratch) -> Vec<(u64, Vec<u8>)> {
    let db = redb::Database::open(s.store_file()).expect("the store opens");
    let txn = db.begin_read().expect("a read");
    let log = txn.open_table(raw::LOG).expect("the log");
    log.iter()
        .expect("entries")
        .map(|row| {
            let (seq, bytes) = row.expect("an entry");
            (seq.value(), bytes.value().to_vec())
        })
        .collect()
}

#[test]
fn a_store_of_the_previous_release_upgrades_in_place() {
    let s = Scratch::new();
    std::fs::copy(format!("{FIXTURE}/tandem.redb"), s.store_file()).expect("copied");
    let before = log_bytes(&s);

    assert_eq!(
        s.ok(&["log"]),
        fixture("log.txt"),
        "the log reads as before"
    );
    let verified = s.ok(&["replay", "--verify"]);
    assert!(verified.contains("identical byte for byte"), "{verified}");
    assert_eq!(
        s.ok(&["history", "fixture-ana"]),
        fixture("history-fixture-ana.txt")
    );
    assert_eq!(
        s.ok(&["blame", "fixture-ana"]),
        fixture("blame-fixture-ana.txt")
    );
    assert_eq!(log_bytes(&s), before, "the upgrade never rewrites the log");

    // The old runs read per side; the upgraded store takes new events and still verifies.
    let status = s.ok(&["sync", "status"]);
    assert!(
        status.contains("Last run: manual") && status.contains("API calls"),
        "{status}"
    );
    s.ok(&["sync", "ignore", "fixture-ana", "--forever"]);
    let verified = s.ok(&["replay", "--verify"]);
    assert!(verified.contains("identical byte for byte"), "{verified}");
}
