//! Byte-level content lines: unfolding before UTF-8 decoding, the component tree, folding on output.
//!
//! Unfolding happens on bytes because RFC 5545 §3.1 lets a writer fold in the middle of a UTF-8
//! sequence; such a file is not valid UTF-8 until it is unfolded. Every logical line remembers the
//! physical bytes it came from, so a render can copy untouched lines byte for byte.
//!
//! This is a splitter, not a parser: it finds line, component and parameter boundaries so lines can
//! be spliced. Values and parameters are decoded by `calcard`.

use super::error::CodecError;
use std::ops::Range;

/// One logical (unfolded) content line.
#[derive(Clone, Debug)]
pub(crate) struct Line {
    /// The unfolded text, without the line break.
    pub text: String,
    /// The physical bytes of the line in the source, including folds and the final line break.
    pub raw: Range<usize>,
    /// 1-based number of the physical line where it starts, for error messages.
    pub number: usize,
}

/// A component (`BEGIN:X` … `END:X`) as indexes into the line list.
#[derive(Clone, Debug)]
pub(crate) struct Comp {
    /// Upper-cased component name.
    pub name: String,
    pub begin: usize,
    pub end: usize,
    /// Property lines directly inside this component, in order.
    pub props: Vec<usize>,
    pub children: Vec<Comp>,
}

impl Comp {
    /// Every line index of this component, nested ones included, in source order.
    pub fn all_lines(&self) -> Range<usize> {
        self.begin..self.end + 1
    }
}

/// Split bytes into logical lines. Blank lines are skipped; a UTF-8 BOM is ignored.
pub(crate) fn split(bytes: &[u8]) -> Result<Vec<Line>, CodecError> {
    let bytes_start = if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    // Physical lines: (content range without the line break, range including it).
    let mut physical: Vec<(Range<usize>, Range<usize>)> = Vec::new();
    let mut start = bytes_start;
    while start < bytes.len() {
        let (content_end, next) = match bytes[start..].iter().position(|&b| b == b'\n') {
            Some(pos) => {
                let nl = start + pos;
                let content_end = if nl > start && bytes[nl - 1] == b'\r' {
                    nl - 1
                } else {
                    nl
                };
                (content_end, nl + 1)
            }
            None => {
                let mut end = bytes.len();
                if end > start && bytes[end - 1] == b'\r' {
                    end -= 1;
                }
                (end, bytes.len())
            }
        };
        physical.push((start..content_end, start..next));
        start = next;
    }

    let mut lines = Vec::new();
    let mut i = 0;
    while i < physical.len() {
        let (content, raw) = physical[i].clone();
        let number = i + 1;
        let mut text: Vec<u8> = bytes[content].to_vec();
        let mut raw_end = raw.end;
        i += 1;
        while let Some((next_content, next_raw)) = physical.get(i).cloned() {
            let next = &bytes[next_content];
            if text.ends_with(b"=") && !next.is_empty() && is_quoted_printable(&text) {
                // vCard 2.1 soft line break: the `=` and the line break vanish when decoded, and
                // the next line is all value, even when it starts with a space.
                text.pop();
                text.extend_from_slice(next);
            } else if matches!(next.first(), Some(b' ' | b'\t')) {
                text.extend_from_slice(&next[1..]);
            } else {
                break;
            }
            raw_end = next_raw.end;
            i += 1;
        }
        if text.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let text = super::charset::line_text(text, number)?;
        lines.push(Line {
            text,
            raw: raw.start..raw_end,
            number,
        });
    }
    Ok(lines)
}

/// Whether a (partial) content line declares QUOTED-PRINTABLE encoding in its parameters.
fn is_quoted_printable(text: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(text) else {
        // The parameters are ASCII; a broken UTF-8 value does not matter here.
        let head = text.split(|&b| b == b':').next().unwrap_or_default();
        return head
            .to_ascii_uppercase()
            .windows(16)
            .any(|w| w == b"QUOTED-PRINTABLE");
    };
    match tokenize(text) {
        Some(parts) => parts
            .params
            .iter()
            .any(|p| p.to_ascii_uppercase().contains("QUOTED-PRINTABLE")),
        None => false,
    }
}

