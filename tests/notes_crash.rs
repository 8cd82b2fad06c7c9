//! Crash test for the Notes connector: `tandem sync apply` is killed with SIGKILL at a
//! different point of its Notes writes in every round — after a random number of Domino REST
//! API requests, or (every other round) the moment Domino has made a write whose answer is
//! still on its way — while contacts are made and edited in Notes and in Salesforce between
//! rounds.
//! Afterwards every contact exists exactly once on every side, every edit arrived, the next
//! preview is idle, and the store replays and verifies.

mod common;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tandem_domino_emulator::{DominoEmulator, DominoHandle};
use tandem_salesforce_emulator::{Emulator, EmulatorConfig, EmulatorHandle};

/// Rounds of preview, then an apply killed at a random point.
const ROUNDS: usize = 36;
/// Per round: contacts made in Notes and in Salesforce, contacts edited in Notes.
const NOTES_NEW: usize = 6;
const SALESFORCE_NEW: usize = 4;
const NOTES_EDITS: usize = 3;
/// Bounds of every wait.
const POLL_LIMIT: usize = 200_000;
const WAIT_LIMIT: Duration = Duration::from_secs(60);

/// A child process that is killed (SIGKILL) and reaped when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct World {
    /// The emulators run on it.
    _rt: tokio::runtime::Runtime,
    org: EmulatorHandle,
    domino: DominoHandle,
    dir: tempfile::TempDir,
}

