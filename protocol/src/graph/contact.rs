//! Outlook contacts (resources/contact.md) ⇄ `Contact` fields.
//!
//! Graph's `title` is the courtesy title ("Mr.") and `jobTitle` the job title. Lists Outlook
//! keeps several of (e-mail addresses, business and home phones) map their first entry; an
//! update replaces or removes that entry and keeps the others as they are.

use super::error::GraphMappingError;
use super::json::{Item, put, unix_breaks};
use super::time::{birthday_of, birthday_value, parse_offset};
use crate::record::{Address, Contact, Fields, RecordKind, from_fields};
use chrono_tz::Tz;
use serde_json::{Map, Value, json};

pub(crate) const ITEM: &str = "contact";

/// Plain string properties and the field each holds.
const TEXTS: [(&str, &str); 10] = [
    ("givenName", "first_name"),
    ("middleName", "middle_name"),
    ("surname", "last_name"),
    ("title", "salutation"),
    ("generation", "suffix"),
    ("companyName", "company"),
    ("department", "department"),
    ("jobTitle", "title"),
    ("mobilePhone", "mobile_phone"),
    ("assistantName", "assistant_name"),
];

/// Which record fields each property feeds, for telling what an update must send.
pub(crate) const FEEDS: &[(&str, &[&str])] = &[
    ("givenName", &["first_name"]),
    ("middleName", &["middle_name"]),
    ("surname", &["last_name"]),
    ("title", &["salutation"]),
    ("generation", &["suffix"]),
    ("companyName", &["company"]),
    ("department", &["department"]),
    ("jobTitle", &["title"]),
    ("mobilePhone", &["mobile_phone"]),
    ("assistantName", &["assistant_name"]),
    ("emailAddresses", &["email"]),
    ("businessPhones", &["phone"]),
    ("homePhones", &["home_phone"]),
    ("businessAddress", &["mailing_address"]),
    ("otherAddress", &["other_address"]),
    ("birthday", &["birthday"]),
    ("personalNotes", &["description"]),
    ("categories", &["categories"]),
];

pub(crate) fn read(item: &Item, zone: Tz) -> Result<Fields, GraphMappingError> {
    let mut fields = Fields::new();
    for (property, field) in TEXTS {
        put(&mut fields, field, item.text(property)?);
    }
    let first_email = match item.list("emailAddresses")?.first().copied() {
        Some(v) => item
            .element("emailAddresses", v, "emailAddresses[0].")?
            .text("address")?,
        None => None,
    };
    put(&mut fields, "email", first_email);
    put(
        &mut fields,
        "phone",
        item.texts("businessPhones")?.into_iter().next(),
    );
    put(
        &mut fields,
        "home_phone",
        item.texts("homePhones")?.into_iter().next(),
    );
    put(
        &mut fields,
        "mailing_address",
        address(item, "businessAddress", "businessAddress.")?,
    );
    put(
        &mut fields,
        "other_address",
        address(item, "otherAddress", "otherAddress.")?,
    );
    if let Some(text) = item.text("birthday")? {
        let at = parse_offset(&text).ok_or_else(|| {
            item.bad(
                "birthday",
                &text,
                "a date and time like 1980-05-01T11:59:59Z",
            )
        })?;
        put(&mut fields, "birthday", birthday_of(at, zone));
    }
    put(
        &mut fields,
        "description",
        item.text("personalNotes")?
            .map(|n| unix_breaks(&n).trim_end().to_string()),
    );
    put(&mut fields, "categories", item.texts("categories")?);
    Ok(fields)
}

fn address(
    item: &Item,
    property: &str,
    path: &'static str,
) -> Result<Option<Address>, GraphMappingError> {
    let Some(a) = item.object(property, path)? else {
        return Ok(None);
    };
    let address = Address {
        street: a.text("street")?.map(|s| unix_breaks(&s)),
        city: a.text("city")?,
        region: a.text("state")?,
        postal_code: a.text("postalCode")?,
        country: a.text("countryOrRegion")?,
    };
    Ok((address != Address::default()).then_some(address))
}

fn address_value(address: Option<&Address>) -> Value {
    let part = |v: Option<&String>| json!(v.map_or("", String::as_str));
    let a = address.cloned().unwrap_or_default();
    // Every part, empty ones as "": a complex property is replaced whole.
    json!({
        "street": part(a.street.as_ref()),
        "city": part(a.city.as_ref()),
        "state": part(a.region.as_ref()),
        "postalCode": part(a.postal_code.as_ref()),
        "countryOrRegion": part(a.country.as_ref()),
    })
}

/// The name Outlook shows: given, middle and last name and suffix, else the company, else the
/// e-mail address.
fn display_name(
    given: &[Option<&str>],
    company: Option<&str>,
    email: Option<&str>,
) -> Option<String> {
    let name = given
        .iter()
        .flatten()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if !name.is_empty() {
        return Some(name);
    }
    company.or(email).map(str::to_string)
}

