//! Components of a status page (bound to monitors, or set by hand) and the
//! groups they are shown in, each scoped to one tenant and page.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use utoipa::ToSchema;

use super::model::{ComponentStatus, body_text, position, required_text};
use super::pages::touch;
use super::{MAX_COMPONENTS, MAX_MONITORS_PER_COMPONENT, StatusPageError, nullable};
use crate::clock::{new_id, now_ms};
use crate::db::Database;

/// A component as the admin API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Component {
    /// Component id.
    pub id: String,
    /// The status page it belongs to (`/api/status-pages/{id}`).
    pub page_id: String,
    /// Its group, if any.
    pub group_id: Option<String>,
    /// Shown on the page, 1–100 characters.
    pub name: String,
    /// Shown under the name; up to 500 characters, may be empty.
    pub description: String,
    /// Order on the page (within its group), ascending.
    pub position: i64,
    /// Status set by hand; `null` means derived from the monitors.
    pub manual_status: Option<ComponentStatus>,
    /// Monitors whose states make the component's.
    pub monitor_ids: Vec<String>,
    /// Shown on the page only while not operational.
    pub only_show_if_degraded: bool,
    /// Show its 90-day uptime bars.
    pub showcase: bool,
    /// Created, ms.
    pub created_at: i64,
    /// Last changed, ms.
    pub updated_at: i64,
}

/// Body of component creation and change.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentInput {
    /// Name, 1–100 characters (required on create).
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// Description, up to 500 characters.
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// A group of the same page; `null` ungroups.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub group_id: Option<Option<String>>,
    /// Order, 0–10000 (default: after the others).
    #[schema(minimum = 0, maximum = 10_000)]
    pub position: Option<i64>,
    /// Status set by hand; `null` derives it from the monitors again.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<ComponentStatus>)]
    pub manual_status: Option<Option<ComponentStatus>>,
    /// Monitors of the organization (up to 20). A component needs monitors or a manual status.
    #[schema(max_items = 20)]
    pub monitor_ids: Option<Vec<String>>,
    /// Show only while not operational (default false).
    pub only_show_if_degraded: Option<bool>,
    /// Show the uptime bars (default true).
    pub showcase: Option<bool>,
}

/// A group of components.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Group {
    /// Group id.
    pub id: String,
    /// The status page it belongs to (`/api/status-pages/{id}`).
    pub page_id: String,
    /// Heading of the group on the page.
    pub name: String,
    /// Order on the page, ascending.
    pub position: i64,
    /// Created, ms.
    pub created_at: i64,
    /// Last changed, ms.
    pub updated_at: i64,
}

/// Body of group creation and change.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupInput {
    /// Name, 1–100 characters (required on create).
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// Order, 0–10000 (default: after the others).
    #[schema(minimum = 0, maximum = 10_000)]
    pub position: Option<i64>,
}

const COMPONENT_COLUMNS: &str = "id, page_id, group_id, name, description, position, manual_status, \
     only_show_if_degraded, showcase, created_at, updated_at";

type ComponentRow = (
    String,
    String,
    Option<String>,
    String,
    String,
    i64,
    Option<String>,
    i64,
    i64,
    i64,
    i64,
);

fn component(row: ComponentRow, monitor_ids: Vec<String>) -> Component {
    Component {
        id: row.0,
        page_id: row.1,
        group_id: row.2,
        name: row.3,
        description: row.4,
        position: row.5,
        manual_status: row.6.as_deref().and_then(ComponentStatus::parse),
        monitor_ids,
        only_show_if_degraded: row.7 == 1,
        showcase: row.8 == 1,
        created_at: row.9,
        updated_at: row.10,
    }
}

