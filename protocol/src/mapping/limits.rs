//! Salesforce's field lengths and value checks, applied before a write so it is never rejected
//! for a value we could have fixed (STRING_TOO_LONG, INVALID_EMAIL_ADDRESS).

use super::error::Warning;

/// Cut `value` to at most `max` characters (Salesforce counts characters, not bytes). Returns
/// the value to send and, when it was cut, the warning to show.
pub fn truncate(
    object: &'static str,
    field: &str,
    value: &str,
    max: Option<usize>,
) -> (String, Option<Warning>) {
    let Some(max) = max else {
        return (value.to_string(), None);
    };
    let count = value.chars().count();
    if count <= max {
        return (value.to_string(), None);
    }
    let cut: String = value.chars().take(max).collect();
    (
        cut,
        Some(Warning::Truncated {
            object,
            field: field.to_string(),
            from: count,
            to: max,
        }),
    )
}

/// The shape Salesforce accepts for an `email` field: one `@`, a dotted domain, no spaces.
pub fn is_salesforce_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_at_character_boundaries() {
        let long = "é".repeat(300);
        let (cut, warning) = truncate("Event", "Subject", &long, Some(255));
        assert_eq!(cut.chars().count(), 255);
        assert!(cut.chars().all(|c| c == 'é'));
        assert_eq!(
            warning,
            Some(Warning::Truncated {
                object: "Event",
                field: "Subject".into(),
                from: 300,
                to: 255
            })
        );
        let (same, none) = truncate("Event", "Subject", "short", Some(255));
        assert_eq!((same.as_str(), none), ("short", None));
        assert_eq!(truncate("Event", "Subject", &long, None).1, None);
    }

    #[test]
    fn email_shape() {
        assert!(is_salesforce_email("ada@example.com"));
        for bad in [
            "ada",
            "ada@example",
            "a b@example.com",
            "@example.com",
            "a@b@c.d",
        ] {
            assert!(!is_salesforce_email(bad), "{bad}");
        }
    }
}