/// Build the component tree from logical lines. Returns the top-level components.
pub(crate) fn tree(lines: &[Line]) -> Result<Vec<Comp>, CodecError> {
    let mut top = Vec::new();
    let mut stack: Vec<Comp> = Vec::new();
    for (idx, line) in lines.iter().enumerate() {
        let parts = tokenize(&line.text).ok_or_else(|| CodecError::NoColon {
            line: line.number,
            text: shorten(&line.text),
        })?;
        let name = parts.name.to_ascii_uppercase();
        if name == "BEGIN" {
            stack.push(Comp {
                name: parts.value.trim().to_ascii_uppercase(),
                begin: idx,
                end: idx,
                props: Vec::new(),
                children: Vec::new(),
            });
        } else if name == "END" {
            let ended = parts.value.trim().to_ascii_uppercase();
            let Some(mut comp) = stack.pop() else {
                return Err(CodecError::UnexpectedEnd {
                    line: line.number,
                    name: ended,
                });
            };
            if comp.name != ended {
                return Err(CodecError::MismatchedEnd {
                    line: line.number,
                    expected: comp.name,
                    found: ended,
                });
            }
            comp.end = idx;
            match stack.last_mut() {
                Some(parent) => parent.children.push(comp),
                None => top.push(comp),
            }
        } else {
            match stack.last_mut() {
                Some(comp) => comp.props.push(idx),
                None => {
                    return Err(CodecError::OutsideComponent {
                        line: line.number,
                        text: shorten(&line.text),
                    });
                }
            }
        }
    }
    if let Some(open) = stack.pop() {
        return Err(CodecError::Truncated { name: open.name });
    }
    Ok(top)
}

/// A content line cut at its boundaries: `group.NAME;param;param:value`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Parts<'a> {
    pub group: Option<&'a str>,
    pub name: &'a str,
    /// Raw parameters (`NAME=value`, quotes kept; vCard 2.1 also has bare `WORK`).
    pub params: Vec<&'a str>,
    pub value: &'a str,
}

impl Parts<'_> {
    /// The value of parameter `name` (case-insensitive), quotes removed.
    pub fn param(&self, name: &str) -> Option<String> {
        self.params.iter().find_map(|p| {
            let (n, v) = p.split_once('=')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| unquote(v).to_string())
        })
    }

    /// Every value of a list parameter such as TYPE, upper-cased, from `TYPE=a,b`, repeated
    /// `TYPE=` parameters, and vCard 2.1's bare parameters (`TEL;WORK;VOICE:`).
    pub fn types(&self) -> Vec<String> {
        let mut out = Vec::new();
        for p in &self.params {
            match p.split_once('=') {
                Some((n, v)) if n.trim().eq_ignore_ascii_case("TYPE") => {
                    for t in unquote(v).split(',') {
                        out.push(t.trim().to_ascii_uppercase());
                    }
                }
                Some(_) => {}
                None => out.push(p.trim().to_ascii_uppercase()),
            }
        }
        out
    }

    pub fn upper_name(&self) -> String {
        self.name.to_ascii_uppercase()
    }
}

fn unquote(v: &str) -> &str {
    let v = v.trim();
    v.strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(v)
}

/// Cut a content line; `None` when it has no colon outside quotes.
pub(crate) fn tokenize(text: &str) -> Option<Parts<'_>> {
    let name_end = text.find([';', ':'])?;
    let full_name = &text[..name_end];
    let (group, name) = match full_name.rsplit_once('.') {
        Some((g, n)) => (Some(g), n),
        None => (None, full_name),
    };
    let mut params = Vec::new();
    let bytes = text.as_bytes();
    let mut pos = name_end;
    loop {
        match bytes.get(pos) {
            Some(b':') => {
                return Some(Parts {
                    group,
                    name,
                    params,
                    value: &text[pos + 1..],
                });
            }
            Some(b';') => {
                let start = pos + 1;
                let mut quoted = false;
                let mut end = start;
                while let Some(&b) = bytes.get(end) {
                    match b {
                        b'"' => quoted = !quoted,
                        b';' | b':' if !quoted => break,
                        _ => {}
                    }
                    end += 1;
                }
                params.push(&text[start..end]);
                pos = end;
            }
            _ => return None,
        }
    }
}

