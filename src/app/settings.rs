//! The settings in effect, as a front shows them: every kind's rules with the defaults filled
//! in, and the accounts without their secrets (passwords and tokens never leave the settings
//! file).

use super::{App, AppError};
use crate::config::{self, Change, SETTINGS_FILE, Settings, UpdateCheck};
use serde::{Deserialize, Serialize};
use tandem_protocol::RecordKind;
use tandem_protocol::rules::Rules;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SettingsView {
    pub contacts: Rules,
    pub events: Rules,
    pub tasks: Rules,
    /// The CalDAV/CardDAV account's user name.
    pub server_user: Option<String>,
    pub server_tls: bool,
    pub salesforce: SalesforceView,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SalesforceView {
    pub login_url: String,
    pub instance_url: Option<String>,
    pub username: Option<String>,
    /// tandem holds what it needs to log in (a refresh token or a JWT key).
    pub signed_in: bool,
    pub external_id_field: Option<String>,
    pub update_check: UpdateCheck,
    pub max_calls_per_run: u64,
}

impl SettingsView {
    pub fn of(settings: &Settings) -> SettingsView {
        let s = &settings.salesforce;
        SettingsView {
            contacts: settings.rules(RecordKind::Contact),
            events: settings.rules(RecordKind::Event),
            tasks: settings.rules(RecordKind::Task),
            server_user: settings.server.user.clone(),
            server_tls: settings.server.tls_cert.is_some(),
            salesforce: SalesforceView {
                login_url: s.login_url.clone(),
                instance_url: s.instance_url.clone(),
                username: s.username.clone(),
                signed_in: s.signed_in(),
                external_id_field: s.external_id_field.clone(),
                update_check: s.update_check,
                max_calls_per_run: s.max_calls_per_run,
            },
        }
    }
}

/// A change to one setting that cannot be made, and why, in the words the settings file's
/// checks use.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("[{section}] {key}: {message}")]
pub struct FieldError {
    pub section: String,
    pub key: String,
    pub message: String,
}

impl App {
    /// The settings as the file has them now (what a settings page edits; the daemon takes them
    /// up within a second).
    pub fn settings_on_disk(&self) -> Result<SettingsView, AppError> {
        Ok(SettingsView::of(&Settings::load(&self.dir)?))
    }

    /// Make `changes` to the settings file, keeping the user's comments. Each change is checked
    /// on its own first, so every bad value is named with its field; if any is bad, nothing is
    /// written.
    pub fn save_settings(&self, changes: &[Change]) -> Result<(), AppError> {
        let path = self.dir.join(SETTINGS_FILE);
        let text = config::read_text(&path)?;
        let errors: Vec<FieldError> = changes
            .iter()
            .filter_map(|change| {
                let refused = config::changed(&text, std::slice::from_ref(change)).err()?;
                // The file's own message, without the line of a file that was never written.
                let message = refused.to_string();
                let message = match message.split_once(": ") {
                    Some((line, rest)) if line.starts_with("line ") => rest.to_string(),
                    _ => message,
                };
                Some(FieldError {
                    section: change.section.clone(),
                    key: change.key.clone(),
                    message,
                })
            })
            .collect();
        if !errors.is_empty() {
            return Err(AppError::SettingsRejected(errors));
        }
        config::edit(&path, changes)?;
        Ok(())
    }
}
