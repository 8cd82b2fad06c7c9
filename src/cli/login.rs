//! `tandem login`: connects tandem to a Salesforce org and stores the tokens in the settings
//! file, by the web-server flow (the login page opened in the user's browser, and a callback on
//! 127.0.0.1) or the JWT bearer flow.

use crate::app::{AppError, JwtSignIn, SignInArgs, WebSignIn};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct LoginArgs {
    /// Where to log in: https://login.salesforce.com, https://test.salesforce.com (sandboxes) or
    /// your My Domain URL. Defaults to [salesforce] login_url.
    #[arg(long, value_name = "URL")]
    pub login_url: Option<String>,
    /// The connected app's consumer key. Defaults to [salesforce] client_id.
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// The connected app's consumer secret, if it requires one (kept in the settings file).
    #[arg(long, env = "TANDEM_SALESFORCE_CLIENT_SECRET", value_name = "SECRET")]
    pub client_secret: Option<String>,
    /// Log in with the JWT bearer flow, signing with this RSA private key (PEM).
    #[arg(long, value_name = "KEYFILE", requires = "username")]
    pub jwt: Option<PathBuf>,
    /// The Salesforce username (for --jwt).
    #[arg(long, value_name = "U")]
    pub username: Option<String>,
    /// The callback URL registered in the connected app, on this machine (default [salesforce]
    /// callback_url, http://localhost:1717/callback).
    #[arg(long, value_name = "URL")]
    pub callback: Option<String>,
    /// How long to wait for the browser to come back, in seconds.
    #[arg(long, default_value_t = 600)]
    pub wait_seconds: u64,
}

pub async fn run(dir: &Path, args: LoginArgs) -> Result<(), AppError> {
    let sign_in = SignInArgs {
        login_url: args.login_url,
        client_id: args.client_id,
        client_secret: args.client_secret,
        callback_url: args.callback,
    };
    if let (Some(key), Some(username)) = (&args.jwt, &args.username) {
        let signed = JwtSignIn::run(dir, &sign_in, key, username).await?;
        println!(
            "Logged in to {} with the JWT bearer flow; settings saved in {}.",
            signed.instance_url,
            signed.settings_file.display()
        );
        return Ok(());
    }
    let login = WebSignIn::start(dir, &sign_in).await?;
    let url = login.authorize_url();
    println!("Open this URL in a browser and log in to Salesforce:");
    println!("{url}");
    if super::browser::open(url) {
        println!("(It is opening in your browser.)");
    }
    println!(
        "Waiting up to {} for the browser to come back to {} (the connected app's callback URL); Ctrl-C stops.",
        duration(args.wait_seconds),
        login.redirect_uri()
    );
    let _ = std::io::stdout().flush();
    if let Some(why) = login.reachable().await {
        println!(
            "Note: {} cannot be reached from this machine ({why}); a browser here will not get there either. Check the network.",
            login.login_url()
        );
        let _ = std::io::stdout().flush();
    }
    let signed = login.finish(Duration::from_secs(args.wait_seconds)).await?;
    println!(
        "Logged in to {}; the refresh token is saved in {} (mode 0600).",
        signed.instance_url,
        signed.settings_file.display()
    );
    Ok(())
}

/// "10 minutes", "45 seconds".
fn duration(seconds: u64) -> String {
    match seconds {
        s if s >= 120 && s % 60 == 0 => format!("{} minutes", s / 60),
        1 => "1 second".into(),
        s => format!("{s} seconds"),
    }
}
