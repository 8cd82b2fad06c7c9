//! Soak run: `tandem serve` for `TANDEM_SOAK_MINUTES` (default 10) while 8 CalDAV/CardDAV
//! clients write 2,000 contacts over and over and list them, a run goes every minute (a reviewed one through the local
//! API, as `tandem sync apply` makes it, besides the automatic runs every 5 minutes, the shortest
//! interval the settings allow), and the Salesforce emulator fails 10% of the API requests (5%
//! 503s, 5% locked rows). It prints the daemon's
//! resident memory every 30 seconds, every error the clients saw, and at the end checks that
//! nothing the server acknowledged was lost: every contact is on the desktop and, after a last
//! run without faults, in Salesforce once. Asserts those; prints the rest.
//!
//! Run with `cargo bench --bench soak` (release build); `TANDEM_SOAK_MINUTES=1` for a short one.

use base64::Engine as _;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tandem_salesforce_emulator::{Emulator, EmulatorConfig, FaultSettings};

#[path = "common/proc.rs"]
mod proc;

const CLIENTS: usize = 8;
/// Contacts each client keeps: it creates them, then writes them over and over, so the store
/// holds a steady 2,000 records (the scale) and memory has no reason to grow.
const OWN: usize = 250;
const SAMPLE_EVERY: Duration = Duration::from_secs(30);

fn minutes() -> u64 {
    std::env::var("TANDEM_SOAK_MINUTES")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(10)
}

/// The resident size of a process, in MB (Linux).
fn resident_mb(pid: u32) -> Option<f64> {
    proc::resident_mb(std::path::Path::new(&format!("/proc/{pid}")))
}

fn tandem(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tandem"))
        .arg("--data")
        .arg(data)
        .env_remove("TANDEM_DATA")
        .args(args)
        .output()
        .expect("tandem runs")
}

fn card(uid: &str, version: usize) -> String {
    format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:Soak {uid}\r\nN:{uid};Soak;;;\r\nTITLE:version {version}\r\nEND:VCARD\r\n"
    )
}

/// The address book's members (PROPFIND, Depth 1): the status and the body.
async fn list(
    http: &reqwest::Client,
    base: &str,
    auth: &str,
) -> Result<(u16, String), reqwest::Error> {
    let answer = http
        .request(
            reqwest::Method::from_bytes(b"PROPFIND").expect("a method name"),
            format!("{base}/dav/addressbooks/contacts/"),
        )
        .header("Authorization", auth)
        .header("Depth", "1")
        .send()
        .await?;
    let status = answer.status().as_u16();
    Ok((status, answer.text().await?))
}

