//! Where tandem's log lines go: standard error for whatever is run by hand, and a file a day in
//! the platform's log directory for `serve --service`, which has no terminal to write to (and
//! whose standard output may end up in a journal the user never reads).
//!
//! The filter is `TANDEM_LOG`, else `RUST_LOG`, in `tracing_subscriber`'s syntax
//! (`info`, `tandem=debug,hyper=warn`). No log line carries a password or a token: the sources of
//! log lines say which account or file is meant, never its secret (`tests/service_logs.rs`).

use std::path::{Path, PathBuf};
use tracing_appender::rolling::{Builder, InitError, Rotation};
use tracing_subscriber::EnvFilter;

/// The log files are `tandem.YYYY-MM-DD.log`, one a day (UTC), and the oldest go once there
/// are more than this: two weeks is enough to look back at a problem without filling a disk.
pub const KEPT_FILES: usize = 14;
pub const FILE_PREFIX: &str = "tandem";
pub const FILE_SUFFIX: &str = "log";

/// Where a process's log lines go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Destination {
    /// Standard error, warnings and errors unless the filter says otherwise.
    Terminal,
    /// The log directory's daily file, from `info` on unless the filter says otherwise.
    File,
}

/// Why the log file cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("cannot find a home directory to keep tandem's logs in; set HOME")]
    NoHome,
    #[error(
        "cannot create the log directory {}: {source}; check that it can be created and written",
        dir.display()
    )]
    Directory {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cannot write logs in {}: {source}; check that the directory can be written",
        dir.display()
    )]
    Create { dir: PathBuf, source: InitError },
}

/// The platform's directory for tandem's logs: `~/.local/state/tandem` on Linux
/// (`$XDG_STATE_HOME`), `~/Library/Logs/tandem` on macOS (where Console looks),
/// `%LOCALAPPDATA%\tandem\data\logs` on Windows.
pub fn log_dir() -> Option<PathBuf> {
    if cfg!(target_os = "macos") {
        return directories::BaseDirs::new().map(|d| d.home_dir().join("Library/Logs/tandem"));
    }
    let project = directories::ProjectDirs::from("", "", "tandem")?;
    Some(match project.state_dir() {
        Some(state) => state.to_path_buf(),
        None => project.data_local_dir().join("logs"),
    })
}

/// The newest log file in `dir`, if there is one.
pub fn latest_file(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| is_log_file(path))
        .max()
}

/// `tandem.2026-06-01.log`: the files the appender writes and prunes.
pub fn is_log_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| {
            name.starts_with(&format!("{FILE_PREFIX}."))
                && name.ends_with(&format!(".{FILE_SUFFIX}"))
        })
}

/// The filter in force: `TANDEM_LOG` wins over `RUST_LOG`; neither set, `default`. A filter
/// that does not parse is said on standard error and the default is used, so a typo never
/// silences the log.
fn filter(default: &str) -> EnvFilter {
    for var in ["TANDEM_LOG", "RUST_LOG"] {
        let Ok(value) = std::env::var(var) else {
            continue;
        };
        if value.trim().is_empty() {
            continue;
        }
        match EnvFilter::try_new(&value) {
            Ok(filter) => return filter,
            Err(e) => {
                eprintln!("tandem: {var}={value} is not a log filter ({e}); logging at {default}")
            }
        }
        break;
    }
    EnvFilter::new(default)
}

/// Send this process's log lines to `destination`. A log file that cannot be written is said on
/// standard error and the lines go there instead: a daemon never refuses to run for its logs.
pub fn init(destination: Destination) {
    if destination == Destination::File {
        match file_appender() {
            Ok(appender) => {
                tracing_subscriber::fmt()
                    .with_env_filter(filter("info"))
                    .with_ansi(false)
                    .with_writer(appender)
                    .init();
                return;
            }
            Err(e) => eprintln!("tandem: {e}; logging to standard error instead"),
        }
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter("warn"))
        .with_writer(std::io::stderr)
        .init();
}

/// Where the `tandem` command about to run logs: only the service writes a file.
pub fn destination(cli: &super::Cli) -> Destination {
    match &cli.command {
        super::Command::Serve(args) if args.service => Destination::File,
        _ => Destination::Terminal,
    }
}

/// A file a day, written as each line comes (no buffer to lose when the process is killed).
fn file_appender() -> Result<tracing_appender::rolling::RollingFileAppender, LogError> {
    let dir = log_dir().ok_or(LogError::NoHome)?;
    // The appender prunes old files before it creates the directory, and says so on stderr.
    if let Err(source) = crate::store::create_private_dir(&dir) {
        return Err(LogError::Directory { dir, source });
    }
    Builder::new()
        .rotation(Rotation::DAILY)
        .filename_prefix(FILE_PREFIX)
        .filename_suffix(FILE_SUFFIX)
        .max_log_files(KEPT_FILES)
        .build(&dir)
        .map_err(|source| LogError::Create { dir, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_appenders_files_count_as_logs() {
        assert!(is_log_file(Path::new("/x/tandem.2026-06-01.log")));
        assert!(!is_log_file(Path::new("/x/launchd.log")));
        assert!(!is_log_file(Path::new("/x/tandem.toml")));
    }

    #[test]
    fn the_newest_log_file_is_the_latest_day() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "tandem.2026-05-31.log",
            "tandem.2026-06-01.log",
            "other.log",
        ] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        assert_eq!(
            latest_file(dir.path()),
            Some(dir.path().join("tandem.2026-06-01.log"))
        );
    }
}
