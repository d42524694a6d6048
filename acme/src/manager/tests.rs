use std::sync::atomic::AtomicBool;

use super::*;
use crate::LocalCa;
use crate::policy::StaticPolicy;
use crate::store::{Certificates, Challenges, IssueQueue, Leases, MemoryStore, OrderLedger};

/// The local CA, counting orders, optionally slow, held or failing.
struct Counting {
    ca: LocalCa,
    calls: AtomicU64,
    fail: AtomicBool,
    delay: Duration,
    /// Orders wait here for a permit the test hands out (no permits: held).
    gate: Option<Arc<tokio::sync::Semaphore>>,
}

#[async_trait]
impl Issuer for Counting {
    fn kind(&self) -> &'static str {
        "test"
    }

    async fn issue(&self, name: &str) -> Result<Issued> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        if let Some(gate) = &self.gate {
            let _permit = gate.acquire().await;
        }
        if self.fail.load(Ordering::SeqCst) {
            return Err(Error::Ca {
                name: name.to_owned(),
                message: "CA unreachable".to_owned(),
            });
        }
        Issuer::issue(&self.ca, name).await
    }
}

fn issuer(delay_ms: u64) -> Arc<Counting> {
    Arc::new(Counting {
        ca: LocalCa::generate().unwrap().ca,
        calls: AtomicU64::new(0),
        fail: AtomicBool::new(false),
        delay: Duration::from_millis(delay_ms),
        gate: None,
    })
}

/// An issuer whose orders wait until the test adds a permit to the returned gate.
fn held_issuer() -> (Arc<Counting>, Arc<tokio::sync::Semaphore>) {
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let issuer = Arc::new(Counting {
        ca: LocalCa::generate().unwrap().ca,
        calls: AtomicU64::new(0),
        fail: AtomicBool::new(false),
        delay: Duration::ZERO,
        gate: Some(gate.clone()),
    });
    (issuer, gate)
}

fn manager_with(
    store: Arc<MemoryStore>,
    issuer: Arc<Counting>,
    options: ManagerOptions,
) -> Arc<CertManager> {
    CertManager::new(
        Arc::new(StaticPolicy(vec![
            "acme.localhost".into(),
            "b.localhost".into(),
            "c.localhost".into(),
            "t1.status.test".into(),
        ])),
        issuer,
        store,
        Arc::new(Sealer::derive(b"test secret").unwrap()),
        options,
    )
}

fn serial(key: &CertifiedKey) -> Vec<u8> {
    let (_, cert) = x509_parser::parse_x509_certificate(key.cert[0].as_ref()).unwrap();
    cert.raw_serial().to_vec()
}

#[tokio::test]
async fn authorised_names_get_one_certificate_unknown_names_one_query() {
    let store = Arc::new(MemoryStore::default());
    let issuer = issuer(50);
    let manager = manager_with(store.clone(), issuer.clone(), ManagerOptions::default());
    let mut waiting = Vec::new();
    for _ in 0..50 {
        let manager = manager.clone();
        waiting.push(tokio::spawn(async move {
            manager.resolve("ACME.localhost.").await.unwrap().is_some()
        }));
    }
    for handle in waiting {
        assert!(handle.await.unwrap());
    }
    assert_eq!(issuer.calls.load(Ordering::SeqCst), 1, "single flight");
    for _ in 0..100 {
        assert!(manager.resolve("evil.localhost").await.unwrap().is_none());
    }
    assert_eq!(
        manager.policy_queries(),
        2,
        "one query per name, refusals cached"
    );
    assert!(manager.resolve("127.0.0.1").await.unwrap().is_none());
    assert!(manager.resolve("").await.unwrap().is_none());
    assert_eq!(
        manager.policy_queries(),
        2,
        "junk names never reach the policy"
    );
    assert_eq!(store.orders_since(0, None).await.unwrap(), 1);
}

