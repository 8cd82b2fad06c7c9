//! `DAV:href` values: percent-encoding paths for output and decoding client hrefs on input.
//!
//! Inside this crate a path is always *decoded* text (`/cal/Team Meeting.ics`); it is encoded
//! exactly once, when rendered. That single rule avoids the double-encoding and `@`/`%40`
//! mismatches that several servers ship (see dav-anchors §1.6).

use super::error::XmlError;
use percent_encoding::{
    AsciiSet, CONTROLS, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode,
};

/// Encodes an href for output.
///
/// A value starting with `/` is a decoded path: each segment is percent-encoded (RFC 3986
/// `pchar` rules, so `/` separators and `@`, `:`, sub-delims stay literal). Anything else is
/// taken to be an absolute URI (`mailto:`, `urn:uuid:`, `https://…`) that is already encoded;
/// only characters that may never appear in a URI are escaped.
pub fn encode_href(value: &str) -> String {
    utf8_percent_encode(value, set_for(value)).to_string()
}

/// Writes an href as XML character data, encoded as [`encode_href`] encodes it, without building
/// the string first: a listing writes one per member.
pub(super) fn write_href(out: &mut Vec<u8>, value: &str) {
    write_encoded(out, value, set_for(value));
}

/// Writes `text` percent-encoded with `set`, as XML character data: `&` is the one character
/// both sets keep literal that XML text may not hold, so it is escaped. A piece of an href (a
/// member's name after its collection's path) is encoded with the set of the whole.
pub(super) fn write_encoded(out: &mut Vec<u8>, text: &str, set: &'static AsciiSet) {
    for piece in utf8_percent_encode(text, set) {
        if piece.contains('&') {
            out.extend_from_slice(piece.replace('&', "&amp;").as_bytes());
        } else {
            out.extend_from_slice(piece.as_bytes());
        }
    }
}

/// A decoded path (it starts with `/`) is encoded as one; anything else is an absolute URI.
pub(super) fn set_for(value: &str) -> &'static AsciiSet {
    if value.starts_with('/') {
        PATH
    } else {
        NOT_IN_URI
    }
}

/// What a decoded path keeps literal: RFC 3986 `pchar` (unreserved, sub-delims, `:`, `@`) and
/// the `/` separators. A literal `%` is encoded (`%25`), as is everything else.
const PATH: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@');

/// What may never appear in a URI: controls, space and `"<>\^`{|}`.
const NOT_IN_URI: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Turns an href sent by a client into a decoded absolute path.
///
/// Accepts absolute URLs (`https://host:port/path`, as some clients send in multiget), strips
/// query and fragment, percent-decodes, and removes `.`/`..` segments without climbing above
/// `/`. A relative href is returned decoded but otherwise unchanged; resolving it against the
/// request URI is the caller's job.
pub fn decode_href(raw: &str) -> Result<String, XmlError> {
    let raw = super::reader::trim_xml(raw);
    let mut rest = raw;
    if let Some(idx) = rest.find("://") {
        let scheme = &rest[..idx];
        if !scheme.is_empty()
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        {
            let after = &rest[idx + 3..];
            rest = match after.find('/') {
                Some(slash) => &after[slash..],
                None => "/",
            };
        }
    }
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    let rest = &rest[..end];
    // Lenient: a `%` not followed by two hex digits is kept literally.
    let decoded = percent_decode_str(rest).decode_utf8().map_err(|_| {
        XmlError::Invalid(format!("href `{raw}` is not UTF-8 after percent-decoding"))
    })?;
    // Most paths have no `.` or `..` segment: they are kept as they are (a multiget decodes
    // a hundred hrefs, and rebuilding each one was a third of its time).
    if decoded.starts_with('/') && decoded.split('/').any(|s| s == "." || s == "..") {
        Ok(remove_dot_segments(&decoded))
    } else {
        Ok(decoded.into_owned())
    }
}

/// RFC 3986 §5.2.4 for an absolute path, keeping a trailing slash (collections need it).
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    let mut trailing_slash = false;
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "." => trailing_slash = i == last,
            ".." => {
                out.pop();
                trailing_slash = i == last;
            }
            s => {
                out.push(s);
                trailing_slash = false;
            }
        }
    }
    let mut result = String::with_capacity(path.len());
    for s in &out {
        result.push('/');
        result.push_str(s);
    }
    if trailing_slash || result.is_empty() {
        result.push('/');
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_path_segments() {
        assert_eq!(
            encode_href("/cal/Team Meeting.ics"),
            "/cal/Team%20Meeting.ics"
        );
        assert_eq!(encode_href("/u/user@example.com/"), "/u/user@example.com/");
        assert_eq!(encode_href("/a/100%/ü?#"), "/a/100%25/%C3%BC%3F%23");
        assert_eq!(encode_href("/a+b&c"), "/a+b&c");
        assert_eq!(
            encode_href("mailto:anna@example.com"),
            "mailto:anna@example.com"
        );
        assert_eq!(encode_href("urn:uuid:1 2"), "urn:uuid:1%202");
    }

    #[test]
    fn decodes_client_hrefs() {
        assert_eq!(decode_href(" /cal/a%20b.ics ").unwrap(), "/cal/a b.ics");
        assert_eq!(
            decode_href("https://localhost:5232/u/user%40example.com/").unwrap(),
            "/u/user@example.com/"
        );
        assert_eq!(decode_href("http://host").unwrap(), "/");
        assert_eq!(decode_href("/a/./b/../c.ics?x=1#f").unwrap(), "/a/c.ics");
        assert_eq!(decode_href("/../../etc/").unwrap(), "/etc/");
        assert_eq!(decode_href("/a/..").unwrap(), "/");
        assert_eq!(decode_href("/100%").unwrap(), "/100%");
        assert_eq!(decode_href("/%zz%4").unwrap(), "/%zz%4");
        assert!(decode_href("/%ff").is_err());
        assert_eq!(decode_href("rel.ics").unwrap(), "rel.ics");
    }

    #[test]
    fn round_trips() {
        for p in ["/a b/c%d/é/", "/x/y.ics", "/@:;=/"] {
            assert_eq!(decode_href(&encode_href(p)).unwrap(), p);
        }
    }
}
