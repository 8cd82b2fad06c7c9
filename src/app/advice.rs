//! What to do about a step that failed, in plain words: the error says what Salesforce or the
//! desktop answered, the advice what the user can do about it. Every front shows the same.

/// Salesforce error codes, and what a salesperson can do when a write meets one.
const BY_CODE: &[(&str, &str)] = &[
    (
        "REQUIRED_FIELD_MISSING",
        "Salesforce needs a value this record lacks (named above): fill it in on the desktop; the next run sends it.",
    ),
    (
        "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        "A validation rule of your org refused the change: correct the value it names on the desktop, or ask your Salesforce admin about the rule.",
    ),
    (
        "DUPLICATES_DETECTED",
        "Salesforce's duplicate rules matched an existing record: edit or merge it in Salesforce, or ignore this item forever.",
    ),
    (
        "INSUFFICIENT_ACCESS",
        "Your Salesforce user may not change this record: ask your admin for access, or ignore the item forever.",
    ),
    (
        "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
        "An automation in your org (a trigger or flow) refused the change: ask your Salesforce admin; the message above is theirs.",
    ),
    (
        "ENTITY_IS_DELETED",
        "The record was deleted in Salesforce in the meantime: review again to see what that means here.",
    ),
    (
        "STRING_TOO_LONG",
        "A value is longer than Salesforce allows for its field: shorten it on the desktop.",
    ),
    (
        "INVALID_EMAIL_ADDRESS",
        "The email address is not one Salesforce accepts: correct it on the desktop.",
    ),
    (
        "REQUEST_LIMIT_EXCEEDED",
        "Your org's daily API allowance is used up: nothing is lost, the first run after it renews sends this.",
    ),
    (
        "UNABLE_TO_LOCK_ROW",
        "Salesforce was busy with this record: the next run tries again.",
    ),
];

/// What to do about a failed step whose error is `error`.
pub fn advice(error: &str) -> &'static str {
    if let Some((_, what)) = BY_CODE.iter().find(|(code, _)| error.contains(code)) {
        return what;
    }
    if error.starts_with("not sent") {
        return "That side could not be reached: nothing is lost, the next run that reaches it sends this.";
    }
    "The next run tries it again. If it keeps failing, the record's history shows what was sent and answered."
}

#[cfg(test)]
mod tests {
    use super::advice;

    #[test]
    fn a_known_refusal_gets_its_own_advice_and_anything_else_the_general_one() {
        assert!(
            advice("REQUIRED_FIELD_MISSING: Required fields are missing: [LastName]")
                .contains("fill it in")
        );
        assert!(advice("not sent: the org could not be reached").contains("nothing is lost"));
        assert!(advice("a new kind of failure").contains("tries it again"));
    }
}