/// Components of a page in display order (groups are ordered by the caller).
pub async fn list(
    db: &Database,
    tenant_id: &str,
    page_id: &str,
) -> Result<Vec<Component>, StatusPageError> {
    let rows: Vec<ComponentRow> = sqlx::query_as(&format!(
        "SELECT {COMPONENT_COLUMNS} FROM status_components WHERE page_id = $1 AND tenant_id = $2 \
         ORDER BY position, created_at, id"
    ))
    .bind(page_id)
    .bind(tenant_id)
    .fetch_all(db.pool())
    .await?;
    let links: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.component_id, m.monitor_id FROM status_component_monitors m \
         JOIN status_components c ON c.id = m.component_id \
         WHERE c.page_id = $1 AND m.tenant_id = $2 ORDER BY m.component_id, m.monitor_id",
    )
    .bind(page_id)
    .bind(tenant_id)
    .fetch_all(db.pool())
    .await?;
    let mut by_component: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (component_id, monitor_id) in links {
        by_component
            .entry(component_id)
            .or_default()
            .push(monitor_id);
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let monitors = by_component.remove(&row.0).unwrap_or_default();
            component(row, monitors)
        })
        .collect())
}

/// One component of a page.
pub async fn get(
    db: &Database,
    tenant_id: &str,
    page_id: &str,
    id: &str,
) -> Result<Component, StatusPageError> {
    let row: Option<ComponentRow> = sqlx::query_as(&format!(
        "SELECT {COMPONENT_COLUMNS} FROM status_components WHERE id = $1 AND page_id = $2 AND tenant_id = $3"
    ))
    .bind(id)
    .bind(page_id)
    .bind(tenant_id)
    .fetch_optional(db.pool())
    .await?;
    let row = row.ok_or(StatusPageError::NotFound)?;
    let monitors: Vec<String> = sqlx::query_scalar(
        "SELECT monitor_id FROM status_component_monitors WHERE component_id = $1 AND tenant_id = $2 ORDER BY monitor_id",
    )
    .bind(id)
    .bind(tenant_id)
    .fetch_all(db.pool())
    .await?;
    Ok(component(row, monitors))
}

struct CheckedComponent {
    name: String,
    description: String,
    group_id: Option<String>,
    position: Option<i64>,
    manual_status: Option<ComponentStatus>,
    monitor_ids: Vec<String>,
    only_show_if_degraded: bool,
    showcase: bool,
}

fn check(
    input: &ComponentInput,
    base: Option<&Component>,
) -> Result<CheckedComponent, StatusPageError> {
    let name = match (&input.name, base) {
        (Some(n), _) => required_text("name", Some(n), 100)?,
        (None, Some(b)) => b.name.clone(),
        (None, None) => required_text("name", None, 100)?,
    };
    let description = match (&input.description, base) {
        (Some(d), _) => body_text("description", Some(d), 500, false)?,
        (None, Some(b)) => b.description.clone(),
        (None, None) => String::new(),
    };
    let group_id = match &input.group_id {
        Some(Some(g)) if !g.trim().is_empty() => Some(g.trim().to_owned()),
        Some(_) => None,
        None => base.and_then(|b| b.group_id.clone()),
    };
    let position = match input.position {
        Some(p) => Some(position("position", p)?),
        None => base.map(|b| b.position),
    };
    let manual_status = match input.manual_status {
        Some(status) => status,
        None => base.and_then(|b| b.manual_status),
    };
    let monitor_ids = match &input.monitor_ids {
        Some(ids) => {
            let mut ids: Vec<String> = ids.iter().map(|id| id.trim().to_owned()).collect();
            ids.sort();
            ids.dedup();
            if ids.iter().any(String::is_empty) {
                return Err(StatusPageError::Invalid((
                    "monitor_ids",
                    "must not contain empty ids".to_owned(),
                )));
            }
            if ids.len() > MAX_MONITORS_PER_COMPONENT {
                return Err(StatusPageError::Invalid((
                    "monitor_ids",
                    format!("at most {MAX_MONITORS_PER_COMPONENT} monitors per component"),
                )));
            }
            ids
        }
        None => base.map(|b| b.monitor_ids.clone()).unwrap_or_default(),
    };
    if monitor_ids.is_empty() && manual_status.is_none() {
        return Err(StatusPageError::Invalid((
            "monitor_ids",
            "bind at least one monitor or set manual_status".to_owned(),
        )));
    }
    Ok(CheckedComponent {
        name,
        description,
        group_id,
        position,
        manual_status,
        monitor_ids,
        only_show_if_degraded: input
            .only_show_if_degraded
            .unwrap_or(base.is_some_and(|b| b.only_show_if_degraded)),
        showcase: input.showcase.unwrap_or(base.is_none_or(|b| b.showcase)),
    })
}

