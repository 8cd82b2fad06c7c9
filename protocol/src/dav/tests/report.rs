//! REPORT parsing: calendar-query filters, multigets, sync-collection, CardDAV and principals.

use super::super::*;
use super::bodies::*;
use super::limits;

fn report(body: &str) -> Report {
    parse_report(body.as_bytes(), &limits()).unwrap()
}

fn query(body: &str) -> CalendarQuery {
    match report(body) {
        Report::CalendarQuery(q) => q,
        other => panic!("{other:?}"),
    }
}

fn t(s: &str) -> UtcDateTime {
    UtcDateTime::parse(s).unwrap()
}

/// The single component filter under VCALENDAR.
fn inner(q: &CalendarQuery) -> &CompFilter {
    assert_eq!(q.filter.comp.name, "VCALENDAR");
    assert_eq!(q.filter.comp.comp_filters.len(), 1);
    &q.filter.comp.comp_filters[0]
}

#[test]
fn davx5_tasks_and_events() {
    let q = query(DAVX5_TASKS_QUERY);
    assert_eq!(q.props, PropRequest::Prop(vec![names::GETETAG]));
    assert_eq!(inner(&q), &CompFilter::named("VTODO"));
    let q = query(DAVX5_EVENTS_QUERY);
    let f = inner(&q);
    assert_eq!(f.name, "VEVENT");
    assert_eq!(
        f.time_range,
        Some(TimeRange {
            start: Some(t("20240915T000000Z")),
            end: None
        })
    );
}

#[test]
fn apple_open_ended_query() {
    let q = query(APPLE_CALENDAR_QUERY);
    assert_eq!(
        q.props,
        PropRequest::Prop(vec![names::GETETAG, names::GETCONTENTTYPE])
    );
    assert_eq!(
        inner(&q).time_range.unwrap().start,
        Some(t("20240817T000000Z"))
    );
    assert_eq!(q.calendar_data, None);
}

#[test]
fn outlook_evolution_vdirsyncer_queries() {
    let q = query(CDS_CALENDAR_QUERY_RANGE);
    assert_eq!(
        inner(&q).time_range,
        Some(TimeRange {
            start: Some(t("20240101T000000Z")),
            end: Some(t("20251231T000000Z"))
        })
    );
    let q = query(EVOLUTION_RANGE_QUERY);
    assert_eq!(
        inner(&q).time_range.unwrap().end,
        Some(t("20240201T000000Z"))
    );
    let q = query(VDIRSYNCER_TODO_QUERY);
    assert_eq!(
        q.props,
        PropRequest::Prop(vec![names::GETCONTENTTYPE, names::GETETAG])
    );
    assert_eq!(inner(&q).name, "VTODO");
}

#[test]
fn evolution_uid_text_match() {
    let q = query(EVOLUTION_UID_QUERY);
    assert_eq!(q.calendar_data, Some(CalendarDataRequest::default()));
    let pf = &inner(&q).prop_filters[0];
    assert_eq!(pf.name, "UID");
    assert_eq!(
        pf.text_match,
        Some(TextMatch {
            text: "abc-123@example.com".into(),
            collation: Collation::Octet,
            negate: false,
            match_type: MatchType::Contains,
        })
    );
}

#[test]
fn rfc_param_filter_and_negation() {
    let q = query(RFC4791_PARAM_FILTER);
    let pf = &inner(&q).prop_filters[0];
    assert_eq!(pf.name, "ATTENDEE");
    assert_eq!(
        pf.text_match.as_ref().unwrap().collation,
        Collation::AsciiCasemap
    );
    assert_eq!(pf.param_filters[0].name, "PARTSTAT");
    assert_eq!(
        pf.param_filters[0].text_match.as_ref().unwrap().text,
        "NEEDS-ACTION"
    );

    let q = query(RFC4791_OPEN_TODOS);
    let f = inner(&q);
    assert!(f.prop_filters[0].is_not_defined);
    assert_eq!(f.prop_filters[0].name, "COMPLETED");
    let status = f.prop_filters[1].text_match.as_ref().unwrap();
    assert!(status.negate);
    assert_eq!(status.text, "CANCELLED");
}

