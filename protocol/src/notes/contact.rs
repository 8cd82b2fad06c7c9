//! Notes contacts (Form "Person", PIM23's /person items) ⇄ `Contact` fields.
//!
//! `Title` is the courtesy title ("Mr.") and `JobTitle` the job title. The e-mail address is
//! read from `MailAddress`, else `email_1`, and written to both. The office address is the
//! record's mailing address, the home address its other address. `FullName`, the name Notes
//! shows, is not a field: it is written on a create, and on an update when it was the name
//! tandem would have written for the old name parts (a name the user chose stays).

use super::error::NotesMappingError;
use super::json::{Item, put, unix_breaks};
use super::time::day_part;
use crate::record::{Address, Contact, Fields, RecordKind, from_fields};
use serde_json::{Map, Value, json};

pub(crate) const ITEM: &str = "Person document";
pub(crate) const FORM: &str = "Person";

/// Text items and the field each holds.
const TEXTS: [(&str, &str); 13] = [
    ("Title", "salutation"),
    ("FirstName", "first_name"),
    ("MiddleInitial", "middle_name"),
    ("LastName", "last_name"),
    ("Suffix", "suffix"),
    ("CompanyName", "company"),
    ("JobTitle", "title"),
    ("Department", "department"),
    ("OfficePhoneNumber", "phone"),
    ("CellPhoneNumber", "mobile_phone"),
    ("PhoneNumber", "home_phone"),
    ("OfficeFAXPhoneNumber", "fax"),
    ("AssistantName", "assistant_name"),
];

/// The address items: street, city, region, postal code, country.
const OFFICE: [&str; 5] = [
    "OfficeStreetAddress",
    "OfficeCity",
    "OfficeState",
    "OfficeZIP",
    "OfficeCountry",
];
const HOME: [&str; 5] = ["StreetAddress", "City", "State", "Zip", "country"];

const EMAIL_ITEMS: [&str; 2] = ["MailAddress", "email_1"];

/// Which record fields each item feeds, for telling what a PATCH must send.
pub(crate) fn feeds(item: &str) -> &'static [&'static str] {
    if let Some((_, field)) = TEXTS.iter().find(|(i, _)| i.eq_ignore_ascii_case(item)) {
        return std::slice::from_ref(field);
    }
    let is = |names: &[&str]| names.iter().any(|n| n.eq_ignore_ascii_case(item));
    if is(&EMAIL_ITEMS) {
        &["email"]
    } else if is(&OFFICE) {
        &["mailing_address"]
    } else if is(&HOME) {
        &["other_address"]
    } else if is(&["Birthday"]) {
        &["birthday"]
    } else if is(&["Comment"]) {
        &["description"]
    } else if is(&["Categories"]) {
        &["categories"]
    } else {
        &[]
    }
}

pub(crate) fn read(item: &Item) -> Result<Fields, NotesMappingError> {
    let mut fields = Fields::new();
    for (name, field) in TEXTS {
        put(&mut fields, field, item.text(name)?);
    }
    let email = match item.text("MailAddress")? {
        Some(address) => Some(address),
        None => item.text("email_1")?,
    };
    put(&mut fields, "email", email);
    put(&mut fields, "mailing_address", address(item, &OFFICE)?);
    put(&mut fields, "other_address", address(item, &HOME)?);
    if let Some(text) = item.text("Birthday")? {
        let day = day_part(&text).ok_or_else(|| item.bad("Birthday", &text, "a date"))?;
        put(&mut fields, "birthday", day);
    }
    put(
        &mut fields,
        "description",
        item.text("Comment")?
            .map(|c| unix_breaks(&c).trim_end().to_string()),
    );
    put(&mut fields, "categories", item.texts("Categories")?);
    Ok(fields)
}

fn address(item: &Item, names: &[&str; 5]) -> Result<Option<Address>, NotesMappingError> {
    let address = Address {
        street: item.text(names[0])?.map(|s| unix_breaks(&s)),
        city: item.text(names[1])?,
        region: item.text(names[2])?,
        postal_code: item.text(names[3])?,
        country: item.text(names[4])?,
    };
    Ok((address != Address::default()).then_some(address))
}

fn address_items(body: &mut Map<String, Value>, names: &[&str; 5], address: Option<&Address>) {
    let a = address.cloned().unwrap_or_default();
    let parts = [a.street, a.city, a.region, a.postal_code, a.country];
    for (name, part) in names.iter().zip(parts) {
        body.insert((*name).into(), part.map_or(Value::Null, Value::String));
    }
}

/// Every mapped item for `fields`, a cleared one as `null`.
pub(crate) fn write(fields: &Fields) -> Result<Map<String, Value>, NotesMappingError> {
    let contact: Contact =
        from_fields(fields).map_err(|reason| super::invalid(RecordKind::Contact, reason))?;
    let mut body = Map::new();
    for (name, field) in TEXTS {
        body.insert(
            name.into(),
            fields.get(field).cloned().unwrap_or(Value::Null),
        );
    }
    for name in EMAIL_ITEMS {
        body.insert(name.into(), json!(contact.email));
    }
    address_items(&mut body, &OFFICE, contact.mailing_address.as_ref());
    address_items(&mut body, &HOME, contact.other_address.as_ref());
    body.insert(
        "Birthday".into(),
        contact
            .birthday
            .map_or(Value::Null, |d| json!(d.format("%Y-%m-%d").to_string())),
    );
    body.insert("Comment".into(), json!(contact.description));
    body.insert(
        "Categories".into(),
        if contact.categories.is_empty() {
            Value::Null
        } else {
            json!(contact.categories)
        },
    );
    Ok(body)
}

/// The name Notes shows for these name parts: first, middle and last name and suffix, else the
/// company.
pub(crate) fn full_name(fields: &Fields) -> Option<String> {
    let text = |f: &str| fields.get(f).and_then(Value::as_str).unwrap_or("").trim();
    let name = ["first_name", "middle_name", "last_name", "suffix"]
        .iter()
        .map(|f| text(f))
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if !name.is_empty() {
        return Some(name);
    }
    Some(text("company").to_string()).filter(|c| !c.is_empty())
}
