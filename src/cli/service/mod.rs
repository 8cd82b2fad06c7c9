//! `tandem service install | uninstall | status`: start `tandem serve --service` at login with
//! the platform's own service manager — a systemd user unit on Linux, a LaunchAgent on macOS, a
//! logon task of the Task Scheduler on Windows — and take it away again.
//!
//! Each platform's file is a pure function of what to run (`systemd`, `launchd`,
//! `task_scheduler`), tested on every platform; only the calls to the manager are the
//! platform's. The manager's program can be replaced by `TANDEM_SERVICE_MANAGER`, so tests run
//! install and uninstall for real in a scratch home without registering anything.

mod launchd;
mod systemd;
mod task_scheduler;

use super::logging;
use crate::daemon::Client;
use std::ffi::{OsStr, OsString};
use std::io;
use std::path::{Path, PathBuf};
use std::process::Output;

#[derive(clap::Args, Debug)]
pub struct ServiceArgs {
    #[command(subcommand)]
    pub action: ServiceAction,
}

#[derive(clap::Subcommand, Debug)]
pub enum ServiceAction {
    /// Start `tandem serve` on this data directory at every login, and now: a systemd user unit
    /// on Linux, a LaunchAgent on macOS, a logon task on Windows. Run it again after moving
    /// tandem.
    Install,
    /// Stop the service and remove what `install` registered; the data directory and the logs
    /// stay.
    Uninstall,
    /// Say whether the service is installed and enabled, whether tandem serves this data
    /// directory, and where the logs are.
    Status,
}

/// What the service runs: this executable, `--data DIR serve --service`. The files hold text,
/// so every path must be UTF-8.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Launch {
    pub program: String,
    pub args: Vec<String>,
    /// Where `serve --service` writes its log (launchd's own output goes there too).
    pub log_dir: String,
}

impl Launch {
    fn new(exe: &Path, data: &Path, log_dir: &Path) -> Result<Launch, ServiceError> {
        let text = |path: &Path| {
            path.to_str()
                .map(str::to_string)
                .ok_or_else(|| ServiceError::NotUtf8(path.to_path_buf()))
        };
        Ok(Launch {
            program: text(exe)?,
            args: vec![
                "--data".into(),
                text(data)?,
                "serve".into(),
                "--service".into(),
            ],
            log_dir: text(log_dir)?,
        })
    }

