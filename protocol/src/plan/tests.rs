//! The planner's rules, one behaviour per test.

use super::*;
use crate::rules::RulesFile;
use serde_json::json;

fn now() -> DateTime<Utc> {
    "2026-11-21T10:00:00Z".parse().unwrap()
}

fn fields(value: Value) -> Fields {
    value
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn copy(external_id: &str, seen: u64, fields: &Fields) -> SideCopy {
    SideCopy {
        external_id: Some(external_id.into()),
        present: true,
        seen: vec![Hlc::new(seen, 0)],
        fields: fields.clone(),
    }
}

struct Case {
    id: RecordId,
    kind: RecordKind,
    deleted: bool,
    heads: Vec<Hlc>,
    fields: Fields,
    conflicts: BTreeMap<String, FieldState>,
    desktop: Option<SideCopy>,
    salesforce: Option<SideCopy>,
    ignore: Option<Ignore>,
}

impl Case {
    fn new(kind: RecordKind, head: u64, fields: Fields) -> Case {
        Case {
            id: RecordId::derive(kind, Hlc::new(1, 0)),
            kind,
            deleted: false,
            heads: vec![Hlc::new(head, 0)],
            fields,
            conflicts: BTreeMap::new(),
            desktop: None,
            salesforce: None,
            ignore: None,
        }
    }

    fn input(&self) -> RecordInput<'_> {
        RecordInput {
            id: &self.id,
            kind: self.kind,
            deleted: self.deleted,
            heads: &self.heads,
            fields: &self.fields,
            conflicts: &self.conflicts,
            desktop: self.desktop.as_ref(),
            salesforce: self.salesforce.as_ref(),
            ignore: self.ignore.as_ref(),
        }
    }

    fn plan_with(&self, rules: &Rules) -> Option<Item> {
        plan_record(&self.input(), rules, now())
    }

    fn plan(&self) -> Option<Item> {
        self.plan_with(&Rules::defaults(self.kind))
    }
}

fn ana() -> Fields {
    fields(
        json!({"first_name": "Ana", "last_name": "Ng", "company": "Acme",
                  "email": "ana@acme.test", "unmapped": ["X-FOO:1"]}),
    )
}

#[test]
fn a_contact_new_in_the_address_book_is_created_in_salesforce_with_what_it_holds() {
    let mut case = Case::new(RecordKind::Contact, 5, ana());
    case.desktop = Some(copy("/dav/addressbooks/contacts/a.vcf", 5, &ana()));
    let item = case.plan().unwrap();
    assert!(
        item.desktop.is_none(),
        "the desktop made the change: no echo"
    );
    let step = item.salesforce.unwrap();
    assert_eq!((step.op, step.skipped), (Op::Create, None));
    assert_eq!(step.changes["last_name"], json!("Ng"));
    assert!(
        !step.changes.contains_key("unmapped") && !step.changes.contains_key("company"),
        "Salesforce holds neither the vCard extras nor the company text: {:?}",
        step.changes
    );
    assert_eq!(item.label, "Ana Ng (Acme)");
}

#[test]
fn a_contact_elsewhere_needs_the_sync_category() {
    let mut case = Case::new(RecordKind::Contact, 5, ana());
    case.desktop = Some(copy("/dav/addressbooks/private/a.vcf", 5, &ana()));
    let step = case.plan().unwrap().salesforce.unwrap();
    assert_eq!(step.skipped, Some(Skip::Scope));
    case.fields.insert("categories".into(), json!(["crm"]));
    assert_eq!(case.plan().unwrap().salesforce.unwrap().skipped, None);
}

#[test]
fn a_salesforce_edit_updates_only_the_fields_that_differ_on_the_desktop() {
    let mut had = ana();
    let mut case = Case::new(RecordKind::Contact, 9, ana());
    case.fields.insert("title".into(), json!("CFO"));
    case.salesforce = Some(copy("003A", 9, &case.fields));
    had.insert("phone".into(), json!("+1 555"));
    case.desktop = Some(copy("/dav/addressbooks/contacts/a.vcf", 5, &had));
    case.fields.insert("phone".into(), json!("+1 555"));
    case.salesforce.as_mut().unwrap().fields = case.fields.clone();
    let item = case.plan().unwrap();
    assert!(item.salesforce.is_none());
    let step = item.desktop.unwrap();
    assert_eq!(step.op, Op::Update);
    assert_eq!(step.changes, fields(json!({"title": "CFO"})));
}

