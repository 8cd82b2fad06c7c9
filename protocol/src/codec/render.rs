//! Output helpers shared by iCalendar and vCard: value escaping, content line assembly, and the
//! splice that edits a previous body line by line so untouched lines keep their exact bytes.

use super::unfold::{Line, fold};
use std::collections::{BTreeMap, BTreeSet};

/// Escape a TEXT value (RFC 5545 §3.3.11, RFC 6350 §3.4): backslash, comma, semicolon, newline.
pub(crate) fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ',' => out.push_str("\\,"),
            ';' => out.push_str("\\;"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Quote a parameter value when it holds characters that end a parameter (RFC 5545 §3.2).
/// A DQUOTE cannot be represented; it becomes an apostrophe.
pub(crate) fn param_value(value: &str) -> String {
    let clean: String = value
        .chars()
        .map(|c| match c {
            '"' => '\'',
            '\r' | '\n' => ' ',
            c => c,
        })
        .collect();
    // Spaces are allowed bare, but Outlook quotes them ("W. Europe Standard Time") and so do we.
    if clean.contains([';', ':', ',', ' ']) {
        format!("\"{clean}\"")
    } else {
        clean
    }
}

/// Line breaks in a decoded text value, as tandem stores them: `\n` only (vCard 2.1
/// quoted-printable carries `=0D=0A`, which would not survive a render as `\n`).
pub(crate) fn normalize_breaks(value: String) -> String {
    if value.contains('\r') {
        value.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        value
    }
}

/// Quoted-printable encoding for vCard 2.1 values (RFC 2045 §6.7, without soft breaks: the
/// line is folded like any other).
pub(crate) fn quoted_printable(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    let bytes = value.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let last = i + 1 == bytes.len();
        match b {
            b'=' => out.push_str("=3D"),
            b'\n' => out.push_str("=0A"),
            b'\r' => out.push_str("=0D"),
            b' ' | b'\t' if last => out.push_str(&format!("={b:02X}")),
            33..=126 | b' ' | b'\t' => out.push(b as char),
            _ => out.push_str(&format!("={b:02X}")),
        }
    }
    out
}

/// Edits of a previous body: lines to drop, to replace, and to insert before a line.
pub(crate) struct Splice<'a> {
    src: &'a [u8],
    lines: &'a [Line],
    delete: BTreeSet<usize>,
    replace: BTreeMap<usize, Vec<String>>,
    before: BTreeMap<usize, Vec<String>>,
}

impl<'a> Splice<'a> {
    pub fn new(src: &'a [u8], lines: &'a [Line]) -> Self {
        Splice {
            src,
            lines,
            delete: BTreeSet::new(),
            replace: BTreeMap::new(),
            before: BTreeMap::new(),
        }
    }

    pub fn delete(&mut self, idx: usize) {
        self.delete.insert(idx);
    }

    /// Replace line `idx` by `new` (any number of unfolded lines).
    pub fn replace(&mut self, idx: usize, new: Vec<String>) {
        self.replace.insert(idx, new);
    }

    /// Insert unfolded lines before line `idx`, after any earlier insertion there.
    pub fn insert_before(&mut self, idx: usize, new: Vec<String>) {
        self.before.entry(idx).or_default().extend(new);
    }

    /// Replace the lines `old` (in source order) by `new`, placed where the first old line was,
    /// or before `fallback` when there was none.
    pub fn swap(&mut self, old: &[usize], new: Vec<String>, fallback: usize) {
        match old.first() {
            Some(&first) => {
                self.replace(first, new);
                for &idx in &old[1..] {
                    self.delete(idx);
                }
            }
            None => self.insert_before(fallback, new),
        }
    }

    pub fn finish(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.src.len() + 256);
        let mut cursor = 0;
        for (idx, line) in self.lines.iter().enumerate() {
            // Bytes between lines (blank lines, a BOM) are kept as they were.
            if line.raw.start > cursor {
                out.extend_from_slice(&self.src[cursor..line.raw.start]);
            }
            cursor = line.raw.end;
            if let Some(new) = self.before.get(&idx) {
                for text in new {
                    fold(text, &mut out);
                }
            }
            if let Some(new) = self.replace.get(&idx) {
                for text in new {
                    fold(text, &mut out);
                }
            } else if !self.delete.contains(&idx) {
                out.extend_from_slice(&self.src[line.raw.clone()]);
                if !self.src[line.raw.clone()].ends_with(b"\n") {
                    out.extend_from_slice(b"\r\n");
                }
            }
        }
        if cursor < self.src.len() {
            out.extend_from_slice(&self.src[cursor..]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escaping() {
        assert_eq!(escape_text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
        assert_eq!(param_value("Müller, Jürgen"), "\"Müller, Jürgen\"");
        assert_eq!(param_value("Ana"), "Ana");
    }

    #[test]
    fn quoted_printable_encodes_utf8_and_newlines() {
        assert_eq!(quoted_printable("Straße 1\nx="), "Stra=C3=9Fe 1=0Ax=3D");
    }
}