#[tokio::test]
async fn a_restart_serves_from_the_store_and_keys_are_sealed() {
    let store = Arc::new(MemoryStore::default());
    let first = issuer(0);
    let manager = manager_with(store.clone(), first.clone(), ManagerOptions::default());
    let before = manager.resolve("acme.localhost").await.unwrap().unwrap();
    let stored = store.load_cert("acme.localhost").await.unwrap().unwrap();
    assert!(
        !stored.key_sealed.windows(11).any(|w| w == b"PRIVATE KEY"),
        "the store holds the key sealed"
    );
    drop(manager);

    let second = issuer(0);
    let restarted = manager_with(store.clone(), second.clone(), ManagerOptions::default());
    let after = restarted.resolve("acme.localhost").await.unwrap().unwrap();
    assert_eq!(second.calls.load(Ordering::SeqCst), 0, "no new order");
    assert_eq!(serial(&before), serial(&after));

    // A different secret cannot open the stored key: a clear error, no order.
    let wrong = CertManager::new(
        Arc::new(StaticPolicy(vec!["acme.localhost".into()])),
        second.clone(),
        store,
        Arc::new(Sealer::derive(b"another secret").unwrap()),
        ManagerOptions::default(),
    );
    let err = wrong.resolve("acme.localhost").await.unwrap_err();
    assert!(err.to_string().contains("secret_key"), "{err}");
    assert_eq!(second.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn two_nodes_on_one_store_place_one_order() {
    let store = Arc::new(MemoryStore::default());
    let (a_issuer, b_issuer) = (issuer(300), issuer(300));
    let node = |issuer: Arc<Counting>, id: &str| {
        manager_with(
            store.clone(),
            issuer,
            ManagerOptions {
                node_id: id.to_owned(),
                ..ManagerOptions::default()
            },
        )
    };
    let (a, b) = (node(a_issuer.clone(), "a"), node(b_issuer.clone(), "b"));
    let (ka, kb) = tokio::join!(a.resolve("acme.localhost"), b.resolve("acme.localhost"));
    let (ka, kb) = (ka.unwrap().unwrap(), kb.unwrap().unwrap());
    let calls = a_issuer.calls.load(Ordering::SeqCst) + b_issuer.calls.load(Ordering::SeqCst);
    assert_eq!(calls, 1, "the lease lets one node order");
    assert_eq!(
        serial(&ka),
        serial(&kb),
        "both serve the stored certificate"
    );
}

#[tokio::test]
async fn failures_back_off_and_held_certificates_keep_serving() {
    let store = Arc::new(MemoryStore::default());
    let issuer = issuer(0);
    issuer.fail.store(true, Ordering::SeqCst);
    let manager = manager_with(
        store.clone(),
        issuer.clone(),
        ManagerOptions {
            retry_min: Duration::from_secs(60),
            ..ManagerOptions::default()
        },
    );
    let err = manager.resolve("b.localhost").await.unwrap_err();
    assert!(err.to_string().contains("CA unreachable"), "{err}");
    let again = manager.resolve("b.localhost").await.unwrap_err();
    assert!(matches!(again, Error::Backoff { .. }), "{again}");
    assert!(again.to_string().contains("failed recently"), "{again}");
    assert_eq!(
        issuer.calls.load(Ordering::SeqCst),
        1,
        "no order during the backoff"
    );
    let detail = manager.detail("b.localhost").await.unwrap();
    assert_eq!(detail.state, "backoff");
    assert!(detail.last_error.unwrap().contains("CA unreachable"));
    let queue = manager.queue().await.unwrap();
    assert_eq!(queue.backoff.len(), 1);

    // An operator's renew ignores the backoff.
    issuer.fail.store(false, Ordering::SeqCst);
    let renewed = manager.renew_now("b.localhost").await.unwrap();
    assert_eq!(renewed.state, "ready");
    assert!(manager.resolve("b.localhost").await.unwrap().is_some());
}

#[tokio::test]
async fn the_order_budget_is_enforced() {
    let store = Arc::new(MemoryStore::default());
    let issuer = issuer(0);
    let manager = manager_with(
        store,
        issuer.clone(),
        ManagerOptions {
            orders_per_hour: 2,
            ..ManagerOptions::default()
        },
    );
    assert!(manager.resolve("acme.localhost").await.unwrap().is_some());
    assert!(manager.resolve("b.localhost").await.unwrap().is_some());
    let err = manager.resolve("c.localhost").await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err}");
    assert!(err.to_string().contains("budget"), "{err}");
    assert_eq!(issuer.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn due_certificates_are_renewed_in_the_background_and_swapped_in() {
    let store = Arc::new(MemoryStore::default());
    let issuer = issuer(0);
    let manager = manager_with(store.clone(), issuer.clone(), ManagerOptions::default());
    let first = manager.resolve("acme.localhost").await.unwrap().unwrap();
    // Make it due, as time would.
    let mut stored = store.load_cert("acme.localhost").await.unwrap().unwrap();
    stored.renew_after_ms = 0;
    let fence = store
        .try_lease("acme.localhost", "test", 1000)
        .await
        .unwrap()
        .unwrap();
    assert!(store.save_cert(&stored, "test", fence).await.unwrap());
    store.release_lease("acme.localhost", "test").await.unwrap();

    manager.sweep().await;
    assert_eq!(issuer.calls.load(Ordering::SeqCst), 2, "renewed once");
    let second = manager.resolve("acme.localhost").await.unwrap().unwrap();
    assert_ne!(
        serial(&first),
        serial(&second),
        "the new certificate is served"
    );
    let stored = store.load_cert("acme.localhost").await.unwrap().unwrap();
    assert!(stored.renew_after_ms > time::now_ms());
    // Nothing due: a second sweep orders nothing.
    manager.sweep().await;
    assert_eq!(issuer.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn queued_names_are_issued_ahead_of_their_first_handshake() {
    let store = Arc::new(MemoryStore::default());
    let issuer = issuer(0);
    let manager = manager_with(store.clone(), issuer.clone(), ManagerOptions::default());
    store
        .enqueue("c.localhost", "domain verified")
        .await
        .unwrap();
    store
        .enqueue("nope.localhost", "domain verified")
        .await
        .unwrap();
    manager.sweep().await;
    assert!(store.load_cert("c.localhost").await.unwrap().is_some());
    assert!(
        store.queue().await.unwrap().is_empty(),
        "{:?}",
        store.queue().await
    );
    assert_eq!(
        issuer.calls.load(Ordering::SeqCst),
        1,
        "the refused name costs no order"
    );
}

#[tokio::test]
async fn tenant_subdomains_share_the_wildcard() {
    let store = Arc::new(MemoryStore::default());
    let issuer = issuer(0);
    let manager = manager_with(
        store.clone(),
        issuer.clone(),
        ManagerOptions {
            wildcard_suffix: Some("status.test".to_owned()),
            ..ManagerOptions::default()
        },
    );
    assert_eq!(manager.cert_name("t1.status.test"), "*.status.test");
    assert_eq!(manager.cert_name("status.test"), "*.status.test");
    assert_eq!(manager.cert_name("a.b.status.test"), "a.b.status.test");
    assert_eq!(manager.cert_name("acme.localhost"), "acme.localhost");
    assert!(manager.resolve("t1.status.test").await.unwrap().is_some());
    assert!(store.load_cert("*.status.test").await.unwrap().is_some());
    assert!(
        manager.resolve("t2.status.test").await.unwrap().is_none(),
        "policy still decides"
    );
}

#[tokio::test]
async fn challenge_answers_come_from_the_store() {
    let store = Arc::new(MemoryStore::default());
    let manager = manager_with(store.clone(), issuer(0), ManagerOptions::default());
    let far = time::now_ms() + 60_000;
    store
        .put_challenge(ChallengeKind::Http01, "tok", "tok.thumb", far)
        .await
        .unwrap();
    store
        .put_challenge(ChallengeKind::TlsAlpn01, "acme.localhost", "k.thumb", far)
        .await
        .unwrap();
    assert_eq!(manager.http01("tok").await.as_deref(), Some("tok.thumb"));
    assert_eq!(manager.http01("other").await, None);
    assert!(manager.challenge_cert("ACME.localhost").await.is_some());
    assert!(manager.challenge_cert("b.localhost").await.is_none());
}

/// A policy that can be switched off, as when the database is down.
struct Flaky {
    inner: StaticPolicy,
    down: AtomicBool,
}

#[async_trait]
impl DomainPolicy for Flaky {
    async fn check(&self, name: &str) -> Result<Verdict> {
        if self.down.load(Ordering::SeqCst) {
            return Err(Error::policy("database unreachable"));
        }
        self.inner.check(name).await
    }
}

#[tokio::test]
async fn held_certificates_are_served_while_the_database_is_down() {
    let policy = Arc::new(Flaky {
        inner: StaticPolicy(vec!["acme.localhost".into(), "b.localhost".into()]),
        down: AtomicBool::new(false),
    });
    let issuer = issuer(0);
    let manager = CertManager::new(
        policy.clone(),
        issuer.clone(),
        Arc::new(MemoryStore::default()),
        Arc::new(Sealer::derive(b"test secret").unwrap()),
        ManagerOptions {
            // Every handshake would trigger a background re-check.
            positive_ttl: Duration::ZERO,
            ..ManagerOptions::default()
        },
    );
    let held = manager.resolve("acme.localhost").await.unwrap().unwrap();
    policy.down.store(true, Ordering::SeqCst);
    for _ in 0..5 {
        let served = manager.resolve("acme.localhost").await.unwrap().unwrap();
        assert_eq!(serial(&served), serial(&held));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let err = manager.resolve("b.localhost").await.unwrap_err();
    assert!(matches!(err, Error::Policy(_)), "{err}");
    assert!(err.report().contains("unreachable"), "{err}");
    assert_eq!(issuer.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn each_tenant_has_its_own_budget() {
    struct Tenants;
    #[async_trait]
    impl DomainPolicy for Tenants {
        async fn check(&self, name: &str) -> Result<Verdict> {
            Ok(Verdict::Allowed {
                rule: "test".to_owned(),
                tenant: Some(name.split('.').nth(1).unwrap_or_default().to_owned()),
            })
        }
    }
    let issuer = issuer(0);
    let manager = CertManager::new(
        Arc::new(Tenants),
        issuer.clone(),
        Arc::new(MemoryStore::default()),
        Arc::new(Sealer::derive(b"test secret").unwrap()),
        ManagerOptions {
            tenant_orders_per_day: 2,
            ..ManagerOptions::default()
        },
    );
    // Tenant "greedy" owns a.greedy.test, b.greedy.test, c.greedy.test.
    assert!(manager.resolve("a.greedy.test").await.unwrap().is_some());
    assert!(manager.resolve("b.greedy.test").await.unwrap().is_some());
    let err = manager.resolve("c.greedy.test").await.unwrap_err();
    assert!(err.to_string().contains("per tenant"), "{err}");
    assert!(
        manager.resolve("a.modest.test").await.unwrap().is_some(),
        "others unaffected"
    );
    assert_eq!(issuer.calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn the_ca_s_renewal_window_sets_the_renewal_time() {
    struct WithWindow(LocalCa);
    #[async_trait]
    impl Issuer for WithWindow {
        fn kind(&self) -> &'static str {
            "ari"
        }
        async fn issue(&self, name: &str) -> Result<Issued> {
            Issuer::issue(&self.0, name).await
        }
        async fn renewal_window(&self, _chain_pem: &str) -> Option<(i64, i64)> {
            Some((4_000_000_000_000, 4_000_000_600_000))
        }
    }
    let store = Arc::new(MemoryStore::default());
    let manager = CertManager::new(
        Arc::new(StaticPolicy(vec!["acme.localhost".into()])),
        Arc::new(WithWindow(LocalCa::generate().unwrap().ca)),
        store.clone(),
        Arc::new(Sealer::derive(b"test secret").unwrap()),
        ManagerOptions::default(),
    );
    manager.resolve("acme.localhost").await.unwrap().unwrap();
    let stored = store.load_cert("acme.localhost").await.unwrap().unwrap();
    assert!(
        (4_000_000_000_000..4_000_000_600_000).contains(&stored.renew_after_ms),
        "renewal inside the ARI window, not at one third: {}",
        stored.renew_after_ms
    );
}

#[tokio::test]
async fn a_slow_order_fails_the_handshake_cleanly_and_finishes_for_the_next() {
    let store = Arc::new(MemoryStore::default());
    // The order is held until the handshake has given up: no race between the two.
    let (issuer, release) = held_issuer();
    let manager = manager_with(
        store,
        issuer.clone(),
        ManagerOptions {
            issue_timeout: Duration::from_millis(50),
            ..ManagerOptions::default()
        },
    );
    let began = Instant::now();
    let err = manager.resolve("acme.localhost").await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert!(
        began.elapsed() < Duration::from_millis(1500),
        "bounded wait"
    );
    // The order was not abandoned: once the CA answers, a later handshake finds
    // the certificate (each try waits at most 50 ms for the running order).
    release.add_permits(1);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !matches!(manager.resolve("acme.localhost").await, Ok(Some(_))) {
        assert!(Instant::now() < deadline, "the order never finished");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(issuer.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn certificates_of_another_issuer_are_replaced() {
    let store = Arc::new(MemoryStore::default());
    let sealer = Arc::new(Sealer::derive(b"test secret").unwrap());
    let policy = Arc::new(StaticPolicy(vec!["acme.localhost".into()]));
    // Development: the local CA issued it.
    let local = CertManager::new(
        policy.clone(),
        Arc::new(LocalCa::generate().unwrap().ca),
        store.clone(),
        sealer.clone(),
        ManagerOptions::default(),
    );
    let old = local.resolve("acme.localhost").await.unwrap().unwrap();
    assert_eq!(
        store
            .load_cert("acme.localhost")
            .await
            .unwrap()
            .unwrap()
            .issuer,
        "local"
    );
    // Then a real CA is configured: the next process orders instead of serving the local one.
    let issuer = issuer(0);
    let real = CertManager::new(
        policy,
        issuer.clone(),
        store.clone(),
        sealer,
        ManagerOptions::default(),
    );
    let new = real.resolve("acme.localhost").await.unwrap().unwrap();
    assert_eq!(issuer.calls.load(Ordering::SeqCst), 1);
    assert_ne!(serial(&old), serial(&new));
    assert_eq!(
        store
            .load_cert("acme.localhost")
            .await
            .unwrap()
            .unwrap()
            .issuer,
        "test"
    );
}

#[tokio::test]
async fn a_re_check_that_finds_the_same_certificate_keeps_the_opened_key() {
    let store = Arc::new(MemoryStore::default());
    let issuer = issuer(0);
    let manager = manager_with(
        store,
        issuer.clone(),
        ManagerOptions {
            // Every handshake triggers a background re-check.
            positive_ttl: Duration::ZERO,
            ..ManagerOptions::default()
        },
    );
    let first = manager.resolve("acme.localhost").await.unwrap().unwrap();
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let again = manager.resolve("acme.localhost").await.unwrap().unwrap();
        assert!(
            Arc::ptr_eq(&first, &again),
            "not decrypted and parsed again"
        );
    }
    assert!(manager.policy_queries() > 1, "the re-checks did run");
    assert_eq!(issuer.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_operator_s_renew_of_a_refused_or_bad_name_says_which() {
    let issuer = issuer(0);
    let manager = manager_with(
        Arc::new(MemoryStore::default()),
        issuer.clone(),
        ManagerOptions::default(),
    );
    let denied = manager.renew_now("evil.localhost").await.unwrap_err();
    assert!(
        matches!(&denied, Error::Denied { name, reason } if name == "evil.localhost" && reason == "not listed"),
        "{denied}"
    );
    let invalid = manager.renew_now("not a name").await.unwrap_err();
    assert!(matches!(invalid, Error::InvalidName { .. }), "{invalid}");
    assert_eq!(issuer.calls.load(Ordering::SeqCst), 0, "nothing ordered");
}

#[tokio::test]
async fn a_lease_left_by_a_process_that_is_gone_is_freed_and_others_kept() {
    let store = Arc::new(MemoryStore::default());
    let manager = manager_with(store.clone(), issuer(0), ManagerOptions::default());
    // A killed process's lease on one name, a live peer's on another.
    assert!(
        store
            .try_lease("acme.localhost", "host-1", 120_000)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .try_lease("b.localhost", "host-2", 120_000)
            .await
            .unwrap()
            .is_some()
    );
    let freed = manager
        .free_leases_of(|holder| holder == "host-1")
        .await
        .unwrap();
    assert_eq!(freed, 1);
    // The name whose lease was freed is issued at once, not after the lease.
    let began = std::time::Instant::now();
    assert!(manager.resolve("acme.localhost").await.unwrap().is_some());
    assert!(
        began.elapsed() < Duration::from_secs(5),
        "{:?}",
        began.elapsed()
    );
    assert!(
        store
            .try_lease("b.localhost", "host-3", 120_000)
            .await
            .unwrap()
            .is_none(),
        "the live peer keeps its lease"
    );
}

#[tokio::test]
async fn with_the_cache_full_of_certificates_a_repeated_flood_makes_no_queries() {
    let store = Arc::new(MemoryStore::default());
    let options = ManagerOptions {
        capacity: 3,
        ..ManagerOptions::default()
    };
    let manager = manager_with(store, issuer(0), options);
    let held = ["acme.localhost", "b.localhost", "c.localhost"];
    for name in held {
        assert!(manager.resolve(name).await.unwrap().is_some());
    }
    let flood: Vec<String> = (0..3).map(|i| format!("unknown{i}.localhost")).collect();
    for name in &flood {
        assert!(manager.resolve(name).await.unwrap().is_none());
    }
    let queries = manager.policy_queries();
    for name in flood.iter().chain(flood.iter()) {
        assert!(manager.resolve(name).await.unwrap().is_none());
    }
    assert_eq!(
        manager.policy_queries(),
        queries,
        "the flood's refusals were remembered beside the certificates"
    );
    for name in held {
        assert!(manager.resolve(name).await.unwrap().is_some());
    }
    assert_eq!(
        manager.policy_queries(),
        queries,
        "no certificate was pushed out by the flood"
    );
    let listed = manager.statuses();
    let count = |state| listed.iter().filter(|s| s.state == state).count();
    assert_eq!(manager.held_counts(), (3, 3));
    assert_eq!(manager.held_counts(), (count("ready"), count("refused")));
}
