//! Conflict policy: which of several concurrent values of one field is the current one.

use crate::side::{Role, Side};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The user's rule for concurrent edits of the same field. Whatever it picks, the other values
/// stay in the record's history and are listed as a conflict.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConflictPolicy {
    /// The change made last (by the side's own modification time when it reports one) wins.
    #[default]
    NewestWins,
    SalesforceWins,
    DesktopWins,
}

impl ConflictPolicy {
    /// Whether this policy prefers a value from `side`: Salesforce wins prefers the CRM, desktop
    /// wins every PIM; tandem's own changes are never preferred.
    pub fn prefers(self, side: Side) -> bool {
        match self {
            ConflictPolicy::NewestWins => false,
            ConflictPolicy::SalesforceWins => side.role() == Some(Role::Crm),
            ConflictPolicy::DesktopWins => side.role() == Some(Role::Pim),
        }
    }

    /// Why this policy keeps the value it keeps, in a sentence's words.
    pub fn explain(self) -> &'static str {
        match self {
            ConflictPolicy::NewestWins => "the change made last wins",
            ConflictPolicy::SalesforceWins => "Salesforce's value wins",
            ConflictPolicy::DesktopWins => "the desktop's value wins",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ConflictPolicy::NewestWins => "newest-wins",
            ConflictPolicy::SalesforceWins => "salesforce-wins",
            ConflictPolicy::DesktopWins => "desktop-wins",
        }
    }
}

impl fmt::Display for ConflictPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ConflictPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "newest-wins" => Ok(ConflictPolicy::NewestWins),
            "salesforce-wins" => Ok(ConflictPolicy::SalesforceWins),
            "desktop-wins" => Ok(ConflictPolicy::DesktopWins),
            other => Err(format!(
                "unknown conflict policy `{other}`: use newest-wins, salesforce-wins or desktop-wins"
            )),
        }
    }
}

/// The conflict policy of each kind of record: what the store's merge needs of the settings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Policies {
    pub contacts: ConflictPolicy,
    pub events: ConflictPolicy,
    pub tasks: ConflictPolicy,
}

impl Policies {
    pub fn of(&self, kind: crate::record::RecordKind) -> ConflictPolicy {
        match kind {
            crate::record::RecordKind::Contact => self.contacts,
            crate::record::RecordKind::Event => self.events,
            crate::record::RecordKind::Task => self.tasks,
        }
    }
}
