//! Request bodies as real clients send them, reconstructed from their sources and traces.

// ---- Thunderbird (calendar/providers/caldav/CalDavCalendar.sys.mjs, CardDAV in comm-central)

pub const TB_CTAG_PROPFIND: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:resourcetype/><D:owner/><D:current-user-principal/><D:current-user-privilege-set/><D:supported-report-set/><C:supported-calendar-component-set/><CS:getctag/></D:prop></D:propfind>"#;

pub const TB_SYNC_INITIAL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<sync-collection xmlns="DAV:">
  <sync-token/>
  <sync-level>1</sync-level>
  <prop>
    <getcontenttype/>
    <getetag/>
  </prop>
</sync-collection>"#;

pub const TB_CALENDAR_MULTIGET: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop>
    <D:getetag/>
    <C:calendar-data/>
  </D:prop>
  <D:href>/calendars/anna/work/0b6d5b1e-9d1f-4a4b-8c4b-4f1f9a3c2d11.ics</D:href>
  <D:href>/calendars/anna/work/Team%20Meeting.ics</D:href>
</C:calendar-multiget>"#;

pub const TB_ADDRESSBOOK_MULTIGET: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<card:addressbook-multiget xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/><card:address-data/></d:prop><d:href>/addressbooks/anna/contacts/1.vcf</d:href></card:addressbook-multiget>"#;

// ---- DAVx5 (dav4jvm: default namespace DAV:, CalDAV/CardDAV prefixed, inline declarations)

pub const DAVX5_CAPABILITIES_PROPFIND: &str = r#"<?xml version='1.0' encoding='UTF-8' ?><propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><prop><resourcetype /><displayname /><CARD:supported-address-data /><current-user-privilege-set /><sync-token /><getctag xmlns="http://calendarserver.org/ns/" /><supported-report-set /></prop></propfind>"#;

pub const DAVX5_TASKS_QUERY: &str = r#"<?xml version='1.0' encoding='UTF-8' ?><CAL:calendar-query xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav"><prop><getetag /></prop><CAL:filter><CAL:comp-filter name="VCALENDAR"><CAL:comp-filter name="VTODO" /></CAL:comp-filter></CAL:filter></CAL:calendar-query>"#;

pub const DAVX5_EVENTS_QUERY: &str = r#"<?xml version='1.0' encoding='UTF-8' ?><CAL:calendar-query xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav"><prop><getetag /></prop><CAL:filter><CAL:comp-filter name="VCALENDAR"><CAL:comp-filter name="VEVENT"><CAL:time-range start="20240915T000000Z" /></CAL:comp-filter></CAL:comp-filter></CAL:filter></CAL:calendar-query>"#;

pub const DAVX5_VCARD4_MULTIGET: &str = r#"<?xml version='1.0' encoding='UTF-8' ?><CARD:addressbook-multiget xmlns="DAV:" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><prop><getetag /><CARD:address-data content-type="text/vcard" version="4.0" /></prop><href>/addressbooks/anna/contacts/a%40b.vcf</href><href>https://127.0.0.1:5232/addressbooks/anna/contacts/2.vcf</href></CARD:addressbook-multiget>"#;

pub const DAVX5_SYNC_WITH_LIMIT: &str = r#"<?xml version='1.0' encoding='UTF-8' ?><sync-collection xmlns="DAV:"><sync-token>http://tandem.local/sync/contacts/42</sync-token><sync-level>1</sync-level><limit><nresults>100</nresults></limit><prop><getetag /></prop></sync-collection>"#;

// ---- Apple Calendar / Contacts / Reminders (iOS, macOS)