#[test]
fn nested_alarm_time_range() {
    let q = query(RFC4791_ALARM_RANGE);
    let alarm = &inner(&q).comp_filters[0];
    assert_eq!(alarm.name, "VALARM");
    assert!(alarm.time_range.is_some());
}

#[test]
fn comp_is_not_defined_and_prop_time_range() {
    let body = r#"<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop>
      <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VTODO">
        <C:comp-filter name="VALARM"><C:is-not-defined/></C:comp-filter>
        <C:prop-filter name="DUE"><C:time-range end="20240101T000000Z"/></C:prop-filter>
        <C:prop-filter name="SUMMARY"><C:text-match collation="i;unicode-casemap" negate-condition="no">Call</C:text-match></C:prop-filter>
        <C:prop-filter name="ATTENDEE"><C:param-filter name="ROLE"><C:is-not-defined/></C:param-filter></C:prop-filter>
      </C:comp-filter></C:comp-filter></C:filter>
      <C:timezone>BEGIN:VCALENDAR&#13;
END:VCALENDAR</C:timezone></C:calendar-query>"#;
    let q = query(body);
    let todo = inner(&q);
    assert!(todo.comp_filters[0].is_not_defined);
    assert_eq!(
        todo.prop_filters[0].time_range.unwrap().end,
        Some(t("20240101T000000Z"))
    );
    assert_eq!(
        todo.prop_filters[1].text_match.as_ref().unwrap().collation,
        Collation::UnicodeCasemap
    );
    assert!(!todo.prop_filters[1].text_match.as_ref().unwrap().negate);
    assert!(todo.prop_filters[2].param_filters[0].is_not_defined);
    assert_eq!(
        q.timezone.as_deref(),
        Some("BEGIN:VCALENDAR\r\nEND:VCALENDAR")
    );
}

#[test]
fn partial_retrieval_selection() {
    let q = query(RFC4791_PARTIAL_RETRIEVAL);
    assert_eq!(q.props, PropRequest::Prop(vec![names::CALENDAR_DATA]));
    let cal = q.calendar_data.unwrap().comp.unwrap();
    assert_eq!(cal.name, "VCALENDAR");
    assert_eq!(cal.props.as_ref().unwrap()[0].name, "VERSION");
    let comps = cal.comps.unwrap();
    assert_eq!(comps.len(), 2);
    assert_eq!(comps[0].name, "VEVENT");
    assert_eq!(comps[0].props.as_ref().unwrap().len(), 10);
    assert_eq!(comps[1].name, "VTIMEZONE");
    assert_eq!(comps[1].props, Some(vec![]));
}

#[test]
fn allprop_allcomp_and_novalue() {
    let body = r#"<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data content-type="text/calendar" version="2.0">
        <C:comp name="VCALENDAR"><C:allprop/><C:comp name="VEVENT"><C:prop name="attendee" novalue="yes"/></C:comp><C:allcomp/></C:comp>
        <C:limit-freebusy-set start="20060102T000000Z" end="20060103T000000Z"/></C:calendar-data></D:prop><D:href>/a.ics</D:href></C:calendar-multiget>"#;
    let Report::CalendarMultiget(m) = report(body) else {
        panic!()
    };
    let cd = m.calendar_data.unwrap();
    assert_eq!(cd.content_type.as_deref(), Some("text/calendar"));
    assert_eq!(cd.version.as_deref(), Some("2.0"));
    assert!(cd.limit_freebusy_set.is_some());
    let cal = cd.comp.unwrap();
    assert_eq!(cal.props, None);
    assert_eq!(cal.comps, None, "allcomp wins over listed comps");
}

