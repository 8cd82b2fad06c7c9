//! Signing in to Outlook with the Microsoft identity platform, as a public client (no secret):
//! the authorization code flow with PKCE on a loopback redirect, or the device code flow for a
//! machine without a browser. The refresh token is replaced on every use, and the new one is
//! saved before the access token it came with is used: a crash can lose an access token, never
//! the only refresh token that still works.

use super::OutlookError;
use crate::config::OutlookSettings;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

/// What tandem asks the user to allow, and why (README, "Outlook"): read and write contacts,
/// calendars and To Do tasks, and stay signed in between runs.
pub const SCOPES: &str = "offline_access Contacts.ReadWrite Calendars.ReadWrite Tasks.ReadWrite";

/// The token endpoint's answer.
#[derive(Clone, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub expires_in: Option<u64>,
    #[serde(default)]
    pub scope: Option<String>,
}

/// The identity platform's error answer.
#[derive(Deserialize)]
struct TokenError {
    error: String,
    #[serde(default)]
    error_description: String,
}

/// Where the identity platform is, and as which app tandem signs in.
#[derive(Clone, Debug)]
pub struct Authority {
    login_url: String,
    tenant: String,
    client_id: String,
}

impl Authority {
    pub fn of(settings: &OutlookSettings) -> Result<Authority, OutlookError> {
        Ok(Authority {
            login_url: settings.login_url.trim_end_matches('/').to_string(),
            tenant: settings.tenant.clone(),
            client_id: settings
                .client_id
                .clone()
                .ok_or(OutlookError::NotSignedIn)?,
        })
    }

    fn endpoint(&self, name: &str) -> String {
        format!("{}/{}/oauth2/v2.0/{name}", self.login_url, self.tenant)
    }

    /// POST a form to the token endpoint (or another of the platform's endpoints).
    async fn post<T: for<'de> Deserialize<'de>>(
        &self,
        http: &reqwest::Client,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> Result<T, OutlookError> {
        let body = {
            let mut body = form_urlencoded::Serializer::new(String::new());
            body.append_pair("client_id", &self.client_id);
            for (k, v) in form {
                body.append_pair(k, v);
            }
            body.finish()
        };
        let response = http
            .post(self.endpoint(endpoint))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(OutlookError::Unreachable)?;
        let ok = response.status().is_success();
        let text = response.text().await.map_err(OutlookError::Unreachable)?;
        if ok {
            return serde_json::from_str(&text).map_err(|e| OutlookError::Malformed {
                call: format!("POST {endpoint}"),
                why: e.to_string(),
            });
        }
        let refused: TokenError =
            serde_json::from_str(&text).map_err(|_| OutlookError::SignIn {
                error: "unknown".into(),
                description: text.chars().take(200).collect(),
            })?;
        Err(OutlookError::SignIn {
            error: refused.error,
            description: refused.error_description,
        })
    }

    async fn refresh(
        &self,
        http: &reqwest::Client,
        refresh_token: &str,
    ) -> Result<Tokens, OutlookError> {
        self.post(
            http,
            "token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
                ("scope", SCOPES),
            ],
        )
        .await
    }
}

/// Where the rotated refresh token is kept: the `[outlook]` section of the settings file.
#[derive(Clone, Debug)]
pub struct TokenFile {
    path: PathBuf,
}

impl TokenFile {
    pub fn in_dir(dir: &std::path::Path) -> TokenFile {
        TokenFile {
            path: dir.join(crate::config::SETTINGS_FILE),
        }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    pub fn set(&self, values: &[(&str, Option<&str>)]) -> Result<(), OutlookError> {
        crate::config::set(&self.path, "outlook", values).map_err(|e| OutlookError::Credentials {
            path: self.path.display().to_string(),
            why: e.to_string(),
        })
    }
}

/// A signed-in session: the access token of the moment, renewed with the refresh token when it
/// is missing or refused.
pub struct Session {
    authority: Authority,
    file: Option<TokenFile>,
    access: Mutex<Option<String>>,
    /// One renewal at a time: two would spend the same refresh token twice.
    refresh: tokio::sync::Mutex<String>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Session {
    /// A session from the settings' refresh token; rotated tokens are saved in `file`.
    pub fn new(
        settings: &OutlookSettings,
        file: Option<TokenFile>,
    ) -> Result<Session, OutlookError> {
        let refresh = settings
            .refresh_token
            .clone()
            .ok_or(OutlookError::NotSignedIn)?;
        Ok(Session {
            authority: Authority::of(settings)?,
            file,
            access: Mutex::new(None),
            refresh: tokio::sync::Mutex::new(refresh),
        })
    }

    /// The current access token, renewed when there is none.
    pub async fn access_token(&self, http: &reqwest::Client) -> Result<String, OutlookError> {
        if let Some(token) = lock(&self.access).clone() {
            return Ok(token);
        }
        let mut refresh = self.refresh.lock().await;
        // Another call may have renewed it while this one waited.
        if let Some(token) = lock(&self.access).clone() {
            return Ok(token);
        }
        let tokens = self.authority.refresh(http, &refresh).await?;
        if let Some(next) = &tokens.refresh_token {
            if let Some(file) = &self.file {
                file.set(&[("refresh_token", Some(next))])?;
            }
            *refresh = next.clone();
        }
        *lock(&self.access) = Some(tokens.access_token.clone());
        Ok(tokens.access_token)
    }

    /// The access token was refused: the next call renews it.
    pub fn forget_access_token(&self) {
        *lock(&self.access) = None;
    }
}

/// The device code flow: the user opens a page on any device and types a code.
#[derive(Clone, Debug, Deserialize)]
pub struct DeviceCode {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub expires_in: u64,
    #[serde(default = "five")]
    pub interval: u64,
    /// The sentence the platform wants shown to the user.
    pub message: String,
}

fn five() -> u64 {
    5
}

/// The longest the device flow polls, whatever the platform says (it says 15 minutes).
const DEVICE_FLOW_LIMIT: Duration = Duration::from_secs(20 * 60);

impl DeviceCode {
    pub async fn start(
        http: &reqwest::Client,
        authority: &Authority,
    ) -> Result<DeviceCode, OutlookError> {
        authority
            .post(http, "devicecode", &[("scope", SCOPES)])
            .await
    }

