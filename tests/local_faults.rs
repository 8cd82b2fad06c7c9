//! Local faults, for real: the disk holding the data directory fills up (a size-limited tmpfs),
//! the data directory's disk is read-only, the port `tandem serve` should listen on is taken.
//! Each ends with a message that says what happened and what to do, nothing half-written, and
//! a later run completes once the fault is gone.
//!
//! Mounting a tmpfs needs root. `.ci/run` checks that it can mount one and then sets
//! `TANDEM_REQUIRE_TMPFS=1`, so there the disk tests must run; elsewhere they say why they did
//! not and pass.

mod common;

use common::daemon::{Daemon, raw};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A tmpfs of `size` mounted on a fresh directory; unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// `None` (said on stderr) where no tmpfs can be mounted and none is required.
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            assert!(
                std::env::var_os("TANDEM_REQUIRE_TMPFS").is_none(),
                "TANDEM_REQUIRE_TMPFS is set but no tmpfs could be mounted"
            );
            eprintln!("not run: mounting a size-limited tmpfs needs root");
            return None;
        }
        Some(Tmpfs { dir })
    }

    fn remount(&self, options: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(self.dir.path())
            .status()
            .unwrap();
        assert!(status.success(), "remount {options}");
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn tandem(data: &Path, args: &[&str], stdin: &str) -> Output {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .arg("--data")
        .arg(data)
        .env_remove("TANDEM_DATA")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tandem runs");
    // Fed from its own thread: the child answers line by line, and a parent that wrote
    // everything first would wait on a full pipe while the child waits on the other.
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_string();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(stdin.as_bytes());
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    out
}

fn drafts(range: std::ops::Range<usize>) -> String {
    range
        .map(|i| {
            format!(
                "{{\"origin\":{{\"side\":\"desktop\",\"agent\":\"me\"}},\"type\":\"observation\",\"kind\":\"contact\",\"op\":\"create\",\"external_id\":\"/dav/addressbooks/contacts/c{i}.vcf\",\"changes\":{{\"first_name\":\"Ana {i}\",\"last_name\":\"Lima\",\"title\":\"Buyer of many things {i}\"}}}}\n"
            )
        })
        .collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn events(data: &Path) -> usize {
    let out = tandem(data, &["log", "--json"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).lines().count()
}

#[test]
fn a_full_disk_is_said_plainly_and_loses_nothing_tandem_acknowledged() {
    let Some(disk) = Tmpfs::mount("600k") else {
        return;
    };
    let data = disk.data();
    let out = tandem(&data, &["ingest"], &drafts(0..1500));
    assert!(!out.status.success(), "the disk filled up");
    let acknowledged = text(&out.stdout).lines().count();
    let said = text(&out.stderr);
    assert!(acknowledged > 0, "some fitted: {said}");
    assert!(
        said.contains("the disk holding tandem's data directory is full")
            && said.contains("Free some space"),
        "{}",
        &said[..said.len().min(800)]
    );
    // The store was not closed cleanly; checking it needs room for a copy, and says how much.
    let out = tandem(&data, &["log"], "");
    assert!(!out.status.success());
    let said = text(&out.stderr);
    assert!(
        said.contains("not closed cleanly") && said.contains("MB free"),
        "{said}"
    );
    // The store is its file and the file's journal.
    assert!(
        std::fs::read_dir(&data).unwrap().all(|e| {
            let name = e.unwrap().file_name();
            ["tandem.redb", "tandem.redb-journal", "tandem.redb-tail"]
                .contains(&name.to_str().unwrap())
        }),
        "no half-made copy is left behind"
    );

    // With room again: exactly what was acknowledged, intact, and the rest goes in.
    disk.remount("size=8m");
    assert_eq!(events(&data), acknowledged);
    let out = tandem(&data, &["replay", "--verify"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = tandem(&data, &["ingest"], &drafts(acknowledged..1500));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(events(&data), 1500);
}

#[test]
fn a_read_only_data_directory_is_said_plainly_and_changes_nothing() {
    let Some(disk) = Tmpfs::mount("8m") else {
        return;
    };
    let data = disk.data();
    let out = tandem(&data, &["ingest"], &drafts(0..3));
    assert!(out.status.success(), "{}", text(&out.stderr));
    disk.remount("ro");
    for args in [
        &["ingest"][..],
        &["sync", "preview"],
        &["serve", "--listen", "127.0.0.1:0"],
    ] {
        let out = tandem(&data, args, &drafts(3..4));
        assert!(
            !out.status.success(),
            "{args:?} cannot work on a read-only disk"
        );
        let said = text(&out.stderr);
        assert!(
            said.contains("Read-only file system") && said.contains("mount that disk writable"),
            "{args:?}: {said}"
        );
    }
    disk.remount("rw");
    assert_eq!(events(&data), 3, "nothing was half-written");
    let out = tandem(&data, &["ingest"], &drafts(3..4));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(events(&data), 4);
}

#[test]
fn serve_on_a_port_in_use_names_it_and_leaves_nothing_behind() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = tandem(&data, &["serve", "--listen", &addr], "");
    assert!(!out.status.success());
    let said = text(&out.stderr);
    assert!(
        said.contains(&addr)
            && said.contains("Address already in use")
            && said.contains("--listen"),
        "{said}"
    );
    assert!(
        !data.exists(),
        "a serve that cannot listen makes no store: {data:?}"
    );
}

/// A PUT of contact `i` to the daemon: the status line and body.
fn put_card(daemon: &Daemon, i: usize) -> String {
    let card = format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:card-{i}\r\nFN:Ana Lima {i}\r\nN:Lima;Ana {i};;;\r\nTITLE:Buyer of many things {i}\r\nEND:VCARD\r\n"
    );
    raw(
        &daemon.dav_addr(),
        &format!(
            "PUT /dav/addressbooks/contacts/card-{i}.vcf HTTP/1.1\r\nHost: {}\r\nAuthorization: Basic {}\r\nContent-Type: text/vcard",
            daemon.dav_addr(),
            daemon.basic_auth()
        ),
        &card,
    )
}

#[test]
fn a_running_daemon_whose_disk_filled_up_stores_again_once_there_is_room_without_a_restart() {
    let Some(disk) = Tmpfs::mount("1m") else {
        return;
    };
    let data = disk.data();
    let daemon = Daemon::start_in(&data);
    let mut stored = Vec::new();
    let refusal = (0..5000)
        .map(|i| (i, put_card(&daemon, i)))
        .find_map(|(i, answer)| {
            if answer.starts_with("HTTP/1.1 201") {
                stored.push(i);
                None
            } else {
                Some((i, answer))
            }
        });
    let (refused, answer) = refusal.expect("the disk filled up within 5,000 cards");
    assert!(stored.len() > 10, "some fitted: {answer}");
    assert!(
        answer.starts_with("HTTP/1.1 507")
            && answer.contains("the disk holding tandem's data directory is full"),
        "{answer}"
    );
    // Still full: refused again, with the same words.
    let answer = put_card(&daemon, refused);
    assert!(!answer.starts_with("HTTP/1.1 201"), "{answer}");

    // Room again: the same daemon stores the card it refused, and everything before is there.
    disk.remount("size=64m");
    let answer = put_card(&daemon, refused);
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let listing = raw(
        &daemon.dav_addr(),
        &format!(
            "PROPFIND /dav/addressbooks/contacts/ HTTP/1.1\r\nHost: {}\r\nAuthorization: Basic {}\r\nDepth: 1",
            daemon.dav_addr(),
            daemon.basic_auth()
        ),
        "",
    );
    for i in stored.iter().chain([&refused]) {
        assert!(
            listing.contains(&format!("/card-{i}.vcf<")),
            "card {i} is listed"
        );
    }
    daemon.stop();
    let out = tandem(&data, &["replay", "--verify"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
}
