//! Whole-collection exports: all events of a calendar as one iCalendar object (how HCL Notes
//! and other feed readers subscribe), all cards of an address book as one vCard stream.

/// A whole-collection export, built one member at a time: the store hands each body over as it
/// reads it, so a feed of 100,000 events never holds the bodies and the feed at once.
pub struct Feed {
    kind: Kind,
    /// The components (or cards) in member order, each line ending with CRLF.
    out: String,
}

enum Kind {
    /// A calendar's name and its VTIMEZONEs, each once, by TZID: they go before the
    /// components, where every reader looks for them.
    Calendar {
        name: String,
        timezones: Vec<(String, String)>,
    },
    Addressbook,
}

impl Feed {
    /// All events and to-dos of a calendar as one VCALENDAR named `name`.
    pub fn calendar(name: &str) -> Self {
        Feed {
            kind: Kind::Calendar {
                name: name.replace(['\r', '\n'], " "),
                timezones: Vec::new(),
            },
            out: String::new(),
        }
    }

    /// All cards of an address book, one after another.
    pub fn addressbook() -> Self {
        Feed {
            kind: Kind::Addressbook,
            out: String::new(),
        }
    }

    /// Add one member's body: a calendar object's components without its VCALENDAR wrapper
    /// (a VTIMEZONE only if its TZID is new), or a card as it is. Line endings become CRLF.
    pub fn add(&mut self, body: &[u8]) {
        let text = String::from_utf8_lossy(body);
        let Kind::Calendar { timezones, .. } = &mut self.kind else {
            for line in lines(&text) {
                push_line(&mut self.out, line);
            }
            return;
        };
        let mut depth = 0usize;
        // The component being read, and the TZID of a VTIMEZONE (unfolded).
        let mut current = String::new();
        let mut tzid: Option<String> = None;
        let mut in_tzid = false;
        for line in lines(&text) {
            if line.starts_with([' ', '\t']) {
                // A folded continuation belongs to the line before it.
                if in_tzid && let Some(id) = &mut tzid {
                    id.push_str(&line[1..]);
                }
                if depth >= 2 {
                    push_line(&mut current, line);
                }
                continue;
            }
            let name = line.split([':', ';']).next().unwrap_or_default();
            in_tzid = false;
            if name.eq_ignore_ascii_case("BEGIN") {
                depth += 1;
                if depth == 1 {
                    continue; // BEGIN:VCALENDAR
                }
            }
            if depth >= 2 {
                if depth == 2 && name.eq_ignore_ascii_case("TZID") {
                    tzid = line.split_once(':').map(|(_, v)| v.to_string());
                    in_tzid = true;
                }
                push_line(&mut current, line);
            }
            if name.eq_ignore_ascii_case("END") {
                depth = depth.saturating_sub(1);
                if depth == 1 {
                    if line
                        .get(4..)
                        .is_some_and(|v| v.eq_ignore_ascii_case("VTIMEZONE"))
                    {
                        let id = tzid.take().unwrap_or_default();
                        if !timezones.iter().any(|(known, _)| *known == id) {
                            timezones.push((id, std::mem::take(&mut current)));
                        }
                    } else {
                        self.out.push_str(&current);
                    }
                    current.clear();
                }
            }
        }
    }

    /// The media type of the export.
    pub fn content_type(&self) -> &'static str {
        match self.kind {
            Kind::Calendar { .. } => super::layout::ICALENDAR,
            Kind::Addressbook => super::layout::VCARD,
        }
    }

    /// The export's bytes.
    pub fn finish(self) -> Vec<u8> {
        let Feed { kind, mut out } = self;
        if let Kind::Calendar { name, timezones } = kind {
            let mut head = format!(
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tandem//tandem//EN\r\nCALSCALE:GREGORIAN\r\nX-WR-CALNAME:{name}\r\n"
            );
            for (_, lines) in &timezones {
                head.push_str(lines);
            }
            // In place: a second buffer as large as the feed would double its peak.
            out.insert_str(0, &head);
            out.push_str("END:VCALENDAR\r\n");
        }
        out.into_bytes()
    }
}

/// The non-empty physical lines of a body, without their line endings (LF or CRLF).
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n')
        .map(|raw| raw.strip_suffix('\r').unwrap_or(raw))
        .filter(|line| !line.is_empty())
}

fn push_line(out: &mut String, line: &str) {
    out.push_str(line);
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    const TZ: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";

    fn event(uid: &str) -> Vec<u8> {
        format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\n{TZ}BEGIN:VEVENT\r\nUID:{uid}\r\nSUMMARY:A long\r\n  folded summary\r\nDTSTART;TZID=Europe/Berlin:20261123T090000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n").into_bytes()
    }

    fn calendar(bodies: &[Vec<u8>], name: &str) -> Vec<u8> {
        let mut feed = Feed::calendar(name);
        for body in bodies {
            feed.add(body);
        }
        feed.finish()
    }

    fn addressbook(bodies: &[Vec<u8>]) -> Vec<u8> {
        let mut feed = Feed::addressbook();
        for body in bodies {
            feed.add(body);
        }
        feed.finish()
    }

    #[test]
    fn a_feed_holds_every_event_and_each_timezone_once() {
        let feed = String::from_utf8(calendar(&[event("a"), event("b")], "Work")).unwrap();
        assert_eq!(feed.matches("BEGIN:VCALENDAR").count(), 1);
        assert_eq!(feed.matches("BEGIN:VTIMEZONE").count(), 1);
        assert_eq!(feed.matches("BEGIN:VEVENT").count(), 2);
        assert!(feed.contains("UID:a\r\n") && feed.contains("UID:b\r\n"));
        assert!(
            feed.contains("SUMMARY:A long\r\n  folded summary\r\n"),
            "folds are kept: {feed}"
        );
        assert!(!feed.contains("PRODID:-//x//y//EN"));
        assert!(feed.ends_with("END:VCALENDAR\r\n"));
    }

    #[test]
    fn a_folded_tzid_is_one_zone_and_bare_line_feeds_become_crlf() {
        let folded = b"BEGIN:VCALENDAR\nBEGIN:VTIMEZONE\nTZID:Europe/\n Berlin\nEND:VTIMEZONE\nBEGIN:VTODO\nUID:t\nEND:VTODO\nEND:VCALENDAR\n".to_vec();
        let feed = String::from_utf8(calendar(&[event("a"), folded], "W")).unwrap();
        assert_eq!(feed.matches("BEGIN:VTIMEZONE").count(), 1, "{feed}");
        assert!(
            feed.contains("BEGIN:VTODO\r\nUID:t\r\nEND:VTODO\r\n"),
            "{feed}"
        );
        assert!(!feed.replace("\r\n", "").contains('\n'), "{feed}");
    }

    #[test]
    fn an_empty_calendar_is_still_a_calendar() {
        let feed = String::from_utf8(calendar(&[], "Empty")).unwrap();
        assert!(feed.starts_with("BEGIN:VCALENDAR\r\n") && feed.ends_with("END:VCALENDAR\r\n"));
    }

    #[test]
    fn cards_are_concatenated_with_crlf() {
        let out = addressbook(&[
            b"BEGIN:VCARD\nFN:A\nEND:VCARD".to_vec(),
            b"BEGIN:VCARD\r\nFN:B\r\nEND:VCARD\r\n".to_vec(),
        ]);
        assert_eq!(
            out,
            b"BEGIN:VCARD\r\nFN:A\r\nEND:VCARD\r\nBEGIN:VCARD\r\nFN:B\r\nEND:VCARD\r\n"
        );
    }
}
