//! The settings in effect, as a front shows them: every kind's rules with the defaults filled
//! in, and the accounts without their secrets (passwords and tokens never leave the settings
//! file).

use crate::config::{Settings, UpdateCheck};
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
