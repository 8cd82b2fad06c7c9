//! vCard codec: fixture fields, byte-identical renders, minimal edits, clean round trips.

use serde_json::json;
use tandem_protocol::codec::{VcardVersion, parse_vcard, render_vcard, with_uid};
use tandem_protocol::record::{Address, Contact, from_fields, to_fields};

const APPLE: &[u8] = include_bytes!("../../fixtures/vcf/apple_v3.vcf");
const OUTLOOK: &[u8] = include_bytes!("../../fixtures/vcf/outlook_v21.vcf");
const NEXTCLOUD: &[u8] = include_bytes!("../../fixtures/vcf/nextcloud_v4.vcf");
const NO_UID: &[u8] = include_bytes!("../../fixtures/vcf/no_uid_v3.vcf");
const ALL: [(&str, &[u8]); 4] = [
    ("apple", APPLE),
    ("outlook", OUTLOOK),
    ("nextcloud", NEXTCLOUD),
    ("no_uid", NO_UID),
];

fn logical(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let text = text.replace("\r\n ", "");
    text.split("\r\n")
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn diff(old: &[u8], new: &[u8]) -> (Vec<String>, Vec<String>) {
    let (o, n) = (logical(old), logical(new));
    let gone = o.iter().filter(|l| !n.contains(l)).cloned().collect();
    let added = n.iter().filter(|l| !o.contains(l)).cloned().collect();
    (gone, added)
}

fn contact(bytes: &[u8]) -> Contact {
    from_fields(&parse_vcard(bytes).unwrap().fields).unwrap()
}

#[test]
fn apple_v3_fields() {
    let card = parse_vcard(APPLE).unwrap();
    assert_eq!(card.version, VcardVersion::V3_0);
    assert_eq!(
        card.uid.as_deref(),
        Some("8D2F1C3B-5A4E-4B6D-9C8F-1E2D3C4B5A69")
    );
    tandem_protocol::record::RecordKind::Contact
        .check_changes(&card.fields)
        .unwrap();
    let c = contact(APPLE);
    assert_eq!(c.last_name.as_deref(), Some("Appleseed"));
    assert_eq!(c.first_name.as_deref(), Some("John"));
    assert_eq!(c.middle_name.as_deref(), Some("Quincy"));
    assert_eq!(c.salutation.as_deref(), Some("Dr."));
    assert_eq!(c.suffix.as_deref(), Some("Jr."));
    assert_eq!(c.company.as_deref(), Some("Example Corp"));
    assert_eq!(c.department.as_deref(), Some("Engineering"));
    assert_eq!(c.title.as_deref(), Some("Staff Engineer"));
    assert_eq!(c.email.as_deref(), Some("john.appleseed@example.com"));
    assert_eq!(c.mobile_phone.as_deref(), Some("+1 (408) 555-0100"));
    assert_eq!(c.phone.as_deref(), Some("+1 (408) 555-0101"));
    assert_eq!(c.home_phone.as_deref(), Some("+1 (408) 555-0102"));
    assert_eq!(c.other_phone.as_deref(), Some("+1 (408) 555-0199"));
    assert_eq!(c.assistant_name.as_deref(), Some("Jane Helper"));
    assert_eq!(c.birthday, "1980-04-15".parse().ok());
    assert_eq!(
        c.mailing_address,
        Some(Address {
            street: Some("1 Infinite Loop\nBuilding 4".into()),
            city: Some("Cupertino".into()),
            region: Some("CA".into()),
            postal_code: Some("95014".into()),
            country: Some("United States".into()),
        })
    );
    assert_eq!(
        c.description.as_deref(),
        Some("Met at WWDC, 2023.\nLikes coffee; decaf after 3pm.")
    );
    assert_eq!(c.categories, ["CRM", "VIP"]);
    for kept in [
        "EMAIL;type=INTERNET;type=HOME:johnny@example.org",
        "item1.X-ABLabel:_$!<Work>!$_",
        "item2.X-ABLabel:_$!<Other>!$_",
        "item3.X-ABADR:us",
        "PRODID:-//Apple Inc.//iPhone OS 17.4//EN",
    ] {
        assert!(c.unmapped.iter().any(|l| l == kept), "{kept} not kept");
    }
    assert!(
        c.unmapped
            .iter()
            .any(|l| l.starts_with("PHOTO;ENCODING=b;TYPE=JPEG:"))
    );
}

#[test]
fn outlook_v21_quoted_printable_fields() {
    let card = parse_vcard(OUTLOOK).unwrap();
    assert_eq!(card.version, VcardVersion::V2_1);
    assert_eq!(card.uid, None);
    let c = contact(OUTLOOK);
    assert_eq!(c.last_name.as_deref(), Some("Müller"));
    assert_eq!(c.first_name.as_deref(), Some("Jürgen"));
    assert_eq!(c.salutation.as_deref(), Some("Herr"));
    assert_eq!(c.company.as_deref(), Some("Beispiel GmbH"));
    assert_eq!(c.department.as_deref(), Some("Vertrieb"));
    assert_eq!(
        c.description.as_deref(),
        Some("Erster Kontakt auf der Messe in Köln.\nBevorzugt Anrufe vormittags.")
    );
    assert_eq!(c.phone.as_deref(), Some("+49 221 555 0100"));
    assert_eq!(c.mobile_phone.as_deref(), Some("+49 151 555 0100"));
    assert_eq!(c.fax.as_deref(), Some("+49 221 555 0109"));
    assert_eq!(c.email.as_deref(), Some("juergen.mueller@beispiel.de"));
    let a = c.mailing_address.unwrap();
    assert_eq!(a.street.as_deref(), Some("Hauptstraße 1"));
    assert_eq!(a.city.as_deref(), Some("Köln"));
    assert!(c.unmapped.iter().any(|l| l.starts_with("X-MS-CARDPICTURE")));
}

#[test]
fn nextcloud_v4_fields() {
    let card = parse_vcard(NEXTCLOUD).unwrap();
    assert_eq!(card.version, VcardVersion::V4_0);
    assert_eq!(
        card.uid.as_deref(),
        Some("urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1")
    );
    let c = contact(NEXTCLOUD);
    assert_eq!(c.email.as_deref(), Some("lena.schmidt@example.net"));
    assert_eq!(c.mobile_phone.as_deref(), Some("+49-151-5550123"));
    assert_eq!(c.phone.as_deref(), Some("+49-30-5550100"));
    assert_eq!(
        c.other_address.as_ref().and_then(|a| a.city.as_deref()),
        Some("Berlin")
    );
    assert_eq!(c.company.as_deref(), Some("Nextcloud GmbH"));
    assert_eq!(c.birthday, None, "--0415 has no year");
    assert!(c.unmapped.iter().any(|l| l == "BDAY:--0415"));
    assert!(
        c.unmapped
            .iter()
            .any(|l| l.starts_with("PHOTO:data:image/png;base64,iVBOR"))
    );
    assert!(
        c.unmapped
            .iter()
            .any(|l| l == "X-CUSTOM;X-PARAM=x:custom value")
    );
}

#[test]
fn unchanged_fields_render_the_previous_bytes_exactly() {
    for (name, bytes) in ALL {
        let card = parse_vcard(bytes).unwrap();
        let Some(uid) = card.uid else { continue };
        assert_eq!(
            render_vcard(&uid, &card.fields, Some(bytes)),
            bytes,
            "{name}"
        );
    }
}

#[test]
fn changing_the_phone_rewrites_only_that_tel_line() {
    let card = parse_vcard(APPLE).unwrap();
    let mut fields = card.fields.clone();
    fields.insert("phone".into(), json!("+1 (408) 555-0111"));
    let uid = card.uid.unwrap();
    let out = render_vcard(&uid, &fields, Some(APPLE));
    let (gone, added) = diff(APPLE, &out);
    assert_eq!(gone, ["TEL;type=WORK;type=VOICE:+1 (408) 555-0101"]);
    assert_eq!(added, ["TEL;type=WORK;type=VOICE:+1 (408) 555-0111"]);
    // The PHOTO keeps its original folding, byte for byte.
    let photo_at = APPLE.windows(6).position(|w| w == b"PHOTO;").unwrap();
    let tail = &APPLE[photo_at..];
    assert!(out.windows(tail.len()).any(|w| w == tail));
    assert_eq!(parse_vcard(&out).unwrap().fields, fields);
}

#[test]
fn changing_the_name_rewrites_n_and_fn() {
    let card = parse_vcard(APPLE).unwrap();
    let mut c: Contact = from_fields(&card.fields).unwrap();
    c.last_name = Some("Seed, Apple".into());
    let fields = to_fields(&c);
    let out = render_vcard(card.uid.as_deref().unwrap(), &fields, Some(APPLE));
    let (gone, added) = diff(APPLE, &out);
    assert_eq!(
        gone,
        [
            "N:Appleseed;John;Quincy;Dr.;Jr.",
            "FN:Dr. John Quincy Appleseed Jr."
        ]
    );
    assert_eq!(
        added,
        [
            "N:Seed\\, Apple;John;Quincy;Dr.;Jr.",
            "FN:Dr. John Quincy Seed\\, Apple Jr."
        ]
    );
    assert_eq!(parse_vcard(&out).unwrap().fields, fields);
}

#[test]
fn a_v21_edit_stays_v21_with_quoted_printable() {
    let card = parse_vcard(OUTLOOK).unwrap();
    let mut c: Contact = from_fields(&card.fields).unwrap();
    c.title = Some("Leiterin Großkunden".into());
    c.home_phone = Some("+49 221 555 0177".into());
    let fields = to_fields(&c);
    let out = render_vcard("uid-1", &fields, Some(OUTLOOK));
    let (gone, added) = diff(OUTLOOK, &out);
    assert_eq!(gone, ["TITLE:Key Account Manager"]);
    assert_eq!(
        added,
        [
            "UID:uid-1",
            "TITLE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Leiterin Gro=C3=9Fkunden",
            "TEL;HOME;VOICE:+49 221 555 0177"
        ]
    );
    let again = parse_vcard(&out).unwrap();
    assert_eq!(again.version, VcardVersion::V2_1);
    assert_eq!(again.uid.as_deref(), Some("uid-1"));
    assert_eq!(again.fields, fields);
}

#[test]
fn clean_render_round_trips_every_fixture() {
    for (name, bytes) in ALL {
        let card = parse_vcard(bytes).unwrap();
        let out = render_vcard("u-1", &card.fields, None);
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(
            text.starts_with("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u-1\r\n"),
            "{text}"
        );
        for physical in text.split("\r\n") {
            assert!(physical.len() <= 75, "{name}: {physical}");
        }
        // Unmapped lines are copied, not re-serialised: calcard would escape the data URI's
        // comma (`base64\,`), which many clients cannot read.
        if name == "nextcloud" {
            assert!(
                logical(&out)
                    .iter()
                    .any(|l| l.starts_with("PHOTO:data:image/png;base64,iVBOR"))
            );
        }
        let again = parse_vcard(&out).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
        assert_eq!(again.fields, card.fields, "{name}\n{text}");
        assert_eq!(render_vcard("u-1", &card.fields, None), out);
    }
}

#[test]
fn a_salesforce_contact_renders_as_vcard_3() {
    let c = Contact {
        first_name: Some("Ana".into()),
        last_name: Some("Lima".into()),
        company: Some("Acme; Sons".into()),
        email: Some("ana@example.com".into()),
        phone: Some("+1 555 0100".into()),
        fax: Some("+1 555 0109".into()),
        other_phone: Some("+1 555 0199".into()),
        assistant_name: Some("Bo".into()),
        birthday: "1990-02-03".parse().ok(),
        other_address: Some(Address {
            city: Some("Porto".into()),
            ..Address::default()
        }),
        description: Some("two\nlines".into()),
        categories: vec!["CRM".into()],
        ..Contact::default()
    };
    let fields = to_fields(&c);
    let out = render_vcard("con-1", &fields, None);
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(text.contains("FN:Ana Lima\r\n"), "{text}");
    assert!(text.contains("ORG:Acme\\; Sons\r\n"), "{text}");
    assert!(text.contains("NOTE:two\\nlines\r\n"), "{text}");
    assert_eq!(parse_vcard(&out).unwrap().fields, fields, "{text}");
}

#[test]
fn with_uid_adds_a_uid_and_nothing_else() {
    let out = with_uid(NO_UID, "abc-123").unwrap();
    let (gone, added) = diff(NO_UID, &out);
    assert!(gone.is_empty());
    assert_eq!(added, ["UID:abc-123"]);
    assert!(out.starts_with(b"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:abc-123\r\nN:Doe;Jane;;;\r\n"));
    let card = parse_vcard(&out).unwrap();
    assert_eq!(card.uid.as_deref(), Some("abc-123"));
    assert_eq!(card.fields, parse_vcard(NO_UID).unwrap().fields);
    assert_eq!(
        with_uid(APPLE, "other").unwrap(),
        APPLE,
        "a card with a UID is left alone"
    );
    // Rendering the unchanged card for a server-assigned UID gives the same bytes.
    assert_eq!(render_vcard("abc-123", &card.fields, Some(NO_UID)), out);
}

#[test]
fn legacy_charset_exports_read_as_the_names_they_hold() {
    // The Outlook card again, as a Western code page writes it: the same contact.
    let western = include_bytes!("../../fixtures/vcf/outlook_v21_windows1252.vcf");
    let mut expected = contact(OUTLOOK);
    expected.title = Some("Geschäftsführer".into());
    assert_eq!(contact(western), expected);

    let cyrillic = include_bytes!("../../fixtures/vcf/phone_v21_windows1251.vcf");
    let c = contact(cyrillic);
    assert_eq!(c.last_name.as_deref(), Some("Иванов"));
    assert_eq!(c.first_name.as_deref(), Some("Иван"));
    assert_eq!(c.company.as_deref(), Some("ООО Пример"));
    assert_eq!(
        c.description.as_deref(),
        Some("Встреча в Москве.\nЗвонить утром.")
    );
}
