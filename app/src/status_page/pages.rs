//! Status pages in the database, each scoped to one tenant: the default page
//! (served at `/status/` of the tenant's hostnames) and pages assigned to a
//! verified custom domain (served at `/` of that domain).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::{body_text, logo_url, required_text};
use super::{MAX_PAGES, StatusPageError, nullable};
use crate::clock::{new_id, now_ms};
use crate::db::{Database, DbError};
use crate::tenancy::store::is_unique_violation;

/// A status page as the admin API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatusPage {
    /// Page id.
    pub id: String,
    /// Title shown on the page and in feeds.
    pub title: String,
    /// Text under the title.
    pub description: String,
    /// Logo image URL.
    pub logo_url: Option<String>,
    /// The page served at `/status/` of the tenant's hostnames.
    pub is_default: bool,
    /// The verified custom domain serving this page at `/`.
    pub domain_id: Option<String>,
    /// That domain's hostname.
    pub hostname: Option<String>,
    /// Created, ms.
    pub created_at: i64,
    /// Last changed, ms.
    pub updated_at: i64,
}

/// Body of `POST /api/status-pages` and `PATCH /api/status-pages/{id}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusPageInput {
    /// Title, 1–100 characters (required on create).
    #[schema(min_length = 1, max_length = 100)]
    pub title: Option<String>,
    /// Description, up to 1,000 characters.
    #[schema(max_length = 1000)]
    pub description: Option<String>,
    /// Logo URL (`https`); `null` removes it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = "uri", max_length = 2048)]
    pub logo_url: Option<Option<String>>,
    /// Make this the page at `/status/` (the tenant's first page is).
    pub is_default: Option<bool>,
    /// A verified custom domain of the organization to serve this page at `/`; `null` unassigns.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub domain_id: Option<Option<String>>,
}

const SELECT: &str = "SELECT p.id, p.title, p.description, p.logo_url, p.is_default, p.domain_id, \
     d.hostname, p.created_at, p.updated_at FROM status_pages p \
     LEFT JOIN domains d ON d.id = p.domain_id AND d.tenant_id = p.tenant_id";

type Row = (
    String,
    String,
    String,
    Option<String>,
    i64,
    Option<String>,
    Option<String>,
    i64,
    i64,
);

fn page(row: Row) -> StatusPage {
    StatusPage {
        id: row.0,
        title: row.1,
        description: row.2,
        logo_url: row.3,
        is_default: row.4 == 1,
        domain_id: row.5,
        hostname: row.6,
        created_at: row.7,
        updated_at: row.8,
    }
}

/// Pages of a tenant, default first, then oldest first.
pub async fn list(db: &Database, tenant_id: &str) -> Result<Vec<StatusPage>, DbError> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE p.tenant_id = $1 ORDER BY p.is_default DESC, p.created_at, p.id"
    ))
    .bind(tenant_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(page).collect())
}

/// One page of a tenant.
pub async fn get(db: &Database, tenant_id: &str, id: &str) -> Result<StatusPage, StatusPageError> {
    let row: Option<Row> =
        sqlx::query_as(&format!("{SELECT} WHERE p.id = $1 AND p.tenant_id = $2"))
            .bind(id)
            .bind(tenant_id)
            .fetch_optional(db.pool())
            .await?;
    row.map(page).ok_or(StatusPageError::NotFound)
}

/// The checked values of an input merged over `base`.
struct Checked {
    title: String,
    description: String,
    logo_url: Option<String>,
    is_default: bool,
    domain_id: Option<String>,
}

fn check(
    input: &StatusPageInput,
    base: Option<&StatusPage>,
    allow_http: bool,
) -> Result<Checked, StatusPageError> {
    let title = match (&input.title, base) {
        (Some(t), _) => required_text("title", Some(t), 100)?,
        (None, Some(b)) => b.title.clone(),
        (None, None) => required_text("title", None, 100)?,
    };
    let description = match (&input.description, base) {
        (Some(d), _) => body_text("description", Some(d), 1000, false)?,
        (None, Some(b)) => b.description.clone(),
        (None, None) => String::new(),
    };
    let logo = match &input.logo_url {
        Some(Some(url)) if !url.trim().is_empty() => Some(logo_url(url, allow_http)?),
        Some(_) => None,
        None => base.and_then(|b| b.logo_url.clone()),
    };
    let domain_id = match &input.domain_id {
        Some(Some(id)) if !id.trim().is_empty() => Some(id.trim().to_owned()),
        Some(_) => None,
        None => base.and_then(|b| b.domain_id.clone()),
    };
    let is_default = input
        .is_default
        .unwrap_or(base.is_some_and(|b| b.is_default));
    if base.is_some_and(|b| b.is_default) && !is_default {
        return Err(StatusPageError::Invalid((
            "is_default",
            "make another page the default instead".to_owned(),
        )));
    }
    Ok(Checked {
        title,
        description,
        logo_url: logo,
        is_default,
        domain_id,
    })
}

