//! Plans and their limits: built-in Free and Pro, overridden and extended by
//! `[billing.plans.<name>]`, with the older `prober.plan_*` keys as Free's defaults.

use serde::Serialize;
use utoipa::ToSchema;

use crate::config::{BillingConfig, PlanConfig, ProberConfig};

/// The plan every tenant has without a subscription.
pub const FREE: &str = "free";
/// The built-in paid plan.
pub const PRO: &str = "pro";

/// What a plan allows. Counts are per tenant unless named otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct PlanLimits {
    /// Monitors (those the plan paused are not counted).
    pub monitors: u64,
    /// Shortest check interval, seconds.
    pub min_interval_seconds: u64,
    /// Status pages (those the plan paused are not counted).
    pub status_pages: u64,
    /// Subscribers of one status page.
    pub subscribers_per_page: u64,
    /// Custom domains besides the subdomain (those the plan paused are not counted).
    pub custom_domains: u64,
    /// Alert channels (those the plan paused are not counted).
    pub alert_channels: u64,
    /// Members, counting pending invitations.
    pub members: u64,
    /// Days raw check results are kept.
    pub raw_retention_days: u64,
}

/// One limit, by the name the API and errors use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// [`PlanLimits::monitors`].
    Monitors,
    /// [`PlanLimits::min_interval_seconds`].
    MinIntervalSeconds,
    /// [`PlanLimits::status_pages`].
    StatusPages,
    /// [`PlanLimits::subscribers_per_page`].
    SubscribersPerPage,
    /// [`PlanLimits::custom_domains`].
    CustomDomains,
    /// [`PlanLimits::alert_channels`].
    AlertChannels,
    /// [`PlanLimits::members`].
    Members,
    /// [`PlanLimits::raw_retention_days`].
    RawRetentionDays,
}

impl Limit {
    /// Every limit, in the order the API lists them.
    pub const ALL: [Limit; 8] = [
        Limit::Monitors,
        Limit::MinIntervalSeconds,
        Limit::StatusPages,
        Limit::SubscribersPerPage,
        Limit::CustomDomains,
        Limit::AlertChannels,
        Limit::Members,
        Limit::RawRetentionDays,
    ];

    /// Stable name (`monitors`, `min_interval_seconds`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Monitors => "monitors",
            Self::MinIntervalSeconds => "min_interval_seconds",
            Self::StatusPages => "status_pages",
            Self::SubscribersPerPage => "subscribers_per_page",
            Self::CustomDomains => "custom_domains",
            Self::AlertChannels => "alert_channels",
            Self::Members => "members",
            Self::RawRetentionDays => "raw_retention_days",
        }
    }

    /// Words for messages ("monitors", "status pages").
    pub fn noun(self) -> &'static str {
        match self {
            Self::Monitors => "monitors",
            Self::MinIntervalSeconds => "seconds between checks at least",
            Self::StatusPages => "status pages",
            Self::SubscribersPerPage => "subscribers per status page",
            Self::CustomDomains => "custom domains",
            Self::AlertChannels => "alert channels",
            Self::Members => "members",
            Self::RawRetentionDays => "days of raw results",
        }
    }

    /// A minimum (smaller is better) rather than a maximum.
    pub fn is_minimum(self) -> bool {
        self == Self::MinIntervalSeconds
    }

    /// This limit's value in `limits`.
    pub fn of(self, limits: &PlanLimits) -> u64 {
        match self {
            Self::Monitors => limits.monitors,
            Self::MinIntervalSeconds => limits.min_interval_seconds,
            Self::StatusPages => limits.status_pages,
            Self::SubscribersPerPage => limits.subscribers_per_page,
            Self::CustomDomains => limits.custom_domains,
            Self::AlertChannels => limits.alert_channels,
            Self::Members => limits.members,
            Self::RawRetentionDays => limits.raw_retention_days,
        }
    }

    /// Whether `limits` allow `wanted` (a count, or an interval for the minimum).
    pub fn allows(self, limits: &PlanLimits, wanted: u64) -> bool {
        if self.is_minimum() {
            wanted >= self.of(limits)
        } else {
            wanted <= self.of(limits)
        }
    }

    /// Range a configured value must lie in: (key, min, max).
    fn range(self) -> (&'static str, u64, u64) {
        match self {
            Self::Monitors => ("max_monitors", 1, 10_000_000),
            Self::MinIntervalSeconds => ("min_interval_seconds", 1, 86_400),
            Self::StatusPages => ("max_status_pages", 1, 1000),
            Self::SubscribersPerPage => ("max_subscribers_per_page", 0, 10_000_000),
            Self::CustomDomains => ("max_custom_domains", 0, 1000),
            Self::AlertChannels => ("max_alert_channels", 0, 10_000),
            Self::Members => ("max_members", 1, 100_000),
            // Daily roll-ups are computed from raw results of the last two days.
            Self::RawRetentionDays => ("raw_retention_days", 2, 3650),
        }
    }
}

