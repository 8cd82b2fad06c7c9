//! One vCard (2.1, 3.0 or 4.0) ⇄ the fields of a `Contact`.

use super::error::CodecError;
use super::ical::starts_with_ignore_case;
use super::render::{Splice, escape_text, normalize_breaks, quoted_printable};
use super::unfold::{self, Comp, Line, Parts, fold, tokenize};
use crate::record::{Address, Contact, Fields, from_fields, to_fields};
use calcard::vcard::{VCard, VCardProperty, VCardValue};
use chrono::NaiveDate;
use std::collections::HashMap;

/// The vCard versions tandem reads; it keeps a card's version when it edits it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VcardVersion {
    V2_1,
    V3_0,
    V4_0,
}

impl VcardVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            VcardVersion::V2_1 => "2.1",
            VcardVersion::V3_0 => "3.0",
            VcardVersion::V4_0 => "4.0",
        }
    }
}

/// A parsed vCard.
#[derive(Clone, Debug, PartialEq)]
pub struct Card {
    /// None when the card has no UID: the server assigns one (see [`with_uid`]).
    pub uid: Option<String>,
    pub version: VcardVersion,
    /// The contact's fields, `unmapped` included.
    pub fields: Fields,
}

/// Parse exactly one vCard.
pub fn parse_vcard(bytes: &[u8]) -> Result<Card, CodecError> {
    Parsed::new(bytes).map(|p| p.card)
}

/// Add `UID:uid` to a card that has none, right after its VERSION line; every other byte stays.
/// A card that already has a UID is returned unchanged.
pub fn with_uid(bytes: &[u8], uid: &str) -> Result<Vec<u8>, CodecError> {
    let parsed = Parsed::new(bytes)?;
    if parsed.card.uid.is_some() {
        return Ok(bytes.to_vec());
    }
    let mut splice = Splice::new(bytes, &parsed.lines);
    let after = parsed
        .uid_anchor()
        .map(|i| i + 1)
        .unwrap_or(parsed.comp.begin + 1);
    splice.insert_before(after, vec![format!("UID:{uid}")]);
    Ok(splice.finish())
}

struct Parsed {
    lines: Vec<Line>,
    comp: Comp,
    card: Card,
    contact: Contact,
    slots: Vec<(usize, &'static str)>,
    uid_line: Option<usize>,
}

impl Parsed {
    fn new(bytes: &[u8]) -> Result<Parsed, CodecError> {
        let head = {
            let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            let start = b
                .iter()
                .position(|c| !c.is_ascii_whitespace())
                .unwrap_or(b.len());
            &b[start..]
        };
        if head.is_empty() {
            return Err(CodecError::Empty);
        }
        if !starts_with_ignore_case(head, b"BEGIN:VCARD") {
            return Err(CodecError::NotVcard);
        }
        let lines = unfold::split(bytes)?;
        let mut top = unfold::tree(&lines)?;
        if top.len() > 1 {
            return Err(CodecError::SeveralObjects {
                count: top.len(),
                what: "vCard",
            });
        }
        let comp = top.pop().ok_or(CodecError::NotVcard)?;
        if comp.name != "VCARD" {
            return Err(CodecError::NotVcard);
        }
        // A card that names no version is read as 3.0, as clients that leave it out write.
        let named = comp.props.iter().find_map(|&i| {
            let p = tokenize(&lines[i].text)?;
            (p.upper_name() == "VERSION").then(|| p.value.trim().to_string())
        });
        let version = match named.as_deref() {
            None | Some("3.0") => VcardVersion::V3_0,
            Some("2.1" | "2.0") => VcardVersion::V2_1,
            Some("4.0") => VcardVersion::V4_0,
            Some(other) => return Err(CodecError::UnknownVcardVersion(other.to_string())),
        };
        // vCard 2.1 may embed a card (AGENT); 3.0 and 4.0 have no components at all.
        if let (false, Some(child)) = (version == VcardVersion::V2_1, comp.children.first()) {
            return Err(CodecError::ComponentInCard {
                line: lines[child.begin].number,
                version: version.as_str(),
                name: child.name.clone(),
            });
        }
        let (contact, slots, uid_line) = map_card(&comp, &lines, version);
        let uid = uid_line.and_then(|i| {
            let p = tokenize(&lines[i].text)?;
            let v = p.value.trim();
            (!v.is_empty()).then(|| v.to_string())
        });
        let card = Card {
            uid,
            version,
            fields: to_fields(&contact),
        };
        Ok(Parsed {
            lines,
            comp,
            card,
            contact,
            slots,
            uid_line,
        })
    }

