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
    /// Outlook on Exchange Online, through Microsoft Graph.
    pub const OUTLOOK: Side = named("outlook");
    /// HCL Notes: the user's mail file on a Domino server, through the Domino REST API.
    pub const NOTES: Side = named("notes");
    /// tandem itself acting for the user (a restore, a decision, a write it makes): an origin of
    /// changes, never a side that holds records.
    pub const TANDEM: Side = named("tandem");

    /// The sides every run syncs, in the order the summary shows them; a connector's side
    /// (Outlook, Notes) joins them once tandem is signed in to it.
    pub const SYNCED: [Side; 2] = [Side::SALESFORCE, Side::DESKTOP];

    /// Every side this build can sync.
    pub const KNOWN: [Side; 4] = [Side::SALESFORCE, Side::DESKTOP, Side::OUTLOOK, Side::NOTES];

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
    /// The side as a sentence names it: Salesforce and Outlook are names, the desktop is a place.
    pub fn title(self) -> String {
        match self {
            Side::SALESFORCE => "Salesforce".into(),
            Side::OUTLOOK => "Outlook".into(),
            Side::NOTES => "Notes".into(),
            side => side.as_str().into(),
        }
    }

    /// What one call to the side's API is called, singular and plural ("Graph request").
    pub fn call_name(self) -> (&'static str, &'static str) {
        match self {
            Side::SALESFORCE => ("Salesforce API call", "Salesforce API calls"),
            Side::OUTLOOK => ("Graph request", "Graph requests"),
            Side::NOTES => ("Domino REST API request", "Domino REST API requests"),
            _ => ("request", "requests"),
        }
    }

    /// What a summary's column says of an item the side does not have.
    pub fn missing(self) -> String {
        match self {
            Side::DESKTOP => "(not on the desktop)".into(),
            side => format!("(not in {})", side.title()),
        }
    }

    /// Whether the side reports only the contacts in scope (a connector reads the synced folder
    /// and the categorised contacts, never the personal ones), so whatever it holds is in scope.
    /// The DAV server holds every address book of its clients and says nothing of scope.
    pub fn scopes_itself(self) -> bool {
        self == Side::OUTLOOK || self == Side::NOTES
    }

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

/// One value per side, in side order. A record lives on a few sides at most, so a small sorted
/// list is what each record and each summary line carries (a tree map costs a node apiece).
/// Written as a map, `{"desktop": …, "salesforce": …}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PerSide<T>(Vec<(Side, T)>);

impl<T> Default for PerSide<T> {
    fn default() -> Self {
        PerSide(Vec::new())
    }
}

impl<T> PerSide<T> {
    pub fn new() -> Self {
        PerSide::default()
    }

    fn find(&self, side: Side) -> Result<usize, usize> {
        self.0.binary_search_by(|(s, _)| s.cmp(&side))
    }

    pub fn get(&self, side: Side) -> Option<&T> {
        self.find(side).ok().map(|i| &self.0[i].1)
    }

    pub fn get_mut(&mut self, side: Side) -> Option<&mut T> {
        self.find(side).ok().map(|i| &mut self.0[i].1)
    }

    pub fn contains(&self, side: Side) -> bool {
        self.find(side).is_ok()
    }

    /// Set the value of `side`; the value it had, if any.
    pub fn insert(&mut self, side: Side, value: T) -> Option<T> {
        match self.find(side) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (side, value));
                None
            }
        }
    }

    /// The value of `side`, made with `make` when it has none yet.
    pub fn get_or_insert_with(&mut self, side: Side, make: impl FnOnce() -> T) -> &mut T {
        let i = match self.find(side) {
            Ok(i) => i,
            Err(i) => {
                self.0.insert(i, (side, make()));
                i
            }
        };
        &mut self.0[i].1
    }

    pub fn retain(&mut self, mut keep: impl FnMut(Side, &T) -> bool) {
        self.0.retain(|(side, value)| keep(*side, value));
    }

    pub fn iter(&self) -> impl Iterator<Item = (Side, &T)> {
        self.0.iter().map(|(side, value)| (*side, value))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (Side, &mut T)> {
        self.0.iter_mut().map(|(side, value)| (*side, value))
    }

    pub fn sides(&self) -> impl Iterator<Item = Side> + '_ {
        self.0.iter().map(|(side, _)| *side)
    }

    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.0.iter().map(|(_, value)| value)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T> FromIterator<(Side, T)> for PerSide<T> {
    fn from_iter<I: IntoIterator<Item = (Side, T)>>(items: I) -> Self {
        let mut map = PerSide::new();
        for (side, value) in items {
            map.insert(side, value);
        }
        // Most hold one side or two, and a plan keeps one per item (100,000 in a first sync):
        // growing leaves room for four.
        map.0.shrink_to_fit();
        map
    }
}

impl<T> IntoIterator for PerSide<T> {
    type Item = (Side, T);
    type IntoIter = std::vec::IntoIter<(Side, T)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<T: Serialize> Serialize for PerSide<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(side, value)| (side, value)))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for PerSide<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<PerSide<T>, D::Error> {
        let map = std::collections::BTreeMap::<Side, T>::deserialize(d)?;
        Ok(map.into_iter().collect())
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
    fn a_per_side_map_keeps_side_order_and_reads_as_a_map() {
        let outlook = Side::parse("outlook").unwrap();
        let mut map: PerSide<u32> = [(Side::SALESFORCE, 1), (Side::DESKTOP, 2)]
            .into_iter()
            .collect();
        map.insert(outlook, 3);
        assert_eq!(map.insert(Side::DESKTOP, 4), Some(2));
        assert_eq!(
            map.sides().collect::<Vec<_>>(),
            vec![Side::DESKTOP, outlook, Side::SALESFORCE]
        );
        *map.get_or_insert_with(Side::TANDEM, || 0) += 5;
        assert_eq!(map.get(Side::TANDEM), Some(&5));
        map.retain(|side, _| side != outlook);
        assert!(!map.contains(outlook));
        let json = serde_json::to_string(&map).unwrap();
        assert_eq!(json, r#"{"desktop":4,"salesforce":1,"tandem":5}"#);
        assert_eq!(serde_json::from_str::<PerSide<u32>>(&json).unwrap(), map);
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
