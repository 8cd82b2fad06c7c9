//! The Salesforce description as the carrier for what Salesforce has no field for: the invitee
//! list and the attachments' file names (the files themselves do not travel). They go in a
//! block appended to the user's text on the way out and are stripped again on the way in, so
//! the desktop gets its own text back unchanged and the block is never taken for an edit.
//!
//! The block, after a blank line:
//!
//! ```text
//! --- tandem ---
//! Invitees: Ana Ng <ana@example.com> (accepted), bob@example.com
//! Attachments: agenda.pdf, notes.docx
//! ```
//!
//! [`strip_annotations`] undoes [`annotate_description`] exactly. Only a block at the very end
//! counts, so the same lines typed in the middle of a description stay. A user text that
//! itself ends like a block gets a bare marker line appended even when there is nothing to
//! list, so that stripping removes that marker and not the user's lines.

use crate::record::{Attendee, AttendeeStatus};

/// Which lists the sync settings write into the Salesforce description.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Annotations {
    /// The event's attendees (the organizer is Salesforce's owner and not listed).
    pub invitees: bool,
    /// The attachments' file names.
    pub attachments: bool,
}

/// The first line of the block: what the Salesforce user sees, and what marks the block.
const MARKER: &str = "--- tandem ---";
const INVITEES: &str = "Invitees: ";
const ATTACHMENTS: &str = "Attachments: ";

/// `Event.Description` and `Task.Description` hold at most this many characters (the tables'
/// `max_length`); Salesforce cuts what is longer, which would cut the block in half.
const DESCRIPTION_MAX: usize = 32_000;

/// The description to send to Salesforce: the user's text with the enabled lists appended.
/// The user's text is never shortened: when everything does not fit, names are dropped from
/// the block (`… and 3 more`), and a user text already at the limit gets no block at all.
/// `None` when there is neither text nor anything to list.
pub fn annotate_description(
    description: Option<&str>,
    invitees: &[Attendee],
    attachments: &[String],
    options: Annotations,
) -> Option<String> {
    let user = description.unwrap_or("");
    // Match the user's line ends, so a CRLF description does not become a mix.
    let crlf = user.contains("\r\n");
    let eol = if crlf { "\r\n" } else { "\n" };
    let separator = match (user.is_empty(), crlf) {
        (true, _) => "",
        (false, true) => "\r\n\r\n",
        (false, false) => "\n\n",
    };
    let fixed = user.chars().count() + separator.len() + MARKER.len();
    if fixed > DESCRIPTION_MAX {
        return non_empty(user);
    }

    let mut lines = Vec::new();
    if options.invitees {
        lines.push(List::new(
            INVITEES,
            invitees.iter().filter_map(invitee_label).collect(),
        ));
    }
    if options.attachments {
        lines.push(List::new(
            ATTACHMENTS,
            attachments.iter().map(|f| one_line(f)).collect(),
        ));
    }
    lines.retain(|l| !l.items.is_empty());
    fit(&mut lines, DESCRIPTION_MAX - fixed, eol.len());

    // A text that already ends like a block needs a block of ours after it, even an empty
    // one, or stripping would take the user's lines for ours.
    if lines.is_empty() && user_text_end(user).is_none() {
        return non_empty(user);
    }
    let mut out = String::with_capacity(user.len() + 256);
    out.push_str(user);
    out.push_str(separator);
    out.push_str(MARKER);
    for line in &lines {
        out.push_str(eol);
        line.render(&mut out);
    }
    Some(out)
}

/// The user's own text from a description read from Salesforce: without the block
/// [`annotate_description`] appended (and the blank line before it), line ends as Salesforce
/// returned them. `None` when nothing is left.
pub fn strip_annotations(description: &str) -> Option<String> {
    let end = user_text_end(description).unwrap_or(description.len());
    non_empty(&description[..end])
}