    /// The line after which a UID goes: VERSION, else none (then right after BEGIN).
    fn uid_anchor(&self) -> Option<usize> {
        self.comp
            .props
            .iter()
            .copied()
            .find(|&i| tokenize(&self.lines[i].text).is_some_and(|p| p.upper_name() == "VERSION"))
    }

    fn lines_of(&self, slot: &str) -> Vec<usize> {
        self.slots
            .iter()
            .filter(|(_, s)| *s == slot)
            .map(|(i, _)| *i)
            .collect()
    }
}

/// Decode one content line with calcard, in a card of the given version.
fn entry(version: VcardVersion, line: &str) -> Option<calcard::vcard::VCardEntry> {
    let text = format!(
        "BEGIN:VCARD\r\nVERSION:{}\r\n{line}\r\nEND:VCARD\r\n",
        version.as_str()
    );
    let card = VCard::parse(&text).ok()?;
    card.entries
        .into_iter()
        .rev()
        .find(|e| e.name != VCardProperty::Version && e.name != VCardProperty::End)
}

fn value_text(v: &VCardValue) -> String {
    normalize_breaks(match v {
        VCardValue::Text(s) => s.clone(),
        VCardValue::Component(parts) => parts.join(","),
        VCardValue::Integer(i) => i.to_string(),
        VCardValue::Float(f) => f.to_string(),
        VCardValue::Boolean(b) => b.to_string(),
        _ => String::new(),
    })
}

/// The decoded text of a single-valued property, falling back to the raw value.
fn text(version: VcardVersion, line: &str, raw: &str) -> String {
    entry(version, line)
        .map(|e| {
            e.values
                .iter()
                .map(value_text)
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_else(|| raw.to_string())
}

/// The components of a structured value (N, ADR, ORG), decoded.
fn structured(version: VcardVersion, line: &str) -> Vec<String> {
    entry(version, line)
        .map(|e| e.values.iter().map(value_text).collect())
        .unwrap_or_default()
}

fn non_empty(s: Option<&String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Apple labels of grouped properties (`item1.X-ABLabel:_$!<Assistant>!$_`), upper-cased.
fn group_labels(comp: &Comp, lines: &[Line]) -> HashMap<String, String> {
    let mut labels = HashMap::new();
    for &i in &comp.props {
        if let Some(p) = tokenize(&lines[i].text)
            && let Some(g) = p.group
            && p.upper_name() == "X-ABLABEL"
        {
            labels.insert(g.to_ascii_uppercase(), p.value.trim().to_ascii_uppercase());
        }
    }
    labels
}

fn tel_slot(parts: &Parts<'_>, label: Option<&str>) -> Vec<&'static str> {
    if let Some(label) = label {
        let by_label = match label {
            "_$!<MOBILE>!$_" | "IPHONE" => Some("mobile_phone"),
            "_$!<HOMEFAX>!$_" | "_$!<WORKFAX>!$_" | "_$!<OTHERFAX>!$_" => Some("fax"),
            "_$!<OTHER>!$_" => Some("other_phone"),
            "_$!<ASSISTANT>!$_" => Some("assistant_phone"),
            _ => None,
        };
        if let Some(s) = by_label {
            return vec![s];
        }
    }
    let types = parts.types();
    let has = |t: &str| types.iter().any(|x| x == t);
    if has("FAX") {
        vec!["fax"]
    } else if has("CELL") || has("IPHONE") || has("MOBILE") {
        vec!["mobile_phone"]
    } else if has("X-ASSISTANT") || has("ASSISTANT") {
        vec!["assistant_phone"]
    } else if has("PAGER") || has("VIDEO") || has("TEXTPHONE") {
        vec![]
    } else if has("HOME") {
        vec!["home_phone"]
    } else if has("WORK") {
        vec!["phone"]
    } else if has("OTHER") || has("X-OTHER") {
        vec!["other_phone"]
    } else {
        // Untyped or VOICE only: the main number, else the other one.
        vec!["phone", "other_phone"]
    }
}

fn parse_date(raw: &str) -> Option<NaiveDate> {
    let date = raw.trim().split('T').next()?;
    NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(date, "%Y%m%d"))
        .ok()
}

fn address(c: &[String]) -> Option<Address> {
    let get = |i: usize| non_empty(c.get(i));
    let a = Address {
        street: get(2),
        city: get(3),
        region: get(4),
        postal_code: get(5),
        country: get(6),
    };
    (a != Address::default()).then_some(a)
}

fn map_card(
    comp: &Comp,
    lines: &[Line],
    version: VcardVersion,
) -> (Contact, Vec<(usize, &'static str)>, Option<usize>) {
    let labels = group_labels(comp, lines);
    let mut c = Contact::default();
    let mut slots: Vec<(usize, &'static str)> = Vec::new();
    let mut uid_line = None;
    let taken = |slots: &Vec<(usize, &'static str)>, s: &str| slots.iter().any(|(_, x)| *x == s);

    // The e-mail that maps is the first preferred one, else the first.
    let emails: Vec<(usize, bool)> = comp
        .props
        .iter()
        .filter_map(|&i| {
            let p = tokenize(&lines[i].text)?;
            (p.upper_name() == "EMAIL").then(|| {
                let pref = p.types().iter().any(|t| t == "PREF") || p.param("PREF").is_some();
                (i, pref)
            })
        })
        .collect();
    let email_line = emails
        .iter()
        .find(|(_, pref)| *pref)
        .or(emails.first())
        .map(|(i, _)| *i);

    for &idx in &comp.props {
        let line = &lines[idx];
        let Some(parts) = tokenize(&line.text) else {
            c.unmapped.push(line.text.clone());
            continue;
        };
        let name = parts.upper_name();
        let label = parts
            .group
            .and_then(|g| labels.get(&g.to_ascii_uppercase()))
            .map(String::as_str);
        let slot: Option<&'static str> = match name.as_str() {
            "VERSION" | "FN" => Some("derived"),
            "UID" if uid_line.is_none() => {
                uid_line = Some(idx);
                Some("derived")
            }
            "N" if !taken(&slots, "name") => {
                let n = structured(version, &line.text);
                c.last_name = non_empty(n.first());
                c.first_name = non_empty(n.get(1));
                c.middle_name = non_empty(n.get(2));
                c.salutation = non_empty(n.get(3));
                c.suffix = non_empty(n.get(4));
                Some("name")
            }
            "ORG" if !taken(&slots, "org") => {
                let o = structured(version, &line.text);
                c.company = non_empty(o.first());
                c.department = non_empty(o.get(1));
                Some("org")
            }
            "TITLE" if c.title.is_none() => {
                c.title = non_empty(Some(&text(version, &line.text, parts.value)));
                Some("title")
            }
            "NOTE" if c.description.is_none() => {
                c.description =
                    Some(text(version, &line.text, parts.value)).filter(|s| !s.is_empty());
                Some("description")
            }
            "EMAIL" if Some(idx) == email_line => {
                c.email = non_empty(Some(&text(version, &line.text, parts.value)));
                Some("email")
            }
            "TEL" => {
                let value = text(version, &line.text, parts.value);
                let value = value.strip_prefix("tel:").unwrap_or(&value).to_string();
                let slot = tel_slot(&parts, label)
                    .into_iter()
                    .find(|s| !taken(&slots, s));
                if let Some(s) = slot {
                    let v = Some(value).filter(|v| !v.is_empty());
                    match s {
                        "phone" => c.phone = v,
                        "mobile_phone" => c.mobile_phone = v,
                        "home_phone" => c.home_phone = v,
                        "fax" => c.fax = v,
                        "other_phone" => c.other_phone = v,
                        _ => c.assistant_phone = v,
                    }
                }
                slot
            }
            "ADR" => {
                let types = parts.types();
                let candidates: &[&'static str] = if types.iter().any(|t| t == "WORK") {
                    &["mailing_address"]
                } else if types.iter().any(|t| t == "HOME") {
                    &["other_address"]
                } else if types
                    .iter()
                    .all(|t| t == "PREF" || t == "POSTAL" || t == "PARCEL")
                {
                    &["mailing_address", "other_address"]
                } else {
                    &[]
                };
                let slot = candidates.iter().copied().find(|s| !taken(&slots, s));
                if let Some(s) = slot {
                    let a = address(&structured(version, &line.text));
                    if s == "mailing_address" {
                        c.mailing_address = a;
                    } else {
                        c.other_address = a;
                    }
                }
                slot
            }
            "BDAY" if c.birthday.is_none() => {
                let date = parse_date(&text(version, &line.text, parts.value))
                    .or_else(|| parse_date(parts.value));
                c.birthday = date;
                date.map(|_| "birthday")
            }
            "CATEGORIES" => {
                if let Some(e) = entry(version, &line.text) {
                    for v in &e.values {
                        match v {
                            VCardValue::Component(list) => {
                                c.categories.extend(list.iter().cloned())
                            }
                            v => c.categories.push(value_text(v)),
                        }
                    }
                }
                c.categories.retain(|s| !s.is_empty());
                Some("categories")
            }
            "X-ASSISTANT" if c.assistant_name.is_none() => {
                c.assistant_name = non_empty(Some(&text(version, &line.text, parts.value)));
                Some("assistant_name")
            }
            "X-ABRELATEDNAMES"
                if c.assistant_name.is_none() && label == Some("_$!<ASSISTANT>!$_") =>
            {
                c.assistant_name = non_empty(Some(&text(version, &line.text, parts.value)));
                Some("assistant_name")
            }
            _ => None,
        };
        match slot {
            Some(s) => slots.push((idx, s)),
            None => c.unmapped.push(line.text.clone()),
        }
    }
    for child in &comp.children {
        c.unmapped
            .extend(child.all_lines().map(|i| lines[i].text.clone()));
    }
    (c, slots, uid_line)
}

// ---------------------------------------------------------------------------------------------
// Rendering

/// Render fields as a vCard. With `previous`, edit those bytes in their own version: unchanged
/// fields give `previous` byte for byte (plus a UID line when it had none); otherwise only the
/// properties of changed fields are rewritten, keeping their group and parameters. Without
/// `previous` (or when `unmapped` itself changed) write a clean vCard 3.0, the version Apple and
/// Android handle best.
pub fn render_vcard(uid: &str, fields: &Fields, previous: Option<&[u8]>) -> Vec<u8> {
    // Fields are checked before they reach the log; a bad shape here is a caller's mistake, and
    // must not overwrite the client's card.
    let contact: Contact = match (from_fields(fields), previous) {
        (Ok(c), _) => c,
        (Err(_), Some(previous)) => return previous.to_vec(),
        (Err(_), None) => Contact::default(),
    };
    if let Some(previous) = previous
        && let Ok(parsed) = Parsed::new(previous)
    {
        let old_map = to_fields(&parsed.contact);
        let new_map = to_fields(&contact);
        if old_map.get("unmapped") == new_map.get("unmapped") {
            return edit(previous, &parsed, uid, &old_map, &new_map, &contact);
        }
        return clean(uid, &contact, parsed.card.version);
    }
    clean(uid, &contact, VcardVersion::V3_0)
}

/// Which slot a field lives in.
fn slot_of(field: &str) -> &str {
    match field {
        "salutation" | "first_name" | "middle_name" | "last_name" | "suffix" => "name",
        "company" | "department" => "org",
        "title" | "email" | "phone" | "mobile_phone" | "home_phone" | "other_phone" | "fax"
        | "assistant_phone" | "mailing_address" | "other_address" | "birthday" | "categories"
        | "assistant_name" => field,
        "description" => "description",
        // account, owner, reports_to: Salesforce links a card has no place for.
        _ => "",
    }
}

fn edit(
    previous: &[u8],
    parsed: &Parsed,
    uid: &str,
    old: &Fields,
    new: &Fields,
    contact: &Contact,
) -> Vec<u8> {
    let version = parsed.card.version;
    let mut splice = Splice::new(previous, &parsed.lines);
    let end = parsed.comp.end;
    match (parsed.uid_line, parsed.card.uid.as_deref()) {
        (Some(_), Some(u)) if u == uid => {}
        (Some(i), _) => splice.replace(i, vec![format!("UID:{uid}")]),
        (None, _) => {
            let after = parsed
                .uid_anchor()
                .map(|i| i + 1)
                .unwrap_or(parsed.comp.begin + 1);
            splice.insert_before(after, vec![format!("UID:{uid}")]);
        }
    }
    let mut changed: Vec<&str> = old
        .keys()
        .chain(new.keys())
        .filter(|k| old.get(*k) != new.get(*k))
        .map(|k| slot_of(k))
        .filter(|s| !s.is_empty())
        .collect();
    changed.sort_unstable();
    changed.dedup();
    for slot in &changed {
        let old_lines = parsed.lines_of(slot);
        let old_parts = old_lines
            .first()
            .and_then(|&i| tokenize(&parsed.lines[i].text));
        let prev_components = old_lines
            .first()
            .map(|&i| structured(version, &parsed.lines[i].text))
            .unwrap_or_default();
        let new_line = slot_line(slot, contact, version, old_parts.as_ref(), &prev_components);
        splice.swap(&old_lines, new_line.into_iter().collect(), end);
    }
    // FN follows the name, which it displays.
    if changed.iter().any(|s| *s == "name" || *s == "org") {
        let fn_lines: Vec<usize> = parsed
            .comp
            .props
            .iter()
            .copied()
            .filter(|&i| tokenize(&parsed.lines[i].text).is_some_and(|p| p.upper_name() == "FN"))
            .collect();
        let old_parts = fn_lines
            .first()
            .and_then(|&i| tokenize(&parsed.lines[i].text));
        let line = assemble(
            old_parts.as_ref(),
            "FN",
            &[],
            &escape_for(version, &display_name(contact)),
            version,
        );
        splice.swap(&fn_lines, vec![line], end);
    }
    splice.finish()
}

fn display_name(c: &Contact) -> String {
    let parts: Vec<&str> = [
        &c.salutation,
        &c.first_name,
        &c.middle_name,
        &c.last_name,
        &c.suffix,
    ]
    .iter()
    .filter_map(|p| p.as_deref())
    .collect();
    if !parts.is_empty() {
        return parts.join(" ");
    }
    c.company
        .clone()
        .or_else(|| c.email.clone())
        .unwrap_or_default()
}

/// Escape a text value for the version (2.1 only escapes the component separator).
fn escape_for(version: VcardVersion, value: &str) -> String {
    match version {
        VcardVersion::V2_1 => value.replace('\\', "\\\\").replace(';', "\\;"),
        _ => escape_text(value),
    }
}

/// A content line for a slot: the old line's group and parameters when there was one (without
/// its 2.1 transfer encoding), else the default parameters of a new line.
fn assemble(
    old: Option<&Parts<'_>>,
    name: &str,
    default_params: &[&str],
    value: &str,
    version: VcardVersion,
) -> String {
    let mut line = String::new();
    let params: Vec<String> = match old {
        Some(p) => {
            if let Some(g) = p.group {
                line.push_str(g);
                line.push('.');
            }
            line.push_str(p.name);
            p.params
                .iter()
                .filter(|x| {
                    let up = x.to_ascii_uppercase();
                    !(up.starts_with("ENCODING=")
                        || up.starts_with("CHARSET=")
                        || up == "QUOTED-PRINTABLE"
                        || up == "BASE64")
                })
                .map(|x| x.to_string())
                .collect()
        }
        None => {
            line.push_str(name);
            default_params.iter().map(|x| x.to_string()).collect()
        }
    };
    for p in &params {
        line.push(';');
        line.push_str(p);
    }
    let needs_qp = version == VcardVersion::V2_1
        && (!value.is_ascii() || value.contains('\n') || value.contains('\r'));
    if needs_qp {
        line.push_str(";CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:");
        line.push_str(&quoted_printable(value));
    } else {
        line.push(':');
        line.push_str(value);
    }
    line
}

fn type_params(version: VcardVersion, types: &[&str]) -> Vec<String> {
    match version {
        VcardVersion::V2_1 => types.iter().map(|t| t.to_string()).collect(),
        VcardVersion::V3_0 => vec![format!("TYPE={}", types.join(","))],
        VcardVersion::V4_0 => vec![format!("TYPE={}", types.join(",").to_ascii_lowercase())],
    }
}

/// The line for a slot, or None when the field is now empty (the line goes).
fn slot_line(
    slot: &str,
    c: &Contact,
    version: VcardVersion,
    old: Option<&Parts<'_>>,
    prev: &[String],
) -> Option<String> {
    let esc = |s: &str| escape_for(version, s);
    let opt = |s: &Option<String>| esc(s.as_deref().unwrap_or(""));
    let typed = |name: &str, types: &[&str], value: String| {
        let params = type_params(version, types);
        let params: Vec<&str> = params.iter().map(String::as_str).collect();
        assemble(old, name, &params, &value, version)
    };
    match slot {
        "name" => {
            let value = [
                &c.last_name,
                &c.first_name,
                &c.middle_name,
                &c.salutation,
                &c.suffix,
            ]
            .into_iter()
            .map(opt)
            .collect::<Vec<_>>()
            .join(";");
            // N stays even when empty: vCard 3.0 requires it.
            Some(assemble(old, "N", &[], &value, version))
        }
        "org" => {
            if c.company.is_none() && c.department.is_none() {
                return None;
            }
            let mut comps = vec![opt(&c.company)];
            if c.department.is_some() || prev.len() > 2 {
                comps.push(opt(&c.department));
            }
            comps.extend(prev.iter().skip(2).map(|s| esc(s)));
            Some(assemble(old, "ORG", &[], &comps.join(";"), version))
        }
        "title" => c
            .title
            .as_ref()
            .map(|t| assemble(old, "TITLE", &[], &esc(t), version)),
        "description" => c
            .description
            .as_ref()
            .map(|t| assemble(old, "NOTE", &[], &esc(t), version)),
        "assistant_name" => c
            .assistant_name
            .as_ref()
            .map(|t| assemble(old, "X-ASSISTANT", &[], &esc(t), version)),
        "email" => c.email.as_ref().map(|e| match version {
            VcardVersion::V4_0 => assemble(old, "EMAIL", &[], &esc(e), version),
            _ => typed("EMAIL", &["INTERNET"], esc(e)),
        }),
        "birthday" => c.birthday.map(|d| {
            let v = match version {
                VcardVersion::V3_0 => d.format("%Y-%m-%d").to_string(),
                _ => d.format("%Y%m%d").to_string(),
            };
            assemble(old, "BDAY", &[], &v, version)
        }),
        "categories" => (!c.categories.is_empty()).then(|| {
            let v: Vec<String> = c.categories.iter().map(|s| escape_text(s)).collect();
            assemble(old, "CATEGORIES", &[], &v.join(","), version)
        }),
        "phone" | "mobile_phone" | "home_phone" | "fax" | "other_phone" | "assistant_phone" => {
            let (value, types): (&Option<String>, &[&str]) = match slot {
                "phone" => (&c.phone, &["WORK", "VOICE"]),
                "mobile_phone" => (&c.mobile_phone, &["CELL", "VOICE"]),
                "home_phone" => (&c.home_phone, &["HOME", "VOICE"]),
                "fax" => (&c.fax, &["WORK", "FAX"]),
                "other_phone" => (&c.other_phone, &["OTHER", "VOICE"]),
                _ => (&c.assistant_phone, &["X-ASSISTANT"]),
            };
            let value = value.as_ref()?;
            let uri = old
                .and_then(|p| p.param("VALUE"))
                .is_some_and(|v| v.eq_ignore_ascii_case("uri"));
            let value = if uri {
                format!("tel:{value}")
            } else {
                esc(value)
            };
            Some(typed("TEL", types, value))
        }
        "mailing_address" | "other_address" => {
            let (a, types): (&Option<Address>, &[&str]) = if slot == "mailing_address" {
                (&c.mailing_address, &["WORK"])
            } else {
                (&c.other_address, &["HOME"])
            };
            let a = a.as_ref()?;
            let keep = |i: usize| prev.get(i).map(|s| esc(s)).unwrap_or_default();
            let value = [
                keep(0),
                keep(1),
                opt(&a.street),
                opt(&a.city),
                opt(&a.region),
                opt(&a.postal_code),
                opt(&a.country),
            ]
            .join(";");
            Some(typed("ADR", types, value))
        }
        _ => None,
    }
}

/// A clean vCard of the given version.
fn clean(uid: &str, c: &Contact, version: VcardVersion) -> Vec<u8> {
    let mut lines = vec![
        "BEGIN:VCARD".to_string(),
        format!("VERSION:{}", version.as_str()),
        format!("UID:{uid}"),
        assemble(
            None,
            "FN",
            &[],
            &escape_for(version, &display_name(c)),
            version,
        ),
    ];
    for slot in [
        "name",
        "org",
        "title",
        "email",
        "phone",
        "mobile_phone",
        "home_phone",
        "fax",
        "other_phone",
        "assistant_phone",
        "mailing_address",
        "other_address",
        "birthday",
        "description",
        "categories",
        "assistant_name",
    ] {
        lines.extend(slot_line(slot, c, version, None, &[]));
    }
    lines.extend(c.unmapped.iter().cloned());
    lines.push("END:VCARD".to_string());
    let mut out = Vec::new();
    for line in &lines {
        fold(line, &mut out);
    }
    out
}
