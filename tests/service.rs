//! `tandem service install | status | uninstall` through the real binary, in a scratch home:
//! the unit file it writes, the systemctl calls it makes (to a stand-in that records them, named
//! by TANDEM_SERVICE_MANAGER, so nothing is registered with the real user's systemd), what it
//! says when no user systemd can be reached (as in a container), and that uninstall leaves
//! everything else as it was.
#![cfg(target_os = "linux")]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn unit(&self) -> PathBuf {
        self.path().join(".config/systemd/user/tandem.service")
    }

    fn data(&self) -> PathBuf {
        self.path().join("tandem data")
    }

    /// `tandem` with this home and nothing of the caller's XDG directories, on this data
    /// directory, given relative to the home (install must make it absolute).
    fn tandem(&self, manager: &Path) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tandem"));
        cmd.current_dir(self.path())
            .args(["--data", "tandem data"])
            .env("HOME", self.path())
            .env("TANDEM_SERVICE_MANAGER", manager)
            .env_remove("TANDEM_DATA")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_STATE_HOME")
            .env_remove("XDG_DATA_HOME");
        cmd
    }

    /// A systemctl stand-in: records its arguments a line per call, answers `is-enabled` and
    /// `is-active` as systemctl does for a running service, and fails `fail_on` as a refusing
    /// systemd would.
    /// `tandem service VERB` with `manager` as systemctl, run to its end.
    fn service(&self, manager: &Path, verb: &str) -> Output {
        self.tandem(manager)
            .args(["service", verb])
            .output()
            .unwrap()
    }

    fn systemctl(&self, fail_on: &str) -> (PathBuf, PathBuf) {
        let calls = self.path().join("systemctl-calls");
        let script = self.path().join("systemctl");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\n\
                 echo \"$*\" >> '{}'\n\
                 case \"$2\" in\n\
                   {fail_on}) echo 'Failed to {fail_on} unit: Access denied' >&2; exit 1 ;;\n\
                   is-enabled) echo enabled ;;\n\
                   is-active) echo active ;;\n\
                 esac\n",
                calls.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        (script, calls)
    }

    /// Every file under the home, with its bytes, but the stand-in's own.
    fn files(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.insert(path.clone(), std::fs::read(&path).unwrap());
                }
            }
        }
        let mut files = BTreeMap::new();
        walk(self.path(), &mut files);
        files.retain(|path, _| {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            !name.starts_with("systemctl")
        });
        files
    }
}

fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn calls(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn install_status_and_uninstall_register_the_unit_and_leave_everything_else_as_it_was() {
    let home = Home::new();
    std::fs::create_dir_all(home.data()).unwrap();
    std::fs::write(
        home.data().join("tandem.toml"),
        "[server]\nuser = \"ana\"\n",
    )
    .unwrap();
    let before = home.files();
    let (systemctl, recorded) = home.systemctl("never");

    let out = home.service(&systemctl, "status");
    assert!(out.status.success(), "{}", said(&out));
    assert!(said(&out).starts_with("Not installed"), "{}", said(&out));
    assert!(
        calls(&recorded).is_empty(),
        "status of nothing asks nothing"
    );

    let out = home.service(&systemctl, "install");
    assert!(out.status.success(), "{}", said(&out));
    assert!(
        said(&out).contains("Enabled, and started now."),
        "{}",
        said(&out)
    );
    let unit = std::fs::read_to_string(home.unit()).expect("the unit file is written");
    let exec = format!(
        "ExecStart=\"{}\" \"--data\" \"{}\" \"serve\" \"--service\"",
        env!("CARGO_BIN_EXE_tandem"),
        home.data().display()
    );
    assert!(unit.lines().any(|l| l == exec), "{exec} in:\n{unit}");
    assert!(unit.lines().any(|l| l == "Restart=on-failure"), "{unit}");
    assert_eq!(
        calls(&recorded),
        [
            "--user daemon-reload",
            "--user enable tandem.service",
            "--user restart tandem.service"
        ]
    );
    let logs = home.path().join(".local/state/tandem");
    assert!(
        said(&out).contains(&format!("Logs: {}", logs.display())),
        "{}",
        said(&out)
    );

    let out = home.service(&systemctl, "status");
    let status = said(&out);
    assert!(out.status.success(), "{status}");
    assert!(
        status.contains(&format!(
            "Installed: the systemd user unit {}",
            home.unit().display()
        )),
        "{status}"
    );
    assert!(
        status.contains("Enabled at login: yes; running: yes"),
        "{status}"
    );
    assert!(
        status.contains(&format!(
            "No tandem serve runs for {}",
            home.data().display()
        )),
        "{status}"
    );
    assert!(
        status.contains(&format!("Logs: {}", logs.display())),
        "{status}"
    );
    assert!(status.contains("journalctl --user -u tandem"), "{status}");

    let out = home.service(&systemctl, "uninstall");
    assert!(out.status.success(), "{}", said(&out));
    assert!(
        said(&out).contains("Stopped the service and removed"),
        "{}",
        said(&out)
    );
    assert!(!home.unit().exists());
    assert_eq!(
        calls(&recorded)[5..],
        [
            "--user disable --now tandem.service",
            "--user daemon-reload"
        ]
    );
    assert_eq!(
        home.files(),
        before,
        "uninstall takes away what install wrote and nothing else"
    );

    let out = home.service(&systemctl, "uninstall");
    assert!(out.status.success(), "{}", said(&out));
    assert!(said(&out).contains("not installed"), "{}", said(&out));
}

/// As in a container or CI: systemctl is there, but no user systemd answers it. Its runtime
/// directory and session bus are pointed into the scratch home, so the real user's systemd
/// cannot be reached either.
#[test]
fn without_a_user_systemd_install_writes_the_unit_and_says_how_to_enable_it() {
    let home = Home::new();
    let runtime = home.path().join("run");
    std::fs::create_dir(&runtime).unwrap();
    let real = Path::new("/usr/bin/systemctl");
    let missing = home.path().join("no-systemctl-here");
    let systemctl = if real.exists() { real } else { &missing };
    let out = home
        .tandem(systemctl)
        .args(["service", "install"])
        .env("XDG_RUNTIME_DIR", &runtime)
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", runtime.join("bus").display()),
        )
        .output()
        .unwrap();
    let text = said(&out);
    assert!(out.status.success(), "the unit is in place: {text}");
    assert!(home.unit().exists());
    assert!(
        text.contains("could not be enabled or started now"),
        "{text}"
    );
    assert!(
        text.contains(
            "systemctl --user daemon-reload && systemctl --user enable --now tandem.service"
        ),
        "{text}"
    );
    assert!(!text.contains("Enabled, and started"), "{text}");
}

#[test]
fn a_systemd_that_refuses_is_an_error_that_says_where_to_look() {
    let home = Home::new();
    let (systemctl, _) = home.systemctl("enable");
    let out = home.service(&systemctl, "install");
    let text = said(&out);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("Failed to enable unit: Access denied"),
        "{text}"
    );
    assert!(
        text.contains("systemctl --user status tandem.service"),
        "{text}"
    );
}
