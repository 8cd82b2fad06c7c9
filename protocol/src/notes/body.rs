//! A Notes body (an entry's `description`, a to-do's `Body`) ⇄ the record's `description` and
//! `description_html`.
//!
//! The record keeps the plain text always and the HTML beside it when it says more than the
//! text. Domino returns an entry's description as HTML, a plain text wrapped in the client's
//! default font (`<font size="2" face="Arial">…</font>`): that wrapper alone is not rich, or
//! every entry written as text would come back with an HTML copy of itself. The text of HTML is
//! read as the Outlook mapping reads it (tags dropped, breaks kept, entities decoded).

use super::json::{put, unix_breaks};
use crate::graph::html_text;
use crate::record::Fields;
use serde_json::Value;

/// A body to send.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Body {
    Html(String),
    Text(String),
}

/// Whether a value without a content type is HTML: it holds a tag.
pub(crate) fn looks_like_html(text: &str) -> bool {
    text.match_indices('<').any(|(i, _)| {
        text[i + 1..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!')
            && text[i..].contains('>')
    })
}

/// Whether HTML carries formatting its plain text loses, the default font wrapper aside.
pub(crate) fn is_rich(html: &str) -> bool {
    crate::graph::is_rich(&without_font_tags(html))
}

fn without_font_tags(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let tag = &rest[open..];
        let Some(close) = tag.find('>') else {
            out.push_str(tag);
            return out;
        };
        let name = tag[1..close]
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace())
            .next()
            .unwrap_or("");
        if !name.eq_ignore_ascii_case("font") {
            out.push_str(&tag[..=close]);
        }
        rest = &tag[close + 1..];
    }
    out.push_str(rest);
    out
}

/// The text a body shows.
pub(crate) fn shown(content: &str, html: bool) -> String {
    if html {
        html_text(content)
    } else {
        unix_breaks(content).trim_end().to_string()
    }
}

/// A body read into `description` (and `description_html` when it is rich).
pub(crate) fn read(content: &str, html: bool, fields: &mut Fields) {
    put(fields, "description", shown(content, html));
    if html && is_rich(content) {
        put(fields, "description_html", content);
    }
}

/// The body to send: the record's HTML when it still says what the plain text says (a client
/// may have edited the text and left a stale HTML copy: then the text wins); the current body
/// when it shows the record's text; else the text. `None`: no body.
pub(crate) fn write(fields: &Fields, current: Option<(&str, bool)>) -> Option<Body> {
    let text = fields
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("");
    let html = fields.get("description_html").and_then(Value::as_str);
    if let Some(html) = html.filter(|h| text.is_empty() || html_text(h) == text) {
        return Some(Body::Html(html.to_string()));
    }
    if let Some((content, is_html)) = current
        && html.is_none()
        && !text.is_empty()
        && shown(content, is_html) == text
        && !(is_html && is_rich(content))
    {
        return Some(if is_html {
            Body::Html(content.to_string())
        } else {
            Body::Text(content.to_string())
        });
    }
    (!text.is_empty()).then(|| Body::Text(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_font_is_not_rich_but_a_link_is() {
        let plain = r#"<font size="2" face="Arial">Here is a meeting for you.</font>"#;
        assert!(looks_like_html(plain));
        assert!(!is_rich(plain));
        let mut fields = Fields::new();
        read(plain, true, &mut fields);
        assert_eq!(fields["description"], "Here is a meeting for you.");
        assert!(!fields.contains_key("description_html"));
        assert!(is_rich(
            r#"<font size="2">See <a href="https://x">x</a></font>"#
        ));
        assert!(!looks_like_html("a < b and c > d"));
    }
}
