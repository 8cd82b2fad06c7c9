//! Signing tandem in to Outlook: in a browser (authorization code with PKCE, back to a loopback
//! address) or with a device code typed on any device. The tokens prove themselves on the
//! mailbox before anything is saved; then the app, the endpoints and the refresh token go to the
//! `[outlook]` section of the settings file (mode 0600).

use super::AppError;
use crate::config::OutlookSettings;
use crate::outlook::OutlookError;
use crate::outlook::signin::{Authority, CodeSignIn, DeviceCode, TokenFile, Tokens};
use std::path::{Path, PathBuf};

/// Where and as which app to sign in; what is not given comes from the settings.
#[derive(Clone, Debug, Default)]
pub struct OutlookSignInArgs {
    pub login_url: Option<String>,
    pub tenant: Option<String>,
    pub graph_url: Option<String>,
    pub client_id: Option<String>,
    pub callback_url: Option<String>,
}

/// A sign-in under way.
pub struct OutlookSignIn {
    settings: OutlookSettings,
    authority: Authority,
    file: TokenFile,
    http: reqwest::Client,
}

impl OutlookSignIn {
    pub fn prepare(dir: &Path, args: &OutlookSignInArgs) -> Result<OutlookSignIn, AppError> {
        let mut settings = crate::config::Settings::load(dir)?.outlook;
        let set = |target: &mut String, value: &Option<String>| {
            if let Some(value) = value {
                *target = value.trim_end_matches('/').to_string();
            }
        };
        set(&mut settings.login_url, &args.login_url);
        set(&mut settings.tenant, &args.tenant);
        set(&mut settings.graph_url, &args.graph_url);
        if let Some(url) = &args.callback_url {
            settings.callback_url = url.clone();
        }
        if let Some(id) = &args.client_id {
            settings.client_id = Some(id.clone());
        }
        settings.check()?;
        if settings.client_id.is_none() {
            return Err(AppError::NoOutlookApp);
        }
        let authority = Authority::of(&settings)?;
        Ok(OutlookSignIn {
            settings,
            authority,
            file: TokenFile::in_dir(dir),
            http: reqwest::Client::new(),
        })
    }

    /// Start the browser flow: the page to open, and what waits for the browser to come back.
    pub async fn browser(&self) -> Result<CodeSignIn, AppError> {
        Ok(CodeSignIn::start(self.authority.clone(), &self.settings.callback_url).await?)
    }

    /// Start the device code flow: what to tell the user.
    pub async fn device_code(&self) -> Result<DeviceCode, AppError> {
        Ok(DeviceCode::start(&self.http, &self.authority).await?)
    }

    /// Wait for the user to enter the device code.
    pub async fn finish_device(&self, code: &DeviceCode) -> Result<PathBuf, AppError> {
        let tokens = code.finish(&self.http, &self.authority).await?;
        self.save(tokens).await
    }

    /// Wait for the browser to come back.
    pub async fn finish_browser(&self, flow: CodeSignIn) -> Result<PathBuf, AppError> {
        let tokens = flow.finish(&self.http).await?;
        self.save(tokens).await
    }

    /// Prove the tokens on the mailbox, then keep them; the settings file's path.
    async fn save(&self, tokens: Tokens) -> Result<PathBuf, AppError> {
        let refresh = tokens
            .refresh_token
            .as_deref()
            .ok_or_else(|| OutlookError::SignIn {
                error: "no_refresh_token".into(),
                description:
                    "the platform gave no refresh token (the app must allow offline_access)".into(),
            })?;
        let probe = format!(
            "{}/v1.0/me/contactFolders",
            self.settings.graph_url.trim_end_matches('/')
        );
        let answer = self
            .http
            .get(&probe)
            .bearer_auth(&tokens.access_token)
            .header("Prefer", "IdType=\"ImmutableId\"")
            .send()
            .await
            .map_err(OutlookError::Unreachable)?;
        if !answer.status().is_success() {
            return Err(OutlookError::SignIn {
                error: format!("HTTP {}", answer.status().as_u16()),
                description: format!(
                    "the mailbox refused the new token ({}); check that the app may read contacts",
                    answer
                        .text()
                        .await
                        .unwrap_or_default()
                        .chars()
                        .take(200)
                        .collect::<String>()
                ),
            }
            .into());
        }
        let s = &self.settings;
        self.file.set(&[
            ("login_url", Some(s.login_url.as_str())),
            ("tenant", Some(s.tenant.as_str())),
            ("graph_url", Some(s.graph_url.as_str())),
            ("client_id", s.client_id.as_deref()),
            ("callback_url", Some(s.callback_url.as_str())),
            ("refresh_token", Some(refresh)),
        ])?;
        Ok(self.file.path().to_path_buf())
    }
}
