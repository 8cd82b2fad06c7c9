//! The Microsoft identity platform's sign-in for a public (desktop) client, as a user who has
//! already consented plays it: authorization codes with PKCE (v2-oauth2-auth-code-flow.md),
//! refresh tokens (refresh-tokens.md), and the device code flow (v2-oauth2-device-code.md).
//! This module keeps the state and the rules; `signin.rs` serves them over HTTP.
//!
//! Where the platform is lenient and a client that relies on it is wrong, the emulator is
//! strict, and says so where it is:
//! - PKCE is required, with `S256` only (the platform also takes `plain`, and no PKCE at all
//!   from a desktop app; RFC 7636 §4.2: a client that can do S256 must).
//! - Refresh tokens: every refresh answers a new one. As documented, the old one lives on
//!   (refresh-tokens.md; v2-oauth2-auth-code-flow.md: "You're expected to discard the old
//!   refresh token"); with [`Identity::strict_rotation`] a used one stops working at once, so a
//!   test catches a client that reuses an old one instead of keeping the newest.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};

use crate::grants;

/// The client id a new emulator accepts (an app registration's GUID shape); more with
/// `GraphHandle::register_client`.
pub const DEFAULT_CLIENT_ID: &str = "7a6e6465-6d00-4e6d-8000-746573746170";

/// Access tokens last an hour (the `expires_in` of the platform's examples).
pub const ACCESS_TOKEN_SECONDS: i64 = 3599;
/// v2-oauth2-auth-code-flow.md: "Typically, they expire after about 10 minutes."
const CODE_LIFETIME: Duration = Duration::minutes(10);
/// refresh-tokens.md: 90 days for a desktop app, renewed by each use.
const REFRESH_LIFETIME: Duration = Duration::days(90);
/// v2-oauth2-device-code.md: "the user has 15 minutes to sign in".
pub const DEVICE_CODE_SECONDS: i64 = 900;
/// The polling interval the platform asks for.
pub const DEVICE_CODE_INTERVAL: u64 = 5;
pub const VERIFICATION_URI: &str = "https://microsoft.com/devicelogin";

/// The platform's error (reference-error-codes.md): an OAuth `error`, and an AADSTS code with
/// its text in `error_description`.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityError {
    pub status: StatusCode,
    pub error: &'static str,
    pub code: u32,
    pub text: String,
}

impl std::fmt::Display for IdentityError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (AADSTS{}): {}", self.error, self.code, self.text)
    }
}

impl std::error::Error for IdentityError {}

impl IdentityError {
    fn new(error: &'static str, code: u32, text: impl Into<String>) -> IdentityError {
        let status = if error == "invalid_client" {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        };
        IdentityError {
            status,
            error,
            code,
            text: text.into(),
        }
    }

    /// AADSTS900144, the platform's answer to a missing parameter.
    fn missing(name: &str) -> IdentityError {
        IdentityError::new(
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    }

    /// What `error_description` carries: the code, the text, and the trace lines the platform
    /// appends.
    pub fn description(&self, now: DateTime<Utc>) -> String {
        format!(
            "AADSTS{}: {}\r\nTrace ID: {}\r\nCorrelation ID: {}\r\nTimestamp: {}",
            self.code,
            self.text,
            trace_id(),
            trace_id(),
            now.format("%Y-%m-%d %H:%M:%SZ")
        )
    }

    /// The JSON body, as the token and device code endpoints answer.
    pub fn into_response_at(self, now: DateTime<Utc>) -> Response {
        let body = json!({
            "error": self.error,
            "error_description": self.description(now),
            "error_codes": [self.code],
            "timestamp": now.format("%Y-%m-%d %H:%M:%SZ").to_string(),
            "trace_id": trace_id(),
            "correlation_id": trace_id(),
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
        });
        (self.status, axum::Json(body)).into_response()
    }
}

impl IntoResponse for IdentityError {
    fn into_response(self) -> Response {
        self.into_response_at(Utc::now())
    }
}

/// A trace id in the platform's GUID shape; a counter keeps the emulator free of randomness.
fn trace_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("5e0c0000-0000-4000-a000-{n:012x}")
}

/// How an authorize request fails: on a page of the platform's own (a bad client or redirect
/// URI: RFC 6749 §4.1.2.1 forbids redirecting then), or by redirecting the error to the app.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthorizeError {
    Page(IdentityError),
    Redirect(String),
}

