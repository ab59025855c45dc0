//! The server's holds under attack, seen from outside: refused calls cannot flood the
//! audit log, old entries are pruned, look-alike names are refused, and the in-memory
//! revocation list has the operator's bound.

mod common;

use common::*;
use consola::domain::*;
use futures::StreamExt;

/// The database's logical size (pages in use, the WAL's included), seen by a connection
/// of its own; on PostgreSQL, the size of its files.
async fn database_bytes(t: &TestServer) -> u64 {
    use sqlx::ConnectOptions;
    if let Some(url) = database::url_for(&t.data_dir()) {
        return database::postgres_size(&url).await;
    }
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(t.data_dir().join("consola.db"))
        .read_only(true)
        .connect()
        .await
        .expect("a reader");
    let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let size: i64 = sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    (pages * size) as u64
}

#[tokio::test]
async fn a_thousand_refused_calls_with_huge_identifiers_grow_the_database_under_1_mb() {
    let t = TestServer::start().await;
    let sup = t.setup().await;
    let before = database_bytes(&t).await;
    let url = format!("{}/oauth/token", t.server.url());
    let http = reqwest::Client::new();
    let statuses: Vec<u16> = futures::stream::iter(0..1_000)
        .map(|i| {
            let (http, url) = (http.clone(), url.clone());
            async move {
                let client_id = format!("{i:05}{}", "x".repeat(60_000));
                http.post(&url)
                    .form(&[
                        ("grant_type", "client_credentials"),
                        ("client_id", client_id.as_str()),
                        ("client_secret", "adivinanza"),
                    ])
                    .send()
                    .await
                    .expect("an answer")
                    .status()
                    .as_u16()
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    assert!(
        statuses.iter().all(|s| [401, 429].contains(s)),
        "{statuses:?}"
    );
    assert!(statuses.contains(&429), "the address ends up throttled");
    let grown = database_bytes(&t).await.saturating_sub(before);
    assert!(grown < 1024 * 1024, "grew by {grown} bytes");

    // The log shows the refusals: shortened identifiers with their length, and the
    // throttled ones as rows with their count.
    let log = sup
        .audit(&AuditQuery {
            action: Some(AuditAction::Denied),
            limit: Some(500),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert!(log.total < 100, "{} rows for 1,000 refusals", log.total);
    assert!(
        log.items
            .iter()
            .all(|e| e.target.len() < 100 && e.actor.name.len() < 100)
    );
    assert!(
        log.items.iter().any(|e| e.target.contains("(60005 bytes)")),
        "{:?}",
        log.items.first()
    );
    let counted: u64 = log
        .items
        .iter()
        .filter_map(|e| {
            let (_, rest) = e.description.split_once(" (")?;
            rest.split(' ').next()?.parse::<u64>().ok()
        })
        .sum();
    let throttled = statuses.iter().filter(|s| **s == 429).count() as u64;
    assert_eq!(
        counted, throttled,
        "every throttled refusal is counted once"
    );
}

#[tokio::test]
async fn audit_entries_older_than_the_retention_are_pruned_in_batches() {
    let t = TestServer::start().await;
    let _ = t.setup().await;
    let service = &t.server.service;
    let old = t.clock.now_for_tests();
    for i in 0..1_200 {
        t.server
            .store()
            .record(&NewAuditEvent {
                at: old,
                ip: "198.51.100.9".into(),
                actor: Actor::anonymous(),
                action: AuditAction::Denied,
                module: modules::SESSION.into(),
                target: format!("nadie{i}"),
                description: "usuario o contraseña incorrectos".into(),
            })
            .await
            .unwrap();
    }
    // Within the retention (400 days by default), nothing goes.
    t.clock.advance(chrono::Duration::days(399));
    assert_eq!(service.prune_audit().await.unwrap(), 0);
    t.clock.advance(chrono::Duration::days(2));
    let sup = t.login("superadmin").await;
    let pruned = service.prune_audit().await.unwrap();
    assert!(pruned >= 1_200, "pruned {pruned}");
    let left = sup.audit(&AuditQuery::default()).await.unwrap();
    assert!(
        left.items.iter().all(|e| e.at > old),
        "only recent entries remain: {:?}",
        left.items.last()
    );
    assert!(left.total >= 1, "the new login is kept");
}

#[tokio::test]
async fn look_alike_names_are_refused() {
    let t = TestServer::start().await;
    let sup = t.setup().await;
    let g = group(&sup, "Café", "reports").await;
    sup.create_consumer(&new_consumer("Zeta", g.id))
        .await
        .unwrap();
    // The same name under NFKC and case folding: taken.
    for name in ["Ｚeta", "ZETA", "zeta"] {
        assert_eq!(
            status_of(sup.create_consumer(&new_consumer(name, g.id)).await),
            409,
            "{name:?}"
        );
    }
    let twin = NewPermissionGroup {
        name: "Cafe\u{301}".into(),
        description: String::new(),
        read_only: false,
        permissions: vec![],
    };
    assert_eq!(status_of(sup.create_permission_group(&twin).await), 409);
    // Invisible characters: refused with a clear message.
    for name in [
        "Ze\u{200B}ta",
        "Zeta\u{FEFF}",
        "\u{2060}Zeta",
        "Ze\u{00AD}ta",
    ] {
        let err = sup
            .create_consumer(&new_consumer(name, g.id))
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(422), "{name:?}");
        let errors = err.field_errors();
        let message = errors.get("name").expect("a name error");
        assert!(message.contains("invisibles"), "{message}");
    }
    // A rename into a look-alike is refused too.
    let other = sup
        .create_consumer(&new_consumer("Omega", g.id))
        .await
        .unwrap();
    let err = sup
        .update_consumer(
            other.consumer.id,
            &ConsumerPatch {
                name: Some("ＺＥＴＡ".into()),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(409));
}
