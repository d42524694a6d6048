//! Alert channels of a tenant: where alerts go and the secrets to sign them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::session::random_secret;
use crate::clock::{new_id, now_ms};
use crate::db::{Database, DbError};

/// A channel as listed (secrets left out).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Channel {
    /// Channel id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// `email`, `webhook`, `slack` or `discord`.
    pub kind: String,
    /// Recipient (email).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Endpoint (webhook, slack, discord).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Webhook signing secret; shown once, when the channel is created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Alerts go out.
    pub enabled: bool,
    /// Created, ms.
    pub created_at: i64,
}

/// Settings stored per channel.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ChannelSettings {
    /// Email recipient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Endpoint URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// HMAC-SHA256 key of webhook signatures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

fn kind_schema() -> utoipa::openapi::Object {
    crate::schema_docs::one_of(&["email", "webhook", "slack", "discord"])
}

/// A new channel.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChannel {
    /// Display name, 1–100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// `email`, `webhook`, `slack` or `discord`.
    #[schema(schema_with = kind_schema)]
    pub kind: String,
    /// Recipient address (email channels only).
    #[serde(default)]
    #[schema(format = Email, max_length = 254)]
    pub to: Option<String>,
    /// Endpoint URL, `http://` or `https://` (webhook, slack, discord only).
    #[serde(default)]
    #[schema(format = "uri", max_length = 2048)]
    pub url: Option<String>,
}

/// Why a channel operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// No such channel in this tenant.
    #[error("no such alert channel")]
    NotFound,
    /// A field is invalid.
    #[error("{0}: {1}")]
    Invalid(&'static str, String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for ChannelError {
    fn from(err: sqlx::Error) -> Self {
        Self::Db(err.into())
    }
}

/// A channel with its stored settings, for sending.
#[derive(Debug, Clone)]
pub struct StoredChannel {
    /// Channel id.
    pub id: String,
    /// Owner.
    pub tenant_id: String,
    /// `email`, `webhook`, `slack` or `discord`: how [`Sender`](super::Sender) delivers.
    pub kind: String,
    /// Settings, secrets included.
    pub settings: ChannelSettings,
    /// Only enabled channels get alerts queued.
    pub enabled: bool,
}

type Row = (String, String, String, String, String, i64, i64);

fn channel((id, _tenant, name, kind, settings, enabled, created_at): Row) -> Channel {
    let settings: ChannelSettings = serde_json::from_str(&settings).unwrap_or_default();
    Channel {
        id,
        name,
        kind,
        to: settings.to,
        url: settings.url,
        secret: None,
        enabled: enabled != 0,
        created_at,
    }
}

const SELECT: &str =
    "SELECT id, tenant_id, name, kind, settings, enabled, created_at FROM alert_channels";

/// Channels of a tenant.
pub async fn list(db: &Database, tenant_id: &str) -> Result<Vec<Channel>, DbError> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE tenant_id = $1 ORDER BY created_at, id"
    ))
    .bind(tenant_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(channel).collect())
}

/// One channel with its secrets, for sending.
pub async fn stored(
    db: &Database,
    tenant_id: &str,
    id: &str,
) -> Result<StoredChannel, ChannelError> {
    let row: Option<Row> = sqlx::query_as(&format!("{SELECT} WHERE id = $1 AND tenant_id = $2"))
        .bind(id)
        .bind(tenant_id)
        .fetch_optional(db.pool())
        .await?;
    let (id, tenant_id, _, kind, settings, enabled, _) = row.ok_or(ChannelError::NotFound)?;
    Ok(StoredChannel {
        id,
        tenant_id,
        kind,
        settings: serde_json::from_str(&settings).unwrap_or_default(),
        enabled: enabled != 0,
    })
}

/// A webhook endpoint as stored: an http(s) URL with a host, at most 2,048 bytes.
pub(crate) fn endpoint(url: Option<&str>) -> Result<String, ChannelError> {
    let raw = url.map(str::trim).unwrap_or_default();
    let parsed = url::Url::parse(raw)
        .map_err(|e| ChannelError::Invalid("url", format!("`{raw}` is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https")
        || parsed.host_str().is_none()
        || raw.len() > 2048
    {
        return Err(ChannelError::Invalid(
            "url",
            "must be an http:// or https:// URL".into(),
        ));
    }
    Ok(parsed.to_string())
}

/// Adds a channel; webhook channels get a signing secret, shown only in this answer.
pub async fn create(
    db: &Database,
    tenant_id: &str,
    new: &NewChannel,
) -> Result<Channel, ChannelError> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ChannelError::Invalid(
            "name",
            "must be 1–100 characters".into(),
        ));
    }
    let mut settings = ChannelSettings::default();
    match new.kind.as_str() {
        "email" => {
            if new.url.is_some() {
                return Err(ChannelError::Invalid(
                    "url",
                    "is not used by email channels".into(),
                ));
            }
            let to = crate::tenancy::EmailAddress::parse(new.to.as_deref().unwrap_or_default())
                .map_err(|m| ChannelError::Invalid("to", m))?;
            settings.to = Some(to.as_str().to_owned());
        }
        "webhook" | "slack" | "discord" => {
            if new.to.is_some() {
                return Err(ChannelError::Invalid(
                    "to",
                    format!("is not used by {} channels", new.kind),
                ));
            }
            settings.url = Some(endpoint(new.url.as_deref())?);
            if new.kind == "webhook" {
                settings.secret = Some(random_secret());
            }
        }
        other => {
            return Err(ChannelError::Invalid(
                "kind",
                format!("`{other}` is not one of email, webhook, slack, discord"),
            ));
        }
    }
    let id = new_id();
    let created_at = now_ms();
    sqlx::query(
        "INSERT INTO alert_channels (id, tenant_id, name, kind, settings, enabled, created_at) \
         VALUES ($1, $2, $3, $4, $5, 1, $6)",
    )
    .bind(&id)
    .bind(tenant_id)
    .bind(name)
    .bind(&new.kind)
    .bind(serde_json::to_string(&settings).unwrap_or_default())
    .bind(created_at)
    .execute(db.pool())
    .await?;
    Ok(Channel {
        id,
        name: name.to_owned(),
        kind: new.kind.clone(),
        to: settings.to,
        url: settings.url,
        secret: settings.secret,
        enabled: true,
        created_at,
    })
}

/// Removes a channel and its delivery log.
pub async fn delete(db: &Database, tenant_id: &str, id: &str) -> Result<(), ChannelError> {
    let done = sqlx::query("DELETE FROM alert_channels WHERE id = $1 AND tenant_id = $2")
        .bind(id)
        .bind(tenant_id)
        .execute(db.pool())
        .await?;
    if done.rows_affected() == 0 {
        return Err(ChannelError::NotFound);
    }
    Ok(())
}