#[test]
fn sides_that_saw_the_current_state_have_nothing_to_do() {
    let mut case = Case::new(RecordKind::Contact, 7, ana());
    case.desktop = Some(copy("/dav/addressbooks/contacts/a.vcf", 7, &ana()));
    case.salesforce = Some(copy("003A", 7, &ana()));
    assert_eq!(case.plan(), None);
    // Heads moved but nothing a side holds changed (a field Salesforce does not hold).
    case.heads = vec![Hlc::new(8, 0)];
    case.fields.insert("unmapped".into(), json!(["X-BAR:2"]));
    case.desktop.as_mut().unwrap().seen = vec![Hlc::new(8, 0)];
    case.desktop.as_mut().unwrap().fields = case.fields.clone();
    assert_eq!(case.plan(), None);
}

#[test]
fn a_prevented_salesforce_delete_brings_the_contact_back_on_the_desktop() {
    let mut case = Case::new(RecordKind::Contact, 9, ana());
    case.deleted = true;
    case.salesforce = Some(copy("003A", 5, &ana()));
    let mut gone = copy("/dav/addressbooks/contacts/a.vcf", 9, &ana());
    gone.present = false;
    case.desktop = Some(gone);
    let item = case.plan().unwrap();
    let sf = item.salesforce.unwrap();
    assert_eq!((sf.op, sf.skipped), (Op::Delete, Some(Skip::Prevented)));
    let desk = item.desktop.unwrap();
    assert!(desk.restore && desk.runs());
    assert_eq!(desk.op, Op::Create);
    assert_eq!(desk.changes["email"], json!("ana@acme.test"));

    let allowed = RulesFile {
        prevent_salesforce: Some(vec![]),
        ..RulesFile::default()
    }
    .resolve(RecordKind::Contact)
    .unwrap();
    let item = case.plan_with(&allowed).unwrap();
    assert_eq!(item.salesforce.unwrap().skipped, None);
    assert!(item.desktop.is_none());
}

fn meeting(day: &str) -> Fields {
    fields(json!({"subject": "Review",
        "start": {"time": {"utc": format!("{day}T09:00:00Z")}},
        "end": {"time": {"utc": format!("{day}T10:00:00Z")}}}))
}

#[test]
fn private_events_never_leave_unless_the_rules_say_so() {
    let mut case = Case::new(RecordKind::Event, 3, meeting("2026-11-25"));
    case.fields.insert("private".into(), json!(true));
    case.desktop = Some(copy("/dav/calendars/calendar/e.ics", 3, &case.fields));
    let step = case.plan().unwrap().salesforce.unwrap();
    assert_eq!(step.skipped, Some(Skip::Private));
    let open = RulesFile {
        sync_private: Some(true),
        ..RulesFile::default()
    }
    .resolve(RecordKind::Event)
    .unwrap();
    assert!(case.plan_with(&open).unwrap().runs());
}

#[test]
fn the_window_keeps_old_and_far_items_untouched() {
    for (day, inside) in [
        ("2026-11-25", true),
        ("2026-10-23", true),
        ("2026-10-01", false),
        ("2027-12-01", false),
    ] {
        let mut case = Case::new(RecordKind::Event, 3, meeting(day));
        case.desktop = Some(copy("/dav/calendars/calendar/e.ics", 3, &case.fields));
        let step = case.plan().unwrap().salesforce.unwrap();
        assert_eq!(step.skipped.is_none(), inside, "{day}");
        if !inside {
            assert_eq!(step.skipped, Some(Skip::Window));
        }
    }
    // A series that started long ago and still recurs is inside.
    let mut series = Case::new(RecordKind::Event, 3, meeting("2025-01-06"));
    series
        .fields
        .insert("rrule".into(), json!("FREQ=WEEKLY;UNTIL=20270101T000000Z"));
    series.desktop = Some(copy("/dav/calendars/calendar/s.ics", 3, &series.fields));
    assert!(series.plan().unwrap().runs());
    // Deleting an event outside the window is not propagated either.
    let mut old = Case::new(RecordKind::Event, 9, meeting("2026-01-05"));
    old.deleted = true;
    old.salesforce = Some(copy("00UA", 3, &meeting("2026-01-05")));
    assert_eq!(
        old.plan().unwrap().salesforce.unwrap().skipped,
        Some(Skip::Window)
    );
}

#[test]
fn ignore_once_lasts_until_the_record_changes_and_forever_lasts() {
    let mut case = Case::new(RecordKind::Contact, 5, ana());
    case.desktop = Some(copy("/dav/addressbooks/contacts/a.vcf", 5, &ana()));
    case.ignore = Some(Ignore::Once {
        heads: vec![Hlc::new(5, 0)],
    });
    let item = case.plan().unwrap();
    assert_eq!(
        item.salesforce.as_ref().unwrap().skipped,
        Some(Skip::IgnoredOnce)
    );
    assert!(!item.runs());
    case.heads = vec![Hlc::new(6, 0)];
    case.desktop.as_mut().unwrap().seen = vec![Hlc::new(6, 0)];
    assert!(case.plan().unwrap().runs(), "a new change lifts it");
    case.ignore = Some(Ignore::Forever);
    assert!(!case.plan().unwrap().runs());
}

