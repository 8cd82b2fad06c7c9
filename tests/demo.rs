//! `tandem demo`, the README's first command: a seeded demo org, the daemon and a first reviewed
//! sync run, after which a client can connect and `tandem sync` talks to the running daemon.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn the_demo_syncs_the_demo_org_and_serves_it_to_clients() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .arg("--data")
        .arg(&data)
        .args(["demo", "--listen", "127.0.0.1:0", "--seed", "3"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("tandem demo starts");
    let mut printed = String::new();
    let mut connect = None;
    for line in BufReader::new(child.stdout.take().unwrap())
        .lines()
        .take(5_000)
    {
        let line = line.unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if let Some(rest) = line.strip_prefix("Connect a CalDAV/CardDAV client to ") {
            connect = Some(rest.to_string());
            break;
        }
    }
    let connect = connect.unwrap_or_else(|| {
        let _ = child.kill();
        panic!("the demo never printed where to connect:\n{printed}")
    });
    // "URL with user U and password P."
    let words: Vec<&str> = connect.trim_end_matches('.').split_whitespace().collect();
    let (url, user, password) = (words[0], words[3], words[6]);
    assert!(printed.contains("Synchronization Summary"), "{printed}");
    let applied = printed
        .lines()
        .find(|l| l.starts_with("Applied "))
        .expect("the first run was applied");
    let counts: Vec<&str> = applied.split_whitespace().collect();
    assert_eq!(
        counts[1], counts[3],
        "every step of the first run succeeded: {applied}"
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    let listing = rt.block_on(async {
        reqwest::Client::new()
            .request(
                reqwest::Method::from_bytes(b"PROPFIND").unwrap(),
                format!("{url}addressbooks/contacts/"),
            )
            .basic_auth(user, Some(password))
            .header("Depth", "1")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    assert!(listing.matches(".vcf").count() > 10, "{listing}");

    assert!(
        child.try_wait().unwrap().is_none(),
        "the demo keeps serving after its reader went away"
    );
    let status = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .arg("--data")
        .arg(&data)
        .args(["sync", "status"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success(), "{text}");
    assert!(
        text.contains("Last run: manual") && text.contains("Pending: 0 items"),
        "{text}"
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn the_demo_refuses_a_directory_that_is_in_use() {
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
    assert!(err.contains("is not empty"), "{err}");
}
