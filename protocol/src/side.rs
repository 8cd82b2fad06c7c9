//! Where a change comes from: the side of the bridge, and who on that side made it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The sides tandem keeps in step. `Tandem` is tandem itself acting for the user: a restore, a
/// resolved conflict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Desktop,
    Salesforce,
    Tandem,
}

impl Side {
    pub const ALL: [Side; 3] = [Side::Desktop, Side::Salesforce, Side::Tandem];

    pub fn as_str(self) -> &'static str {
        match self {
            Side::Desktop => "desktop",
            Side::Salesforce => "salesforce",
            Side::Tandem => "tandem",
        }
    }

    pub fn parse(s: &str) -> Option<Side> {
        Side::ALL.into_iter().find(|side| side.as_str() == s)
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
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
