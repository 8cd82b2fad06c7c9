//! Crash test for `tandem sync apply`: the process is killed with SIGKILL at a different point of
//! its Salesforce writes in every round (at least 20 real kills), while contacts are created and
//! edited on the desktop and edited in Salesforce between rounds. After a restart and further
//! runs Salesforce has every desktop contact exactly once, no change from either side is lost,
//! both sides agree (the next preview is idle), and the store replays and verifies.

mod common;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const USER: &str = "ana";
const PASSWORD: &str = "crash-tests";
const CONTACTS: &str = "/dav/addressbooks/contacts/";
/// Contacts made on the desktop before the first run.
const INITIAL: usize = 300;
/// Rounds of preview, then an apply killed at a random point.
const ROUNDS: usize = 24;
/// Per round, on the desktop: new contacts and edited ones; in Salesforce: edited ones.
const NEW_PER_ROUND: usize = 12;
const EDITS_PER_ROUND: usize = 30;
const SF_EDITS_PER_ROUND: usize = 5;
/// Every Salesforce API call takes at least this long, so an apply spends its time in calls and
/// a kill lands at the call it was aimed at (a poll of the emulator is quicker than a call).
const LATENCY_MS: u64 = 3;
/// Bounds of every wait.
const POLL_LIMIT: usize = 100_000;
const WAIT_LIMIT: Duration = Duration::from_secs(60);

/// A child process that is killed (SIGKILL) and reaped when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn tandem() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tandem"));
    cmd.env_remove("TANDEM_DATA").env("RUST_LOG", "info");
    cmd
}

/// Reads lines a child prints until `done` says the last one it needs has come.
fn read_until(child: &mut Child, mut done: impl FnMut(&str) -> bool) -> Vec<String> {
    let mut lines = BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
    let mut seen = Vec::new();
    for _ in 0..100 {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("the child stopped printing after {seen:?}"))
            .expect("readable output");
        let last = done(&line);
        seen.push(line);
        if last {
            return seen;
        }
    }
    panic!("the expected line never came: {seen:?}");
}

/// The Salesforce emulator, run as `tandem emulator`, and a Salesforce user editing records
/// through its REST API.
struct Org {
    _proc: Proc,
    base: String,
    client_id: String,
    client_secret: String,
    refresh_token: String,
    token: String,
    http: reqwest::Client,
    rt: tokio::runtime::Runtime,
}

impl Org {
    fn start() -> Org {
        let mut child = tandem()
            .args(["emulator", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("tandem emulator starts");
        let lines = read_until(&mut child, |l| l.trim_start().starts_with("control API"));
        let proc = Proc(child);
        let value = |key: &str| {
            lines
                .iter()
                .find_map(|l| l.trim().strip_prefix(key))
                .map(|v| v.trim().to_string())
                .unwrap_or_else(|| panic!("the emulator prints {key}: {lines:?}"))
        };
        let mut org = Org {
            base: value("login/instance URL:"),
            client_id: value("client_id:"),
            client_secret: value("client_secret:"),
            refresh_token: value("refresh_token:"),
            _proc: proc,
            token: String::new(),
            http: reqwest::Client::new(),
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
        };
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "refresh_token")
            .append_pair("client_id", &org.client_id)
            .append_pair("client_secret", &org.client_secret)
            .append_pair("refresh_token", &org.refresh_token)
            .finish();
        let answer = org.send(
            org.http
                .post(format!("{}/services/oauth2/token", org.base))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(form),
        );
        org.token = answer["access_token"]
            .as_str()
            .expect("an access token")
            .to_string();
        org
    }

    fn send(&self, request: reqwest::RequestBuilder) -> Value {
        self.rt.block_on(async {
            let response = request.send().await.expect("the emulator answers");
            let status = response.status();
            let text = response.text().await.unwrap();
            assert!(status.is_success(), "{status}: {text}");
            if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).expect("a JSON answer")
            }
        })
    }

    /// The emulator's own state (never counted as API use).
    fn state(&self) -> Value {
        self.send(self.http.get(format!("{}/__emulator/state", self.base)))
    }

    /// API calls made so far, and live Contacts.
    fn progress(&self) -> (u64, u64) {
        let state = self.state();
        (
            state["apiUsage"]["used"].as_u64().unwrap(),
            state["records"]["Contact"]["live"].as_u64().unwrap(),
        )
    }

    fn control(&self, body: Value) {
        self.send(
            self.http
                .post(format!("{}/__emulator/faults", self.base))
                .json(&body),
        );
    }

    /// Every row of a SOQL query, following `nextRecordsUrl`.
    fn query(&self, soql: &str) -> Vec<Value> {
        let mut page = self.send(
            self.http
                .get(format!(
                    "{}/services/data/v60.0/query?{}",
                    self.base,
                    form_urlencoded::Serializer::new(String::new())
                        .append_pair("q", soql)
                        .finish()
                ))
                .bearer_auth(&self.token),
        );
        let mut rows = Vec::new();
        for _ in 0..1000 {
            rows.extend(page["records"].as_array().cloned().unwrap_or_default());
            let Some(next) = page["nextRecordsUrl"].as_str().map(str::to_string) else {
                return rows;
            };
            page = self.send(
                self.http
                    .get(format!("{}{next}", self.base))
                    .bearer_auth(&self.token),
            );
        }
        panic!("a query with more than 1000 pages");
    }

    /// An edit made by a Salesforce user.
    fn update_contact(&self, id: &str, fields: Value) {
        self.send(
            self.http
                .patch(format!(
                    "{}/services/data/v60.0/sobjects/Contact/{id}",
                    self.base
                ))
                .bearer_auth(&self.token)
                .json(&fields),
        );
    }
}

