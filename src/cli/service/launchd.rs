//! macOS: a LaunchAgent, `~/Library/LaunchAgents/local.tandem.plist`. launchd loads every agent
//! there at login (`RunAtLoad` starts it) and starts it again when it exits with a failure
//! (`KeepAlive` / `SuccessfulExit` false).

use super::{Activation, Launch, Manager, ManagerError, ServiceState};
use plist::{Dictionary, Value};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// `local.` is the prefix for agents that belong to no vendor's domain.
pub const LABEL: &str = "local.tandem";
/// launchd sends an agent's standard output and error nowhere unless told: this file, in the log
/// directory, gets what tandem says on start and an error before its log file is open.
pub const OUTPUT_FILE: &str = "launchd.log";
/// Seconds between two starts; launchd's default, said so the restart pace is in the file.
const THROTTLE_SECONDS: i64 = 10;

/// `~/Library/LaunchAgents/local.tandem.plist`.
pub fn plist_file(dirs: &directories::BaseDirs) -> PathBuf {
    dirs.home_dir()
        .join("Library/LaunchAgents")
        .join(format!("{LABEL}.plist"))
}

pub fn render(launch: &Launch) -> Result<Vec<u8>, plist::Error> {
    let arguments = std::iter::once(&launch.program)
        .chain(&launch.args)
        .map(|word| Value::String(word.clone()))
        .collect();
    let output = Path::new(&launch.log_dir).join(OUTPUT_FILE);
    let output = output.to_string_lossy().into_owned();
    let mut keep_alive = Dictionary::new();
    keep_alive.insert("SuccessfulExit".into(), Value::Boolean(false));
    let mut agent = Dictionary::new();
    agent.insert("Label".into(), Value::String(LABEL.into()));
    agent.insert("ProgramArguments".into(), Value::Array(arguments));
    agent.insert("RunAtLoad".into(), Value::Boolean(true));
    agent.insert("KeepAlive".into(), Value::Dictionary(keep_alive));
    agent.insert(
        "ThrottleInterval".into(),
        Value::Integer(THROTTLE_SECONDS.into()),
    );
    agent.insert("StandardOutPath".into(), Value::String(output.clone()));
    agent.insert("StandardErrorPath".into(), Value::String(output));
    let mut bytes = Vec::new();
    Value::Dictionary(agent).to_writer_xml(&mut bytes)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// The user's GUI session, where agents run.
fn domain() -> String {
    format!("gui/{}", uid())
}

fn target() -> String {
    format!("{}/{LABEL}", domain())
}

#[cfg(unix)]
fn uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

#[cfg(not(unix))]
fn uid() -> u32 {
    0
}

/// Unload an older copy (a second install runs the new command), then load this one, which
/// starts it. Without a GUI session (over ssh) loading fails; launchd loads the agent at the next
/// login all the same.
pub fn activate(manager: &Manager, file: &Path) -> Result<(), Activation> {
    let _ = manager.call(["bootout".to_string(), target()]);
    let _ = manager.call(["enable".to_string(), target()]);
    let domain = domain();
    manager
        .call([
            OsStr::new("bootstrap"),
            OsStr::new(&domain),
            file.as_os_str(),
        ])
        .map(drop)
        .map_err(Activation::Unreachable)
}

/// Unload (and so stop) the agent.
pub fn deactivate(manager: &Manager) -> Result<(), ManagerError> {
    manager.call(["bootout".to_string(), target()]).map(drop)
}

/// `launchctl print` knows the agent only while it is loaded, and says whether it runs.
pub fn state(manager: &Manager) -> Result<ServiceState, ManagerError> {
    let output = manager.output(["print".to_string(), target()])?;
    if !output.status.success() {
        return Ok(ServiceState {
            enabled: Some(false),
            running: Some(false),
            said: format!("launchctl: {} is not loaded", target()),
        });
    }
    let printed = String::from_utf8_lossy(&output.stdout);
    let state = printed
        .lines()
        .find_map(|line| line.trim().strip_prefix("state = "))
        .unwrap_or("unknown")
        .to_string();
    Ok(ServiceState {
        enabled: Some(true),
        running: Some(state == "running"),
        said: format!("launchctl: loaded, {state}"),
    })
}

pub fn by_hand(file: &Path) -> String {
    format!("launchctl bootstrap gui/$(id -u) {}", file.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agent_runs_serve_as_a_service_at_login_and_again_after_a_failure() {
        let launch = Launch {
            program: "/Applications/tandem/tandem".into(),
            args: vec![
                "--data".into(),
                "/Users/ana/Library/Application Support/tandem".into(),
                "serve".into(),
                "--service".into(),
            ],
            log_dir: "/Users/ana/Library/Logs/tandem".into(),
        };
        let bytes = render(&launch).unwrap();
        let parsed = Value::from_reader_xml(bytes.as_slice()).unwrap();
        let agent = parsed.as_dictionary().expect("a dictionary");
        assert_eq!(agent["Label"].as_string(), Some(LABEL));
        let arguments: Vec<&str> = agent["ProgramArguments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_string().unwrap())
            .collect();
        assert_eq!(
            arguments,
            [
                "/Applications/tandem/tandem",
                "--data",
                "/Users/ana/Library/Application Support/tandem",
                "serve",
                "--service"
            ]
        );
        assert_eq!(agent["RunAtLoad"].as_boolean(), Some(true));
        let keep_alive = agent["KeepAlive"].as_dictionary().unwrap();
        assert_eq!(keep_alive["SuccessfulExit"].as_boolean(), Some(false));
        assert_eq!(
            agent["StandardErrorPath"].as_string(),
            Some("/Users/ana/Library/Logs/tandem/launchd.log")
        );
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.contains("<!DOCTYPE plist"), "{text}");
    }

    #[test]
    fn the_agent_lives_in_the_users_launch_agents() {
        let dirs = directories::BaseDirs::new().unwrap();
        let file = plist_file(&dirs);
        assert!(file.ends_with("Library/LaunchAgents/local.tandem.plist"));
        assert!(file.starts_with(dirs.home_dir()));
    }
}
