//! One conditional update (PATCH with `If-Unmodified-Since`), as a state machine. The PATCH is
//! never sent again after a lost answer (it would fail its own precondition): the record is read
//! back instead. A 412 is read back too: when the record already holds the write (sent by a run
//! killed before it recorded it) the update is done, otherwise Salesforce changed it — a
//! conflict the next run merges.

use super::{CallFailure, ItemOutcome};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpdateNext {
    /// Wait before round `n`: answer with [`ConditionalUpdate::paused`].
    Pause(u32),
    /// Send the PATCH: answer with [`ConditionalUpdate::sent`].
    Send,
    /// Read the record's written fields back: answer with [`ConditionalUpdate::read_back`].
    ReadBack,
    Done,
}

/// Why a PATCH did not succeed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpdateFailure {
    /// 412: the record changed since the version tandem sent.
    Precondition {
        message: String,
    },
    Call(CallFailure),
}

enum Stage {
    Send { round: u32, paused: bool },
    ReadBack { round: u32, after: After },
    Done,
}

enum After {
    Precondition(String),
    Lost,
}

pub struct ConditionalUpdate {
    id: String,
    max_retries: u32,
    stage: Stage,
    outcome: Option<ItemOutcome>,
    stopped: bool,
}

impl ConditionalUpdate {
    /// The update of Salesforce record `id`, sent at most `1 + max_retries` times.
    pub fn new(id: &str, max_retries: u32) -> ConditionalUpdate {
        ConditionalUpdate {
            id: id.to_string(),
            max_retries,
            stage: Stage::Send {
                round: 0,
                paused: false,
            },
            outcome: None,
            stopped: false,
        }
    }

    fn decide(&mut self, outcome: ItemOutcome) {
        self.outcome = Some(outcome);
        self.stage = Stage::Done;
    }

    fn stop(&mut self) {
        self.stopped = true;
        self.decide(ItemOutcome::NotAttempted);
    }

    fn updated(&self) -> ItemOutcome {
        ItemOutcome::Updated {
            id: self.id.clone(),
        }
    }

    pub fn poll(&mut self) -> UpdateNext {
        match self.stage {
            Stage::Send { round, .. } if round > self.max_retries => {
                self.decide(ItemOutcome::retries_exhausted("the update"));
                UpdateNext::Done
            }
            Stage::Send { round, paused } if round > 0 && !paused => UpdateNext::Pause(round),
            Stage::Send { .. } => UpdateNext::Send,
            Stage::ReadBack { .. } => UpdateNext::ReadBack,
            Stage::Done => UpdateNext::Done,
        }
    }

    pub fn paused(&mut self) {
        if let Stage::Send { paused, .. } = &mut self.stage {
            *paused = true;
        }
    }

    pub fn sent(&mut self, result: Result<(), UpdateFailure>) {
        let Stage::Send { round, .. } = self.stage else {
            return;
        };
        match result {
            Ok(()) => self.decide(self.updated()),
            Err(UpdateFailure::Call(CallFailure::Stop)) => self.stop(),
            Err(UpdateFailure::Precondition { message }) => {
                self.stage = Stage::ReadBack {
                    round,
                    after: After::Precondition(message),
                }
            }
            Err(UpdateFailure::Call(CallFailure::Failed {
                ambiguous: true, ..
            })) => {
                self.stage = Stage::ReadBack {
                    round,
                    after: After::Lost,
                }
            }
            // A locked row: nothing was done, so it goes again in the next round.
            Err(UpdateFailure::Call(CallFailure::Failed { code, .. }))
                if code == crate::salesforce::UNABLE_TO_LOCK_ROW =>
            {
                self.stage = Stage::Send {
                    round: round + 1,
                    paused: false,
                }
            }
            Err(UpdateFailure::Call(failure)) => {
                if let Some(outcome) = ItemOutcome::of_call(&failure) {
                    self.decide(outcome);
                }
            }
        }
    }

    /// The answer to `ReadBack`: whether the record holds what the update writes.
    pub fn read_back(&mut self, holds: Result<bool, CallFailure>) {
        let Stage::ReadBack { round, after } = &self.stage else {
            return;
        };
        let round = *round;
        match (holds, after) {
            (Ok(true), _) => self.decide(self.updated()),
            (Err(CallFailure::Stop), _) => self.stop(),
            (_, After::Precondition(message)) => {
                let outcome = ItemOutcome::Conflict {
                    id: self.id.clone(),
                    message: message.clone(),
                };
                self.decide(outcome)
            }
            // Not written: send it again in the next round.
            (Ok(false), After::Lost) => {
                self.stage = Stage::Send {
                    round: round + 1,
                    paused: false,
                }
            }
            (Err(failure), After::Lost) => {
                if let Some(outcome) = ItemOutcome::of_call(&failure) {
                    self.decide(outcome);
                }
            }
        }
    }

    /// The run must stop.
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    pub fn finish(self) -> ItemOutcome {
        self.outcome.unwrap_or(ItemOutcome::NotAttempted)
    }
}