    /// The command as a person reads it.
    fn command_line(&self) -> String {
        std::iter::once(&self.program)
            .chain(&self.args)
            .map(|word| {
                if word.contains(' ') {
                    format!("\"{word}\"")
                } else {
                    word.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// What the manager says about the service.
#[derive(Debug)]
pub struct ServiceState {
    /// Started at login.
    pub enabled: Option<bool>,
    /// Running now, if the manager says so in a language tandem reads.
    pub running: Option<bool>,
    /// Its answer, as it gave it.
    pub said: String,
}

/// Why the service could not be made to run now, after its file was written.
#[derive(Debug)]
pub enum Activation {
    /// The manager cannot be reached from here (no user systemd in a container, no GUI session
    /// over ssh): the file is in place for a login where it can.
    Unreachable(ManagerError),
    /// The manager was reached and said no.
    Refused(ManagerError),
}

/// A call to the service manager that did not work.
#[derive(Debug, thiserror::Error)]
pub enum ManagerError {
    #[error("`{command}` could not be run: {source}")]
    NotRun { command: String, source: io::Error },
    #[error("`{command}` failed: {said}")]
    Failed { command: String, said: String },
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("cannot find your home directory, where the service's file goes; set HOME")]
    NoHome,
    #[error("cannot tell where this tandem executable is ({0}); run tandem by its full path")]
    Exe(io::Error),
    #[error("cannot make {} an absolute path: {source}", path.display())]
    Absolute { path: PathBuf, source: io::Error },
    #[error(
        "{} is not valid UTF-8, and the service's file can only name UTF-8 paths: use a data directory (--data) and an install location whose names are",
        .0.display()
    )]
    NotUtf8(PathBuf),
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot remove {}: {source}; remove it by hand", path.display())]
    Remove { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Unit(#[from] systemd::UnsafeProgram),
    #[error("cannot write the LaunchAgent: {0}")]
    Plist(#[from] plist::Error),
    #[error("cannot write the task definition: {0}")]
    Xml(io::Error),
    #[error("{} is written, but {source}; {hint}", file.display())]
    Refused {
        file: PathBuf,
        source: ManagerError,
        hint: String,
    },
}

/// The service manager's command-line program (systemctl, launchctl, schtasks), or the program
/// `TANDEM_SERVICE_MANAGER` names instead: tests give a stand-in that records its arguments, so
/// no test registers anything with the real manager.
pub struct Manager {
    program: OsString,
}

impl Manager {
    fn new(default: &str) -> Manager {
        Manager {
            program: std::env::var_os("TANDEM_SERVICE_MANAGER")
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| default.into()),
        }
    }

    /// Its name as messages show it.
    fn name(&self) -> String {
        Path::new(&self.program).display().to_string()
    }

    fn command_line<S: AsRef<OsStr>>(&self, args: &[S]) -> String {
        std::iter::once(self.name())
            .chain(
                args.iter()
                    .map(|a| a.as_ref().to_string_lossy().into_owned()),
            )
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Run it, whatever its exit status.
    pub fn output<I, S>(&self, args: I) -> Result<Output, ManagerError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<S> = args.into_iter().collect();
        std::process::Command::new(&self.program)
            .args(&args)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|source| ManagerError::NotRun {
                command: self.command_line(&args),
                source,
            })
    }

    /// Run it; a non-zero exit status is an error carrying what it said.
    pub fn call<I, S>(&self, args: I) -> Result<String, ManagerError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<S> = args.into_iter().collect();
        let output = self.output(&args)?;
        if !output.status.success() {
            return Err(self.failed(&args, &output));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    pub fn failed<S: AsRef<OsStr>>(&self, args: &[S], output: &Output) -> ManagerError {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let said = [stderr.trim(), stdout.trim()]
            .into_iter()
            .find(|text| !text.is_empty())
            .map(|text| text.lines().collect::<Vec<_>>().join("; "))
            .unwrap_or_else(|| output.status.to_string());
        ManagerError::Failed {
            command: self.command_line(args),
            said,
        }
    }
}

/// The service managers tandem registers with.
#[derive(Clone, Copy, Debug)]
enum Platform {
    Systemd,
    Launchd,
    TaskScheduler,
}

impl Platform {
    /// macOS and Windows have theirs; everything else is taken to have systemd (where it has
    /// not, install says that systemctl could not be run).
    fn current() -> Platform {
        if cfg!(target_os = "macos") {
            Platform::Launchd
        } else if cfg!(windows) {
            Platform::TaskScheduler
        } else {
            Platform::Systemd
        }
    }

    fn what(self) -> &'static str {
        match self {
            Platform::Systemd => "systemd user unit",
            Platform::Launchd => "LaunchAgent",
            Platform::TaskScheduler => "Task Scheduler logon task, defined in",
        }
    }

    fn manager(self) -> Manager {
        Manager::new(match self {
            Platform::Systemd => "systemctl",
            Platform::Launchd => "launchctl",
            Platform::TaskScheduler => "schtasks",
        })
    }

    fn file(self) -> Result<PathBuf, ServiceError> {
        match self {
            Platform::Systemd | Platform::Launchd => {
                let dirs = directories::BaseDirs::new().ok_or(ServiceError::NoHome)?;
                Ok(match self {
                    Platform::Systemd => systemd::unit_file(&dirs),
                    _ => launchd::plist_file(&dirs),
                })
            }
            Platform::TaskScheduler => directories::ProjectDirs::from("", "", "tandem")
                .map(|dirs| task_scheduler::task_file(&dirs))
                .ok_or(ServiceError::NoHome),
        }
    }

    fn render(self, launch: &Launch) -> Result<Vec<u8>, ServiceError> {
        Ok(match self {
            Platform::Systemd => systemd::render(launch)?.into_bytes(),
            Platform::Launchd => launchd::render(launch)?,
            Platform::TaskScheduler => {
                let user = task_scheduler::current_user();
                let xml =
                    task_scheduler::render(launch, user.as_deref()).map_err(ServiceError::Xml)?;
                task_scheduler::encode(&xml)
            }
        })
    }

    fn activate(self, manager: &Manager, file: &Path) -> Result<(), Activation> {
        match self {
            Platform::Systemd => systemd::activate(manager),
            Platform::Launchd => launchd::activate(manager, file),
            Platform::TaskScheduler => task_scheduler::activate(manager, file),
        }
    }

    fn deactivate(self, manager: &Manager) -> Result<(), ManagerError> {
        match self {
            Platform::Systemd => systemd::deactivate(manager),
            Platform::Launchd => launchd::deactivate(manager),
            Platform::TaskScheduler => task_scheduler::deactivate(manager),
        }
    }

    /// After the file is gone: the manager forgets it too.
    fn forget(self, manager: &Manager) {
        if let Platform::Systemd = self {
            let _ = systemd::forget(manager);
        }
    }

    fn state(self, manager: &Manager) -> Result<ServiceState, ManagerError> {
        match self {
            Platform::Systemd => systemd::state(manager),
            Platform::Launchd => launchd::state(manager),
            Platform::TaskScheduler => task_scheduler::state(manager),
        }
    }

    /// How to do by hand what install could not.
    fn by_hand(self, file: &Path) -> String {
        match self {
            Platform::Systemd => systemd::by_hand(),
            Platform::Launchd => launchd::by_hand(file),
            Platform::TaskScheduler => task_scheduler::by_hand(file),
        }
    }

    /// When the manager could not start it now: what happens anyway, and what to do.
    fn meanwhile(self) -> &'static str {
        match self {
            Platform::Systemd => {
                "In a login session with a user systemd, run `tandem service install` again, or"
            }
            Platform::Launchd => {
                "launchd loads it at your next login all the same; to load it now, from your login session, run"
            }
            Platform::TaskScheduler => {
                "From your own Windows session, run `tandem service install` again, or"
            }
        }
    }

    /// What to do when the manager was reached and refused.
    fn hint(self) -> &'static str {
        match self {
            Platform::Systemd => "`systemctl --user status tandem.service` says why",
            Platform::Launchd => "`launchctl print gui/$(id -u)/local.tandem` says why",
            Platform::TaskScheduler => "Task Scheduler's History for the task `tandem` says why",
        }
    }

    /// Where the service's own output goes (what serve says on start, an error before its log
    /// file is open), if anywhere.
    fn output(self, log_dir: &Path) -> Option<String> {
        match self {
            Platform::Systemd => Some(systemd::OUTPUT.to_string()),
            Platform::Launchd => Some(log_dir.join(launchd::OUTPUT_FILE).display().to_string()),
            Platform::TaskScheduler => None,
        }
    }
}

pub async fn run(dir: &Path, args: ServiceArgs) -> Result<(), ServiceError> {
    let platform = Platform::current();
    let data = std::path::absolute(dir).map_err(|source| ServiceError::Absolute {
        path: dir.to_path_buf(),
        source,
    })?;
    let log_dir = logging::log_dir().ok_or(ServiceError::NoHome)?;
    match args.action {
        ServiceAction::Install => install(platform, &data, &log_dir).await,
        ServiceAction::Uninstall => uninstall(platform, &log_dir),
        ServiceAction::Status => status(platform, &data, &log_dir).await,
    }
}

async fn install(platform: Platform, data: &Path, log_dir: &Path) -> Result<(), ServiceError> {
    let exe = std::env::current_exe().map_err(ServiceError::Exe)?;
    let launch = Launch::new(&exe, data, log_dir)?;
    let file = platform.file()?;
    let bytes = platform.render(&launch)?;
    let write = |path: &Path, source| ServiceError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent).map_err(|e| write(parent, e))?;
    }
    std::fs::write(&file, bytes).map_err(|e| write(&file, e))?;
    // launchd opens its output file there before tandem runs.
    std::fs::create_dir_all(log_dir).map_err(|e| write(log_dir, e))?;
    println!(
        "Installed the {} {}: at every login it runs\n  {}\nand starts it again after a failure.",
        platform.what(),
        file.display(),
        launch.command_line()
    );
    let manager = platform.manager();
    match platform.activate(&manager, &file) {
        Ok(()) => println!("Enabled, and started now."),
        Err(Activation::Unreachable(e)) => println!(
            "It could not be enabled or started now: {e}.\n{}:\n  {}\nUntil then, `tandem serve` runs tandem by hand.",
            platform.meanwhile(),
            platform.by_hand(&file)
        ),
        Err(Activation::Refused(source)) => {
            return Err(ServiceError::Refused {
                file,
                source,
                hint: platform.hint().to_string(),
            });
        }
    }
    println!("{}", logs_line(platform, log_dir));
    if let Some(running) = Client::discover(data).await {
        println!(
            "Note: a tandem serve already runs for {} (CalDAV/CardDAV at {}); the service takes over once it stops.",
            data.display(),
            running.dav_url()
        );
    }
    Ok(())
}

