//! `kill -9` drills: `serve` killed in the middle of a certificate order and
//! in the middle of writing check results, then started again on the same
//! data directory. What must hold: no second order at the CA, no corrupt or
//! duplicated rows, and at most the unflushed batch of results lost.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::{Server, free_port, sign_up, statuswatch};
use crate::pebble::{Pebble, leaf};

const SUFFIX: &str = "status.test";

async fn sqlite(dir: &Path) -> app::db::Database {
    let url = app::db::sqlite_url_for(&dir.join("statuswatch.db"));
    let settings = app::db::PoolSettings {
        max_connections: 2,
        connect_timeout: Duration::from_secs(5),
    };
    app::db::Database::connect(&url, settings).await.unwrap()
}

async fn count(db: &app::db::Database, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.pool()).await.unwrap()
}

async fn integrity(db: &app::db::Database) -> String {
    sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(db.pool())
        .await
        .unwrap()
}

/// Kills `server` with SIGKILL and waits until it is gone.
fn kill_9(server: &mut Server) {
    server.signal("KILL");
    let status = server.wait_exit(Duration::from_secs(10));
    assert!(!status.success(), "a killed process does not exit cleanly");
}

/// Pebble's validation sleeps so far, in seconds.
fn validation_sleeps(pebble: &Pebble) -> Vec<u64> {
    pebble
        .log()
        .lines()
        .filter_map(|l| l.split("Sleeping for ").nth(1))
        .filter_map(|rest| rest.split('s').next()?.trim().parse().ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_during_a_certificate_order_the_restart_resumes_it_without_a_second_order() {
    let dir = tempfile::tempdir().unwrap();
    let ports = (free_port(), free_port(), free_port(), free_port());
    // The validator waits up to 20 s before validating: the order stays in
    // flight while `serve` is killed and restarted.
    let pebble = Pebble::start_sleeping(dir.path(), ports.1, ports.2, 20);
    let root = pebble.root_pem().await;
    let start = || {
        let mut command = statuswatch(dir.path());
        command
            .envs(pebble.env())
            .env("STATUSWATCH__TENANCY__DOMAIN_SUFFIX", SUFFIX)
            .env("STATUSWATCH__ACME__PREISSUE", "false");
        Server::start_on(command, &["serve"], dir.path(), ports)
    };
    let mut server = start();
    server.wait_for("/health/ready/", 200).await;

    // A name whose validation sleep leaves time to kill and restart; pebble
    // picks the sleep at random, so a short one moves on to the next name.
    let mut chosen = None;
    // Pebble validates from several perspectives, each with its own sleep:
    // the shortest must leave time for the kill and the restart (~1 s).
    let slugs = [
        "acme", "beta", "gamma", "delta", "omega", "kappa", "sigma", "theta", "lambda", "zeta",
    ];
    for slug in slugs {
        sign_up(&server.base, slug).await;
        let name = format!("{slug}.{SUFFIX}");
        let seen = validation_sleeps(&pebble).len();
        let (root_c, name_c, port) = (root.clone(), name.clone(), ports.2);
        let handshake = tokio::spawn(async move { leaf(&root_c, port, &name_c).await });
        let deadline = Instant::now() + Duration::from_secs(20);
        let sleep = loop {
            if validation_sleeps(&pebble).len() > seen {
                // The perspectives' sleeps are logged together.
                tokio::time::sleep(Duration::from_millis(300)).await;
                break validation_sleeps(&pebble)[seen..]
                    .iter()
                    .copied()
                    .min()
                    .unwrap();
            }
            assert!(
                Instant::now() < deadline,
                "no validation began\n{}",
                pebble.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        if sleep >= 4 {
            chosen = Some((name, pebble.orders(), handshake));
            break;
        }
        // Too short: let this one finish and try the next name.
        let _ = handshake.await;
    }
    let (name, orders_before, handshake) =
        chosen.expect("ten orders' shortest validation sleeps all under 4 s");

    kill_9(&mut server);
    handshake.abort();
    let ordered_at = {
        let db = sqlite(dir.path()).await;
        assert_eq!(integrity(&db).await, "ok");
        let journalled: Option<(String, i64)> =
            sqlx::query_as("SELECT url, created_at FROM acme_pending_orders WHERE name = $1")
                .bind(&name)
                .fetch_optional(db.pool())
                .await
                .unwrap();
        let (_, ordered_at) = journalled.expect("the order in flight is journalled");
        let held = count(
            &db,
            &format!("SELECT COUNT(*) FROM acme_leases WHERE name = '{name}' AND expires_at > 0"),
        )
        .await;
        assert_eq!(held, 1, "the killed process still holds the lease");
        ordered_at
    };

    // The restart frees the dead process's lease and resumes the order.
    let began = Instant::now();
    let mut server = start();
    // The resumed order's journal entry is rewritten with the CSR's key at
    // finalising: it keeps the first order's time, which its age limit uses.
    let stamps = {
        let (dir, name) = (dir.path().to_owned(), name.clone());
        tokio::spawn(async move {
            let db = sqlite(&dir).await;
            let mut seen = std::collections::BTreeSet::new();
            loop {
                let stamp: Result<Option<i64>, _> = sqlx::query_scalar(
                    "SELECT created_at FROM acme_pending_orders WHERE name = $1",
                )
                .bind(&name)
                .fetch_optional(db.pool())
                .await;
                match stamp {
                    Ok(Some(stamp)) => {
                        seen.insert(stamp);
                    }
                    Ok(None) => return seen,
                    // Busy while `serve` writes: look again.
                    Err(_) => {}
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    server.wait_for("/health/ready/", 200).await;
    // A handshake waits 10 s for issuance; the order goes on meanwhile.
    loop {
        match leaf(&root, ports.2, &name).await {
            Ok(_) => break,
            Err(e) if began.elapsed() > Duration::from_secs(60) => {
                panic!("{e}\n{}\n{}", server.log(), pebble.log())
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let took = began.elapsed();
    let stamps = stamps.await.unwrap();
    assert_eq!(
        stamps.into_iter().collect::<Vec<_>>(),
        vec![ordered_at],
        "the journal entry keeps the first order's time"
    );
    assert_eq!(
        pebble.orders(),
        orders_before,
        "no second order: the journalled one was resumed\n{}",
        server.log()
    );
    assert!(
        server.log().contains("resuming the journalled order"),
        "{}",
        server.log()
    );
    // Validation sleeps up to 20 s (again, after the resumed order's
    // challenge is confirmed): well under the dead lease's 120 s.
    assert!(
        took < Duration::from_secs(45),
        "served in {took:?}: the dead lease was waited out"
    );
    assert!(server.stop().success());
    let db = sqlite(dir.path()).await;
    assert_eq!(integrity(&db).await, "ok");
    // (A skipped name's order may still be journalled: nobody asked again.)
    let left = count(
        &db,
        &format!("SELECT COUNT(*) FROM acme_pending_orders WHERE name = '{name}'"),
    )
    .await;
    assert_eq!(left, 0, "the journal entry of the issued name is cleared");
    let stored = count(
        &db,
        &format!("SELECT COUNT(*) FROM certificates WHERE name = '{name}'"),
    )
    .await;
    assert_eq!(stored, 1);
    eprintln!("drill: killed mid-order, served {took:?} after restart with no second order");
}

/// A target that answers `200 OK` to every connection, on its own thread.
fn always_up() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut buf = [0_u8; 2048];
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                );
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_writing_check_results_nothing_committed_is_lost_and_checks_resume() {
    let dir = tempfile::tempdir().unwrap();
    let target = always_up();
    let ports = (free_port(), free_port(), free_port(), free_port());
    let start = || {
        let mut command = statuswatch(dir.path());
        command
            .env("STATUSWATCH__TENANCY__DOMAIN_SUFFIX", SUFFIX)
            .env("STATUSWATCH__PROBER__ALLOW_PRIVATE_TARGETS", "true")
            .env("STATUSWATCH__PROBER__LEASE_GRACE_SECONDS", "5");
        Server::start_on(command, &["serve"], dir.path(), ports)
    };
    let mut server = start();
    server.wait_for("/health/ready/", 200).await;
    let token = sign_up(&server.base, "acme").await;
    let client = reqwest::Client::new();
    const MONITORS: usize = 200;
    for i in 0..MONITORS {
        let response = client
            .post(format!("{}/api/monitors", server.base))
            .bearer_auth(&token)
            .json(&json!({
                "name": format!("m{i}"), "kind": "http",
                "url": format!("http://127.0.0.1:{target}/{i}"),
                "interval_seconds": 1, "timeout_seconds": 1,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    }
    let db = sqlite(dir.path()).await;
    let mut lost_bound = Vec::new();
    for round in 0..3 {
        // Checks are being written: results grow batch by batch.
        let deadline = Instant::now() + Duration::from_secs(30);
        let first = count(&db, "SELECT COUNT(*) FROM check_results").await;
        while count(&db, "SELECT COUNT(*) FROM check_results").await < first + 300 {
            assert!(
                Instant::now() < deadline,
                "round {round}: no results\n{}",
                server.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Whatever was committed before the kill is acknowledged.
        let committed = count(&db, "SELECT COUNT(*) FROM check_results").await;
        let killed_at = app::clock::now_ms();
        kill_9(&mut server);
        let after_kill = count(&db, "SELECT COUNT(*) FROM check_results").await;
        assert!(
            after_kill >= committed,
            "round {round}: committed results vanished"
        );
        assert_eq!(integrity(&db).await, "ok", "round {round}");
        let orphans = count(
            &db,
            "SELECT COUNT(*) FROM check_results r LEFT JOIN monitors m ON m.id = r.monitor_id WHERE m.id IS NULL",
        )
        .await;
        assert_eq!(orphans, 0, "round {round}: results without their monitor");
        let duplicates = count(
            &db,
            "SELECT COUNT(*) FROM (SELECT monitor_id, checked_at, region FROM check_results \
             GROUP BY monitor_id, checked_at, region HAVING COUNT(*) > 1) d",
        )
        .await;
        assert_eq!(duplicates, 0, "round {round}: a result written twice");

        // After the restart every monitor is checked again.
        server = start();
        server.wait_for("/health/ready/", 200).await;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let resumed = count(
                &db,
                &format!(
                    "SELECT COUNT(DISTINCT monitor_id) FROM check_results WHERE checked_at > {killed_at}"
                ),
            )
            .await;
            if resumed == MONITORS as i64 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "round {round}: {resumed} of {MONITORS} monitors checked after the restart\n{}",
                server.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // The gap each monitor saw: from its last result before the kill to
        // its first after, bounded by the lease it held plus its interval.
        let gap: i64 = sqlx::query_scalar(&format!(
            "SELECT MAX(after_kill - before_kill) FROM (SELECT monitor_id, \
             MAX(CASE WHEN checked_at <= {killed_at} THEN checked_at END) AS before_kill, \
             MIN(CASE WHEN checked_at > {killed_at} THEN checked_at END) AS after_kill \
             FROM check_results GROUP BY monitor_id) g"
        ))
        .fetch_one(db.pool())
        .await
        .unwrap();
        lost_bound.push(gap);
    }
    let worst = *lost_bound.iter().max().unwrap();
    // A killed prober's leases run out after the check's timeout (1 s) and
    // the grace (5 s); the restart itself and one interval come on top.
    assert!(worst < 20_000, "a monitor went {worst} ms without a result");
    eprintln!(
        "drill: 3 kills under 200 monitors at 1 s; longest gap per monitor {lost_bound:?} ms"
    );
    assert!(server.stop().success());
}
