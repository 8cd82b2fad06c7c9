//! The access token shared by every concurrent request, and its renewal: one token call at a
//! time (single-flight), a caller that saw an older token than the current one just takes the
//! new one, and a rotated refresh token is saved before anyone can use it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use crate::config::SalesforceSettings;
use tandem_protocol::backoff::Backoff;

use super::ClientError;
use super::credentials::CredentialsFile;
use super::oauth::{self, Grant, JwtGrant};

/// An access token and where to use it. `generation` tells tokens apart: a request that got a
/// 401 with generation N asks for a refresh only if the session still holds generation N.
#[derive(Clone)]
pub struct AccessToken {
    pub value: String,
    pub instance_url: String,
    pub user_id: Option<String>,
    pub generation: u64,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("instance_url", &self.instance_url)
            .field("user_id", &self.user_id)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

struct State {
    token: Option<Arc<AccessToken>>,
    generation: u64,
    /// Set once the grant was refused: every later call fails at once, nothing is retried.
    refused: Option<String>,
}

pub struct Session {
    http: reqwest::Client,
    login_url: String,
    client_id: String,
    client_secret: Option<String>,
    grant: Mutex<Grant>,
    state: RwLock<State>,
    /// Held for the whole token call: the single flight.
    renewing: tokio::sync::Mutex<()>,
    credentials: Option<CredentialsFile>,
    token_calls: AtomicU64,
    /// Retries of a token call that failed without being carried out, and their backoff.
    retries: u32,
    backoff: Backoff,
}

/// Retries of a token call whose connection could not be made.
const CONNECT_RETRIES: u32 = 1;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Session {
    /// A session from the `[salesforce]` settings: the JWT bearer flow when a key file is set,
    /// else the stored refresh token. `credentials` is where a rotated refresh token is saved.
    pub fn new(
        http: reqwest::Client,
        settings: &SalesforceSettings,
        credentials: Option<CredentialsFile>,
    ) -> Result<Session, ClientError> {
        let client_id = settings.client_id.clone().ok_or_else(|| {
            ClientError::Setup(
                "no [salesforce] client_id: run `tandem login --client-id <consumer key>`".into(),
            )
        })?;
        let grant = match (&settings.jwt_key_file, &settings.refresh_token) {
            (Some(key), _) => {
                let username = settings.username.as_deref().ok_or_else(|| {
                    ClientError::Setup(
                        "the JWT bearer flow needs [salesforce] username: run `tandem login --jwt KEYFILE --username U`".into(),
                    )
                })?;
                Grant::Jwt(JwtGrant::from_key_file(key, username)?)
            }
            (None, Some(token)) => {
                // The file is where a rotation saves the new token; settings read before it (a
                // running daemon's, until it reads the file again) still hold the spent one.
                let saved = credentials
                    .as_ref()
                    .and_then(|file| file.load().ok())
                    .and_then(|on_disk| on_disk.refresh_token);
                Grant::RefreshToken(saved.unwrap_or_else(|| token.clone()))
            }
            (None, None) => {
                return Err(ClientError::LoginRequired {
                    reason: "no refresh token is stored".into(),
                });
            }
        };
        Ok(Session {
            http,
            login_url: settings.login_url.trim_end_matches('/').to_string(),
            client_id,
            client_secret: settings.client_secret.clone(),
            grant: Mutex::new(grant),
            state: RwLock::new(State {
                token: None,
                generation: 0,
                refused: None,
            }),
            renewing: tokio::sync::Mutex::new(()),
            credentials,
            token_calls: AtomicU64::new(0),
            retries: settings.max_retries,
            backoff: Backoff {
                base_ms: settings.backoff_base_ms,
                max_ms: settings.backoff_max_ms,
            },
        })
    }

    /// How many times this session called the token endpoint.
    pub fn token_calls(&self) -> u64 {
        self.token_calls.load(Ordering::Relaxed)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn refused(reason: &str) -> ClientError {
        ClientError::LoginRequired {
            reason: reason.to_string(),
        }
    }

    /// One call to the token endpoint with the current grant.
    async fn token_call(&self, grant: &Grant) -> Result<oauth::TokenResponse, ClientError> {
        self.token_calls.fetch_add(1, Ordering::Relaxed);
        match grant {
            Grant::RefreshToken(refresh) => {
                let mut form = vec![
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh.as_str()),
                    ("client_id", self.client_id.as_str()),
                ];
                if let Some(secret) = &self.client_secret {
                    form.push(("client_secret", secret.as_str()));
                }
                oauth::token_call(&self.http, &self.login_url, &form).await
            }
            Grant::Jwt(jwt) => {
                let assertion = oauth::jwt_assertion(jwt, &self.client_id, &self.login_url)?;
                let form = [
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    ("assertion", assertion.as_str()),
                ];
                oauth::token_call(&self.http, &self.login_url, &form).await
            }
        }
    }

    /// The current token, logging in first if there is none yet.
    pub async fn token(&self) -> Result<Arc<AccessToken>, ClientError> {
        let generation = {
            let s = self.read();
            if let Some(reason) = &s.refused {
                return Err(Self::refused(reason));
            }
            if let Some(t) = &s.token {
                return Ok(t.clone());
            }
            s.generation
        };
        self.renew(generation).await
    }

    /// A token newer than generation `stale`: the caller's token was refused with 401. If
    /// another request already renewed it, that token is returned without a token call.
    pub async fn renew(&self, stale: u64) -> Result<Arc<AccessToken>, ClientError> {
        let _flight = self.renewing.lock().await;
        {
            let s = self.read();
            if let Some(reason) = &s.refused {
                return Err(Self::refused(reason));
            }
            if let Some(t) = s.token.as_ref().filter(|t| t.generation != stale) {
                return Ok(t.clone());
            }
        }
        let grant = lock(&self.grant).clone();
        let mut attempt = 0;
        let result = loop {
            let result = self.token_call(&grant).await;
            // Repeat only a call Salesforce did not carry out: the connection never opened, or
            // the server answered 5xx. A call whose answer was lost may have spent a rotating
            // refresh token, so it is not repeated.
            //
            // A connection that could not be made at all (refused, no route, no name) means the
            // org cannot be reached from here — offline, no VPN: one quick retry, then the run
            // goes on without Salesforce and says so, instead of a quarter minute of silence.
            let retries = match &result {
                Err(ClientError::Transport {
                    ambiguous: false, ..
                }) => CONNECT_RETRIES.min(self.retries),
                Err(ClientError::Api { error, .. }) if error.status >= 500 => self.retries,
                _ => 0,
            };
            if attempt >= retries {
                break result;
            }
            let delay = self.backoff.delay_ms(attempt, rand::random());
            tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
            attempt += 1;
        };
        let response = match result {
            Ok(r) => r,
            Err(ClientError::LoginRequired { reason }) => {
                let mut s = self.state.write().unwrap_or_else(|e| e.into_inner());
                s.token = None;
                s.refused = Some(reason.clone());
                return Err(ClientError::LoginRequired { reason });
            }
            Err(e) => return Err(e),
        };
        if let (Grant::RefreshToken(_), Some(rotated)) = (&grant, &response.refresh_token) {
            // The old refresh token is spent now: the new one must be on disk before it is used,
            // or a crash would leave tandem with no valid grant at all.
            if let Some(file) = &self.credentials {
                let file = file.clone();
                let (rotated_copy, instance) = (rotated.clone(), response.instance_url.clone());
                tokio::task::spawn_blocking(move || {
                    file.save_refresh_token(&rotated_copy, &instance)
                })
                .await
                .map_err(|e| ClientError::Credentials(format!("the save task failed: {e}")))??;
            }
            *lock(&self.grant) = Grant::RefreshToken(rotated.clone());
        }
        let mut s = self.state.write().unwrap_or_else(|e| e.into_inner());
        s.generation += 1;
        let token = Arc::new(AccessToken {
            value: response.access_token.clone(),
            instance_url: response.instance_url.trim_end_matches('/').to_string(),
            user_id: response.user_id(),
            generation: s.generation,
        });
        s.token = Some(token.clone());
        Ok(token)
    }
}