/// Append `line` folded at 75 octets (never inside a UTF-8 sequence), ending with CRLF.
pub(crate) fn fold(line: &str, out: &mut Vec<u8>) {
    let mut rest = line;
    let mut limit = 75;
    loop {
        if rest.len() <= limit {
            out.extend_from_slice(rest.as_bytes());
            out.extend_from_slice(b"\r\n");
            return;
        }
        let mut cut = limit;
        while cut > 0 && !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        // A physical line ending in `=` would read as a quoted-printable soft break (vCard 2.1),
        // so keep `=XX` together on the next line.
        while cut > 3 && rest.as_bytes()[cut - 1] == b'=' {
            cut -= 1;
        }
        if cut == 0 {
            // Cannot happen with limit >= 4, but never loop forever.
            cut = rest.len();
        }
        out.extend_from_slice(&rest.as_bytes()[..cut]);
        out.extend_from_slice(b"\r\n ");
        rest = &rest[cut..];
        // The leading space of a continuation line counts towards its 75 octets.
        limit = 74;
    }
}

/// A line cut to a length fit for an error message.
pub(crate) fn shorten(text: &str) -> String {
    let mut end = text.len().min(60);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    if end < text.len() {
        format!("{}…", &text[..end])
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fold_inside_a_utf8_sequence_is_joined_before_decoding() {
        // "Jürgen": ü is C3 BC; the fold splits it.
        let bytes = b"BEGIN:VCARD\r\nFN:J\xC3\r\n \xBCrgen\r\nEND:VCARD\r\n";
        let lines = split(bytes).unwrap();
        assert_eq!(lines[1].text, "FN:Jürgen");
        assert_eq!(lines[1].raw, 13..28);
        assert_eq!(lines[2].number, 4);
    }

    #[test]
    fn invalid_utf8_is_reported_with_its_line() {
        let err = split(b"BEGIN:VCARD\r\nFN:\xFF\r\n").unwrap_err();
        assert_eq!(
            err,
            CodecError::InvalidUtf8 {
                line: 2,
                byte: 0xFF
            }
        );
    }

    #[test]
    fn quoted_printable_soft_breaks_are_joined() {
        let bytes = b"NOTE;ENCODING=QUOTED-PRINTABLE:a=\r\nb\r\nFN:x\r\n";
        let lines = split(bytes).unwrap();
        assert_eq!(lines[0].text, "NOTE;ENCODING=QUOTED-PRINTABLE:ab");
        assert_eq!(lines[1].text, "FN:x");
    }

    #[test]
    fn tokenize_respects_quotes() {
        let p = tokenize("item1.ORGANIZER;CN=\"Müller, Jürgen: x\";ROLE=CHAIR:mailto:j@x").unwrap();
        assert_eq!(p.group, Some("item1"));
        assert_eq!(p.name, "ORGANIZER");
        assert_eq!(p.param("cn").as_deref(), Some("Müller, Jürgen: x"));
        assert_eq!(p.value, "mailto:j@x");
        assert!(tokenize("NOCOLON").is_none());
    }

    #[test]
    fn fold_never_leaves_a_line_ending_in_equals() {
        let line = format!("NOTE;ENCODING=QUOTED-PRINTABLE:{}", "=C3=BC".repeat(30));
        for shift in 0..4 {
            let shifted = format!("{}{line}", "X".repeat(shift));
            let mut out = Vec::new();
            fold(&shifted, &mut out);
            let text = String::from_utf8(out.clone()).unwrap();
            assert!(text.split("\r\n").all(|l| !l.ends_with('=')), "{text}");
            assert_eq!(split(&out).unwrap()[0].text, shifted);
        }
    }

    #[test]
    fn fold_never_splits_utf8_and_keeps_75_octets() {
        let line = format!("SUMMARY:{}", "ü€😀".repeat(40));
        let mut out = Vec::new();
        fold(&line, &mut out);
        let text = String::from_utf8(out.clone()).unwrap();
        for physical in text.split("\r\n") {
            assert!(physical.len() <= 75, "{} octets", physical.len());
        }
        let unfolded = split(&out).unwrap();
        assert_eq!(unfolded[0].text, line);
    }
}
