//! Whole-collection exports: all events of a calendar as one iCalendar object (how HCL Notes
//! and other feed readers subscribe), all cards of an address book as one vCard stream.

/// Lines of a body, with folded continuation lines kept attached to the line they continue.
fn logical_lines(body: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(body);
    let mut lines: Vec<String> = Vec::new();
    for raw in text.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if (raw.starts_with(' ') || raw.starts_with('\t')) && !lines.is_empty() {
            if let Some(last) = lines.last_mut() {
                last.push_str("\r\n");
                last.push_str(raw);
            }
        } else if !raw.is_empty() {
            lines.push(raw.to_string());
        }
    }
    lines
}

fn name_of(line: &str) -> String {
    line.split([':', ';'])
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase()
}

/// Merge calendar objects into one VCALENDAR: their components in order, each VTIMEZONE once.
pub fn calendar(bodies: &[Vec<u8>], name: &str) -> Vec<u8> {
    let mut timezones: Vec<(String, String)> = Vec::new();
    // Every component's lines go into one buffer as they are read: a feed of 100,000 events
    // would otherwise hold a million small strings at once (and the allocator keeps the
    // memory they took).
    let mut components = String::new();
    for body in bodies {
        let mut depth = 0usize;
        let mut current = String::new();
        let mut tzid: Option<String> = None;
        for line in logical_lines(body) {
            let upper = line.to_ascii_uppercase();
            if upper.starts_with("BEGIN:") {
                depth += 1;
                if depth == 1 {
                    continue; // BEGIN:VCALENDAR
                }
            }
            if depth >= 2 {
                if depth == 2 && name_of(&line) == "TZID" {
                    tzid = line.split_once(':').map(|(_, v)| v.to_string());
                }
                current.push_str(&line);
                current.push_str("\r\n");
            }
            if upper.starts_with("END:") {
                depth = depth.saturating_sub(1);
                if depth == 1 {
                    if upper == "END:VTIMEZONE" {
                        let id = tzid.take().unwrap_or_default();
                        if !timezones.iter().any(|(known, _)| *known == id) {
                            timezones.push((id, std::mem::take(&mut current)));
                        }
                    } else {
                        components.push_str(&current);
                    }
                    current.clear();
                }
            }
        }
    }
    let mut out = String::with_capacity(components.len() + 256);
    out.push_str(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tandem//tandem//EN\r\nCALSCALE:GREGORIAN\r\n",
    );
    out.push_str(&format!(
        "X-WR-CALNAME:{}\r\n",
        name.replace(['\r', '\n'], " ")
    ));
    for (_, lines) in &timezones {
        out.push_str(lines);
    }
    out.push_str(&components);
    out.push_str("END:VCALENDAR\r\n");
    out.into_bytes()
}

/// Concatenate vCards, each ending with CRLF.
pub fn addressbook(bodies: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for body in bodies {
        for line in logical_lines(body) {
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TZ: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";

    fn event(uid: &str) -> Vec<u8> {
        format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\n{TZ}BEGIN:VEVENT\r\nUID:{uid}\r\nSUMMARY:A long\r\n  folded summary\r\nDTSTART;TZID=Europe/Berlin:20261123T090000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n").into_bytes()
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
