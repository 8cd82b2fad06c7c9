//! Ctrl-C during `tandem sync apply`: the run stops at its next safe point — the call in flight
//! finishes and is recorded, nothing more is sent — says so, and leaves nothing half-recorded;
//! the next run carries out the rest, without a duplicate.

mod common;

use common::{Scratch, observe};
use serde_json::json;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tandem_salesforce_emulator::{Emulator, EmulatorConfig, EmulatorHandle};

const CONTACTS: usize = 24;

fn settings(emu: &EmulatorHandle) -> String {
    format!(
        "[events]\nenabled = false\n[tasks]\nenabled = false\n[salesforce]\nlogin_url = \"{url}\"\nclient_id = \"{id}\"\nclient_secret = \"{secret}\"\nrefresh_token = \"{token}\"\nbackoff_base_ms = 1\nbackoff_max_ms = 1\n",
        url = emu.base_url(),
        id = emu.client_id(),
        secret = emu.client_secret(),
        token = emu.initial_refresh_token(),
    )
}

fn salesforce_contacts(emu: &EmulatorHandle) -> usize {
    emu.org().count("Contact", false)
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_stops_an_apply_at_a_safe_point_and_the_next_run_finishes_it() {
    let emu = Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator");
    let s = Scratch::new();
    std::fs::write(s.path().join("tandem.toml"), settings(&emu)).unwrap();
    // Each contact names its own company: one Account lookup per contact, so the apply makes
    // many calls, each slowed down, and is still running when Ctrl-C comes.
    let drafts: Vec<_> = (0..CONTACTS)
        .map(|i| {
            observe(
                "desktop",
                "create",
                &format!("/dav/addressbooks/contacts/c{i}.vcf"),
                json!({"first_name": "Ana", "last_name": format!("Lima {i}"),
                       "company": format!("Company {i}"), "categories": ["CRM"]}),
            )
        })
        .collect();
    s.ingest(&drafts);
    s.ok(&["sync", "preview"]);
    emu.faults().update(|f| f.latency_ms = 250);
    let before = emu.api_usage().0;

    let child = s
        .command()
        .args(["sync", "apply"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("apply starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while emu.api_usage().0 < before + 4 {
        assert!(Instant::now() < deadline, "the apply made no calls");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let interrupted = Instant::now();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .expect("apply ends");
    let took = interrupted.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        took < Duration::from_secs(5),
        "the apply stopped promptly, not after its remaining calls ({took:?})"
    );
    assert!(stderr.contains("finishing the step in flight"), "{stderr}");
    assert!(stdout.contains("Stopped on request"), "{stdout}");
    assert_eq!(out.status.code(), Some(130), "{stdout}{stderr}");
    assert!(
        salesforce_contacts(&emu) < CONTACTS,
        "the apply stopped before it sent everything"
    );
    assert!(
        s.ok(&["replay", "--verify"])
            .contains("identical byte for byte")
    );

    emu.faults().update(|f| f.latency_ms = 0);
    s.ok(&["sync", "preview"]);
    let applied = s.ok(&["sync", "apply"]);
    assert!(applied.contains("Applied"), "{applied}");
    assert_eq!(salesforce_contacts(&emu), CONTACTS, "every contact once");
    assert!(s.ok(&["sync", "preview"]).contains("Nothing to do"));
}