/// A plan as resolved from configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Plan {
    /// Key (`free`, `pro`, …).
    pub name: String,
    /// Name shown to people.
    pub display_name: String,
    /// Stripe price; `None` for Free.
    #[serde(skip)]
    pub stripe_price_id: Option<String>,
    /// What it allows.
    pub limits: PlanLimits,
}

/// Every plan, Free first, then Pro, then the others by name.
#[derive(Debug, Clone)]
pub struct Plans {
    enabled: bool,
    plans: Vec<Plan>,
}

fn free_builtin(prober: &ProberConfig) -> PlanLimits {
    PlanLimits {
        monitors: prober.plan_max_monitors.unwrap_or(10),
        min_interval_seconds: prober.plan_min_interval_seconds.unwrap_or(60),
        status_pages: 1,
        subscribers_per_page: 100,
        custom_domains: 0,
        alert_channels: 2,
        members: 3,
        raw_retention_days: prober.raw_retention_days,
    }
}

fn pro_builtin(prober: &ProberConfig) -> PlanLimits {
    PlanLimits {
        monitors: 100,
        min_interval_seconds: 30,
        status_pages: 5,
        subscribers_per_page: 5000,
        custom_domains: 5,
        alert_channels: 25,
        members: 25,
        raw_retention_days: prober.raw_retention_days.max(30),
    }
}

fn apply(base: PlanLimits, over: &PlanConfig) -> PlanLimits {
    PlanLimits {
        monitors: over.max_monitors.unwrap_or(base.monitors),
        min_interval_seconds: over
            .min_interval_seconds
            .unwrap_or(base.min_interval_seconds),
        status_pages: over.max_status_pages.unwrap_or(base.status_pages),
        subscribers_per_page: over
            .max_subscribers_per_page
            .unwrap_or(base.subscribers_per_page),
        custom_domains: over.max_custom_domains.unwrap_or(base.custom_domains),
        alert_channels: over.max_alert_channels.unwrap_or(base.alert_channels),
        members: over.max_members.unwrap_or(base.members),
        raw_retention_days: over.raw_retention_days.unwrap_or(base.raw_retention_days),
    }
}