/// A sign-in the token endpoint finished: what to issue.
#[derive(Debug, Clone, PartialEq)]
pub struct Issued {
    pub client_id: String,
    /// The scopes as requested (for the response's `scope`).
    pub scopes: Vec<String>,
}

impl Issued {
    /// `offline_access` is what earns a refresh token (v2-oauth2-auth-code-flow.md: "Only
    /// provided if offline_access scope was requested").
    pub fn offline(&self) -> bool {
        self.scopes
            .iter()
            .any(|s| grants::normalize(s) == "offline_access")
    }
}

#[derive(Debug, Clone)]
struct AuthCode {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    scopes: Vec<String>,
    issued: DateTime<Utc>,
    redeemed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum RefreshState {
    Live,
    /// Used once to get a new one (strict rotation).
    Used,
    Revoked,
}

#[derive(Debug, Clone)]
struct RefreshGrant {
    client_id: String,
    scopes: Vec<String>,
    issued: DateTime<Utc>,
    state: RefreshState,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum DeviceState {
    Pending,
    Approved,
    Declined,
    Redeemed,
}

#[derive(Debug, Clone)]
struct DeviceFlow {
    device_code: String,
    user_code: String,
    client_id: String,
    scopes: Vec<String>,
    issued: DateTime<Utc>,
    state: DeviceState,
}

/// The device authorization response (v2-oauth2-device-code.md).
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceCode {
    pub device_code: String,
    pub user_code: String,
    pub interval: u64,
}

/// The platform's state for the emulated tenant.
#[derive(Debug)]
pub struct Identity {
    clients: BTreeSet<String>,
    codes: HashMap<String, AuthCode>,
    refresh: HashMap<String, RefreshGrant>,
    devices: Vec<DeviceFlow>,
    /// Seconds a device code client is asked to wait between polls.
    pub interval: u64,
    /// A refresh token used once is refused from then on (stricter than the platform).
    pub strict_rotation: bool,
    next: u64,
}

impl Default for Identity {
    fn default() -> Identity {
        Identity {
            clients: BTreeSet::from([DEFAULT_CLIENT_ID.to_string()]),
            codes: HashMap::new(),
            refresh: HashMap::new(),
            devices: Vec::new(),
            interval: DEVICE_CODE_INTERVAL,
            strict_rotation: false,
            next: 0,
        }
    }
}

/// A request's parameters (the authorize query, or a token request's form).
pub type Params = HashMap<String, String>;

fn param<'p>(params: &'p Params, name: &str) -> Option<&'p str> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.trim().is_empty())
}

fn required<'p>(params: &'p Params, name: &str) -> Result<&'p str, IdentityError> {
    param(params, name).ok_or_else(|| IdentityError::missing(name))
}

fn split_scopes(scope: &str) -> Vec<String> {
    scope.split_whitespace().map(str::to_string).collect()
}

/// A redirect URI a desktop app may use with the system browser: a loopback one
/// (reply-url.md, "Localhost exceptions": any port; v2-oauth2-auth-code-flow.md recommends
/// `http://localhost`).
fn loopback(redirect_uri: &str) -> bool {
    url::Url::parse(redirect_uri).is_ok_and(|u| {
        u.scheme() == "http"
            && matches!(u.host_str(), Some("localhost") | Some("127.0.0.1"))
            && u.fragment().is_none()
    })
}

/// The S256 challenge of a verifier (RFC 7636 §4.2: BASE64URL-ENCODE(SHA256(ASCII(verifier)))).
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

