//! The exactly-once create of one batch (up to 200 records of one object, without an external-id
//! field to upsert by), as a state machine.
//!
//! 1. Records an earlier run announced and never recorded (a crash, a lost answer) are looked
//!    for first: a record found is adopted, not created again.
//! 2. The rest are announced — their intents made durable — before anything is sent.
//! 3. Rounds of one create call each. A locked row goes again next round. When the answer is
//!    lost, each record of the round is looked for; only those proven absent go again.
//! 4. Whatever is left when the rounds run out failed; whatever was announced and is not
//!    decided when the run stops is unknown (its intent stays, the next push looks for it).
//!
//! A record found by a query is claimed, so two identical creates in one batch adopt two
//! records, and a record created in this batch is never adopted by another of its items.

use super::{CallFailure, ItemAnswer, ItemOutcome};
use std::collections::{BTreeSet, VecDeque};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CreateNext {
    /// Look for a record that an earlier create of record `i` made: answer with
    /// [`CreateBatch::found`].
    Reconcile(usize),
    /// Make the intents of these records durable: answer with [`CreateBatch::announced`].
    Announce(Vec<usize>),
    /// Wait before round `n`: answer with [`CreateBatch::paused`].
    Pause(u32),
    /// Send one create call for these records: answer with [`CreateBatch::answered`].
    Send(Vec<usize>),
    Done,
}

enum Stage {
    Recover(VecDeque<usize>),
    Announce,
    Announcing(Vec<usize>),
    Round {
        round: u32,
        pending: Vec<usize>,
        paused: bool,
    },
    Sent {
        round: u32,
        pending: Vec<usize>,
    },
    /// The answer to `round` was lost (`lost` says how): each record of it is looked for.
    Check {
        round: u32,
        queue: VecDeque<usize>,
        still: Vec<usize>,
        lost: String,
    },
    Done,
}

pub struct CreateBatch {
    outcomes: Vec<Option<ItemOutcome>>,
    announced: Vec<bool>,
    claimed: BTreeSet<String>,
    stage: Stage,
    max_retries: u32,
    stopped: bool,
}

impl CreateBatch {
    /// `announced_before[i]`: record `i` has an intent from an earlier run and no outcome.
    pub fn new(announced_before: Vec<bool>, max_retries: u32) -> CreateBatch {
        let queue = (0..announced_before.len())
            .filter(|&i| announced_before[i])
            .collect();
        CreateBatch {
            outcomes: vec![None; announced_before.len()],
            announced: announced_before,
            claimed: BTreeSet::new(),
            stage: Stage::Recover(queue),
            max_retries,
            stopped: false,
        }
    }

    fn undecided(&self) -> Vec<usize> {
        (0..self.outcomes.len())
            .filter(|&i| self.outcomes[i].is_none())
            .collect()
    }

    fn stop(&mut self) {
        self.stopped = true;
        self.stage = Stage::Done;
    }

    pub fn poll(&mut self) -> CreateNext {
        loop {
            match &mut self.stage {
                Stage::Recover(queue) => match queue.front() {
                    Some(&i) => return CreateNext::Reconcile(i),
                    None => self.stage = Stage::Announce,
                },
                Stage::Announce => {
                    let pending = self.undecided();
                    if pending.is_empty() {
                        self.stage = Stage::Done;
                    } else {
                        self.stage = Stage::Announcing(pending.clone());
                        return CreateNext::Announce(pending);
                    }
                }
                Stage::Announcing(pending) => return CreateNext::Announce(pending.clone()),
                Stage::Round {
                    round,
                    pending,
                    paused,
                } => {
                    if pending.is_empty() {
                        self.stage = Stage::Done;
                    } else if *round > self.max_retries {
                        for &i in pending.iter() {
                            self.outcomes[i] = Some(ItemOutcome::retries_exhausted("the create"));
                        }
                        self.stage = Stage::Done;
                    } else if *round > 0 && !*paused {
                        return CreateNext::Pause(*round);
                    } else {
                        let (round, pending) = (*round, std::mem::take(pending));
                        self.stage = Stage::Sent {
                            round,
                            pending: pending.clone(),
                        };
                        return CreateNext::Send(pending);
                    }
                }
                Stage::Sent { pending, .. } => return CreateNext::Send(pending.clone()),
                Stage::Check {
                    round,
                    queue,
                    still,
                    ..
                } => match queue.front() {
                    Some(&i) => return CreateNext::Reconcile(i),
                    None => {
                        self.stage = Stage::Round {
                            round: *round + 1,
                            pending: std::mem::take(still),
                            paused: false,
                        }
                    }
                },
                Stage::Done => return CreateNext::Done,
            }
        }
    }

