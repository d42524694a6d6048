//! The state machine: what a check's outcome does to a monitor's state.
//!
//! A failure does not make a monitor down at once: it is checked again right
//! away, and only `confirmations` failures in a row make it down — seen from
//! at least `regions` prober regions, when a second opinion is asked for.
//! Successes and degraded answers count at once.

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

/// What confirms a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Failures in a row before down.
    pub confirmations: u32,
    /// Distinct regions that must have seen the failures.
    pub regions: u32,
}

/// Applies `outcome` to a monitor in `state` with `failures` in a row;
/// `failing_regions` counts the regions that saw the failures, this one included.
pub fn step(
    state: State,
    failures: i64,
    rule: Rule,
    failing_regions: usize,
    outcome: Outcome,
) -> Step {
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
            let agreed = u32::try_from(failing_regions).unwrap_or(u32::MAX) >= rule.regions;
            if failures >= i64::from(rule.confirmations) && agreed {
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

/// A state change the machine produced, with what recording and alerting it need.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    /// Owner.
    pub tenant_id: &'a str,
    /// The monitor whose state changed.
    pub monitor_id: &'a str,
    /// Monitor name, for alerts.
    pub monitor_name: &'a str,
    /// Monitor kind, for alerts.
    pub kind: &'a str,
    /// Monitor target, for alerts.
    pub target: &'a str,
    /// State before the check.
    pub before: State,
    /// State the check moved it to; differs from `before`.
    pub after: State,
    /// Why (the check's error).
    pub reason: Option<&'a str>,
    /// When, ms.
    pub at: i64,
    /// Monitors with this many state changes in an hour are flapping.
    pub flap_threshold: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: Rule = Rule {
        confirmations: 2,
        regions: 1,
    };

    fn step_(state: State, failures: i64, confirmations: u32, outcome: Outcome) -> Step {
        let rule = Rule {
            confirmations,
            regions: 1,
        };
        step(state, failures, rule, 1, outcome)
    }

    #[test]
    fn a_second_opinion_needs_another_region() {
        let rule = Rule {
            confirmations: 2,
            regions: 2,
        };
        // Two failures from one region: still up, checked again (by another region).
        let one_region = step(State::Up, 1, rule, 1, Outcome::Down);
        assert_eq!(one_region.state, State::Up);
        assert!(one_region.recheck);
        assert_eq!(
            step(State::Up, 1, rule, 2, Outcome::Down).state,
            State::Down
        );
        assert_eq!(step(State::Up, 1, TWO, 1, Outcome::Down).state, State::Down);
    }

    #[test]
    fn down_needs_confirmations_and_rechecks_in_between() {
        let first = step_(State::Up, 0, 2, Outcome::Down);
        assert_eq!(
            first,
            Step {
                state: State::Up,
                failures: 1,
                recheck: true
            }
        );
        let second = step_(first.state, first.failures, 2, Outcome::Down);
        assert_eq!(second.state, State::Down);
        assert!(!second.recheck);
        assert!(second.changed_from(State::Up));
        // One confirmation: down at once.
        assert_eq!(step_(State::Up, 0, 1, Outcome::Down).state, State::Down);
        // Staying down is no change.
        let again = step_(State::Down, 5, 2, Outcome::Down);
        assert!(!again.changed_from(State::Down));
        // A success in between resets the count.
        let ok = step_(State::Up, 1, 3, Outcome::Up);
        assert_eq!(ok.failures, 0);
        assert_eq!(
            step_(State::Up, 0, 2, Outcome::Degraded).state,
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
