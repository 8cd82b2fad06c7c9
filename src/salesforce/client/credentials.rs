//! Where tandem's Salesforce tokens live: the `[salesforce]` section of the settings file, edited
//! in place (the user's comments and other sections stay) and replaced atomically with mode 0600,
//! its secrets in the OS keychain where there is one (see `config::edit`).

use std::path::{Path, PathBuf};

use crate::config::{SETTINGS_FILE, SalesforceSettings, Settings};

use super::ClientError;

/// The settings file that holds the `[salesforce]` section.
#[derive(Clone, Debug)]
pub struct CredentialsFile {
    path: PathBuf,
}

impl CredentialsFile {
    /// `tandem.toml` in a data directory.
    pub fn in_dir(dir: &Path) -> CredentialsFile {
        CredentialsFile {
            path: dir.join(SETTINGS_FILE),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The `[salesforce]` section as it is now (defaults when the file does not exist), its
    /// secrets read from the OS keychain where they are kept there.
    pub fn load(&self) -> Result<SalesforceSettings, ClientError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        Settings::load(dir)
            .map(|s| s.salesforce)
            .map_err(|e| ClientError::Credentials(e.to_string()))
    }

    /// Sets (`Some`) or removes (`None`) keys of `[salesforce]` (see `config::set`).
    pub fn set(&self, values: &[(&str, Option<&str>)]) -> Result<(), ClientError> {
        crate::config::set(&self.path, "salesforce", values)
            .map_err(|e| ClientError::Credentials(e.to_string()))
    }

    /// Stores a rotated refresh token (and the instance it came with).
    pub fn save_refresh_token(
        &self,
        refresh_token: &str,
        instance_url: &str,
    ) -> Result<(), ClientError> {
        self.set(&[
            ("refresh_token", Some(refresh_token)),
            ("instance_url", Some(instance_url)),
        ])
    }
}
