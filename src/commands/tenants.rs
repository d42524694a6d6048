//! `statuswatch tenants …` and `statuswatch users …`: the admin API's
//! operations from the command line, against the same database.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use app::auth::links;
use app::db::Database;
use app::mail::{Mail, Mailer};
use app::tenancy::admin::{self, TenantSummary};
use app::tenancy::audit::{self, Entry};
use app::tenancy::signup::{CreateError, NO_PASSWORD, Owner, create_tenant};
use app::tenancy::store::user_by_email;
use app::tenancy::{EmailAddress, Slug};
use secrecy::ExposeSecret;

use super::import_rows::{ImportRow, rows};
use super::roles::connect;
use crate::cli::{TenantsCommand, UsersCommand};
use crate::settings::{Environment, Loaded};

/// Runs a `tenants` subcommand.
pub async fn run(loaded: Loaded, command: TenantsCommand) -> anyhow::Result<ExitCode> {
    let db = connect(&loaded).await?;
    require_current_schema(&db).await?;
    let code = match command {
        TenantsCommand::Create {
            slug,
            name,
            owner_email,
        } => {
            let created = create(&loaded, &db, &slug, &name, owner_email.as_deref()).await?;
            println!("{}\t{}", created.0, created.1);
            ExitCode::SUCCESS
        }
        TenantsCommand::List { json } => {
            let tenants = admin::all_tenants_matching(&db, "", i64::MAX, 0).await?;
            print_tenants(&tenants, json)?;
            ExitCode::SUCCESS
        }
        TenantsCommand::Suspend { slug } => set_status(&db, &slug, true).await?,
        TenantsCommand::Resume { slug } => set_status(&db, &slug, false).await?,
        TenantsCommand::Import { file } => import(&loaded, &db, &file).await?,
        TenantsCommand::RenameSuffix {
            from,
            to,
            dry_run,
            json,
        } => super::rename_suffix::run(&loaded, &db, &from, &to, dry_run, json).await?,
    };
    db.close().await;
    Ok(code)
}

/// Runs a `users` subcommand.
pub async fn users(loaded: Loaded, command: UsersCommand) -> anyhow::Result<ExitCode> {
    let db = connect(&loaded).await?;
    require_current_schema(&db).await?;
    let UsersCommand::Superuser { email, revoke } = command;
    let email = EmailAddress::parse(&email).map_err(|m| anyhow::anyhow!("email: {m}"))?;
    let user = user_by_email(&db, email.as_str())
        .await?
        .with_context(|| format!("no account with email {email}"))?;
    app::tenancy::store::set_superuser(&db, &user.id, !revoke).await?;
    audit::record(
        &db,
        Entry {
            target: Some(email.as_str()),
            action: if revoke {
                "user.superuser_revoke"
            } else {
                "user.superuser_grant"
            },
            details: Some(serde_json::json!({ "via": "cli" })),
            ..Entry::default()
        },
    )
    .await;
    println!(
        "{email}: superuser {}",
        if revoke { "revoked" } else { "granted" }
    );
    db.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Commands that write refuse a database whose schema is not this binary's.
pub async fn require_current_schema(db: &Database) -> anyhow::Result<()> {
    let status = db.migrations().status().await?;
    if !status.is_current() {
        bail!("{}", status.describe());
    }
    Ok(())
}

/// Creates one tenant; returns (id, domain).
async fn create(
    loaded: &Loaded,
    db: &Database,
    slug: &str,
    name: &str,
    owner_email: Option<&str>,
) -> anyhow::Result<(String, String)> {
    let settings = &loaded.settings;
    let slug = Slug::parse(slug, &settings.tenancy.reserved_slugs)
        .map_err(|m| anyhow::anyhow!("slug: {m}"))?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        bail!("name: must be 1 to 100 printable characters");
    }
    let suffix = settings.tenancy.normalized_suffix();
    let Some(owner_email) = owner_email else {
        bail!("--owner-email is required: a tenant needs an owner");
    };
    let email =
        EmailAddress::parse(owner_email).map_err(|m| anyhow::anyhow!("owner email: {m}"))?;
    let existing = user_by_email(db, email.as_str()).await?;
    let owner = match &existing {
        Some(user) => Owner::Existing { user_id: &user.id },
        None => Owner::New {
            email: &email,
            password_hash: NO_PASSWORD,
        },
    };
    let created = create_tenant(db, &slug, name, &suffix, owner)
        .await
        .map_err(|err| match err {
            CreateError::Db(db) => anyhow::Error::new(db),
            other => anyhow::anyhow!("{other}"),
        })?;
    audit::record(
        db,
        Entry {
            tenant_id: Some(&created.tenant_id),
            action: "tenant.create",
            target: Some(&created.domain),
            details: Some(serde_json::json!({ "via": "cli", "owner": email.as_str() })),
            ..Entry::default()
        },
    )
    .await;
    if existing.is_none() {
        // The link's stamp must be the new user's password_changed_at (its
        // creation time), or the reset page refuses it as already used.
        let user = user_by_email(db, email.as_str())
            .await?
            .context("the new owner was not stored")?;
        send_set_password_link(loaded, &user.id, user.password_changed_at, email.as_str()).await?;
    }
    Ok((created.tenant_id, created.domain))
}

