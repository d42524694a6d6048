//! The monitoring engine: monitor definitions, probes, the scheduler that
//! shares checks between probers through leases, state and incidents, alerts,
//! roll-ups and retention.

pub mod alerts;
pub mod fields;
pub mod history;
pub mod incidents;
pub mod kinds;
pub mod maintenance;
pub mod metrics;
pub mod probe;
mod results;
pub mod rollup;
pub mod scheduler;
pub mod spec;
pub mod state;
pub mod store;

pub use spec::{Limits, MonitorInput, MonitorSpec};
pub use store::{Monitor, MonitorError};
