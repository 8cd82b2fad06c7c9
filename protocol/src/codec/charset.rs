//! Legacy charsets: a content line declared in another charset than UTF-8 (vCard 2.1's `CHARSET`
//! parameter, as Outlook and older phones write `CHARSET=Windows-1252` or `ISO-8859-5`) is read
//! as the UTF-8 line it means. Only the parsers' view changes: the stored bytes stay the
//! client's, so the card is served back exactly as it was sent.

use super::error::CodecError;
use super::render::quoted_printable;
use encoding_rs::{Encoding, UTF_8};
use std::borrow::Cow;

/// The text of one unfolded content line: UTF-8 as it is, or decoded from the charset the line
/// declares (its value unquoted from QUOTED-PRINTABLE first when it says so).
pub(crate) fn line_text(bytes: Vec<u8>, line: usize) -> Result<String, CodecError> {
    let Some(colon) = value_start(&bytes) else {
        return utf8(bytes, line);
    };
    let (head, value) = (&bytes[..colon], &bytes[colon + 1..]);
    let params: Vec<&[u8]> = head.split(|&b| b == b';').skip(1).collect();
    let param = |name: &[u8]| {
        params.iter().find_map(|p| {
            let (n, v) = split_param(p)?;
            n.eq_ignore_ascii_case(name).then_some(v)
        })
    };
    let Some(label) = param(b"CHARSET") else {
        return utf8(bytes, line);
    };
    let charset = String::from_utf8_lossy(label).trim_matches('"').to_string();
    let encoding =
        Encoding::for_label(charset.as_bytes()).ok_or_else(|| CodecError::UnknownCharset {
            line,
            charset: charset.clone(),
        })?;
    let encoded = param(b"ENCODING").map(|e| e.to_ascii_uppercase());
    let bare = |word: &[u8]| params.iter().any(|p| p.eq_ignore_ascii_case(word));
    let quoted = encoded.as_deref() == Some(b"QUOTED-PRINTABLE") || bare(b"QUOTED-PRINTABLE");
    let binary = matches!(encoded.as_deref(), Some(b"BASE64" | b"B")) || bare(b"BASE64");
    if encoding == UTF_8 || binary {
        return utf8(bytes, line);
    }
    let raw = if quoted {
        quoted_printable::decode(value, quoted_printable::ParseMode::Robust).map_err(|_| {
            CodecError::Undecodable {
                line,
                charset: charset.clone(),
            }
        })?
    } else {
        value.to_vec()
    };
    let (text, _, malformed) = encoding.decode(&raw);
    if malformed {
        return Err(CodecError::Undecodable { line, charset });
    }
    // The line as a client writing UTF-8 would have sent it: the other parameters kept, the
    // value in UTF-8 (still quoted-printable when it was, so line breaks inside it survive).
    let name_end = head.iter().position(|&b| b == b';').unwrap_or(head.len());
    let mut out = encoding.decode(&head[..name_end]).0.into_owned();
    for p in &params {
        let drop = split_param(p).is_some_and(|(n, _)| {
            n.eq_ignore_ascii_case(b"CHARSET") || n.eq_ignore_ascii_case(b"ENCODING")
        }) || p.eq_ignore_ascii_case(b"QUOTED-PRINTABLE");
        if !drop {
            out.push(';');
            out.push_str(&encoding.decode(p).0);
        }
    }
    if quoted {
        out.push_str(";CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:");
        out.push_str(&quoted_printable(&text));
    } else {
        out.push(':');
        out.push_str(&text);
    }
    Ok(out)
}

/// A body in UTF-8, for a body sent in the charset `charset` (the request's `Content-Type`
/// parameter): decoded, since a stored resource has no room to remember a body-wide charset. A
/// body that is UTF-8 already, or whose lines name their own charsets (vCard 2.1's `CHARSET`,
/// read by [`line_text`] and kept as sent), is left as it is: many clients label every body
/// UTF-8.
pub fn body_in_utf8<'a>(
    bytes: &'a [u8],
    charset: Option<&str>,
) -> Result<Cow<'a, [u8]>, BodyCharsetError> {
    let own_charsets = || {
        bytes
            .windows(8)
            .any(|w| w.eq_ignore_ascii_case(b"CHARSET="))
    };
    let Some(label) = charset else {
        return Ok(Cow::Borrowed(bytes));
    };
    // A charset nobody knows is refused even for a body that reads as UTF-8: what its writer
    // meant by its bytes is unknown.
    let encoding = Encoding::for_label(label.as_bytes())
        .ok_or_else(|| BodyCharsetError::Unknown(label.to_string()))?;
    if std::str::from_utf8(bytes).is_ok() || own_charsets() {
        return Ok(Cow::Borrowed(bytes));
    }
    if encoding == UTF_8 {
        return Ok(Cow::Borrowed(bytes));
    }
    let (text, _, malformed) = encoding.decode(bytes);
    if malformed {
        return Err(BodyCharsetError::Undecodable(encoding.name()));
    }
    Ok(Cow::Owned(text.into_owned().into_bytes()))
}

