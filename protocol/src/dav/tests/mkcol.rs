//! MKCALENDAR and extended MKCOL parsing.

use super::super::*;
use super::bodies::*;
use super::limits;

#[test]
fn apple_mkcalendar_reminders() {
    let m = parse_mkcalendar(APPLE_MKCALENDAR_REMINDERS.as_bytes(), &limits()).unwrap();
    assert!(m.resource_type.is_empty());
    assert_eq!(m.displayname().as_deref(), Some("Reminders"));
    assert_eq!(m.supported_components(), Some(vec!["VTODO".to_string()]));
    assert_eq!(m.calendar_color().as_deref(), Some("#FF9500FF"));
    let tz = m.calendar_timezone().unwrap();
    // CDATA content is kept; CRLF is normalised to LF as XML requires.
    assert!(tz.starts_with("BEGIN:VCALENDAR\nVERSION:2.0\n"), "{tz:?}");
    assert!(tz.contains("TZID:Europe/Berlin"));
    assert_eq!(m.get(&names::CALENDAR_ORDER), Some(&XmlValue::text("2")));
    assert_eq!(m.props.len(), 5);
}

#[test]
fn outlook_extended_mkcol_tasks_calendar() {
    let m = parse_mkcol(CDS_EXTENDED_MKCOL.as_bytes(), &limits()).unwrap();
    assert_eq!(m.resource_type, vec![names::COLLECTION, names::CALENDAR]);
    assert!(m.is_calendar() && !m.is_addressbook());
    assert_eq!(m.displayname().as_deref(), Some("Outlook Tasks"));
    assert_eq!(m.calendar_color().as_deref(), Some("#FF0000FF"));
    assert_eq!(m.supported_components(), Some(vec!["VTODO".to_string()]));
    assert_eq!(
        m.get(&names::RESOURCETYPE),
        None,
        "resourcetype is not a settable property"
    );
}

#[test]
fn extended_mkcol_addressbook_with_description() {
    let body = r#"<D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:set><D:prop>
        <D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype>
        <D:displayname>Salesforce Contacts</D:displayname>
        <CR:addressbook-description>Synced with Salesforce</CR:addressbook-description>
        </D:prop></D:set></D:mkcol>"#;
    let m = parse_mkcol(body.as_bytes(), &limits()).unwrap();
    assert!(m.is_addressbook());
    assert_eq!(
        m.addressbook_description().as_deref(),
        Some("Synced with Salesforce")
    );
}

#[test]
fn mkcalendar_with_description_and_several_components() {
    let body = r#"<?xml version="1.0" encoding="utf-8" ?>
   <C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
     <D:set><D:prop>
         <D:displayname>Lisa's Events</D:displayname>
         <C:calendar-description xml:lang="en">Calendar restricted to events.</C:calendar-description>
         <C:supported-calendar-component-set><C:comp name="vevent"/><C:comp name="VTODO"/></C:supported-calendar-component-set>
     </D:prop></D:set>
   </C:mkcalendar>"#;
    let m = parse_mkcalendar(body.as_bytes(), &limits()).unwrap();
    assert_eq!(m.displayname().as_deref(), Some("Lisa's Events"));
    assert_eq!(
        m.calendar_description().as_deref(),
        Some("Calendar restricted to events.")
    );
    assert_eq!(
        m.supported_components(),
        Some(vec!["VEVENT".to_string(), "VTODO".to_string()])
    );
}

#[test]
fn empty_bodies_are_allowed() {
    assert_eq!(parse_mkcalendar(b"", &limits()).unwrap(), MkCol::default());
    assert_eq!(parse_mkcol(b"  ", &limits()).unwrap(), MkCol::default());
    assert_eq!(
        parse_mkcalendar(b"", &limits())
            .unwrap()
            .supported_components(),
        None
    );
}

#[test]
fn wrong_roots() {
    assert!(matches!(
        parse_mkcalendar(CDS_EXTENDED_MKCOL.as_bytes(), &limits()),
        Err(XmlError::WrongRoot { .. })
    ));
    assert!(matches!(
        parse_mkcol(APPLE_MKCALENDAR_REMINDERS.as_bytes(), &limits()),
        Err(XmlError::WrongRoot { .. })
    ));
}