/// A desktop client, talking CardDAV to a `tandem serve` started for one session and stopped
/// cleanly (SIGTERM) at its end.
struct Desktop {
    proc: Proc,
    url: String,
    http: reqwest::Client,
    rt: tokio::runtime::Runtime,
}

impl Desktop {
    fn start(dir: &Path) -> Desktop {
        let mut child = tandem()
            .arg("--data")
            .arg(dir)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--user",
                USER,
                "--password",
                PASSWORD,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("tandem serve starts");
        let lines = read_until(&mut child, |l| l.starts_with("CalDAV/CardDAV server at "));
        let url = lines
            .last()
            .and_then(|l| l.strip_prefix("CalDAV/CardDAV server at "))
            .and_then(|rest| rest.split_whitespace().next())
            .expect("the server's address")
            .trim_end_matches('/')
            .trim_end_matches("/dav")
            .to_string();
        Desktop {
            proc: Proc(child),
            url,
            http: reqwest::Client::new(),
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
        }
    }

    fn request(&self, method: &str, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", self.url),
            )
            .basic_auth(USER, Some(PASSWORD))
    }

    fn put(&self, path: &str, card: &str) {
        let request = self
            .request("PUT", path)
            .header("Content-Type", "text/vcard")
            .body(card.to_string());
        let status = self
            .rt
            .block_on(async { request.send().await.expect("tandem serve answers").status() });
        assert!(status.is_success(), "PUT {path}: {status}");
    }

    fn get(&self, path: &str) -> String {
        self.rt.block_on(async {
            let response = self.request("GET", path).send().await.unwrap();
            assert!(response.status().is_success(), "GET {path}");
            response.text().await.unwrap()
        })
    }

    /// The hrefs in the address book (PROPFIND, Depth 1).
    fn members(&self) -> Vec<String> {
        let body = self.rt.block_on(async {
            self.request("PROPFIND", CONTACTS)
                .header("Depth", "1")
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        });
        common::members_in(&body, CONTACTS)
    }

    /// SIGTERM, as a service manager stops it; it must close the store and exit cleanly.
    fn stop(self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.proc.0.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let mut proc = self.proc;
        assert!(
            proc.0.wait().unwrap().success(),
            "tandem serve exits cleanly on SIGTERM"
        );
    }
}

fn last_name(i: usize) -> String {
    format!("Crash{i:04}")
}

fn href(i: usize) -> String {
    format!("{CONTACTS}crash-{i}.vcf")
}

fn card(i: usize, title: &str) -> String {
    [
        "BEGIN:VCARD".to_string(),
        "VERSION:3.0".into(),
        format!("UID:crash-{i}"),
        format!("FN:Ana{i} {}", last_name(i)),
        format!("N:{};Ana{i};;;", last_name(i)),
        format!("EMAIL;TYPE=work:c{i}@crash.test"),
        format!("TITLE:{title}"),
        "END:VCARD".into(),
    ]
    .join("\r\n")
        + "\r\n"
}

/// What each contact must end up as, on both sides.
#[derive(Clone, Debug, Default)]
struct Expected {
    /// Set on the desktop.
    title: String,
    /// Set in Salesforce.
    mobile: Option<String>,
}

/// The data directory and what the test ran in it.
struct Data {
    dir: tempfile::TempDir,
    /// What each apply printed, shown when one fails.
    logs: tempfile::TempDir,
}