#[test]
fn expand_and_limit_recurrence_set() {
    let q = query(RFC4791_EXPAND);
    assert_eq!(
        q.calendar_data.unwrap().expand,
        Some(TimeRange {
            start: Some(t("20060103T000000Z")),
            end: Some(t("20060105T000000Z"))
        })
    );
    let q = query(RFC4791_LIMIT_RECURRENCE);
    assert!(q.calendar_data.unwrap().limit_recurrence_set.is_some());
    assert_eq!(q.filter, CalendarFilter::match_all());
}

#[test]
fn multigets() {
    let Report::CalendarMultiget(m) = report(TB_CALENDAR_MULTIGET) else {
        panic!()
    };
    assert_eq!(
        m.props,
        PropRequest::Prop(vec![names::GETETAG, names::CALENDAR_DATA])
    );
    assert_eq!(m.hrefs.len(), 2);
    assert_eq!(
        href::decode_href(&m.hrefs[1]).unwrap(),
        "/calendars/anna/work/Team Meeting.ics"
    );

    let Report::CalendarMultiget(m) = report(CDS_MULTIGET) else {
        panic!()
    };
    assert_eq!(
        m.props,
        PropRequest::Prop(vec![
            names::GETETAG,
            names::DISPLAYNAME,
            names::CALENDAR_DATA
        ])
    );
    assert_eq!(m.hrefs.len(), 3);

    let Report::CalendarMultiget(m) = report(VDIRSYNCER_MULTIGET) else {
        panic!()
    };
    assert_eq!(m.hrefs, vec!["/calendars/anna/work/a.ics".to_string()]);

    let Report::AddressbookMultiget(m) = report(TB_ADDRESSBOOK_MULTIGET) else {
        panic!()
    };
    assert_eq!(m.address_data, Some(AddressDataRequest::default()));

    let m = parse_addressbook_multiget(DAVX5_VCARD4_MULTIGET.as_bytes(), &limits()).unwrap();
    let ad = m.address_data.unwrap();
    assert_eq!(
        (ad.content_type.as_deref(), ad.version.as_deref()),
        (Some("text/vcard"), Some("4.0"))
    );
    assert_eq!(
        href::decode_href(&m.hrefs[0]).unwrap(),
        "/addressbooks/anna/contacts/a@b.vcf"
    );
    assert_eq!(
        href::decode_href(&m.hrefs[1]).unwrap(),
        "/addressbooks/anna/contacts/2.vcf"
    );
    assert!(parse_calendar_multiget(DAVX5_VCARD4_MULTIGET.as_bytes(), &limits()).is_err());
}

#[test]
fn sync_collection_variants() {
    let s = parse_sync_collection(TB_SYNC_INITIAL.as_bytes(), &limits()).unwrap();
    assert_eq!(s.sync_token, None, "empty token = initial sync");
    assert_eq!(s.sync_level, Some(SyncLevel::One));
    assert_eq!(
        s.props,
        PropRequest::Prop(vec![names::GETCONTENTTYPE, names::GETETAG])
    );

    let Report::SyncCollection(s) = report(CDS_SYNC_COLLECTION) else {
        panic!()
    };
    assert_eq!(
        s.sync_token.as_deref(),
        Some("http://tandem.local/sync/work/99")
    );

    let Report::SyncCollection(s) = report(APPLE_SYNC_INCREMENTAL) else {
        panic!()
    };
    assert_eq!(
        s.sync_token.as_deref(),
        Some("http://tandem.local/sync/work/17")
    );

    let Report::SyncCollection(s) = report(DAVX5_SYNC_WITH_LIMIT) else {
        panic!()
    };
    assert_eq!(s.limit, Some(100));

    let body = r#"<sync-collection xmlns="DAV:"><sync-token>  </sync-token><sync-level>infinite</sync-level><prop><getetag/></prop></sync-collection>"#;
    let Report::SyncCollection(s) = report(body) else {
        panic!()
    };
    assert_eq!(
        (s.sync_token, s.sync_level),
        (None, Some(SyncLevel::Infinite))
    );

    // Old drafts: no sync-level at all.
    let body =
        r#"<sync-collection xmlns="DAV:"><sync-token/><prop><getetag/></prop></sync-collection>"#;
    let Report::SyncCollection(s) = report(body) else {
        panic!()
    };
    assert_eq!(s.sync_level, None);
}

