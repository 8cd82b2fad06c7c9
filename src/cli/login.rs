//! `tandem login`: connects tandem to a Salesforce org and stores the tokens in the settings
//! file, by the web-server flow (the login page opened in the user's browser, and a callback on
//! 127.0.0.1) or the JWT bearer flow. `tandem login outlook` signs in to Outlook (Microsoft
//! Graph) in a browser, or with `--device-code` on a machine without one. `tandem login notes`
//! logs in to the Domino REST API with the user's name and HTTP password.

use crate::app::{
    AppError, JwtSignIn, NotesSignInArgs, OutlookSignIn, OutlookSignInArgs, SignInArgs, WebSignIn,
};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What to sign in to.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Service {
    #[default]
    Salesforce,
    Outlook,
    Notes,
}

#[derive(clap::Args, Debug)]
pub struct LoginArgs {
    /// What to sign in to: salesforce (the default), outlook or notes.
    #[arg(value_enum, default_value_t = Service::Salesforce)]
    pub service: Service,
    /// Outlook: sign in with a code typed on any device instead of a browser on this machine.
    #[arg(long)]
    pub device_code: bool,
    /// Outlook: the directory (tenant id, `organizations` or `common`). Defaults to [outlook]
    /// tenant.
    #[arg(long, value_name = "TENANT")]
    pub tenant: Option<String>,
    /// Outlook: Microsoft Graph's address. Defaults to [outlook] graph_url.
    #[arg(long, value_name = "URL")]
    pub graph_url: Option<String>,
    /// Notes: the Domino REST API's address, such as https://mail.example.com:8880. Defaults
    /// to [notes] url.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Notes: the REST API scope of your mail file. Defaults to [notes] data_source ("mail").
    #[arg(long, value_name = "SCOPE")]
    pub data_source: Option<String>,
    /// Notes: your HTTP password; asked for when not given.
    #[arg(
        long,
        env = "TANDEM_NOTES_PASSWORD",
        hide_env_values = true,
        value_name = "PASSWORD"
    )]
    pub notes_password: Option<String>,
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
    /// The Salesforce username (for --jwt), or the Notes user name.
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
    match args.service {
        Service::Outlook => return outlook(dir, args).await,
        Service::Notes => return notes(dir, args).await,
        Service::Salesforce => {}
    }
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

async fn notes(dir: &Path, args: LoginArgs) -> Result<(), AppError> {
    let password = match args.notes_password {
        Some(password) => Some(password),
        None => Some(
            rpassword::prompt_password("Notes HTTP password: ")
                .map_err(|_| AppError::NoNotesAccount)?,
        ),
    };
    let signed = crate::app::notes_sign_in(
        dir,
        &NotesSignInArgs {
            url: args.url,
            username: args.username,
            password,
            data_source: args.data_source,
        },
    )
    .await?;
    println!(
        "Signed in to Notes; the account is saved in {} (mode 0600). {} The next sync run includes Notes.",
        signed.settings_file.display(),
        crate::app::notes_reach_text(&signed.reach)
    );
    Ok(())
}

async fn outlook(dir: &Path, args: LoginArgs) -> Result<(), AppError> {
    let sign_in = OutlookSignIn::prepare(
        dir,
        &OutlookSignInArgs {
            login_url: args.login_url,
            tenant: args.tenant,
            graph_url: args.graph_url,
            client_id: args.client_id,
            callback_url: args.callback,
        },
    )?;
    let wait = Duration::from_secs(args.wait_seconds);
    let saved = if args.device_code {
        let code = sign_in.device_code().await?;
        println!("{}", code.message);
        let _ = std::io::stdout().flush();
        tokio::time::timeout(wait, sign_in.finish_device(&code))
            .await
            .map_err(|_| timed_out(args.wait_seconds))??
    } else {
        let flow = sign_in.browser().await?;
        println!("Open this URL in a browser and sign in to Outlook:");
        println!("{}", flow.authorize_url());
        if super::browser::open(flow.authorize_url()) {
            println!("(It is opening in your browser.)");
        }
        let _ = std::io::stdout().flush();
        tokio::time::timeout(wait, sign_in.finish_browser(flow))
            .await
            .map_err(|_| timed_out(args.wait_seconds))??
    };
    println!(
        "Signed in to Outlook; the refresh token is saved in {} (mode 0600). The next sync run includes Outlook.",
        saved.display()
    );
    Ok(())
}

fn timed_out(seconds: u64) -> AppError {
    AppError::OutlookSignInTimedOut(duration(seconds))
}

/// "10 minutes", "45 seconds".
fn duration(seconds: u64) -> String {
    match seconds {
        s if s >= 120 && s % 60 == 0 => format!("{} minutes", s / 60),
        1 => "1 second".into(),
        s => format!("{s} seconds"),
    }
}
