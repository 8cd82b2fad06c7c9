//! Bad input gets a clear, specific error and changes nothing: a damaged or truncated store, an
//! event from a newer tandem, a record that does not exist, broken drafts, a bad settings file.

mod common;

use common::raw as tables;
use common::{Scratch, observe};
use serde_json::json;
use tandem::store::{Access, Store};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn populated() -> Scratch {
    let s = Scratch::new();
    let drafts: Vec<_> = (0..50)
        .map(|i| {
            observe(
                "desktop",
                "create",
                &format!("/dav/c/{i}.vcf"),
                json!({"last_name": format!("N{i}")}),
            )
        })
        .collect();
    s.ingest(&drafts);
    s
}

/// Every command that opens the store fails with `expect` in its message and leaves the file
/// exactly as it was.
fn assert_refused_untouched(s: &Scratch, expect: &str) {
    let before = std::fs::read(s.store_file()).unwrap();
    for args in [&["log"][..], &["replay", "--verify"], &["history", "x"]] {
        let out = s.run(args);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(stderr(&out).contains(expect), "{args:?}: {}", stderr(&out));
    }
    let (status, acks, err) =
        s.ingest_raw(&observe("desktop", "create", "/dav/c/new.vcf", json!({})).to_string());
    assert!(
        !status.success() && acks.is_empty(),
        "ingest must refuse: {err}"
    );
    assert!(err.contains(expect), "ingest: {err}");
    assert!(
        std::fs::read(s.store_file()).unwrap() == before,
        "the store file was modified"
    );
}

#[test]
fn a_corrupted_store_is_refused_and_left_untouched() {
    let s = populated();
    let mut bytes = std::fs::read(s.store_file()).unwrap();
    for b in bytes.iter_mut().take(4096) {
        *b = 0xA5;
    }
    std::fs::write(s.store_file(), &bytes).unwrap();
    assert_refused_untouched(&s, "damaged or is not a tandem store");
}

#[test]
fn a_truncated_store_is_refused_and_left_untouched() {
    let s = populated();
    let len = std::fs::metadata(s.store_file()).unwrap().len();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(s.store_file())
        .unwrap();
    file.set_len(len / 3).unwrap();
    drop(file);
    assert_refused_untouched(&s, "damaged or is not a tandem store");
}

/// The number of log entries, read with the library (the CLI refuses such a log).
fn log_len(s: &Scratch) -> u64 {
    let store = Store::open_existing(s.path(), Access::ReadOnly).unwrap();
    tandem::store::read::log_len(&store.read().unwrap()).unwrap()
}

#[test]
fn an_event_from_a_newer_tandem_is_refused_not_misread() {
    let s = populated();
    {
        let store = Store::open_existing(s.path(), Access::ReadWrite).unwrap();
        let txn = store.begin_write().unwrap();
        let future = json!({"format": 7, "hlc": u64::MAX, "origin": {"side": "desktop", "agent": "tandem 9"}, "type": "teleport"});
        txn.open_table(tables::LOG)
            .unwrap()
            .insert(51u64, serde_json::to_vec(&future).unwrap().as_slice())
            .unwrap();
        txn.commit().unwrap();
    }
    let before = std::fs::read(s.store_file()).unwrap();
    let out = s.run(&["log"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("log entry #51"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("format 7") && stderr(&out).contains("upgrade tandem"),
        "{}",
        stderr(&out)
    );
    assert!(
        std::fs::read(s.store_file()).unwrap() == before,
        "a read command modified the store"
    );
    let (status, _, err) =
        s.ingest_raw(&observe("desktop", "create", "/dav/c/x.vcf", json!({})).to_string());
    assert!(!status.success());
    assert!(err.contains("upgrade tandem"), "{err}");
    assert_eq!(
        log_len(&s),
        51,
        "nothing was appended after the unreadable event"
    );
}

#[test]
fn a_store_of_a_newer_layout_is_refused() {
    let s = populated();
    {
        let store = Store::open_existing(s.path(), Access::ReadWrite).unwrap();
        let txn = store.begin_write().unwrap();
        txn.open_table(tables::META)
            .unwrap()
            .insert("format", 99u64)
            .unwrap();
        txn.commit().unwrap();
    }
    let out = s.run(&["log"]);
    assert!(stderr(&out).contains("store format 99"), "{}", stderr(&out));
}

#[test]
fn a_record_that_does_not_exist_is_named_in_the_error() {
    let s = populated();
    let before = std::fs::read(s.store_file()).unwrap();
    for args in [
        &["history", "nobody@example.com"][..],
        &["blame", "con-00000000000000ff"],
    ] {
        let out = s.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).contains(&format!("no record is named `{}`", args[1])),
            "{}",
            stderr(&out)
        );
    }
    assert!(
        std::fs::read(s.store_file()).unwrap() == before,
        "a read command modified the store"
    );

    let out = s.run(&["restore", "003000000000404AAA", "--at", "#1"]);
    assert!(
        stderr(&out).contains("no record is named `003000000000404AAA`"),
        "{}",
        stderr(&out)
    );
    let out = s.run(&["restore", "/dav/c/1.vcf", "--at", "#999"]);
    assert!(
        stderr(&out).contains("there is no event #999"),
        "{}",
        stderr(&out)
    );
    let out = s.run(&["restore", "/dav/c/1.vcf", "--at", "last tuesday"]);
    assert!(
        stderr(&out).contains("neither a log position"),
        "{}",
        stderr(&out)
    );
    assert_eq!(log_len(&s), 50, "a refused restore appends nothing");
}

