//! The events of the append-only log, with their on-disk format version.
//!
//! Every change from every side enters tandem as an event: an `Observation` (a side reported a
//! create, update or delete), a `Decision` (the user ignored, confirmed or resolved something),
//! an `Outcome` (tandem wrote to a side, and what came of it), or a `Watermark` (how far tandem
//! has read a side). Events are JSON, tagged with a format number, so a newer tandem can still
//! read an older log and an older tandem refuses a newer one instead of misreading it.

use crate::error::Error;
use crate::hlc::Hlc;
use crate::record::{Fields, RecordId, RecordKind};
use crate::side::{Origin, Side};
use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::collections::BTreeMap;

/// The log format this build writes. Raise it when an event's meaning changes, and keep reading
/// the older ones. Format 2: sides are names, a run record counts per side
/// (`crate::run`), and an ignore may name one side.
pub const EVENT_FORMAT: u16 = 2;

/// Read by `reading`, without buffering the whole event as `flatten` would.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    pub format: u16,
    /// Both the event's time and its id: unique within a store.
    pub hlc: Hlc,
    pub origin: Origin,
    #[serde(flatten)]
    pub body: EventBody,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventBody {
    Observation(Observation),
    Decision(Decision),
    Outcome(Outcome),
    Watermark(Watermark),
    Collection(CollectionChange),
    /// A change in the plain WebDAV area (`/dav/files/`); added in format 1 without a bump,
    /// since older events keep their meaning.
    File(FileChange),
    /// A sync run and what came of it; added in format 1 without a bump.
    Run(crate::run::RunRecord),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Create,
    Update,
    Delete,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Update => "update",
            Op::Delete => "delete",
        }
    }
}

/// A side reported a change to one record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub record: RecordId,
    pub kind: RecordKind,
    pub op: Op,
    /// The record's id on the reporting side: a DAV href, a Salesforce id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The iCalendar/vCard UID, when the side has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// The side's version token after the change: an ETag, a SystemModstamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// When the side says the change was made (e.g. Salesforce's LastModifiedDate), in
    /// milliseconds since the epoch; "newest wins" compares this rather than when tandem heard
    /// of the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_at_ms: Option<i64>,
    /// The causal base: the heads of the record as this side last saw them from tandem. The
    /// change is applied on top of that state and merged with whatever happened since.
    #[serde(default)]
    pub base: Vec<Hlc>,
    /// The fields this change sets; `null` clears a field.
    #[serde(default)]
    pub changes: Fields,
    /// The side's raw bytes (the .ics/.vcf a client sent, the Salesforce JSON), kept verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Payload>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Payload {
    pub content_type: String,
    #[serde(with = "base64_bytes")]
    pub bytes: Vec<u8>,
}

/// Something the user decided.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Skip this record's pending actions until any side changes it again.
    IgnoreOnce {
        record: RecordId,
        /// The record heads at the time of the decision: a later change lifts it.
        heads: Vec<Hlc>,
        /// Only its action on this side; every side when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        side: Option<Side>,
    },
    /// Never sync this record again (or never to `side`).
    IgnoreForever {
        record: RecordId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        side: Option<Side>,
    },
    /// Undo an ignore (of the whole record, or of its action on `side`).
    Unignore {
        record: RecordId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        side: Option<Side>,
    },
    /// The user confirmed a reviewed run's actions.
    Confirm { run: String, records: Vec<RecordId> },
    /// The user picked a value for a field in conflict; applied as a change on top of `base`.
    Resolve {
        record: RecordId,
        field: String,
        value: Value,
        base: Vec<Hlc>,
    },
}

/// What came of a write tandem made to a side.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub record: RecordId,
    pub side: Side,
    pub op: Op,
    /// The record heads whose state was written: the side has now seen them.
    pub written: Vec<Hlc>,
    pub result: OutcomeResult,
    /// The record as the side holds it after a successful write, in canonical fields (what a
    /// re-read will report). Reading back tandem's own write is then no change: no echo. On an
    /// intent: what the side will hold if the write lands (a create found after a crash is
    /// recorded as having written this).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side_fields: Option<Fields>,
    /// For a desktop write: the bytes tandem put on the DAV server, at the href named by the
    /// result's external id. Replay rebuilds the served body from them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Payload>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum OutcomeResult {
    /// About to write: recorded before the call so a crash can be reconciled without duplicates.
    Intent,
    Succeeded {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        external_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        version: Option<String>,
    },
    Failed {
        code: String,
        message: String,
        retryable: bool,
    },
}

