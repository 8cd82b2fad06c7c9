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
