//! Signing tandem in to Salesforce: the web-server flow (a browser, and a callback on
//! 127.0.0.1) or the JWT bearer flow (a connected app's certificate key). Either proves itself
//! before anything is saved, then keeps the connection in the settings file (mode 0600).

use super::AppError;
use crate::config::SalesforceSettings;
use crate::salesforce::client::{CredentialsFile, SalesforceClient, WebLogin, http::http_client};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where and as which connected app to sign in; what is not given comes from the settings.
#[derive(Clone, Debug, Default)]
pub struct SignInArgs {
    pub login_url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// The callback URL registered in the connected app (default `[salesforce] callback_url`).
    pub callback_url: Option<String>,
}

/// What a sign-in saved.
#[derive(Clone, Debug, PartialEq)]
pub struct SignedIn {
    pub instance_url: String,
    pub settings_file: PathBuf,
}

/// The settings of `dir` with the arguments laid over them, checked.
fn prepare(
    dir: &Path,
    args: &SignInArgs,
) -> Result<(CredentialsFile, SalesforceSettings, String), AppError> {
    let file = CredentialsFile::in_dir(dir);
    let mut settings = file.load()?;
    if let Some(url) = &args.login_url {
        settings.login_url = url.trim_end_matches('/').to_string();
    }
    if let Some(id) = &args.client_id {
        settings.client_id = Some(id.clone());
    }
    if let Some(secret) = &args.client_secret {
        settings.client_secret = Some(secret.clone());
    }
    if let Some(url) = &args.callback_url {
        settings.callback_url = url.clone();
    }
    settings.check()?;
    let client_id = settings
        .client_id
        .clone()
        .ok_or_else(|| AppError::NoConnectedApp {
            callback: settings.callback_url.clone(),
        })?;
    Ok((file, settings, client_id))
}

/// The JWT bearer flow, signing with `key` (PEM) as `username`.
pub struct JwtSignIn;

impl JwtSignIn {
    pub async fn run(
        dir: &Path,
        args: &SignInArgs,
        key: &Path,
        username: &str,
    ) -> Result<SignedIn, AppError> {
        let (file, mut settings, client_id) = prepare(dir, args)?;
        let key = std::path::absolute(key).map_err(|e| AppError::Io(key.to_path_buf(), e))?;
        settings.jwt_key_file = Some(key.clone());
        settings.username = Some(username.to_string());
        settings.refresh_token = None;
        // Prove the key and the pre-authorization work before saving anything.
        let client = SalesforceClient::new(settings.clone(), None)?;
        let token = client.session().token().await?;
        let key_text = key.to_string_lossy();
        file.set(&[
            ("login_url", Some(settings.login_url.as_str())),
            ("client_id", Some(client_id.as_str())),
            ("client_secret", settings.client_secret.as_deref()),
            ("username", Some(username)),
            ("jwt_key_file", Some(key_text.as_ref())),
            ("refresh_token", None),
            ("instance_url", Some(token.instance_url.as_str())),
        ])?;
        Ok(SignedIn {
            instance_url: token.instance_url.clone(),
            settings_file: file.path().to_path_buf(),
        })
    }
}

/// The web-server flow, started: the user opens [`WebSignIn::authorize_url`] in a browser.
pub struct WebSignIn {
    login: WebLogin,
    file: CredentialsFile,
    settings: SalesforceSettings,
    client_id: String,
}

impl WebSignIn {
    pub async fn start(dir: &Path, args: &SignInArgs) -> Result<WebSignIn, AppError> {
        let (file, settings, client_id) = prepare(dir, args)?;
        let login =
            WebLogin::start(&settings.login_url, &client_id, &settings.callback_url).await?;
        Ok(WebSignIn {
            login,
            file,
            settings,
            client_id,
        })
    }

    pub fn authorize_url(&self) -> &str {
        self.login.authorize_url()
    }

    pub fn redirect_uri(&self) -> &str {
        self.login.redirect_uri()
    }

    /// Whether this machine reaches the login page at all (the browser must, too): `None` when
    /// it does, else why not. A quick look, so a login with no network says so at once.
    pub async fn reachable(&self) -> Option<String> {
        let http = http_client(&self.settings).ok()?;
        let probe = http.head(&self.settings.login_url).send();
        match tokio::time::timeout(Duration::from_secs(5), probe).await {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some("no answer within 5 seconds".into()),
        }
    }

    pub fn login_url(&self) -> &str {
        &self.settings.login_url
    }

    /// Wait (at most `wait`) for the browser to come back, then save the refresh token.
    pub async fn finish(self, wait: Duration) -> Result<SignedIn, AppError> {
        let http = http_client(&self.settings)?;
        let tokens = tokio::time::timeout(
            wait.max(Duration::from_secs(1)),
            self.login
                .finish(&http, self.settings.client_secret.as_deref()),
        )
        .await
        .map_err(|_| AppError::SignInTimedOut)??;
        let refresh = tokens
            .refresh_token
            .as_deref()
            .ok_or(AppError::NoRefreshToken)?;
        self.file.set(&[
            ("login_url", Some(self.settings.login_url.as_str())),
            ("client_id", Some(self.client_id.as_str())),
            ("client_secret", self.settings.client_secret.as_deref()),
            ("refresh_token", Some(refresh)),
            ("instance_url", Some(tokens.instance_url.as_str())),
            ("jwt_key_file", None),
        ])?;
        // A callback other than the default is kept: the next login must listen there too.
        if self.settings.callback_url != crate::config::DEFAULT_CALLBACK {
            self.file
                .set(&[("callback_url", Some(self.settings.callback_url.as_str()))])?;
        }
        Ok(SignedIn {
            instance_url: tokens.instance_url.clone(),
            settings_file: self.file.path().to_path_buf(),
        })
    }
}

/// Forget the Salesforce connection: the tokens (and a JWT key's user) go, the connected app
/// stays, so connecting again is one step. Runs say Salesforce is not connected until then.
pub fn sign_out(dir: &Path) -> Result<(), AppError> {
    CredentialsFile::in_dir(dir).set(&[
        ("refresh_token", None),
        ("instance_url", None),
        ("jwt_key_file", None),
        ("username", None),
    ])?;
    Ok(())
}