#[test]
fn a_rich_desktop_body_is_not_overwritten_by_plain_text() {
    let rich = fields(json!({"subject": "Review", "description": "old",
        "description_html": "<b>old</b>",
        "start": {"time": {"utc": "2026-11-25T09:00:00Z"}}}));
    let mut case = Case::new(RecordKind::Event, 9, rich.clone());
    case.fields.insert("description".into(), json!("new"));
    case.fields.insert("location".into(), json!("Room 1"));
    case.desktop = Some(copy("/dav/calendars/calendar/e.ics", 3, &rich));
    case.salesforce = Some(copy("00UA", 9, &case.fields));
    let step = case.plan().unwrap().desktop.unwrap();
    assert!(step.kept_rich_body);
    assert_eq!(step.changes, fields(json!({"location": "Room 1"})));
    // Only the plain text changed: nothing to do at all.
    case.fields.remove("location");
    assert_eq!(case.plan(), None);
}

#[test]
fn direction_and_related_tasks_limit_what_is_written() {
    let task = fields(json!({"subject": "Call back", "due": "2026-11-30"}));
    let mut case = Case::new(RecordKind::Task, 3, task.clone());
    case.desktop = Some(copy("/dav/calendars/tasks/t.ics", 3, &task));
    let related = RulesFile {
        only_related: Some(true),
        ..RulesFile::default()
    }
    .resolve(RecordKind::Task)
    .unwrap();
    let step = case.plan_with(&related).unwrap().salesforce.unwrap();
    assert_eq!(step.skipped, Some(Skip::Unrelated));
    let inbound = RulesFile {
        direction: Some(crate::rules::Direction::ToDesktop),
        ..RulesFile::default()
    }
    .resolve(RecordKind::Task)
    .unwrap();
    let step = case.plan_with(&inbound).unwrap().salesforce.unwrap();
    assert_eq!(step.skipped, Some(Skip::Direction));
}

#[test]
fn conflicts_are_reported_with_the_policy_outcome() {
    let mut case = Case::new(RecordKind::Contact, 9, ana());
    case.fields.insert("title".into(), json!("CEO"));
    case.desktop = Some(copy("/dav/addressbooks/contacts/a.vcf", 4, &ana()));
    case.salesforce = Some(copy("003A", 9, &case.fields));
    let candidate = |value: &str, side, at| crate::merge::Candidate {
        value: json!(value),
        event: Hlc::new(at, 0),
        side,
        changed_at_ms: at as i64,
    };
    case.conflicts.insert(
        "title".into(),
        FieldState {
            current: candidate("CEO", Side::Salesforce, 9),
            losers: vec![candidate("CTO", Side::Desktop, 4)],
        },
    );
    let item = case.plan().unwrap();
    assert_eq!(item.conflicts.len(), 1);
    assert_eq!(item.conflicts[0].kept, json!("CEO"));
    assert_eq!(item.conflicts[0].lost, vec![(Side::Desktop, json!("CTO"))]);
    assert_eq!(item.desktop.unwrap().changes["title"], json!("CEO"));
    let plan = Plan {
        items: vec![case.plan().unwrap()],
    };
    assert_eq!(plan.tally().desktop.update, 1);
    assert_eq!(plan.tally().conflicts, 1);
}

#[test]
fn the_plan_is_a_pure_function_of_its_inputs() {
    let mut case = Case::new(RecordKind::Contact, 5, ana());
    case.desktop = Some(copy("/dav/addressbooks/contacts/a.vcf", 5, &ana()));
    let a = case.plan().unwrap();
    let b = case.plan().unwrap();
    assert_eq!(a, b);
    assert_eq!(a.fingerprint(), b.fingerprint());
    case.heads = vec![Hlc::new(6, 0)];
    assert_ne!(case.plan().unwrap().fingerprint(), a.fingerprint());
}

#[test]
fn a_default_spelled_out_by_one_side_is_no_change() {
    let mut case = Case::new(RecordKind::Event, 9, meeting("2026-11-25"));
    let mut sf = meeting("2026-11-25");
    sf.insert("show_as".into(), json!("busy"));
    case.salesforce = Some(copy("00UA", 4, &sf));
    case.desktop = Some(copy("/dav/calendars/calendar/e.ics", 9, &case.fields));
    assert_eq!(case.plan(), None);
    sf.insert("show_as".into(), json!("free"));
    case.salesforce.as_mut().unwrap().fields = sf;
    let step = case.plan().unwrap().salesforce.unwrap();
    assert_eq!(step.changes, fields(json!({"show_as": null})));
}