#[tokio::main]
async fn main() {
    let minutes = minutes();
    let emu = Emulator::start(EmulatorConfig::default())
        .await
        .expect("the emulator starts");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("tandem.toml"),
        format!(
            "[contacts]\nautomatic = true\nevery_minutes = 5\n\n[events]\nenabled = false\n\n[tasks]\nenabled = false\n\n\
             [salesforce]\nlogin_url = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\n\
             refresh_token = \"{}\"\nbackoff_base_ms = 50\nbackoff_max_ms = 500\n",
            emu.base_url(),
            emu.client_id(),
            emu.client_secret(),
            emu.initial_refresh_token()
        ),
    )
    .unwrap();
    emu.faults().reseed(42);
    emu.faults().set(FaultSettings {
        unavailable_rate: 0.05,
        lock_row_rate: 0.05,
        ..FaultSettings::default()
    });
    let log = std::fs::File::create(dir.path().join("serve.err")).unwrap();
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .arg("--data")
        .arg(&data)
        .env_remove("TANDEM_DATA")
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("tandem serve starts");
    let mut line = String::new();
    BufReader::new(daemon.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.contains("local API at"),
        "tandem serve did not start: {}",
        std::fs::read_to_string(dir.path().join("serve.err")).unwrap_or_default()
    );
    let announced: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.join("daemon.json")).unwrap()).unwrap();
    let base = announced["dav_url"]
        .as_str()
        .unwrap()
        .trim_end_matches("/dav/")
        .to_string();
    let settings: toml::Value =
        toml::from_str(&std::fs::read_to_string(data.join("tandem.toml")).unwrap()).unwrap();
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            settings["server"]["user"].as_str().unwrap(),
            settings["server"]["password"].as_str().unwrap()
        ))
    );
    println!(
        "soak: {CLIENTS} clients for {minutes} min, a run every minute, 10% Salesforce faults"
    );

    let deadline = Instant::now() + Duration::from_secs(minutes * 60);
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged: Arc<Mutex<BTreeMap<String, usize>>> = Arc::default();
    let errors: Arc<Mutex<BTreeMap<String, usize>>> = Arc::default();
    let writes = Arc::new(AtomicUsize::new(0));
    let http = reqwest::Client::new();
    let mut clients = Vec::new();
    for client in 0..CLIENTS {
        let (http, base, auth) = (http.clone(), base.clone(), auth.clone());
        let (stop, acknowledged, errors, writes) = (
            stop.clone(),
            acknowledged.clone(),
            errors.clone(),
            writes.clone(),
        );
        clients.push(tokio::spawn(async move {
            let mut n = 0usize;
            // Bounded in count as well as in time.
            while !stop.load(Ordering::Relaxed) && n < 1_000_000 {
                // Its contacts in turn: made on the first pass, a new version on every later one.
                let (uid, version) = (format!("c{client}-{}", n % OWN), n / OWN);
                let href = format!("{base}/dav/addressbooks/contacts/{uid}.vcf");
                let answer = http
                    .put(&href)
                    .header("Authorization", &auth)
                    .header("Content-Type", "text/vcard")
                    .body(card(&uid, version))
                    .send()
                    .await;
                let failed = match answer.map(|r| r.status().as_u16()) {
                    Ok(201 | 204) => {
                        acknowledged.lock().unwrap().insert(uid, version);
                        writes.fetch_add(1, Ordering::Relaxed);
                        None
                    }
                    Ok(status) => Some(format!("PUT {status}")),
                    Err(e) => Some(format!("PUT {e}")),
                };
                let listed = match n % 10 == 9 {
                    false => None,
                    true => match list(&http, &base, &auth).await {
                        Ok((207, _)) => None,
                        Ok((status, _)) => Some(format!("PROPFIND {status}")),
                        Err(e) => Some(format!("PROPFIND {e}")),
                    },
                };
                for failed in [failed, listed].into_iter().flatten() {
                    *errors.lock().unwrap().entry(failed).or_default() += 1;
                }
                n += 1;
            }
        }));
    }
    let pid = daemon.id();
    let mut samples = Vec::new();
    let started = Instant::now();
    let mut reviewed = 0;
    let mut tick = 0u64;
    while Instant::now() < deadline {
        tokio::time::sleep(SAMPLE_EVERY.min(deadline - Instant::now())).await;
        tick += 1;
        // A reviewed run every minute, through the daemon's API as the CLI makes it.
        if tick.is_multiple_of(2) {
            let data = data.clone();
            let ok = tokio::task::spawn_blocking(move || {
                tandem(&data, &["sync", "preview"]);
                tandem(&data, &["sync", "apply"]).status.success()
            })
            .await
            .unwrap_or(false);
            reviewed += usize::from(ok);
        }
        if let Some(mb) = resident_mb(pid) {
            println!(
                "  {:>5.1} min: resident {mb:>6.1} MB, {} writes acknowledged, {reviewed} reviewed runs applied",
                started.elapsed().as_secs_f64() / 60.0,
                writes.load(Ordering::Relaxed)
            );
            samples.push(mb);
        }
    }
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }

    // What the clients saw besides success; the injected faults are Salesforce's, not theirs.
    let errors = errors.lock().unwrap().clone();
    println!("client errors: {errors:?}");
    // A last run without faults, then Salesforce must hold every acknowledged contact once.
    emu.faults().clear();
    let json = |args: &[&str]| -> serde_json::Value {
        serde_json::from_slice(&tandem(&data, args).stdout).unwrap_or_default()
    };
    // Bounded: a few reviewed runs until one has nothing left to do.
    for _ in 0..5 {
        let preview = json(&["sync", "preview", "--json"]);
        let sides = &preview["record"]["tally"]["sides"];
        let idle = ["salesforce", "desktop"].iter().all(|side| {
            ["create", "update", "delete"]
                .iter()
                .all(|op| sides[side][op].as_u64().unwrap_or(0) == 0)
        });
        if idle {
            break;
        }
        tandem(&data, &["sync", "apply", "--json"]);
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    let (_, listing) = list(&http, &base, &auth)
        .await
        .expect("the address book lists");
    // The collection itself and one response per contact.
    let on_desktop = listing.matches("<D:response>").count().saturating_sub(1);
    let in_salesforce = emu.org().count("Contact", false);
    println!(
        "{} contacts acknowledged, {on_desktop} on the desktop, {in_salesforce} in Salesforce after the last run",
        acknowledged.len()
    );
    let first = samples.first().copied().unwrap_or_default();
    let last = samples.last().copied().unwrap_or_default();
    let half = samples.len() / 2;
    let (early, late) = samples.split_at(half);
    let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len().max(1) as f64;
    println!(
        "resident memory: first {first:.1} MB, last {last:.1} MB; mean of the first half {:.1} MB, of the second {:.1} MB",
        mean(early),
        mean(late)
    );
    let _ = daemon.kill();
    let _ = daemon.wait();
    assert!(errors.is_empty(), "the clients saw errors: {errors:?}");
    assert_eq!(
        on_desktop,
        acknowledged.len(),
        "every acknowledged contact on the desktop"
    );
    assert_eq!(
        in_salesforce,
        acknowledged.len(),
        "every acknowledged contact in Salesforce, once"
    );
}
