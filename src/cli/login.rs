//! `tandem login`: connects tandem to a Salesforce org and stores the tokens in the settings
//! file, by the web-server flow (a browser and a callback on 127.0.0.1) or the JWT bearer flow.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::salesforce::client::{CredentialsFile, SalesforceClient, WebLogin, http::http_client};

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
    /// How long to wait for the browser to come back, in seconds.
    #[arg(long, default_value_t = 600)]
    pub wait_seconds: u64,
}

pub async fn run(dir: &Path, args: LoginArgs) -> Result<(), String> {
    let file = CredentialsFile::in_dir(dir);
    let mut settings = file.load().map_err(|e| e.to_string())?;
    if let Some(url) = &args.login_url {
        settings.login_url = url.trim_end_matches('/').to_string();
    }
    if let Some(id) = &args.client_id {
        settings.client_id = Some(id.clone());
    }
    if let Some(secret) = &args.client_secret {
        settings.client_secret = Some(secret.clone());
    }
    settings
        .check()
        .map_err(|e| format!("{e} (from --login-url or the settings file)"))?;
    let client_id = settings
        .client_id
        .clone()
        .ok_or("no connected app given: pass --client-id <consumer key>")?;

    if let Some(key) = &args.jwt {
        let key = std::path::absolute(key)
            .map_err(|e| format!("cannot resolve the key file {}: {e}", key.display()))?;
        settings.jwt_key_file = Some(key.clone());
        settings.username = args.username.clone();
        settings.refresh_token = None;
        // Prove the key and the pre-authorization work before saving anything.
        let client = SalesforceClient::new(settings.clone(), None).map_err(|e| e.to_string())?;
        let token = client.session().token().await.map_err(|e| e.to_string())?;
        let key_text = key.to_string_lossy();
        file.set(&[
            ("login_url", Some(settings.login_url.as_str())),
            ("client_id", Some(client_id.as_str())),
            ("client_secret", settings.client_secret.as_deref()),
            ("username", settings.username.as_deref()),
            ("jwt_key_file", Some(key_text.as_ref())),
            ("refresh_token", None),
            ("instance_url", Some(token.instance_url.as_str())),
        ])
        .map_err(|e| e.to_string())?;
        println!(
            "Logged in to {} with the JWT bearer flow; settings saved in {}.",
            token.instance_url,
            file.path().display()
        );
        return Ok(());
    }

    let login = WebLogin::start(&settings.login_url, &client_id)
        .await
        .map_err(|e| e.to_string())?;
    println!("Open this URL in a browser and log in to Salesforce:");
    println!("{}", login.authorize_url());
    println!(
        "(waiting for the browser to come back to {})",
        login.redirect_uri()
    );
    let _ = std::io::stdout().flush();
    let http = http_client(&settings).map_err(|e| e.to_string())?;
    let tokens = tokio::time::timeout(
        Duration::from_secs(args.wait_seconds.max(1)),
        login.finish(&http, settings.client_secret.as_deref()),
    )
    .await
    .map_err(|_| "the browser did not come back in time; run `tandem login` again".to_string())?
    .map_err(|e| e.to_string())?;
    let refresh = tokens.refresh_token.as_deref().ok_or(
        "Salesforce gave no refresh token: add the `refresh_token` scope to the connected app and run `tandem login` again",
    )?;
    file.set(&[
        ("login_url", Some(settings.login_url.as_str())),
        ("client_id", Some(client_id.as_str())),
        ("client_secret", settings.client_secret.as_deref()),
        ("refresh_token", Some(refresh)),
        ("instance_url", Some(tokens.instance_url.as_str())),
        ("jwt_key_file", None),
    ])
    .map_err(|e| e.to_string())?;
    println!(
        "Logged in to {}; the refresh token is saved in {} (mode 0600).",
        tokens.instance_url,
        file.path().display()
    );
    Ok(())
}