    /// The answer to `Reconcile(i)`: the records this user created with record `i`'s key
    /// fields that tandem does not know as another record, newest first.
    pub fn found(&mut self, i: usize, candidates: Result<Vec<String>, CallFailure>) {
        let adopted = match &candidates {
            Ok(ids) => ids.iter().find(|id| !self.claimed.contains(*id)).cloned(),
            Err(_) => None,
        };
        if let Some(id) = &adopted {
            self.claimed.insert(id.clone());
        }
        let stopped = matches!(candidates, Err(CallFailure::Stop));
        match &mut self.stage {
            Stage::Recover(queue) if queue.front() == Some(&i) => {
                queue.pop_front();
                self.outcomes[i] = match (adopted, candidates) {
                    (Some(id), _) => Some(ItemOutcome::Created {
                        id,
                        reconciled: true,
                    }),
                    (None, Err(CallFailure::Failed { message, .. })) => {
                        Some(ItemOutcome::Unknown { message })
                    }
                    (None, _) => None,
                };
            }
            Stage::Check {
                queue, still, lost, ..
            } if queue.front() == Some(&i) => {
                queue.pop_front();
                match (adopted, candidates) {
                    (Some(id), _) => {
                        self.outcomes[i] = Some(ItemOutcome::Created {
                            id,
                            reconciled: true,
                        })
                    }
                    (None, Ok(_)) => still.push(i),
                    (None, Err(CallFailure::Failed { message, .. })) => {
                        self.outcomes[i] = Some(ItemOutcome::Unknown {
                            message: format!("{lost}; then the check for it failed: {message}"),
                        })
                    }
                    (None, Err(CallFailure::Stop)) => {}
                }
            }
            _ => return,
        }
        if stopped {
            self.stop();
        }
    }

    /// The answer to `Announce`: `true` once the intents are durable; `false` stops the run.
    pub fn announced(&mut self, durable: bool) {
        let Stage::Announcing(pending) = &mut self.stage else {
            return;
        };
        if !durable {
            self.stop();
            return;
        }
        for &i in pending.iter() {
            self.announced[i] = true;
        }
        self.stage = Stage::Round {
            round: 0,
            pending: std::mem::take(pending),
            paused: false,
        };
    }

    pub fn paused(&mut self) {
        if let Stage::Round { paused, .. } = &mut self.stage {
            *paused = true;
        }
    }

    /// The answer to `Send`.
    pub fn answered(&mut self, answer: Result<Vec<ItemAnswer>, CallFailure>) {
        let Stage::Sent { round, pending } = &mut self.stage else {
            return;
        };
        let (round, pending) = (*round, std::mem::take(pending));
        match answer {
            Ok(answers) => {
                let mut still = Vec::new();
                for (&i, answer) in pending.iter().zip(answers) {
                    match (answer.error, answer.id) {
                        // Definitely not created: safe to send again.
                        (Some(e), _) if e.is_lock() => still.push(i),
                        (Some(e), _) => self.outcomes[i] = Some(ItemOutcome::refused(&e)),
                        (None, Some(id)) => {
                            self.claimed.insert(id.clone());
                            self.outcomes[i] = Some(ItemOutcome::Created {
                                id,
                                reconciled: false,
                            });
                        }
                        (None, None) => {
                            self.outcomes[i] = Some(ItemOutcome::Unknown {
                                message: "Salesforce reported a success without an id".into(),
                            })
                        }
                    }
                }
                self.stage = Stage::Round {
                    round: round + 1,
                    pending: still,
                    paused: false,
                };
            }
            Err(CallFailure::Stop) => self.stop(),
            // The answer is lost, not necessarily the creates: look before sending again.
            Err(CallFailure::Failed {
                message,
                ambiguous: true,
                ..
            }) => {
                self.stage = Stage::Check {
                    round,
                    queue: pending.into(),
                    still: Vec::new(),
                    lost: message,
                }
            }
            Err(failure) => {
                if let Some(outcome) = ItemOutcome::of_call(&failure) {
                    for &i in &pending {
                        self.outcomes[i] = Some(outcome.clone());
                    }
                }
                self.stage = Stage::Done;
            }
        }
    }

