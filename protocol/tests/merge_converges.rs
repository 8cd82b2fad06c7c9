//! Property test of the merge: random concurrent edit histories from two or three sides,
//! delivered in many causality-respecting orders, converge to the same record; a field edited on
//! one side only is never lost; the value the policy picks is the one an independent oracle
//! (computed from the causal history alone) says it must be; and the merged state kept without
//! the document is the document's own.

use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use tandem_protocol::{
    ConflictPolicy, Edit, Fields, Hlc, Merged, Op, RecordDoc, RecordId, RecordKind, Resolved, Side,
};

const FIELDS: [&str; 4] = ["last_name", "email", "phone", "title"];

#[derive(Clone, Debug)]
enum Step {
    /// A side changes some fields (or deletes / re-creates the record).
    Edit {
        side: usize,
        op: Op,
        fields: Vec<(usize, Option<u8>)>,
    },
    /// Side `to` learns everything side `from` has seen.
    Sync { from: usize, to: usize },
}

#[derive(Clone, Debug)]
struct Generated {
    event: Hlc,
    side: Side,
    op: Op,
    base: Vec<Hlc>,
    changes: Fields,
    /// Every event this one causally follows.
    past: BTreeSet<Hlc>,
}

fn step(sides: usize) -> impl Strategy<Value = Step> {
    let edit = (
        0..sides,
        prop_oneof![8 => Just(Op::Update), 1 => Just(Op::Delete), 1 => Just(Op::Create)],
        prop::collection::vec(
            (0..FIELDS.len(), prop::option::weighted(0.85, 0u8..4)),
            0..3,
        ),
    )
        .prop_map(|(side, op, fields)| Step::Edit { side, op, fields });
    let sync = (0..sides, 0..sides).prop_map(|(from, to)| Step::Sync { from, to });
    prop_oneof![3 => edit, 1 => sync]
}

fn side_of(index: usize) -> Side {
    [Side::DESKTOP, Side::SALESFORCE, Side::TANDEM][index]
}

/// Turn the steps into events with their causal bases, as the sides would have produced them.
fn history(sides: usize, steps: &[Step]) -> Vec<Generated> {
    let create = Generated {
        event: Hlc::new(1_000, 0),
        side: Side::DESKTOP,
        op: Op::Create,
        base: vec![],
        changes: [("last_name".to_string(), json!("initial"))].into(),
        past: BTreeSet::new(),
    };
    let mut seen: Vec<BTreeSet<Hlc>> = vec![[create.event].into(); sides];
    let mut events = vec![create];
    for (n, step) in steps.iter().enumerate() {
        match step {
            Step::Sync { from, to } => {
                let known = seen[*from].clone();
                seen[*to].extend(known);
            }
            Step::Edit { side, op, fields } => {
                let event = Hlc::new(2_000 + n as u64 * 10, 0);
                let changes: Fields = fields
                    .iter()
                    .map(|(f, v)| {
                        let value =
                            v.map_or(Value::Null, |v| json!(format!("{}-{v}-{n}", FIELDS[*f])));
                        (FIELDS[*f].to_string(), value)
                    })
                    .collect();
                // The causal past: what the side has seen, and everything those events saw.
                let mut past = BTreeSet::new();
                for e in &seen[*side] {
                    past.insert(*e);
                    if let Some(g) = events.iter().find(|g| g.event == *e) {
                        past.extend(g.past.iter().copied());
                    }
                }
                events.push(Generated {
                    event,
                    side: side_of(*side),
                    op: *op,
                    base: seen[*side].iter().copied().collect(),
                    changes,
                    past,
                });
                seen[*side].insert(event);
            }
        }
    }
    events
}

/// Deliver the events in order, as the store merges them: an edit made on the current state by
/// [`Merged`] alone, any other through the document. The two must agree after every event, value
/// for value and provenance for provenance, since the store keeps only the former.
fn deliver(events: &[&Generated], policy: ConflictPolicy) -> Resolved {
    let mut doc = RecordDoc::new(RecordId::derive(RecordKind::Contact, Hlc::new(1_000, 0)));
    let mut merged = Merged::default();
    for g in events {
        let edit = Edit {
            event: g.event,
            side: g.side,
            op: g.op,
            changed_at_ms: None,
            base: &g.base,
            changes: &g.changes,
        };
        doc.apply(&edit)
            .expect("a causally ordered delivery always applies");
        if !merged.advance(&edit) {
            merged = doc.merged().unwrap();
        }
        assert_eq!(merged, doc.merged().unwrap(), "after {:?}", g.event);
    }
    let resolved = doc.resolve(policy).unwrap();
    assert_eq!(merged.resolve(policy), resolved);
    resolved
}