    /// Poll at the interval the platform asked for until the user signed in, declined, or the
    /// code expired.
    pub async fn finish(
        &self,
        http: &reqwest::Client,
        authority: &Authority,
    ) -> Result<Tokens, OutlookError> {
        let mut interval = Duration::from_secs(self.interval);
        let started = tokio::time::Instant::now();
        let limit = Duration::from_secs(self.expires_in).min(DEVICE_FLOW_LIMIT);
        loop {
            tokio::time::sleep(interval).await;
            let answer = authority
                .post(
                    http,
                    "token",
                    &[
                        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                        ("device_code", &self.device_code),
                    ],
                )
                .await;
            match answer {
                Err(OutlookError::SignIn { error, .. })
                    if error == "authorization_pending" && started.elapsed() < limit => {}
                Err(OutlookError::SignIn { error, .. })
                    if error == "slow_down" && started.elapsed() < limit =>
                {
                    interval += Duration::from_secs(5);
                }
                other => return other,
            }
        }
    }
}

/// The authorization code flow with PKCE: the browser goes to the platform, comes back to a
/// loopback address tandem listens on, and the code it brings is exchanged with the verifier
/// only tandem knows.
pub struct CodeSignIn {
    listener: tokio::net::TcpListener,
    authority: Authority,
    redirect_uri: String,
    callback_path: String,
    state: String,
    verifier: String,
    authorize_url: String,
}

fn random_token() -> String {
    tandem_protocol::pkce::secret(rand::random())
}

impl CodeSignIn {
    /// Listen on the loopback redirect (port 0: one the system picks).
    pub async fn start(
        authority: Authority,
        callback_url: &str,
    ) -> Result<CodeSignIn, OutlookError> {
        let setup = |why: String| OutlookError::SignIn {
            error: "setup".into(),
            description: why,
        };
        let mut redirect = reqwest::Url::parse(callback_url)
            .map_err(|e| setup(format!("the redirect {callback_url} is not a URL: {e}")))?;
        let port = redirect.port().unwrap_or(80);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| setup(format!("cannot listen on 127.0.0.1:{port} ({e}); pass --callback with another port registered for the app")))?;
        let port = listener
            .local_addr()
            .map_err(|e| setup(e.to_string()))?
            .port();
        let _ = redirect.set_port(Some(port));
        let state = random_token();
        let verifier = random_token();
        let challenge = tandem_protocol::pkce::challenge(&verifier);
        let redirect_uri = redirect.to_string();
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &authority.client_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("response_mode", "query")
            .append_pair("scope", SCOPES)
            .append_pair("state", &state)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .finish();
        let authorize_url = format!("{}?{query}", authority.endpoint("authorize"));
        Ok(CodeSignIn {
            listener,
            callback_path: redirect.path().to_string(),
            authority,
            redirect_uri,
            state,
            verifier,
            authorize_url,
        })
    }

    /// The page the user opens in a browser.
    pub fn authorize_url(&self) -> &str {
        &self.authorize_url
    }

    /// Wait for the browser's redirect (the caller bounds the wait) and exchange the code.
    pub async fn finish(self, http: &reqwest::Client) -> Result<Tokens, OutlookError> {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<HashMap<String, String>>(1);
        let path = self.callback_path.clone();
        let app = axum::Router::new().route(
            &path,
            axum::routing::get(
                move |axum::extract::Query(params): axum::extract::Query<HashMap<String, String>>| {
                    let tx = tx.clone();
                    async move {
                        let _ = tx.send(params).await;
                        axum::response::Html(
                            "<!doctype html><p>tandem received the sign-in. You can close this window.</p>",
                        )
                    }
                },
            ),
        );
        let server = tokio::spawn(async move {
            let _ = axum::serve(self.listener, app).await;
        });
        let params = rx.recv().await;
        server.abort();
        let params = params.ok_or_else(|| OutlookError::SignIn {
            error: "no_redirect".into(),
            description: "the browser never came back".into(),
        })?;
        if params.get("state") != Some(&self.state) {
            return Err(OutlookError::SignIn {
                error: "state_mismatch".into(),
                description: "the redirect does not belong to the sign-in tandem started (a stale or forged redirect)".into(),
            });
        }
        if let Some(error) = params.get("error") {
            return Err(OutlookError::SignIn {
                error: error.clone(),
                description: params.get("error_description").cloned().unwrap_or_default(),
            });
        }
        let code = params.get("code").ok_or_else(|| OutlookError::SignIn {
            error: "no_code".into(),
            description: "the redirect has no authorization code".into(),
        })?;
        self.authority
            .post(
                http,
                "token",
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("redirect_uri", &self.redirect_uri),
                    ("code_verifier", &self.verifier),
                    ("scope", SCOPES),
                ],
            )
            .await
    }
}
