//! `tandem emulator`: the Salesforce REST API emulator as a command.

use std::net::SocketAddr;
use tandem_salesforce_emulator::{Emulator, EmulatorConfig};

#[derive(clap::Args, Debug)]
pub struct EmulatorArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Seed of the demo org (accounts, contacts, events, tasks); without it the org only has users.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Daily API request allocation (rolling 24 hours).
    #[arg(long, default_value_t = 15_000)]
    pub daily_limit: u64,
    /// Access-token lifetime after the last activity, in minutes.
    #[arg(long, default_value_t = 120)]
    pub token_ttl_minutes: i64,
    /// Rotate refresh tokens (each refresh returns a new one and invalidates the old one).
    #[arg(long)]
    pub rotate_refresh_tokens: bool,
    /// Keep the org in this file: start from it when it exists (--seed is then not used), and
    /// write every change to it.
    #[arg(long, value_name = "FILE")]
    pub org_file: Option<std::path::PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum EmulatorRunError {
    #[error(transparent)]
    Start(#[from] tandem_salesforce_emulator::EmulatorError),
    #[error("cannot wait for Ctrl-C: {0}")]
    Signal(std::io::Error),
}

pub async fn run(args: EmulatorArgs) -> Result<(), EmulatorRunError> {
    let config = EmulatorConfig {
        listen: Some(args.listen),
        seed: args.seed,
        daily_api_limit: args.daily_limit,
        access_token_ttl: chrono::Duration::minutes(args.token_ttl_minutes.max(1)),
        rotate_refresh_tokens: args.rotate_refresh_tokens,
        org_file: args.org_file,
        ..EmulatorConfig::default()
    };
    let handle = Emulator::start(config.clone()).await?;
    println!("Salesforce emulator listening on {}", handle.base_url());
    println!("  login/instance URL: {}", handle.base_url());
    println!("  client_id:          {}", handle.client_id());
    println!("  client_secret:      {}", handle.client_secret());
    println!("  refresh_token:      {}", handle.initial_refresh_token());
    println!("  username:           {}", config.username);
    println!(
        "  control API:        POST {0}/__emulator/faults, GET {0}/__emulator/state",
        handle.base_url()
    );
    tokio::signal::ctrl_c()
        .await
        .map_err(EmulatorRunError::Signal)?;
    handle.shutdown().await;
    Ok(())
}