/// A random order that respects causality, driven by `choices`.
fn causal_order<'a>(events: &'a [Generated], choices: &[usize]) -> Vec<&'a Generated> {
    let mut delivered: BTreeSet<Hlc> = BTreeSet::new();
    let mut order = Vec::new();
    let mut pending: Vec<&Generated> = events.iter().collect();
    let mut i = 0;
    while !pending.is_empty() {
        let ready: Vec<usize> = (0..pending.len())
            .filter(|&k| pending[k].past.iter().all(|e| delivered.contains(e)))
            .collect();
        let pick = ready[choices.get(i).copied().unwrap_or(0) % ready.len()];
        i += 1;
        let g = pending.remove(pick);
        delivered.insert(g.event);
        order.push(g);
    }
    order
}

/// What the policy must pick for `key`, from the causal history alone: among the writes no later
/// write to the same key has seen, the preferred side's newest, else the newest.
fn oracle(events: &[Generated], key: &str, policy: ConflictPolicy) -> Option<Value> {
    let value_of = |g: &Generated| -> Option<Value> {
        if key == "_deleted" {
            match g.op {
                Op::Create => Some(json!(false)),
                Op::Delete => Some(json!(true)),
                Op::Update => None,
            }
        } else {
            g.changes.get(key).cloned()
        }
    };
    let writes: Vec<&Generated> = events.iter().filter(|g| value_of(g).is_some()).collect();
    let frontier = writes
        .iter()
        .filter(|w| !writes.iter().any(|later| later.past.contains(&w.event)));
    frontier
        .max_by_key(|w| {
            let preferred = match policy {
                ConflictPolicy::NewestWins => false,
                ConflictPolicy::SalesforceWins => w.side == Side::SALESFORCE,
                ConflictPolicy::DesktopWins => w.side == Side::DESKTOP,
            };
            (preferred, w.event)
        })
        .and_then(|w| value_of(w))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn concurrent_histories_converge_in_every_causal_order(
        sides in 2usize..=3,
        steps in prop::collection::vec(step(3), 1..14),
        orders in prop::collection::vec(prop::collection::vec(0usize..64, 16), 6),
        policy in prop_oneof![
            Just(ConflictPolicy::NewestWins),
            Just(ConflictPolicy::SalesforceWins),
            Just(ConflictPolicy::DesktopWins),
        ],
    ) {
        let steps: Vec<Step> = steps
            .into_iter()
            .map(|s| match s {
                Step::Edit { side, op, fields } => Step::Edit { side: side % sides, op, fields },
                Step::Sync { from, to } => Step::Sync { from: from % sides, to: to % sides },
            })
            .collect();
        let events = history(sides, &steps);
        let in_generation_order: Vec<&Generated> = events.iter().collect();
        let reference = deliver(&in_generation_order, policy);

        for choices in &orders {
            let order = causal_order(&events, choices);
            prop_assert_eq!(&deliver(&order, policy), &reference);
        }

        // The policy's choice matches the oracle, field by field.
        for key in FIELDS {
            let expected = oracle(&events, key, policy);
            let actual = reference.fields.get(key).map(|s| s.current.value.clone());
            prop_assert_eq!(actual, expected, "field {}", key);
        }
        let deleted = oracle(&events, "_deleted", policy) == Some(json!(true));
        prop_assert_eq!(reference.deleted, deleted);

        // A field only one side ever wrote holds that side's last write.
        let mut writers: BTreeMap<&str, BTreeSet<Side>> = BTreeMap::new();
        for g in &events {
            for key in g.changes.keys() {
                writers.entry(FIELDS.iter().find(|f| **f == key.as_str()).unwrap()).or_default().insert(g.side);
            }
        }
        for (key, sides) in writers {
            if sides.len() == 1 {
                let last = events.iter().rev().find_map(|g| g.changes.get(key)).unwrap();
                prop_assert_eq!(&reference.fields[key].current.value, last, "single-side field {} lost", key);
                prop_assert!(reference.fields[key].losers.is_empty());
            }
        }
    }
}
