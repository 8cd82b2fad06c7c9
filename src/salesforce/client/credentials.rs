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

    /// Sets (`Some`) or removes (`None`) keys of `[salesforce]` and replaces the file atomically.
    /// The result is checked with the strict settings parser before anything is written, so a
    /// bad value can never leave an unreadable settings file behind.
    pub fn set(&self, values: &[(&str, Option<&str>)]) -> Result<(), ClientError> {
        let fail =
            |what: String| ClientError::Credentials(format!("{}: {what}", self.path.display()));
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(fail(format!("cannot read it: {e}"))),
        };
        let mut doc: toml_edit::DocumentMut = text
            .parse()
            .map_err(|e| fail(format!("it is not valid TOML: {e}")))?;
        let section = doc
            .entry("salesforce")
            .or_insert(toml_edit::Item::Table(toml_edit::Table::new()))
            .as_table_mut()
            .ok_or_else(|| fail("`salesforce` is not a [salesforce] table".into()))?;
        for (key, value) in values {
            match value {
                Some(v) => {
                    section.insert(key, toml_edit::value(*v));
                }
                None => {
                    section.remove(key);
                }
            }
        }
        let new_text = doc.to_string();
        Settings::parse(&new_text)
            .map_err(|e| fail(format!("the new settings would be invalid: {e}")))?;
        crate::config::write_private(&self.path, new_text.as_bytes())
            .map_err(|e| fail(e.to_string()))
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
