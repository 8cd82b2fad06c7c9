//! The `tandem` command.

use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = tandem::cli::Cli::parse();
    tandem::cli::logging::init(tandem::cli::logging::destination(&cli));
    tandem::cli::run(cli).await
}
