//! The monitoring engine: monitor definitions, probes, the scheduler that
//! shares checks between probers through leases, state and incidents, alerts,
//! roll-ups and retention.

pub mod kinds;
pub mod probe;
pub mod spec;
pub mod ssrf;
pub mod store;

pub use spec::{Limits, MonitorInput, MonitorSpec};
pub use store::{Monitor, MonitorError};