/// Why a body could not be read in the charset its `Content-Type` names.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BodyCharsetError {
    #[error(
        "charset={0} is not a charset tandem knows; send UTF-8, or a charset of the WHATWG Encoding Standard (e.g. windows-1252, iso-8859-1)"
    )]
    Unknown(String),
    #[error("the body is not valid {0}, the charset its Content-Type names")]
    Undecodable(&'static str),
}

/// A body as UTF-8 text, for places that hold nothing else (a REPORT's XML): as it is when it
/// is UTF-8 already, else every line as it reads in UTF-8.
pub fn utf8_text(bytes: &[u8]) -> String {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return text.to_string();
    }
    let Ok(lines) = super::unfold::split(bytes) else {
        return String::from_utf8_lossy(bytes).into_owned();
    };
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 4);
    for line in &lines {
        super::unfold::fold(&line.text, &mut out);
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn utf8(bytes: Vec<u8>, line: usize) -> Result<String, CodecError> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let byte = e.as_bytes().get(at).copied().unwrap_or(0);
        CodecError::InvalidUtf8 { line, byte }
    })
}

/// Where the value starts: the first colon outside a quoted parameter value.
fn value_start(bytes: &[u8]) -> Option<usize> {
    let mut quoted = false;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b':' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

fn split_param(param: &[u8]) -> Option<(&[u8], &[u8])> {
    let eq = param.iter().position(|&b| b == b'=')?;
    Some((&param[..eq], &param[eq + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_windows_1252_line_reads_as_utf8() {
        let text = line_text(b"FN;CHARSET=Windows-1252:J\xFCrgen M\xFCller".to_vec(), 3).unwrap();
        assert_eq!(text, "FN:Jürgen Müller");
    }

    #[test]
    fn quoted_printable_in_a_cyrillic_charset_stays_quoted_printable_in_utf8() {
        // "Иван" in Windows-1251, then a line break inside the value.
        let text = line_text(
            b"NOTE;CHARSET=WINDOWS-1251;ENCODING=QUOTED-PRINTABLE:=C8=E2=E0=ED=0D=0Ax".to_vec(),
            1,
        )
        .unwrap();
        assert_eq!(
            text,
            "NOTE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=D0=98=D0=B2=D0=B0=D0=BD=0D=0Ax"
        );
    }

    #[test]
    fn bare_parameters_of_vcard_2_1_are_kept() {
        let text = line_text(
            b"ADR;WORK;CHARSET=ISO-8859-1;QUOTED-PRINTABLE:;;Stra=DFe 1".to_vec(),
            1,
        )
        .unwrap();
        assert_eq!(
            text,
            "ADR;WORK;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:;;Stra=C3=9Fe 1"
        );
    }

    #[test]
    fn an_unknown_charset_is_named() {
        let err = line_text(b"FN;CHARSET=X-MAC-KLINGON:x".to_vec(), 2).unwrap_err();
        assert_eq!(
            err,
            CodecError::UnknownCharset {
                line: 2,
                charset: "X-MAC-KLINGON".into()
            }
        );
    }

    #[test]
    fn bytes_the_declared_charset_cannot_hold_are_refused() {
        // A lone lead byte of Shift_JIS.
        let err = line_text(b"FN;CHARSET=Shift_JIS:\x82".to_vec(), 4).unwrap_err();
        assert!(
            matches!(err, CodecError::Undecodable { line: 4, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_card_in_a_legacy_charset_reads_as_utf8_text() {
        let card = b"BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=Windows-1252:M\xFCller;J\xFCrgen\r\nEND:VCARD\r\n";
        assert_eq!(
            utf8_text(card),
            "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Müller;Jürgen\r\nEND:VCARD\r\n"
        );
    }

    #[test]
    fn utf8_lines_and_undeclared_bytes_are_as_before() {
        assert_eq!(
            line_text(b"FN:J\xC3\xBCrgen".to_vec(), 1).unwrap(),
            "FN:Jürgen"
        );
        assert_eq!(
            line_text(b"FN;CHARSET=UTF-8:J\xC3\xBCrgen".to_vec(), 1).unwrap(),
            "FN;CHARSET=UTF-8:Jürgen"
        );
        assert!(matches!(
            line_text(b"FN:J\xFCrgen".to_vec(), 7),
            Err(CodecError::InvalidUtf8 {
                line: 7,
                byte: 0xFC
            })
        ));
    }
}
