//! Settings: what a user sets in `tandem.toml`, grouped like the seeds' dialog — per kind of
//! record: sync on or off, direction, the date window, private items, prevented operations per
//! side, automatic runs (interval, hours), scope, conflict policy and the description options.
//! Saved into `tandem.toml` keeping the user's comments; only what changed is written, each
//! change checked with the file's own messages, and a bad value is shown at its field with
//! nothing written.

use crate::app::{AppError, FieldError};
use crate::config::Change;
use crate::web::Web;
use crate::web::session::Session;
use crate::web::view::{Base, failure, render};
use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use tandem_protocol::rules::Rules;
use tandem_protocol::{Op, Side};

#[derive(Template)]
#[template(path = "web/settings.html")]
struct SettingsPage {
    base: Base,
    saved: bool,
    kinds: Vec<KindForm>,
    /// Every field's value as the form shows it (`section.key`).
    values: BTreeMap<String, String>,
    errors: Vec<FieldError>,
    /// Changed settings the running daemon takes up only after a restart.
    awaiting_restart: Vec<String>,
}

struct KindForm {
    key: &'static str,
    title: &'static str,
    /// The check boxes this kind's form has (absent from a submitted form when unticked).
    flags: &'static [&'static str],
    /// The text fields it has (empty: the key is removed, its default applies).
    texts: &'static [&'static str],
    /// Events and tasks: a date window.
    dated: bool,
}

impl KindForm {
    fn has(&self, field: &str) -> bool {
        self.flags.contains(&field) || self.texts.contains(&field)
    }
}

const PREVENT: [&str; 6] = [
    "prevent_salesforce.create",
    "prevent_salesforce.update",
    "prevent_salesforce.delete",
    "prevent_desktop.create",
    "prevent_desktop.update",
    "prevent_desktop.delete",
];

const KINDS: [KindForm; 3] = [
    KindForm {
        key: "contacts",
        title: "Contacts",
        flags: &["enabled", "automatic", "owner_only", "link_account"],
        texts: &["category", "address_book", "salesforce_filter"],
        dated: false,
    },
    KindForm {
        key: "events",
        title: "Calendar",
        flags: &[
            "enabled",
            "automatic",
            "owner_only",
            "sync_private",
            "keep_rich_body",
            "invitees_in_description",
            "attachments_in_description",
        ],
        texts: &["salesforce_filter"],
        dated: true,
    },
    KindForm {
        key: "tasks",
        title: "Tasks",
        flags: &[
            "enabled",
            "automatic",
            "owner_only",
            "sync_private",
            "keep_rich_body",
            "only_related",
        ],
        texts: &["salesforce_filter"],
        dated: true,
    },
];

impl SettingsPage {
    fn v(&self, kind: &str, key: &str) -> String {
        self.values
            .get(&format!("{kind}.{key}"))
            .cloned()
            .unwrap_or_default()
    }

    fn checked(&self, kind: &str, key: &str) -> bool {
        self.v(kind, key) == "on"
    }

    fn error(&self, kind: &str, key: &str) -> Option<String> {
        self.errors
            .iter()
            .find(|e| e.section == kind && (e.key == key || e.key.starts_with(&format!("{key}."))))
            .map(|e| e.message.clone())
    }
}

/// The form's values for the rules in force: what the page shows, and what a submitted form is
/// compared with (only a difference is written).
fn values_of(rules: &Rules, kind: &str, into: &mut BTreeMap<String, String>) {
    let mut put = |key: &str, value: String| {
        into.insert(format!("{kind}.{key}"), value);
    };
    let flag = |on: bool| if on { "on" } else { "" }.to_string();
    put("enabled", flag(rules.enabled));
    put("direction", serde_plain(&rules.direction));
    put("conflict_policy", rules.conflict_policy.as_str().into());
    put("automatic", flag(rules.automatic));
    put("every_minutes", rules.every_minutes.to_string());
    put(
        "hours_from",
        rules
            .hours
            .map(|h| h.from.format("%H:%M").to_string())
            .unwrap_or_default(),
    );
    put(
        "hours_to",
        rules
            .hours
            .map(|h| h.to.format("%H:%M").to_string())
            .unwrap_or_default(),
    );
    put("past_days", rules.past_days.to_string());
    put("future_days", rules.future_days.to_string());
    put("sync_private", flag(rules.sync_private));
    put("keep_rich_body", flag(rules.keep_rich_body));
    put("category", rules.category.clone().unwrap_or_default());
    put("address_book", rules.address_book.clone());
    put("owner_only", flag(rules.owner_only));
    put(
        "salesforce_filter",
        rules.salesforce_filter.clone().unwrap_or_default(),
    );
    put("link_account", flag(rules.link_account));
    put(
        "invitees_in_description",
        flag(rules.invitees_in_description),
    );
    put(
        "attachments_in_description",
        flag(rules.attachments_in_description),
    );
    put("only_related", flag(rules.only_related));
    for (side, name) in [(Side::SALESFORCE, "salesforce"), (Side::DESKTOP, "desktop")] {
        for op in [Op::Create, Op::Update, Op::Delete] {
            put(
                &format!("prevent_{name}.{}", op.as_str()),
                flag(rules.prevented(side, op)),
            );
        }
    }
}

