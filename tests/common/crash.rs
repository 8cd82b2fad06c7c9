//! What the connector crash tests share: the Salesforce emulator and a data directory whose
//! settings name it, the `tandem` binary run on it, an apply killed (SIGKILL) when a condition
//! says so, and reading back what Salesforce holds.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tandem_salesforce_emulator::{Emulator, EmulatorConfig, EmulatorHandle};

/// What a crash test kills into: the connector's emulator, its requests so far and its
/// answers held back after the write.
pub trait Connector {
    fn requests(&self) -> u64;
    fn hold_answers(&self);
    fn release_answers(&self);
    fn answers_waiting(&self) -> u64;
}

/// Both emulators count requests and hold answers the same way, under the same names.
macro_rules! connector {
    ($($handle:ty),*) => {$(
        impl Connector for $handle {
            fn requests(&self) -> u64 {
                self.requests()
            }
            fn hold_answers(&self) {
                self.hold_answers()
            }
            fn release_answers(&self) {
                self.release_answers()
            }
            fn answers_waiting(&self) -> u64 {
                self.answers_waiting()
            }
        }
    )*};
}
connector!(
    tandem_graph_emulator::GraphHandle,
    tandem_domino_emulator::DominoHandle
);

/// The applies a crash test killed, and how many of them right after a write.
#[derive(Default)]
pub struct Kills {
    all: usize,
    after_write: usize,
}

impl Kills {
    /// At least 20 of `rounds` applies killed, 10 of them right after the connector wrote.
    pub fn assert_enough(&self, rounds: usize, side: &str) {
        let Kills { all, after_write } = self;
        eprintln!(
            "{all} of {rounds} applies killed, {after_write} right after {side} made a write"
        );
        assert!(*all >= 20, "only {all} of {rounds} applies were killed");
        assert!(
            *after_write >= 10,
            "only {after_write} kills right after a write"
        );
    }
}

/// The test's random source: `CRASH_SEED`, or `default`.
pub fn rng(default: u64) -> rand::rngs::StdRng {
    use rand::SeedableRng;
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default);
    eprintln!("seed {seed} (CRASH_SEED=N picks another)");
    rand::rngs::StdRng::seed_from_u64(seed)
}

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

/// The Salesforce side of a crash test and the data directory `tandem` runs on.
pub struct CrashRig {
    /// The emulators run on it.
    pub rt: tokio::runtime::Runtime,
    pub org: EmulatorHandle,
    dir: tempfile::TempDir,
}

impl CrashRig {
    /// The org, and a store as a first `tandem serve` makes it, with settings that reach the
    /// org ([`CrashRig::add_settings`] adds the connector's).
    pub fn start() -> CrashRig {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let org = rt.block_on(async { Emulator::start(EmulatorConfig::default()).await.unwrap() });
        drop(tandem::store::Store::open_or_create(dir.path()).unwrap());
        std::fs::write(
            dir.path().join("tandem.toml"),
            format!(
                "[salesforce]\nlogin_url = \"{0}\"\ninstance_url = \"{0}\"\nclient_id = \"{1}\"\nclient_secret = \"{2}\"\nrefresh_token = \"{3}\"\nbackoff_base_ms = 0\nbackoff_max_ms = 0\n",
                org.base_url(),
                org.client_id(),
                org.client_secret(),
                org.initial_refresh_token(),
            ),
        )
        .unwrap();
        CrashRig { rt, org, dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Adds lines (a connector's section) to the settings file.
    pub fn add_settings(&self, lines: &str) {
        let path = self.path().join("tandem.toml");
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push('\n');
        text.push_str(lines);
        std::fs::write(path, text).unwrap();
    }

    fn tandem(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tandem"));
        cmd.env_remove("TANDEM_DATA")
            .env("RUST_LOG", "warn")
            .arg("--data")
            .arg(self.path());
        cmd
    }

    /// `tandem ARGS`, which must succeed; what it printed.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.tandem().args(args).output().expect("tandem runs");
        assert!(
            out.status.success(),
            "tandem {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn preview(&self) -> Value {
        serde_json::from_str(&self.ok(&["sync", "preview", "--json"])).expect("a JSON report")
    }

    /// Runs `sync apply` and SIGKILLs it once `due` says so; whether it was killed (without a
    /// kill it must succeed).
    pub fn apply(&self, mut due: impl FnMut() -> bool) -> bool {
        let mut child = Proc(
            self.tandem()
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

    /// One round's preview, then its apply killed: in even rounds the moment `connector` has
    /// made a write whose answer tandem has not read, in odd ones after a random number of its
    /// requests.
    pub fn killed_round(
        &self,
        round: usize,
        rng: &mut impl rand::Rng,
        connector: &impl Connector,
        kills: &mut Kills,
    ) {
        self.preview();
        let killed = if round.is_multiple_of(2) {
            connector.hold_answers();
            let killed = self.apply(|| connector.answers_waiting() > 0);
            connector.release_answers();
            kills.after_write += usize::from(killed);
            killed
        } else {
            let at = connector.requests() + rng.random_range(1..12);
            self.apply(|| connector.requests() >= at)
        };
        kills.all += usize::from(killed);
        eprintln!("round {round}: killed {killed}");
    }

    /// Previews and applies until a preview is idle (at most six times); whether it settled.
    fn settle(&self) -> bool {
        for _ in 0..6 {
            if idle(&self.preview()) {
                return true;
            }
            self.ok(&["sync", "apply"]);
        }
        false
    }

    /// Salesforce's share of a round: `count` new contacts, each expected with its title.
    pub fn new_in_salesforce(
        &self,
        round: usize,
        count: usize,
        expected: &mut BTreeMap<String, String>,
    ) {
        for n in 0..count {
            let name = format!("Salesforce {round:02}-{n}");
            self.org
                .org()
                .create(
                    "Contact",
                    serde_json::json!({"LastName": name, "Title": "from Salesforce"}),
                )
                .unwrap();
            expected.insert(name, "from Salesforce".into());
        }
    }

    /// After the kills: the runs settle, every contact is once in `side` (its contacts, read
    /// by `held` then) and in Salesforce with its last edit, nothing else is, and the store
    /// replays and verifies.
    pub fn assert_converged(
        &self,
        side: &str,
        held: impl FnOnce() -> BTreeMap<String, String>,
        expected: &BTreeMap<String, String>,
    ) {
        assert!(self.settle(), "the runs after the kills never settle");
        let connector = held();
        let salesforce = self.salesforce_contacts();
        for (name, title) in expected {
            assert_eq!(connector.get(name), Some(title), "{name} in {side}");
            assert_eq!(salesforce.get(name), Some(title), "{name} in Salesforce");
        }
        assert_eq!(connector.len(), expected.len(), "nothing else in {side}");
        assert_eq!(
            salesforce.len(),
            expected.len(),
            "nothing else in Salesforce"
        );
        self.ok(&["replay", "--verify"]);
    }

    /// LastName → Title of every live Salesforce contact (a name twice fails).
    pub fn salesforce_contacts(&self) -> BTreeMap<String, String> {
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

/// Whether a preview's plan has nothing left to run.
fn idle(report: &Value) -> bool {
    report["plan"]["items"].as_array().is_none_or(|items| {
        items.iter().all(|i| {
            i["steps"]
                .as_object()
                .is_none_or(|steps| steps.values().all(|s| !s["skipped"].is_null()))
        })
    })
}