/// How far tandem has read a side (e.g. the SystemModstamp of the last Contact pulled).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Watermark {
    pub side: Side,
    pub scope: String,
    pub value: String,
}

/// A desktop client created, changed or removed a collection (a calendar, a task list, an
/// address book). Collections are in the log like everything else, so replay rebuilds them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CollectionChange {
    /// The collection's path on the DAV server, ending with `/`.
    pub path: String,
    #[serde(flatten)]
    pub op: CollectionOp,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "collection_op", rename_all = "snake_case")]
pub enum CollectionOp {
    Create {
        kind: CollectionKind,
        /// For calendars: the component types it holds (VEVENT, VTODO).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        components: Vec<String>,
        /// Properties set at creation, by Clark name (`{DAV:}displayname`) → XML value.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        props: BTreeMap<String, String>,
    },
    SetProps {
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        set: BTreeMap<String, String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        remove: Vec<String>,
    },
    Delete,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CollectionKind {
    Calendar,
    Addressbook,
}

/// A WebDAV client changed the plain file area: collections and resources with arbitrary
/// bytes and dead properties, which never sync to Salesforce. Each request is one event, so a
/// COPY or MOVE of a whole tree is atomic and replays from the event alone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "file_op", rename_all = "snake_case")]
pub enum FileChange {
    /// MKCOL: a collection at `path`, whose parent collection exists.
    MakeCollection {
        path: String,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        props: BTreeMap<String, String>,
    },
    /// PUT: create or replace the resource at `path` (its dead properties are kept).
    Put { path: String, payload: Payload },
    /// DELETE: the resource or collection at `path`, with everything below it.
    Delete { path: String },
    /// PROPPATCH: dead properties set or removed, in document order (RFC 4918 §9.2).
    Props { path: String, ops: Vec<PropOp> },
    /// COPY: `from` (and, with `deep`, everything below it) to `to`, replacing what was there.
    Copy {
        from: String,
        to: String,
        deep: bool,
    },
    /// MOVE: `from` and everything below it to `to`, replacing what was there.
    Move { from: String, to: String },
}

impl FileChange {
    /// The path the change is about (the destination for COPY and MOVE).
    pub fn path(&self) -> &str {
        match self {
            FileChange::MakeCollection { path, .. }
            | FileChange::Put { path, .. }
            | FileChange::Delete { path }
            | FileChange::Props { path, .. } => path,
            FileChange::Copy { to, .. } | FileChange::Move { to, .. } => to,
        }
    }
}

/// One instruction of a PROPPATCH, by Clark name (`{ns}local`); values are XML.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "prop_op", rename_all = "snake_case")]
pub enum PropOp {
    Set { name: String, value: String },
    Remove { name: String },
}

impl Event {
    pub fn new(hlc: Hlc, origin: Origin, body: EventBody) -> Event {
        Event {
            format: EVENT_FORMAT,
            hlc,
            origin,
            body,
        }
    }

    /// The record this event is about, if it is about one.
    pub fn record(&self) -> Option<&RecordId> {
        match &self.body {
            EventBody::Observation(o) => Some(&o.record),
            EventBody::Outcome(o) => Some(&o.record),
            EventBody::Decision(d) => match d {
                Decision::IgnoreOnce { record, .. }
                | Decision::IgnoreForever { record, .. }
                | Decision::Unignore { record, .. }
                | Decision::Resolve { record, .. } => Some(record),
                Decision::Confirm { .. } => None,
            },
            EventBody::Watermark(_)
            | EventBody::Collection(_)
            | EventBody::File(_)
            | EventBody::Run(_) => None,
        }
    }

    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        serde_json::to_vec(self).map_err(|e| Error::Unencodable(e.to_string()))
    }

