//! Where a change comes from: the side of the bridge, and who on that side made it.
//!
//! A side is a value — a name — not an enum arm: the planner plans for whatever sides hold a
//! record, the store keeps each side's copy under its name, and a new connector (Outlook through
//! Microsoft Graph, Notes through the Domino REST API) is one more name, not a new branch. A
//! side's [`Role`] is what the rules ask of it: the CRM holds the mapped fields and is what
//! "to Salesforce" and "Salesforce wins" mean; every PIM is "the desktop".

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use tinystr::TinyAsciiStr;

/// A side of the sync, by name: lower-case ASCII letters, digits, `-` and `_`, at most 16.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Side(TinyAsciiStr<16>);

/// What a side is to the rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The CRM: Salesforce.
    Crm,
    /// A personal information manager: the CalDAV/CardDAV server and its clients, Outlook, Notes.
    Pim,
}

const fn named(name: &str) -> Side {
    match TinyAsciiStr::try_from_str(name) {
        Ok(name) => Side(name),
        Err(_) => panic!("a side's name is at most 16 ASCII characters"),
    }
}

impl Side {
    /// The CalDAV/CardDAV server, and every desktop and phone client behind it.
    pub const DESKTOP: Side = named("desktop");
    pub const SALESFORCE: Side = named("salesforce");
    /// tandem itself acting for the user (a restore, a decision, a write it makes): an origin of
    /// changes, never a side that holds records.
    pub const TANDEM: Side = named("tandem");

    /// The sides this build syncs, in the order the summary shows them.
    pub const SYNCED: [Side; 2] = [Side::SALESFORCE, Side::DESKTOP];

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// A side by name; `None` for a name no side can have.
    pub fn parse(name: &str) -> Option<Side> {
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        valid
            .then(|| TinyAsciiStr::try_from_str(name).ok())
            .flatten()
            .map(Side)
    }

    /// What the side is to the rules; `None` for tandem itself.
    pub fn role(self) -> Option<Role> {
        if self == Side::SALESFORCE {
            Some(Role::Crm)
        } else if self == Side::TANDEM {
            None
        } else {
            Some(Role::Pim)
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Side {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Side {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Side, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Side::parse(&name).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`{name}` is not a side: a side is named with at most 16 lower-case letters, digits, `-` or `_` (desktop, salesforce, tandem…)"
            ))
        })
    }
}

/// Who made a change: the side, and a free-form agent such as `caldav:Thunderbird/128`,
/// `salesforce:005xx0000012345AAA` or `cli:restore`, shown in history and blame.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub side: Side,
    pub agent: String,
}

impl Origin {
    pub fn new(side: Side, agent: impl Into<String>) -> Origin {
        Origin {
            side,
            agent: agent.into(),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.agent.is_empty() {
            write!(f, "{}", self.side)
        } else {
            write!(f, "{} ({})", self.side, self.agent)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sides_are_names_with_a_role() {
        assert_eq!(Side::parse("desktop"), Some(Side::DESKTOP));
        assert_eq!(
            Side::parse("outlook").map(Side::role),
            Some(Some(Role::Pim))
        );
        assert_eq!(Side::SALESFORCE.role(), Some(Role::Crm));
        assert_eq!(Side::TANDEM.role(), None);
        for bad in ["", "Desktop", "a side", "seventeen-letters", "x:y"] {
            assert_eq!(Side::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_side_is_written_as_its_name() {
        let origin = Origin::new(Side::SALESFORCE, "salesforce:pull");
        let json = serde_json::to_string(&origin).unwrap();
        assert_eq!(json, r#"{"side":"salesforce","agent":"salesforce:pull"}"#);
        assert_eq!(serde_json::from_str::<Origin>(&json).unwrap(), origin);
        let err = serde_json::from_str::<Side>(r#""Sales Force""#).unwrap_err();
        assert!(err.to_string().contains("not a side"), "{err}");
    }
}
