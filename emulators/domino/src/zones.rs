//! Notes time-zone strings. DRAPI reads calendar entries back with the zone in Notes' own
//! notation (getOneCalendar's example: `"Z=5$DO=1$DL=3 2 1 11 1 1$ZX=40$ZN=Eastern"`) while
//! writes name IANA zones (createCalendarEntry's example: `"Asia/Manila"`), and
//! getCalendarEntry's example echoes `"Asia/Manila"`. So: a zone with a known Notes string
//! reads as that string; any other reads as written. Only the one string the spec shows is
//! known; inventing others would make the emulator, not Domino, the reference.

/// IANA names and the Notes strings they read back as.
const KNOWN: &[(&str, &str)] = &[
    (
        "America/New_York",
        "Z=5$DO=1$DL=3 2 1 11 1 1$ZX=40$ZN=Eastern",
    ),
    ("US/Eastern", "Z=5$DO=1$DL=3 2 1 11 1 1$ZX=40$ZN=Eastern"),
];

/// The zone as a read shows it.
pub fn on_read(zone: &str) -> String {
    KNOWN
        .iter()
        .find(|(iana, _)| *iana == zone)
        .map(|(_, notes)| notes.to_string())
        .unwrap_or_else(|| zone.to_string())
}

/// Whether a write may name this zone: an IANA name, or a Notes string (a client echoing what
/// it read).
pub fn accepted(zone: &str) -> bool {
    zone.parse::<chrono_tz::Tz>().is_ok() || is_notes(zone)
}

/// A Notes zone string: `Z=<hours west>$DO=<0|1>…$ZN=<name>`.
pub fn is_notes(zone: &str) -> bool {
    zone.starts_with("Z=") && zone.contains("$DO=") && zone.contains("$ZN=")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eastern_reads_as_the_notes_string_and_others_as_written() {
        assert_eq!(
            on_read("America/New_York"),
            "Z=5$DO=1$DL=3 2 1 11 1 1$ZX=40$ZN=Eastern"
        );
        assert_eq!(on_read("Asia/Manila"), "Asia/Manila");
        assert!(accepted("Europe/Berlin"));
        assert!(accepted("Z=5$DO=1$DL=3 2 1 11 1 1$ZX=40$ZN=Eastern"));
        assert!(!accepted("Eastern Standard Time"));
    }
}
