//! Tuning of the certificate manager.

use std::time::Duration;

/// Tuning of the manager.
#[derive(Debug, Clone)]
pub struct ManagerOptions {
    /// How long a refusal is remembered.
    pub negative_ttl: Duration,
    /// How long an authorisation is trusted before it is checked again (in the background).
    pub positive_ttl: Duration,
    /// Longest a handshake waits for issuance.
    pub issue_timeout: Duration,
    /// Certificates held in memory, and as many refusals (each kind evicts its oldest).
    pub capacity: usize,
    /// How long an issuance lease holds other nodes off.
    pub lease_ttl: Duration,
    /// First wait after a failed issuance.
    pub retry_min: Duration,
    /// Longest wait between failed issuances.
    pub retry_max: Duration,
    /// New orders per hour, across the cluster.
    pub orders_per_hour: u32,
    /// New orders per tenant per day.
    pub tenant_orders_per_day: u32,
    /// With a wildcard for `*.<suffix>`, names one label under it share that certificate.
    pub wildcard_suffix: Option<String>,
    /// How often the background task looks for renewals and queued names.
    pub sweep_interval: Duration,
    /// Order certificates for queued names ahead of their first handshake.
    pub preissue: bool,
    /// This node's name in leases and order records.
    pub node_id: String,
}

impl Default for ManagerOptions {
    fn default() -> Self {
        Self {
            negative_ttl: Duration::from_secs(60),
            positive_ttl: Duration::from_secs(300),
            issue_timeout: Duration::from_secs(10),
            capacity: 100_000,
            lease_ttl: Duration::from_secs(120),
            retry_min: Duration::from_secs(60),
            retry_max: Duration::from_secs(6 * 3600),
            orders_per_hour: 30,
            tenant_orders_per_day: 20,
            wildcard_suffix: None,
            sweep_interval: Duration::from_secs(60),
            preissue: true,
            node_id: "node".to_owned(),
        }
    }
}
