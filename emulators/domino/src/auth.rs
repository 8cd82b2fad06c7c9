//! `POST /api/v1/auth` (authLogin, openapi.basis.json) and the bearer check every other
//! request goes through: signature by the current key, `aud: "Domino"`, expiry by the
//! emulator's clock, the scope the API needs, and the mail file's ACL.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

use crate::error::{DominoError, Envelope};
use crate::jwt::{self, Claims};
use crate::{Shared, TOKEN_SECONDS, lock};

/// The scopes a login gets when it asks for none (docs/references/schemacomponents/scopes.md).
pub const DEFAULT_SCOPES: &str = "MAIL $DATA";

/// BasicAuthRequest.
#[derive(Deserialize)]
pub struct Login {
    username: String,
    password: String,
    scope: Option<String>,
}

/// AuthResult.
pub struct Issued {
    pub bearer: String,
    pub claims: Claims,
}

/// A token for a known user; `None` for anyone else.
pub fn issue(shared: &Shared, username: &str, scope: Option<&str>) -> Option<Issued> {
    let mut auth = lock(&shared.auth);
    let dn = auth.users.get(username)?.dn.clone();
    auth.issued += 1;
    let iat = shared.now().timestamp();
    let claims = Claims {
        iss: jwt::ISSUER.to_string(),
        sub: dn,
        aud: "Domino".to_string(),
        scopes: scope.unwrap_or(DEFAULT_SCOPES).to_string(),
        iat,
        exp: iat + TOKEN_SECONDS,
        jti: auth.issued.to_string(),
    };
    Some(Issued {
        bearer: auth.key.sign(&claims),
        claims,
    })
}

pub async fn login(
    State(shared): State<Arc<Shared>>,
    body: Result<Json<Login>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, DominoError> {
    let Json(login) = body.map_err(|e| DominoError::bad_request(e.body_text()))?;
    let known = lock(&shared.auth)
        .users
        .get(&login.username)
        .is_some_and(|u| u.password == login.password);
    if !known {
        return Err(DominoError::bad_credentials());
    }
    let issued = issue(&shared, &login.username, login.scope.as_deref())
        .ok_or_else(DominoError::bad_credentials)?;
    let issue_date = lock(&shared.mail).format_time(shared.now());
    Ok(Json(json!({
        "bearer": issued.bearer,
        "claims": issued.claims,
        "leeway": 5,
        "expSeconds": TOKEN_SECONDS,
        "issueDate": issue_date,
    })))
}

/// The claims of a request that must carry a valid bearer with one of `scopes`, from a user the
/// mail file's ACL lets in; errors in the envelope of the API asked.
pub fn session(
    shared: &Shared,
    headers: &HeaderMap,
    scopes: &[&str],
    envelope: Envelope,
) -> Result<Claims, DominoError> {
    let in_envelope = |mut e: DominoError| {
        e.envelope = envelope;
        e
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .ok_or_else(|| in_envelope(DominoError::unauthorized("no bearer token")))?;
    let auth = lock(&shared.auth);
    let claims = auth
        .key
        .verify(token.trim())
        .map_err(|_| in_envelope(DominoError::unauthorized("invalid token")))?;
    let now = shared.now().timestamp();
    if claims.aud != "Domino"
        || claims.exp <= now
        || claims
            .jti
            .parse::<u64>()
            .is_ok_and(|serial| serial <= auth.expired_through)
    {
        return Err(in_envelope(DominoError::unauthorized("token expired")));
    }
    if !scopes.iter().any(|s| claims.has_scope(s)) {
        return Err(in_envelope(DominoError::forbidden(&format!(
            "the token's scopes include none of {}",
            scopes.join(", ")
        ))));
    }
    let allowed = auth.users.values().any(|u| u.dn == claims.sub && u.access);
    if !allowed {
        return Err(in_envelope(DominoError::forbidden(
            "the mail file's ACL does not let this user in",
        )));
    }
    Ok(claims)
}
