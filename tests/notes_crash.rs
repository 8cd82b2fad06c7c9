//! Crash test for the Notes connector: `tandem sync apply` is killed with SIGKILL at a
//! different point of its Notes writes in every round — after a random number of Domino REST
//! API requests, or (every other round) the moment Domino has made a write whose answer is
//! still on its way — while contacts are made and edited in Notes and in Salesforce between
//! rounds.
//! Afterwards every contact exists exactly once on every side, every edit arrived, the next
//! preview is idle, and the store replays and verifies.

mod common;

use common::crash::{self, CrashRig, Kills};
use rand::Rng;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use tandem_domino_emulator::{DominoEmulator, DominoHandle};

/// Rounds of preview, then an apply killed at a random point.
const ROUNDS: usize = 36;
/// Per round: contacts made in Notes and in Salesforce, contacts edited in Notes.
const NOTES_NEW: usize = 6;
const SALESFORCE_NEW: usize = 4;
const NOTES_EDITS: usize = 3;

struct World {
    rig: CrashRig,
    domino: DominoHandle,
}

impl World {
    fn start() -> World {
        let rig = CrashRig::start();
        let domino = rig
            .rt
            .block_on(async { DominoEmulator::start().await.unwrap() });
        domino.add_user("Ann Lee", "secret", "CN=Ann Lee/O=Acme");
        rig.add_settings(&format!(
            "[notes]\nurl = \"{}\"\nusername = \"Ann Lee\"\npassword = \"secret\"\nbackoff_base_ms = 0\nbackoff_max_ms = 0\n",
            domino.base_url()
        ));
        World { rig, domino }
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
}

#[test]
fn notes_apply_killed_at_random_points_leaves_every_contact_once_and_every_edit() {
    let mut rng = crash::rng(0x0000_d0c5);
    let world = World::start();
    // Surname → job title each contact must end with; made where the name says.
    let mut expected: BTreeMap<String, String> = BTreeMap::new();
    let mut kills = Kills::default();
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
        world
            .rig
            .new_in_salesforce(round, SALESFORCE_NEW, &mut expected);
        world
            .rig
            .killed_round(round, &mut rng, &world.domino, &mut kills);
    }
    world
        .rig
        .assert_converged("Notes", || world.notes_contacts(), &expected);
    kills.assert_enough(ROUNDS, "Domino");
}
