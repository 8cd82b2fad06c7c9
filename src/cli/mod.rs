//! The command line. Every command that reads or changes the store becomes the same
//! `app::Request` whether tandem's daemon is running (it is asked over its local API, since redb
//! allows one process) or not (the store is opened here), so the output is the same either way.

pub mod audit;
pub mod browser;
pub mod commands;
pub mod completions;
pub mod demo;
pub mod emulator;
pub mod logging;
pub mod login;
pub mod open;
pub mod serve;
pub mod service;
pub mod sync;

use clap::{Parser, Subcommand};
pub use commands::{Output, StoreCommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "tandem",
    version,
    about = "Keeps your desktop calendar, contacts and tasks in step with Salesforce"
)]
pub struct Cli {
    /// The data directory (store, settings). Defaults to the platform data directory.
    #[arg(long, global = true, env = "TANDEM_DATA", value_name = "DIR")]
    pub data: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run tandem: the CalDAV/CardDAV server for desktop clients, the automatic runs, and the
    /// local API the other commands use while it runs.
    Serve(serve::ServeArgs),
    /// Try tandem without an org: a seeded demo org in the Salesforce emulator, the
    /// CalDAV/CardDAV server on the demo's own data directory, and a first sync run; run again,
    /// it resumes where it stopped. Prints where to connect and how to reach the org.
    Demo(demo::DemoArgs),
    /// Run the Salesforce REST API emulator (with a seeded demo org) until Ctrl-C: for trying
    /// tandem without an org, and for tests and benchmarks.
    Emulator(emulator::EmulatorArgs),
    /// Connect tandem to Salesforce: opens the login page in your browser (and prints its URL),
    /// then stores the tokens in the settings file. With --jwt, logs in with a connected app's
    /// certificate key instead.
    Login(login::LoginArgs),
    /// Append events given as JSON lines on standard input (one draft per line) and print one
    /// acknowledgement per line once each is durable. For scripts and other connectors.
    Ingest,
    #[command(flatten)]
    Store(StoreCommand),
    /// Open the review app in your browser, signed in (tandem must be running).
    Open,
    /// Start tandem at login as a service of this system (systemd, launchd, Task Scheduler),
    /// stop it, or say how it is doing.
    Service(service::ServiceArgs),
    /// Print the shell completion script for bash, zsh, fish, powershell or elvish.
    Completions(completions::CompletionsArgs),
    /// Print tandem's man page (roff), e.g. `tandem man > ~/.local/share/man/man1/tandem.1`;
    /// with --dir, write one for each command too.
    Man(completions::ManArgs),
}

/// Why there is no data directory to work in.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("cannot find a home directory for tandem's data; pass --data DIR")]
    NoHome,
    #[error(
        "{} is a file, not a directory: --data names the directory tandem keeps its store and settings in",
        .0.display()
    )]
    IsAFile(PathBuf),
}

/// The data directory: `--data`, or the platform's. Something there that is not a directory is
/// refused before any command looks inside.
pub fn data_dir(explicit: Option<PathBuf>) -> Result<PathBuf, DataDirError> {
    let dir = match explicit {
        Some(dir) => dir,
        None => directories::ProjectDirs::from("", "", "tandem")
            .map(|dirs| dirs.data_dir().to_path_buf())
            .ok_or(DataDirError::NoHome)?,
    };
    if dir.exists() && !dir.is_dir() {
        return Err(DataDirError::IsAFile(dir));
    }
    Ok(dir)
}

pub async fn run(cli: Cli) -> ExitCode {
    // The demo picks its own directory when none is given.
    let explicit = cli.data.is_some();
    let dir = match data_dir(cli.data) {
        Ok(dir) => dir,
        Err(e) => return fail(e),
    };
    let done = |result: Result<(), Box<dyn std::error::Error>>| match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    };
    match cli.command {
        Command::Serve(args) => done(serve::run(&dir, args).await.map_err(Into::into)),
        Command::Demo(args) => {
            let explicit = explicit.then(|| dir.clone());
            done(demo::run(explicit, args).await.map_err(Into::into))
        }
        Command::Emulator(args) => done(emulator::run(args).await.map_err(Into::into)),
        Command::Login(args) => done(login::run(&dir, args).await.map_err(Into::into)),
        Command::Ingest => done(commands::ingest(&dir).await.map_err(Into::into)),
        Command::Open => done(open::run(&dir).await.map_err(Into::into)),
        Command::Service(args) => done(service::run(&dir, args).await.map_err(Into::into)),
        Command::Completions(args) => done(completions::completions(args).map_err(Into::into)),
        Command::Man(args) => done(completions::man(args).map_err(Into::into)),
        Command::Store(command) => {
            let output = command.run(&dir, true).await;
            print!("{}", output.stdout);
            eprint!("{}", output.stderr);
            ExitCode::from(output.code)
        }
    }
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("tandem: {message}");
    ExitCode::FAILURE
}
