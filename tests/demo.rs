//! `tandem demo`, the README's first command: a seeded demo org, the daemon, and the first sync
//! reviewed and said in a few lines, ending with the review app's address; once applied a client
//! can connect, the org can be edited through its REST API with the credentials printed, and the
//! demo resumes after Ctrl-C where it was.

mod common;

use common::demo::{Demo, Org};
use std::path::Path;
use std::process::Command;

fn tandem(data: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{args:?}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[test]
fn the_demo_says_what_waits_for_review_in_a_few_lines_serves_it_and_resumes_after_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let demo = Demo::start(&data, &["--seed", "3"]);
    let printed = demo.printed.clone();
    assert!(
        printed.lines().count() <= 20,
        "a short summary, not every record:\n{printed}"
    );
    for contradiction in ["No sync run yet", "applied"] {
        assert!(!printed.contains(contradiction), "{printed}");
    }
    // "141 items wait for review; nothing is written until you apply it:"
    let waiting = printed
        .lines()
        .find(|l| l.contains("items wait for review"))
        .unwrap_or_else(|| panic!("the review waiting: {printed}"));
    let reviewed: usize = waiting.split_whitespace().next().unwrap().parse().unwrap();
    for kind in ["Contacts", "Events", "Tasks"] {
        let counts = demo.line(&format!("  {kind}"));
        assert!(
            counts.contains("Salesforce: nothing; desktop: ") && counts.contains(" to create"),
            "{kind}: {counts}"
        );
    }
    assert!(
        demo.line("Open the review app")
            .contains("/app/signin/once/"),
        "it ends with the review app's address"
    );
    // Every file it made is its owner's alone, the demo org's file included.
    #[cfg(unix)]
    for entry in std::fs::read_dir(&data).unwrap() {
        use std::os::unix::fs::PermissionsExt;
        let entry = entry.unwrap();
        let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode & 0o077,
            0,
            "{} is mode {mode:o}",
            entry.path().display()
        );
    }
    // Applied in a terminal, through the running demo.
    let applied = tandem(&data, &["sync", "apply"]);
    assert!(
        applied.starts_with(&format!("Applied {reviewed} of {reviewed} steps")),
        "{applied}"
    );

    let (dav, user, password) = demo.dav();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listing = rt.block_on(async {
        reqwest::Client::new()
            .request(
                reqwest::Method::from_bytes(b"PROPFIND").unwrap(),
                format!("{dav}addressbooks/contacts/"),
            )
            .basic_auth(&user, Some(&password))
            .header("Depth", "1")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    assert!(listing.matches(".vcf").count() > 10, "{listing}");

    // The org, edited as the demo says: a token from the printed refresh token, then the query
    // it printed, then a change through the REST API.
    let printed_query = demo
        .line("  curl -s -H \"Authorization: Bearer ACCESS_TOKEN\" '")
        .trim_end_matches('\'');
    let soql = printed_query.split_once("?q=").unwrap().1.replace('+', " ");
    let (edited, name) = rt.block_on(async {
        let org = Org::of(&demo).await;
        let contacts = org.query(&soql).await;
        assert!(
            contacts.len() > 10,
            "the printed query answers: {contacts:?}"
        );
        let id = contacts[0]["Id"].as_str().unwrap().to_string();
        let name = contacts[0]["Name"].as_str().unwrap().to_string();
        let fields =
            serde_json::json!({"Title": "Edited while the demo ran", "LastName": "Renamed"});
        assert_eq!(org.patch("Contact", &id, fields).await, 204);
        (id, name)
    });

    let status = tandem(&data, &["sync", "status"]);
    assert!(
        status.contains("Last run: manual") && status.contains("Pending: 0 items"),
        "{status}"
    );
    demo.interrupt();

    // Run again on the same directory: the org (with the edit) and the store are as they were.
    let again = Demo::start(&data, &[]);
    assert!(
        again.printed.starts_with("Resumed the demo in "),
        "{}",
        again.printed
    );
    assert!(
        again.printed.contains("1 item waits for review"),
        "{}",
        again.printed
    );
    assert_eq!(again.dav().2, password, "the same account");
    // Each column names the record as its side has it, with the whole id.
    let preview = tandem(&data, &["sync", "preview", "--details"]);
    let row = preview
        .lines()
        .find(|l| l.contains(&format!("[{edited}]")))
        .unwrap_or_else(|| panic!("the whole Salesforce id {edited}:\n{preview}"));
    let (salesforce, desktop) = row.split_once("update ->").unwrap();
    assert!(salesforce.contains(" Renamed "), "{row}");
    assert!(
        desktop.contains(&name) && !desktop.contains("Renamed"),
        "{row}"
    );
    assert!(
        preview.contains("title = \"Edited while the demo ran\""),
        "{preview}"
    );
    let all = tandem(&data, &["sync", "preview", "--all"]);
    assert!(all.contains("skip: outside the date window "), "{all}");
    again.interrupt();
}

#[test]
fn the_demo_refuses_a_directory_that_is_not_its_own_and_another_seed_than_its_org() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tandem.toml"), "").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .arg("--data")
        .arg(dir.path())
        .args(["demo", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("holds something other than a tandem demo"),
        "{err}"
    );

    let data = dir.path().join("demo");
    Demo::start(&data, &["--seed", "2"]).interrupt();
    let out = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .arg("--data")
        .arg(&data)
        .args(["demo", "--listen", "127.0.0.1:0", "--seed", "5"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("holds the demo org of seed 2, not 5"), "{err}");
}

/// A new demo with a connector side (`--outlook`, `--notes`): the review lists that side's
/// creates in its own column, the demo says where the emulated side is (`announced`), every
/// step is carried out and the side is in step afterwards. The demo, and what the apply said.
fn connector_demo(
    data: &Path,
    flag: &str,
    side: &str,
    announced: &str,
) -> (common::demo::Demo, String) {
    let demo = Demo::start(data, &["--seed", "4", flag]);
    // "  Contacts    Salesforce: 12 to create; desktop: …; Outlook: … to create"
    let contacts = demo.line("  Contacts");
    assert!(
        contacts.contains(&format!("{side}: ")) && contacts.contains(" to create"),
        "{contacts}"
    );
    assert!(demo.printed.contains(announced), "{}", demo.printed);
    let applied = tandem(data, &["sync", "apply"]);
    assert!(applied.starts_with("Applied "), "{applied}");
    // "Applied N of N steps …"
    let words: Vec<&str> = applied.split_whitespace().collect();
    assert_eq!(words[1], words[3], "every step carried out: {applied}");
    let preview = tandem(data, &["sync", "preview"]);
    assert!(
        preview.contains(&format!("{side} 0 create, 0 update, 0 delete")),
        "{preview}"
    );
    (demo, applied)
}

#[test]
fn the_demo_with_outlook_reviews_three_sides_and_applies_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let (demo, _) = connector_demo(
        &data,
        "--outlook",
        "Outlook",
        "The Outlook mailbox (Graph emulator) is at",
    );
    demo.interrupt();

    // Resumed, the mailbox is gone with the demo that had it; the demo says so if asked again.
    let out = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .arg("--data")
        .arg(&data)
        .args(["demo", "--listen", "127.0.0.1:0", "--outlook"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("lives only as long as the demo that made it"),
        "{err}"
    );
}

#[test]
fn the_demo_with_notes_reviews_a_notes_column_and_applies_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let (demo, applied) = connector_demo(
        &data,
        "--notes",
        "Notes",
        "The Notes mail file (Domino REST API emulator) is at",
    );
    assert!(applied.contains("Domino REST API requests"), "{applied}");
    demo.interrupt();
}

/// Nobody else gets in: no secret of any side (the Salesforce refresh token and consumer
/// secret, the Outlook refresh token, the Notes password, the DAV password) reaches a log line,
/// even at the most verbose level, over a demo with every side and an apply.
#[test]
fn no_secret_reaches_a_log_line_of_a_demo_with_every_side() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let log = dir.path().join("demo.log");
    let demo = Demo::start_logged(
        &data,
        &["--seed", "6", "--outlook", "--notes"],
        &log,
        "trace",
    );
    let applied = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .env("TANDEM_LOG", "trace")
        .arg("--data")
        .arg(&data)
        .args(["sync", "apply"])
        .output()
        .unwrap();
    assert!(applied.status.success(), "{applied:?}");
    demo.interrupt();
    let settings = tandem::config::Settings::load(&data).unwrap();
    let secrets: Vec<(&str, String)> = [
        (
            "Salesforce refresh token",
            settings.salesforce.refresh_token,
        ),
        (
            "Salesforce consumer secret",
            settings.salesforce.client_secret,
        ),
        ("Outlook refresh token", settings.outlook.refresh_token),
        ("Notes password", settings.notes.password),
        ("DAV password", settings.server.password),
    ]
    .into_iter()
    .map(|(what, secret)| {
        (
            what,
            secret.unwrap_or_else(|| panic!("the demo has a {what}")),
        )
    })
    .collect();
    let logs = std::fs::read_to_string(&log).unwrap() + &String::from_utf8_lossy(&applied.stderr);
    assert!(
        logs.lines().count() > 100 && logs.contains("TRACE"),
        "the logs were written at the most verbose level"
    );
    for (what, secret) in secrets {
        assert!(
            !logs.contains(&secret),
            "the {what} is in a log line: {}",
            logs.lines()
                .find(|l| l.contains(&secret))
                .unwrap_or_default()
        );
    }
}
