//! Subscribers of a status page: people who confirmed their address (double
//! opt-in) and webhook endpoints, each told about the page's incidents and
//! maintenance for every component or a chosen few.
//!
//! A stranger's address cannot be mail-bombed: a confirmation mail goes out
//! at most once per address and page per hour ([`CONFIRM_EVERY_MS`]), and an
//! address already subscribed gets nothing at all; the answer is the same
//! every time, so it tells nobody whether the address is subscribed. Links in
//! mails are signed tokens ([`tokens`]) that name the subscriber and the
//! random stamp of its subscription, so a new subscription voids old links.

pub mod csv;
pub mod delivery;
pub mod listing;
pub mod notify;
mod render;
pub mod store;
pub mod tokens;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::DbError;

/// A second confirmation mail to one address for one page waits this long, ms.
pub const CONFIRM_EVERY_MS: i64 = 3_600_000;
/// Unconfirmed subscriptions are forgotten after this long, ms (7 days).
pub const PENDING_TTL_MS: i64 = 7 * 86_400_000;
/// Most components one subscriber may choose.
pub const MAX_CHOSEN_COMPONENTS: usize = 100;

/// How a subscriber is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SubscriberKind {
    /// Mail, after the address confirmed the subscription.
    Email,
    /// A signed JSON POST, as alert webhooks are signed.
    Webhook,
}

impl SubscriberKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Webhook => "webhook",
        }
    }

    fn parse(text: &str) -> Self {
        if text == "webhook" {
            Self::Webhook
        } else {
            Self::Email
        }
    }
}

/// A subscriber as the tenant sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Subscriber {
    /// Subscriber id.
    pub id: String,
    /// The status page subscribed to (`/api/status-pages/{id}`).
    pub page_id: String,
    /// `email` or `webhook`.
    pub kind: SubscriberKind,
    /// The email address or webhook URL.
    pub address: String,
    /// `pending` (not confirmed yet), `active` or `unsubscribed`.
    pub status: String,
    /// Chosen components; `null` means every component.
    pub component_ids: Option<Vec<String>>,
    /// Subscribed (or last asked to), ms.
    pub created_at: i64,
    /// Confirmed, ms.
    pub confirmed_at: Option<i64>,
    /// Unsubscribed, ms.
    pub unsubscribed_at: Option<i64>,
}

/// What someone asked for at `POST /status/subscribe`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscribeRequest {
    /// Address to mail (double opt-in: a confirmation link is mailed first).
    #[serde(default)]
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    /// Endpoint to POST signed JSON to (instead of `email`).
    #[serde(default)]
    #[schema(format = "uri", max_length = 2048)]
    pub webhook_url: Option<String>,
    /// Components of the page to hear about; absent or empty means all.
    #[serde(default)]
    pub components: Option<Vec<String>>,
}

/// What a subscription request led to; people see the same answer for every
/// email outcome, so nobody learns whether an address is subscribed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subscribed {
    /// A confirmation mail is queued.
    ConfirmationQueued,
    /// Nothing was sent: already subscribed, or a confirmation went out within the hour.
    NothingSent,
    /// A webhook subscriber is active; its signing secret is shown once.
    Webhook {
        /// Subscriber id.
        id: String,
        /// HMAC-SHA256 key of the signatures.
        secret: String,
        /// Signed link that ends the subscription.
        unsubscribe_token: String,
    },
}

/// Why a subscriber operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum SubscriberError {
    /// No such subscriber (or page) in this tenant.
    #[error("no such subscriber")]
    NotFound,
    /// A field is invalid.
    #[error("{0}: {1}")]
    Invalid(&'static str, String),
    /// The webhook is subscribed already.
    #[error("{0}: {1}")]
    Conflict(&'static str, String),
    /// A link's token is malformed, tampered, expired, of another page or of
    /// an earlier subscription.
    #[error("{0}")]
    BadToken(String),
    /// The page has as many confirmed subscribers as the organization's plan allows.
    #[error(
        "this status page takes no more subscribers for now; its Atom and RSS feeds need no sign-up"
    )]
    Full {
        /// The plan's number of subscribers per page.
        max: u64,
    },
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for SubscriberError {
    fn from(err: sqlx::Error) -> Self {
        Self::Db(err.into())
    }
}