fn display(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

impl Plans {
    /// Resolves the plans; never fails (problems are reported by [`Plans::check`]).
    pub fn resolve(billing: &BillingConfig, prober: &ProberConfig) -> Self {
        let empty = PlanConfig::default();
        let configured = |name: &str| billing.plans.get(name).unwrap_or(&empty);
        let make = |name: &str, base: PlanLimits| {
            let config = configured(name);
            Plan {
                name: name.to_owned(),
                display_name: config.display_name.clone().unwrap_or_else(|| display(name)),
                stripe_price_id: config
                    .stripe_price_id
                    .as_deref()
                    .map(str::trim)
                    .map(str::to_owned),
                limits: apply(base, config),
            }
        };
        let pro = pro_builtin(prober);
        let mut plans = vec![make(FREE, free_builtin(prober)), make(PRO, pro)];
        for name in billing.plans.keys() {
            if name != FREE && name != PRO {
                plans.push(make(name, pro));
            }
        }
        Self {
            enabled: billing.enabled,
            plans,
        }
    }

    /// Appends one message per problem of the plan limits, each naming its key.
    pub fn check(billing: &BillingConfig, prober: &ProberConfig, problems: &mut Vec<String>) {
        let free = billing.plans.get(FREE);
        let older = [
            (
                "plan_max_monitors",
                prober.plan_max_monitors,
                "max_monitors",
                free.and_then(|f| f.max_monitors),
            ),
            (
                "plan_min_interval_seconds",
                prober.plan_min_interval_seconds,
                "min_interval_seconds",
                free.and_then(|f| f.min_interval_seconds),
            ),
        ];
        for (old_key, old, new_key, new) in older {
            if let (Some(old), Some(new)) = (old, new)
                && old != new
            {
                problems.push(format!(
                    "prober.{old_key}: {old} differs from billing.plans.free.{new_key} = {new}; \
                     set only billing.plans.free.{new_key} (prober.{old_key} is its older name)"
                ));
            }
        }
        for (name, plan) in &billing.plans {
            let set = |limit: Limit| match limit {
                Limit::Monitors => plan.max_monitors,
                Limit::MinIntervalSeconds => plan.min_interval_seconds,
                Limit::StatusPages => plan.max_status_pages,
                Limit::SubscribersPerPage => plan.max_subscribers_per_page,
                Limit::CustomDomains => plan.max_custom_domains,
                Limit::AlertChannels => plan.max_alert_channels,
                Limit::Members => plan.max_members,
                Limit::RawRetentionDays => plan.raw_retention_days,
            };
            for limit in Limit::ALL {
                let (key, min, max) = limit.range();
                if let Some(value) = set(limit)
                    && !(min..=max).contains(&value)
                {
                    problems.push(format!(
                        "billing.plans.{name}.{key}: {value} must be between {min} and {max}"
                    ));
                }
            }
        }
    }

    /// Whether plans apply at all (`billing.enabled`); when not, no tenant has limits.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Every plan, Free first.
    pub fn all(&self) -> &[Plan] {
        &self.plans
    }

    /// The plan named `name`; an unknown name (a plan removed from configuration) is Free.
    pub fn get(&self, name: &str) -> &Plan {
        self.plans
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| self.free())
    }

    /// Whether `name` is a configured plan.
    pub fn exists(&self, name: &str) -> bool {
        self.plans.iter().any(|p| p.name == name)
    }

    /// The Free plan.
    pub fn free(&self) -> &Plan {
        // resolve() always puts Free first.
        &self.plans[0]
    }

    /// The plan sold at `price_id`.
    pub fn by_price(&self, price_id: &str) -> Option<&Plan> {
        self.plans
            .iter()
            .find(|p| p.stripe_price_id.as_deref() == Some(price_id))
    }

    /// Limits of the plan named `name`, or `None` (no limits) when billing is off.
    pub fn limits_of(&self, name: &str) -> Option<PlanLimits> {
        self.enabled.then(|| self.get(name).limits)
    }

    /// The first paid plan, other than `current`, that allows `wanted` of `limit`.
    pub fn lifting(&self, limit: Limit, wanted: u64, current: &str) -> Option<&Plan> {
        self.plans.iter().find(|p| {
            p.name != current && p.stripe_price_id.is_some() && limit.allows(&p.limits, wanted)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn billing(toml_text: &str) -> BillingConfig {
        let mut config: BillingConfig = toml::from_str(&format!(
            "enabled = true\nstripe_api_base = 'https://api.stripe.com'\n{toml_text}"
        ))
        .unwrap();
        config.enabled = true;
        config
    }

    #[test]
    fn free_and_pro_are_built_in_and_the_older_keys_are_free_defaults() {
        let mut prober = ProberConfig::defaults();
        let plans = Plans::resolve(&billing(""), &prober);
        assert_eq!(plans.free().limits.monitors, 10);
        assert_eq!(plans.get(PRO).limits.monitors, 100);
        assert_eq!(plans.get("gone").name, FREE);
        prober.plan_max_monitors = Some(3);
        prober.plan_min_interval_seconds = Some(120);
        let plans = Plans::resolve(&billing(""), &prober);
        assert_eq!(plans.free().limits.monitors, 3);
        assert_eq!(plans.free().limits.min_interval_seconds, 120);
        assert_eq!(plans.get(PRO).limits.monitors, 100);
    }

    #[test]
    fn configured_plans_override_and_extend() {
        let config = billing(
            "[plans.pro]\nstripe_price_id = 'price_pro'\nmax_monitors = 500\n\
             [plans.business]\nstripe_price_id = 'price_biz'\ndisplay_name = 'Business'\nmax_members = 100\n",
        );
        let plans = Plans::resolve(&config, &ProberConfig::defaults());
        let names: Vec<&str> = plans.all().iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["free", "pro", "business"]);
        assert_eq!(plans.get(PRO).limits.monitors, 500);
        assert_eq!(plans.get(PRO).display_name, "Pro");
        assert_eq!(plans.by_price("price_biz").unwrap().limits.members, 100);
        assert_eq!(plans.get("business").limits.monitors, 100, "inherits Pro");
        let lifting = plans.lifting(Limit::Monitors, 11, FREE).unwrap();
        assert_eq!(lifting.name, PRO);
        assert_eq!(
            plans.lifting(Limit::Members, 50, FREE).unwrap().name,
            "business"
        );
        assert!(plans.lifting(Limit::Monitors, 10_000, FREE).is_none());
        assert_eq!(
            plans
                .lifting(Limit::MinIntervalSeconds, 30, FREE)
                .unwrap()
                .name,
            PRO
        );
        assert_eq!(plans.limits_of(PRO).unwrap().monitors, 500);
        let mut off = config.clone();
        off.enabled = false;
        assert!(
            Plans::resolve(&off, &ProberConfig::defaults())
                .limits_of(PRO)
                .is_none()
        );
    }

    #[test]
    fn conflicting_and_out_of_range_values_are_named() {
        let mut prober = ProberConfig::defaults();
        prober.plan_max_monitors = Some(5);
        let config = billing("[plans.free]\nmax_monitors = 10\nraw_retention_days = 1\n");
        let mut problems = Vec::new();
        Plans::check(&config, &prober, &mut problems);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with(
            "prober.plan_max_monitors: 5 differs from billing.plans.free.max_monitors = 10"
        ));
        assert!(problems[1].starts_with("billing.plans.free.raw_retention_days: 1 must be"));
        // The same value under both names is fine.
        prober.plan_max_monitors = Some(10);
        let config = billing("[plans.free]\nmax_monitors = 10\n");
        let mut problems = Vec::new();
        Plans::check(&config, &prober, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
    }
}
