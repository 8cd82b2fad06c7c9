//! The OS keychain as the home of tandem's secrets (the DAV password, refresh tokens, the Notes
//! password): the macOS Keychain, the Windows Credential Manager, the Secret Service on Linux.
//! Where none is reachable they stay in `tandem.toml`, which is mode 0600 for that reason.
//!
//! Each secret is one keychain entry of the service `tandem`, named after its settings key and
//! the data directory (`salesforce.refresh_token /home/ann/.local/share/tandem`), so two data
//! directories (a demo beside the real one) never share a token.

use std::path::Path;

const SERVICE: &str = "tandem";

/// A keychain that could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error(
    "the OS keychain refused {what}: {source}. Unlock the keychain (or start its service) and \
     try again, or set `[secrets] store = \"file\"` in tandem.toml to keep secrets there"
)]
pub struct KeychainError {
    what: String,
    #[source]
    source: keyring::Error,
}

impl KeychainError {
    fn new(verb: &str, section: &str, key: &str, source: keyring::Error) -> KeychainError {
        KeychainError {
            what: format!("to {verb} {section}.{key}"),
            source,
        }
    }
}

/// No OS keychain could be reached; the message is the platform's (keyring keeps the first
/// failure for the whole process, so only its text can be handed on).
#[derive(Debug, thiserror::Error)]
#[error("no OS keychain is reachable ({0})")]
pub struct NoKeychain(String);

/// The keychain entries of one data directory.
pub struct Keychain {
    directory: String,
}

impl Keychain {
    /// The keychain of this machine for the data directory `dir`, or why there is none (no
    /// keychain service on this machine, or no session to reach it through).
    pub fn of(dir: &Path) -> Result<Keychain, NoKeychain> {
        if let Err(e) = keyring::Entry::store_status() {
            return Err(NoKeychain(e.to_string()));
        }
        let directory = std::path::absolute(dir)
            .unwrap_or_else(|_| dir.to_path_buf())
            .display()
            .to_string();
        Ok(Keychain { directory })
    }

    fn entry(&self, section: &str, key: &str) -> Result<keyring::Entry, KeychainError> {
        keyring::Entry::new(SERVICE, &self.account(section, key))
            .map_err(|source| KeychainError::new("access", section, key, source))
    }

    fn account(&self, section: &str, key: &str) -> String {
        format!("{section}.{key} {}", self.directory)
    }

    /// The secret of a settings key, `None` when the keychain has none.
    pub fn get(&self, section: &str, key: &str) -> Result<Option<String>, KeychainError> {
        match self.entry(section, key)?.get_password() {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(source) => Err(KeychainError::new("read", section, key, source)),
        }
    }

    /// Keep `secret` as the value of a settings key.
    pub fn set(&self, section: &str, key: &str, secret: &str) -> Result<(), KeychainError> {
        self.entry(section, key)?
            .set_password(secret)
            .map_err(|source| KeychainError::new("store", section, key, source))
    }

    /// Forget a settings key's secret; forgetting one that is not there is no error.
    pub fn delete(&self, section: &str, key: &str) -> Result<(), KeychainError> {
        match self.entry(section, key)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(source) => Err(KeychainError::new("delete", section, key, source)),
        }
    }
}
