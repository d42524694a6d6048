//! The certificate store and policy over both dialects, and Caddy's ask hook.

use acme::store::{
    Accounts, Certificates, ChallengeKind, Challenges, IssueQueue, Leases, OrderLedger, StoredCert,
};
use acme::{DomainPolicy, Verdict};
use app::certs::{DbCertStore, DbDomainPolicy};

use crate::api::Api;
use crate::helpers::{TestDb, state};

fn cert(name: &str, updated: i64) -> StoredCert {
    StoredCert {
        name: name.to_owned(),
        chain_pem: "-----BEGIN CERTIFICATE-----\n".to_owned(),
        key_sealed: vec![1, 0, 255, 42],
        issuer: "acme".to_owned(),
        not_before_ms: 1,
        not_after_ms: i64::MAX / 2,
        renew_after_ms: 1000,
        updated_ms: updated,
        last_error: None,
    }
}

#[tokio::test]
async fn leases_fence_out_a_node_whose_lease_was_taken_over() {
    for test_db in TestDb::both_migrated().await {
        let store = DbCertStore::new(test_db.db().clone());
        let a = store
            .try_lease("x.test", "a", 60_000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            store.try_lease("x.test", "b", 60_000).await.unwrap(),
            None,
            "held by a"
        );
        // a's lease expires; b takes over with a higher fence.
        store.release_lease("x.test", "a").await.unwrap();
        let b = store
            .try_lease("x.test", "b", 60_000)
            .await
            .unwrap()
            .unwrap();
        assert!(b > a);
        assert!(
            !store.save_cert(&cert("x.test", 1), "a", a).await.unwrap(),
            "stale fence refused"
        );
        assert!(
            store.load_cert("x.test").await.unwrap().is_none(),
            "nothing half-written"
        );
        assert!(store.save_cert(&cert("x.test", 2), "b", b).await.unwrap());
        let loaded = store.load_cert("x.test").await.unwrap().unwrap();
        assert_eq!(
            (loaded.updated_ms, loaded.key_sealed),
            (2, vec![1, 0, 255, 42])
        );
        assert_eq!(store.due_for_renewal(2000, 10).await.unwrap(), ["x.test"]);
        store
            .set_last_error("x.test", Some("CA down"))
            .await
            .unwrap();
        assert_eq!(
            store.list_certs().await.unwrap()[0].last_error.as_deref(),
            Some("CA down")
        );
        let loaded = store.load_cert("x.test").await.unwrap().unwrap();
        assert_eq!(loaded.last_error.as_deref(), Some("CA down"));
        assert!(store.delete_cert("x.test").await.unwrap());
        assert!(!store.delete_cert("x.test").await.unwrap());

        // Accounts: the first stored wins.
        assert_eq!(
            store.save_account("https://ca/dir", b"one").await.unwrap(),
            b"one"
        );
        assert_eq!(
            store.save_account("https://ca/dir", b"two").await.unwrap(),
            b"one"
        );

        // Challenges: several answers per name, expired ones invisible.
        let now = acme::time::now_ms();
        for value in ["v1", "v2"] {
            store
                .put_challenge(
                    ChallengeKind::Dns01,
                    "_acme-challenge.x.test",
                    value,
                    now + 60_000,
                )
                .await
                .unwrap();
        }
        store
            .put_challenge(
                ChallengeKind::Dns01,
                "_acme-challenge.x.test",
                "old",
                now - 1,
            )
            .await
            .unwrap();
        let mut values = store
            .get_challenges(ChallengeKind::Dns01, "_acme-challenge.x.test")
            .await
            .unwrap();
        values.sort();
        assert_eq!(values, ["v1", "v2"]);
        store
            .delete_challenge(ChallengeKind::Dns01, "_acme-challenge.x.test", "v1")
            .await
            .unwrap();
        assert_eq!(
            store
                .get_challenges(ChallengeKind::Dns01, "_acme-challenge.x.test")
                .await
                .unwrap(),
            ["v2"]
        );

        // Queue and order log.
        store.enqueue("q.test", "domain verified").await.unwrap();
        store.enqueue("q.test", "again").await.unwrap();
        assert_eq!(store.queue().await.unwrap().len(), 1, "idempotent");
        store
            .queue_retry("q.test", now + 60_000, "CA down")
            .await
            .unwrap();
        assert!(
            store.queue_due(now, 10).await.unwrap().is_empty(),
            "not before its retry"
        );
        store.dequeue("q.test").await.unwrap();
        store.record_order("q.test", Some("t1"), "a").await.unwrap();
        store.record_order("r.test", None, "a").await.unwrap();
        assert_eq!(store.orders_since(0, None).await.unwrap(), 2);
        assert_eq!(store.orders_since(0, Some("t1")).await.unwrap(), 1);
        // Retention is the manager's call; the store forgets what it is told to.
        store
            .forget_orders_before(acme::time::now_ms() + 1)
            .await
            .unwrap();
        assert_eq!(store.orders_since(0, None).await.unwrap(), 0);
    }
}

#[tokio::test]
async fn the_policy_names_its_rule_and_the_ask_hook_follows_it() {
    for test_db in TestDb::both_migrated().await {
        let api = Api::new(state(test_db.db()));
        let owner = api.signup("acme", "ann@acme.example").await;
        let suffix = api.state.settings.tenancy.normalized_suffix();
        let policy = DbDomainPolicy::new(test_db.db().clone(), &suffix);
        match policy.check(&owner.domain).await.unwrap() {
            Verdict::Allowed { rule, tenant } => {
                assert!(rule.contains("`acme`"), "{rule}");
                assert_eq!(tenant.as_deref(), Some(owner.tenant_id.as_str()));
            }
            other => panic!("{other:?}"),
        }
        // Signup queued the new name for issuance ahead of its first visitor.
        let store = DbCertStore::new(test_db.db().clone());
        let queued: Vec<String> = store
            .queue()
            .await
            .unwrap()
            .into_iter()
            .map(|q| q.name)
            .collect();
        assert_eq!(queued, std::slice::from_ref(&owner.domain));

        let added = api
            .post(
                "/api/domains",
                Some(&owner.access),
                serde_json::json!({ "hostname": "status.acme.com" }),
            )
            .await;
        assert_eq!(added.status, 201, "{:?}", added.body);
        let refused = policy.check("status.acme.com").await.unwrap();
        assert!(
            matches!(&refused, Verdict::Refused { reason } if reason.contains("awaiting DNS verification")),
            "{refused:?}"
        );

        let ok = api
            .get(
                &format!("/api/internal/validate-domain/?domain={}", owner.domain),
                None,
            )
            .await;
        assert_eq!(ok.status, 200, "{:?}", ok.body);
        assert_eq!(ok.body["domain"], owner.domain.as_str());
        for (query, status, code) in [
            ("domain=status.acme.com", 404, "domain_not_allowed"),
            ("domain=nobody.example.org", 404, "domain_not_allowed"),
            ("domain=10.0.0.1", 422, "invalid"),
            ("", 422, "invalid"),
        ] {
            let reply = api
                .get(&format!("/api/internal/validate-domain/?{query}"), None)
                .await;
            assert_eq!(reply.status.as_u16(), status, "{query}: {:?}", reply.body);
            assert!(reply.code().starts_with(code), "{query}: {:?}", reply.body);
        }
    }
}
