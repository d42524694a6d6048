//! `rename_suffix`: the old data migration 0008 as an idempotent operation.

use app::tenancy::rename_suffix::{RenameError, rename_suffix};
use app::tenancy::signup::{NO_PASSWORD, Owner, create_tenant};
use app::tenancy::{EmailAddress, Slug};

use crate::helpers::TestDb;

async fn tenant(db: &app::db::Database, slug: &str, suffix: &str) -> String {
    let email = EmailAddress::parse(&format!("owner@{slug}.example")).unwrap();
    let slug = Slug::parse(slug, &[]).unwrap();
    create_tenant(
        db,
        &slug,
        "T",
        suffix,
        Owner::New {
            email: &email,
            password_hash: NO_PASSWORD,
        },
    )
    .await
    .unwrap()
    .tenant_id
}

async fn hostnames(db: &app::db::Database) -> Vec<String> {
    sqlx::query_scalar("SELECT hostname FROM domains ORDER BY hostname")
        .fetch_all(db.pool())
        .await
        .unwrap()
}

async fn queued(db: &app::db::Database) -> Vec<String> {
    sqlx::query_scalar("SELECT name FROM acme_queue ORDER BY name")
        .fetch_all(db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn subdomains_move_once_and_taken_names_are_skipped() {
    for test_db in TestDb::both_migrated().await {
        let db = test_db.db();
        tenant(db, "acme", "localhost").await;
        tenant(db, "beta", "localhost").await;
        // `gamma` already lives under the new suffix, and a different tenant
        // holds the name `beta` would move to.
        tenant(db, "gamma", "status.example.com").await;
        let other = tenant(db, "other", "status.example.com").await;
        sqlx::query("UPDATE domains SET hostname = 'beta.status.example.com' WHERE tenant_id = $1")
            .bind(&other)
            .execute(db.pool())
            .await
            .unwrap();
        sqlx::query("DELETE FROM acme_queue")
            .execute(db.pool())
            .await
            .unwrap();

        let dry = rename_suffix(db, "localhost", "status.example.com", true)
            .await
            .unwrap();
        assert!(dry.dry_run);
        assert_eq!(dry.moved.len(), 1, "{dry:?}");
        assert_eq!(dry.moved[0].from, "acme.localhost");
        assert_eq!(dry.moved[0].to, "acme.status.example.com");
        assert_eq!(dry.skipped.len(), 1, "{dry:?}");
        assert!(
            dry.skipped[0]
                .reason
                .contains("already belongs to tenant `other`")
        );
        assert!(
            hostnames(db).await.contains(&"acme.localhost".to_owned()),
            "dry run wrote"
        );
        assert!(queued(db).await.is_empty(), "dry run queued");

        let done = rename_suffix(db, "LocalHost.", "status.example.com", false)
            .await
            .unwrap();
        assert_eq!(done.moved, dry.moved);
        assert_eq!(done.skipped, dry.skipped);
        assert_eq!(
            hostnames(db).await,
            [
                "acme.status.example.com",
                "beta.localhost",
                "beta.status.example.com",
                "gamma.status.example.com"
            ]
        );
        assert_eq!(queued(db).await, ["acme.status.example.com"]);
        let audited: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'domains.rename_suffix'",
        )
        .fetch_one(db.pool())
        .await
        .unwrap();
        assert_eq!(audited, 1);

        // Running it again moves nothing more; the nested suffix is not moved
        // a second time by a rename from its parent either.
        let again = rename_suffix(db, "localhost", "status.example.com", false)
            .await
            .unwrap();
        assert!(again.moved.is_empty(), "{again:?}");
        let nested = rename_suffix(db, "example.com", "example.org", false)
            .await
            .unwrap();
        assert!(nested.moved.is_empty(), "{nested:?}");
    }
}

#[tokio::test]
async fn bad_suffixes_are_refused_before_anything_is_read() {
    let test_db = TestDb::sqlite().await;
    let db = test_db.db();
    db.migrations().run().await.unwrap();
    tenant(db, "acme", "localhost").await;
    let err = rename_suffix(db, "localhost", "bad suffix!", false)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RenameError::Suffix { flag: "to", .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("`bad suffix!` is not a domain name")
    );
    let err = rename_suffix(db, "localhost", "LOCALHOST", false)
        .await
        .unwrap_err();
    assert!(matches!(err, RenameError::Same(_)), "{err}");
    assert_eq!(hostnames(db).await, ["acme.localhost"]);
}