pub const APPLE_PRINCIPAL_PROPFIND: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:">
  <A:prop>
    <B:calendar-home-set xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <B:calendar-user-address-set xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <A:current-user-principal/>
    <A:displayname/>
    <C:dropbox-home-URL xmlns:C="http://calendarserver.org/ns/"/>
    <C:email-address-set xmlns:C="http://calendarserver.org/ns/"/>
    <C:notification-URL xmlns:C="http://calendarserver.org/ns/"/>
    <A:principal-collection-set/>
    <A:principal-URL/>
    <A:resource-id/>
    <B:schedule-inbox-URL xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <B:schedule-outbox-URL xmlns:B="urn:ietf:params:xml:ns:caldav"/>
    <A:supported-report-set/>
  </A:prop>
</A:propfind>"#;

pub const APPLE_CALENDAR_QUERY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<B:calendar-query xmlns:B="urn:ietf:params:xml:ns:caldav">
  <A:prop xmlns:A="DAV:">
    <A:getetag/>
    <A:getcontenttype/>
  </A:prop>
  <B:filter>
    <B:comp-filter name="VCALENDAR">
      <B:comp-filter name="VEVENT">
        <B:time-range start="20240817T000000Z"/>
      </B:comp-filter>
    </B:comp-filter>
  </B:filter>
</B:calendar-query>"#;

pub const APPLE_MKCALENDAR_REMINDERS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r
<B:mkcalendar xmlns:B=\"urn:ietf:params:xml:ns:caldav\">\r
  <A:set xmlns:A=\"DAV:\">\r
    <A:prop>\r
      <B:supported-calendar-component-set>\r
        <B:comp name=\"VTODO\"/>\r
      </B:supported-calendar-component-set>\r
      <D:calendar-color xmlns:D=\"http://apple.com/ns/ical/\" symbolic-color=\"orange\">#FF9500FF</D:calendar-color>\r
      <A:displayname>Reminders</A:displayname>\r
      <D:calendar-order xmlns:D=\"http://apple.com/ns/ical/\">2</D:calendar-order>\r
      <B:calendar-timezone><![CDATA[BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Apple Inc.//iPhone OS 17.5//EN\r
BEGIN:VTIMEZONE\r
TZID:Europe/Berlin\r
END:VTIMEZONE\r
END:VCALENDAR\r
]]></B:calendar-timezone>\r
    </A:prop>\r
  </A:set>\r
</B:mkcalendar>\r
";

pub const APPLE_ME_CARD_PROPPATCH: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<A:propertyupdate xmlns:A="DAV:"><A:set><A:prop><C:me-card xmlns:C="http://calendarserver.org/ns/"><A:href>/addressbooks/anna/contacts/me.vcf</A:href></C:me-card></A:prop></A:set></A:propertyupdate>"#;

pub const APPLE_SYNC_INCREMENTAL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<A:sync-collection xmlns:A="DAV:">
  <A:sync-token>http://tandem.local/sync/work/17</A:sync-token>
  <A:sync-level>1</A:sync-level>
  <A:prop>
    <A:getetag/>
  </A:prop>
</A:sync-collection>"#;

// ---- Outlook CalDav Synchronizer (CalDavDataAccess.cs, WebDavDataAccess.cs)

pub const CDS_CALENDAR_QUERY_RANGE: &str = r#"<?xml version="1.0"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop>
    <D:getetag/>
  </D:prop>
  <C:filter>
    <C:comp-filter name="VCALENDAR">
      <C:comp-filter name="VEVENT">
        <C:time-range start="20240101T000000Z" end="20251231T000000Z"/>
      </C:comp-filter>
    </C:comp-filter>
  </C:filter>
</C:calendar-query>"#;

pub const CDS_SYNC_COLLECTION: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<sync-collection xmlns="DAV:">
  <sync-token>http://tandem.local/sync/work/99</sync-token>
  <sync-level>1</sync-level>
  <prop>
    <getetag />
  </prop>
</sync-collection>"#;

pub const CDS_MULTIGET: &str = r#"<?xml version="1.0"?>
<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/><D:displayname/><C:calendar-data/></D:prop>
  <D:href>/calendars/anna/work/1.ics</D:href>
  <D:href>/calendars/anna/work/2.ics</D:href>
  <D:href>/calendars/anna/work/3.ics</D:href>