/// The check of `update_check = "modstamp"` for record `id`: `seen` is the SystemModstamp
/// tandem last saw, `current` what a query just found (`None`: the record is gone). `None` when
/// the update may be sent; otherwise its outcome without sending it.
pub fn modstamp_check(
    id: &str,
    seen: Option<&str>,
    current: Option<Option<&str>>,
) -> Option<ItemOutcome> {
    use crate::mapping::parse_salesforce_datetime as parse;
    let Some(current) = current else {
        return Some(ItemOutcome::Failed {
            code: "ENTITY_IS_DELETED".into(),
            message: format!("{id} is no longer in Salesforce"),
            retryable: false,
        });
    };
    match (seen.map(parse), current.map(parse)) {
        (Some(Ok(seen)), Some(Ok(now))) if now != seen => Some(ItemOutcome::Conflict {
            id: id.to_string(),
            message: format!("changed in Salesforce at {now} (tandem last saw {seen})"),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_modstamp_check_sends_only_what_did_not_change() {
        let seen = Some("2024-05-06T10:00:00.000+0000");
        assert_eq!(
            modstamp_check("003A", seen, Some(Some("2024-05-06T10:00:00Z"))),
            None
        );
        assert!(matches!(
            modstamp_check("003A", seen, Some(Some("2024-05-06T10:00:01.000+0000"))),
            Some(ItemOutcome::Conflict { .. })
        ));
        assert!(matches!(
            modstamp_check("003A", seen, None),
            Some(ItemOutcome::Failed { code, .. }) if code == "ENTITY_IS_DELETED"
        ));
        assert_eq!(
            modstamp_check("003A", None, Some(Some("2024-05-06T10:00:01Z"))),
            None
        );
    }

    fn lost() -> UpdateFailure {
        UpdateFailure::Call(CallFailure::Failed {
            code: "HTTP_502".into(),
            message: "bad gateway".into(),
            retryable: true,
            ambiguous: true,
        })
    }

    #[test]
    fn a_clean_update_is_done() {
        let mut u = ConditionalUpdate::new("003A", 2);
        assert_eq!(u.poll(), UpdateNext::Send);
        u.sent(Ok(()));
        assert_eq!(u.poll(), UpdateNext::Done);
        assert_eq!(u.finish(), ItemOutcome::Updated { id: "003A".into() });
    }

    #[test]
    fn a_412_is_done_when_the_record_holds_the_write_and_a_conflict_otherwise() {
        let mut u = ConditionalUpdate::new("003A", 2);
        u.sent(Err(UpdateFailure::Precondition {
            message: "changed".into(),
        }));
        assert_eq!(u.poll(), UpdateNext::ReadBack);
        u.read_back(Ok(true));
        assert_eq!(u.finish(), ItemOutcome::Updated { id: "003A".into() });

        let mut u = ConditionalUpdate::new("003A", 2);
        u.sent(Err(UpdateFailure::Precondition {
            message: "changed".into(),
        }));
        u.read_back(Ok(false));
        assert!(
            matches!(u.finish(), ItemOutcome::Conflict { message, .. } if message == "changed")
        );
    }

    #[test]
    fn a_lost_answer_is_read_back_and_sent_again_only_when_absent() {
        let mut u = ConditionalUpdate::new("003A", 1);
        u.sent(Err(lost()));
        assert_eq!(u.poll(), UpdateNext::ReadBack);
        u.read_back(Ok(false));
        assert_eq!(u.poll(), UpdateNext::Pause(1));
        u.paused();
        assert_eq!(u.poll(), UpdateNext::Send);
        u.sent(Err(lost()));
        u.read_back(Ok(false));
        // No rounds left.
        assert_eq!(u.poll(), UpdateNext::Done);
        assert!(
            matches!(u.finish(), ItemOutcome::Failed { code, .. } if code == "RETRIES_EXHAUSTED")
        );
    }

    #[test]
    fn a_locked_row_is_sent_again_in_the_next_round_not_failed() {
        let locked = || {
            UpdateFailure::Call(CallFailure::Failed {
                code: crate::salesforce::UNABLE_TO_LOCK_ROW.into(),
                message: "unable to obtain exclusive access to this record".into(),
                retryable: true,
                ambiguous: false,
            })
        };
        let mut u = ConditionalUpdate::new("003A", 1);
        u.sent(Err(locked()));
        assert_eq!(
            u.poll(),
            UpdateNext::Pause(1),
            "nothing was done: no read-back"
        );
        u.paused();
        assert_eq!(u.poll(), UpdateNext::Send);
        u.sent(Ok(()));
        assert_eq!(u.finish(), ItemOutcome::Updated { id: "003A".into() });
        // Locked every round: given up, for the next run.
        let mut u = ConditionalUpdate::new("003A", 1);
        u.sent(Err(locked()));
        u.paused();
        u.sent(Err(locked()));
        assert_eq!(u.poll(), UpdateNext::Done);
        assert!(
            matches!(u.finish(), ItemOutcome::Failed { code, .. } if code == "RETRIES_EXHAUSTED")
        );
    }

    #[test]
    fn a_stop_anywhere_is_not_attempted_and_stops_the_run() {
        let mut u = ConditionalUpdate::new("003A", 1);
        u.sent(Err(lost()));
        u.read_back(Err(CallFailure::Stop));
        assert!(u.stopped());
        assert_eq!(u.finish(), ItemOutcome::NotAttempted);

        let mut u = ConditionalUpdate::new("003A", 1);
        u.sent(Err(UpdateFailure::Call(CallFailure::Failed {
            code: "INVALID_FIELD".into(),
            message: "m".into(),
            retryable: false,
            ambiguous: false,
        })));
        assert_eq!(u.poll(), UpdateNext::Done);
        assert!(matches!(
            u.finish(),
            ItemOutcome::Failed {
                retryable: false,
                ..
            }
        ));
    }
}