/// Stop and unregister the service, then remove its file; nothing else (not the data
/// directory, not the logs).
fn uninstall(platform: Platform, log_dir: &Path) -> Result<(), ServiceError> {
    let file = platform.file()?;
    if !file.exists() {
        println!(
            "The service is not installed ({} does not exist); nothing changed.",
            file.display()
        );
        return Ok(());
    }
    let manager = platform.manager();
    let stopped = platform.deactivate(&manager);
    std::fs::remove_file(&file).map_err(|source| ServiceError::Remove {
        path: file.clone(),
        source,
    })?;
    platform.forget(&manager);
    let kept = format!(
        "The data directory and the logs in {} are kept.",
        log_dir.display()
    );
    match stopped {
        Ok(()) => println!("Stopped the service and removed {}. {kept}", file.display()),
        Err(e) => println!(
            "Removed {}; it could not be stopped through {}: {e}. {kept}",
            file.display(),
            manager.name()
        ),
    }
    Ok(())
}

async fn status(platform: Platform, data: &Path, log_dir: &Path) -> Result<(), ServiceError> {
    let file = platform.file()?;
    if file.exists() {
        println!("Installed: the {} {}.", platform.what(), file.display());
        let manager = platform.manager();
        match platform.state(&manager) {
            Ok(state) => println!(
                "Enabled at login: {}; running: {} ({}).",
                yes_no(state.enabled),
                yes_no(state.running),
                state.said
            ),
            Err(e) => println!("Whether it is enabled and running is not known: {e}."),
        }
    } else {
        println!(
            "Not installed: there is no {} {}; `tandem service install` installs it.",
            platform.what(),
            file.display()
        );
    }
    match Client::discover(data).await {
        Some(running) => println!(
            "tandem serve answers for {}: CalDAV/CardDAV at {}.",
            data.display(),
            running.dav_url()
        ),
        None => println!("No tandem serve runs for {}.", data.display()),
    }
    println!("{}", logs_line(platform, log_dir));
    Ok(())
}

fn yes_no(answer: Option<bool>) -> &'static str {
    match answer {
        Some(true) => "yes",
        Some(false) => "no",
        None => "not known",
    }
}

/// Where the service's logs are, the newest file if there is one, and where its own output goes.
fn logs_line(platform: Platform, log_dir: &Path) -> String {
    let newest = match logging::latest_file(log_dir) {
        Some(file) => format!("newest {}", file.display()),
        None => "none yet".into(),
    };
    let mut line = format!(
        "Logs: {} ({}.YYYY-MM-DD.{}, one a day, the last {} kept; {newest}).",
        log_dir.display(),
        logging::FILE_PREFIX,
        logging::FILE_SUFFIX,
        logging::KEPT_FILES
    );
    if let Some(output) = platform.output(log_dir) {
        line.push_str(&format!(
            "\nWhat the service prints on start, and an error before its log is open: {output}."
        ));
    }
    line
}