/// Where the user's text ends, when the description ends with a block.
///
/// The block is the last line that is exactly the marker, preceded by a blank line (or at
/// the very start) and followed only by an `Invitees:` line, an `Attachments:` line, in that
/// order and each at most once, and blank lines at the very end (a trailing line break added
/// by an editor on the way). Lines may end in CRLF, as Salesforce may return them.
fn user_text_end(text: &str) -> Option<usize> {
    // Walk lines backwards: the block is at the end, so the walk stops at the first line that
    // cannot belong to one, without reading the rest of a long description.
    let mut tail: Vec<&str> = Vec::new();
    let mut end = text.len();
    let marker_at = loop {
        let start = text[..end].rfind('\n').map_or(0, |i| i + 1);
        let line = &text[start..end];
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line == MARKER {
            break start;
        }
        let blank = line.is_empty();
        let listed = line.starts_with(INVITEES) || line.starts_with(ATTACHMENTS);
        if (!blank && !listed) || start == 0 {
            return None;
        }
        tail.push(line);
        end = start - 1;
    };
    tail.reverse();
    if !is_block_body(&tail) {
        return None;
    }
    if marker_at == 0 {
        return Some(0);
    }
    let before = &text[..marker_at];
    before
        .strip_suffix("\r\n\r\n")
        .or_else(|| before.strip_suffix("\n\n"))
        .map(str::len)
}

/// The lines after the marker: `[Invitees] [Attachments] blank*`.
fn is_block_body(lines: &[&str]) -> bool {
    let mut rest = lines;
    for label in [INVITEES, ATTACHMENTS] {
        if let [first, more @ ..] = rest
            && first.starts_with(label)
        {
            rest = more;
        }
    }
    rest.iter().all(|l| l.is_empty())
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_string())
}

/// `Ana Ng <ana@example.com> (accepted)`, or just the address or the name when that is all
/// there is.
fn invitee_label(attendee: &Attendee) -> Option<String> {
    let email = one_line(&attendee.email);
    let name = attendee.name.as_deref().map(one_line).unwrap_or_default();
    let mut label = match (name.is_empty(), email.is_empty()) {
        (false, false) => format!("{name} <{email}>"),
        (false, true) => name,
        (true, false) => email,
        (true, true) => return None,
    };
    if let Some(status) = attendee.status {
        label.push_str(match status {
            AttendeeStatus::NeedsAction => " (no answer yet)",
            AttendeeStatus::Accepted => " (accepted)",
            AttendeeStatus::Declined => " (declined)",
            AttendeeStatus::Tentative => " (tentative)",
        });
    }
    Some(label)
}

/// A name or file name as one line: a line break inside it would end the block's line and
/// could forge a marker, so control characters become spaces.
fn one_line(text: &str) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    flat.trim().to_string()
}

/// One line of the block: a label and its items, of which the first `kept` are shown.
struct List {
    label: &'static str,
    items: Vec<String>,
    /// Character counts of the items, so shortening does not re-render the line each step.
    widths: Vec<usize>,
    kept: usize,
}

impl List {
    fn new(label: &'static str, items: Vec<String>) -> List {
        let items: Vec<String> = items.into_iter().filter(|i| !i.is_empty()).collect();
        let widths = items.iter().map(|i| i.chars().count()).collect();
        let kept = items.len();
        List {
            label,
            items,
            widths,
            kept,
        }
    }

    fn dropped(&self) -> usize {
        self.items.len() - self.kept
    }

    /// The rendered line's length in characters.
    fn width(&self) -> usize {
        let shown: usize = self.widths[..self.kept].iter().sum();
        let commas = 2 * self.kept.saturating_sub(1);
        let more = match (self.dropped(), self.kept) {
            (0, _) => 0,
            (n, 0) => more_text(n).chars().count(),
            (n, _) => 1 + more_text(n).chars().count(),
        };
        self.label.len() + shown + commas + more
    }

    fn render(&self, out: &mut String) {
        out.push_str(self.label);
        out.push_str(&self.items[..self.kept].join(", "));
        if self.dropped() > 0 {
            if self.kept > 0 {
                out.push(' ');
            }
            out.push_str(&more_text(self.dropped()));
        }
    }
}

fn more_text(n: usize) -> String {
    format!("… and {n} more")
}

