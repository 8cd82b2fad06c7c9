//! Crash test: `tandem ingest` is killed with SIGKILL at random moments while it appends. After
//! every kill the store opens, every event that was acknowledged is in the log exactly as sent,
//! the log has no hole and no half-written entry, and `replay --verify` passes.

mod common;

use common::Scratch;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};

const KILLS: usize = 24;
const LINES_PER_RUN: usize = 300;

fn drafts(run: usize) -> Vec<String> {
    (0..LINES_PER_RUN)
        .map(|i| {
            // Creates, and updates of contacts created a few lines earlier in the same stream.
            let (op, id) = if i >= 5 && i % 3 == 0 {
                ("update", format!("/dav/c/{run}-{}.vcf", i - 5))
            } else {
                ("create", format!("/dav/c/{run}-{i}.vcf"))
            };
            json!({
                "origin": {"side": "desktop", "agent": "crash-test"},
                "type": "observation", "kind": "contact", "op": op, "external_id": id,
                "changes": {"last_name": format!("run {run} line {i}")},
            })
            .to_string()
        })
        .collect()
}

#[test]
fn acknowledged_events_survive_sigkill_and_replay_verifies() {
    let s = Scratch::new();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x007a_4de3);
    // external id + last_name of every acknowledged event, by log position.
    let mut acknowledged: BTreeMap<u64, (String, String)> = BTreeMap::new();
    let mut killed_mid_stream = 0;

    for run in 0..KILLS {
        let lines = drafts(run);
        let mut child = s.spawn_ingest();
        let mut stdin = child.stdin.take().unwrap();
        let input = lines.join("\n") + "\n";
        let feeder = std::thread::spawn(move || {
            // The pipe breaks when the child is killed; that is expected.
            let _ = stdin.write_all(input.as_bytes());
        });
        let kill_after = rng.random_range(0..LINES_PER_RUN / 2);
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut seen = 0;
        for line in stdout.lines() {
            let Ok(line) = line else { break };
            let ack: Value = serde_json::from_str(&line).expect("an ack is one JSON line");
            let n = ack["line"].as_u64().unwrap() as usize - 1;
            let sent: Value = serde_json::from_str(&lines[n]).unwrap();
            acknowledged.insert(
                ack["seq"].as_u64().unwrap(),
                (
                    sent["external_id"].as_str().unwrap().to_string(),
                    sent["changes"]["last_name"].as_str().unwrap().to_string(),
                ),
            );
            seen += 1;
            if seen > kill_after {
                child.kill().expect("SIGKILL");
                break;
            }
        }
        let status = child.wait().unwrap();
        if !status.success() {
            killed_mid_stream += 1;
        }
        feeder.join().unwrap();

        // The store opens; the log is whole.
        let log = s.log();
        for (i, entry) in log.iter().enumerate() {
            assert_eq!(
                entry["seq"],
                json!(i as u64 + 1),
                "the log has a hole after run {run}"
            );
        }
        let by_seq: BTreeMap<u64, &Value> = log
            .iter()
            .map(|e| (e["seq"].as_u64().unwrap(), &e["event"]))
            .collect();
        for (seq, (external_id, last_name)) in &acknowledged {
            let event = by_seq
                .get(seq)
                .unwrap_or_else(|| panic!("acknowledged event #{seq} is missing after run {run}"));
            assert_eq!(event["external_id"], json!(external_id), "#{seq}");
            assert_eq!(event["changes"]["last_name"], json!(last_name), "#{seq}");
        }
        let verify = s.run(&["replay", "--verify"]);
        assert!(
            verify.status.success(),
            "replay --verify failed after run {run}: {}",
            String::from_utf8_lossy(&verify.stdout)
        );
    }
    assert!(
        killed_mid_stream >= 20,
        "only {killed_mid_stream} runs were killed before finishing"
    );
    assert!(
        acknowledged.len() > KILLS,
        "too few acknowledgements to mean anything"
    );
}