/// A value as its serde name (`to-salesforce`).
fn serde_plain(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn shown(web: &Web) -> Result<BTreeMap<String, String>, AppError> {
    let settings = web.app().settings_on_disk()?;
    let mut values = BTreeMap::new();
    for (rules, kind) in [
        (&settings.contacts, "contacts"),
        (&settings.events, "events"),
        (&settings.tasks, "tasks"),
    ] {
        values_of(rules, kind, &mut values);
    }
    Ok(values)
}

#[derive(Deserialize)]
pub struct Saved {
    saved: Option<String>,
}

pub async fn page(
    State(web): State<Arc<Web>>,
    Extension(session): Extension<Session>,
    Query(saved): Query<Saved>,
) -> Response {
    let values = match shown(&web) {
        Ok(values) => values,
        Err(e) => return failure(&e.to_string()),
    };
    render(&SettingsPage {
        base: Base::new(&web, &session, "Settings", "settings"),
        saved: saved.saved.is_some(),
        kinds: KINDS.into_iter().collect(),
        values,
        errors: Vec::new(),
        awaiting_restart: awaiting_restart(&web),
    })
}

fn awaiting_restart(web: &Web) -> Vec<String> {
    match &web.app().serving {
        crate::app::Serving::Daemon {
            awaiting_restart, ..
        } => awaiting_restart.clone(),
        crate::app::Serving::Local => Vec::new(),
    }
}

pub async fn save(
    State(web): State<Arc<Web>>,
    Extension(session): Extension<Session>,
    body: Bytes,
) -> Response {
    let current = match shown(&web) {
        Ok(values) => values,
        Err(e) => return failure(&e.to_string()),
    };
    let mut submitted: BTreeMap<String, String> = form_urlencoded::parse(&body)
        .filter(|(name, _)| current.contains_key(name.as_ref()))
        .map(|(name, value)| (name.into_owned(), value.trim().to_string()))
        .collect();
    for kind in KINDS {
        for flag in kind.flags.iter().chain(&PREVENT) {
            submitted.entry(format!("{}.{flag}", kind.key)).or_default();
        }
    }
    let (changes, mut errors) = changes(&current, &submitted);
    if errors.is_empty() {
        match web.app().save_settings(&changes) {
            Ok(()) => return Redirect::to("/app/settings?saved=1").into_response(),
            Err(AppError::SettingsRejected(rejected)) => errors = rejected,
            Err(e) => return failure(&e.to_string()),
        }
    }
    // Nothing was written: the form comes back with what was typed and why it cannot be saved.
    let mut values = current;
    values.extend(submitted);
    render(&SettingsPage {
        base: Base::new(&web, &session, "Settings", "settings"),
        saved: false,
        kinds: KINDS.into_iter().collect(),
        values,
        errors,
        awaiting_restart: awaiting_restart(&web),
    })
}

/// The file changes a submitted form asks for: only keys whose value differs from the rules in
/// force, typed as the file wants them. A value that cannot even be typed is an error at its
/// field.
fn changes(
    current: &BTreeMap<String, String>,
    submitted: &BTreeMap<String, String>,
) -> (Vec<Change>, Vec<FieldError>) {
    let mut changes = Vec::new();
    let mut errors = Vec::new();
    let differs = |key: &str| submitted.get(key) != current.get(key);
    for kind in KINDS {
        let section = kind.key;
        let get = |key: &str| {
            submitted
                .get(&format!("{section}.{key}"))
                .cloned()
                .unwrap_or_default()
        };
        let error = |key: &str, message: String| FieldError {
            section: section.to_string(),
            key: key.to_string(),
            message,
        };
        for key in kind.flags {
            if differs(&format!("{section}.{key}")) {
                changes.push(Change::new(section, key, Some((get(key) == "on").into())));
            }
        }
        for key in ["direction", "conflict_policy"] {
            if differs(&format!("{section}.{key}")) {
                changes.push(Change::new(section, key, Some(get(key).into())));
            }
        }
        let numbers: &[&str] = if kind.dated {
            &["every_minutes", "past_days", "future_days"]
        } else {
            &["every_minutes"]
        };
        for key in numbers {
            if !differs(&format!("{section}.{key}")) {
                continue;
            }
            match get(key).parse::<i64>() {
                Ok(n) => changes.push(Change::new(section, key, Some(n.into()))),
                Err(_) => errors.push(error(key, format!("`{}` is not a whole number", get(key)))),
            }
        }
        for key in kind.texts {
            if differs(&format!("{section}.{key}")) {
                let text = get(key);
                let value = (!text.is_empty()).then(|| text.into());
                changes.push(Change::new(section, key, value));
            }
        }
        if differs(&format!("{section}.hours_from")) || differs(&format!("{section}.hours_to")) {
            match (get("hours_from"), get("hours_to")) {
                (from, to) if from.is_empty() && to.is_empty() => {
                    changes.push(Change::new(section, "hours", None));
                }
                (from, to) if from.is_empty() || to.is_empty() => errors.push(error(
                    "hours",
                    "give both ends of the time window, or neither for any time of day".into(),
                )),
                (from, to) => {
                    changes.push(Change::new(
                        section,
                        "hours",
                        Some(format!("{from}-{to}").into()),
                    ));
                }
            }
        }
        for side in ["salesforce", "desktop"] {
            let key = format!("prevent_{side}");
            let ops = ["create", "update", "delete"];
            if !ops
                .iter()
                .any(|op| differs(&format!("{section}.{key}.{op}")))
            {
                continue;
            }
            let mut list = toml_edit::Array::new();
            for op in ops.iter().filter(|op| get(&format!("{key}.{op}")) == "on") {
                list.push(*op);
            }
            changes.push(Change::new(section, &key, Some(list.into())));
        }
    }
    (changes, errors)
}
