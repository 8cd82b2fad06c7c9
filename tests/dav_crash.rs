//! Crash test for the CalDAV/CardDAV server under load: four clients PUT and re-PUT contacts and
//! events while `tandem serve` is killed with SIGKILL after a different number of answered writes
//! in every round. After each restart every write the server acknowledged is there — as sent,
//! or as a later write of the same resource that landed before the kill — nothing is there
//! twice, and at the end the log replays to the same store.

mod common;

use common::daemon::Daemon;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const ROUNDS: usize = 25;
const CLIENTS: usize = 4;
/// Resources each client writes in a round; every third write is a new version of an earlier one.
const WRITES: usize = 60;
const POLL_LIMIT: usize = 1_000_000;

/// One request; `None` when the server is gone (killed mid-request).
fn request(addr: &str, auth: &str, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    let kind = if path.ends_with(".vcf") {
        "text/vcard"
    } else {
        "text/calendar"
    };
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Basic {auth}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n")?.1.to_string();
    Some((status, body))
}

fn card(uid: &str, version: usize) -> String {
    format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:Ana {uid}\r\nN:{uid};Ana;;;\r\nTITLE:version {version}\r\nEND:VCARD\r\n"
    )
}

fn event(uid: &str, version: usize) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//crash//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:20270310T090000Z\r\nDTEND:20270310T100000Z\r\nSUMMARY:version {version}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

/// What was sent to one resource: every body in order, and how many of them were answered.
#[derive(Default, Clone)]
struct Sent {
    bodies: Vec<String>,
    acknowledged: usize,
}

#[test]
fn a_server_killed_under_load_keeps_every_acknowledged_write_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut rng = rand::rngs::StdRng::seed_from_u64(0xDA5);
    let sent: Arc<Mutex<BTreeMap<String, Sent>>> = Arc::default();
    let mut interrupted = 0;
    for round in 0..ROUNDS {
        let server = Daemon::start_in(&data);
        let (addr, auth) = (server.dav_addr(), server.basic_auth());
        let acks = Arc::new(AtomicUsize::new(0));
        let kill_after = rng.random_range(5..CLIENTS * WRITES);
        let clients: Vec<_> = (0..CLIENTS)
            .map(|client| {
                let (addr, auth) = (addr.clone(), auth.clone());
                let (acks, sent) = (acks.clone(), sent.clone());
                std::thread::spawn(move || {
                    for i in 0..WRITES {
                        // Every third write is a new version of a resource written before.
                        let n = if i % 3 == 2 { i - 2 } else { i };
                        let uid = format!("r{round}-c{client}-{n}");
                        let (path, make): (String, fn(&str, usize) -> String) = if n % 2 == 0 {
                            (format!("/dav/addressbooks/contacts/{uid}.vcf"), card)
                        } else {
                            (format!("/dav/calendars/calendar/{uid}.ics"), event)
                        };
                        let version = {
                            let mut sent = sent.lock().unwrap();
                            let s = sent.entry(path.clone()).or_default();
                            let body = make(&uid, s.bodies.len());
                            s.bodies.push(body);
                            s.bodies.len() - 1
                        };
                        let body = make(&uid, version);
                        match request(&addr, &auth, "PUT", &path, &body) {
                            Some((201 | 204, _)) => {
                                let mut sent = sent.lock().unwrap();
                                let s = sent.get_mut(&path).unwrap();
                                s.acknowledged = s.acknowledged.max(version + 1);
                                acks.fetch_add(1, Ordering::SeqCst);
                            }
                            Some((status, body)) => panic!("{path}: {status} {body}"),
                            // The server was killed: this client's round is over.
                            None => return,
                        }
                    }
                })
            })
            .collect();
        for _ in 0..POLL_LIMIT {
            if acks.load(Ordering::SeqCst) >= kill_after || clients.iter().all(|c| c.is_finished())
            {
                break;
            }
            std::thread::yield_now();
        }
        if acks.load(Ordering::SeqCst) < CLIENTS * WRITES {
            interrupted += 1;
        }
        server.kill();
        for client in clients {
            client.join().unwrap();
        }

        // After the restart: every acknowledged write, or a later one of the same resource.
        let server = Daemon::start_in(&data);
        let (addr, auth) = (server.dav_addr(), server.basic_auth());
        let sent = sent.lock().unwrap().clone();
        for (path, s) in &sent {
            let got = request(&addr, &auth, "GET", path, "").expect("answered");
            if s.acknowledged == 0 {
                assert!(
                    got.0 == 404 || s.bodies.contains(&got.1),
                    "round {round}: {path} holds what nobody sent: {got:?}"
                );
                continue;
            }
            assert_eq!(got.0, 200, "round {round}: acknowledged {path} is lost");
            let later = &s.bodies[s.acknowledged - 1..];
            assert!(
                later.contains(&got.1),
                "round {round}: {path} went back before its acknowledged version: {}",
                got.1
            );
        }
        for collection in ["/dav/addressbooks/contacts/", "/dav/calendars/calendar/"] {
            let (status, listing) =
                request(&addr, &auth, "PROPFIND", collection, "").expect("answered");
            assert_eq!(status, 207);
            let members = common::members_in(&listing, collection);
            let mut unique = members.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), members.len(), "round {round}: a member twice");
            assert!(
                members.iter().all(|m| sent.contains_key(m)),
                "round {round}: a member nobody sent"
            );
        }
        server.kill();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .arg("--data")
        .arg(&data)
        .args(["replay", "--verify"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        interrupted >= ROUNDS / 2,
        "only {interrupted} kills landed while clients wrote"
    );
    println!(
        "{ROUNDS} kills of the DAV server ({interrupted} while {CLIENTS} clients wrote): nothing acknowledged lost"
    );
}
