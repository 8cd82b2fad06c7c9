//! Linux: a systemd user unit, `~/.config/systemd/user/tandem.service`, enabled so the user's
//! systemd starts it at login and again when it fails.

use super::{Launch, Manager, ManagerError, ServiceState};
use std::path::PathBuf;

pub const UNIT: &str = "tandem.service";

/// `$XDG_CONFIG_HOME/systemd/user/tandem.service` (`~/.config/…` by default).
pub fn unit_file(dirs: &directories::BaseDirs) -> PathBuf {
    dirs.config_dir().join("systemd/user").join(UNIT)
}

/// The unit. `Type=exec` makes a missing or unrunnable executable a failed start rather than
/// a started service; `RestartSec` keeps a service that cannot start (another `tandem serve` holds
/// the store) from spinning, and lets it take over once the other one stops.
pub fn render(launch: &Launch) -> Result<String, UnsafeProgram> {
    if !is_safe(&launch.program) {
        return Err(UnsafeProgram(launch.program.clone()));
    }
    let command: Vec<String> = std::iter::once(quote(&launch.program, Word::Program))
        .chain(launch.args.iter().map(|arg| quote(arg, Word::Argument)))
        .collect();
    Ok(format!(
        "# Written by `tandem service install`; `tandem service uninstall` removes it.\n\
         [Unit]\n\
         Description=tandem: desktop calendar, contacts and tasks in step with Salesforce\n\
         \n\
         [Service]\n\
         Type=exec\n\
         ExecStart={}\n\
         Restart=on-failure\n\
         RestartSec=10s\n\
         \n\
         [Install]\n\
         WantedBy=default.target\n",
        command.join(" ")
    ))
}

/// systemd refuses to run a program whose path holds a quote, a backslash or a control
/// character ("Executable name contains special characters").
#[derive(Debug, thiserror::Error)]
#[error(
    "systemd cannot start a program whose path has a quote, a backslash or a control character ({0}); put tandem where its path has none and install again"
)]
pub struct UnsafeProgram(String);

fn is_safe(path: &str) -> bool {
    !path
        .chars()
        .any(|c| c.is_control() || matches!(c, '"' | '\'' | '\\'))
}

/// Where a word stands on the command line: systemd expands `$VARIABLES` in the arguments
/// only, and specifiers (`%h`) everywhere.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Word {
    Program,
    Argument,
}

