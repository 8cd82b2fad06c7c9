//! An item's `body` (resources/itembody.md) ⇄ the record's `description` and
//! `description_html`.
//!
//! Graph keeps one body, text or HTML, and returns events' bodies as HTML (Outlook turns a text
//! body into HTML). The record keeps the plain text always and the HTML beside it when it says
//! more than the text: Outlook's HTML around a plain text is not kept, or every event written as
//! text would come back with an HTML copy of itself. The plain text of an HTML body is read here
//! (tags dropped, breaks kept, entities decoded), which is also how an update sees that the text
//! the record holds is the text Outlook shows, so the HTML around it is kept.

use super::error::GraphMappingError;
use super::json::{Item, put, unix_breaks};
use crate::record::Fields;
use serde_json::{Value, json};

/// The body read into `description` (and `description_html` when it is rich).
pub(crate) fn read(item: &Item, fields: &mut Fields) -> Result<(), GraphMappingError> {
    let Some(body) = item.object("body", "body.")? else {
        return Ok(());
    };
    let content = body.text("content")?.unwrap_or_default();
    let html = body
        .text("contentType")?
        .is_some_and(|t| t.eq_ignore_ascii_case("html"));
    if html {
        put(fields, "description", html_text(&content));
        if is_rich(&content) {
            put(fields, "description_html", content);
        }
    } else {
        put(
            fields,
            "description",
            unix_breaks(&content).trim_end().to_string(),
        );
    }
    Ok(())
}

/// The body to send. With the record's HTML when it still says what the plain text says (a
/// desktop client may have edited the text and left a stale HTML copy: then the text wins); the
/// current body is kept when it shows the same text; a cleared body is empty text.
pub(crate) fn write(fields: &Fields, current: Option<&Value>) -> Option<Value> {
    let text = fields
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("");
    let html = fields.get("description_html").and_then(Value::as_str);
    if let Some(html) = html.filter(|h| text.is_empty() || html_text(h) == text) {
        return Some(json!({"contentType": "html", "content": html}));
    }
    if let Some(cur) = current.and_then(|c| c.get("body")) {
        let content = cur.get("content").and_then(Value::as_str).unwrap_or("");
        let is_html = cur
            .get("contentType")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case("html"));
        let shown = if is_html {
            html_text(content)
        } else {
            unix_breaks(content).trim_end().to_string()
        };
        if html.is_none() && shown == text {
            return Some(cur.clone());
        }
    }
    if text.is_empty() && current.is_none() {
        return None;
    }
    Some(json!({"contentType": "text", "content": text}))
}

/// Tags that only wrap text: Outlook's HTML around a plain text body uses no others.
const PLAIN_TAGS: &[&str] = &[
    "html", "head", "meta", "title", "style", "body", "div", "p", "br",
];

/// Whether HTML carries formatting its plain text loses (a link, bold, a list, a table, a font).
pub(crate) fn is_rich(html: &str) -> bool {
    tags(html).any(|name| !PLAIN_TAGS.contains(&name.as_str()))
}

fn tags(html: &str) -> impl Iterator<Item = String> + '_ {
    html.split('<').skip(1).filter_map(|rest| {
        let name: String = rest
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        (!name.is_empty()).then(|| name.to_ascii_lowercase())
    })
}

/// Tags that end a line of text.
const BREAKS: &[&str] = &[
    "br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol",
];

/// The text an HTML body shows: what is inside `<head>`, `<style>` and `<script>` dropped, a
/// line break for `<br>` and the end of a block, runs of white space as one space, entities
/// decoded, lines trimmed.
pub(crate) fn html_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    let mut hidden: Option<String> = None;
    while let Some(open) = rest.find('<') {
        if hidden.is_none() {
            push_text(&mut out, &rest[..open]);
        }
        let after = &rest[open + 1..];
        let Some(close) = after.find('>') else {
            rest = "";
            break;
        };
        let tag = &after[..close];
        rest = &after[close + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if let Some(h) = &hidden {
            if closing && *h == name {
                hidden = None;
            }
            continue;
        }
        if !closing
            && matches!(name.as_str(), "head" | "style" | "script" | "title")
            && !tag.ends_with('/')
        {
            hidden = Some(name);
            continue;
        }
        if BREAKS.contains(&name.as_str())
            && (name == "br" || closing || matches!(name.as_str(), "li" | "tr"))
        {
            out.push('\n');
        }
    }
    if hidden.is_none() {
        push_text(&mut out, rest);
    }
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    // Blocks nested in blocks end several lines at once: keep one empty line at most.
    let mut text = String::new();
    let mut blank = 0;
    for line in lines {
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        text.push_str(line);
        text.push('\n');
    }
    text.trim().to_string()
}

/// Text between tags: white space runs as one space, entities decoded.
fn push_text(out: &mut String, raw: &str) {
    let mut last_space = out.ends_with([' ', '\n']);
    for c in decode_entities(raw).chars() {
        if c.is_whitespace() && c != '\u{a0}' {
            if !last_space {
                out.push(' ');
                last_space = true;
            }
        } else {
            out.push(if c == '\u{a0}' { ' ' } else { c });
            last_space = false;
        }
    }
}

fn decode_entities(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let end = after.find(';').filter(|e| *e <= 10);
        let decoded = end.and_then(|e| entity(&after[..e]));
        match (end, decoded) {
            (Some(e), Some(c)) => {
                out.push(c);
                rest = &after[e + 1..];
            }
            _ => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "rsquo" => '’',
        "lsquo" => '‘',
        "rdquo" => '”',
        "ldquo" => '“',
        "euro" => '€',
        "copy" => '©',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outlook_html_reads_as_its_text() {
        let html = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"><style>p {margin:0}</style></head>\r\n<body>\r\n<div>Agenda:<br>\r\n1. Budget &amp; plan</div><div>2.&nbsp;Q&amp;A</div>\r\n</body>\r\n</html>";
        assert_eq!(html_text(html), "Agenda:\n1. Budget & plan\n2. Q&A");
        assert!(!is_rich(html));
        assert!(is_rich("<html><body><b>Bold</b> move</body></html>"));
        assert_eq!(
            html_text("<p>One</p><p>Two &lt;3 &#8364;</p>"),
            "One\nTwo <3 €"
        );
    }

    #[test]
    fn the_current_html_is_kept_when_the_text_is_the_same() {
        let current = json!({"body": {"contentType": "html", "content": "<html><body><b>Hi</b><br>there</body></html>"}});
        let fields: Fields = [("description".to_string(), json!("Hi\nthere"))].into();
        assert_eq!(
            write(&fields, Some(&current)),
            Some(current["body"].clone())
        );
        let changed: Fields = [("description".to_string(), json!("Bye"))].into();
        assert_eq!(
            write(&changed, Some(&current)),
            Some(json!({"contentType": "text", "content": "Bye"}))
        );
        // A stale HTML copy beside newer text: the text is sent.
        let stale: Fields = [
            ("description".to_string(), json!("New text")),
            ("description_html".to_string(), json!("<b>Old</b>")),
        ]
        .into();
        assert_eq!(
            write(&stale, None),
            Some(json!({"contentType": "text", "content": "New text"}))
        );
        assert_eq!(write(&Fields::new(), None), None);
        assert_eq!(
            write(
                &Fields::new(),
                Some(&json!({"body": {"contentType": "text", "content": "x"}}))
            ),
            Some(json!({"contentType": "text", "content": ""}))
        );
    }
}
