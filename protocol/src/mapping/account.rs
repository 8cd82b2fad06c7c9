//! Which Salesforce Account a contact created on the desktop belongs to, found by its Company:
//! an exact name match (the earliest created if several), else a unique substring match, else
//! none — a wrong Account is worse than no Account, so anything ambiguous stays unlinked.

use super::soql::soql_like_contains;
use chrono::{DateTime, Utc};

/// How many candidates one query fetches. Ordered by creation, so the earliest exact match is
/// always among them if any exact match is; past this many substring matches the answer is
/// "ambiguous" anyway.
const CANDIDATE_LIMIT: usize = 200;

/// An Account row as [`account_query`] selects it (`Id`, `Name`, `CreatedDate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountCandidate {
    pub id: String,
    pub name: String,
    pub created: DateTime<Utc>,
}

/// The Account a company name links to, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountMatch<'a> {
    /// The name is the company (ignoring case and surrounding spaces); the earliest created
    /// when several Accounts share the name.
    Exact(&'a AccountCandidate),
    /// No exact match, and this is the only Account whose name contains the company.
    Substring(&'a AccountCandidate),
    /// No exact match and several names contain the company: the contact is left unlinked.
    /// Listed earliest created first, for the summary shown to the user.
    Ambiguous(Vec<&'a AccountCandidate>),
    /// No Account name contains the company (or the company is blank).
    None,
}

/// The SOQL that fetches every candidate for `company`: the Accounts whose name contains it.
/// `None` for a blank company, which links to nothing.
pub fn account_query(company: &str) -> Option<String> {
    let company = company.trim();
    if company.is_empty() {
        return None;
    }
    Some(format!(
        "SELECT Id, Name, CreatedDate FROM Account WHERE Name LIKE {} \
         ORDER BY CreatedDate, Id LIMIT {CANDIDATE_LIMIT}",
        soql_like_contains(company)
    ))
}

/// Pick the Account for `company` from the rows [`account_query`] returned. Names are compared
/// as Salesforce compares them in `=` and `LIKE`: without regard to case; surrounding spaces
/// on either side do not count. Rows that do not contain the company at all are ignored, so
/// a broader result set than the query's does no harm.
pub fn pick_account<'a>(company: &str, candidates: &'a [AccountCandidate]) -> AccountMatch<'a> {
    let company = company.trim().to_lowercase();
    if company.is_empty() {
        return AccountMatch::None;
    }
    let mut containing: Vec<&AccountCandidate> = candidates
        .iter()
        .filter(|c| c.name.trim().to_lowercase().contains(&company))
        .collect();
    // Creation order decides among equals, the id only when two were created in the same
    // instant, so the choice does not depend on the order rows arrived in.
    containing.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.id.cmp(&b.id)));
    // The same Account listed twice (a retried page) is still one Account.
    containing.dedup_by(|a, b| a.id == b.id);

    if let Some(exact) = containing
        .iter()
        .find(|c| c.name.trim().to_lowercase() == company)
    {
        return AccountMatch::Exact(exact);
    }
    match containing.as_slice() {
        [] => AccountMatch::None,
        [only] => AccountMatch::Substring(only),
        _ => AccountMatch::Ambiguous(containing),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn account(id: &str, name: &str, day: u32) -> AccountCandidate {
        AccountCandidate {
            id: id.into(),
            name: name.into(),
            created: Utc.with_ymd_and_hms(2024, 1, day, 9, 0, 0).unwrap(),
        }
    }

    #[test]
    fn query_selects_candidates_oldest_first() {
        assert_eq!(
            account_query("  Acme ").as_deref(),
            Some(
                "SELECT Id, Name, CreatedDate FROM Account WHERE Name LIKE '%Acme%' \
                 ORDER BY CreatedDate, Id LIMIT 200"
            )
        );
    }

    #[test]
    fn query_quotes_the_company_for_like() {
        let q = account_query(r"O'Brien \ 100%_Pure").unwrap_or_default();
        assert!(
            q.contains(r"LIKE '%O\'Brien \\ 100\%\_Pure%' ORDER BY"),
            "{q}"
        );
        // A company that tries to end the literal stays inside it.
        let q = account_query("x%' OR Name != '").unwrap_or_default();
        assert!(q.contains(r"LIKE '%x\%\' OR Name != \'%' ORDER BY"), "{q}");
    }

    #[test]
    fn blank_company_has_no_query_and_no_account() {
        assert_eq!(account_query(""), None);
        assert_eq!(account_query(" \t\n"), None);
        let all = [account("001A", "Acme", 1)];
        assert_eq!(pick_account("  ", &all), AccountMatch::None);
    }

    #[test]
    fn exact_beats_substring_even_when_younger() {
        let all = [
            account("001A", "Acme Holdings", 1),
            account("001B", "Acme", 5),
        ];
        assert_eq!(pick_account("Acme", &all), AccountMatch::Exact(&all[1]));
    }

    #[test]
    fn earliest_of_several_exact_matches() {
        let all = [
            account("001C", "Acme", 3),
            account("001A", "ACME", 2),
            account("001B", "acme", 2),
            account("001D", "Acme Ltd", 1),
        ];
        assert_eq!(pick_account("Acme", &all), AccountMatch::Exact(&all[1]));
    }

    #[test]
    fn unique_substring_links_and_several_do_not() {
        let one = [account("001A", "The Acme Company", 1)];
        assert_eq!(pick_account("acme", &one), AccountMatch::Substring(&one[0]));

        let two = [
            account("001B", "Acme Europe", 4),
            account("001A", "Acme Asia", 1),
        ];
        assert_eq!(
            pick_account("Acme", &two),
            AccountMatch::Ambiguous(vec![&two[1], &two[0]])
        );
    }

    #[test]
    fn only_names_containing_the_company_count() {
        // "Acme" is contained in the company, not the other way round: that is no match.
        let all = [account("001A", "Acme", 1), account("001B", "Globex", 2)];
        assert_eq!(pick_account("Acme Europe", &all), AccountMatch::None);
        assert_eq!(pick_account("Initech", &all), AccountMatch::None);
        assert_eq!(pick_account("Acme", &[]), AccountMatch::None);
    }

    #[test]
    fn case_and_surrounding_spaces_do_not_matter() {
        let all = [account("001A", " ACME gmbh ", 1)];
        assert_eq!(
            pick_account("  acme GmbH\t", &all),
            AccountMatch::Exact(&all[0])
        );
        let umlaut = [account("001B", "MÜLLER AG", 1)];
        assert_eq!(
            pick_account("müller ag", &umlaut),
            AccountMatch::Exact(&umlaut[0])
        );
    }

    #[test]
    fn wildcard_characters_are_plain_text_when_picking() {
        let all = [
            account("001A", "100% Pure", 1),
            account("001B", "100 Pure", 2),
        ];
        assert_eq!(pick_account("100%", &all), AccountMatch::Substring(&all[0]));
        assert_eq!(
            pick_account("a_b", &[account("001C", "axb", 1)]),
            AccountMatch::None
        );
    }

    #[test]
    fn the_same_account_twice_is_one_account() {
        let all = [
            account("001A", "Acme Europe", 1),
            account("001A", "Acme Europe", 1),
        ];
        assert_eq!(pick_account("Acme", &all), AccountMatch::Substring(&all[0]));
    }
}