#[test]
fn sync_collection_errors() {
    let body = r#"<sync-collection xmlns="DAV:"><sync-token>not a token</sync-token><sync-level>1</sync-level><prop/></sync-collection>"#;
    let err = parse_report(body.as_bytes(), &limits()).unwrap_err();
    assert_eq!(err, XmlError::InvalidSyncToken("not a token".into()));
    assert_eq!(err.status(), 403);
    assert_eq!(err.precondition(), Some(Precondition::valid_sync_token()));
    let bodytext = String::from_utf8(err.error_body().unwrap()).unwrap();
    assert!(bodytext.contains("<D:error") && bodytext.contains("<D:valid-sync-token/>"));

    let body = r#"<sync-collection xmlns="DAV:"><sync-token/><sync-level>2</sync-level><prop/></sync-collection>"#;
    assert!(matches!(
        parse_report(body.as_bytes(), &limits()),
        Err(XmlError::Invalid(_))
    ));
    let body = r#"<sync-collection xmlns="DAV:"><sync-token/><limit><nresults>many</nresults></limit></sync-collection>"#;
    assert!(
        matches!(parse_report(body.as_bytes(), &limits()), Err(XmlError::Invalid(m)) if m.contains("nresults"))
    );
}

#[test]
fn free_busy() {
    let Report::FreeBusyQuery(f) = report(RFC4791_FREE_BUSY) else {
        panic!()
    };
    assert_eq!(f.time_range.start, Some(t("20060104T140000Z")));
    assert_eq!(f.time_range.end, Some(t("20060105T220000Z")));
    let err = parse_free_busy_query(
        b"<C:free-busy-query xmlns:C='urn:ietf:params:xml:ns:caldav'/>",
        &limits(),
    )
    .unwrap_err();
    assert_eq!(
        err.precondition(),
        Some(Precondition::caldav_valid_filter())
    );
}

#[test]
fn evolution_addressbook_query() {
    let q = parse_addressbook_query(EVOLUTION_CONTACT_SEARCH.as_bytes(), &limits()).unwrap();
    assert_eq!(q.limit, Some(50));
    let ad = q.address_data.unwrap();
    let names: Vec<_> = ad.props.unwrap().into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["FN", "EMAIL"]);
    assert_eq!(q.filter.test, FilterTest::AnyOf);
    let fn_ = &q.filter.prop_filters[0];
    assert_eq!(fn_.text_matches[0].collation, Collation::UnicodeCasemap);
    assert_eq!(fn_.text_matches[0].match_type, MatchType::Contains);
    let email = &q.filter.prop_filters[1];
    assert_eq!(email.test, FilterTest::AllOf);
    assert_eq!(email.text_matches[0].match_type, MatchType::StartsWith);
    assert_eq!(
        email.text_matches[0].collation,
        Collation::UnicodeCasemap,
        "CardDAV default collation"
    );
    assert_eq!(
        email.param_filters[0]
            .text_match
            .as_ref()
            .unwrap()
            .match_type,
        MatchType::Equals
    );
}

#[test]
fn addressbook_query_allof_is_not_defined_and_ends_with() {
    let body = r#"<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/></D:prop>
      <C:filter test="allof"><C:prop-filter name="nickname"><C:is-not-defined/></C:prop-filter>
      <C:prop-filter name="TEL"><C:text-match match-type="ends-with" negate-condition="yes">1234</C:text-match></C:prop-filter></C:filter>
      <D:limit><D:nresults>0</D:nresults></D:limit></C:addressbook-query>"#;
    let q = parse_addressbook_query(body.as_bytes(), &limits()).unwrap();
    assert_eq!(q.filter.test, FilterTest::AllOf);
    assert_eq!(q.filter.prop_filters[0].name, "NICKNAME");
    assert!(q.filter.prop_filters[0].is_not_defined);
    let tm = &q.filter.prop_filters[1].text_matches[0];
    assert!(tm.negate && tm.match_type == MatchType::EndsWith);
    assert_eq!(q.limit, Some(0));
}

