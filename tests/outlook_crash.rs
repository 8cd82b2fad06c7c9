//! Crash test for the Outlook connector: `tandem sync apply` is killed with SIGKILL at a
//! different point of its Outlook writes in every round — after a random number of Graph
//! requests, or (every other round) the moment Graph has made a create whose answer is still on
//! its way — while contacts are made and edited in Outlook and in Salesforce between rounds.
//! Afterwards every contact exists exactly once on every side, every edit arrived, the next
//! preview is idle, and the store replays and verifies.

mod common;

use common::crash::{self, CrashRig, Kills};
use rand::Rng;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use tandem_graph_emulator::{GraphEmulator, GraphHandle, Kind};

/// Rounds of preview, then an apply killed at a random point.
const ROUNDS: usize = 36;
/// Per round: contacts made in Outlook and in Salesforce, contacts edited in Outlook.
const OUTLOOK_NEW: usize = 6;
const SALESFORCE_NEW: usize = 4;
const OUTLOOK_EDITS: usize = 3;

struct World {
    rig: CrashRig,
    graph: GraphHandle,
}

impl World {
    fn start() -> World {
        let rig = CrashRig::start();
        // Refresh tokens as the platform keeps them (the old one lives on): under strict
        // rotation no client survives a kill between the platform's answer and the save.
        let graph = rig
            .rt
            .block_on(async { GraphEmulator::start().await.unwrap() });
        rig.add_settings("[outlook]\nbackoff_base_ms = 0\nbackoff_max_ms = 0\n");
        rig.rt
            .block_on(common::outlook::sign_in(&graph, rig.path()));
        World { rig, graph }
    }

    fn synced_folder(&self) -> Option<String> {
        self.graph.mailbox(|m| {
            m.folders
                .iter()
                .find(|f| f.name == "Salesforce Contacts")
                .map(|f| f.id.clone())
        })
    }

    /// Surname → job title of every contact in Outlook's synced folder (a surname twice fails).
    fn outlook_contacts(&self) -> BTreeMap<String, String> {
        let folder = self.synced_folder().expect("the synced folder");
        let mut all = BTreeMap::new();
        for item in self.graph.mailbox(|m| {
            m.in_folder(&folder)
                .into_iter()
                .cloned()
                .collect::<Vec<_>>()
        }) {
            let name = item.fields["surname"].as_str().unwrap().to_string();
            let title = item
                .fields
                .get("jobTitle")
                .and_then(Value::as_str)
                .unwrap_or("");
            assert!(
                all.insert(name.clone(), title.to_string()).is_none(),
                "{name} is twice in Outlook"
            );
        }
        all
    }
}

#[test]
fn outlook_apply_killed_at_random_points_leaves_every_contact_once_and_every_edit() {
    let mut rng = crash::rng(0x0071_100c);
    let world = World::start();
    // Surname → job title each contact must end with; made where the name says.
    let mut expected: BTreeMap<String, String> = BTreeMap::new();
    let mut kills = Kills::default();
    for round in 1..=ROUNDS {
        // The synced folder is made by the first run.
        if let Some(folder) = world.synced_folder() {
            let now = world.graph.now();
            for n in 0..OUTLOOK_NEW {
                let name = format!("Outlook {round:02}-{n}");
                let body: Map<String, Value> =
                    json!({"givenName": "Olu", "surname": name, "jobTitle": "new"})
                        .as_object()
                        .cloned()
                        .unwrap();
                world
                    .graph
                    .mailbox(|m| m.create(&folder, Kind::Contact, &body, now))
                    .unwrap();
                expected.insert(name, "new".into());
            }
            let items = world.graph.mailbox(|m| {
                m.in_folder(&folder)
                    .into_iter()
                    .cloned()
                    .collect::<Vec<_>>()
            });
            for _ in 0..OUTLOOK_EDITS.min(items.len()) {
                let item = &items[rng.random_range(0..items.len())];
                let title = format!("edited in round {round}");
                let body: Map<String, Value> =
                    json!({"jobTitle": title}).as_object().cloned().unwrap();
                world
                    .graph
                    .mailbox(|m| m.update(&item.immutable_id, Kind::Contact, &body, None, now))
                    .unwrap();
                let name = item.fields["surname"].as_str().unwrap().to_string();
                expected.insert(name, title);
            }
        }
        world
            .rig
            .new_in_salesforce(round, SALESFORCE_NEW, &mut expected);
        world
            .rig
            .killed_round(round, &mut rng, &world.graph, &mut kills);
    }
    world
        .rig
        .assert_converged("Outlook", || world.outlook_contacts(), &expected);
    kills.assert_enough(ROUNDS, "Graph");
}
