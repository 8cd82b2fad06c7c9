//! The command line. Every command that reads or changes the store runs the same code whether
//! tandem's daemon is running (it is asked over its local API, since redb allows one process) or
//! not (the store is opened directly), so the output is the same either way.

pub mod audit;
pub mod commands;
pub mod demo;
pub mod emulator;
pub mod login;
pub mod sync;
mod timeref;

use crate::daemon;
use clap::{Parser, Subcommand};
pub use commands::{Context, Output, StoreCommand};
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
    /// Run the daemon: own the store and answer the other commands over a local API.
    /// Run tandem: the CalDAV/CardDAV server for desktop clients, and the local API the other
    /// commands use while it runs.
    Serve(daemon::ServeArgs),
    /// Try tandem without an org: a seeded demo org in the Salesforce emulator, the
    /// CalDAV/CardDAV server on a fresh data directory, and a first sync run. Prints the URL,
    /// user and password to give a client.
    Demo(demo::DemoArgs),
    /// Run the Salesforce REST API emulator (with a seeded demo org) until Ctrl-C: for trying
    /// tandem without an org, and for tests and benchmarks.
    Emulator(emulator::EmulatorArgs),
    /// Connect tandem to Salesforce: prints a URL to open, then stores the tokens in the
    /// settings file. With --jwt, logs in with a connected app's certificate key instead.
    Login(login::LoginArgs),
    /// Append events given as JSON lines on standard input (one draft per line) and print one
    /// acknowledgement per line once each is durable. For scripts and other connectors.
    Ingest,
    #[command(flatten)]
    Store(StoreCommand),
}

pub fn data_dir(explicit: Option<PathBuf>) -> Result<PathBuf, String> {
    if let Some(dir) = explicit {
        return Ok(dir);
    }
    directories::ProjectDirs::from("", "", "tandem")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .ok_or_else(|| {
            "cannot find a home directory for tandem's data; pass --data DIR".to_string()
        })
}

pub async fn run(cli: Cli) -> ExitCode {
    let explicit_dir = cli.data.clone();
    let dir = match data_dir(cli.data) {
        Ok(dir) => dir,
        Err(message) => return fail(&message),
    };
    match cli.command {
        Command::Serve(args) => match daemon::serve(&dir, args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => fail(&message),
        },
        Command::Demo(args) => match demo::run(explicit_dir, args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => fail(&message),
        },
        Command::Emulator(args) => match emulator::run(args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => fail(&message),
        },
        Command::Login(args) => match login::run(&dir, args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => fail(&message),
        },
        Command::Ingest => match commands::ingest(&dir).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => fail(&message),
        },
        Command::Store(command) => {
            let output = match daemon::Client::discover(&dir).await {
                Some(client) => match client.run(&command).await {
                    Ok(output) => output,
                    Err(message) => return fail(&message),
                },
                None => match Context::open(&dir, command.access()) {
                    Ok(context) => {
                        let output = commands::execute(&command, &context).await;
                        context.close().await;
                        output
                    }
                    Err(message) => return fail(&message),
                },
            };
            print!("{}", output.stdout);
            eprint!("{}", output.stderr);
            ExitCode::from(output.code)
        }
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("tandem: {message}");
    ExitCode::FAILURE
}
