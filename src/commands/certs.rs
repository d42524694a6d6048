//! `statuswatch certs list|renew|why`: the certificate store from the command
//! line, against the same database the edges share.

use std::process::ExitCode;

use acme::Verdict;
use acme::store::{Certificates, IssueQueue};
use anyhow::Context;
use app::certs::DbCertStore;

use super::roles::{cert_manager, connect};
use super::tenants::require_current_schema;
use crate::cli::CertsCommand;
use crate::settings::Loaded;

/// Runs a `certs` subcommand (other than `export-ca`).
pub async fn run(loaded: Loaded, command: CertsCommand) -> anyhow::Result<ExitCode> {
    let db = connect(&loaded).await?;
    require_current_schema(&db).await?;
    let code = match command {
        CertsCommand::ExportCa => unreachable!("handled before the database is opened"),
        CertsCommand::List { json } => list(&db, json).await?,
        CertsCommand::Renew { name } => {
            let manager = cert_manager(&loaded, &db)?;
            match manager.renew_now(&name).await {
                Ok(detail) => {
                    println!(
                        "renewed {} ({}), expires {}",
                        detail.certificate,
                        detail.issuer.as_deref().unwrap_or("?"),
                        detail.not_after_ms.map(format_ms).unwrap_or_default()
                    );
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    eprintln!("error: cannot renew {name}: {}", err.report());
                    ExitCode::FAILURE
                }
            }
        }
        CertsCommand::Why { name } => why(&loaded, &db, &name).await?,
    };
    db.close().await;
    Ok(code)
}

async fn list(db: &app::db::Database, json: bool) -> anyhow::Result<ExitCode> {
    let store = DbCertStore::new(db.clone());
    let certs = store.list_certs().await.context("reading certificates")?;
    let queue = store.queue().await.context("reading the issuance queue")?;
    if json {
        let value = serde_json::json!({ "certificates": certs, "queue": queue });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("NAME\tISSUER\tEXPIRES\tRENEWS\tLAST ERROR");
    for cert in &certs {
        println!(
            "{}\t{}\t{}\t{}\t{}",
            cert.name,
            cert.issuer,
            format_ms(cert.not_after_ms),
            format_ms(cert.renew_after_ms),
            cert.last_error.as_deref().unwrap_or("-")
        );
    }
    if !queue.is_empty() {
        println!("\nQUEUED\tREASON\tATTEMPTS\tLAST ERROR");
        for queued in &queue {
            println!(
                "{}\t{}\t{}\t{}",
                queued.name,
                queued.reason,
                queued.attempts,
                queued.last_error.as_deref().unwrap_or("-")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn why(loaded: &Loaded, db: &app::db::Database, name: &str) -> anyhow::Result<ExitCode> {
    let manager = cert_manager(loaded, db)?;
    let verdict = manager
        .verdict(name)
        .await
        .context("asking the domain policy")?;
    let code = match &verdict {
        Verdict::Allowed { rule, .. } => {
            println!("{name}: allowed — {rule}");
            ExitCode::SUCCESS
        }
        Verdict::Refused { reason } => {
            println!("{name}: refused — {reason}");
            ExitCode::from(1)
        }
    };
    if verdict.is_allowed() {
        let detail = manager.detail(name).await?;
        println!("  certificate: {}", detail.certificate);
        match (detail.issuer, detail.not_after_ms) {
            (Some(issuer), Some(not_after)) => println!(
                "  stored: issued by {issuer}, expires {}, renews {}",
                format_ms(not_after),
                detail.renew_after_ms.map(format_ms).unwrap_or_default()
            ),
            _ => println!("  stored: nothing yet; ordered at the first handshake or by the queue"),
        }
        if let Some(error) = detail.last_error {
            println!("  last error: {error}");
        }
    }
    Ok(code)
}

/// Milliseconds since the epoch as RFC 3339 UTC, to the second.
fn format_ms(ms: i64) -> String {
    format!("{}Z", super::logs::format_utc(ms.div_euclid(1000)))
}

#[cfg(test)]
mod tests {
    use super::format_ms;

    #[test]
    fn formats_utc() {
        assert_eq!(format_ms(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_ms(1_795_000_000_000), "2026-11-18T11:06:40Z");
        assert_eq!(format_ms(951_782_400_000), "2000-02-29T00:00:00Z");
    }
}