#[test]
fn broken_drafts_are_refused_line_by_line_and_the_rest_is_appended() {
    let s = populated();
    let input = [
        "{not json".to_string(),
        json!({"origin": {"side": "desktop", "agent": "t"}, "type": "observation", "kind": "contact", "op": "create",
               "changes": {"nickname": "Bob"}}).to_string(),
        json!({"origin": {"side": "desktop", "agent": "t"}, "type": "observation", "kind": "contact", "op": "update",
               "external_id": "/dav/c/unknown.vcf", "changes": {"last_name": "X"}}).to_string(),
        json!({"origin": {"side": "desktop", "agent": "t"}, "type": "observation", "kind": "contact", "op": "update",
               "external_id": "/dav/c/1.vcf", "base": [12345], "changes": {"last_name": "X"}}).to_string(),
        json!({"origin": {"side": "desktop", "agent": "t"}, "type": "observation", "kind": "event", "op": "create",
               "changes": {"start": "tomorrow"}}).to_string(),
        observe("desktop", "update", "/dav/c/2.vcf", json!({"title": "fine"})).to_string(),
    ]
    .join("\n");
    let (status, acks, err) = s.ingest_raw(&input);
    assert!(!status.success());
    assert_eq!(acks.len(), 1, "only the good line is appended: {err}");
    assert_eq!(acks[0]["line"], 6);
    assert!(err.contains("line 1: not a valid event draft"), "{err}");
    assert!(
        err.contains("line 2: field `nickname` is not one of the contact fields"),
        "{err}"
    );
    assert!(
        err.contains("line 3: record /dav/c/unknown.vcf does not exist yet"),
        "{err}"
    );
    assert!(
        err.contains("line 4:") && err.contains("has no earlier event"),
        "{err}"
    );
    assert!(err.contains("line 5: field `start` of the event"), "{err}");
    assert!(err.contains("5 lines were refused"), "{err}");
    assert_eq!(s.log().len(), 51);
    assert!(s.run(&["replay", "--verify"]).status.success());
}

#[test]
fn a_bad_settings_file_names_the_line() {
    let s = populated();
    std::fs::write(
        s.path().join("tandem.toml"),
        "[contacts]\nconflict_policy = \"loudest-wins\"\n",
    )
    .unwrap();
    let out = s.run(&["log"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("tandem.toml") && err.contains("line 2"),
        "{err}"
    );
}

#[test]
fn no_store_is_an_error_that_says_how_to_make_one() {
    let s = Scratch::new();
    let out = s.run(&["log"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("there is no tandem store"),
        "{}",
        stderr(&out)
    );
    assert!(
        !s.store_file().exists(),
        "a read command must not create a store"
    );
}

#[test]
fn a_data_directory_that_is_a_file_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "mine").unwrap();
    for args in [
        &["serve", "--listen", "127.0.0.1:0"][..],
        &["log"],
        &["sync", "status"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tandem"))
            .arg("--data")
            .arg(&file)
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains("notes.txt is a file, not a directory") && !err.contains("os error"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
}

#[test]
fn a_serve_that_cannot_listen_leaves_nothing_behind() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("new");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tandem"))
        .arg("--data")
        .arg(&data)
        .args(["serve", "--listen", &port])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(&format!("cannot listen on {port}")),
        "{}",
        stderr(&out)
    );
    assert!(
        !data.exists(),
        "no directory, store or generated password: {:?}",
        std::fs::read_dir(&data).map(|d| d.count())
    );
}