/// Shorten the lines until they fit in `budget` characters, each with its line end: names go
/// first from the longest line, from the end of the list; lines that do not fit even with no
/// names shown go last.
fn fit(lines: &mut Vec<List>, budget: usize, eol: usize) {
    let total = |lines: &[List]| lines.iter().map(|l| eol + l.width()).sum::<usize>();
    while total(lines) > budget {
        let longest = lines
            .iter_mut()
            .filter(|l| l.kept > 0)
            .max_by_key(|l| l.width());
        match longest {
            Some(line) => line.kept -= 1,
            None => {
                lines.pop();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::table::table;
    use crate::record::RecordKind;
    use proptest::prelude::*;

    fn ana() -> Attendee {
        Attendee {
            email: "ana@example.com".into(),
            name: Some("Ana Ng".into()),
            status: Some(AttendeeStatus::Accepted),
        }
    }

    fn bob() -> Attendee {
        Attendee {
            email: "bob@example.com".into(),
            name: None,
            status: None,
        }
    }

    fn files(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    const BOTH: Annotations = Annotations {
        invitees: true,
        attachments: true,
    };

    #[test]
    fn appends_the_enabled_lists_after_a_blank_line() {
        let out = annotate_description(
            Some("Quarterly review"),
            &[ana(), bob()],
            &files(&["agenda.pdf", "notes.docx"]),
            BOTH,
        );
        assert_eq!(
            out.as_deref(),
            Some(
                "Quarterly review\n\n--- tandem ---\n\
                 Invitees: Ana Ng <ana@example.com> (accepted), bob@example.com\n\
                 Attachments: agenda.pdf, notes.docx"
            )
        );
        let only_files = Annotations {
            invitees: false,
            attachments: true,
        };
        assert_eq!(
            annotate_description(None, &[ana()], &files(&["a.pdf"]), only_files).as_deref(),
            Some("--- tandem ---\nAttachments: a.pdf")
        );
    }

    #[test]
    fn nothing_to_list_appends_nothing() {
        let text = Some("Lunch");
        assert_eq!(
            annotate_description(text, &[ana()], &files(&["a.pdf"]), Annotations::default())
                .as_deref(),
            Some("Lunch")
        );
        assert_eq!(annotate_description(text, &[], &[], BOTH).as_deref(), text);
        assert_eq!(annotate_description(None, &[], &[], BOTH), None);
        assert_eq!(annotate_description(Some(""), &[], &[], BOTH), None);
        // Attendees without any name or address, and blank file names, are nothing.
        let nobody = Attendee {
            email: " ".into(),
            name: Some("\n".into()),
            status: Some(AttendeeStatus::Declined),
        };
        assert_eq!(
            annotate_description(text, &[nobody], &files(&["", " \t"]), BOTH).as_deref(),
            text
        );
    }

    #[test]
    fn strip_returns_the_users_text() {
        let out = annotate_description(Some("Agenda:\n- budget\n"), &[ana()], &[], BOTH)
            .unwrap_or_default();
        assert_eq!(
            strip_annotations(&out).as_deref(),
            Some("Agenda:\n- budget\n")
        );
        assert_eq!(strip_annotations("--- tandem ---\nInvitees: x"), None);
        assert_eq!(strip_annotations(""), None);
        assert_eq!(strip_annotations("plain").as_deref(), Some("plain"));
    }

    #[test]
    fn crlf_from_salesforce_is_stripped_too() {
        let out = annotate_description(Some("a\nb"), &[ana()], &files(&["x.pdf"]), BOTH)
            .unwrap_or_default();
        let from_salesforce = out.replace('\n', "\r\n");
        assert_eq!(
            strip_annotations(&from_salesforce).as_deref(),
            Some("a\r\nb")
        );
        // A trailing line break added on the way does not hide the block.
        assert_eq!(
            strip_annotations(&format!("{from_salesforce}\r\n")).as_deref(),
            Some("a\r\nb")
        );
    }

    #[test]
    fn a_crlf_description_gets_a_crlf_block() {
        let out = annotate_description(Some("a\r\nb"), &[bob()], &[], BOTH);
        assert_eq!(
            out.as_deref(),
            Some("a\r\nb\r\n\r\n--- tandem ---\r\nInvitees: bob@example.com")
        );
    }

    #[test]
    fn similar_lines_in_the_users_text_stay() {
        for text in [
            // The block in the middle, with the user's text after it.
            "Notes\n\n--- tandem ---\nInvitees: ana@example.com\n\nMore notes",
            // No blank line before the marker.
            "Notes\n--- tandem ---\nInvitees: ana@example.com",
            // A line the block never has.
            "Notes\n\n--- tandem ---\nInvitees: ana@example.com\nLocation: Room 4",
            // Out of order, or twice.
            "Notes\n\n--- tandem ---\nAttachments: a.pdf\nInvitees: ana@example.com",
            "Notes\n\n--- tandem ---\nInvitees: a\nInvitees: b",
            // Not quite the marker.
            "Notes\n\n--- tandem --- \nInvitees: ana@example.com",
            "Notes\n\n--- Tandem ---\nInvitees: ana@example.com",
            "Notes\n\n--- tandem ---\nInvitees:ana@example.com",
        ] {
            assert_eq!(strip_annotations(text).as_deref(), Some(text), "{text:?}");
            let out = annotate_description(Some(text), &[bob()], &[], BOTH).unwrap_or_default();
            assert_eq!(strip_annotations(&out).as_deref(), Some(text), "{text:?}");
        }
    }

    #[test]
    fn a_text_ending_like_a_block_is_kept_whole() {
        let text = "Copied from another event:\n\n--- tandem ---\nInvitees: carl@example.com";
        let out = annotate_description(Some(text), &[], &[], BOTH).unwrap_or_default();
        assert_eq!(out, format!("{text}\n\n--- tandem ---"));
        assert_eq!(strip_annotations(&out).as_deref(), Some(text));

        let out = annotate_description(Some(text), &[bob()], &[], BOTH).unwrap_or_default();
        assert_eq!(strip_annotations(&out).as_deref(), Some(text));

        let only_marker = "--- tandem ---";
        let out = annotate_description(Some(only_marker), &[], &[], BOTH).unwrap_or_default();
        assert_eq!(strip_annotations(&out).as_deref(), Some(only_marker));
    }

    #[test]
    fn names_cannot_break_out_of_their_line() {
        let forger = Attendee {
            email: "eve@example.com".into(),
            name: Some("Eve\n\n--- tandem ---\nInvitees: nobody".into()),
            status: Some(AttendeeStatus::NeedsAction),
        };
        let out = annotate_description(Some("x"), &[forger], &files(&["a\r\nb.pdf"]), BOTH)
            .unwrap_or_default();
        assert_eq!(out.lines().count(), 5, "{out:?}");
        assert!(
            out.ends_with(
                "Invitees: Eve  --- tandem --- Invitees: nobody <eve@example.com> \
                 (no answer yet)\nAttachments: a  b.pdf"
            ),
            "{out:?}"
        );
        assert_eq!(strip_annotations(&out).as_deref(), Some("x"));
    }

    #[test]
    fn the_limit_matches_the_tables() {
        for kind in [RecordKind::Event, RecordKind::Task] {
            let row = table(kind)
                .ok()
                .and_then(|t| t.row("Description"))
                .and_then(|r| r.max_length);
            assert_eq!(row, Some(DESCRIPTION_MAX), "{kind:?}");
        }
    }

    #[test]
    fn a_long_list_is_shortened_not_the_users_text() {
        let people: Vec<Attendee> = (0..3000)
            .map(|i| Attendee {
                email: format!("person{i}@example.com"),
                name: None,
                status: None,
            })
            .collect();
        let text = "x".repeat(30_000);
        let out = annotate_description(Some(&text), &people, &files(&["a.pdf"]), BOTH)
            .unwrap_or_default();
        assert!(out.chars().count() <= DESCRIPTION_MAX, "{}", out.len());
        assert!(out.starts_with(&text));
        assert!(out.contains("person0@example.com, person1@example.com"));
        assert!(
            out.contains(" more\nAttachments: a.pdf"),
            "the short line stays whole"
        );
        let shown = out.matches("@example.com").count();
        assert!(
            out.contains(&format!("… and {} more", 3000 - shown)),
            "{shown}"
        );
        assert_eq!(strip_annotations(&out).as_deref(), Some(text.as_str()));
    }

    #[test]
    fn names_go_before_lines_and_lines_before_the_users_text() {
        // Room for the marker and a line with no names shown, nothing more.
        let text = "y".repeat(
            DESCRIPTION_MAX - 2 - MARKER.len() - 1 - "Invitees: … and 2 more".chars().count(),
        );
        let out = annotate_description(Some(&text), &[ana(), bob()], &[], BOTH).unwrap_or_default();
        assert!(
            out.ends_with("\nInvitees: … and 2 more"),
            "{}",
            &out[text.len()..]
        );
        assert_eq!(out.chars().count(), DESCRIPTION_MAX);

        // One character less: the line goes, and with it the block.
        let text = format!("{text}y");
        let out = annotate_description(Some(&text), &[ana(), bob()], &[], BOTH);
        assert_eq!(out.as_deref(), Some(text.as_str()));
    }

    #[test]
    fn a_text_at_the_limit_gets_no_block() {
        let text = "é".repeat(DESCRIPTION_MAX);
        let out = annotate_description(Some(&text), &[ana()], &files(&["a.pdf"]), BOTH);
        assert_eq!(out.as_deref(), Some(text.as_str()));
        let longer = "z".repeat(DESCRIPTION_MAX + 10);
        let out = annotate_description(Some(&longer), &[ana()], &[], BOTH);
        assert_eq!(out.as_deref(), Some(longer.as_str()));
    }

    /// Text made of the pieces that matter to the block: markers, labels, both line ends,
    /// a lone CR, spaces and a non-ASCII letter.
    fn description() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("--- tandem ---".to_string()),
            Just("Invitees: ".to_string()),
            Just("Attachments: ".to_string()),
            Just("\n".to_string()),
            Just("\r\n".to_string()),
            Just("\r".to_string()),
            Just(" ".to_string()),
            Just("é".to_string()),
            "[a-z@.<>,]{1,4}",
        ];
        prop::collection::vec(piece, 0..16).prop_map(|p| p.concat())
    }

    fn attendee() -> impl Strategy<Value = Attendee> {
        (
            "[a-z@.\n\r ]{0,8}",
            proptest::option::of(description()),
            proptest::option::of(prop_oneof![
                Just(AttendeeStatus::NeedsAction),
                Just(AttendeeStatus::Accepted),
                Just(AttendeeStatus::Declined),
                Just(AttendeeStatus::Tentative),
            ]),
        )
            .prop_map(|(email, name, status)| Attendee {
                email,
                name,
                status,
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 1024,
            rng_seed: proptest::test_runner::RngSeed::Fixed(20261121),
            ..ProptestConfig::default()
        })]

        #[test]
        fn strip_undoes_annotate(
            text in proptest::option::of(description()),
            invitees in prop::collection::vec(attendee(), 0..4),
            attachments in prop::collection::vec(description(), 0..4),
            invitees_on in any::<bool>(),
            attachments_on in any::<bool>(),
        ) {
            let options = Annotations { invitees: invitees_on, attachments: attachments_on };
            let out = annotate_description(text.as_deref(), &invitees, &attachments, options);
            let expected = text.clone().filter(|t| !t.is_empty());
            prop_assert_eq!(strip_annotations(out.as_deref().unwrap_or("")), expected.clone());

            // Salesforce may hand the text back with CRLF line ends.
            if let Some(t) = text.as_deref().filter(|t| !t.contains('\r')) {
                let out = annotate_description(Some(t), &invitees, &attachments, options)
                    .unwrap_or_default();
                prop_assert_eq!(
                    strip_annotations(&out.replace('\n', "\r\n")),
                    expected.map(|e| e.replace('\n', "\r\n"))
                );
            }
        }

        #[test]
        fn near_the_limit_the_users_text_survives(
            fill in 31_900usize..32_100,
            tail in description(),
            invitees in prop::collection::vec(attendee(), 0..6),
            attachments in prop::collection::vec(description(), 0..6),
        ) {
            let text = format!("{}{tail}", "x".repeat(fill));
            let out = annotate_description(Some(&text), &invitees, &attachments, BOTH)
                .unwrap_or_default();
            prop_assert!(out.starts_with(&text));
            if text.chars().count() <= DESCRIPTION_MAX {
                prop_assert!(out.chars().count() <= DESCRIPTION_MAX);
            }
            // Exact unless the text ends like a block and not even a bare marker fits.
            let separator = if text.contains("\r\n") { 4 } else { 2 };
            let room = text.chars().count() + separator + MARKER.len() <= DESCRIPTION_MAX;
            if room || user_text_end(&text).is_none() {
                prop_assert_eq!(strip_annotations(&out), Some(text));
            }
        }
    }
}
