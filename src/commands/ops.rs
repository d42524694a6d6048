//! `statuswatch db-check` and `statuswatch backup`: the old db-check.sh and the
//! backup step of the deploy script, as commands.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use app::ops::backup::BackupError;
use app::ops::db_check::{DbReport, db_check as gather};

use super::roles::connect;
use super::tenants::require_current_schema;
use crate::settings::Loaded;

/// Prints the database report.
pub async fn db_check(loaded: Loaded, json: bool) -> anyhow::Result<ExitCode> {
    let db = connect(&loaded).await?;
    require_current_schema(&db).await?;
    let report = gather(&db)
        .await
        .context("cannot read the database report")?;
    db.close().await;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(report: &DbReport) {
    println!("database\t{}", report.dialect);
    println!("size\t{}", human_bytes(report.size_bytes));
    let connections: Vec<String> = report
        .connections
        .iter()
        .map(|(state, n)| format!("{state}={n}"))
        .collect();
    println!("connections\t{}", connections.join(" "));
    println!("lock waits\t{}", report.lock_waits);
    println!();
    println!("TENANT\tSTATUS\tDOMAINS\tROWS");
    for tenant in &report.tenants {
        let rows: Vec<String> = tenant
            .rows
            .iter()
            .map(|(table, n)| format!("{table}={n}"))
            .collect();
        println!(
            "{}\t{}\t{}\t{}",
            tenant.slug,
            tenant.status,
            tenant.domains.join(","),
            rows.join(" ")
        );
    }
    println!();
    println!("TABLE\tSIZE\tROWS\tDEAD");
    for table in &report.largest_tables {
        println!(
            "{}\t{}\t{}\t{}",
            table.name,
            table.bytes.map_or_else(|| "-".to_owned(), human_bytes),
            table.rows,
            table
                .dead_ratio
                .map_or_else(|| "-".to_owned(), |r| format!("{:.1}%", r * 100.0))
        );
    }
    println!();
    match &report.slow_queries {
        Ok(queries) => {
            println!("MEAN_MS\tCALLS\tSLOWEST QUERIES");
            for q in queries {
                println!(
                    "{:.1}\t{}\t{}",
                    q.mean_ms,
                    q.calls,
                    q.query.replace('\n', " ")
                );
            }
        }
        Err(why) => println!("slow queries\t{why}"),
    }
}

fn human_bytes(bytes: i64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Writes an online backup of the SQLite database.
pub async fn backup(loaded: Loaded, file: &Path) -> anyhow::Result<ExitCode> {
    let db = connect(&loaded).await?;
    let result = app::ops::backup::backup(&db, file).await;
    db.close().await;
    match result {
        Ok(info) => {
            println!(
                "{}\t{}",
                info.path.display(),
                human_bytes(info.bytes as i64)
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(err @ (BackupError::Postgres | BackupError::Exists(_))) => anyhow::bail!("{err}"),
        Err(err) => Err(anyhow::Error::new(err).context("nothing was written")),
    }
}
