//! OAuth 2.0 as Salesforce does it: refresh-token, JWT-bearer and web-server (authorization code) flows,
//! bearer-token checks with an inactivity timeout, optional refresh-token rotation, introspection and revocation.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use super::errors::ApiError;
use super::value::Doc;

/// The connected app and the user the emulator's tokens belong to.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
    pub access_token_ttl: Duration,
    pub rotate_refresh_tokens: bool,
}

/// An OAuth endpoint failure: HTTP 400 with `{"error","error_description"}` (not the REST error array).
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthError {
    pub status: u16,
    pub error: &'static str,
    pub description: &'static str,
}

impl OAuthError {
    fn new(error: &'static str, description: &'static str) -> Self {
        OAuthError {
            status: 400,
            error,
            description,
        }
    }

    pub fn body(&self) -> Doc {
        Doc::object()
            .with("error", self.error)
            .with("error_description", self.description)
    }

    fn expired_grant() -> Self {
        Self::new("invalid_grant", "expired access/refresh token")
    }
}

#[derive(Debug, Clone)]
struct Session {
    user_id: String,
    client_id: String,
    issued_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
struct Grant {
    user_id: String,
    client_id: String,
}

#[derive(Debug, Clone)]
struct Code {
    client_id: String,
    redirect_uri: String,
    user_id: String,
    challenge: Option<String>,
    expires_at: DateTime<Utc>,
}

/// Who the org says a user is, for token responses.
#[derive(Debug, Clone)]
pub struct Identity {
    pub org_id: String,
    pub user_id: String,
}

pub struct Sessions {
    pub config: AuthConfig,
    access: HashMap<String, Session>,
    refresh: HashMap<String, Grant>,
    codes: HashMap<String, Code>,
    rng: StdRng,
}

const TOKEN_CHARS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._";

/// HMAC-SHA256, as Salesforce signs the token response's `signature` (id + issued_at).
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    use hmac::Mac;
    // Any key length is valid for HMAC, so `new_from_slice` cannot fail here.
    let mut mac = <hmac::Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

/// Parameters of a form-encoded request body.
pub type Form = HashMap<String, String>;

pub fn parse_form(body: &[u8]) -> Form {
    form_urlencoded::parse(body).into_owned().collect()
}

impl Sessions {
    pub fn new(config: AuthConfig, user_id: &str, seed: u64) -> Self {
        let mut refresh = HashMap::new();
        refresh.insert(
            config.refresh_token.clone(),
            Grant {
                user_id: user_id.to_string(),
                client_id: config.client_id.clone(),
            },
        );
        Sessions {
            config,
            access: HashMap::new(),
            refresh,
            codes: HashMap::new(),
            rng: StdRng::seed_from_u64(seed ^ 0x5f0a_u64),
        }
    }

    fn random(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| TOKEN_CHARS[self.rng.random_range(0..TOKEN_CHARS.len())] as char)
            .collect()
    }

    /// Mints an access token for a user (what a successful grant does).
    pub fn issue_access(
        &mut self,
        org_id: &str,
        user_id: &str,
        client_id: &str,
        now: DateTime<Utc>,
    ) -> String {
        let token = format!("{}!AR{}", &org_id[..15.min(org_id.len())], self.random(96));
        self.access.insert(
            token.clone(),
            Session {
                user_id: user_id.to_string(),
                client_id: client_id.to_string(),
                issued_at: now,
                expires_at: now + self.config.access_token_ttl,
            },
        );
        token
    }

    fn issue_refresh(&mut self, user_id: &str, client_id: &str) -> String {
        let token = format!("5Aep861{}", self.random(80));
        self.refresh.insert(
            token.clone(),
            Grant {
                user_id: user_id.to_string(),
                client_id: client_id.to_string(),
            },
        );
        token
    }

    /// Validates `Authorization: Bearer <token>`; activity extends the session like Salesforce's timeout.
    pub fn check_bearer(
        &mut self,
        header: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<String, ApiError> {
        let token = header
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("OAuth "))
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or_else(ApiError::invalid_session)?;
        let ttl = self.config.access_token_ttl;
        let Some(session) = self.access.get_mut(token) else {
            return Err(ApiError::invalid_session());
        };
        if now >= session.expires_at {
            self.access.remove(token);
            return Err(ApiError::invalid_session());
        }
        // The timeout is measured from the last activity, refreshed once half of it has passed.
        if session.expires_at - now < ttl / 2 {
            session.expires_at = now + ttl;
        }
        Ok(session.user_id.clone())
    }

