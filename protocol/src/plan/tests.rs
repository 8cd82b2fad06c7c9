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
    copies: PerSide<SideCopy>,
    ignores: Ignores,
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
            copies: PerSide::new(),
            ignores: Ignores::default(),
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
            copies: &self.copies,
            ignores: &self.ignores,
        }
    }

    fn set(&mut self, side: Side, copy: SideCopy) {
        self.copies.insert(side, copy);
    }

    fn copy_mut(&mut self, side: Side) -> &mut SideCopy {
        self.copies.get_mut(side).expect("a copy on that side")
    }

    fn plan_with(&self, rules: &Rules) -> Option<Item> {
        plan_record(&self.input(), &Side::SYNCED, rules, now())
    }

    /// The step the default plan has for `side` (there must be one).
    fn step(&self, side: Side) -> Step {
        self.plan().unwrap().steps.get(side).unwrap().clone()
    }

    fn plan_with_sides(&self, sides: &[Side]) -> Option<Item> {
        plan_record(&self.input(), sides, &Rules::defaults(self.kind), now())
    }

    /// The same record and copies at a later state.
    fn clone_with(&self, head: u64) -> Case {
        Case {
            id: self.id.clone(),
            kind: self.kind,
            deleted: self.deleted,
            heads: vec![Hlc::new(head, 0)],
            fields: self.fields.clone(),
            conflicts: self.conflicts.clone(),
            copies: self.copies.clone(),
            ignores: self.ignores.clone(),
        }
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

impl Item {
    /// The sides that get a write.
    fn tally_sides(&self) -> Vec<Side> {
        self.steps()
            .filter(|(_, s)| s.runs())
            .map(|(side, _)| side)
            .collect()
    }
}

#[test]
fn a_contact_new_in_the_address_book_is_created_in_salesforce_with_what_it_holds() {
    let mut case = Case::new(RecordKind::Contact, 5, ana());
    case.set(
        Side::DESKTOP,
        copy("/dav/addressbooks/contacts/a.vcf", 5, &ana()),
    );
    let item = case.plan().unwrap();
    assert!(
        item.step(Side::DESKTOP).is_none(),
        "the desktop made the change: no echo"
    );
    let step = item.steps.get(Side::SALESFORCE).unwrap().clone();
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
    case.set(
        Side::DESKTOP,
        copy("/dav/addressbooks/private/a.vcf", 5, &ana()),
    );
    let step = case.step(Side::SALESFORCE);
    assert_eq!(step.skipped, Some(Skip::Scope));
    case.fields.insert("categories".into(), json!(["crm"]));
    assert_eq!(case.step(Side::SALESFORCE).skipped, None);
}

#[test]
fn a_connector_folder_is_in_scope_and_a_personal_desktop_contact_never_reaches_it() {
    let sides = [Side::SALESFORCE, Side::DESKTOP, Side::OUTLOOK];
    // Outlook reports only its synced folder and categorised contacts: what it holds is in
    // scope, category or not.
    let mut case = Case::new(RecordKind::Contact, 5, ana());
    case.set(Side::OUTLOOK, copy("AAMk1", 5, &ana()));
    let item = case.plan_with_sides(&sides).unwrap();
    assert_eq!(item.steps.get(Side::SALESFORCE).unwrap().skipped, None);

    // A contact of a private address book is out of scope for Salesforce and for Outlook's
    // synced folder alike (from there it would reach Salesforce).
    let mut personal = Case::new(RecordKind::Contact, 5, ana());
    personal.set(
        Side::DESKTOP,
        copy("/dav/addressbooks/private/a.vcf", 5, &ana()),
    );
    let item = personal.plan_with_sides(&sides).unwrap();
    assert_eq!(
        item.steps.get(Side::OUTLOOK).unwrap().skipped,
        Some(Skip::Scope)
    );
    assert_eq!(
        item.steps.get(Side::SALESFORCE).unwrap().skipped,
        Some(Skip::Scope)
    );
}

#[test]
fn a_salesforce_edit_updates_only_the_fields_that_differ_on_the_desktop() {
    let mut had = ana();
    let mut case = Case::new(RecordKind::Contact, 9, ana());
    case.fields.insert("title".into(), json!("CFO"));
    case.set(Side::SALESFORCE, copy("003A", 9, &case.fields));
    had.insert("phone".into(), json!("+1 555"));
    case.set(
        Side::DESKTOP,
        copy("/dav/addressbooks/contacts/a.vcf", 5, &had),
    );
    case.fields.insert("phone".into(), json!("+1 555"));
    case.copy_mut(Side::SALESFORCE).fields = case.fields.clone();
    let item = case.plan().unwrap();
    assert!(item.step(Side::SALESFORCE).is_none());
    let step = item.steps.get(Side::DESKTOP).unwrap().clone();
    assert_eq!(step.op, Op::Update);
    assert_eq!(step.changes, fields(json!({"title": "CFO"})));
    assert!(step.before.is_empty(), "the desktop had no title");
    // What a side holds now of a changed field is there to show old → new.
    case.copy_mut(Side::DESKTOP)
        .fields
        .insert("title".into(), json!("Analyst"));
    let step = case.step(Side::DESKTOP);
    assert_eq!(step.before, fields(json!({"title": "Analyst"})));
}

#[test]
fn a_record_without_an_owner_never_clears_the_one_salesforce_gave_it() {
    // Made on the desktop, created by tandem in Salesforce, which gave it its running user.
    let mut case = Case::new(RecordKind::Contact, 9, ana());
    let mut in_salesforce = ana();
    in_salesforce.insert(
        "owner".into(),
        json!({"salesforce_id": "005A", "name": "Alex Morgan"}),
    );
    case.set(Side::SALESFORCE, copy("003A", 7, &in_salesforce));
    case.set(
        Side::DESKTOP,
        copy("/dav/addressbooks/contacts/a.vcf", 9, &ana()),
    );
    case.fields.insert("title".into(), json!("CFO"));
    let step = case.step(Side::SALESFORCE);
    assert_eq!(step.changes, fields(json!({"title": "CFO"})));
}

#[test]
fn sides_that_saw_the_current_state_have_nothing_to_do() {
    let mut case = Case::new(RecordKind::Contact, 7, ana());
    case.set(
        Side::DESKTOP,
        copy("/dav/addressbooks/contacts/a.vcf", 7, &ana()),
    );
    case.set(Side::SALESFORCE, copy("003A", 7, &ana()));
    assert_eq!(case.plan(), None);
    // Heads moved but nothing a side holds changed (a field Salesforce does not hold).
    case.heads = vec![Hlc::new(8, 0)];
    case.fields.insert("unmapped".into(), json!(["X-BAR:2"]));
    case.copy_mut(Side::DESKTOP).seen = vec![Hlc::new(8, 0)];
    case.copy_mut(Side::DESKTOP).fields = case.fields.clone();
    assert_eq!(case.plan(), None);
}

#[test]
fn a_prevented_salesforce_delete_brings_the_contact_back_on_the_desktop() {
    let mut case = Case::new(RecordKind::Contact, 9, ana());
    case.deleted = true;
    case.set(Side::SALESFORCE, copy("003A", 5, &ana()));
    let mut gone = copy("/dav/addressbooks/contacts/a.vcf", 9, &ana());
    gone.present = false;
    case.set(Side::DESKTOP, gone);
    let item = case.plan().unwrap();
    let sf = item.steps.get(Side::SALESFORCE).unwrap().clone();
    assert_eq!((sf.op, sf.skipped), (Op::Delete, Some(Skip::Prevented)));
    let desk = item.steps.get(Side::DESKTOP).unwrap().clone();
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
    assert_eq!(
        item.steps.get(Side::SALESFORCE).unwrap().clone().skipped,
        None
    );
    assert!(item.step(Side::DESKTOP).is_none());
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
    case.set(
        Side::DESKTOP,
        copy("/dav/calendars/calendar/e.ics", 3, &case.fields),
    );
    let step = case.step(Side::SALESFORCE);
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
        case.set(
            Side::DESKTOP,
            copy("/dav/calendars/calendar/e.ics", 3, &case.fields),
        );
        let step = case.step(Side::SALESFORCE);
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
    series.set(
        Side::DESKTOP,
        copy("/dav/calendars/calendar/s.ics", 3, &series.fields),
    );
    assert!(series.plan().unwrap().runs());
    // Deleting an event outside the window is not propagated either.
    let mut old = Case::new(RecordKind::Event, 9, meeting("2026-01-05"));
    old.deleted = true;
    old.set(Side::SALESFORCE, copy("00UA", 3, &meeting("2026-01-05")));
    assert_eq!(old.step(Side::SALESFORCE).skipped, Some(Skip::Window));
}

#[test]
fn ignore_once_lasts_until_the_record_changes_and_forever_lasts() {
    let mut case = Case::new(RecordKind::Contact, 5, ana());
    case.set(
        Side::DESKTOP,
        copy("/dav/addressbooks/contacts/a.vcf", 5, &ana()),
    );
    case.ignores.all = Some(Ignore::Once {
        heads: vec![Hlc::new(5, 0)],
    });
    let item = case.plan().unwrap();
    assert_eq!(
        item.step(Side::SALESFORCE).unwrap().skipped,
        Some(Skip::IgnoredOnce)
    );
    assert!(!item.runs());
    case.heads = vec![Hlc::new(6, 0)];
    case.copy_mut(Side::DESKTOP).seen = vec![Hlc::new(6, 0)];
    assert!(case.plan().unwrap().runs(), "a new change lifts it");
    case.ignores.all = Some(Ignore::Forever);
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
    case.set(
        Side::DESKTOP,
        copy("/dav/calendars/calendar/e.ics", 3, &rich),
    );
    case.set(Side::SALESFORCE, copy("00UA", 9, &case.fields));
    let step = case.step(Side::DESKTOP);
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
    case.set(Side::DESKTOP, copy("/dav/calendars/tasks/t.ics", 3, &task));
    let related = RulesFile {
        only_related: Some(true),
        ..RulesFile::default()
    }
    .resolve(RecordKind::Task)
    .unwrap();
    let step = case
        .plan_with(&related)
        .unwrap()
        .steps
        .get(Side::SALESFORCE)
        .unwrap()
        .clone();
    assert_eq!(step.skipped, Some(Skip::Unrelated));
    let inbound = RulesFile {
        direction: Some(crate::rules::Direction::ToDesktop),
        ..RulesFile::default()
    }
    .resolve(RecordKind::Task)
    .unwrap();
    let step = case
        .plan_with(&inbound)
        .unwrap()
        .steps
        .get(Side::SALESFORCE)
        .unwrap()
        .clone();
    assert_eq!(step.skipped, Some(Skip::Direction));
}

#[test]
fn conflicts_are_reported_with_the_policy_outcome() {
    let mut case = Case::new(RecordKind::Contact, 9, ana());
    case.fields.insert("title".into(), json!("CEO"));
    case.set(
        Side::DESKTOP,
        copy("/dav/addressbooks/contacts/a.vcf", 4, &ana()),
    );
    case.set(Side::SALESFORCE, copy("003A", 9, &case.fields));
    let candidate = |value: &str, side, at| crate::merge::Candidate {
        value: json!(value),
        event: Hlc::new(at, 0),
        side,
        changed_at_ms: at as i64,
    };
    case.conflicts.insert(
        "title".into(),
        FieldState {
            current: candidate("CEO", Side::SALESFORCE, 9),
            losers: vec![candidate("CTO", Side::DESKTOP, 4)],
        },
    );
    let item = case.plan().unwrap();
    assert_eq!(item.conflicts.len(), 1);
    assert_eq!(item.conflicts[0].kept, json!("CEO"));
    assert_eq!(item.conflicts[0].lost, vec![(Side::DESKTOP, json!("CTO"))]);
    assert_eq!(
        item.steps.get(Side::DESKTOP).unwrap().clone().changes["title"],
        json!("CEO")
    );
    let plan = Plan {
        items: vec![case.plan().unwrap()],
        ..Plan::default()
    };
    assert_eq!(plan.tally().side(Side::DESKTOP).update, 1);
    assert_eq!(plan.tally().conflicts, 1);
}

#[test]
fn the_plan_is_a_pure_function_of_its_inputs() {
    let mut case = Case::new(RecordKind::Contact, 5, ana());
    case.set(
        Side::DESKTOP,
        copy("/dav/addressbooks/contacts/a.vcf", 5, &ana()),
    );
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
    case.set(Side::SALESFORCE, copy("00UA", 4, &sf));
    case.set(
        Side::DESKTOP,
        copy("/dav/calendars/calendar/e.ics", 9, &case.fields),
    );
    assert_eq!(case.plan(), None);
    sf.insert("show_as".into(), json!("free"));
    case.copy_mut(Side::SALESFORCE).fields = sf;
    let step = case.step(Side::SALESFORCE);
    assert_eq!(step.changes, fields(json!({"show_as": null})));
}

#[test]
fn an_ignore_of_one_side_leaves_the_others_running() {
    let mut case = Case::new(RecordKind::Contact, 9, ana());
    case.fields.insert("title".into(), json!("CFO"));
    case.set(Side::SALESFORCE, copy("003A", 9, &case.fields));
    case.set(
        Side::DESKTOP,
        copy("/dav/addressbooks/contacts/a.vcf", 5, &ana()),
    );
    let outlook = Side::parse("outlook").unwrap();
    case.set(outlook, copy("AAMk1", 5, &ana()));
    case.ignores.sides.insert(outlook, Ignore::Forever);
    let item = case
        .plan_with_sides(&[Side::SALESFORCE, Side::DESKTOP, outlook])
        .unwrap();
    assert_eq!(item.steps.get(Side::DESKTOP).unwrap().skipped, None);
    assert_eq!(
        item.steps.get(outlook).unwrap().skipped,
        Some(Skip::IgnoredForever)
    );
    assert_eq!(item.tally_sides(), vec![Side::DESKTOP]);
}

#[test]
fn a_third_side_plans_like_the_others() {
    let outlook = Side::parse("outlook").unwrap();
    let sides = [Side::SALESFORCE, Side::DESKTOP, outlook];
    // New in Outlook: it reaches Salesforce and the DAV server, and is not echoed back.
    let mut case = Case::new(RecordKind::Contact, 5, ana());
    case.fields.insert("categories".into(), json!(["CRM"]));
    case.set(outlook, copy("AAMk1", 5, &case.fields));
    let item = case.plan_with_sides(&sides).unwrap();
    assert_eq!(item.steps.get(Side::SALESFORCE).unwrap().op, Op::Create);
    assert_eq!(item.steps.get(Side::DESKTOP).unwrap().op, Op::Create);
    assert!(
        item.step(outlook).is_none(),
        "no echo to the side that made it"
    );
    assert!(
        !item
            .steps
            .get(Side::DESKTOP)
            .unwrap()
            .changes
            .contains_key("account"),
        "a PIM holds no links"
    );

    // Deleted in Outlook, the Salesforce delete prevented: it comes back in Outlook, and the
    // desktop, which still has it, keeps it.
    let mut gone = case.clone_with(9);
    gone.deleted = true;
    gone.set(Side::SALESFORCE, copy("003A", 5, &gone.fields));
    gone.set(
        Side::DESKTOP,
        copy("/dav/addressbooks/contacts/a.vcf", 5, &gone.fields),
    );
    let mut deleted = copy("AAMk1", 9, &gone.fields);
    deleted.present = false;
    gone.set(outlook, deleted);
    let item = gone.plan_with_sides(&sides).unwrap();
    assert_eq!(
        item.steps.get(Side::SALESFORCE).unwrap().skipped,
        Some(Skip::Prevented)
    );
    assert!(
        item.step(Side::DESKTOP).is_none(),
        "the desktop keeps its copy"
    );
    let back = &item.steps.get(outlook).unwrap();
    assert!(back.restore && back.op == Op::Create && back.runs());
}

#[test]
fn each_side_is_named_as_it_holds_the_record_until_it_takes_up_a_rename() {
    let mut case = Case::new(RecordKind::Contact, 9, ana());
    case.fields.insert("last_name".into(), json!("Ng-Okafor"));
    case.set(Side::SALESFORCE, copy("003A", 5, &ana()));
    case.set(
        Side::DESKTOP,
        copy("/dav/addressbooks/contacts/a.vcf", 9, &case.fields),
    );
    let item = case.plan().unwrap();
    assert_eq!(item.label, "Ana Ng-Okafor (Acme)");
    assert_eq!(item.label_on(Side::SALESFORCE), "Ana Ng (Acme)");
    assert_eq!(item.label_on(Side::DESKTOP), "Ana Ng-Okafor (Acme)");
}
