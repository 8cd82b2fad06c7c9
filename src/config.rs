//! The settings file (`tandem.toml` in the data directory): what the user chose, read strictly so
//! a typo is an error that names the line instead of a setting silently ignored.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tandem_protocol::{ConflictPolicy, RecordKind};

pub const SETTINGS_FILE: &str = "tandem.toml";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    pub contacts: KindSettings,
    #[serde(default)]
    pub events: KindSettings,
    #[serde(default)]
    pub tasks: KindSettings,
    #[serde(default)]
    pub server: ServerSettings,
}

/// The CalDAV/CardDAV server: the account desktop clients log in with.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// User name for HTTP Basic authentication.
    #[serde(default)]
    pub user: Option<String>,
    /// Password; generated on first start when missing.
    #[serde(default)]
    pub password: Option<String>,
    /// A PEM certificate chain and private key: serve HTTPS (Apple clients send passwords only
    /// over HTTPS).
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
}

/// Settings that exist separately for contacts, events and tasks.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct KindSettings {
    /// Which value wins when both sides changed the same field: newest-wins, salesforce-wins or
    /// desktop-wins.
    #[serde(default)]
    pub conflict_policy: ConflictPolicy,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the settings file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the settings file {path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// Write the settings file atomically, readable by the user only (it holds passwords and tokens).
pub fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let partial = path.with_extension(format!("toml.{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&partial)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&partial, path)
}

/// Make sure the settings name a user and password for the DAV server, generating a password
/// (and writing it into the settings file, keeping everything else in it as it was) on first
/// start. Returns the user and password.
pub fn ensure_server_credentials(dir: &Path) -> Result<(String, String), ConfigError> {
    let path = dir.join(SETTINGS_FILE);
    let settings = Settings::load(dir)?;
    if let (Some(user), Some(password)) = (&settings.server.user, &settings.server.password) {
        return Ok((user.clone(), password.clone()));
    }
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => return Err(ConfigError::Read { path, source }),
    };
    let mut doc: toml_edit::DocumentMut =
        text.parse()
            .map_err(|e: toml_edit::TomlError| ConfigError::Invalid {
                path: path.clone(),
                message: e.to_string(),
            })?;
    let user = settings.server.user.unwrap_or_else(|| "tandem".to_string());
    let password = settings.server.password.unwrap_or_else(generate_password);
    let server = doc
        .entry("server")
        .or_insert_with(|| toml_edit::Item::Table(toml_edit::Table::new()));
    server["user"] = toml_edit::value(user.clone());
    server["password"] = toml_edit::value(password.clone());
    write_private(&path, &doc.to_string()).map_err(|source| ConfigError::Read {
        path: path.clone(),
        source,
    })?;
    Ok((user, password))
}

fn generate_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

impl Settings {
    pub fn for_kind(&self, kind: RecordKind) -> &KindSettings {
        match kind {
            RecordKind::Contact => &self.contacts,
            RecordKind::Event => &self.events,
            RecordKind::Task => &self.tasks,
        }
    }

    pub fn policy(&self, kind: RecordKind) -> ConflictPolicy {
        self.for_kind(kind).conflict_policy
    }

    /// Read the settings of a data directory; a missing file means the defaults.
    pub fn load(dir: &Path) -> Result<Settings, ConfigError> {
        let path = dir.join(SETTINGS_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Settings::default()),
            Err(source) => return Err(ConfigError::Read { path, source }),
        };
        Settings::parse(&text).map_err(|message| ConfigError::Invalid { path, message })
    }

    /// Parse settings text; the error names the line and column (toml's message does).
    pub fn parse(text: &str) -> Result<Settings, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(Settings::parse("").unwrap(), Settings::default());
        let s = Settings::parse("[events]\nconflict_policy = \"salesforce-wins\"\n").unwrap();
        assert_eq!(s.policy(RecordKind::Event), ConflictPolicy::SalesforceWins);
        assert_eq!(s.policy(RecordKind::Contact), ConflictPolicy::NewestWins);
    }

    #[test]
    fn a_bad_key_or_value_names_the_line() {
        let err = Settings::parse("[contacts]\n\nconflict_polcy = \"newest-wins\"\n").unwrap_err();
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("conflict_polcy"), "{err}");
        let err = Settings::parse("[tasks]\nconflict_policy = \"loudest-wins\"\n").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
    }
}
