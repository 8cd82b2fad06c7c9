//! `tandem serve --service` (what the login service runs) writes its log to a file a day in the
//! platform's log directory, keeping the last fourteen, and no password or token ever reaches it: the daemon is run at the
//! most verbose level (every dependency's trace lines included) with known secrets, and made to
//! use each of them — DAV requests with the password (and a wrong one), commands over the local
//! API with its token, sync runs that log in to the Salesforce emulator with a client secret and
//! a refresh token and call it with access tokens, and a settings file broken on the line that
//! holds a secret.
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tandem_salesforce_emulator::{Emulator, EmulatorConfig};
use tokio::io::{AsyncBufReadExt, BufReader};

const DAV_PASSWORD: &str = "dav-Pa55word-9f3c1e";
const WRONG_PASSWORD: &str = "wrong-Pa55word-41d7";
const CLIENT_SECRET: &str = "client-Secret-7b2d44";
const REFRESH_TOKEN: &str = "5Aep861refresh-Token-c8e0a1";

struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Where the log goes with this scratch home: `$XDG_STATE_HOME/tandem` on Linux,
    /// `~/Library/Logs/tandem` on macOS.
    fn logs(&self) -> PathBuf {
        if cfg!(target_os = "macos") {
            self.dir.path().join("home/Library/Logs/tandem")
        } else {
            self.dir.path().join("state/tandem")
        }
    }

    fn tandem(&self) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_tandem"));
        cmd.arg("--data")
            .arg(self.data())
            .env("HOME", self.dir.path().join("home"))
            .env("XDG_STATE_HOME", self.dir.path().join("state"))
            .env_remove("TANDEM_DATA")
            .env("TANDEM_LOG", "trace")
            .kill_on_drop(true);
        cmd
    }

    async fn ok(&self, args: &[&str]) -> String {
        let out = self.tandem().args(args).output().await.unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "tandem {args:?}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_logs_to_a_file_that_holds_no_password_or_token() {
    let emu = Emulator::start(EmulatorConfig {
        client_secret: CLIENT_SECRET.into(),
        refresh_token: REFRESH_TOKEN.into(),
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts");
    let access_token_prefix = {
        let token = emu.issue_access_token();
        token[..token.find('!').unwrap() + 1].to_string()
    };
    let s = Scratch {
        dir: tempfile::tempdir().unwrap(),
    };
    std::fs::create_dir_all(s.data()).unwrap();
    let settings = format!(
        "[server]\nuser = \"ana\"\npassword = \"{DAV_PASSWORD}\"\n\n[salesforce]\nlogin_url = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{CLIENT_SECRET}\"\nrefresh_token = \"{REFRESH_TOKEN}\"\n",
        emu.base_url(),
        emu.client_id()
    );
    std::fs::write(s.data().join("tandem.toml"), &settings).unwrap();
    // Twenty days of older logs: the service keeps the last fourteen files, today's included.
    std::fs::create_dir_all(s.logs()).unwrap();
    for day in 1..=20 {
        std::fs::write(
            s.logs().join(format!("tandem.2020-01-{day:02}.log")),
            "old\n",
        )
        .unwrap();
    }

    let mut daemon = s
        .tandem()
        .args(["serve", "--service", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tandem serve starts");
    let mut lines = BufReader::new(daemon.stdout.take().unwrap()).lines();
    let mut said = Vec::new();
    let dav_url = loop {
        let line = lines
            .next_line()
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("serve stopped after {said:?}"));
        said.push(line.clone());
        if let Some(rest) = line.strip_prefix("CalDAV/CardDAV server at ") {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    let greeting = said.join("\n");
    assert!(
        greeting.contains("(user ana, password: [server] password in "),
        "{greeting}"
    );
    assert!(!greeting.contains(DAV_PASSWORD), "{greeting}");

    // The DAV server, with the password and with a wrong one.
    let http = reqwest::Client::new();
    let propfind = reqwest::Method::from_bytes(b"PROPFIND").unwrap();
    let answer = http
        .request(propfind.clone(), &dav_url)
        .basic_auth("ana", Some(DAV_PASSWORD))
        .header("Depth", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 207);
    let card = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:ana-lima\r\nFN:Ana Lima\r\nN:Lima;Ana;;;\r\nEND:VCARD\r\n";
    let answer = http
        .put(format!("{dav_url}addressbooks/contacts/ana-lima.vcf"))
        .basic_auth("ana", Some(DAV_PASSWORD))
        .header("Content-Type", "text/vcard")
        .body(card)
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{}", answer.status());
    let answer = http
        .request(propfind, &dav_url)
        .basic_auth("ana", Some(WRONG_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 401);

    // Commands over the local API (its token), and sync runs that log in to Salesforce.
    s.ok(&["sync", "preview"]).await;
    s.ok(&["sync", "apply"]).await;
    s.ok(&["sync", "preview"]).await;
    let api_token = {
        let announced: serde_json::Value =
            serde_json::from_slice(&std::fs::read(s.data().join("daemon.json")).unwrap()).unwrap();
        announced["token"].as_str().unwrap().to_string()
    };

    // The settings file broken on the line of a secret: the daemon reports it and keeps going.
    let kept = std::fs::read_to_string(s.data().join("tandem.toml")).unwrap();
    let line = format!("password = \"{DAV_PASSWORD}\"");
    assert!(kept.contains(&line), "{kept}");
    let broken = kept.replace(&line, &format!("password = \"{DAV_PASSWORD}"));
    std::fs::write(s.data().join("tandem.toml"), broken).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = s.ok(&["sync", "status"]).await;
        if status.contains("cannot be used") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the bad file is taken up: {status}"
        );
        tokio::task::yield_now().await;
    }

    // Stopped as a service manager stops it.
    let pid = daemon.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let exit = tokio::time::timeout(Duration::from_secs(30), daemon.wait())
        .await
        .expect("serve stops on SIGTERM")
        .unwrap();
    assert!(exit.success());
    let mut stderr = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut daemon.stderr.take().unwrap(), &mut stderr)
        .await
        .unwrap();
    assert_eq!(stderr, "", "a service's log lines all go to its file");

    let files = log_files(&s.logs());
    assert_eq!(files.len(), 14, "the last 14 files are kept: {files:?}");
    let today = files.last().unwrap();
    assert!(!today.ends_with("tandem.2020-01-20.log"), "{files:?}");
    let log = std::fs::read_to_string(today).unwrap();
    // The log is really there, at the level asked for, and saw everything above.
    for expected in [
        "tandem serve for",
        "TRACE",
        "tandem.toml is not valid",
        "reqwest",
        "hyper",
    ] {
        assert!(
            log.contains(expected),
            "{expected} in the log:\n{}",
            tail(&log)
        );
    }
    for secret in [
        DAV_PASSWORD,
        WRONG_PASSWORD,
        CLIENT_SECRET,
        REFRESH_TOKEN,
        // Every refresh token the emulator hands out starts so.
        "5Aep861",
        &access_token_prefix,
        &api_token,
        "Bearer ",
        "Basic ",
    ] {
        if let Some(at) = log.find(secret) {
            let line = log[..at].rsplit('\n').next().unwrap_or_default();
            panic!("`{secret}` is in the log, after: {line}");
        }
    }
}

fn log_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy();
        assert!(
            name.starts_with("tandem.") && name.ends_with(".log"),
            "{name}"
        );
    }
    files
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}