    /// Read an event from the log, refusing formats newer than this build instead of guessing.
    /// One parse in the usual case; the format alone is read again only to explain a failure.
    pub fn decode(bytes: &[u8]) -> Result<Event, Error> {
        let future = |found: u64| Error::FutureFormat {
            found,
            supported: EVENT_FORMAT,
        };
        let error = match serde_json::from_slice::<Event>(bytes) {
            Ok(event) if event.format <= EVENT_FORMAT => return Ok(event),
            Ok(event) => return Err(future(event.format.into())),
            Err(e) => e,
        };
        #[derive(Deserialize)]
        struct Envelope {
            format: u64,
        }
        match serde_json::from_slice::<Envelope>(bytes) {
            Ok(envelope) if envelope.format > u64::from(EVENT_FORMAT) => {
                Err(future(envelope.format))
            }
            Ok(envelope) => Err(Error::MalformedEvent {
                format: envelope.format,
                reason: error.to_string(),
            }),
            Err(e) => Err(Error::MalformedEvent {
                format: 0,
                reason: e.to_string(),
            }),
        }
    }
}

/// Reading an event in one pass. serde's derived reading of a flattened, internally tagged body
/// copies the whole event into a buffer, then the body into another, before it reads a field:
/// most of the time it took to read an event. The log writes the envelope's fields first and
/// the body's tag before the body's own (the order `Serialize` gives), so the body can be read
/// straight from the rest of the map once the tag is known. Any other order is read the slow way.
mod reading {
    use super::*;
    use serde::de::value::MapAccessDeserializer;
    use serde::de::{self, MapAccess, Visitor};
    use std::borrow::Cow;

    /// The derived reading, for an event whose fields come in another order.
    #[derive(Deserialize)]
    #[serde(remote = "Event")]
    struct AnyOrder {
        format: u16,
        hlc: Hlc,
        origin: Origin,
        #[serde(flatten)]
        body: EventBody,
    }

    const VARIANTS: &[&str] = &[
        "observation",
        "decision",
        "outcome",
        "watermark",
        "collection",
        "file",
        "run",
    ];

    impl<'de> Deserialize<'de> for Event {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Event, D::Error> {
            d.deserialize_map(EventVisitor)
        }
    }

    struct EventVisitor;

    impl<'de> Visitor<'de> for EventVisitor {
        type Value = Event;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a logged event")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Event, A::Error> {
            let (mut format, mut hlc, mut origin) = (None, None, None);
            while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                match key.as_ref() {
                    "format" if format.is_none() => format = Some(map.next_value()?),
                    "hlc" if hlc.is_none() => hlc = Some(map.next_value()?),
                    "origin" if origin.is_none() => origin = Some(map.next_value()?),
                    "type" => {
                        return match (format, hlc, origin) {
                            (Some(format), Some(hlc), Some(origin)) => {
                                let tag: Cow<'de, str> = map.next_value()?;
                                Ok(Event {
                                    format,
                                    hlc,
                                    origin,
                                    body: body(&tag, map)?,
                                })
                            }
                            read => any_order(map, key, read),
                        };
                    }
                    _ => return any_order(map, key, (format, hlc, origin)),
                }
            }
            Err(de::Error::missing_field("type"))
        }
    }

    /// The body named by `tag`, from the rest of the map.
    fn body<'de, A: MapAccess<'de>>(tag: &str, map: A) -> Result<EventBody, A::Error> {
        let rest = MapAccessDeserializer::new(map);
        Ok(match tag {
            "observation" => EventBody::Observation(Deserialize::deserialize(rest)?),
            "decision" => EventBody::Decision(Deserialize::deserialize(rest)?),
            "outcome" => EventBody::Outcome(Deserialize::deserialize(rest)?),
            "watermark" => EventBody::Watermark(Deserialize::deserialize(rest)?),
            "collection" => EventBody::Collection(Deserialize::deserialize(rest)?),
            "file" => EventBody::File(Deserialize::deserialize(rest)?),
            "run" => EventBody::Run(Deserialize::deserialize(rest)?),
            other => return Err(de::Error::unknown_variant(other, VARIANTS)),
        })
    }

    /// The rest of an event read into a JSON object with what was read before it, then read
    /// the derived way.
    fn any_order<'de, A: MapAccess<'de>>(
        mut map: A,
        key: Cow<'de, str>,
        (format, hlc, origin): (Option<u16>, Option<Hlc>, Option<Origin>),
    ) -> Result<Event, A::Error> {
        let mut object = serde_json::Map::new();
        if let Some(format) = format {
            object.insert("format".into(), format.into());
        }
        let known = [
            ("hlc", hlc.map(serde_json::to_value)),
            ("origin", origin.map(serde_json::to_value)),
        ];
        for (name, value) in known {
            if let Some(value) = value {
                object.insert(name.into(), value.map_err(de::Error::custom)?);
            }
        }
        object.insert(key.into_owned(), map.next_value()?);
        while let Some((key, value)) = map.next_entry::<String, Value>()? {
            object.insert(key, value);
        }
        AnyOrder::deserialize(Value::Object(object)).map_err(de::Error::custom)
    }
}

