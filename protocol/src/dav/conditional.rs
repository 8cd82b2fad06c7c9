//! Conditional requests (RFC 9110 §13): `If-Match` and `If-None-Match` read once into a
//! condition on the resource's current version, and checked in one place — by the store's
//! writer, inside the transaction that appends the change, and by a GET deciding on a 304.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionCondition {
    /// `If-Match: *`: the resource must exist.
    Exists,
    /// `If-None-Match: *`: the resource must not exist.
    Absent,
    /// `If-Match: "a", "b"`: the resource must exist with one of these versions.
    OneOf(Vec<String>),
    /// `If-None-Match: "a", "b"`: the resource must not be at one of these versions.
    NoneOf(Vec<String>),
}

/// What a condition is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Current<'a> {
    Missing,
    /// It exists without a version (a collection of the file area).
    Unversioned,
    At(&'a str),
}

/// A condition that does not hold, said about the resource.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unmet(String);

/// A conditional header that is neither `*` nor a list of entity tags (`"…"` or `W/"…"`).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{header}: `{value}` is neither * nor a list of quoted entity tags (\"…\" or W/\"…\")")]
pub struct Malformed {
    pub header: &'static str,
    pub value: String,
}

/// Whether `If-Match` and `If-None-Match` are written as RFC 9110 §13.1 says: `*` alone, or a
/// comma-separated list of entity tags. A request with anything else is refused, not guessed at.
pub fn check_syntax(if_match: Option<&str>, if_none_match: Option<&str>) -> Result<(), Malformed> {
    let tag = |t: &str| {
        let t = t.trim();
        let opaque = t.strip_prefix("W/").unwrap_or(t);
        opaque.len() >= 2
            && opaque.starts_with('"')
            && opaque.ends_with('"')
            && !opaque[1..opaque.len() - 1].contains('"')
    };
    for (header, value) in [("If-Match", if_match), ("If-None-Match", if_none_match)] {
        let Some(value) = value else { continue };
        if value.trim() != "*" && !value.split(',').all(tag) {
            return Err(Malformed {
                header,
                value: value.to_string(),
            });
        }
    }
    Ok(())
}

/// The entity tags of a header's list; weak tags compare by their opaque part (RFC 9110 §8.8.3.2:
/// If-None-Match uses the weak comparison, and tandem's tags are all strong).
fn tags(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|t| t.trim().trim_start_matches("W/").to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

impl VersionCondition {
    /// The condition of a request's headers; `If-Match` wins when both are sent.
    pub fn from_headers(if_match: Option<&str>, if_none_match: Option<&str>) -> Option<Self> {
        if let Some(value) = if_match {
            return Some(match value.trim() {
                "*" => VersionCondition::Exists,
                _ => VersionCondition::OneOf(tags(value)),
            });
        }
        if_none_match.map(|value| match value.trim() {
            "*" => VersionCondition::Absent,
            _ => VersionCondition::NoneOf(tags(value)),
        })
    }

    /// Whether the condition holds for the resource at `path`, and if not, why not.
    pub fn check(&self, path: &str, current: Current<'_>) -> Result<(), Unmet> {
        let unmet = |why: String| Err(Unmet(why));
        match (self, current) {
            (VersionCondition::Exists, Current::Missing)
            | (VersionCondition::OneOf(_), Current::Missing) => {
                unmet(format!("{path} does not exist"))
            }
            (VersionCondition::Absent, Current::Missing) => Ok(()),
            (VersionCondition::Absent, _) => unmet(format!("{path} exists already")),
            (VersionCondition::OneOf(_), Current::Unversioned) => {
                unmet(format!("{path} is a collection, which has no version"))
            }
            (VersionCondition::OneOf(tags), Current::At(tag)) if !tags.iter().any(|t| t == tag) => {
                unmet(format!(
                    "{path} is at version {tag}, not {}",
                    tags.join(", ")
                ))
            }
            (VersionCondition::NoneOf(tags), Current::At(tag)) if tags.iter().any(|t| t == tag) => {
                unmet(format!("{path} is at version {tag}"))
            }
            _ => Ok(()),
        }
    }
}

/// A GET's `If-None-Match`: the client holds the current version `etag` already (304).
pub fn not_modified(if_none_match: Option<&str>, etag: &str) -> bool {
    VersionCondition::from_headers(None, if_none_match)
        .is_some_and(|c| c.check("", Current::At(etag)).is_err())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Current::*;

    #[test]
    fn headers_read_into_one_condition() {
        assert_eq!(
            VersionCondition::from_headers(Some(" * "), Some("\"a\"")),
            Some(VersionCondition::Exists)
        );
        assert_eq!(
            VersionCondition::from_headers(None, Some("W/\"a\", \"b\"")),
            Some(VersionCondition::NoneOf(vec![
                "\"a\"".into(),
                "\"b\"".into()
            ]))
        );
        assert_eq!(VersionCondition::from_headers(None, None), None);
    }

    #[test]
    fn each_condition_holds_or_says_why_not() {
        let one_of = VersionCondition::OneOf(vec!["\"a\"".into()]);
        assert!(one_of.check("/x", At("\"a\"")).is_ok());
        let err = one_of.check("/x", At("\"b\"")).unwrap_err();
        assert_eq!(err.to_string(), "/x is at version \"b\", not \"a\"");
        assert!(one_of.check("/x", Missing).is_err());
        assert!(one_of.check("/x", Unversioned).is_err());
        assert!(VersionCondition::Absent.check("/x", Unversioned).is_err());
        assert!(VersionCondition::Absent.check("/x", Missing).is_ok());
        assert!(VersionCondition::Exists.check("/x", Unversioned).is_ok());
        let none_of = VersionCondition::NoneOf(vec!["\"a\"".into()]);
        assert!(none_of.check("/x", At("\"a\"")).is_err());
        assert!(none_of.check("/x", Missing).is_ok());
    }

    #[test]
    fn only_star_or_entity_tags_are_a_condition() {
        assert_eq!(check_syntax(Some("*"), Some("\"a\", W/\"b\"")), Ok(()));
        for bad in ["unquoted", "\"x", "W/", "*, \"x\"", "\"a\", garbage", ""] {
            assert!(check_syntax(None, Some(bad)).is_err(), "{bad}");
            assert!(check_syntax(Some(bad), None).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_get_is_not_modified_for_a_tag_the_client_has() {
        assert!(not_modified(Some("\"a\", \"b\""), "\"b\""));
        assert!(not_modified(Some("*"), "\"b\""));
        assert!(not_modified(Some("W/\"b\""), "\"b\""));
        assert!(!not_modified(Some("\"a\""), "\"b\""));
        assert!(!not_modified(None, "\"b\""));
    }
}