</C:calendar-multiget>"#;

pub const CDS_EXTENDED_MKCOL: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:E="http://apple.com/ns/ical/">
  <D:set>
    <D:prop>
      <D:resourcetype><D:collection/><C:calendar/></D:resourcetype>
      <D:displayname>Outlook Tasks</D:displayname>
      <E:calendar-color>#FF0000FF</E:calendar-color>
      <C:supported-calendar-component-set><C:comp name="VTODO"/></C:supported-calendar-component-set>
    </D:prop>
  </D:set>
</D:mkcol>"#;

pub const CDS_COLOR_PROPPATCH: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<D:propertyupdate xmlns:D="DAV:" xmlns:E="http://apple.com/ns/ical/"><D:set><D:prop><E:calendar-color>#8AB4F8FF</E:calendar-color></D:prop></D:set></D:propertyupdate>"#;

pub const CDS_PRINCIPAL_SEARCH: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<D:principal-property-search xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:property-search>
    <D:prop><D:displayname/></D:prop>
    <D:match match-type="starts-with">Meeting Room</D:match>
  </D:property-search>
  <D:prop><C:calendar-home-set/><D:displayname/></D:prop>
</D:principal-property-search>"#;

// ---- Evolution (evolution-data-server e-cal-backend-caldav.c, e-book-backend-carddav.c)

pub const EVOLUTION_RANGE_QUERY: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20240101T000000Z" end="20240201T000000Z"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"#;

pub const EVOLUTION_UID_QUERY: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="UID"><C:text-match collation="i;octet">abc-123@example.com</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"#;

pub const EVOLUTION_CONTACT_SEARCH: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><C:address-data><C:prop name="FN"/><C:prop name="email"/></C:address-data></D:prop><C:filter test="anyof"><C:prop-filter name="FN"><C:text-match collation="i;unicode-casemap" match-type="contains">anna</C:text-match></C:prop-filter><C:prop-filter name="EMAIL" test="allof"><C:text-match match-type="starts-with">anna@</C:text-match><C:param-filter name="TYPE"><C:text-match match-type="equals">work</C:text-match></C:param-filter></C:prop-filter></C:filter><C:limit><C:nresults>50</C:nresults></C:limit></C:addressbook-query>"#;

// ---- vdirsyncer (vdirsyncer/storage/dav.py)

pub const VDIRSYNCER_LIST_PROPFIND: &str = r#"<?xml version="1.0" encoding="utf-8" ?>
<propfind xmlns="DAV:">
    <prop>
        <resourcetype/>
        <getcontenttype/>
        <getetag/>
    </prop>
</propfind>"#;

pub const VDIRSYNCER_TODO_QUERY: &str = r#"<?xml version="1.0" encoding="utf-8" ?>
<C:calendar-query xmlns:D="DAV:"
    xmlns:C="urn:ietf:params:xml:ns:caldav">
    <D:prop>
        <D:getcontenttype/>
        <D:getetag/>
    </D:prop>
    <C:filter>
        <C:comp-filter name="VCALENDAR"><C:comp-filter name="VTODO"/></C:comp-filter>
    </C:filter>
</C:calendar-query>"#;

pub const VDIRSYNCER_MULTIGET: &str = r#"<?xml version="1.0" encoding="utf-8" ?>
<C:calendar-multiget xmlns="DAV:"
    xmlns:C="urn:ietf:params:xml:ns:caldav">
    <prop>
        <getetag/>
        <C:calendar-data/>
    </prop>
    <href>/calendars/anna/work/a.ics</href>
</C:calendar-multiget>"#;

pub const VDIRSYNCER_SET_COLOR: &str = r#"<?xml version="1.0" encoding="utf-8" ?>
<D:propertyupdate xmlns:D="DAV:">
    <D:set>
        <D:prop>
            <I:calendar-color xmlns:I="http://apple.com/ns/ical/">#ff0000</I:calendar-color>
        </D:prop>
    </D:set>
