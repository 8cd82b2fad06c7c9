//! Secrets in the OS keychain, against a real one: GNOME Keyring's Secret Service on a private
//! D-Bus session bus, read back with libsecret's `secret-tool`. The daemon's DAV password and a
//! rotated Salesforce refresh token live there and not in `tandem.toml`; secrets written into
//! the file by hand move in at start; without a reachable keychain (or with `[secrets] store =
//! "file"`) they stay in the file, mode 0600, and the daemon says why.
//!
//! `.ci/run` installs gnome-keyring, dbus and libsecret-tools and sets
//! `TANDEM_REQUIRE_KEYCHAIN=1`, so there these tests must run; elsewhere, without the tools,
//! they say why they did not and pass.

mod common;

use common::Scratch;
use common::daemon::Daemon;
use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use tandem_salesforce_emulator::{Emulator, EmulatorConfig};

/// A Secret Service of its own: a D-Bus session bus that starts nothing by itself (no service
/// activation, so no other keyring can answer in its place), and gnome-keyring-daemon on it with
/// an unlocked login keyring in a scratch home.
struct SecretService {
    bus: Child,
    keyring: Child,
    address: String,
    _home: tempfile::TempDir,
}

impl SecretService {
    /// `None` (said on stderr) where the tools are missing and no keychain is required.
    fn start() -> Option<SecretService> {
        let found = |tool: &str| {
            Command::new(tool)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok()
        };
        if ![
            "dbus-daemon",
            "gnome-keyring-daemon",
            "secret-tool",
            "dbus-send",
        ]
        .iter()
        .all(|t| found(t))
        {
            assert!(
                std::env::var_os("TANDEM_REQUIRE_KEYCHAIN").is_none(),
                "TANDEM_REQUIRE_KEYCHAIN is set but dbus-daemon, gnome-keyring-daemon, \
                 secret-tool or dbus-send is missing"
            );
            eprintln!("not run: needs dbus, gnome-keyring and libsecret-tools");
            return None;
        }
        let home = tempfile::tempdir().unwrap();
        let socket = home.path().join("bus");
        let config = home.path().join("bus.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                socket.display()
            ),
        )
        .unwrap();
        let mut bus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("dbus-daemon starts");
        let mut address = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(bus.stdout.take().unwrap()),
            &mut address,
        )
        .unwrap();
        let address = address.trim().to_string();
        let runtime = home.path().join("run");
        std::fs::create_dir(&runtime).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("HOME", home.path())
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("XDG_RUNTIME_DIR", &runtime)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon starts");
        // The login keyring's password, then end of input: it unlocks (creating it) with it.
        std::io::Write::write_all(&mut keyring.stdin.take().unwrap(), b"login password").unwrap();
        let service = SecretService {
            bus,
            keyring,
            address,
            _home: home,
        };
        // Ready once it owns the Secret Service's name on the bus.
        let owned = (0..500).any(|_| {
            let answer = Command::new("dbus-send")
                .args([
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.secrets",
                ])
                .env("DBUS_SESSION_BUS_ADDRESS", &service.address)
                .output()
                .unwrap();
            let owned = String::from_utf8_lossy(&answer.stdout).contains("boolean true");
            if !owned {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            owned
        });
        assert!(
            owned,
            "gnome-keyring-daemon never took org.freedesktop.secrets"
        );
        Some(service)
    }

    /// The environment a process of this session has (and a daemon that logs where it keeps
    /// its secrets).
    fn env(&self) -> [(&'static str, &OsStr); 2] {
        [
            ("DBUS_SESSION_BUS_ADDRESS", OsStr::new(&self.address)),
            ("TANDEM_LOG", OsStr::new("info")),
        ]
    }

    /// What the keychain holds for a settings key of the data directory `dir`, as another
    /// program (libsecret's) reads it.
    fn lookup(&self, key: &str, dir: &Path) -> Option<String> {
        let out = Command::new("secret-tool")
            .args(["lookup", "service", "tandem", "username"])
            .arg(format!("{key} {}", dir.display()))
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8(out.stdout).unwrap())
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        for child in [&mut self.keyring, &mut self.bus] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn settings_text(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("tandem.toml")).unwrap()
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A PROPFIND of the address book with this user and password: its status.
fn dav_status(daemon: &Daemon, user: &str, password: &str) -> u16 {
    let auth = common::daemon::basic(user, password);
    let answer = common::daemon::raw(
        &daemon.dav_addr(),
        &format!(
            "PROPFIND /dav/addressbooks/contacts/ HTTP/1.1\r\nHost: {}\r\nAuthorization: Basic {auth}\r\nDepth: 0",
            daemon.dav_addr()
        ),
        "",
    );
    answer[9..12].parse().unwrap()
}

#[test]
fn the_dav_password_tandem_generates_is_kept_in_the_keychain_and_not_in_the_file() {
    let Some(keychain) = SecretService::start() else {
        return;
    };
    let s = Scratch::new();
    let data = s.path().join("data");
    let daemon = Daemon::start_with(&data, &keychain.env());
    let password = keychain
        .lookup("server.password", &data)
        .expect("the generated password is in the keychain");
    assert_eq!(password.len(), 20, "{password}");
    let text = settings_text(&data);
    assert!(!text.contains("password"), "{text}");
    assert!(text.contains("user = \"tandem\""), "{text}");
    // The server reads it from there.
    assert_eq!(dav_status(&daemon, "tandem", &password), 207);
    assert_eq!(dav_status(&daemon, "tandem", "not-the-password"), 401);
    let said = daemon.stop();
    assert!(
        said.contains("passwords and tokens are kept in the OS keychain"),
        "{said}"
    );
    assert!(!said.contains(&password), "{said}");

    // A second start reads the same password back; nothing is generated again.
    let daemon = Daemon::start_with(&data, &keychain.env());
    assert_eq!(dav_status(&daemon, "tandem", &password), 207);
    assert_eq!(keychain.lookup("server.password", &data), Some(password));
    daemon.stop();
}

#[test]
fn secrets_written_into_the_file_by_hand_move_into_the_keychain_at_start() {
    let Some(keychain) = SecretService::start() else {
        return;
    };
    let s = Scratch::new();
    let data = s.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(
        data.join("tandem.toml"),
        "# my settings\n[server]\nuser = \"ana\"\npassword = \"typed-by-ana-1\" # mine\n\n\
         [outlook]\nrefresh_token = \"M.C5-typed-token\"\n",
    )
    .unwrap();
    let daemon = Daemon::start_with(&data, &keychain.env());
    let text = settings_text(&data);
    assert!(
        !text.contains("typed-by-ana-1") && !text.contains("M.C5-typed-token"),
        "{text}"
    );
    assert!(
        text.contains("# my settings") && text.contains("user = \"ana\""),
        "{text}"
    );
    assert_eq!(
        keychain.lookup("server.password", &data).as_deref(),
        Some("typed-by-ana-1")
    );
    assert_eq!(
        keychain.lookup("outlook.refresh_token", &data).as_deref(),
        Some("M.C5-typed-token")
    );
    assert_eq!(dav_status(&daemon, "ana", "typed-by-ana-1"), 207);
    daemon.stop();

    // Another data directory's secrets are its own.
    let other = s.path().join("other");
    let daemon = Daemon::start_with(&other, &keychain.env());
    let theirs = keychain.lookup("server.password", &other).unwrap();
    assert_ne!(theirs, "typed-by-ana-1");
    assert_eq!(dav_status(&daemon, "tandem", "typed-by-ana-1"), 401);
    daemon.stop();
}

#[test]
fn with_store_file_or_without_a_reachable_keychain_secrets_stay_in_the_file_0600() {
    // No session bus where the address points: no keychain.
    let s = Scratch::new();
    let data = s.path().join("data");
    let nowhere = OsString::from(format!("unix:path={}", s.path().join("no-bus").display()));
    let daemon = Daemon::start_with(
        &data,
        &[
            ("DBUS_SESSION_BUS_ADDRESS", &nowhere),
            ("TANDEM_LOG", OsStr::new("info")),
        ],
    );
    let text = settings_text(&data);
    assert!(text.contains("password = \""), "{text}");
    assert_eq!(mode(&data.join("tandem.toml")), 0o600);
    let auth = daemon.basic_auth();
    assert!(!auth.is_empty());
    let said = daemon.stop();
    assert!(
        said.contains(
            "passwords and tokens are kept in tandem.toml (mode 0600): no OS keychain is reachable"
        ),
        "{said}"
    );

    // A keychain there, but the settings say "file".
    let Some(keychain) = SecretService::start() else {
        return;
    };
    let data = s.path().join("by-choice");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(
        data.join("tandem.toml"),
        "[secrets]\nstore = \"file\"\n[server]\npassword = \"kept-here-2\"\n",
    )
    .unwrap();
    let daemon = Daemon::start_with(&data, &keychain.env());
    assert!(settings_text(&data).contains("kept-here-2"));
    assert_eq!(keychain.lookup("server.password", &data), None);
    assert_eq!(dav_status(&daemon, "tandem", "kept-here-2"), 207);
    let said = daemon.stop();
    assert!(
        said.contains("[secrets] store = \"file\" says so"),
        "{said}"
    );
}

/// The refresh token is spent by each use when the org rotates it: a restarted daemon that
/// logs in again works only if the rotated token reached the keychain before it was used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_refresh_token_is_saved_in_the_keychain_and_used_by_the_next_start() {
    let Some(keychain) = SecretService::start() else {
        return;
    };
    let emu = Emulator::start(EmulatorConfig {
        rotate_refresh_tokens: true,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts");
    let s = Scratch::new();
    let data = s.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let first = emu.initial_refresh_token();
    std::fs::write(
        data.join("tandem.toml"),
        format!(
            "[salesforce]\nlogin_url = \"{url}\"\nclient_id = \"{id}\"\nclient_secret = \"{secret}\"\nrefresh_token = \"{first}\"\nbackoff_base_ms = 1\nbackoff_max_ms = 1\n",
            url = emu.base_url(),
            id = emu.client_id(),
            secret = emu.client_secret(),
        ),
    )
    .unwrap();
    let tandem = |args: &'static [&'static str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_tandem"))
            .arg("--data")
            .arg(&data)
            .env_remove("TANDEM_DATA")
            .envs(keychain.env())
            .args(args)
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "tandem {args:?}: {said}");
        said
    };
    let mut tokens = vec![first.clone()];
    for _ in 0..2 {
        let daemon = Daemon::start_with(&data, &keychain.env());
        tandem(&["sync", "preview"]);
        daemon.stop();
        let token = keychain
            .lookup("salesforce.refresh_token", &data)
            .expect("the refresh token is in the keychain");
        assert!(
            !tokens.contains(&token),
            "rotated: {token} after {tokens:?}"
        );
        tokens.push(token);
        let text = settings_text(&data);
        assert!(
            !text.contains("refresh_token") && !text.contains(&emu.client_secret()),
            "{text}"
        );
    }
    assert_eq!(
        keychain.lookup("salesforce.client_secret", &data),
        Some(emu.client_secret())
    );
}