/// Refuses groups of other pages and monitors of other tenants.
async fn check_refs(
    conn: &mut AnyConnection,
    tenant_id: &str,
    page_id: &str,
    checked: &CheckedComponent,
) -> Result<(), StatusPageError> {
    if let Some(group) = &checked.group_id {
        let found: Option<String> = sqlx::query_scalar(
            "SELECT id FROM status_component_groups WHERE id = $1 AND page_id = $2 AND tenant_id = $3",
        )
        .bind(group)
        .bind(page_id)
        .bind(tenant_id)
        .fetch_optional(&mut *conn)
        .await?;
        if found.is_none() {
            return Err(StatusPageError::Invalid((
                "group_id",
                "is not a group of this status page".to_owned(),
            )));
        }
    }
    for monitor in &checked.monitor_ids {
        let found: Option<String> =
            sqlx::query_scalar("SELECT id FROM monitors WHERE id = $1 AND tenant_id = $2")
                .bind(monitor)
                .bind(tenant_id)
                .fetch_optional(&mut *conn)
                .await?;
        if found.is_none() {
            return Err(StatusPageError::Invalid((
                "monitor_ids",
                format!("{monitor} is not a monitor of this organization"),
            )));
        }
    }
    Ok(())
}

async fn next_position(
    conn: &mut AnyConnection,
    table: &str,
    page_id: &str,
) -> Result<i64, sqlx::Error> {
    let max: Option<i64> = sqlx::query_scalar(&format!(
        "SELECT MAX(position) FROM {table} WHERE page_id = $1"
    ))
    .bind(page_id)
    .fetch_one(conn)
    .await?;
    Ok(max.map_or(0, |m| (m + 1).min(10_000)))
}

