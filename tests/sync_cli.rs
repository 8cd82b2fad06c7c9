//! `tandem sync` on a stopped store: what it says when there is nothing to apply, a name that
//! names no record, no Salesforce login, or a bad rule in the settings — and that none of these
//! changes the store.

use std::path::Path;
use std::process::Command;
use tandem::store::{Access, Store, read};

fn tandem(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .arg("--data")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn log_len(dir: &Path) -> usize {
    let store = Store::open_existing(dir, Access::ReadOnly).unwrap();
    read::events_from(&store.read().unwrap(), 1).unwrap().len()
}

#[test]
fn sync_commands_refuse_what_they_cannot_do_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open_or_create(dir.path()).unwrap());
    let before = log_len(dir.path());

    let (ok, _, err) = tandem(dir.path(), &["sync", "apply"]);
    assert!(!ok && err.contains("no preview to apply"), "{err}");
    let (ok, _, err) = tandem(
        dir.path(),
        &["sync", "ignore", "nobody@nowhere", "--forever"],
    );
    assert!(
        !ok && err.contains("no record is known as nobody@nowhere"),
        "{err}"
    );
    assert_eq!(log_len(dir.path()), before, "refusals append nothing");

    let (ok, out, err) = tandem(dir.path(), &["sync", "preview"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("not connected to Salesforce") && out.contains("tandem login"),
        "{out}"
    );
    assert!(out.contains("Nothing to do"), "{out}");
    let (ok, out, _) = tandem(dir.path(), &["sync", "preview", "--json"]);
    assert!(ok);
    let json: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON document");
    assert_eq!(json["plan"]["items"], serde_json::json!([]));

    let (ok, out, _) = tandem(dir.path(), &["sync", "status"]);
    assert!(ok && out.contains("No sync run yet"), "{out}");
}

#[test]
fn a_bad_rule_is_an_error_naming_its_line() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open_or_create(dir.path()).unwrap());
    std::fs::write(
        dir.path().join("tandem.toml"),
        "[events]\npast_days = 7\nonly_related = true\n",
    )
    .unwrap();
    let (ok, _, err) = tandem(dir.path(), &["sync", "status"]);
    assert!(!ok, "{err}");
    assert!(
        err.contains("line 3") && err.contains("only_related"),
        "{err}"
    );
}

#[test]
fn an_unreachable_salesforce_is_said_at_once_and_the_preview_does_not_claim_the_sides_agree() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open_or_create(dir.path()).unwrap());
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    std::fs::write(
        dir.path().join("tandem.toml"),
        format!(
            "[salesforce]\nlogin_url = \"http://127.0.0.1:{closed}\"\nclient_id = \"3MVG9-app\"\nrefresh_token = \"5Aep-token\"\n"
        ),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let (ok, out, err) = tandem(dir.path(), &["sync", "preview"]);
    let took = started.elapsed();
    assert!(
        !ok,
        "a preview that could not read Salesforce fails: {out}{err}"
    );
    assert!(
        took < std::time::Duration::from_secs(5),
        "no quarter minute of silence: {took:?}"
    );
    assert!(
        out.lines()
            .next()
            .unwrap_or_default()
            .contains("could not be reached"),
        "the first thing said: {out}"
    );
    assert!(out.contains("Salesforce was not read"), "{out}");
    assert!(!out.contains("in step"), "{out}");
}

#[test]
fn status_speaks_local_time_and_does_not_promise_automatic_runs_without_a_daemon() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open_or_create(dir.path()).unwrap());
    assert!(tandem(dir.path(), &["sync", "preview"]).0);
    assert!(tandem(dir.path(), &["sync", "apply"]).0);
    let out = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .arg("--data")
        .arg(dir.path())
        .args(["sync", "status"])
        .env("TZ", "Asia/Kolkata")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&out.stdout);
    let last_run = out.lines().next().unwrap_or_default();
    assert!(
        last_run.starts_with("Last run: manual at ") && last_run.contains("+05:30 ("),
        "the run's time in the user's zone, and how long ago: {out}"
    );
    assert!(!out.contains("UTC"), "{out}");
    assert!(last_run.contains("0 steps"), "{out}");
    assert!(
        out.contains(
            "Automatic runs: they run only while `tandem serve` runs, and it is not running."
        ),
        "{out}"
    );
    assert!(!out.contains("Automatic runs: on"), "{out}");
}

#[test]
fn the_readme_ingest_example_makes_a_contact_of_the_synced_address_book() {
    let readme = include_str!("../README.md");
    let line = readme
        .lines()
        .find(|l| l.starts_with("echo '") && l.ends_with("| tandem ingest"))
        .expect("the README shows an ingest example");
    let draft = &line["echo '".len()..line.rfind('\'').unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .arg("--data")
        .arg(dir.path())
        .arg("ingest")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), draft.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());
    let (ok, out, err) = tandem(dir.path(), &["sync", "preview"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("<- create") && out.contains("Ana Lima"),
        "the README's contact is one a run takes to Salesforce, not out of scope: {out}"
    );
}
