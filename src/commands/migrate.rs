//! `statuswatch migrate`: bring the schema up to date.

use std::process::ExitCode;

use anyhow::Context;

use super::roles::connect;
use crate::settings::Loaded;

/// Applies pending migrations and prints the resulting status.
pub async fn run(loaded: Loaded) -> anyhow::Result<ExitCode> {
    let db = connect(&loaded).await?;
    let migrations = db.migrations();
    let before = migrations
        .status()
        .await
        .context("reading migration status")?;
    migrations.run().await.context("applying migrations")?;
    let after = migrations
        .status()
        .await
        .context("reading migration status")?;
    if before == after {
        println!("nothing to do: {}", after.describe());
    } else {
        println!("migrated: {}", after.describe());
    }
    db.close().await;
    Ok(ExitCode::SUCCESS)
}