impl Data {
    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn command(&self) -> Command {
        let mut cmd = tandem();
        cmd.arg("--data").arg(self.path());
        cmd
    }

    /// Runs a command to completion: its status, stdout and stderr.
    fn run(&self, args: &[&str]) -> (ExitStatus, String, String) {
        let out = self.command().args(args).output().expect("tandem runs");
        (
            out.status,
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn ok(&self, args: &[&str]) -> String {
        let (status, stdout, stderr) = self.run(args);
        assert!(
            status.success(),
            "tandem {args:?} failed ({status}):\n{stdout}\n{stderr}"
        );
        stdout
    }

    /// `sync preview --json`: the report.
    fn preview(&self) -> Value {
        serde_json::from_str(&self.ok(&["sync", "preview", "--json"])).expect("a JSON report")
    }

    /// `sync apply --json`, started; its output goes to files named after the round.
    fn spawn_apply(&self, round: usize) -> Proc {
        let out = File::create(self.logs.path().join(format!("apply-{round}.out"))).unwrap();
        let err = File::create(self.logs.path().join(format!("apply-{round}.err"))).unwrap();
        Proc(
            self.command()
                .args(["sync", "apply", "--json"])
                .stdout(out)
                .stderr(err)
                .spawn()
                .expect("tandem sync apply starts"),
        )
    }

    fn apply_output(&self, round: usize) -> String {
        let read = |ext| {
            std::fs::read_to_string(self.logs.path().join(format!("apply-{round}.{ext}")))
                .unwrap_or_default()
        };
        format!("{}\n{}", read("out"), read("err"))
    }

    /// The store opens after whatever happened to it, and its log replays to the same state.
    fn verify(&self, when: &str) {
        let (status, stdout, stderr) = self.run(&["replay", "--verify"]);
        assert!(
            status.success(),
            "replay --verify failed {when}:\n{stdout}\n{stderr}"
        );
        assert!(
            !self.path().join("tandem.redb.before-recovery").exists(),
            "a recovery left its backup behind {when}"
        );
    }
}

/// When an apply is killed: once the emulator counted this many API calls, or holds this many
/// Contacts.
#[derive(Clone, Copy, Debug)]
enum KillAt {
    Call(u64),
    Created(u64),
}

/// How an apply ended.
#[derive(Debug, PartialEq)]
enum Ended {
    Finished,
    Killed,
}

/// Runs `sync apply` and kills it (SIGKILL) at `kill_at`; without one it must finish. An apply
/// that finishes must succeed.
fn apply(data: &Data, org: &Org, round: usize, kill_at: Option<KillAt>) -> Ended {
    let mut child = data.spawn_apply(round);
    let deadline = Instant::now() + WAIT_LIMIT;
    for _ in 0..POLL_LIMIT {
        if let Some(status) = child.0.try_wait().unwrap() {
            assert!(
                status.success(),
                "round {round}: apply failed ({status}):\n{}",
                data.apply_output(round)
            );
            return Ended::Finished;
        }
        // Each poll is one request to the emulator: that paces the loop.
        let (calls, contacts) = org.progress();
        let due = match kill_at {
            None => false,
            Some(KillAt::Call(n)) => calls >= n,
            Some(KillAt::Created(n)) => contacts >= n,
        };
        if due {
            child.0.kill().expect("SIGKILL");
            let status = child.0.wait().unwrap();
            // It may have finished in the instant before the kill.
            return if status.success() {
                Ended::Finished
            } else {
                Ended::Killed
            };
        }
        assert!(
            Instant::now() < deadline,
            "round {round}: apply hangs:\n{}",
            data.apply_output(round)
        );
    }
    panic!("round {round}: apply still runs after {POLL_LIMIT} polls");
}

/// The Salesforce steps a preview lists: (creates, updates, deletes).
fn salesforce_steps(report: &Value) -> (u64, u64, u64) {
    let tally = &report["record"]["tally"]["sides"]["salesforce"];
    let n = |op: &str| tally[op].as_u64().unwrap_or(0);
    (n("create"), n("update"), n("delete"))
}

/// No side has a step to take (a side with nothing to do is left out of the tally).
fn idle(report: &Value) -> bool {
    let tally = &report["record"]["tally"]["sides"];
    ["salesforce", "desktop"].iter().all(|side| {
        ["create", "update", "delete"]
            .iter()
            .all(|op| tally[side][op].as_u64().unwrap_or(0) == 0)
    })
}

fn write_settings(data: &Data, org: &Org) {
    // Contacts only, no automatic runs of the daemon between the rounds, retries never wait.
    std::fs::write(
        data.path().join("tandem.toml"),
        format!(
            "[contacts]\nautomatic = false\n\n[events]\nenabled = false\n\n[tasks]\nenabled = false\n\n\
             [salesforce]\nlogin_url = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\n\
             refresh_token = \"{}\"\nbackoff_base_ms = 0\nbackoff_max_ms = 0\n",
            org.base, org.client_id, org.client_secret, org.refresh_token
        ),
    )
    .unwrap();
}

/// A round's desktop changes: new contacts, and edits of existing ones made over the card the
/// client has (as a client edits), so what Salesforce changed on it stays.
fn desktop_changes(
    data: &Data,
    rng: &mut StdRng,
    round: usize,
    expected: &mut BTreeMap<usize, Expected>,
) {
    let desktop = Desktop::start(data.path());
    let next = expected.len();
    for i in next..next + NEW_PER_ROUND {
        let title = format!("t{round}-{i}");
        desktop.put(&href(i), &card(i, &title));
        expected.insert(
            i,
            Expected {
                title,
                mobile: None,
            },
        );
    }
    for _ in 0..EDITS_PER_ROUND {
        let i = rng.random_range(0..next);
        let title = format!("t{round}-{i}-edited");
        let edited: Vec<String> = desktop
            .get(&href(i))
            .lines()
            .map(|l| {
                if l.starts_with("TITLE") {
                    format!("TITLE:{title}")
                } else {
                    l.to_string()
                }
            })
            .collect();
        desktop.put(&href(i), &(edited.join("\r\n") + "\r\n"));
        expected.get_mut(&i).unwrap().title = title;
    }
    desktop.stop();
}

/// A round's Salesforce changes: a user edits the mobile phone of contacts that reached it.
fn salesforce_changes(
    org: &Org,
    rng: &mut StdRng,
    round: usize,
    expected: &mut BTreeMap<usize, Expected>,
) {
    let in_salesforce: Vec<(String, usize)> = org
        .query("SELECT Id, LastName FROM Contact")
        .iter()
        .filter_map(|r| {
            let i = r["LastName"]
                .as_str()?
                .strip_prefix("Crash")?
                .parse()
                .ok()?;
            Some((r["Id"].as_str()?.to_string(), i))
        })
        .collect();
    for _ in 0..SF_EDITS_PER_ROUND.min(in_salesforce.len()) {
        let (id, i) = &in_salesforce[rng.random_range(0..in_salesforce.len())];
        let mobile = format!("+1 555 {round:03} {i:04}");
        org.update_contact(id, json!({"MobilePhone": mobile}));
        expected.get_mut(i).unwrap().mobile = Some(mobile);
    }
}

/// Salesforce has every contact exactly once, with every change from both sides.
fn assert_salesforce(org: &Org, expected: &BTreeMap<usize, Expected>) {
    let rows = org.query("SELECT Id, FirstName, LastName, Email, Title, MobilePhone FROM Contact");
    let mut by_name: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for row in &rows {
        by_name
            .entry(row["LastName"].as_str().unwrap_or_default().to_string())
            .or_default()
            .push(row);
    }
    let duplicates: Vec<_> = by_name.iter().filter(|(_, r)| r.len() > 1).collect();
    assert!(
        duplicates.is_empty(),
        "duplicates in Salesforce: {duplicates:#?}"
    );
    let emails: BTreeSet<&str> = rows.iter().filter_map(|r| r["Email"].as_str()).collect();
    assert_eq!(emails.len(), rows.len(), "duplicate emails in Salesforce");
    let wanted: BTreeSet<String> = expected.keys().map(|&i| last_name(i)).collect();
    let have: BTreeSet<String> = by_name.keys().cloned().collect();
    let lost: Vec<_> = wanted.difference(&have).collect();
    assert!(
        lost.is_empty(),
        "contacts lost on the way to Salesforce: {lost:?}"
    );
    let strays: Vec<_> = have.difference(&wanted).collect();
    assert!(
        strays.is_empty(),
        "contacts the desktop never had: {strays:?}"
    );
    for (&i, want) in expected {
        let row = by_name[&last_name(i)][0];
        assert_eq!(row["Email"], json!(format!("c{i}@crash.test")), "{row}");
        assert_eq!(
            row["Title"],
            json!(want.title),
            "a desktop edit was lost: {row}"
        );
        assert_eq!(
            row["MobilePhone"],
            want.mobile.as_ref().map_or(Value::Null, |m| json!(m)),
            "a Salesforce edit was overwritten: {row}"
        );
    }
}

/// The desktop has the same contacts, once each, with the changes from both sides.
fn assert_desktop(data: &Data, expected: &BTreeMap<usize, Expected>) {
    let desktop = Desktop::start(data.path());
    let mut members = desktop.members();
    members.sort();
    let mut hrefs: Vec<String> = expected.keys().map(|&i| href(i)).collect();
    hrefs.sort();
    assert_eq!(
        members, hrefs,
        "the address book holds exactly the contacts"
    );
    for (&i, want) in expected {
        let body = desktop.get(&href(i));
        assert!(
            body.contains(&format!("TITLE:{}", want.title)),
            "a desktop edit was undone: {}\n{body}",
            want.title
        );
        if let Some(mobile) = &want.mobile {
            assert!(
                body.contains(mobile.as_str()),
                "a Salesforce edit did not reach the desktop: {mobile} not in\n{body}"
            );
        }
    }
    desktop.stop();
}

#[test]
fn apply_killed_at_random_points_leaves_no_duplicate_and_loses_no_change() {
    let started = Instant::now();
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_c4a5);
    eprintln!("seed {seed} (CRASH_SEED=N picks another)");
    let mut rng = StdRng::seed_from_u64(seed);
    let org = Org::start();
    let data = Data {
        dir: tempfile::tempdir().unwrap(),
        logs: tempfile::tempdir().unwrap(),
    };
    write_settings(&data, &org);

    // The desktop's contacts, and a few edits, before the first run.
    let mut expected: BTreeMap<usize, Expected> = BTreeMap::new();
    let desktop = Desktop::start(data.path());
    for i in 0..INITIAL {
        let title = format!("t0-{i}");
        desktop.put(&href(i), &card(i, &title));
        expected.insert(
            i,
            Expected {
                title,
                mobile: None,
            },
        );
    }
    for i in (0..INITIAL).step_by(10) {
        let title = format!("t0-{i}-edited");
        desktop.put(&href(i), &card(i, &title));
        expected.get_mut(&i).unwrap().title = title;
    }
    desktop.stop();
    org.control(json!({"faults": {"latencyMs": LATENCY_MS}}));

    let (mut kills, mut kills_at_create) = (0, 0);
    for round in 1..=ROUNDS {
        if round > 1 {
            desktop_changes(&data, &mut rng, round, &mut expected);
            salesforce_changes(&org, &mut rng, round, &mut expected);
        }
        let report = data.preview();
        let (creates, updates, deletes) = salesforce_steps(&report);
        assert_eq!(deletes, 0, "nothing was deleted: {report}");
        // The calls an apply makes: logging in and reading the org's settings, then one per
        // 200 creates and one per 25 updates (a Composite call). The kill comes after a random
        // one but the last, or
        // (a third of the rounds with creates) the moment a create has reached Salesforce: its
        // answer is then not in the log yet.
        let calls = 3 + creates.div_ceil(200) + updates.div_ceil(25);
        let (calls_before, contacts_before) = org.progress();
        let kill_at = if creates > 0 && rng.random_range(0..3) == 0 {
            KillAt::Created(contacts_before + 1)
        } else {
            KillAt::Call(calls_before + rng.random_range(1..calls))
        };
        let ended = apply(&data, &org, round, Some(kill_at));
        if ended == Ended::Killed {
            kills += 1;
            kills_at_create += usize::from(matches!(kill_at, KillAt::Created(_)));
        }
        eprintln!(
            "round {round}: {creates} creates, {updates} updates listed; {kill_at:?} (from {calls_before} calls): {ended:?} ({:.1?})",
            started.elapsed()
        );
        // The first process after a kill opens a store redb has to recover: `tandem serve` for
        // the next round's desktop changes, or (every fourth round) `replay --verify`, which
        // also checks that the log rebuilds the same tables.
        if round % 4 == 0 {
            data.verify(&format!("after round {round}"));
        }
    }

    // Restarted: runs until there is nothing left to do.
    let mut settled = false;
    for run in ROUNDS + 1..ROUNDS + 6 {
        if idle(&data.preview()) {
            settled = true;
            break;
        }
        apply(&data, &org, run, None);
    }
    assert!(settled, "the runs after the kills never settle");

    assert_salesforce(&org, &expected);
    assert_desktop(&data, &expected);
    assert!(idle(&data.preview()), "both sides agree");
    data.verify("at the end");

    eprintln!(
        "{kills} of {ROUNDS} applies killed ({kills_at_create} as a create reached Salesforce), {} contacts, {:.1?}",
        expected.len(),
        started.elapsed()
    );
    assert!(kills >= 20, "only {kills} of {ROUNDS} applies were killed");
}
