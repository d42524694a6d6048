//! `statuswatch tenants rename-suffix`: the old data migration 0008 as a command.

use std::process::ExitCode;

use app::db::Database;
use app::tenancy::rename_suffix::{RenameError, RenameReport, rename_suffix};

use crate::settings::Loaded;

/// Moves the subdomains and prints what moved and what was skipped.
pub async fn run(
    loaded: &Loaded,
    db: &Database,
    from: &str,
    to: &str,
    dry_run: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let report = rename_suffix(db, from, to, dry_run)
        .await
        .map_err(|err| match err {
            RenameError::Db(db) => anyhow::Error::new(db).context("nothing was changed"),
            other => anyhow::anyhow!("{other}"),
        })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    let configured = loaded.settings.tenancy.normalized_suffix();
    if !dry_run && configured != to.trim().trim_matches('.').to_ascii_lowercase() {
        eprintln!(
            "note: tenancy.domain_suffix is `{configured}`; set it to `{to}` so new tenants and the edge use the new suffix"
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(report: &RenameReport) {
    let verb = if report.dry_run {
        "would move"
    } else {
        "moved"
    };
    for moved in &report.moved {
        println!("{verb}\t{}\t{} -> {}", moved.tenant, moved.from, moved.to);
    }
    for skipped in &report.skipped {
        println!(
            "skipped\t{}\t{}: {}",
            skipped.tenant, skipped.hostname, skipped.reason
        );
    }
    println!(
        "{} {verb}, {} skipped{}",
        report.moved.len(),
        report.skipped.len(),
        if report.dry_run {
            " (dry run: nothing written)"
        } else {
            ""
        }
    );
}
