//! Where tandem's Salesforce tokens live: the `[salesforce]` section of the settings file, edited
//! in place (the user's comments and other sections stay) and replaced atomically with mode 0600.

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

    pub fn at(path: impl Into<PathBuf>) -> CredentialsFile {
        CredentialsFile { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The `[salesforce]` section as it is on disk now (defaults when the file does not exist).
    pub fn load(&self) -> Result<SalesforceSettings, ClientError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                return Err(ClientError::Credentials(format!(
                    "cannot read {}: {e}",
                    self.path.display()
                )));
            }
        };
        Settings::parse(&text)
            .map(|s| s.salesforce)
            .map_err(|e| ClientError::Credentials(format!("{}: {e}", self.path.display())))
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