/// A new owner gets a reset link, which doubles as "set your first password".
async fn send_set_password_link(
    loaded: &Loaded,
    user_id: &str,
    stamp: i64,
    email: &str,
) -> anyhow::Result<()> {
    let settings = &loaded.settings;
    let secret = settings
        .secret_key
        .as_ref()
        .context("secret_key is not set")?;
    let keys = app::auth::Keys::derive(secret.expose_secret().as_bytes());
    let token = links::reset_token(&keys, user_id, stamp);
    let url = links::Page::SetPassword.link(&settings.tenancy.public_base(), &token);
    let mailer = Mailer::from_config(
        &settings.email,
        loaded.environment == Environment::Production,
    )?;
    let mail = Mail {
        to: email.to_owned(),
        subject: "Your StatusWatch organization is ready".to_owned(),
        text: format!(
            "An organization was created for you on StatusWatch.\n\nSet your password within an hour:\n{url}\n\nLater, use \"forgot password\" on the login page for a new link."
        ),
        html: format!(
            "<p>An organization was created for you on StatusWatch.</p><p><a href=\"{}\">Set your password</a> within an hour.</p>",
            app::mail::escape_html(&url)
        ),
    };
    if let Err(err) = mailer.send(mail).await {
        eprintln!(
            "warning: the owner's set-password mail was not sent ({err}); they can use \"forgot password\""
        );
    }
    Ok(())
}

async fn set_status(db: &Database, slug: &str, suspended: bool) -> anyhow::Result<ExitCode> {
    let tenant = admin::any_tenant(db, slug)
        .await?
        .with_context(|| format!("no tenant `{slug}`"))?;
    admin::set_status(db, &tenant.id, suspended).await?;
    audit::record(
        db,
        Entry {
            tenant_id: Some(&tenant.id),
            action: if suspended {
                "tenant.suspend"
            } else {
                "tenant.resume"
            },
            target: Some(&tenant.slug),
            details: Some(serde_json::json!({ "via": "cli" })),
            ..Entry::default()
        },
    )
    .await;
    println!(
        "{}: {}",
        tenant.slug,
        if suspended { "suspended" } else { "active" }
    );
    Ok(ExitCode::SUCCESS)
}

fn print_tenants(tenants: &[TenantSummary], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(tenants)?);
        return Ok(());
    }
    println!(
        "{:<24} {:<10} {:>7}  {:<40} NAME",
        "SLUG", "STATUS", "MEMBERS", "DOMAIN"
    );
    for t in tenants {
        println!(
            "{:<24} {:<10} {:>7}  {:<40} {}",
            t.slug,
            t.status,
            t.members,
            t.domain.as_deref().unwrap_or("-"),
            t.name
        );
    }
    Ok(())
}

/// Imports `slug,name,owner_email` rows; exits 1 when any row was skipped.
async fn import(loaded: &Loaded, db: &Database, file: &Path) -> anyhow::Result<ExitCode> {
    // An import file is a list an operator wrote: small enough to read whole.
    let input = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let (mut created, mut skipped) = (0, 0);
    for row in rows(&input) {
        match row {
            ImportRow::Skipped { line, reason } => {
                println!("line {line}: skipped: {reason}");
                skipped += 1;
            }
            ImportRow::Tenant {
                line,
                slug,
                name,
                owner_email,
            } => match create(loaded, db, &slug, &name, Some(&owner_email)).await {
                Ok((id, domain)) => {
                    println!("line {line}: created {slug} ({domain}, id {id})");
                    created += 1;
                }
                Err(err) => {
                    println!("line {line}: skipped {slug}: {err:#}");
                    skipped += 1;
                }
            },
        }
    }
    println!("{created} created, {skipped} skipped");
    Ok(if skipped == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
