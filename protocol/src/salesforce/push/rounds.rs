//! One sObject Collections call for up to 200 records, round after round: a row Salesforce
//! could not lock goes again in the next round, after a pause; every other answer settles its
//! record. For calls that are safe to repeat: upserts by external id, updates, deletes.

use super::{CallFailure, ItemAnswer, ItemOutcome};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoundNext {
    /// Wait before round `n` (count it as a retry).
    Pause(u32),
    /// Send the call for these records (indices into the batch).
    Send(Vec<usize>),
    Done,
}

pub struct Rounds {
    outcomes: Vec<Option<ItemOutcome>>,
    pending: Vec<usize>,
    round: u32,
    max_retries: u32,
    paused: bool,
    stopped: bool,
}

impl Rounds {
    /// A batch of `n` records, sent at most `1 + max_retries` times.
    pub fn new(n: usize, max_retries: u32) -> Rounds {
        Rounds {
            outcomes: vec![None; n],
            pending: (0..n).collect(),
            round: 0,
            max_retries,
            paused: false,
            stopped: false,
        }
    }

    pub fn poll(&self) -> RoundNext {
        if self.stopped || self.pending.is_empty() || self.round > self.max_retries {
            RoundNext::Done
        } else if self.round > 0 && !self.paused {
            RoundNext::Pause(self.round)
        } else {
            RoundNext::Send(self.pending.clone())
        }
    }

    pub fn paused(&mut self) {
        self.paused = true;
    }

    /// The answer to the last `Send`; `settle` says what a record's own answer means.
    pub fn answered(
        &mut self,
        answer: Result<Vec<ItemAnswer>, CallFailure>,
        settle: impl Fn(usize, ItemAnswer) -> ItemOutcome,
    ) {
        match answer {
            Ok(answers) => {
                let mut still = Vec::new();
                for (&i, answer) in self.pending.iter().zip(answers) {
                    if answer.locked() {
                        still.push(i);
                    } else {
                        self.outcomes[i] = Some(settle(i, answer));
                    }
                }
                self.pending = still;
                self.round += 1;
                self.paused = false;
            }
            Err(failure) => {
                match ItemOutcome::of_call(&failure) {
                    Some(outcome) => {
                        for &i in &self.pending {
                            self.outcomes[i] = Some(outcome.clone());
                        }
                    }
                    None => self.stopped = true,
                }
                self.pending.clear();
            }
        }
    }

    /// The run must stop.
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// Every record's outcome; a record still locked after the last round, or not sent because
    /// the run stopped, was not attempted.
    pub fn finish(self) -> Vec<ItemOutcome> {
        self.outcomes
            .into_iter()
            .map(|o| o.unwrap_or(ItemOutcome::NotAttempted))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::ApiError;
    use super::super::settle;
    use super::*;

    fn ok(id: &str) -> ItemAnswer {
        ItemAnswer {
            id: Some(id.into()),
            error: None,
        }
    }

    fn locked() -> ItemAnswer {
        ItemAnswer {
            id: None,
            error: Some(ApiError {
                status: 400,
                code: "UNABLE_TO_LOCK_ROW".into(),
                message: "locked".into(),
                fields: vec![],
            }),
        }
    }

    #[test]
    fn locked_rows_go_again_after_a_pause_until_the_rounds_run_out() {
        let mut rounds = Rounds::new(3, 1);
        assert_eq!(rounds.poll(), RoundNext::Send(vec![0, 1, 2]));
        rounds.answered(Ok(vec![ok("a"), locked(), locked()]), |_, a| {
            settle::upsert(a)
        });
        assert_eq!(rounds.poll(), RoundNext::Pause(1));
        rounds.paused();
        assert_eq!(rounds.poll(), RoundNext::Send(vec![1, 2]));
        rounds.answered(Ok(vec![ok("b"), locked()]), |_, a| settle::upsert(a));
        assert_eq!(rounds.poll(), RoundNext::Done);
        let outcomes = rounds.finish();
        assert!(matches!(&outcomes[1], ItemOutcome::Created { id, .. } if id == "b"));
        assert_eq!(outcomes[2], ItemOutcome::NotAttempted);
    }

    #[test]
    fn a_failed_call_fails_what_is_pending_and_a_stop_stops() {
        let mut rounds = Rounds::new(2, 3);
        rounds.answered(
            Err(CallFailure::Failed {
                code: "X".into(),
                message: "m".into(),
                retryable: true,
                ambiguous: false,
            }),
            |_, a| settle::upsert(a),
        );
        assert_eq!(rounds.poll(), RoundNext::Done);
        assert!(!rounds.stopped());
        assert!(matches!(rounds.finish()[0], ItemOutcome::Failed { .. }));

        let mut rounds = Rounds::new(2, 3);
        rounds.answered(Err(CallFailure::Stop), |_, a| settle::upsert(a));
        assert!(rounds.stopped());
        assert_eq!(rounds.poll(), RoundNext::Done);
        assert_eq!(rounds.finish(), vec![ItemOutcome::NotAttempted; 2]);
    }
}
