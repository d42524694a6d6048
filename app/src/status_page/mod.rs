//! Public status pages: a tenant's pages, their components (bound to monitors
//! or set by hand) in groups, and the incidents and maintenance people write
//! for them; plus the read model the public page, its JSON, feeds and badges
//! are rendered from.
//!
//! Subscribers ([`subscribers`]) hang off `status_pages` and
//! `status_components` by id and hear of incidents and maintenance.

pub mod badge;
pub mod components;
pub mod dates;
pub mod feeds;
pub mod html;
pub mod incidents;
pub mod model;
pub mod pages;
pub mod statuspage_json;
pub mod subscriber_pages;
pub mod subscribers;
pub mod view;

use serde::{Deserialize, Deserializer};

use crate::db::DbError;
pub use model::{ComponentStatus, FieldError, Impact, Kind};

/// Why a status-page operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum StatusPageError {
    /// No such page, component, group or incident in this tenant.
    #[error("not found")]
    NotFound,
    /// A field is invalid.
    #[error("{}: {}", .0.0, .0.1)]
    Invalid(FieldError),
    /// A field's value conflicts with what is stored.
    #[error("{}: {}", .0.0, .0.1)]
    Conflict(FieldError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for StatusPageError {
    fn from(err: sqlx::Error) -> Self {
        Self::Db(err.into())
    }
}

impl From<FieldError> for StatusPageError {
    fn from(err: FieldError) -> Self {
        Self::Invalid(err)
    }
}

/// Reads a field that may be absent (leave as is), `null` (clear) or a value (set).
pub(crate) fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Most pages a tenant may have.
pub const MAX_PAGES: i64 = 10;
/// Most components (and groups) on one page; keeps the page small.
pub const MAX_COMPONENTS: i64 = 100;
/// Most monitors bound to one component.
pub const MAX_MONITORS_PER_COMPONENT: usize = 20;
/// Most updates of one incident.
pub const MAX_UPDATES: i64 = 200;