/// Refuses a domain that is not a verified custom domain of the tenant.
async fn check_domain(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    domain_id: &str,
) -> Result<(), StatusPageError> {
    let found: Option<(String, Option<i64>)> =
        sqlx::query_as("SELECT kind, verified_at FROM domains WHERE id = $1 AND tenant_id = $2")
            .bind(domain_id)
            .bind(tenant_id)
            .fetch_optional(conn)
            .await?;
    match found {
        None => Err(StatusPageError::Invalid((
            "domain_id",
            "is not a domain of this organization".to_owned(),
        ))),
        Some((kind, _)) if kind != "custom" => Err(StatusPageError::Invalid((
            "domain_id",
            "must be a custom domain; the organization's subdomain serves the default page at /status/".to_owned(),
        ))),
        Some((_, None)) => Err(StatusPageError::Invalid((
            "domain_id",
            "is not verified yet; verify it first".to_owned(),
        ))),
        Some(_) => Ok(()),
    }
}

fn domain_taken(err: sqlx::Error) -> StatusPageError {
    if is_unique_violation(&err) {
        StatusPageError::Conflict(("domain_id", "is assigned to another status page".to_owned()))
    } else {
        err.into()
    }
}

/// Creates a page; the tenant's first page becomes its default.
pub async fn create(
    db: &Database,
    tenant_id: &str,
    input: &StatusPageInput,
    allow_http: bool,
) -> Result<StatusPage, StatusPageError> {
    let checked = check(input, None, allow_http)?;
    let id = new_id();
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    // Serialises page creation per tenant: the count and the default stay right.
    sqlx::query(&format!(
        "SELECT id FROM tenants WHERE id = $1{}",
        db.dialect().for_update()
    ))
    .bind(tenant_id)
    .fetch_optional(&mut *tx)
    .await?;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM status_pages WHERE tenant_id = $1")
        .bind(tenant_id)
        .fetch_one(&mut *tx)
        .await?;
    if count >= MAX_PAGES {
        return Err(StatusPageError::Conflict((
            "title",
            format!("an organization may have at most {MAX_PAGES} status pages"),
        )));
    }
    if let Some(domain) = &checked.domain_id {
        check_domain(&mut tx, tenant_id, domain).await?;
    }
    let is_default = checked.is_default || count == 0;
    if is_default {
        sqlx::query(
            "UPDATE status_pages SET is_default = 0 WHERE tenant_id = $1 AND is_default = 1",
        )
        .bind(tenant_id)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "INSERT INTO status_pages (id, tenant_id, title, description, logo_url, is_default, domain_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(&id)
    .bind(tenant_id)
    .bind(&checked.title)
    .bind(&checked.description)
    .bind(&checked.logo_url)
    .bind(i64::from(is_default))
    .bind(&checked.domain_id)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(domain_taken)?;
    tx.commit().await?;
    get(db, tenant_id, &id).await
}

/// Changes the fields given; everything is checked before anything is written.
pub async fn update(
    db: &Database,
    tenant_id: &str,
    id: &str,
    input: &StatusPageInput,
    allow_http: bool,
) -> Result<StatusPage, StatusPageError> {
    let current = get(db, tenant_id, id).await?;
    let checked = check(input, Some(&current), allow_http)?;
    let mut tx = db.begin_write().await?;
    if let Some(domain) = &checked.domain_id
        && checked.domain_id != current.domain_id
    {
        check_domain(&mut tx, tenant_id, domain).await?;
    }
    if checked.is_default && !current.is_default {
        sqlx::query(
            "UPDATE status_pages SET is_default = 0 WHERE tenant_id = $1 AND is_default = 1",
        )
        .bind(tenant_id)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "UPDATE status_pages SET title = $1, description = $2, logo_url = $3, is_default = $4, \
         domain_id = $5, updated_at = $6 WHERE id = $7 AND tenant_id = $8",
    )
    .bind(&checked.title)
    .bind(&checked.description)
    .bind(&checked.logo_url)
    .bind(i64::from(checked.is_default))
    .bind(&checked.domain_id)
    .bind(now_ms())
    .bind(id)
    .bind(tenant_id)
    .execute(&mut *tx)
    .await
    .map_err(domain_taken)?;
    tx.commit().await?;
    get(db, tenant_id, id).await
}

/// Deletes a page with its components and incidents; if it was the default,
/// the oldest remaining page takes its place.
pub async fn delete(db: &Database, tenant_id: &str, id: &str) -> Result<(), StatusPageError> {
    let current = get(db, tenant_id, id).await?;
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM status_pages WHERE id = $1 AND tenant_id = $2")
        .bind(id)
        .bind(tenant_id)
        .execute(&mut *tx)
        .await?;
    if current.is_default {
        let next: Option<String> = sqlx::query_scalar(
            "SELECT id FROM status_pages WHERE tenant_id = $1 ORDER BY created_at, id LIMIT 1",
        )
        .bind(tenant_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(next) = next {
            sqlx::query("UPDATE status_pages SET is_default = 1 WHERE id = $1 AND tenant_id = $2")
                .bind(next)
                .bind(tenant_id)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Marks a page changed (its components or incidents were), for `updated_at` and caches.
pub(crate) async fn touch(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE status_pages SET updated_at = $1 WHERE id = $2 AND tenant_id = $3")
        .bind(now)
        .bind(id)
        .bind(tenant_id)
        .execute(conn)
        .await?;
    Ok(())
}