/// The properties for `fields`: all of them with `current` (cleared ones empty, lists rebuilt on
/// the current lists), only those with a value without.
pub(crate) fn write(
    fields: &Fields,
    current: Option<&Value>,
) -> Result<Map<String, Value>, GraphMappingError> {
    let contact: Contact =
        from_fields(fields).map_err(|reason| super::invalid(RecordKind::Contact, reason))?;
    let cur = |p: &str| current.and_then(|c| c.get(p));
    let mut body = Map::new();
    for (property, field) in TEXTS {
        match fields.get(field) {
            Some(v) => body.insert(property.into(), v.clone()),
            None => body.insert(property.into(), Value::Null),
        };
    }

    // The first address replaced or removed, the others kept with their names.
    let mut emails: Vec<Value> = cur("emailAddresses")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let name = display_name(
        &[
            contact.first_name.as_deref(),
            contact.middle_name.as_deref(),
            contact.last_name.as_deref(),
        ],
        contact.company.as_deref(),
        None,
    );
    match (&contact.email, emails.first_mut()) {
        (Some(address), Some(first)) => {
            let old = first.get("address").and_then(Value::as_str).unwrap_or("");
            if !old.eq_ignore_ascii_case(address) {
                // A name that was the old address itself follows the new one.
                let old_name = first.get("name").and_then(Value::as_str).unwrap_or("");
                let keep_name = !old_name.is_empty() && !old_name.eq_ignore_ascii_case(old);
                let name = if keep_name {
                    old_name.to_string()
                } else {
                    address.clone()
                };
                *first = json!({"address": address, "name": name});
            }
        }
        (Some(address), None) => {
            emails.push(json!({"address": address, "name": name.clone().unwrap_or_else(|| address.clone())}));
        }
        (None, Some(_)) => {
            emails.remove(0);
        }
        (None, None) => {}
    }
    body.insert("emailAddresses".into(), Value::Array(emails));
    body.insert(
        "businessPhones".into(),
        first_replaced(cur("businessPhones"), contact.phone.as_deref()),
    );
    body.insert(
        "homePhones".into(),
        first_replaced(cur("homePhones"), contact.home_phone.as_deref()),
    );
    body.insert(
        "businessAddress".into(),
        address_value(contact.mailing_address.as_ref()),
    );
    body.insert(
        "otherAddress".into(),
        address_value(contact.other_address.as_ref()),
    );
    body.insert(
        "birthday".into(),
        contact.birthday.map_or(Value::Null, birthday_value),
    );
    body.insert(
        "personalNotes".into(),
        contact.description.map_or(Value::Null, Value::String),
    );
    body.insert("categories".into(), json!(contact.categories));

    // Graph does not rename a contact when its name parts change: the shown name is sent with
    // them, in the style the contact has (with or without middle name and suffix), unless the
    // user chose a name of their own in Outlook.
    let record_parts = [
        contact.first_name.as_deref(),
        contact.middle_name.as_deref(),
        contact.last_name.as_deref(),
        contact.suffix.as_deref(),
    ];
    let full = |parts: [Option<&str>; 4], company: Option<&str>, email: Option<&str>| {
        display_name(&parts, company, email)
    };
    let short = |parts: [Option<&str>; 4], company: Option<&str>, email: Option<&str>| {
        display_name(&[parts[0], parts[2]], company, email)
    };
    let wanted_full = full(
        record_parts,
        contact.company.as_deref(),
        contact.email.as_deref(),
    );
    match current {
        None => {
            if let Some(name) = wanted_full {
                body.insert("displayName".into(), json!(name));
            }
        }
        Some(c) => {
            let text = |p: &str| c.get(p).and_then(Value::as_str).filter(|s| !s.is_empty());
            let shown = text("displayName");
            let email = c
                .get("emailAddresses")
                .and_then(|e| e.get(0))
                .and_then(|e| e.get("address"))
                .and_then(Value::as_str);
            let parts = [
                text("givenName"),
                text("middleName"),
                text("surname"),
                text("generation"),
            ];
            let company = text("companyName");
            let wanted = if shown.is_none() || full(parts, company, email).as_deref() == shown {
                Some(wanted_full)
            } else if short(parts, company, email).as_deref() == shown {
                Some(short(
                    record_parts,
                    contact.company.as_deref(),
                    contact.email.as_deref(),
                ))
            } else {
                None
            };
            if let Some(Some(name)) = wanted
                && Some(name.as_str()) != shown
            {
                body.insert("displayName".into(), json!(name));
            }
        }
    }

    if current.is_none() {
        body.retain(|_, v| !super::json::is_blank(v));
    }
    Ok(body)
}

/// A phone list with its first number replaced (or removed), the others kept.
fn first_replaced(current: Option<&Value>, first: Option<&str>) -> Value {
    let mut list: Vec<Value> = current
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    match (first, list.is_empty()) {
        (Some(number), true) => list.push(json!(number)),
        (Some(number), false) => list[0] = json!(number),
        (None, false) => {
            list.remove(0);
        }
        (None, true) => {}
    }
    Value::Array(list)
}