</D:propertyupdate>"#;

pub const VDIRSYNCER_REMOVE_DISPLAYNAME: &str = r#"<?xml version="1.0" encoding="utf-8" ?>
<D:propertyupdate xmlns:D="DAV:">
    <D:remove>
        <D:prop>
            <D:displayname/>
        </D:prop>
    </D:remove>
</D:propertyupdate>"#;

// ---- RFC examples (RFC 4791 §7.8.x, RFC 4918 §9.1.x)

pub const RFC4791_PARTIAL_RETRIEVAL: &str = r#"<?xml version="1.0" encoding="utf-8" ?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop>
    <C:calendar-data>
      <C:comp name="VCALENDAR">
        <C:prop name="VERSION"/>
        <C:comp name="VEVENT">
          <C:prop name="SUMMARY"/>
          <C:prop name="UID"/>
          <C:prop name="DTSTART"/>
          <C:prop name="DTEND"/>
          <C:prop name="DURATION"/>
          <C:prop name="RRULE"/>
          <C:prop name="RDATE"/>
          <C:prop name="EXRULE"/>
          <C:prop name="EXDATE"/>
          <C:prop name="RECURRENCE-ID"/>
        </C:comp>
        <C:comp name="VTIMEZONE"/>
      </C:comp>
    </C:calendar-data>
  </D:prop>
  <C:filter>
    <C:comp-filter name="VCALENDAR">
      <C:comp-filter name="VEVENT">
        <C:time-range start="20060104T000000Z" end="20060105T000000Z"/>
      </C:comp-filter>
    </C:comp-filter>
  </C:filter>
</C:calendar-query>"#;

pub const RFC4791_EXPAND: &str = r#"<?xml version="1.0" encoding="utf-8" ?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop>
    <C:calendar-data>
      <C:expand start="20060103T000000Z" end="20060105T000000Z"/>
    </C:calendar-data>
  </D:prop>
  <C:filter>
    <C:comp-filter name="VCALENDAR">
      <C:comp-filter name="VEVENT">
        <C:time-range start="20060103T000000Z" end="20060105T000000Z"/>
      </C:comp-filter>
    </C:comp-filter>
  </C:filter>
</C:calendar-query>"#;

pub const RFC4791_LIMIT_RECURRENCE: &str = r#"<?xml version="1.0" encoding="utf-8" ?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop>
    <C:calendar-data>
      <C:limit-recurrence-set start="20060103T000000Z" end="20060105T000000Z"/>
    </C:calendar-data>
  </D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"/></C:filter>
</C:calendar-query>"#;

pub const RFC4791_PARAM_FILTER: &str = r#"<?xml version="1.0" encoding="utf-8" ?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/></D:prop>
  <C:filter>
    <C:comp-filter name="VCALENDAR">
      <C:comp-filter name="VEVENT">
        <C:prop-filter name="ATTENDEE">
          <C:text-match collation="i;ascii-casemap">mailto:lisa@example.com</C:text-match>
          <C:param-filter name="PARTSTAT">
            <C:text-match collation="i;ascii-casemap">NEEDS-ACTION</C:text-match>
          </C:param-filter>
        </C:prop-filter>
      </C:comp-filter>
    </C:comp-filter>
  </C:filter>
</C:calendar-query>"#;

pub const RFC4791_OPEN_TODOS: &str = r#"<?xml version="1.0" encoding="utf-8" ?>
<C:calendar-query xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop xmlns:D="DAV:"><D:getetag/><C:calendar-data/></D:prop>
  <C:filter>
    <C:comp-filter name="VCALENDAR">
      <C:comp-filter name="VTODO">
        <C:prop-filter name="COMPLETED"><C:is-not-defined/></C:prop-filter>
        <C:prop-filter name="STATUS">
          <C:text-match negate-condition="yes">CANCELLED</C:text-match>
        </C:prop-filter>
      </C:comp-filter>
    </C:comp-filter>
  </C:filter>