    pub fn expire_all_access(&mut self) {
        self.access.clear();
    }

    pub fn revoke_all_refresh(&mut self) {
        self.refresh.clear();
    }

    pub fn counts(&self) -> (usize, usize) {
        (self.access.len(), self.refresh.len())
    }

    fn check_client(&self, form: &Form, secret_required: bool) -> Result<String, OAuthError> {
        let client_id = form.get("client_id").map(String::as_str).unwrap_or("");
        if client_id != self.config.client_id {
            return Err(OAuthError::new(
                "invalid_client_id",
                "client identifier invalid",
            ));
        }
        match form.get("client_secret") {
            Some(s) if *s != self.config.client_secret => Err(OAuthError::new(
                "invalid_client",
                "invalid client credentials",
            )),
            None if secret_required => Err(OAuthError::new(
                "invalid_client",
                "invalid client credentials",
            )),
            _ => Ok(client_id.to_string()),
        }
    }

    /// `POST /services/oauth2/token`.
    pub fn token(
        &mut self,
        form: &Form,
        now: DateTime<Utc>,
        base_url: &str,
        identity: &dyn Fn(&str) -> Option<Identity>,
        user_by_name: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Doc, OAuthError> {
        let grant_type = form.get("grant_type").map(String::as_str).unwrap_or("");
        let (user_id, client_id, refresh) = match grant_type {
            "refresh_token" => {
                let client_id = self.check_client(form, true)?;
                let presented = form.get("refresh_token").cloned().unwrap_or_default();
                let grant = match self.refresh.get(&presented) {
                    Some(g) if g.client_id == client_id => g.clone(),
                    _ => return Err(OAuthError::expired_grant()),
                };
                let refresh = if self.config.rotate_refresh_tokens {
                    // Rotation: the presented token is spent the moment a new one is issued.
                    self.refresh.remove(&presented);
                    Some(self.issue_refresh(&grant.user_id, &client_id))
                } else {
                    None
                };
                (grant.user_id, client_id, refresh)
            }
            "authorization_code" => {
                let code = form.get("code").cloned().unwrap_or_default();
                let Some(c) = self.codes.remove(&code) else {
                    return Err(OAuthError::new(
                        "invalid_grant",
                        "expired authorization code",
                    ));
                };
                let secret_required = c.challenge.is_none();
                let client_id = self.check_client(form, secret_required)?;
                if c.client_id != client_id || now >= c.expires_at {
                    return Err(OAuthError::new(
                        "invalid_grant",
                        "expired authorization code",
                    ));
                }
                if form.get("redirect_uri").map(String::as_str) != Some(c.redirect_uri.as_str()) {
                    return Err(OAuthError::new(
                        "redirect_uri_mismatch",
                        "redirect_uri must match configuration",
                    ));
                }
                if let Some(challenge) = &c.challenge {
                    let verifier = form.get("code_verifier").map(String::as_str).unwrap_or("");
                    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != *challenge {
                        return Err(OAuthError::new("invalid_grant", "invalid code verifier"));
                    }
                }
                let refresh = self.issue_refresh(&c.user_id, &client_id);
                (c.user_id, client_id, Some(refresh))
            }
            "urn:ietf:params:oauth:grant-type:jwt-bearer" => {
                let assertion = form.get("assertion").map(String::as_str).unwrap_or("");
                let claims = jwt_claims(assertion)?;
                let (user_id, client_id) = self.check_jwt(&claims, now, base_url, user_by_name)?;
                (user_id, client_id, None)
            }
            _ => {
                return Err(OAuthError::new(
                    "unsupported_grant_type",
                    "grant type not supported",
                ));
            }
        };
        let who =
            identity(&user_id).ok_or(OAuthError::new("inactive_user", "user is not active"))?;
        let access = self.issue_access(&who.org_id, &user_id, &client_id, now);
        let issued_at = now.timestamp_millis().to_string();
        let id_url = format!("{base_url}/id/{}/{}", who.org_id, who.user_id);
        let signature = STANDARD.encode(hmac_sha256(
            self.config.client_secret.as_bytes(),
            format!("{id_url}{issued_at}").as_bytes(),
        ));
        let mut doc = Doc::object().with("access_token", access);
        if let Some(r) = refresh {
            doc.push("refresh_token", r);
        }
        Ok(doc
            .with("signature", signature)
            .with("scope", "refresh_token api")
            .with("instance_url", base_url)
            .with("id", id_url)
            .with("token_type", "Bearer")
            .with("issued_at", issued_at))
    }

    fn check_jwt(
        &self,
        claims: &Json,
        now: DateTime<Utc>,
        base_url: &str,
        user_by_name: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(String, String), OAuthError> {
        let invalid = || OAuthError::new("invalid_grant", "invalid assertion");
        let iss = claims
            .get("iss")
            .and_then(Json::as_str)
            .ok_or_else(invalid)?;
        let sub = claims
            .get("sub")
            .and_then(Json::as_str)
            .ok_or_else(invalid)?;
        let exp = claims
            .get("exp")
            .and_then(Json::as_i64)
            .ok_or_else(invalid)?;
        let auds: Vec<&str> = match claims.get("aud") {
            Some(Json::String(s)) => vec![s.as_str()],
            Some(Json::Array(a)) => a.iter().filter_map(Json::as_str).collect(),
            _ => return Err(invalid()),
        };
        if iss != self.config.client_id {
            return Err(OAuthError::new(
                "invalid_client_id",
                "client identifier invalid",
            ));
        }
        let accepted = [
            "https://login.salesforce.com",
            "https://test.salesforce.com",
            base_url,
        ];
        if !auds
            .iter()
            .any(|a| accepted.contains(&a.trim_end_matches('/')))
        {
            return Err(OAuthError::new("invalid_grant", "audience is invalid"));
        }
        if exp <= now.timestamp() {
            return Err(OAuthError::new(
                "invalid_grant",
                "expired authorization code",
            ));
        }
        let user_id = user_by_name(sub).ok_or(OAuthError::new(
            "invalid_grant",
            "user hasn't approved this consumer",
        ))?;
        Ok((user_id, iss.to_string()))
    }

    /// `GET /services/oauth2/authorize`: auto-approves and redirects back with a one-time code.
    pub fn authorize(
        &mut self,
        query: &Form,
        now: DateTime<Utc>,
        user_id: &str,
    ) -> Result<String, OAuthError> {
        let client_id = query.get("client_id").map(String::as_str).unwrap_or("");
        if client_id != self.config.client_id {
            return Err(OAuthError::new(
                "invalid_client_id",
                "client identifier invalid",
            ));
        }
        let redirect = query.get("redirect_uri").cloned().unwrap_or_default();
        if url_origin(&redirect).is_none() {
            return Err(OAuthError::new(
                "redirect_uri_mismatch",
                "redirect_uri must match configuration",
            ));
        }
        let mut params = form_urlencoded::Serializer::new(String::new());
        if query.get("response_type").map(String::as_str) != Some("code") {
            params.append_pair("error", "unsupported_response_type");
            params.append_pair("error_description", "response type not supported");
        } else {
            let code = format!("aPrx{}", self.random(60));
            let challenge = query.get("code_challenge").cloned();
            if challenge.is_some()
                && query
                    .get("code_challenge_method")
                    .is_some_and(|m| m != "S256")
            {
                return Err(OAuthError::new(
                    "invalid_request",
                    "code_challenge_method must be S256",
                ));
            }
            self.codes.insert(
                code.clone(),
                Code {
                    client_id: client_id.to_string(),
                    redirect_uri: redirect.clone(),
                    user_id: user_id.to_string(),
                    challenge,
                    expires_at: now + Duration::minutes(15),
                },
            );
            params.append_pair("code", &code);
        }
        if let Some(state) = query.get("state") {
            params.append_pair("state", state);
        }
        let sep = if redirect.contains('?') { '&' } else { '?' };
        Ok(format!("{redirect}{sep}{}", params.finish()))
    }

    /// `POST /services/oauth2/introspect` (client authenticated by form fields).
    pub fn introspect(
        &mut self,
        form: &Form,
        now: DateTime<Utc>,
        username: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Doc, OAuthError> {
        self.check_client(form, true)?;
        let token = form.get("token").map(String::as_str).unwrap_or("");
        if let Some(s) = self.access.get(token).filter(|s| now < s.expires_at) {
            return Ok(Doc::object()
                .with("active", true)
                .with("scope", "refresh_token api")
                .with("client_id", s.client_id.as_str())
                .with("username", username(&s.user_id))
                .with("sub", s.user_id.as_str())
                .with("token_type", "access_token")
                .with("exp", s.expires_at.timestamp())
                .with("iat", s.issued_at.timestamp())
                .with("nbf", s.issued_at.timestamp()));
        }
        if let Some(g) = self.refresh.get(token) {
            return Ok(Doc::object()
                .with("active", true)
                .with("scope", "refresh_token api")
                .with("client_id", g.client_id.as_str())
                .with("username", username(&g.user_id))
                .with("sub", g.user_id.as_str())
                .with("token_type", "refresh_token"));
        }
        Ok(Doc::object().with("active", false))
    }

    /// `POST /services/oauth2/revoke`: revoking a refresh token also ends its sessions, as in Salesforce.
    pub fn revoke(&mut self, token: &str) -> Result<(), OAuthError> {
        if self.access.remove(token).is_some() {
            return Ok(());
        }
        match self.refresh.remove(token) {
            Some(g) => {
                self.access
                    .retain(|_, s| !(s.user_id == g.user_id && s.client_id == g.client_id));
                Ok(())
            }
            None => Err(OAuthError::new(
                "unsupported_token_type",
                "this token type is not supported",
            )),
        }
    }

    pub fn session_user(&self, token: &str, now: DateTime<Utc>) -> Option<String> {
        self.access
            .get(token)
            .filter(|s| now < s.expires_at)
            .map(|s| s.user_id.clone())
    }
}

fn url_origin(u: &str) -> Option<&str> {
    let rest = u
        .strip_prefix("http://")
        .or_else(|| u.strip_prefix("https://"))
        .or_else(|| u.split_once("://").map(|(_, r)| r))?;
    (!rest.is_empty()).then_some(rest)
}

/// Checks the JWT's structure (three base64url parts, RS256 header, JSON claims, a non-empty signature).
/// The signature itself is not verified: any RS256 signature from a registered consumer key is accepted.
pub fn jwt_claims(assertion: &str) -> Result<Json, OAuthError> {
    let invalid = || OAuthError::new("invalid_grant", "invalid assertion");
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header, payload, signature] = parts.as_slice() else {
        return Err(invalid());
    };
    let decode = |s: &str| {
        URL_SAFE_NO_PAD
            .decode(s.trim_end_matches('='))
            .map_err(|_| invalid())
    };
    let header: Json = serde_json::from_slice(&decode(header)?).map_err(|_| invalid())?;
    if header.get("alg").and_then(Json::as_str) != Some("RS256") {
        return Err(invalid());
    }
    let claims: Json = serde_json::from_slice(&decode(payload)?).map_err(|_| invalid())?;
    if !claims.is_object() || decode(signature)?.is_empty() {
        return Err(invalid());
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn jwt_structure_checks() {
        let enc = |j: &str| URL_SAFE_NO_PAD.encode(j);
        let good = format!(
            "{}.{}.{}",
            enc(r#"{"alg":"RS256"}"#),
            enc(r#"{"iss":"x"}"#),
            enc("sig")
        );
        assert!(jwt_claims(&good).is_ok());
        assert!(jwt_claims("abc").is_err());
        assert!(jwt_claims(&format!("{}.{}.", enc(r#"{"alg":"RS256"}"#), enc("{}"))).is_err());
        assert!(
            jwt_claims(&format!(
                "{}.{}.{}",
                enc(r#"{"alg":"HS256"}"#),
                enc("{}"),
                enc("s")
            ))
            .is_err()
        );
        assert!(
            jwt_claims(&format!(
                "{}.{}.{}",
                enc(r#"{"alg":"RS256"}"#),
                "!!!",
                enc("s")
            ))
            .is_err()
        );
    }
}
