//! `tandem serve`: the daemon, with its options from the command line.

use crate::daemon::{self, DaemonError, ServeOptions};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address of the CalDAV/CardDAV server. A loopback address unless TLS is configured:
    /// passwords never cross a network in the clear.
    #[arg(long, default_value = "127.0.0.1:5232")]
    pub listen: SocketAddr,
    /// PEM certificate chain for HTTPS (default: [server] tls_cert in tandem.toml).
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for HTTPS (default: [server] tls_key in tandem.toml).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// User name for the CalDAV/CardDAV server (default: [server] user in tandem.toml).
    #[arg(long)]
    pub user: Option<String>,
    /// Password for the CalDAV/CardDAV server (default: [server] password in tandem.toml,
    /// generated on first start).
    #[arg(long)]
    pub password: Option<String>,
    /// Run as the login service `tandem service install` registers: log to a file in the
    /// platform's log directory instead of the terminal, and do not print the password.
    #[arg(long)]
    pub service: bool,
}

pub async fn run(dir: &Path, args: ServeArgs) -> Result<(), DaemonError> {
    let service = args.service;
    let served = daemon::serve(
        dir,
        ServeOptions {
            listen: args.listen,
            tls_cert: args.tls_cert,
            tls_key: args.tls_key,
            user: args.user,
            password: args.password,
            quiet: false,
            hide_password: service,
        },
    )
    .await;
    // A service's standard error may go nowhere (a Windows logon task): its log says why it
    // stopped too.
    if let Err(e) = &served
        && service
    {
        tracing::error!("tandem serve stopped: {e}");
    }
    served
}