    /// The run must stop.
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// Every record's outcome. A record announced and not decided is unknown (its intent stays
    /// pending); one never announced was not attempted.
    pub fn finish(self) -> Vec<ItemOutcome> {
        self.outcomes
            .into_iter()
            .zip(self.announced)
            .map(|(outcome, announced)| {
                outcome.unwrap_or_else(|| {
                    if announced {
                        ItemOutcome::Unknown {
                            message: "the run stopped before the create's outcome was known".into(),
                        }
                    } else {
                        ItemOutcome::NotAttempted
                    }
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::ApiError;
    use super::*;

    fn created(id: &str) -> ItemAnswer {
        ItemAnswer {
            id: Some(id.into()),
            error: None,
        }
    }

    fn refused(code: &str) -> ItemAnswer {
        ItemAnswer {
            id: None,
            error: Some(ApiError {
                status: 400,
                code: code.into(),
                message: code.into(),
                fields: vec![],
            }),
        }
    }

    fn lost() -> CallFailure {
        CallFailure::Failed {
            code: "HTTP_503".into(),
            message: "the connection dropped".into(),
            retryable: true,
            ambiguous: true,
        }
    }

    fn is_created(o: &ItemOutcome, want: &str, was_reconciled: bool) -> bool {
        matches!(o, ItemOutcome::Created { id, reconciled } if id == want && *reconciled == was_reconciled)
    }

    #[test]
    fn intents_are_durable_before_the_call_and_answers_settle_each_record() {
        let mut batch = CreateBatch::new(vec![false, false, false], 2);
        assert_eq!(batch.poll(), CreateNext::Announce(vec![0, 1, 2]));
        batch.announced(true);
        assert_eq!(batch.poll(), CreateNext::Send(vec![0, 1, 2]));
        batch.answered(Ok(vec![
            created("003A"),
            refused("UNABLE_TO_LOCK_ROW"),
            refused("REQUIRED_FIELD_MISSING"),
        ]));
        assert_eq!(batch.poll(), CreateNext::Pause(1));
        batch.paused();
        assert_eq!(batch.poll(), CreateNext::Send(vec![1]));
        batch.answered(Ok(vec![created("003B")]));
        assert_eq!(batch.poll(), CreateNext::Done);
        let out = batch.finish();
        assert!(is_created(&out[0], "003A", false));
        assert!(is_created(&out[1], "003B", false));
        assert!(
            matches!(&out[2], ItemOutcome::Failed { code, retryable: false, .. } if code == "REQUIRED_FIELD_MISSING")
        );
    }

    #[test]
    fn a_lost_answer_is_reconciled_and_only_the_absent_are_sent_again() {
        let mut batch = CreateBatch::new(vec![false, false], 3);
        batch.poll();
        batch.announced(true);
        assert_eq!(batch.poll(), CreateNext::Send(vec![0, 1]));
        batch.answered(Err(lost()));
        assert_eq!(batch.poll(), CreateNext::Reconcile(0));
        batch.found(0, Ok(vec!["003A".into()]));
        assert_eq!(batch.poll(), CreateNext::Reconcile(1));
        batch.found(1, Ok(vec![]));
        assert_eq!(batch.poll(), CreateNext::Pause(1));
        batch.paused();
        assert_eq!(batch.poll(), CreateNext::Send(vec![1]));
        batch.answered(Ok(vec![created("003B")]));
        assert_eq!(batch.poll(), CreateNext::Done);
        let out = batch.finish();
        assert!(is_created(&out[0], "003A", true));
        assert!(is_created(&out[1], "003B", false));
    }

    #[test]
    fn an_earlier_runs_intent_is_looked_for_first_and_a_record_is_claimed_once() {
        // Two identical records, both announced by a killed run: Salesforce has one of them.
        let mut batch = CreateBatch::new(vec![true, true, false], 1);
        assert_eq!(batch.poll(), CreateNext::Reconcile(0));
        batch.found(0, Ok(vec!["003A".into()]));
        assert_eq!(batch.poll(), CreateNext::Reconcile(1));
        batch.found(1, Ok(vec!["003A".into()]));
        // The one not found is announced again, with the new one.
        assert_eq!(batch.poll(), CreateNext::Announce(vec![1, 2]));
        batch.announced(true);
        assert_eq!(batch.poll(), CreateNext::Send(vec![1, 2]));
        batch.answered(Ok(vec![created("003B"), created("003C")]));
        let out = batch.finish();
        assert!(is_created(&out[0], "003A", true));
        assert!(is_created(&out[1], "003B", false));
    }

    #[test]
    fn a_stop_leaves_announced_records_unknown_and_the_rest_not_attempted() {
        let mut batch = CreateBatch::new(vec![true, false], 2);
        assert_eq!(batch.poll(), CreateNext::Reconcile(0));
        batch.found(0, Err(CallFailure::Stop));
        assert_eq!(batch.poll(), CreateNext::Done);
        assert!(batch.stopped());
        let out = batch.finish();
        assert!(matches!(out[0], ItemOutcome::Unknown { .. }));
        assert_eq!(out[1], ItemOutcome::NotAttempted);

        let mut batch = CreateBatch::new(vec![false], 2);
        batch.poll();
        batch.announced(false);
        assert_eq!(batch.poll(), CreateNext::Done);
        assert_eq!(batch.finish(), vec![ItemOutcome::NotAttempted]);

        let mut batch = CreateBatch::new(vec![false], 2);
        batch.poll();
        batch.announced(true);
        batch.poll();
        batch.answered(Err(CallFailure::Stop));
        assert!(matches!(batch.finish()[0], ItemOutcome::Unknown { .. }));
    }

    #[test]
    fn a_failed_check_makes_the_record_unknown_and_rounds_run_out() {
        let mut batch = CreateBatch::new(vec![false, false], 0);
        batch.poll();
        batch.announced(true);
        batch.poll();
        batch.answered(Err(lost()));
        batch.found(
            0,
            Err(CallFailure::Failed {
                code: "X".into(),
                message: "query refused".into(),
                retryable: false,
                ambiguous: false,
            }),
        );
        assert_eq!(batch.poll(), CreateNext::Reconcile(1));
        batch.found(1, Ok(vec![]));
        // No retries left: the absent record has failed, to be tried on the next run.
        assert_eq!(batch.poll(), CreateNext::Done);
        let out = batch.finish();
        assert!(
            matches!(&out[0], ItemOutcome::Unknown { message } if message.contains("then the check for it failed"))
        );
        assert!(matches!(&out[1], ItemOutcome::Failed { code, .. } if code == "RETRIES_EXHAUSTED"));
    }

    #[test]
    fn a_definitive_refusal_fails_the_round() {
        let mut batch = CreateBatch::new(vec![false], 3);
        batch.poll();
        batch.announced(true);
        batch.poll();
        batch.answered(Err(CallFailure::Failed {
            code: "INVALID_TYPE".into(),
            message: "no such object".into(),
            retryable: false,
            ambiguous: false,
        }));
        assert_eq!(batch.poll(), CreateNext::Done);
        assert!(
            matches!(&batch.finish()[0], ItemOutcome::Failed { code, .. } if code == "INVALID_TYPE")
        );
    }
}