impl Identity {
    fn next(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    pub fn register_client(&mut self, client_id: &str) {
        self.clients.insert(client_id.to_string());
    }

    fn client<'p>(&self, params: &'p Params, tenant: &str) -> Result<&'p str, IdentityError> {
        let client_id = required(params, "client_id")?;
        if !self.clients.contains(client_id) {
            return Err(IdentityError::new(
                "unauthorized_client",
                700016,
                format!(
                    "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant."
                ),
            ));
        }
        // Public clients hold no secret (v2-oauth2-auth-code-flow.md: "Public clients ... must
        // not use secrets or certificates when redeeming an authorization code").
        if param(params, "client_secret").is_some() || param(params, "client_assertion").is_some() {
            return Err(IdentityError::new(
                "invalid_client",
                700025,
                "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
            ));
        }
        Ok(client_id)
    }

    /// `GET /authorize`: the user has consented already, so a valid request is answered with
    /// the redirect carrying a new code and the app's `state`.
    pub fn authorize(
        &mut self,
        tenant: &str,
        params: &Params,
        now: DateTime<Utc>,
    ) -> Result<String, AuthorizeError> {
        let client_id = self
            .client(params, tenant)
            .map_err(AuthorizeError::Page)?
            .to_string();
        let redirect_uri = required(params, "redirect_uri").map_err(AuthorizeError::Page)?;
        if !loopback(redirect_uri) {
            return Err(AuthorizeError::Page(IdentityError::new(
                "invalid_request",
                50011,
                format!(
                    "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{client_id}'. A desktop app uses http://localhost or http://127.0.0.1 with any port."
                ),
            )));
        }
        let back = |error: &str, code: u32, text: &str| {
            let mut url = url::Url::parse(redirect_uri).ok()?;
            {
                let mut query = url.query_pairs_mut();
                query.append_pair("error", error);
                query.append_pair("error_description", &format!("AADSTS{code}: {text}"));
                if let Some(state) = param(params, "state") {
                    query.append_pair("state", state);
                }
            }
            Some(url.to_string())
        };
        let refuse = |error: &str, code: u32, text: &str| {
            back(error, code, text).map_or_else(
                || AuthorizeError::Page(IdentityError::new("invalid_request", code, text)),
                AuthorizeError::Redirect,
            )
        };
        if param(params, "response_type") != Some("code") {
            return Err(refuse(
                "unsupported_response_type",
                70005,
                "The application requested an unsupported response type: this flow needs response_type=code.",
            ));
        }
        let Some(scope) = param(params, "scope") else {
            return Err(refuse(
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'scope'.",
            ));
        };
        let Some(challenge) = param(params, "code_challenge") else {
            return Err(refuse(
                "invalid_request",
                50147,
                "MissingCodeChallenge: this emulator requires PKCE (code_challenge with code_challenge_method=S256).",
            ));
        };
        if param(params, "code_challenge_method") != Some("S256") {
            return Err(refuse(
                "invalid_request",
                90100,
                "The parameter 'code_challenge_method' is empty or not valid: this emulator accepts S256 only.",
            ));
        }
        // RFC 7636 §4.2: an S256 challenge is 43 base64url characters.
        if challenge.len() != 43 || URL_SAFE_NO_PAD.decode(challenge).is_err() {
            return Err(refuse(
                "invalid_request",
                501491,
                "InvalidCodeChallengeMethodInvalidSize: Invalid size of Code_Challenge parameter.",
            ));
        }
        let n = self.next();
        let code = format!("0.AXEA-emulated-code-{n:06}.{}", s256(&format!("code{n}")));
        self.codes.insert(
            code.clone(),
            AuthCode {
                client_id,
                redirect_uri: redirect_uri.to_string(),
                challenge: challenge.to_string(),
                scopes: split_scopes(scope),
                issued: now,
                redeemed: false,
            },
        );
        let mut url =
            url::Url::parse(redirect_uri).map_err(|_| refuse("invalid_request", 50011, ""))?;
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("code", &code);
            if let Some(state) = param(params, "state") {
                query.append_pair("state", state);
            }
        }
        Ok(url.to_string())
    }

    /// `POST /token`, any grant.
    pub fn token(
        &mut self,
        tenant: &str,
        params: &Params,
        now: DateTime<Utc>,
    ) -> Result<Issued, IdentityError> {
        let grant_type = required(params, "grant_type")?;
        let client_id = self.client(params, tenant)?.to_string();
        match grant_type {
            "authorization_code" => self.redeem_code(&client_id, params, now),
            "refresh_token" => self.refresh(&client_id, params, now),
            "urn:ietf:params:oauth:grant-type:device_code" => {
                self.redeem_device_code(&client_id, params, now)
            }
            other => Err(IdentityError::new(
                "unsupported_grant_type",
                70003,
                format!("The app requested an unsupported grant type '{other}'."),
            )),
        }
    }

    fn redeem_code(
        &mut self,
        client_id: &str,
        params: &Params,
        now: DateTime<Utc>,
    ) -> Result<Issued, IdentityError> {
        let code = required(params, "code")?;
        let redirect_uri = required(params, "redirect_uri")?;
        let Some(grant) = self.codes.get_mut(code) else {
            return Err(IdentityError::new(
                "invalid_grant",
                9002313,
                "Invalid request. Request is malformed or invalid.",
            ));
        };
        if grant.redeemed {
            return Err(IdentityError::new(
                "invalid_grant",
                54005,
                "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
            ));
        }
        if now - grant.issued >= CODE_LIFETIME {
            return Err(IdentityError::new(
                "invalid_grant",
                70008,
                "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
            ));
        }
        if grant.client_id != client_id {
            return Err(IdentityError::new(
                "invalid_grant",
                70000,
                "The provided value for the 'code' parameter is not valid: it was issued to another client.",
            ));
        }
        if grant.redirect_uri != redirect_uri {
            return Err(IdentityError::new(
                "invalid_grant",
                50011,
                format!(
                    "The redirect URI '{redirect_uri}' does not match the one the authorization code was requested with."
                ),
            ));
        }
        let verifier = param(params, "code_verifier").unwrap_or_default();
        if s256(verifier) != grant.challenge {
            return Err(IdentityError::new(
                "invalid_grant",
                501481,
                "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
            ));
        }
        grant.redeemed = true;
        Ok(Issued {
            client_id: client_id.to_string(),
            scopes: grant.scopes.clone(),
        })
    }

    fn refresh(
        &mut self,
        client_id: &str,
        params: &Params,
        now: DateTime<Utc>,
    ) -> Result<Issued, IdentityError> {
        let token = required(params, "refresh_token")?;
        let Some(grant) = self.refresh.get_mut(token) else {
            return Err(IdentityError::new(
                "invalid_grant",
                9002313,
                "Invalid request. Request is malformed or invalid.",
            ));
        };
        match grant.state {
            RefreshState::Live => {}
            RefreshState::Used if !self.strict_rotation => {}
            RefreshState::Used => {
                return Err(IdentityError::new(
                    "invalid_grant",
                    70000,
                    "The provided value for the 'refresh_token' is not valid: it was already used to get a new one (this emulator rotates refresh tokens strictly; keep the newest).",
                ));
            }
            RefreshState::Revoked => {
                return Err(IdentityError::new(
                    "invalid_grant",
                    50173,
                    "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.",
                ));
            }
        }
        if now - grant.issued >= REFRESH_LIFETIME {
            return Err(IdentityError::new(
                "invalid_grant",
                700082,
                "The refresh token has expired due to inactivity.",
            ));
        }
        if grant.client_id != client_id {
            return Err(IdentityError::new(
                "invalid_grant",
                70000,
                "The provided value for the 'refresh_token' parameter is not valid: it was issued to another client.",
            ));
        }
        // v2-oauth2-auth-code-flow.md: the scopes of a refresh "must be equivalent to or a
        // subset of the scopes requested in the original" request; more needs consent.
        let scopes = match param(params, "scope") {
            Some(scope) => {
                let asked = split_scopes(scope);
                let consented = grants::permissions(&grant.scopes);
                if !grants::permissions(&asked).is_subset(&consented) {
                    return Err(IdentityError::new(
                        "invalid_grant",
                        65001,
                        format!(
                            "The user or administrator has not consented to use the application with ID '{client_id}'. Send an interactive authorization request for this user and resource."
                        ),
                    ));
                }
                // offline_access carries over: a refresh always answers a new refresh token.
                let mut scopes = asked;
                if !scopes
                    .iter()
                    .any(|s| grants::normalize(s) == "offline_access")
                {
                    scopes.push("offline_access".into());
                }
                scopes
            }
            None => grant.scopes.clone(),
        };
        grant.state = RefreshState::Used;
        Ok(Issued {
            client_id: client_id.to_string(),
            scopes,
        })
    }

    /// A new refresh token for what was just issued.
    pub fn new_refresh_token(&mut self, issued: &Issued, now: DateTime<Utc>) -> String {
        let n = self.next();
        let token = format!(
            "1.AXEA-emulated-refresh-{n:06}.{}",
            s256(&format!("refresh{n}"))
        );
        self.refresh.insert(
            token.clone(),
            RefreshGrant {
                client_id: issued.client_id.clone(),
                scopes: issued.scopes.clone(),
                issued: now,
                state: RefreshState::Live,
            },
        );
        token
    }

    /// Every refresh token stops working, as when the user's sessions are revoked
    /// (AADSTS50173).
    pub fn revoke_refresh_tokens(&mut self) {
        for grant in self.refresh.values_mut() {
            grant.state = RefreshState::Revoked;
        }
    }

    /// `POST /devicecode`.
    pub fn device_code(
        &mut self,
        tenant: &str,
        params: &Params,
        now: DateTime<Utc>,
    ) -> Result<DeviceCode, IdentityError> {
        let client_id = self.client(params, tenant)?.to_string();
        let scope = required(params, "scope")?;
        let n = self.next();
        let flow = DeviceFlow {
            device_code: format!(
                "DAQABIQEAAAD-emulated-device-{n:06}.{}",
                s256(&format!("device{n}"))
            ),
            // Short, unambiguous, and unique in the tenant.
            user_code: format!("EMU{n:06X}"),
            client_id,
            scopes: split_scopes(scope),
            issued: now,
            state: DeviceState::Pending,
        };
        let answer = DeviceCode {
            device_code: flow.device_code.clone(),
            user_code: flow.user_code.clone(),
            interval: self.interval,
        };
        self.devices.push(flow);
        Ok(answer)
    }

    /// The user, at the verification page, signs in with `user_code` and approves or declines.
    pub fn decide(&mut self, user_code: &str, approve: bool) -> Result<(), IdentityError> {
        let flow = self
            .devices
            .iter_mut()
            .find(|f| f.user_code.eq_ignore_ascii_case(user_code.trim()))
            .ok_or_else(|| {
                IdentityError::new(
                    "invalid_request",
                    70018,
                    "BadVerificationCode: the code the user entered was not recognized.",
                )
            })?;
        if flow.state != DeviceState::Pending {
            return Err(IdentityError::new(
                "invalid_request",
                90120,
                "InvalidDeviceFlowRequest: the request was already authorized or declined.",
            ));
        }
        flow.state = if approve {
            DeviceState::Approved
        } else {
            DeviceState::Declined
        };
        Ok(())
    }

    fn redeem_device_code(
        &mut self,
        client_id: &str,
        params: &Params,
        now: DateTime<Utc>,
    ) -> Result<Issued, IdentityError> {
        let device_code = required(params, "device_code")?;
        let Some(flow) = self
            .devices
            .iter_mut()
            .find(|f| f.device_code == device_code)
        else {
            return Err(IdentityError::new(
                "bad_verification_code",
                70018,
                "The device_code sent to the /token endpoint wasn't recognized.",
            ));
        };
        if flow.client_id != client_id {
            return Err(IdentityError::new(
                "invalid_grant",
                70000,
                "The provided value for the 'device_code' parameter is not valid: it was issued to another client.",
            ));
        }
        if flow.state == DeviceState::Redeemed {
            return Err(IdentityError::new(
                "invalid_grant",
                70000,
                "The provided value for the 'device_code' parameter is not valid: it was already redeemed.",
            ));
        }
        if (now - flow.issued).num_seconds() >= DEVICE_CODE_SECONDS {
            return Err(IdentityError::new(
                "expired_token",
                70019,
                "Verification code expired.",
            ));
        }
        match flow.state {
            DeviceState::Pending => Err(IdentityError::new(
                "authorization_pending",
                70016,
                "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
            )),
            DeviceState::Declined => Err(IdentityError::new(
                "authorization_declined",
                65004,
                "User declined to consent to access the app.",
            )),
            DeviceState::Approved | DeviceState::Redeemed => {
                flow.state = DeviceState::Redeemed;
                Ok(Issued {
                    client_id: client_id.to_string(),
                    scopes: flow.scopes.clone(),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 appendix B's example verifier and challenge.
    #[test]
    fn s256_follows_rfc_7636() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn loopback_redirects_only() {
        assert!(loopback("http://localhost:5123/callback"));
        assert!(loopback("http://127.0.0.1/"));
        assert!(!loopback("https://localhost/"));
        assert!(!loopback("http://example.com/"));
        assert!(!loopback("http://localhost.example.com/"));
    }
}