/// One word of a command line in a unit file (systemd.service(5), "Command lines"): in double
/// quotes, with C escapes for `\` and `"`, `%%` for a `%` (else a specifier) and, in an
/// argument, `$$` for a `$` (else a variable).
fn quote(word: &str, at: Word) -> String {
    let mut quoted = String::with_capacity(word.len() + 2);
    quoted.push('"');
    for c in word.chars() {
        match c {
            '\\' => quoted.push_str("\\\\"),
            '"' => quoted.push_str("\\\""),
            '\n' => quoted.push_str("\\n"),
            '%' => quoted.push_str("%%"),
            '$' if at == Word::Argument => quoted.push_str("$$"),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// Reload the unit files, enable the unit and (re)start it, so a second install runs the new
/// command. The first call failing means no user systemd could be reached.
pub fn activate(manager: &Manager) -> Result<(), super::Activation> {
    manager
        .call(["--user", "daemon-reload"])
        .map_err(super::Activation::Unreachable)?;
    for action in ["enable", "restart"] {
        manager
            .call(["--user", action, UNIT])
            .map_err(super::Activation::Refused)?;
    }
    Ok(())
}

/// Stop and disable the unit.
pub fn deactivate(manager: &Manager) -> Result<(), ManagerError> {
    manager.call(["--user", "disable", "--now", UNIT]).map(drop)
}

/// After the unit file is gone, so systemd forgets it too.
pub fn forget(manager: &Manager) -> Result<(), ManagerError> {
    manager.call(["--user", "daemon-reload"]).map(drop)
}

/// `is-enabled` and `is-active` print their answer even when it is "no" (with a non-zero exit
/// status); no answer at all means systemd was not reached. `is-enabled` reads the unit files
/// and can answer without a running systemd; `is-active` cannot.
pub fn state(manager: &Manager) -> Result<ServiceState, ManagerError> {
    let ask = |question: &str| -> Result<String, ManagerError> {
        let output = manager.output(["--user", question, UNIT])?;
        let answer = String::from_utf8_lossy(&output.stdout).trim().to_string();
        if answer.is_empty() {
            return Err(manager.failed(&["--user", question, UNIT], &output));
        }
        Ok(answer)
    };
    let (enabled, active) = match (ask("is-enabled"), ask("is-active")) {
        (Err(e), Err(_)) => return Err(e),
        answers => answers,
    };
    let said = |answer: &Result<String, ManagerError>| match answer {
        Ok(answer) => answer.clone(),
        Err(e) => e.to_string(),
    };
    Ok(ServiceState {
        enabled: enabled.as_ref().ok().map(|a| a == "enabled"),
        running: active.as_ref().ok().map(|a| a == "active"),
        said: format!("systemctl --user: {}; {}", said(&enabled), said(&active)),
    })
}

/// What to type once a user systemd is there.
pub fn by_hand() -> String {
    format!("systemctl --user daemon-reload && systemctl --user enable --now {UNIT}")
}

/// Where the service's own output goes: what it says on start, and an error before its log
/// file is open.
pub const OUTPUT: &str = "journalctl --user -u tandem";

#[cfg(test)]
mod tests {
    use super::*;

    fn launch(data: &str) -> Launch {
        Launch {
            program: "/opt/tandem/bin/tandem".into(),
            args: vec![
                "--data".into(),
                data.into(),
                "serve".into(),
                "--service".into(),
            ],
            log_dir: "/home/ana/.local/state/tandem".into(),
        }
    }

    #[test]
    fn the_unit_runs_serve_as_a_service_and_restarts_it_on_failure() {
        let unit = render(&launch("/home/ana/.local/share/tandem")).unwrap();
        let lines: Vec<&str> = unit.lines().collect();
        assert!(lines.contains(
            &"ExecStart=\"/opt/tandem/bin/tandem\" \"--data\" \"/home/ana/.local/share/tandem\" \"serve\" \"--service\""
        ), "{unit}");
        for line in [
            "[Service]",
            "Restart=on-failure",
            "[Install]",
            "WantedBy=default.target",
        ] {
            assert!(lines.contains(&line), "{line} in {unit}");
        }
    }

    #[test]
    fn words_are_quoted_so_systemd_reads_them_back_as_they_are() {
        let argument = |word| quote(word, Word::Argument);
        assert_eq!(argument("/a b/c"), "\"/a b/c\"");
        assert_eq!(argument("100%"), "\"100%%\"");
        assert_eq!(argument("$HOME"), "\"$$HOME\"");
        assert_eq!(argument("say \"hi\""), "\"say \\\"hi\\\"\"");
        assert_eq!(argument("C:\\x"), "\"C:\\\\x\"");
        assert_eq!(quote("/opt/$x/100%", Word::Program), "\"/opt/$x/100%%\"");
    }

    #[test]
    fn a_program_systemd_would_refuse_is_refused_here() {
        for program in ["/opt/a\"b/tandem", "/opt/a\\b/tandem", "/opt/it's/tandem"] {
            let mut launch = launch("/data");
            launch.program = program.into();
            assert!(render(&launch).is_err(), "{program}");
        }
    }

    /// `systemd-analyze verify` reads the unit as systemd would (unbalanced quotes, unknown
    /// specifiers and keys, an executable that is not there are all reported) and needs no
    /// running systemd. The executable is this test binary, reached through a directory whose
    /// name needs every escape: verify finds it only if the quoting reads back to the same path.
    #[test]
    fn systemd_analyze_verifies_the_unit() {
        let Ok(found) = std::process::Command::new("systemd-analyze")
            .arg("--version")
            .output()
        else {
            // CI installs it (.ci/run); elsewhere the unit is only checked line by line above.
            assert!(
                std::env::var_os("CI").is_none() || !cfg!(target_os = "linux"),
                "systemd-analyze is not installed: .ci/run installs Debian's systemd for it"
            );
            eprintln!("systemd-analyze is not installed: the unit is not verified here");
            return;
        };
        assert!(found.status.success());
        let scratch = tempfile::tempdir().unwrap();
        let runtime = scratch.path().join("runtime");
        std::fs::create_dir(&runtime).unwrap();
        // A program's path may hold `%` and `$` (not quotes or backslashes: those are refused).
        let bin = scratch.path().join("bin with 100% $chars");
        std::fs::create_dir(&bin).unwrap();
        let exe = bin.join("tandem");
        std::os::unix::fs::symlink(std::env::current_exe().unwrap(), &exe).unwrap();
        let data = scratch.path().join("data with 100% \"odd\" $chars\\here");
        let mut launch = launch(data.to_str().unwrap());
        let file = scratch.path().join(UNIT);
        let verify = |launch: &Launch| {
            std::fs::write(&file, render(launch).unwrap()).unwrap();
            let out = std::process::Command::new("systemd-analyze")
                .args(["--user", "verify"])
                .arg(&file)
                .env("HOME", scratch.path())
                .env("XDG_CONFIG_HOME", scratch.path().join("config"))
                .env("XDG_RUNTIME_DIR", &runtime)
                .output()
                .unwrap();
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        };

        launch.program = exe.to_str().unwrap().into();
        let (ok, said) = verify(&launch);
        let unit = render(&launch).unwrap();
        assert!(ok, "{said}\n{unit}");
        assert!(
            !said.contains(UNIT),
            "no warning about the unit:\n{said}\n{unit}"
        );

        // The same check fails a unit whose executable is not there: the test can fail.
        launch.program = bin.join("no-such-tandem").to_str().unwrap().into();
        let (ok, said) = verify(&launch);
        assert!(!ok, "a missing executable is reported");
        assert!(said.contains("no-such-tandem"), "{said}");
    }
}
