//! The state machine: what a check's outcome does to a monitor's state.
//!
//! A failure does not make a monitor down at once: it is checked again right
//! away, and only `confirmations` failures in a row make it down. Successes
//! and degraded answers count at once.

use super::probe::Outcome;

/// Delay of the immediate re-check after an unconfirmed failure, ms.
pub const RECHECK_MS: i64 = 1000;

/// A monitor's state as the machine sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Not checked yet.
    Pending,
    /// Working.
    Up,
    /// Working, but slow or close to a problem.
    Degraded,
    /// Failing (confirmed).
    Down,
}

impl State {
    /// Parses the stored name (`paused` is not a machine state).
    pub fn parse(value: &str) -> Self {
        match value {
            "up" => Self::Up,
            "degraded" => Self::Degraded,
            "down" => Self::Down,
            _ => Self::Pending,
        }
    }

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Up => "up",
            Self::Degraded => "degraded",
            Self::Down => "down",
        }
    }
}

/// What one outcome does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// State after the check.
    pub state: State,
    /// Failures in a row after the check.
    pub failures: i64,
    /// Check again at once (an unconfirmed failure).
    pub recheck: bool,
}

impl Step {
    /// The state changed from `before`.
    pub fn changed_from(&self, before: State) -> bool {
        self.state != before
    }
}

/// Applies `outcome` to a monitor in `state` with `failures` in a row.
pub fn step(state: State, failures: i64, confirmations: u32, outcome: Outcome) -> Step {
    match outcome {
        Outcome::Up => Step {
            state: State::Up,
            failures: 0,
            recheck: false,
        },
        Outcome::Degraded => Step {
            state: State::Degraded,
            failures: 0,
            recheck: false,
        },
        Outcome::Down => {
            let failures = failures.saturating_add(1);
            if failures >= i64::from(confirmations) {
                Step {
                    state: State::Down,
                    failures,
                    recheck: false,
                }
            } else {
                Step {
                    state,
                    failures,
                    recheck: true,
                }
            }
        }
    }
}

/// The alert a state change sends, if any: entering down or degraded, and
/// recovering from either. The first result of a new monitor alerts only
/// when it is bad.
pub fn alert_event(before: State, after: State) -> Option<&'static str> {
    match (before, after) {
        (a, b) if a == b => None,
        (_, State::Down) => Some("down"),
        (_, State::Degraded) => Some("degraded"),
        (State::Down | State::Degraded, State::Up) => Some("up"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn down_needs_confirmations_and_rechecks_in_between() {
        let first = step(State::Up, 0, 2, Outcome::Down);
        assert_eq!(
            first,
            Step {
                state: State::Up,
                failures: 1,
                recheck: true
            }
        );
        let second = step(first.state, first.failures, 2, Outcome::Down);
        assert_eq!(second.state, State::Down);
        assert!(!second.recheck);
        assert!(second.changed_from(State::Up));
        // One confirmation: down at once.
        assert_eq!(step(State::Up, 0, 1, Outcome::Down).state, State::Down);
        // Staying down is no change.
        let again = step(State::Down, 5, 2, Outcome::Down);
        assert!(!again.changed_from(State::Down));
        // A success in between resets the count.
        let ok = step(State::Up, 1, 3, Outcome::Up);
        assert_eq!(ok.failures, 0);
        assert_eq!(
            step(State::Up, 0, 2, Outcome::Degraded).state,
            State::Degraded
        );
    }

    #[test]
    fn each_change_alerts_once_and_only_changes_alert() {
        assert_eq!(alert_event(State::Up, State::Down), Some("down"));
        assert_eq!(alert_event(State::Pending, State::Down), Some("down"));
        assert_eq!(alert_event(State::Down, State::Up), Some("up"));
        assert_eq!(alert_event(State::Degraded, State::Up), Some("up"));
        assert_eq!(alert_event(State::Up, State::Degraded), Some("degraded"));
        assert_eq!(alert_event(State::Pending, State::Up), None);
        assert_eq!(alert_event(State::Down, State::Down), None);
    }
}