mod base64_bytes {
    use super::*;

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn observation() -> Event {
        Event::new(
            Hlc::new(1_000, 1),
            Origin::new(Side::DESKTOP, "caldav:test"),
            EventBody::Observation(Observation {
                record: RecordId::derive(RecordKind::Contact, Hlc::new(1_000, 1)),
                kind: RecordKind::Contact,
                op: Op::Create,
                external_id: Some("/dav/contacts/a.vcf".into()),
                uid: Some("a".into()),
                version: Some("\"e1\"".into()),
                changed_at_ms: None,
                base: vec![],
                changes: [("last_name".to_string(), json!("Ng"))].into(),
                payload: Some(Payload {
                    content_type: "text/vcard".into(),
                    bytes: b"BEGIN:VCARD\r\n\xff".to_vec(),
                }),
            }),
        )
    }

    #[test]
    fn events_round_trip_including_non_utf8_payloads() {
        let event = observation();
        assert_eq!(Event::decode(&event.encode().unwrap()).unwrap(), event);
    }

    #[test]
    fn file_changes_round_trip() {
        let event = Event::new(
            Hlc::new(2_000, 0),
            Origin::new(Side::DESKTOP, "webdav:test"),
            EventBody::File(FileChange::Props {
                path: "/dav/files/a".into(),
                ops: vec![
                    PropOp::Remove {
                        name: "{urn:x}p".into(),
                    },
                    PropOp::Set {
                        name: "{urn:x}p".into(),
                        value: "y".into(),
                    },
                ],
            }),
        );
        assert_eq!(Event::decode(&event.encode().unwrap()).unwrap(), event);
        assert_eq!(
            FileChange::Copy {
                from: "/a".into(),
                to: "/b".into(),
                deep: true
            }
            .path(),
            "/b"
        );
    }

    /// The log writes the envelope, then the body's tag, then its fields, and is read in one
    /// pass in that order; any other order (a hand-edited or re-encoded log) reads the same.
    #[test]
    fn an_event_reads_the_same_whatever_the_order_of_its_fields() {
        let decision = Event::new(
            Hlc::new(3_000, 0),
            Origin::new(Side::DESKTOP, "review"),
            EventBody::Decision(Decision::IgnoreOnce {
                record: RecordId::derive(RecordKind::Contact, Hlc::new(1_000, 1)),
                heads: vec![Hlc::new(1_000, 0)],
                side: Some(Side::SALESFORCE),
            }),
        );
        for event in [observation(), decision] {
            let bytes = event.encode().unwrap();
            // A JSON value keeps its keys sorted: `type` and the envelope after the body's fields.
            let sorted: Value = serde_json::from_slice(&bytes).unwrap();
            let sorted = serde_json::to_vec(&sorted).unwrap();
            assert_ne!(sorted, bytes);
            assert_eq!(Event::decode(&bytes).unwrap(), event);
            assert_eq!(Event::decode(&sorted).unwrap(), event);
        }
        let unknown =
            br#"{"format":2,"hlc":1,"origin":{"side":"desktop","agent":"x"},"type":"nope"}"#;
        assert!(matches!(
            Event::decode(unknown),
            Err(Error::MalformedEvent { format: 2, .. })
        ));
    }

    #[test]
    fn a_future_format_is_refused_with_advice() {
        let mut value: Value = serde_json::from_slice(&observation().encode().unwrap()).unwrap();
        value["format"] = json!(99);
        let err = Event::decode(&serde_json::to_vec(&value).unwrap()).unwrap_err();
        assert!(matches!(err, Error::FutureFormat { found: 99, .. }));
        assert!(err.to_string().contains("upgrade tandem"));
    }

    #[test]
    fn garbage_is_a_malformed_event_not_a_panic() {
        for bytes in [
            &b""[..],
            b"{",
            b"{\"format\":1}",
            b"\x00\x01",
            b"{\"format\":1,\"type\":\"nope\"}",
        ] {
            assert!(Event::decode(bytes).is_err());
        }
    }
}