#[test]
fn addressbook_filter_errors() {
    let body = r#"<C:addressbook-query xmlns:C="urn:ietf:params:xml:ns:carddav"><C:filter><C:prop-filter name="FN"><C:text-match match-type="fuzzy">x</C:text-match></C:prop-filter></C:filter></C:addressbook-query>"#;
    let err = parse_report(body.as_bytes(), &limits()).unwrap_err();
    assert!(matches!(
        err,
        XmlError::InvalidFilter {
            dialect: FilterDialect::Addressbook,
            ..
        }
    ));
    assert_eq!((err.status(), err.precondition()), (400, None));

    let body = r#"<C:addressbook-query xmlns:C="urn:ietf:params:xml:ns:carddav"><C:filter><C:prop-filter name="FN"><C:text-match collation="i;klingon">x</C:text-match></C:prop-filter></C:filter></C:addressbook-query>"#;
    let err = parse_report(body.as_bytes(), &limits()).unwrap_err();
    assert_eq!(err.status(), 403);
    assert_eq!(
        err.precondition(),
        Some(Precondition::carddav_supported_collation())
    );
}

#[test]
fn calendar_filter_errors_map_to_preconditions() {
    let bad_range = r#"<C:calendar-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="2024-01-01" end="20240201T000000Z"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"#;
    let err = parse_report(bad_range.as_bytes(), &limits()).unwrap_err();
    assert!(
        matches!(&err, XmlError::InvalidFilter { dialect: FilterDialect::Calendar, message } if message.contains("2024-01-01"))
    );
    assert_eq!(
        (err.status(), err.precondition()),
        (403, Some(Precondition::caldav_valid_filter()))
    );

    let reversed = bad_range.replace("2024-01-01", "20250101T000000Z");
    let err = parse_report(reversed.as_bytes(), &limits()).unwrap_err();
    assert!(
        matches!(&err, XmlError::InvalidFilter { message, .. } if message.contains("later than start"))
    );

    let empty_range = bad_range.replace(r#" start="2024-01-01" end="20240201T000000Z""#, "");
    assert!(matches!(
        parse_report(empty_range.as_bytes(), &limits()),
        Err(XmlError::InvalidFilter { .. })
    ));

    let no_name = r#"<C:calendar-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:filter><C:comp-filter/></C:filter></C:calendar-query>"#;
    assert!(matches!(
        parse_report(no_name.as_bytes(), &limits()),
        Err(XmlError::InvalidFilter { .. })
    ));

    let collation = r#"<C:calendar-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY"><C:text-match collation="i;basic">x</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"#;
    let err = parse_report(collation.as_bytes(), &limits()).unwrap_err();
    assert_eq!(
        err.precondition(),
        Some(Precondition::caldav_supported_collation())
    );

    let expand = RFC4791_EXPAND.replace(
        r#"<C:expand start="20060103T000000Z" end="20060105T000000Z"/>"#,
        r#"<C:expand start="20060103T000000Z"/>"#,
    );
    assert!(
        matches!(parse_report(expand.as_bytes(), &limits()), Err(XmlError::Invalid(m)) if m.contains("both"))
    );
}

#[test]
fn lenient_calendar_filters() {
    // No VCALENDAR wrapper: wrapped instead of rejected.
    let body = r#"<C:calendar-query xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:D="DAV:"><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="vevent"/></C:filter></C:calendar-query>"#;
    let q = query(body);
    assert_eq!(inner(&q).name, "VEVENT");
    // No filter at all: matches everything.
    let body = r#"<C:calendar-query xmlns:C="urn:ietf:params:xml:ns:caldav"/>"#;
    let q = query(body);
    assert_eq!(q.filter, CalendarFilter::match_all());
    assert_eq!(q.props, PropRequest::AllProp { include: vec![] });
    // Unknown elements anywhere are ignored (OneCalendar-style extras, RustiCal#238).
    let body = r#"<C:calendar-query xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:D="DAV:" xmlns:X="urn:x"><X:hint/><D:prop><D:getetag/><X:color/></D:prop><C:filter><X:extra>1</X:extra><C:comp-filter name="VCALENDAR"><C:unknown/><C:comp-filter name="VTODO"><X:y/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"#;
    let q = query(body);
    assert_eq!(inner(&q), &CompFilter::named("VTODO"));
    assert_eq!(
        q.props,
        PropRequest::Prop(vec![names::GETETAG, PropName::new("urn:x", "color")])
    );
}

#[test]
fn principal_reports() {
    let Report::PrincipalPropertySearch(s) = report(CDS_PRINCIPAL_SEARCH) else {
        panic!()
    };
    assert_eq!(s.test, FilterTest::AllOf);
    assert_eq!(s.searches.len(), 1);
    assert_eq!(s.searches[0].props, vec![names::DISPLAYNAME]);
    assert_eq!(s.searches[0].text, "Meeting Room");
    assert_eq!(s.searches[0].match_type, MatchType::StartsWith);
    assert_eq!(
        s.props,
        PropRequest::Prop(vec![names::CALENDAR_HOME_SET, names::DISPLAYNAME])
    );
    assert!(!s.apply_to_principal_collection_set);

    assert_eq!(
        report(r#"<D:principal-search-property-set xmlns:D="DAV:"/>"#),
        Report::PrincipalSearchPropertySet
    );
}

#[test]
fn expand_property() {
    let Report::ExpandProperty(e) = report(RFC3253_EXPAND_PROPERTY) else {
        panic!()
    };
    assert_eq!(e.properties.len(), 1);
    assert_eq!(e.properties[0].name, names::CURRENT_USER_PRINCIPAL);
    let children: Vec<_> = e.properties[0]
        .children
        .iter()
        .map(|c| c.name.clone())
        .collect();
    assert_eq!(children, vec![names::DISPLAYNAME, names::CALENDAR_HOME_SET]);
}

#[test]
fn unknown_report_is_403_supported_report() {
    let body = r#"<D:acl-principal-prop-set xmlns:D="DAV:"><D:prop><D:displayname/></D:prop></D:acl-principal-prop-set>"#;
    let err = parse_report(body.as_bytes(), &limits()).unwrap_err();
    assert_eq!(
        err,
        XmlError::UnsupportedReport(PropName::new("DAV:", "acl-principal-prop-set"))
    );
    assert_eq!(err.status(), 403);
    assert_eq!(err.precondition(), Some(Precondition::supported_report()));
    assert!(
        String::from_utf8(err.error_body().unwrap())
            .unwrap()
            .contains("<D:supported-report/>")
    );
    // A report-like name in the wrong namespace is unknown too.
    let err = parse_report(b"<calendar-query xmlns='DAV:'/>", &limits()).unwrap_err();
    assert!(matches!(err, XmlError::UnsupportedReport(_)));
    assert_eq!(report(TB_SYNC_INITIAL).name(), names::SYNC_COLLECTION);
}

#[test]
fn specific_parsers_check_the_root() {
    let err = parse_calendar_query(TB_SYNC_INITIAL.as_bytes(), &limits()).unwrap_err();
    assert!(matches!(err, XmlError::WrongRoot { .. }));
    assert_eq!(
        parse_report(b"", &limits()),
        Err(XmlError::EmptyBody {
            expected: "REPORT body"
        })
    );
}