</C:calendar-query>"#;

pub const RFC4791_ALARM_RANGE: &str = r#"<?xml version="1.0" encoding="utf-8" ?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/></D:prop>
  <C:filter>
    <C:comp-filter name="VCALENDAR">
      <C:comp-filter name="VEVENT">
        <C:comp-filter name="VALARM">
          <C:time-range start="20060106T100000Z" end="20060107T100000Z"/>
        </C:comp-filter>
      </C:comp-filter>
    </C:comp-filter>
  </C:filter>
</C:calendar-query>"#;

pub const RFC4791_FREE_BUSY: &str = r#"<?xml version="1.0" encoding="utf-8" ?>
<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav">
  <C:time-range start="20060104T140000Z" end="20060105T220000Z"/>
</C:free-busy-query>"#;

pub const RFC4918_ALLPROP_INCLUDE: &str = r#"<?xml version="1.0" encoding="utf-8" ?>
<D:propfind xmlns:D="DAV:">
  <D:allprop/>
  <D:include>
    <D:supported-live-property-set/>
    <D:supported-report-set/>
  </D:include>
</D:propfind>"#;

pub const RFC4918_PROPNAME: &str = r#"<?xml version="1.0" encoding="utf-8" ?>
<propfind xmlns="DAV:"><propname/></propfind>"#;

pub const RFC3253_EXPAND_PROPERTY: &str = r#"<?xml version="1.0" encoding="utf-8" ?>
<D:expand-property xmlns:D="DAV:">
  <D:property name="current-user-principal">
    <D:property name="displayname"/>
    <D:property name="calendar-home-set" namespace="urn:ietf:params:xml:ns:caldav"/>
  </D:property>
</D:expand-property>"#;

/// Every valid body above, for the fuzz tests' mutation seeds.
pub const ALL: &[&str] = &[
    TB_CTAG_PROPFIND,
    TB_SYNC_INITIAL,
    TB_CALENDAR_MULTIGET,
    TB_ADDRESSBOOK_MULTIGET,
    DAVX5_CAPABILITIES_PROPFIND,
    DAVX5_TASKS_QUERY,
    DAVX5_EVENTS_QUERY,
    DAVX5_VCARD4_MULTIGET,
    DAVX5_SYNC_WITH_LIMIT,
    APPLE_PRINCIPAL_PROPFIND,
    APPLE_CALENDAR_QUERY,
    APPLE_MKCALENDAR_REMINDERS,
    APPLE_ME_CARD_PROPPATCH,
    APPLE_SYNC_INCREMENTAL,
    CDS_CALENDAR_QUERY_RANGE,
    CDS_SYNC_COLLECTION,
    CDS_MULTIGET,
    CDS_EXTENDED_MKCOL,
    CDS_COLOR_PROPPATCH,
    CDS_PRINCIPAL_SEARCH,
    EVOLUTION_RANGE_QUERY,
    EVOLUTION_UID_QUERY,
    EVOLUTION_CONTACT_SEARCH,
    VDIRSYNCER_LIST_PROPFIND,
    VDIRSYNCER_TODO_QUERY,
    VDIRSYNCER_MULTIGET,
    VDIRSYNCER_SET_COLOR,
    VDIRSYNCER_REMOVE_DISPLAYNAME,
    RFC4791_PARTIAL_RETRIEVAL,
    RFC4791_EXPAND,
    RFC4791_LIMIT_RECURRENCE,
    RFC4791_PARAM_FILTER,
    RFC4791_OPEN_TODOS,
    RFC4791_ALARM_RANGE,
    RFC4791_FREE_BUSY,
    RFC4918_ALLPROP_INCLUDE,
    RFC4918_PROPNAME,
    RFC3253_EXPAND_PROPERTY,
];
