//! The login JWT: HS256 over `{iss, sub, aud, scopes, iat, exp, jti}` with a key made at random at
//! each start, so a restart (or [`crate::DominoHandle::restart_keys`]) invalidates every token
//! issued before it, as DRAPI's does (docs/references/security/authentication.md).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The issuer the emulator names in its tokens.
pub const ISSUER: &str = "Domino REST API emulator";

/// What a token says: the Notes DN it was issued to, its scopes, and when it expires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    /// The user's Notes distinguished name, `CN=…/O=…`.
    pub sub: String,
    pub aud: String,
    /// Space separated, as DRAPI's `scopes` claim: `"MAIL $DATA"`.
    pub scopes: String,
    pub iat: i64,
    pub exp: i64,
    /// The token's serial number at this server, so tokens can be expired by when they were
    /// issued even within one second of a test's frozen clock.
    pub jti: String,
}

impl Claims {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes
            .split_whitespace()
            .any(|s| s.eq_ignore_ascii_case(scope))
    }
}

/// Why a bearer token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    BadSignature,
}

/// A signing key; a new one is made at start and at each simulated restart.
pub struct Key([u8; 32]);

impl Key {
    pub fn random() -> Key {
        Key(rand::random())
    }

    fn mac(&self, input: &[u8]) -> Vec<u8> {
        // HMAC accepts a key of any length, so this cannot fail for our 32 bytes.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(input);
        mac.finalize().into_bytes().to_vec()
    }

    pub fn sign(&self, claims: &Claims) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(claims).unwrap_or_else(|_| unreachable!("plain struct")));
        let input = format!("{header}.{payload}");
        let signature = URL_SAFE_NO_PAD.encode(self.mac(input.as_bytes()));
        format!("{input}.{signature}")
    }

    /// The claims of a token this key signed; expiry is the caller's to check (it needs the
    /// emulator's clock).
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::Malformed)?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(format!("{header}.{payload}").as_bytes());
        // verify_slice compares in constant time.
        mac.verify_slice(&signature)
            .map_err(|_| TokenError::BadSignature)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Malformed)?;
        serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            iss: ISSUER.into(),
            sub: "CN=Ann Lee/O=Acme".into(),
            aud: "Domino".into(),
            scopes: "MAIL $DATA".into(),
            iat: 0,
            exp: 10,
            jti: "1".into(),
        }
    }

    #[test]
    fn a_token_verifies_with_its_key_only() {
        let key = Key::random();
        let token = key.sign(&claims());
        assert_eq!(key.verify(&token), Ok(claims()));
        assert_eq!(Key::random().verify(&token), Err(TokenError::BadSignature));
        assert_eq!(key.verify("a.b"), Err(TokenError::Malformed));
    }
}