impl World {
    fn start() -> World {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (org, domino) = rt.block_on(async {
            let org = Emulator::start(EmulatorConfig::default()).await.unwrap();
            let domino = DominoEmulator::start().await.unwrap();
            (org, domino)
        });
        domino.add_user("Ann Lee", "secret", "CN=Ann Lee/O=Acme");
        // The store a first `tandem serve` would make.
        drop(tandem::store::Store::open_or_create(dir.path()).unwrap());
        let settings = dir.path().join("tandem.toml");
        std::fs::write(
            &settings,
            format!(
                "[salesforce]\nlogin_url = \"{0}\"\ninstance_url = \"{0}\"\nclient_id = \"{1}\"\nclient_secret = \"{2}\"\nrefresh_token = \"{3}\"\nbackoff_base_ms = 0\nbackoff_max_ms = 0\n\n[notes]\nurl = \"{4}\"\nusername = \"Ann Lee\"\npassword = \"secret\"\nbackoff_base_ms = 0\nbackoff_max_ms = 0\n",
                org.base_url(),
                org.client_id(),
                org.client_secret(),
                org.initial_refresh_token(),
                domino.base_url(),
            ),
        )
        .unwrap();
        World {
            _rt: rt,
            org,
            domino,
            dir,
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn tandem(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tandem"));
        cmd.env_remove("TANDEM_DATA")
            .env("RUST_LOG", "warn")
            .arg("--data")
            .arg(self.path());
        cmd
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.tandem().args(args).output().expect("tandem runs");
        assert!(
            out.status.success(),
            "tandem {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn preview(&self) -> Value {
        serde_json::from_str(&self.ok(&["sync", "preview", "--json"])).expect("a JSON report")
    }

    /// Last name → job title of every contact in the mail file (a name twice fails).
    fn notes_contacts(&self) -> BTreeMap<String, String> {
        let mut all = BTreeMap::new();
        for doc in self.domino.mail_file(|m| {
            m.documents()
                .into_iter()
                .filter(|d| d.form() == Some("Person"))
                .cloned()
                .collect::<Vec<_>>()
        }) {
            let name = doc
                .item("LastName")
                .and_then(Value::as_str)
                .unwrap()
                .to_string();
            let title = doc.item("JobTitle").and_then(Value::as_str).unwrap_or("");
            assert!(
                all.insert(name.clone(), title.to_string()).is_none(),
                "{name} is twice in Notes"
            );
        }
        all
    }

    /// LastName → Title of every live Salesforce contact (a name twice fails).
    fn salesforce_contacts(&self) -> BTreeMap<String, String> {
        let ids: Vec<String> = self.org.org().with(|org| {
            let object = org.schema.object_index("Contact").unwrap();
            org.records(object).map(|r| r.id.clone()).collect()
        });
        let mut all = BTreeMap::new();
        for id in ids {
            let Some(row) = self.org.org().get(&id) else {
                continue;
            };
            if self.org.org().is_deleted(&id) == Some(true) {
                continue;
            }
            let name = row["LastName"].as_str().unwrap().to_string();
            let title = row["Title"].as_str().unwrap_or("").to_string();
            assert!(
                all.insert(name.clone(), title).is_none(),
                "{name} is twice in Salesforce"
            );
        }
        all
    }
}

fn idle(report: &Value) -> bool {
    report["plan"]["items"].as_array().is_none_or(|items| {
        items.iter().all(|i| {
            i["steps"]
                .as_object()
                .is_none_or(|steps| steps.values().all(|s| !s["skipped"].is_null()))
        })
    })
}

/// Runs `sync apply` and SIGKILLs it once `due` says so; without a kill it must succeed.
fn apply(world: &World, mut due: impl FnMut() -> bool) -> bool {
    let mut child = Proc(
        world
            .tandem()
            .args(["sync", "apply", "--json"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tandem sync apply starts"),
    );
    let deadline = Instant::now() + WAIT_LIMIT;
    for _ in 0..POLL_LIMIT {
        if let Some(status) = child.0.try_wait().unwrap() {
            return !status.success();
        }
        if due() {
            child.0.kill().expect("SIGKILL");
            let status = child.0.wait().unwrap();
            return !status.success();
        }
        assert!(
            Instant::now() < deadline,
            "an apply took over {WAIT_LIMIT:?}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("an apply never ended");
}

#[test]
fn notes_apply_killed_at_random_points_leaves_every_contact_once_and_every_edit() {
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x0000_d0c5);
    eprintln!("seed {seed} (CRASH_SEED=N picks another)");
    let mut rng = StdRng::seed_from_u64(seed);
    let world = World::start();
    // Surname → job title each contact must end with; made where the name says.
    let mut expected: BTreeMap<String, String> = BTreeMap::new();
    let (mut kills, mut kills_after_create) = (0, 0);
    for round in 1..=ROUNDS {
        for n in 0..NOTES_NEW {
            let name = format!("Notes {round:02}-{n}");
            let items: Map<String, Value> = json!({
                "Form": "Person", "FirstName": "Nia", "LastName": name,
                "JobTitle": "new", "Categories": ["CRM"],
            })
            .as_object()
            .cloned()
            .unwrap();
            world.domino.mail_file(|m| m.create(items));
            expected.insert(name, "new".into());
        }
        let people: Vec<(String, String)> = world.domino.mail_file(|m| {
            m.documents()
                .into_iter()
                .filter(|d| d.form() == Some("Person"))
                .map(|d| {
                    let name = d.item("LastName").and_then(Value::as_str).unwrap();
                    (d.unid.clone(), name.to_string())
                })
                .collect()
        });
        for _ in 0..NOTES_EDITS.min(people.len()) {
            let (unid, name) = &people[rng.random_range(0..people.len())];
            let title = format!("edited in round {round}");
            let items: Map<String, Value> =
                json!({"JobTitle": title}).as_object().cloned().unwrap();
            world
                .domino
                .mail_file(|m| m.update(unid, items, false).is_some());
            expected.insert(name.clone(), title);
        }
        for n in 0..SALESFORCE_NEW {
            let name = format!("Salesforce {round:02}-{n}");
            world
                .org
                .org()
                .create(
                    "Contact",
                    json!({"LastName": name, "Title": "from Salesforce"}),
                )
                .unwrap();
            expected.insert(name, "from Salesforce".into());
        }
        world.preview();
        let killed = if round % 2 == 0 {
            // The moment Domino has made a write whose answer tandem has not read.
            world.domino.hold_answers();
            let killed = apply(&world, || world.domino.answers_waiting() > 0);
            world.domino.release_answers();
            kills_after_create += usize::from(killed);
            killed
        } else {
            let from = world.domino.requests();
            let at = from + rng.random_range(1..12);
            apply(&world, || world.domino.requests() >= at)
        };
        kills += usize::from(killed);
        eprintln!("round {round}: killed {killed}");
    }
    let mut settled = false;
    for _ in 0..6 {
        if idle(&world.preview()) {
            settled = true;
            break;
        }
        world.ok(&["sync", "apply"]);
    }
    assert!(settled, "the runs after the kills never settle");
    let notes = world.notes_contacts();
    let salesforce = world.salesforce_contacts();
    for (name, title) in &expected {
        assert_eq!(notes.get(name), Some(title), "{name} in Notes");
        assert_eq!(salesforce.get(name), Some(title), "{name} in Salesforce");
    }
    assert_eq!(notes.len(), expected.len(), "nothing else in Notes");
    assert_eq!(
        salesforce.len(),
        expected.len(),
        "nothing else in Salesforce"
    );
    world.ok(&["replay", "--verify"]);
    eprintln!(
        "{kills} of {ROUNDS} applies killed, {kills_after_create} right after Domino made a write"
    );
    assert!(kills >= 20, "only {kills} of {ROUNDS} applies were killed");
    assert!(
        kills_after_create >= 10,
        "only {kills_after_create} kills right after a write"
    );
}