async fn bind_monitors(
    conn: &mut AnyConnection,
    tenant_id: &str,
    component_id: &str,
    monitor_ids: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM status_component_monitors WHERE component_id = $1 AND tenant_id = $2")
        .bind(component_id)
        .bind(tenant_id)
        .execute(&mut *conn)
        .await?;
    for monitor in monitor_ids {
        sqlx::query("INSERT INTO status_component_monitors (tenant_id, component_id, monitor_id) VALUES ($1, $2, $3)")
            .bind(tenant_id)
            .bind(component_id)
            .bind(monitor)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Locks the page row so counts and positions of concurrent writes stay right.
async fn lock_page(
    db: &Database,
    conn: &mut AnyConnection,
    tenant_id: &str,
    page_id: &str,
) -> Result<(), StatusPageError> {
    let found: Option<String> = sqlx::query_scalar(&format!(
        "SELECT id FROM status_pages WHERE id = $1 AND tenant_id = $2{}",
        db.dialect().for_update()
    ))
    .bind(page_id)
    .bind(tenant_id)
    .fetch_optional(conn)
    .await?;
    found.map(|_| ()).ok_or(StatusPageError::NotFound)
}

/// Adds a component to a page.
pub async fn create(
    db: &Database,
    tenant_id: &str,
    page_id: &str,
    input: &ComponentInput,
) -> Result<Component, StatusPageError> {
    let checked = check(input, None)?;
    let id = new_id();
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    lock_page(db, &mut tx, tenant_id, page_id).await?;
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM status_components WHERE page_id = $1")
            .bind(page_id)
            .fetch_one(&mut *tx)
            .await?;
    if count >= MAX_COMPONENTS {
        return Err(StatusPageError::Conflict((
            "name",
            format!("a status page may have at most {MAX_COMPONENTS} components"),
        )));
    }
    check_refs(&mut tx, tenant_id, page_id, &checked).await?;
    let position = match checked.position {
        Some(p) => p,
        None => next_position(&mut tx, "status_components", page_id).await?,
    };
    sqlx::query(
        "INSERT INTO status_components (id, tenant_id, page_id, group_id, name, description, position, \
         manual_status, only_show_if_degraded, showcase, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
    )
    .bind(&id)
    .bind(tenant_id)
    .bind(page_id)
    .bind(&checked.group_id)
    .bind(&checked.name)
    .bind(&checked.description)
    .bind(position)
    .bind(checked.manual_status.map(ComponentStatus::as_str))
    .bind(i64::from(checked.only_show_if_degraded))
    .bind(i64::from(checked.showcase))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    bind_monitors(&mut tx, tenant_id, &id, &checked.monitor_ids).await?;
    touch(&mut tx, tenant_id, page_id, now).await?;
    tx.commit().await?;
    get(db, tenant_id, page_id, &id).await
}

/// Changes the fields given; everything is checked before anything is written.
pub async fn update(
    db: &Database,
    tenant_id: &str,
    page_id: &str,
    id: &str,
    input: &ComponentInput,
) -> Result<Component, StatusPageError> {
    let current = get(db, tenant_id, page_id, id).await?;
    let checked = check(input, Some(&current))?;
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    lock_page(db, &mut tx, tenant_id, page_id).await?;
    check_refs(&mut tx, tenant_id, page_id, &checked).await?;
    sqlx::query(
        "UPDATE status_components SET group_id = $1, name = $2, description = $3, position = $4, \
         manual_status = $5, only_show_if_degraded = $6, showcase = $7, updated_at = $8 \
         WHERE id = $9 AND page_id = $10 AND tenant_id = $11",
    )
    .bind(&checked.group_id)
    .bind(&checked.name)
    .bind(&checked.description)
    .bind(checked.position.unwrap_or(current.position))
    .bind(checked.manual_status.map(ComponentStatus::as_str))
    .bind(i64::from(checked.only_show_if_degraded))
    .bind(i64::from(checked.showcase))
    .bind(now)
    .bind(id)
    .bind(page_id)
    .bind(tenant_id)
    .execute(&mut *tx)
    .await?;
    if input.monitor_ids.is_some() {
        bind_monitors(&mut tx, tenant_id, id, &checked.monitor_ids).await?;
    }
    touch(&mut tx, tenant_id, page_id, now).await?;
    tx.commit().await?;
    get(db, tenant_id, page_id, id).await
}

/// Removes a component.
pub async fn delete(
    db: &Database,
    tenant_id: &str,
    page_id: &str,
    id: &str,
) -> Result<(), StatusPageError> {
    let mut tx = db.begin_write().await?;
    let done = sqlx::query(
        "DELETE FROM status_components WHERE id = $1 AND page_id = $2 AND tenant_id = $3",
    )
    .bind(id)
    .bind(page_id)
    .bind(tenant_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StatusPageError::NotFound);
    }
    touch(&mut tx, tenant_id, page_id, now_ms()).await?;
    tx.commit().await?;
    Ok(())
}

type GroupRow = (String, String, String, i64, i64, i64);

fn group((id, page_id, name, position, created_at, updated_at): GroupRow) -> Group {
    Group {
        id,
        page_id,
        name,
        position,
        created_at,
        updated_at,
    }
}

/// Groups of a page in display order.
pub async fn list_groups(
    db: &Database,
    tenant_id: &str,
    page_id: &str,
) -> Result<Vec<Group>, StatusPageError> {
    let rows: Vec<GroupRow> = sqlx::query_as(
        "SELECT id, page_id, name, position, created_at, updated_at FROM status_component_groups \
         WHERE page_id = $1 AND tenant_id = $2 ORDER BY position, created_at, id",
    )
    .bind(page_id)
    .bind(tenant_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(group).collect())
}

/// One group of a page.
pub async fn get_group(
    db: &Database,
    tenant_id: &str,
    page_id: &str,
    id: &str,
) -> Result<Group, StatusPageError> {
    let row: Option<GroupRow> = sqlx::query_as(
        "SELECT id, page_id, name, position, created_at, updated_at FROM status_component_groups \
         WHERE id = $1 AND page_id = $2 AND tenant_id = $3",
    )
    .bind(id)
    .bind(page_id)
    .bind(tenant_id)
    .fetch_optional(db.pool())
    .await?;
    row.map(group).ok_or(StatusPageError::NotFound)
}

/// Adds a group to a page.
pub async fn create_group(
    db: &Database,
    tenant_id: &str,
    page_id: &str,
    input: &GroupInput,
) -> Result<Group, StatusPageError> {
    let name = required_text("name", input.name.as_deref(), 100)?;
    let position = input
        .position
        .map(|p| position("position", p))
        .transpose()?;
    let id = new_id();
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    lock_page(db, &mut tx, tenant_id, page_id).await?;
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM status_component_groups WHERE page_id = $1")
            .bind(page_id)
            .fetch_one(&mut *tx)
            .await?;
    if count >= MAX_COMPONENTS {
        return Err(StatusPageError::Conflict((
            "name",
            format!("a status page may have at most {MAX_COMPONENTS} groups"),
        )));
    }
    let position = match position {
        Some(p) => p,
        None => next_position(&mut tx, "status_component_groups", page_id).await?,
    };
    sqlx::query(
        "INSERT INTO status_component_groups (id, tenant_id, page_id, name, position, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(&id)
    .bind(tenant_id)
    .bind(page_id)
    .bind(&name)
    .bind(position)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    touch(&mut tx, tenant_id, page_id, now).await?;
    tx.commit().await?;
    get_group(db, tenant_id, page_id, &id).await
}

/// Renames or moves a group.
pub async fn update_group(
    db: &Database,
    tenant_id: &str,
    page_id: &str,
    id: &str,
    input: &GroupInput,
) -> Result<Group, StatusPageError> {
    let current = get_group(db, tenant_id, page_id, id).await?;
    let name = match &input.name {
        Some(n) => required_text("name", Some(n), 100)?,
        None => current.name,
    };
    let position = match input.position {
        Some(p) => position("position", p)?,
        None => current.position,
    };
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "UPDATE status_component_groups SET name = $1, position = $2, updated_at = $3 \
         WHERE id = $4 AND page_id = $5 AND tenant_id = $6",
    )
    .bind(&name)
    .bind(position)
    .bind(now)
    .bind(id)
    .bind(page_id)
    .bind(tenant_id)
    .execute(&mut *tx)
    .await?;
    touch(&mut tx, tenant_id, page_id, now).await?;
    tx.commit().await?;
    get_group(db, tenant_id, page_id, id).await
}

/// Removes a group; its components stay, ungrouped.
pub async fn delete_group(
    db: &Database,
    tenant_id: &str,
    page_id: &str,
    id: &str,
) -> Result<(), StatusPageError> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "UPDATE status_components SET group_id = NULL WHERE group_id = $1 AND tenant_id = $2",
    )
    .bind(id)
    .bind(tenant_id)
    .execute(&mut *tx)
    .await?;
    let done = sqlx::query(
        "DELETE FROM status_component_groups WHERE id = $1 AND page_id = $2 AND tenant_id = $3",
    )
    .bind(id)
    .bind(page_id)
    .bind(tenant_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StatusPageError::NotFound);
    }
    touch(&mut tx, tenant_id, page_id, now_ms()).await?;
    tx.commit().await?;
    Ok(())
}
