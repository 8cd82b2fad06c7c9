//! Signing tandem in to Notes: the Domino REST API's login (`POST /api/v1/auth`) with the
//! user's name and HTTP password, proved on the mail file before anything is saved; then the
//! server, the user and the password go to the `[notes]` section of the settings file (mode
//! 0600), and the user hears what their server lets tandem reach.

use super::AppError;
use crate::config::{NotesItems, NotesSettings, SETTINGS_FILE, Settings};
use crate::notes::{NotesClient, Reach};
use std::path::{Path, PathBuf};

/// Where and as whom to sign in; what is not given comes from the settings.
#[derive(Clone, Debug, Default)]
pub struct NotesSignInArgs {
    pub url: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub data_source: Option<String>,
}

/// A sign-in that worked: where the settings went, and what the server lets tandem reach.
pub struct NotesSignedIn {
    pub settings_file: PathBuf,
    pub reach: Reach,
}

/// Log in, find what the server lets tandem reach, and keep the account.
pub async fn sign_in(dir: &Path, args: &NotesSignInArgs) -> Result<NotesSignedIn, AppError> {
    let mut settings: NotesSettings = Settings::load(dir)?.notes;
    if let Some(url) = &args.url {
        settings.url = Some(url.trim_end_matches('/').to_string());
    }
    if let Some(username) = &args.username {
        settings.username = Some(username.clone());
    }
    if let Some(password) = &args.password {
        settings.password = Some(password.clone());
    }
    if let Some(scope) = &args.data_source {
        settings.data_source = scope.clone();
    }
    settings.check()?;
    if settings.url.is_none() || settings.username.is_none() || settings.password.is_none() {
        return Err(AppError::NoNotesAccount);
    }
    let reach = NotesClient::new(settings.clone())?.reach().await?;
    if !reach.documents && !reach.items && !reach.calendar {
        return Err(crate::notes::NotesError::NoDocuments {
            why: "neither the mail file's scope nor its calendar answered".into(),
        }
        .into());
    }
    let path = dir.join(SETTINGS_FILE);
    crate::config::set(
        &path,
        "notes",
        &[
            ("url", settings.url.as_deref()),
            ("username", settings.username.as_deref()),
            ("password", settings.password.as_deref()),
            ("data_source", Some(settings.data_source.as_str())),
            (
                "contacts_and_todos",
                Some(if reach.documents {
                    NotesItems::Documents.as_str()
                } else {
                    NotesItems::PimItems.as_str()
                }),
            ),
        ],
    )?;
    Ok(NotesSignedIn {
        settings_file: path,
        reach,
    })
}

/// What the user's server lets tandem sync, said plainly.
pub fn reach_text(reach: &Reach) -> String {
    let mut said = Vec::new();
    if reach.documents || reach.items {
        said.push("contacts (those in the category your [contacts] settings name) and to-dos");
    }
    if reach.calendar {
        said.push("calendar entries");
    }
    let mut text = format!("Notes syncs {}.", said.join(" and "));
    let ask = "Ask your administrator for a Domino REST API scope for your mail file and give it with `tandem login notes --data-source NAME` (README, \"Notes\").";
    if reach.items {
        text.push_str(&format!(
            " Your mail file has no REST API scope tandem can use, so contacts and to-dos go through the PIM API: they are read and updated both ways, but tandem cannot create them in Notes (the summary lists those as prevented) nor delete them there. {ask}"
        ));
    } else if !reach.documents {
        text.push_str(&format!(
            " Contacts and to-dos do not: neither a REST API scope nor the PIM API's items answered. {ask}"
        ));
    }
    if !reach.calendar {
        text.push_str(" The calendar does not: the PIM API refused your mailbox.");
    }
    text
}
