//! Proof Key for Code Exchange (RFC 7636) for the sign-ins tandem starts (Salesforce, Outlook):
//! the secrets a sign-in makes from chance the caller draws, and the S256 challenge of a
//! verifier.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A `state` or `code_verifier` from 32 random bytes: 43 URL-safe characters (§4.1).
pub fn secret(random: [u8; 32]) -> String {
    URL_SAFE_NO_PAD.encode(random)
}

/// The S256 `code_challenge` of a verifier (§4.2).
pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_rfc_7636s_example() {
        // RFC 7636, appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            challenge(verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(secret([0; 32]).len(), 43);
    }
}
